"""indexes the morning reports read by: the bills owing today, and journal entries by the time they were booked

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0012'
branch_labels = None
depends_on = None

_BILL_OWING = "total_amount + adjustment_amount + late_fee_amount - (principal_paid + late_fee_paid) <> 0"


def upgrade() -> None:
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index(
            'ix_bill_owing', ['project_id'], unique=False,
            postgresql_where=sa.text(_BILL_OWING), sqlite_where=sa.text(_BILL_OWING),
        )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_project_id_occurred_at', ['project_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_project_id_occurred_at')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_owing')
