"""a match's creator, undoer and journal entry lose their foreign keys: PostgreSQL called each of the three
checks for every row a run inserts, NULL or not (a group's day of a million exact pairs, none with an
entry or an undoer: 2.0-2.4 s each); users and journal entries are never deleted, and the writers take
them from the principal acting and the entry written in the same transaction

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-07 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0027'
branch_labels = None
depends_on = None

_UNCHECKED = (
    ('created_by', 'app_user', 'fk_reconciliation_match_created_by_app_user', 'SET NULL'),
    ('undone_by', 'app_user', 'fk_reconciliation_match_undone_by_app_user', 'SET NULL'),
    ('journal_entry_id', 'journal_entry', 'fk_reconciliation_match_journal_entry_id_journal_entry', 'RESTRICT'),
)
_NAMING_MATCHES = (
    ('reconciliation_match_link', ('match_id', 'line_id', 'payment_id', 'reversal_id')),
    ('reconciliation_settled_day', ('match_id', 'account_id', 'day')),
)


def _set_aside_what_names_matches(connection: sa.Connection) -> tuple[dict[str, list[dict[str, object]]], list[dict[str, object]]]:
    """Batch mode rebuilds reconciliation_match on SQLite and drops the old table, which with foreign keys on
    deletes its links and settled days (CASCADE) and fails on a resolved exception naming it (RESTRICT):
    they are read, taken away, and `_put_back` restores them after the rebuild (as in 0027)."""
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
        for column, table, name, on_delete in _UNCHECKED:
            if change == 'drop':
                batch_op.drop_constraint(name, type_='foreignkey')
            else:
                batch_op.create_foreign_key(name, table, [column], ['id'], ondelete=on_delete)
    if sqlite:
        _put_back(connection, rows, named)


def upgrade() -> None:
    _rebuilt('drop')


def downgrade() -> None:
    _rebuilt('create')
