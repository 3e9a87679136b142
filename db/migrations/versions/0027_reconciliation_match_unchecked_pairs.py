"""a match's project, line and payment lose their foreign keys: PostgreSQL checked each of a group's day's
million pairs row by row, locking its line, its payment and the project (two thirds of storing the pairs);
the run takes them from the rows it joined, and lines, payments and projects are never deleted

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None

_UNCHECKED = (
    ('project_id', 'project', 'fk_reconciliation_match_project_id_project'),
    ('line_id', 'statement_line', 'fk_reconciliation_match_line_id_statement_line'),
    ('payment_id', 'payment', 'fk_reconciliation_match_payment_id_payment'),
)
_NAMING_MATCHES = (
    ('reconciliation_match_link', ('match_id', 'line_id', 'payment_id', 'reversal_id')),
    ('reconciliation_settled_day', ('match_id', 'account_id', 'day')),
)


def _set_aside_what_names_matches(connection: sa.Connection) -> tuple[dict[str, list[dict[str, object]]], list[dict[str, object]]]:
    """Batch mode rebuilds reconciliation_match on SQLite and drops the old table, which with foreign keys on
    deletes its links and settled days (CASCADE) and fails on a resolved exception naming it (RESTRICT):
    they are read, taken away, and `_put_back` restores them after the rebuild."""
    rows = {
        table: [dict(row._mapping) for row in connection.execute(sa.text(f'SELECT {", ".join(columns)} FROM {table}'))]
        for table, columns in _NAMING_MATCHES
    }
    named = [
        {'id': id_, 'match_id': match_id}
        for id_, match_id in connection.execute(
            sa.text('SELECT id, resolution_match_id FROM reconciliation_exception WHERE resolution_match_id IS NOT NULL')
        )
    ]
    connection.execute(sa.text('UPDATE reconciliation_exception SET resolution_match_id = NULL WHERE resolution_match_id IS NOT NULL'))
    for table, _ in _NAMING_MATCHES:
        connection.execute(sa.text(f'DELETE FROM {table}'))
    return rows, named


def _put_back(connection: sa.Connection, rows: dict[str, list[dict[str, object]]], named: list[dict[str, object]]) -> None:
    for table, columns in _NAMING_MATCHES:
        if rows[table]:
            connection.execute(
                sa.text(f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join(":" + c for c in columns)})'), rows[table]
            )
    if named:
        connection.execute(sa.text('UPDATE reconciliation_exception SET resolution_match_id = :match_id WHERE id = :id'), named)


def _rebuilt(change: str) -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == 'sqlite'
    if sqlite:
        rows, named = _set_aside_what_names_matches(connection)
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        for column, table, name in _UNCHECKED:
            if change == 'drop':
                batch_op.drop_constraint(name, type_='foreignkey')
            else:
                batch_op.create_foreign_key(name, table, [column], ['id'], ondelete='RESTRICT')
    if sqlite:
        _put_back(connection, rows, named)


def upgrade() -> None:
    _rebuilt('drop')


def downgrade() -> None:
    _rebuilt('create')
