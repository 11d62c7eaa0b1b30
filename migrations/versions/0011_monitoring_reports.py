"""Monitoring reports, their photos and workflow events

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 16:23:32.880993

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('monitoring_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=True),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('institution_kind', sa.String(length=30), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("severity IN ('none', 'minor', 'serious', 'critical')", name=op.f('ck_monitoring_report_severity_known')),
    sa.CheckConstraint("status IN ('submitted', 'under_review', 'referred', 'closed')", name=op.f('ck_monitoring_report_status_known')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_monitoring_report_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_monitoring_report_institution_id_institution')),
    sa.ForeignKeyConstraint(['shift_id'], ['shift.id'], name=op.f('fk_monitoring_report_shift_id_shift'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_report'))
    )
    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_report_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_report_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_report_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_report_shift_id'), ['shift_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_report_status'), ['status'], unique=False)

    op.create_table('monitoring_report_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=15), nullable=True),
    sa.Column('to_status', sa.String(length=15), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("to_status IN ('submitted', 'under_review', 'referred', 'closed')", name=op.f('ck_monitoring_report_event_to_status_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_monitoring_report_event_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['monitoring_report.id'], name=op.f('fk_monitoring_report_event_report_id_monitoring_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_report_event'))
    )
    with op.batch_alter_table('monitoring_report_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_report_event_report_id'), ['report_id'], unique=False)

    op.create_table('monitoring_report_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['monitoring_report.id'], name=op.f('fk_monitoring_report_photo_report_id_monitoring_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['uploaded_file.id'], name=op.f('fk_monitoring_report_photo_upload_id_uploaded_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_report_photo')),
    sa.UniqueConstraint('upload_id', name=op.f('uq_monitoring_report_photo_upload_id'))
    )
    with op.batch_alter_table('monitoring_report_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_report_photo_report_id'), ['report_id'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('monitoring_report_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_report_photo_report_id'))

    op.drop_table('monitoring_report_photo')
    with op.batch_alter_table('monitoring_report_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_report_event_report_id'))

    op.drop_table('monitoring_report_event')
    with op.batch_alter_table('monitoring_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_report_status'))
        batch_op.drop_index(batch_op.f('ix_monitoring_report_shift_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_report_severity'))
        batch_op.drop_index(batch_op.f('ix_monitoring_report_institution_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_report_author_id'))

    op.drop_table('monitoring_report')
    
