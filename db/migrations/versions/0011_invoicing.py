"""invoicing: tax configuration, invoice titles, invoices, their lines and payments, batches

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 14:25:54.956266
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invoice_title',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('PERSON', 'COMPANY', name='invoice_title_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('tax_code', sa.String(length=18), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('bank_name', sa.String(length=100), nullable=True),
    sa.Column('bank_account', sa.String(length=50), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_invoice_title_party_id_party'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoice_title_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_title'))
    )
    with op.batch_alter_table('invoice_title', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_title_party_id', ['party_id'], unique=False)

    op.create_table('invoice_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('invoice_type', sa.Enum('NORMAL', 'SPECIAL', name='invoice_batch_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('skipped_payments', sa.Integer(), nullable=False),
    sa.Column('skipped_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('skipped_payments >= 0', name=op.f('ck_invoice_batch_skipped_payments_non_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_invoice_batch_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoice_batch_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_batch'))
    )
    with op.batch_alter_table('invoice_batch', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_batch_project_id_period', ['project_id', 'period'], unique=False)

    op.create_table('invoice_seller_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('tax_code', sa.String(length=18), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('bank_name', sa.String(length=100), nullable=True),
    sa.Column('bank_account', sa.String(length=50), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_invoice_seller_version_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoice_seller_version_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_seller_version')),
    sa.UniqueConstraint('project_id', 'effective_from', name=op.f('uq_invoice_seller_version_project_id_effective_from'))
    )
    op.create_table('invoicing_profile',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('auto_issue', sa.Boolean(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('drawer', sa.String(length=40), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoicing_profile_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['app_user.id'], name=op.f('fk_invoicing_profile_updated_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_invoicing_profile'))
    )
    op.create_table('tax_mapping_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('fee_kind', sa.String(length=40), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('item_name', sa.String(length=60), nullable=False),
    sa.Column('classification_code', sa.String(length=19), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('treatment', sa.Enum('GENERAL', 'SIMPLIFIED', 'EXEMPT', name='tax_treatment', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("treatment <> 'EXEMPT' OR rate = 0", name=op.f('ck_tax_mapping_version_exempt_has_no_rate')),
    sa.CheckConstraint('rate >= 0 AND rate < 10000', name=op.f('ck_tax_mapping_version_rate_range')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_tax_mapping_version_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_tax_mapping_version_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_mapping_version')),
    sa.UniqueConstraint('project_id', 'fee_kind', 'effective_from', name=op.f('uq_tax_mapping_version_project_id_fee_kind_effective_from'))
    )
    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('colour', sa.Enum('BLUE', 'RED', name='invoice_colour', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('invoice_type', sa.Enum('NORMAL', 'SPECIAL', name='invoice_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'ISSUED', 'FAILED', 'CANCELLED', name='invoice_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('title_id', sa.Integer(), nullable=True),
    sa.Column('buyer_kind', sa.Enum('PERSON', 'COMPANY', name='invoice_buyer_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('buyer_name', sa.String(length=100), nullable=False),
    sa.Column('buyer_tax_code', sa.String(length=18), nullable=True),
    sa.Column('buyer_address', sa.String(length=200), nullable=True),
    sa.Column('buyer_phone', sa.String(length=40), nullable=True),
    sa.Column('buyer_bank_name', sa.String(length=100), nullable=True),
    sa.Column('buyer_bank_account', sa.String(length=50), nullable=True),
    sa.Column('corrects_invoice_id', sa.Integer(), nullable=True),
    sa.Column('reversal_id', sa.Integer(), nullable=True),
    sa.Column('seller_version_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('net_total', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), nullable=False),
    sa.Column('gross_total', sa.BigInteger(), nullable=False),
    sa.Column('remark', sa.String(length=200), nullable=True),
    sa.Column('xml', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("(colour = 'RED') = (corrects_invoice_id IS NOT NULL)", name=op.f('ck_invoice_red_corrects_an_invoice')),
    sa.CheckConstraint("(status = 'ISSUED') = (number IS NOT NULL)", name=op.f('ck_invoice_issued_has_a_number')),
    sa.CheckConstraint("(status = 'ISSUED') = (xml IS NOT NULL)", name=op.f('ck_invoice_issued_has_its_document')),
    sa.ForeignKeyConstraint(['batch_id'], ['invoice_batch.id'], name=op.f('fk_invoice_batch_id_invoice_batch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['corrects_invoice_id'], ['invoice.id'], name=op.f('fk_invoice_corrects_invoice_id_invoice'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_invoice_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoice_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by'], ['app_user.id'], name=op.f('fk_invoice_requested_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reversal_id'], ['payment_reversal.id'], name=op.f('fk_invoice_reversal_id_payment_reversal'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['seller_version_id'], ['invoice_seller_version.id'], name=op.f('fk_invoice_seller_version_id_invoice_seller_version'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['title_id'], ['invoice_title.id'], name=op.f('fk_invoice_title_id_invoice_title'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_invoice_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    sa.UniqueConstraint('reversal_id', name=op.f('uq_invoice_reversal_id'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_batch_id', ['batch_id'], unique=False)
        batch_op.create_index('ix_invoice_corrects_invoice_id', ['corrects_invoice_id'], unique=False)
        batch_op.create_index('ix_invoice_party_id', ['party_id'], unique=False)
        batch_op.create_index('ix_invoice_project_id_issued_at', ['project_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_invoice_project_id_status', ['project_id', 'status'], unique=False)
        batch_op.create_index('ix_invoice_unit_id', ['unit_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('fee_kind', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('item_name', sa.String(length=60), nullable=False),
    sa.Column('classification_code', sa.String(length=19), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('treatment', sa.Enum('GENERAL', 'SIMPLIFIED', 'EXEMPT', name='invoice_line_treatment', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('mapping_id', sa.Integer(), nullable=True),
    sa.Column('original_position', sa.Integer(), nullable=True),
    sa.CheckConstraint('net + tax = amount', name=op.f('ck_invoice_line_net_and_tax_add_up')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['mapping_id'], ['tax_mapping_version.id'], name=op.f('fk_invoice_line_mapping_id_tax_mapping_version'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_invoice_line_payment_id_payment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('invoice_id', 'position', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_line_payment_id', ['payment_id'], unique=False)

    op.create_table('invoiced_payment',
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoiced_payment_invoice_id_invoice'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_invoiced_payment_payment_id_payment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_invoiced_payment'))
    )
    with op.batch_alter_table('invoiced_payment', schema=None) as batch_op:
        batch_op.create_index('ix_invoiced_payment_invoice_id', ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoiced_payment', schema=None) as batch_op:
        batch_op.drop_index('ix_invoiced_payment_invoice_id')

    op.drop_table('invoiced_payment')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_line_payment_id')

    op.drop_table('invoice_line')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_unit_id')
        batch_op.drop_index('ix_invoice_project_id_status')
        batch_op.drop_index('ix_invoice_project_id_issued_at')
        batch_op.drop_index('ix_invoice_party_id')
        batch_op.drop_index('ix_invoice_corrects_invoice_id')
        batch_op.drop_index('ix_invoice_batch_id')

    op.drop_table('invoice')
    op.drop_table('tax_mapping_version')
    op.drop_table('invoicing_profile')
    op.drop_table('invoice_seller_version')
    with op.batch_alter_table('invoice_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_batch_project_id_period')

    op.drop_table('invoice_batch')
    with op.batch_alter_table('invoice_title', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_title_party_id')

    op.drop_table('invoice_title')
