"""reconciliation: statement accounts, files, lines, matches, exceptions, rules, daily closes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 11:48:26.504354
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reconciliation_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_reconciliation_rule_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_reconciliation_rule_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_rule')),
    sa.UniqueConstraint('project_id', 'position', name=op.f('uq_reconciliation_rule_project_id_position'))
    )
    op.create_table('statement_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('WECHAT', 'ALIPAY', 'BANK', name='statement_account_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('channel', sa.Enum('WECHAT', 'ALIPAY', 'UNIONPAY', 'BANK_TRANSFER', 'CASH', 'POS', name='statement_account_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('bank_profile', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_statement_account_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_statement_account_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_account')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_statement_account_project_id_name'))
    )
    op.create_table('daily_close',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('clearing_account', sa.String(length=48), nullable=False),
    sa.Column('opening_balance', sa.BigInteger(), nullable=False),
    sa.Column('closing_balance', sa.BigInteger(), nullable=False),
    sa.Column('matched_count', sa.Integer(), nullable=False),
    sa.Column('matched_amount', sa.BigInteger(), nullable=False),
    sa.Column('exception_count', sa.Integer(), nullable=False),
    sa.Column('exception_amount', sa.BigInteger(), nullable=False),
    sa.Column('open_exception_count', sa.Integer(), nullable=False),
    sa.Column('open_exception_amount', sa.BigInteger(), nullable=False),
    sa.Column('sign_off_reason', sa.String(length=500), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['statement_account.id'], name=op.f('fk_daily_close_account_id_statement_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['closed_by'], ['app_user.id'], name=op.f('fk_daily_close_closed_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_daily_close_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_close')),
    sa.UniqueConstraint('account_id', 'day', name=op.f('uq_daily_close_account_id_day'))
    )
    with op.batch_alter_table('daily_close', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_close_project_id'), ['project_id'], unique=False)

    op.create_table('reconciliation_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('channel_fee', sa.BigInteger(), nullable=False),
    sa.Column('amount_difference', sa.BigInteger(), nullable=False),
    sa.Column('settlement', sa.JSON(), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('corrects_closed_day', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('undo_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_reconciliation_match_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_reconciliation_match_journal_entry_id_journal_entry'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_reconciliation_match_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['undone_by'], ['app_user.id'], name=op.f('fk_reconciliation_match_undone_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_match'))
    )
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_match_project_id'), ['project_id'], unique=False)

    op.create_table('statement_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('statement_format', sa.String(length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_line_count', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['statement_account.id'], name=op.f('fk_statement_file_account_id_statement_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['imported_by'], ['app_user.id'], name=op.f('fk_statement_file_imported_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_file')),
    sa.UniqueConstraint('account_id', 'file_hash', name=op.f('uq_statement_file_account_id_file_hash'))
    )
    op.create_table('reconciliation_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'RESOLVED', name='reconciliation_exception_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('difference', sa.BigInteger(), nullable=True),
    sa.Column('fee_explains', sa.Boolean(), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('suggested_payment_ids', sa.JSON(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('resolution', sa.Enum('MATCHED', 'UNMATCHED', 'RECORDED_PAYMENT', 'REFUNDED_DUPLICATE', 'WRITTEN_OFF', name='reconciliation_resolution', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_reason', sa.String(length=500), nullable=True),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('resolution_match_id', sa.Integer(), nullable=True),
    sa.Column('resolution_payment_id', sa.Integer(), nullable=True),
    sa.Column('resolution_journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('corrects_closed_day', sa.Date(), nullable=True),
    sa.CheckConstraint("status = 'OPEN' OR (resolution IS NOT NULL AND resolved_at IS NOT NULL)", name=op.f('ck_reconciliation_exception_resolved_has_how')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_reconciliation_exception_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolution_journal_entry_id'], ['journal_entry.id'], name=op.f('fk_reconciliation_exception_resolution_journal_entry_id_journal_entry'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolution_match_id'], ['reconciliation_match.id'], name=op.f('fk_reconciliation_exception_resolution_match_id_reconciliation_match'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolution_payment_id'], ['payment.id'], name=op.f('fk_reconciliation_exception_resolution_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by'], ['app_user.id'], name=op.f('fk_reconciliation_exception_resolved_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_exception'))
    )
    with op.batch_alter_table('reconciliation_exception', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_exception_project_id_status', ['project_id', 'status'], unique=False)

    op.create_table('statement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('line_key', sa.String(length=200), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('settled_amount', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('order_no', sa.String(length=100), nullable=True),
    sa.Column('transaction_id', sa.String(length=100), nullable=True),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('end_to_end_id', sa.String(length=100), nullable=True),
    sa.Column('refund_no', sa.String(length=100), nullable=True),
    sa.Column('provider_refund_id', sa.String(length=100), nullable=True),
    sa.Column('counterparty_name', sa.String(length=200), nullable=True),
    sa.Column('counterparty_account', sa.String(length=100), nullable=True),
    sa.Column('memo', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['statement_account.id'], name=op.f('fk_statement_line_account_id_statement_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['file_id'], ['statement_file.id'], name=op.f('fk_statement_line_file_id_statement_file'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_line')),
    sa.UniqueConstraint('account_id', 'line_key', name=op.f('uq_statement_line_account_id_line_key'))
    )
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index('ix_statement_line_account_id_booked_at', ['account_id', 'booked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_line_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_line_order_no'), ['order_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_line_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('reconciliation_exception_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exception_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('reversal_id', sa.Integer(), nullable=True),
    sa.Column('related', sa.Boolean(), nullable=False),
    sa.CheckConstraint('(CASE WHEN line_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN payment_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN reversal_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_reconciliation_exception_link_one_target')),
    sa.ForeignKeyConstraint(['exception_id'], ['reconciliation_exception.id'], name=op.f('fk_reconciliation_exception_link_exception_id_reconciliation_exception'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['statement_line.id'], name=op.f('fk_reconciliation_exception_link_line_id_statement_line'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_reconciliation_exception_link_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reversal_id'], ['payment_reversal.id'], name=op.f('fk_reconciliation_exception_link_reversal_id_payment_reversal'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_exception_link'))
    )
    with op.batch_alter_table('reconciliation_exception_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_exception_link_exception_id'), ['exception_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_exception_link_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_exception_link_payment_id'), ['payment_id'], unique=False)

    op.create_table('reconciliation_match_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('reversal_id', sa.Integer(), nullable=True),
    sa.Column('settles', sa.Boolean(), nullable=False),
    sa.CheckConstraint('(CASE WHEN line_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN payment_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN reversal_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_reconciliation_match_link_one_target')),
    sa.ForeignKeyConstraint(['line_id'], ['statement_line.id'], name=op.f('fk_reconciliation_match_link_line_id_statement_line'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['match_id'], ['reconciliation_match.id'], name=op.f('fk_reconciliation_match_link_match_id_reconciliation_match'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_reconciliation_match_link_payment_id_payment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reversal_id'], ['payment_reversal.id'], name=op.f('fk_reconciliation_match_link_reversal_id_payment_reversal'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_match_link'))
    )
    with op.batch_alter_table('reconciliation_match_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_match_link_match_id'), ['match_id'], unique=False)
        batch_op.create_index('ux_match_link_owned_line', ['line_id'], unique=True, sqlite_where=sa.text('settles = 0'), postgresql_where=sa.text('NOT settles'))
        batch_op.create_index('ux_match_link_payment', ['payment_id'], unique=True)
        batch_op.create_index('ux_match_link_reversal', ['reversal_id'], unique=True)
        batch_op.create_index('ux_match_link_settled_line', ['line_id'], unique=True, sqlite_where=sa.text('settles = 1'), postgresql_where=sa.text('settles'))



def downgrade() -> None:
    with op.batch_alter_table('reconciliation_match_link', schema=None) as batch_op:
        batch_op.drop_index('ux_match_link_settled_line', sqlite_where=sa.text('settles = 1'), postgresql_where=sa.text('settles'))
        batch_op.drop_index('ux_match_link_reversal')
        batch_op.drop_index('ux_match_link_payment')
        batch_op.drop_index('ux_match_link_owned_line', sqlite_where=sa.text('settles = 0'), postgresql_where=sa.text('NOT settles'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_link_match_id'))

    op.drop_table('reconciliation_match_link')
    with op.batch_alter_table('reconciliation_exception_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_exception_link_payment_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_exception_link_line_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_exception_link_exception_id'))

    op.drop_table('reconciliation_exception_link')
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_statement_line_order_no'))
        batch_op.drop_index(batch_op.f('ix_statement_line_file_id'))
        batch_op.drop_index('ix_statement_line_account_id_booked_at')

    op.drop_table('statement_line')
    with op.batch_alter_table('reconciliation_exception', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_exception_project_id_status')

    op.drop_table('reconciliation_exception')
    op.drop_table('statement_file')
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_project_id'))

    op.drop_table('reconciliation_match')
    with op.batch_alter_table('daily_close', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_close_project_id'))

    op.drop_table('daily_close')
    op.drop_table('statement_account')
    op.drop_table('reconciliation_rule')
