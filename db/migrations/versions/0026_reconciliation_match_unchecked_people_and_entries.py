"""a match's creator, undoer and journal entry lose their foreign keys: PostgreSQL called each of the three
checks for every row a run inserts, NULL or not (a group's day of a million exact pairs, none with an
entry or an undoer: 2.0-2.4 s each); users and journal entries are never deleted, and the writers take
them from the principal acting and the entry written in the same transaction

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-07 01:50:00
"""

from __future__ import annotations

from db.migrations.match_keys import rebuild_match_keys

revision = '0026'
down_revision = '0027'
branch_labels = None
depends_on = None

_UNCHECKED = (
    ('created_by', 'app_user', 'fk_reconciliation_match_created_by_app_user', 'SET NULL'),
    ('undone_by', 'app_user', 'fk_reconciliation_match_undone_by_app_user', 'SET NULL'),
    ('journal_entry_id', 'journal_entry', 'fk_reconciliation_match_journal_entry_id_journal_entry', 'RESTRICT'),
)


def upgrade() -> None:
    rebuild_match_keys('drop', _UNCHECKED)


def downgrade() -> None:
    rebuild_match_keys('create', _UNCHECKED)
