"""tickets keep the priority the classifier read and the words it rests on, as they keep its category

Revision ID: 0014
Revises: 0003
Create Date: 2026-12-14 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('classifier_priority', sa.Enum('URGENT', 'HIGH', 'NORMAL', 'LOW', name='classifier_priority', native_enum=False, create_constraint=True), nullable=True))
        batch_op.add_column(sa.Column('classifier_priority_evidence', sa.JSON(), nullable=True))
    # Tickets filed before this revision were read without priority evidence: an empty list, as the model writes.
    op.execute("UPDATE ticket SET classifier_priority_evidence = '[]'")
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('classifier_priority_evidence', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('classifier_priority_evidence')
        batch_op.drop_column('classifier_priority')
