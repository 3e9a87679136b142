"""notifications: the outbox of messages, delivery attempts, templates, preferences, inbox counters, WeChat consents

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06 13:40:45
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_inbox',
    sa.Column('addressee', sa.String(length=32), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('addressee', name=op.f('pk_notification_inbox'))
    )
    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('addressee', sa.String(length=32), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('muted_kinds', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.Integer(), nullable=True),
    sa.Column('quiet_end', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quiet_end IS NULL OR (quiet_end >= 0 AND quiet_end < 1440)', name=op.f('ck_notification_preference_quiet_end_range')),
    sa.CheckConstraint('quiet_start IS NULL OR (quiet_start >= 0 AND quiet_start < 1440)', name=op.f('ck_notification_preference_quiet_start_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('addressee', name=op.f('uq_notification_preference_addressee'))
    )
    op.create_table('wechat_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('addressee', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('open_id', sa.String(length=64), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_wechat_consent_remaining_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_consent')),
    sa.UniqueConstraint('addressee', 'kind', name=op.f('uq_wechat_consent_addressee_kind'))
    )
    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('addressee', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('locale', sa.Enum('ZH_CN', 'EN', name='message_locale', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'THROTTLED', 'DISABLED_BY_USER', 'CANCELLED', name='message_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.Enum('IN_APP', 'EMAIL', 'SMS', 'WECHAT', name='message_channel', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=128), nullable=True),
    sa.Column('inbox_seq', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_message_attempts_not_negative')),
    sa.CheckConstraint('party_id IS NOT NULL OR user_id IS NOT NULL', name=op.f('ck_message_has_recipient')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_message_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_message_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_message_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('addressee', 'inbox_seq', name=op.f('uq_message_addressee_inbox_seq')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_message_idempotency_key'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_addressee_kind_sent_at', ['addressee', 'kind', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_message_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_user_id'), ['user_id'], unique=False)

    op.create_table('notification_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('channel', sa.Enum('IN_APP', 'EMAIL', 'SMS', 'WECHAT', name='template_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('locale', sa.Enum('ZH_CN', 'EN', name='template_locale', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('provider_template', sa.String(length=64), nullable=True),
    sa.Column('provider_params', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('version > 0', name=op.f('ck_notification_template_version_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_notification_template_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_notification_template_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_template')),
    sa.UniqueConstraint('project_id', 'kind', 'channel', 'locale', 'version', name=op.f('uq_notification_template_project_id_kind_channel_locale_version'))
    )
    with op.batch_alter_table('notification_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_template_project_id'), ['project_id'], unique=False)

    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('IN_APP', 'EMAIL', 'SMS', 'WECHAT', name='attempt_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('rendered_hash', sa.String(length=64), nullable=True),
    sa.Column('provider_message_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.Enum('SENDING', 'SENT', 'DELIVERED', 'FAILED', name='attempt_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_delivery_attempt_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_attempt_provider_message_id'), ['provider_message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_provider_message_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_message_id'))

    op.drop_table('delivery_attempt')
    with op.batch_alter_table('notification_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_template_project_id'))

    op.drop_table('notification_template')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_user_id'))
        batch_op.drop_index('ix_message_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_message_project_id'))
        batch_op.drop_index(batch_op.f('ix_message_party_id'))
        batch_op.drop_index('ix_message_addressee_kind_sent_at')

    op.drop_table('message')
    op.drop_table('wechat_consent')
    op.drop_table('notification_preference')
    op.drop_table('notification_inbox')
