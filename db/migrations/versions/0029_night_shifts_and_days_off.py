"""shifts that end the next day (night shifts), and technicians' single days off

Revision ID: 0029
Revises: 0025
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0025'
branch_labels = None
depends_on = None

_SAME_DAY = 'starts_minute >= 0 AND ends_minute < 1440 AND ends_minute > starts_minute'
_UP_TO_A_DAY = (
    'starts_minute >= 0 AND starts_minute < 1440 AND ends_minute > starts_minute'
    ' AND ends_minute <= starts_minute + 1440'
)


def upgrade() -> None:
    with op.batch_alter_table('technician_shift', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_technician_shift_hours'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_technician_shift_hours'), _UP_TO_A_DAY)

    op.create_table('technician_day_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Enum('LEAVE', 'SICK', 'OTHER', name='absence_reason', native_enum=False, create_constraint=True, length=5), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('set_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['app_user.id'], name=op.f('fk_technician_day_off_set_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['technician_id'], ['technician.id'], name=op.f('fk_technician_day_off_technician_id_technician'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_technician_day_off')),
    sa.UniqueConstraint('technician_id', 'on_date', name=op.f('uq_technician_day_off_technician_id_on_date'))
    )
    with op.batch_alter_table('technician_day_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_technician_day_off_technician_id'), ['technician_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('technician_day_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technician_day_off_technician_id'))
    op.drop_table('technician_day_off')
    # Night shifts do not fit the old constraint: they go with it.
    op.execute(sa.text('DELETE FROM technician_shift WHERE ends_minute >= 1440'))
    with op.batch_alter_table('technician_shift', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_technician_shift_hours'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_technician_shift_hours'), _SAME_DAY)
