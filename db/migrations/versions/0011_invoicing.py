"""invoicing: tax configuration, invoice titles, invoices, their lines and payments, batches

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06 13:55:14.520696
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table('tax_mapping_version')
    op.drop_table('invoicing_profile')
    op.drop_table('invoice_seller_version')
