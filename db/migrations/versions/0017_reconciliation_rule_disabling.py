"""a reconciliation rule can be disabled: it keeps its place and its matches, and is no longer tried

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reconciliation_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_reconciliation_rule_disabled_by_app_user'), 'app_user', ['disabled_by'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('reconciliation_rule', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reconciliation_rule_disabled_by_app_user'), type_='foreignkey')
        batch_op.drop_column('disabled_by')
        batch_op.drop_column('disabled_at')
