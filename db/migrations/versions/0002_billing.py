"""billing: rules, readings, bills, payments, receipts, journal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:51:59.069675
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_counter',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_billing_counter_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'name', name=op.f('pk_billing_counter'))
    )
    op.create_table('billing_policy',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('cycle_months', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cycle_months >= 1 AND cycle_months <= 12', name=op.f('ck_billing_policy_cycle_months_range')),
    sa.CheckConstraint('due_days >= 0 AND due_days <= 365', name=op.f('ck_billing_policy_due_days_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_billing_policy_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_billing_policy'))
    )
    op.create_table('late_fee_policy',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('daily_rate', sa.BigInteger(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('cap_ratio', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cap_ratio IS NULL OR cap_ratio >= 0', name=op.f('ck_late_fee_policy_cap_ratio_non_negative')),
    sa.CheckConstraint('daily_rate >= 0', name=op.f('ck_late_fee_policy_daily_rate_non_negative')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_late_fee_policy_grace_days_non_negative')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_late_fee_policy_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_late_fee_policy'))
    )
    op.create_table('bill_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('bill_count', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('times_run', sa.Integer(), nullable=False),
    sa.Column('last_run_bill_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('bill_count >= 0', name=op.f('ck_bill_run_bill_count_non_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_bill_run_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_bill_run_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_run')),
    sa.UniqueConstraint('project_id', 'period', name=op.f('uq_bill_run_project_id_period'))
    )
    op.create_table('discount_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('percent', sa.BigInteger(), nullable=False),
    sa.Column('rule_codes', sa.JSON(), nullable=False),
    sa.Column('vacant_only', sa.Boolean(), nullable=False),
    sa.Column('party_type', sa.Enum('PERSON', 'COMPANY', name='discount_party_type', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('effective_to IS NULL OR effective_from IS NULL OR effective_to >= effective_from', name=op.f('ck_discount_rule_dates_ordered')),
    sa.CheckConstraint('percent >= 0 AND percent <= 1000000', name=op.f('ck_discount_rule_percent_range')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_discount_rule_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_discount_rule_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discount_rule'))
    )
    with op.batch_alter_table('discount_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discount_rule_project_id'), ['project_id'], unique=False)

    op.create_table('fee_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('PER_AREA', 'FIXED', 'METERED_TIERED', 'APPORTIONED', name='fee_rule_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_fee_rule_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_fee_rule_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rule')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_fee_rule_project_id_code'))
    )
    op.create_table('journal_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_journal_entry_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_journal_entry_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_project_id_id', ['project_id', 'id'], unique=False)

    op.create_table('meter_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('meter_type', sa.String(length=32), nullable=False),
    sa.Column('reading', sa.BigInteger(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('usage', sa.BigInteger(), nullable=False),
    sa.Column('is_replacement', sa.Boolean(), nullable=False),
    sa.Column('replacement_start_value', sa.BigInteger(), nullable=True),
    sa.Column('flagged_for_review', sa.Boolean(), nullable=False),
    sa.Column('trailing_average', sa.BigInteger(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('(is_replacement AND replacement_start_value IS NOT NULL) OR (NOT is_replacement AND replacement_start_value IS NULL)', name=op.f('ck_meter_reading_replacement_has_start_value')),
    sa.CheckConstraint('reading >= 0', name=op.f('ck_meter_reading_reading_non_negative')),
    sa.CheckConstraint('usage >= 0', name=op.f('ck_meter_reading_usage_non_negative')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_meter_reading_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by'], ['app_user.id'], name=op.f('fk_meter_reading_recorded_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_meter_reading_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_reading')),
    sa.UniqueConstraint('unit_id', 'meter_type', 'read_at', name=op.f('uq_meter_reading_unit_id_meter_type_read_at'))
    )
    with op.batch_alter_table('meter_reading', schema=None) as batch_op:
        batch_op.create_index('ix_meter_reading_project_id_flagged', ['project_id', 'flagged_for_review'], unique=False)

    op.create_table('payment_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('WECHAT', 'ALIPAY', 'UNIONPAY', 'BANK_TRANSFER', 'CASH', 'POS', name='batch_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('external_reference', sa.String(length=100), nullable=True),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('total_amount > 0', name=op.f('ck_payment_batch_total_positive')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_payment_batch_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by'], ['app_user.id'], name=op.f('fk_payment_batch_recorded_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batch')),
    sa.UniqueConstraint('project_id', 'idempotency_key', name=op.f('uq_payment_batch_project_id_idempotency_key'))
    )
    op.create_table('waiver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_waiver_amount_positive')),
    sa.ForeignKeyConstraint(['approved_by'], ['app_user.id'], name=op.f('fk_waiver_approved_by_app_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_waiver_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_waiver_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiver'))
    )
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.create_index('ix_waiver_project_id_period', ['project_id', 'period'], unique=False)

    op.create_table('bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'PARTIALLY_PAID', 'PAID', name='bill_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('adjustment_amount', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_amount', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_through', sa.Date(), nullable=True),
    sa.Column('principal_paid', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_paid', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('late_fee_amount >= 0', name=op.f('ck_bill_late_fee_non_negative')),
    sa.CheckConstraint('late_fee_paid >= 0 AND late_fee_paid <= late_fee_amount', name=op.f('ck_bill_late_fee_paid_range')),
    sa.CheckConstraint('principal_paid <= total_amount + adjustment_amount', name=op.f('ck_bill_not_overpaid')),
    sa.CheckConstraint('principal_paid >= 0', name=op.f('ck_bill_principal_paid_non_negative')),
    sa.CheckConstraint('total_amount + adjustment_amount >= 0', name=op.f('ck_bill_adjusted_non_negative')),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_bill_total_non_negative')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_bill_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_bill_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['bill_run.id'], name=op.f('fk_bill_run_id_bill_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_bill_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill')),
    sa.UniqueConstraint('unit_id', 'period', name=op.f('uq_bill_unit_id_period'))
    )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index('ix_bill_project_id_period', ['project_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_run_id'), ['run_id'], unique=False)

    op.create_table('fee_rule_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_fee_rule_version_dates_ordered')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_fee_rule_version_version_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_fee_rule_version_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['fee_rule.id'], name=op.f('fk_fee_rule_version_rule_id_fee_rule'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rule_version')),
    sa.UniqueConstraint('rule_id', 'version', name=op.f('uq_fee_rule_version_rule_id_version'))
    )
    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('payer_party_id', sa.Integer(), nullable=True),
    sa.Column('payer_name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('WECHAT', 'ALIPAY', 'UNIONPAY', 'BANK_TRANSFER', 'CASH', 'POS', name='payment_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('external_reference', sa.String(length=100), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('payload_hash', sa.String(length=64), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('(idempotency_key IS NULL) = (payload_hash IS NULL)', name=op.f('ck_payment_idempotency_key_has_payload_hash')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_amount_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batch.id'], name=op.f('fk_payment_batch_id_payment_batch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payer_party_id'], ['party.id'], name=op.f('fk_payment_payer_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_payment_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by'], ['app_user.id'], name=op.f('fk_payment_recorded_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_payment_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('project_id', 'idempotency_key', name=op.f('uq_payment_project_id_idempotency_key'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_unit_id'), ['unit_id'], unique=False)

    op.create_table('adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('CREDIT', 'DEBIT', name='adjustment_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_adjustment_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_adjustment_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_adjustment_created_by_app_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_adjustment_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_adjustment_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment'))
    )
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_bill_id'), ['bill_id'], unique=False)

    op.create_table('bill_line',
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rule_version_id', sa.Integer(), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('CHARGE', 'DISCOUNT', 'WAIVER', name='bill_line_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_bill_line_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rule_version_id'], ['fee_rule_version.id'], name=op.f('fk_bill_line_rule_version_id_fee_rule_version'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('bill_id', 'position', name=op.f('pk_bill_line'))
    )
    op.create_table('journal_line',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=48), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('debit', sa.BigInteger(), nullable=False),
    sa.Column('credit', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0)', name=op.f('ck_journal_line_one_side_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_journal_line_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_journal_line_entry_id_journal_entry'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_journal_line_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_journal_line_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('entry_id', 'line_no', name=op.f('pk_journal_line'))
    )
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_line_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_line_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_journal_line_unit_id_account', ['unit_id', 'account'], unique=False)

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('late_fee', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Enum('PAYMENT', 'CREDIT', 'REVERSAL', name='allocation_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("(source = 'REVERSAL' AND principal <= 0 AND late_fee <= 0) OR (source <> 'REVERSAL' AND principal >= 0 AND late_fee >= 0)", name=op.f('ck_payment_allocation_sign_follows_source')),
    sa.CheckConstraint('principal <> 0 OR late_fee <> 0', name=op.f('ck_payment_allocation_not_empty')),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_payment_allocation_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_allocation_payment_id_payment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocation'))
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocation_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocation_payment_id'), ['payment_id'], unique=False)

    op.create_table('payment_intent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('out_trade_no', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.Enum('WECHAT', 'ALIPAY', 'UNIONPAY', 'BANK_TRANSFER', 'CASH', 'POS', name='intent_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('bill_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'PAID', name='payment_intent_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('provider_transaction_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_intent_amount_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_payment_intent_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_intent_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_payment_intent_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_payment_intent_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_intent')),
    sa.UniqueConstraint('out_trade_no', name=op.f('uq_payment_intent_out_trade_no')),
    sa.UniqueConstraint('provider', 'provider_transaction_id', name=op.f('uq_payment_intent_provider_provider_transaction_id'))
    )
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_intent_unit_id'), ['unit_id'], unique=False)

    op.create_table('payment_reversal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('REFUND', 'REVERSAL', name='reversal_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_reversal_amount_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_payment_reversal_created_by_app_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_reversal_payment_id_payment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_reversal'))
    )
    with op.batch_alter_table('payment_reversal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_reversal_payment_id'), ['payment_id'], unique=False)

    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_receipt_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_receipt_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_receipt_payment_id')),
    sa.UniqueConstraint('project_id', 'number', name=op.f('uq_receipt_project_id_number'))
    )


def downgrade() -> None:
    op.drop_table('receipt')
    with op.batch_alter_table('payment_reversal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_reversal_payment_id'))

    op.drop_table('payment_reversal')
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_intent_unit_id'))

    op.drop_table('payment_intent')
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocation_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocation_bill_id'))

    op.drop_table('payment_allocation')
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_line_unit_id_account')
        batch_op.drop_index(batch_op.f('ix_journal_line_payment_id'))
        batch_op.drop_index(batch_op.f('ix_journal_line_bill_id'))

    op.drop_table('journal_line')
    op.drop_table('bill_line')
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_bill_id'))

    op.drop_table('adjustment')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_payment_batch_id'))

    op.drop_table('payment')
    op.drop_table('fee_rule_version')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_run_id'))
        batch_op.drop_index('ix_bill_project_id_period')

    op.drop_table('bill')
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.drop_index('ix_waiver_project_id_period')

    op.drop_table('waiver')
    op.drop_table('payment_batch')
    with op.batch_alter_table('meter_reading', schema=None) as batch_op:
        batch_op.drop_index('ix_meter_reading_project_id_flagged')

    op.drop_table('meter_reading')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_project_id_id')

    op.drop_table('journal_entry')
    op.drop_table('fee_rule')
    with op.batch_alter_table('discount_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discount_rule_project_id'))

    op.drop_table('discount_rule')
    op.drop_table('bill_run')
    op.drop_table('late_fee_policy')
    op.drop_table('billing_policy')
    op.drop_table('billing_counter')
