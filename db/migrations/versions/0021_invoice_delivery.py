"""invoices are delivered through the outbox with a download link, and an online order remembers the title picked

Revision ID: 0021
Revises: 0012
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('download_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invoice_download_key'), ['download_key'])
    with op.batch_alter_table('invoicing_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_url', sa.String(length=200), nullable=True))
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_title_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_payment_intent_invoice_title_id_invoice_title'), 'invoice_title', ['invoice_title_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_intent_invoice_title_id_invoice_title'), type_='foreignkey')
        batch_op.drop_column('invoice_title_id')
    with op.batch_alter_table('invoicing_profile', schema=None) as batch_op:
        batch_op.drop_column('public_url')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invoice_download_key'), type_='unique')
        batch_op.drop_column('download_key')
