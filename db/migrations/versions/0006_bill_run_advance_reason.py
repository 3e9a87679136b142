"""bill runs keep why a period after the next one was billed ahead

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bill_run', schema=None) as batch_op:
        batch_op.drop_column('advance_reason')
