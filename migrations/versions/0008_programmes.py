"""Programmes (with required credential types), cohorts, enrolments, cohort opportunities, monitoring role and accreditation flags

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 15:30:24.145151

"""
from alembic import op
import sqlalchemy as sa

OLD_KINDS = "kind IN ('verification', 'offer', 'replacement_offer', 'confirmation', 'cancellation', 'withdrawal', 'change', 'reminder', 'digest', 'credential_expiry')"
NEW_KINDS = "kind IN ('verification', 'offer', 'replacement_offer', 'confirmation', 'cancellation', 'withdrawal', 'change', 'reminder', 'digest', 'credential_expiry', 'enrolment')"


def _message_kinds(check):
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbound_message_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbound_message_kind_known'), check)


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('governorate_id', sa.Integer(), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('description_ar', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('mentoring', 'psychosocial_support', 'sports', 'choir', 'tutoring', 'monitoring_visits')", name=op.f('ck_programme_kind_known')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_programme_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_programme_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['governorate_id'], ['governorate.id'], name=op.f('fk_programme_governorate_id_governorate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme'))
    )
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_governorate_id'), ['governorate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_status'), ['status'], unique=False)

    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name_ar', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_cohort_status_known')),
    sa.CheckConstraint('capacity BETWEEN 1 AND 1000', name=op.f('ck_cohort_capacity_range')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_cohort_ends_after_start')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_cohort_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort'))
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_programme_id'), ['programme_id'], unique=False)

    op.create_table('programme_institution',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_programme_institution_institution_id_institution'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_institution_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'institution_id', name=op.f('pk_programme_institution'))
    )
    op.create_table('programme_credential_requirement',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('credential_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_type_id'], ['credential_type.id'], name=op.f('fk_programme_credential_requirement_credential_type_id_credential_type'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_credential_requirement_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'credential_type_id', name=op.f('pk_programme_credential_requirement'))
    )
    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('applied', 'accepted', 'waitlisted', 'rejected', 'withdrawn')", name=op.f('ck_enrolment_status_known')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_enrolment_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_enrolment_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['user.id'], name=op.f('fk_enrolment_volunteer_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    sa.UniqueConstraint('cohort_id', 'volunteer_id', name=op.f('uq_enrolment_cohort_id_volunteer_id'))
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_volunteer_id'), ['volunteer_id'], unique=False)

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_opportunity_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_opportunity_cohort_id_cohort'), 'cohort', ['cohort_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_monitor', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('monitor_accredited', sa.Boolean(), server_default=sa.false(), nullable=False))
    _message_kinds(NEW_KINDS)

    


def downgrade():
    op.execute("DELETE FROM outbound_message WHERE kind = 'enrolment'")
    _message_kinds(OLD_KINDS)
    
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('monitor_accredited')
        batch_op.drop_column('can_monitor')

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_opportunity_cohort_id_cohort'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_opportunity_cohort_id'))
        batch_op.drop_column('cohort_id')

    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_enrolment_status'))
        batch_op.drop_index(batch_op.f('ix_enrolment_cohort_id'))

    op.drop_table('enrolment')
    op.drop_table('programme_credential_requirement')
    op.drop_table('programme_institution')
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_programme_id'))

    op.drop_table('cohort')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_status'))
        batch_op.drop_index(batch_op.f('ix_programme_kind'))
        batch_op.drop_index(batch_op.f('ix_programme_governorate_id'))

    op.drop_table('programme')
    
