"""dunning: policies and levels, passes and their notices, bill disputes, payment plans; the channels a sender chooses for a message

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:18:27

On the billing branch (after 0007); it needs the outbox's `message` table (0008), which its notices
reference and to which it adds the channels a sender chooses.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = '0008'  # the outbox: notices reference messages


def upgrade() -> None:
    op.create_table('dunning_policy',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('repair_block_threshold', sa.BigInteger(), nullable=True),
    sa.Column('payment_instructions', sa.String(length=300), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('repair_block_threshold IS NULL OR repair_block_threshold >= 0', name=op.f('ck_dunning_policy_threshold_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_dunning_policy_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['app_user.id'], name=op.f('fk_dunning_policy_updated_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_dunning_policy'))
    )
    op.create_table('dunning_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scheduled', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_by', sa.Integer(), nullable=True),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('notices', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_dunning_run_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_by'], ['app_user.id'], name=op.f('fk_dunning_run_run_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_run'))
    )
    with op.batch_alter_table('dunning_run', schema=None) as batch_op:
        batch_op.create_index('ix_dunning_run_project_id_day', ['project_id', 'day'], unique=False)

    op.create_table('payment_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_payment_plan_dates_ordered')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['app_user.id'], name=op.f('fk_payment_plan_cancelled_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_payment_plan_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_payment_plan_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_payment_plan_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plan'))
    )
    with op.batch_alter_table('payment_plan', schema=None) as batch_op:
        batch_op.create_index('ix_payment_plan_party_id_ends_on', ['party_id', 'ends_on'], unique=False)

    op.create_table('dunning_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('days_from_due', sa.Integer(), nullable=False),
    sa.Column('min_amount', sa.BigInteger(), nullable=True),
    sa.Column('min_bills', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=48), nullable=True),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('escalation', sa.Enum('NONE', 'PHONE_FOLLOW_UP', name='dunning_escalation', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('min_amount IS NULL OR min_amount > 0', name=op.f('ck_dunning_level_min_amount_positive')),
    sa.CheckConstraint('min_bills IS NULL OR min_bills >= 1', name=op.f('ck_dunning_level_min_bills_positive')),
    sa.ForeignKeyConstraint(['project_id'], ['dunning_policy.project_id'], name=op.f('fk_dunning_level_project_id_dunning_policy'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_level')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_dunning_level_project_id_code')),
    sa.UniqueConstraint('project_id', 'position', name=op.f('uq_dunning_level_project_id_position'))
    )
    op.create_table('dunning_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('level_code', sa.String(length=16), nullable=False),
    sa.Column('level_position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=True),
    sa.Column('escalation', sa.Enum('NONE', 'PHONE_FOLLOW_UP', name='notice_escalation', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('late_fee', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('follow_up_user_id', sa.Integer(), nullable=True),
    sa.Column('follow_up_message_id', sa.Integer(), nullable=True),
    sa.Column('follow_up_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_done_by', sa.Integer(), nullable=True),
    sa.Column('follow_up_note', sa.String(length=500), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_done_by'], ['app_user.id'], name=op.f('fk_dunning_notice_follow_up_done_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_message_id'], ['message.id'], name=op.f('fk_dunning_notice_follow_up_message_id_message'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['follow_up_user_id'], ['app_user.id'], name=op.f('fk_dunning_notice_follow_up_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_dunning_notice_message_id_message'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_dunning_notice_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_dunning_notice_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['dunning_run.id'], name=op.f('fk_dunning_notice_run_id_dunning_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_dunning_notice_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_notice')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_dunning_notice_idempotency_key'))
    )
    with op.batch_alter_table('dunning_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_notice_follow_up_message_id'), ['follow_up_message_id'], unique=False)
        batch_op.create_index('ix_dunning_notice_follow_up_user_id', ['follow_up_user_id', 'follow_up_done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_notice_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_dunning_notice_project_id_unit_id', ['project_id', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_notice_run_id'), ['run_id'], unique=False)

    op.create_table('bill_dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_bill_dispute_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['opened_by'], ['app_user.id'], name=op.f('fk_bill_dispute_opened_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_bill_dispute_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by'], ['app_user.id'], name=op.f('fk_bill_dispute_resolved_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_dispute'))
    )
    with op.batch_alter_table('bill_dispute', schema=None) as batch_op:
        batch_op.create_index('ix_bill_dispute_bill_id_resolved_at', ['bill_id', 'resolved_at'], unique=False)

    op.create_table('dunning_notice_bill',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_dunning_notice_bill_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['dunning_notice.id'], name=op.f('fk_dunning_notice_bill_notice_id_dunning_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'bill_id', name=op.f('pk_dunning_notice_bill'))
    )
    with op.batch_alter_table('dunning_notice_bill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_notice_bill_bill_id'), ['bill_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channels', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('channels')

    with op.batch_alter_table('dunning_notice_bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dunning_notice_bill_bill_id'))

    op.drop_table('dunning_notice_bill')
    with op.batch_alter_table('bill_dispute', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_dispute_bill_id_resolved_at')

    op.drop_table('bill_dispute')
    with op.batch_alter_table('dunning_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dunning_notice_run_id'))
        batch_op.drop_index('ix_dunning_notice_project_id_unit_id')
        batch_op.drop_index(batch_op.f('ix_dunning_notice_message_id'))
        batch_op.drop_index('ix_dunning_notice_follow_up_user_id')
        batch_op.drop_index(batch_op.f('ix_dunning_notice_follow_up_message_id'))

    op.drop_table('dunning_notice')
    op.drop_table('dunning_level')
    with op.batch_alter_table('payment_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_plan_party_id_ends_on')

    op.drop_table('payment_plan')
    with op.batch_alter_table('dunning_run', schema=None) as batch_op:
        batch_op.drop_index('ix_dunning_run_project_id_day')

    op.drop_table('dunning_run')
    op.drop_table('dunning_policy')
