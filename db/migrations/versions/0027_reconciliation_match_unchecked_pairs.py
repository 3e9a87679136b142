"""a match's project, line and payment lose their foreign keys: PostgreSQL checked each of a group's day's
million pairs row by row, locking its line, its payment and the project (two thirds of storing the pairs);
the run takes them from the rows it joined, and lines, payments and projects are never deleted

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from db.migrations.match_keys import rebuild_match_keys

revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None

_UNCHECKED = (
    ('project_id', 'project', 'fk_reconciliation_match_project_id_project', 'RESTRICT'),
    ('line_id', 'statement_line', 'fk_reconciliation_match_line_id_statement_line', 'RESTRICT'),
    ('payment_id', 'payment', 'fk_reconciliation_match_payment_id_payment', 'RESTRICT'),
)


def upgrade() -> None:
    rebuild_match_keys('drop', _UNCHECKED)


def downgrade() -> None:
    rebuild_match_keys('create', _UNCHECKED)
