"""overdue risk: each project's trained scorecard, its validation against the rule baseline, and whether it is enabled

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-06 16:45:00

On the billing branch, after dunning (0012): the dunning work queue is ordered by the score.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('overdue_risk_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trained_by', sa.Integer(), nullable=True),
    sa.Column('labelled_bills', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('model', sa.JSON(), nullable=True),
    sa.Column('baseline_rates', sa.JSON(), nullable=False),
    sa.Column('validation', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_overdue_risk_model_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trained_by'], ['app_user.id'], name=op.f('fk_overdue_risk_model_trained_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overdue_risk_model'))
    )
    with op.batch_alter_table('overdue_risk_model', schema=None) as batch_op:
        batch_op.create_index('ix_overdue_risk_model_project_id_id', ['project_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('overdue_risk_model', schema=None) as batch_op:
        batch_op.drop_index('ix_overdue_risk_model_project_id_id')
    op.drop_table('overdue_risk_model')
