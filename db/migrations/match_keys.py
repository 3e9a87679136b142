"""Dropping or restoring foreign keys of reconciliation_match, for the migrations that do (0026, 0027).

Kept apart from the versions so both run the same steps; like a migration, it is never changed once
released, only joined by a new module when a later migration needs other steps."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def rebuild_match_keys(change: str, keys: tuple[tuple[str, str, str, str], ...]) -> None:
    """Drop (`change` 'drop') or create ('create') the foreign keys `keys` names on reconciliation_match:
    (column, referred table, constraint name, ON DELETE)."""
    connection = op.get_bind()
    sqlite = connection.dialect.name == 'sqlite'
    if sqlite:
        rows, named = _set_aside_what_names_matches(connection)
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        for column, table, name, on_delete in keys:
            if change == 'drop':
                batch_op.drop_constraint(name, type_='foreignkey')
            else:
                batch_op.create_foreign_key(name, table, [column], ['id'], ondelete=on_delete)
    if sqlite:
        _put_back(connection, rows, named)
