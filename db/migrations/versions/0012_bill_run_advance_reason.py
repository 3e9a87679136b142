"""bill runs keep why a period after the next one was billed ahead

Revision ID: 0012_bill_run_advance_reason
Revises: 0002
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_bill_run_advance_reason'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.drop_column('advance_reason')
