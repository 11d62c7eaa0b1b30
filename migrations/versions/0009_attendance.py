"""attendance records, hours ledger and certificates

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 15:30:21.124934

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.CheckConstraint("language IN ('ar', 'en')", name=op.f('ck_certificate_language_known')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['user.id'], name=op.f('fk_certificate_volunteer_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('hours_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("source = 'correction' OR minutes >= 0", name=op.f('ck_hours_entry_only_corrections_negative')),
    sa.CheckConstraint("source IN ('manager', 'qr', 'correction')", name=op.f('ck_hours_entry_source_known')),
    sa.CheckConstraint('minutes BETWEEN -1440 AND 1440', name=op.f('ck_hours_entry_minutes_range')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_hours_entry_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shift_id'], ['shift.id'], name=op.f('fk_hours_entry_shift_id_shift'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['user.id'], name=op.f('fk_hours_entry_volunteer_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_entry'))
    )
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hours_entry_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hours_entry_shift_id'), ['shift_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hours_entry_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('attendance_record',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('check_in_source', sa.String(length=10), nullable=False),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_out_source', sa.String(length=10), nullable=True),
    sa.Column('checked_out_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("check_in_source IN ('manager', 'qr')", name=op.f('ck_attendance_record_check_in_source_known')),
    sa.CheckConstraint("check_out_source IS NULL OR check_out_source IN ('manager', 'qr')", name=op.f('ck_attendance_record_check_out_source_known')),
    sa.CheckConstraint('(checked_out_at IS NULL) = (check_out_source IS NULL)', name=op.f('ck_attendance_record_check_out_complete')),
    sa.CheckConstraint('checked_out_at IS NULL OR checked_out_at >= checked_in_at', name=op.f('ck_attendance_record_out_after_in')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_attendance_record_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['user.id'], name=op.f('fk_attendance_record_checked_in_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checked_out_by_id'], ['user.id'], name=op.f('fk_attendance_record_checked_out_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_attendance_record'))
    )


def downgrade():
    op.drop_table('attendance_record')
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hours_entry_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_hours_entry_shift_id'))
        batch_op.drop_index(batch_op.f('ix_hours_entry_recorded_at'))

    op.drop_table('hours_entry')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_volunteer_id'))

    op.drop_table('certificate')
