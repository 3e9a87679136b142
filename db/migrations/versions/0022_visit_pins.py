"""dispatchers pin a visit to a technician, and to a start time, for the day's routes

Revision ID: 0022
Revises: 0014
Create Date: 2026-12-06 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit_pin',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pinned_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['pinned_by_user_id'], ['app_user.id'], name=op.f('fk_visit_pin_pinned_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['technician_id'], ['technician.id'], name=op.f('fk_visit_pin_technician_id_technician'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_visit_pin_ticket_id_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_visit_pin'))
    )
    with op.batch_alter_table('visit_pin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_pin_technician_id'), ['technician_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit_pin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_pin_technician_id'))
    op.drop_table('visit_pin')
