"""technicians' shifts and breaks per weekday or date, owners' availability windows, for the day's routes

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('technician_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('starts_minute', sa.Integer(), nullable=False),
    sa.Column('ends_minute', sa.Integer(), nullable=False),
    sa.Column('breaks', sa.JSON(), nullable=False),
    sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('(weekday IS NULL) <> (on_date IS NULL)', name=op.f('ck_technician_shift_weekday_or_date')),
    sa.CheckConstraint('weekday IS NULL OR (weekday BETWEEN 1 AND 7)', name=op.f('ck_technician_shift_weekday_range')),
    sa.CheckConstraint('starts_minute >= 0 AND ends_minute < 1440 AND ends_minute > starts_minute', name=op.f('ck_technician_shift_hours')),
    sa.ForeignKeyConstraint(['technician_id'], ['technician.id'], name=op.f('fk_technician_shift_technician_id_technician'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['app_user.id'], name=op.f('fk_technician_shift_updated_by_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_technician_shift')),
    sa.UniqueConstraint('technician_id', 'on_date', name=op.f('uq_technician_shift_technician_id_on_date')),
    sa.UniqueConstraint('technician_id', 'weekday', name=op.f('uq_technician_shift_technician_id_weekday'))
    )
    with op.batch_alter_table('technician_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_technician_shift_technician_id'), ['technician_id'], unique=False)

    op.create_table('owner_availability',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('available_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('available_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('available_until > available_from', name=op.f('ck_owner_availability_window_order')),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['app_user.id'], name=op.f('fk_owner_availability_set_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_owner_availability_ticket_id_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_owner_availability'))
    )


def downgrade() -> None:
    op.drop_table('owner_availability')
    with op.batch_alter_table('technician_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technician_shift_technician_id'))
    op.drop_table('technician_shift')
