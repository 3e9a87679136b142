"""indexes the matching run's join in the database needs; match links index only the targets they hold

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

# A link holds one target; its unique indexes need not carry the two NULLs of every row.
_LINK_INDEXES = {
    'ux_match_link_owned_line': ('line_id', 'line_id IS NOT NULL AND settles = 0', 'line_id IS NOT NULL AND NOT settles'),
    'ux_match_link_settled_line': ('line_id', 'line_id IS NOT NULL AND settles = 1', 'line_id IS NOT NULL AND settles'),
    'ux_match_link_payment': ('payment_id', 'payment_id IS NOT NULL', 'payment_id IS NOT NULL'),
    'ux_match_link_reversal': ('reversal_id', 'reversal_id IS NOT NULL', 'reversal_id IS NOT NULL'),
}
_FORMER_LINK_INDEXES = {
    'ux_match_link_owned_line': ('line_id', 'settles = 0', 'NOT settles'),
    'ux_match_link_settled_line': ('line_id', 'settles = 1', 'settles'),
    'ux_match_link_payment': ('payment_id', None, None),
    'ux_match_link_reversal': ('reversal_id', None, None),
}


def _link_indexes(indexes: dict[str, tuple[str, str | None, str | None]]) -> None:
    with op.batch_alter_table('reconciliation_match_link', schema=None) as batch_op:
        for name in indexes:
            batch_op.drop_index(name)
        for name, (column, sqlite_where, postgresql_where) in indexes.items():
            batch_op.create_index(
                name,
                [column],
                unique=True,
                sqlite_where=sa.text(sqlite_where) if sqlite_where else None,
                postgresql_where=sa.text(postgresql_where) if postgresql_where else None,
            )


def upgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_project_id_paid_at', ['project_id', 'paid_at'], unique=False)
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_intent_payment_id'), ['payment_id'], unique=False)
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_line_bank_reference'), ['bank_reference'], unique=False)
    _link_indexes(_LINK_INDEXES)


def downgrade() -> None:
    _link_indexes(_FORMER_LINK_INDEXES)
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_bank_reference'))
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_intent_payment_id'))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_project_id_paid_at')
