"""SMS and WhatsApp outbox, inbox, phone verification codes and messaging contacts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:58:21.293688

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('messaging_contact',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bad_number', sa.String(length=20), nullable=True),
    sa.Column('bad_number_code', sa.String(length=20), nullable=True),
    sa.Column('bad_number_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('whatsapp_inbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'whatsapp')", name=op.f('ck_messaging_contact_channel_known')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_messaging_contact_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_messaging_contact'))
    )
    op.create_table('phone_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_phone_verification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_verification'))
    )
    with op.batch_alter_table('phone_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_verification_user_id'), ['user_id'], unique=False)

    op.create_table('inbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('from_number', sa.String(length=40), nullable=False),
    sa.Column('to_number', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('intent', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_inbound_message_assignment_id_assignment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_inbound_message_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_message')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_inbound_message_message_sid'))
    )
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_message_from_number'), ['from_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_user_id'), ['user_id'], unique=False)

    op.create_table('outbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('to_number', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('template_sid', sa.String(length=64), nullable=True),
    sa.Column('template_variables', sa.JSON(), nullable=True),
    sa.Column('encoding', sa.String(length=8), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_history', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=20), nullable=True),
    sa.Column('error_message', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'whatsapp')", name=op.f('ck_outbound_message_channel_known')),
    sa.CheckConstraint("kind IN ('verification', 'offer', 'replacement_offer', 'confirmation', 'cancellation', 'withdrawal', 'change', 'reminder', 'digest')", name=op.f('ck_outbound_message_kind_known')),
    sa.CheckConstraint("locale IN ('ar', 'en')", name=op.f('ck_outbound_message_locale_known')),
    sa.CheckConstraint("status IN ('pending', 'submitting', 'unconfirmed', 'skipped', 'accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed')", name=op.f('ck_outbound_message_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbound_message_attempts_positive')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_outbound_message_assignment_id_assignment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbound_message_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbound_message_idempotency_key')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_outbound_message_provider_sid'))
    )
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_message_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_to_number'), ['to_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_message_user_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_to_number'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_status'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_kind'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_due_at'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_assignment_id'))

    op.drop_table('outbound_message')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_message_user_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_received_at'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_from_number'))

    op.drop_table('inbound_message')
    with op.batch_alter_table('phone_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_verification_user_id'))

    op.drop_table('phone_verification')
    op.drop_table('messaging_contact')
