"""the collection flows summed per month beside the daily ones, the daily ones indexed by day, and the
arrears spans' index covering what the ageing reads

Revision ID: 0028
Revises: 0023
Create Date: 2026-12-07 01:30:00

On the reports' branch, after the facts (0023). The collection rate of a year read half a million daily
flows at 100,000 flats; it now reads the months before the report day's month from
`collection_flow_month` (kept by the same writers from here on, `billing.reports.facts`) and only that
month's days from `collection_flow`, found by the new index. This fills the months from the stored flows.
On PostgreSQL the arrears spans' index by `open_until` now includes the columns the ageing reads, so the
spans open on a day come from the index alone (SQLite keeps the plain index).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('collection_flow_month',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('fee_kind', sa.String(length=40), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('receivable', sa.BigInteger(), nullable=False),
    sa.Column('collected', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_collection_flow_month_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_collection_flow_month_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('project_id', 'period', 'building_id', 'issued_on', 'fee_kind', 'month', name=op.f('pk_collection_flow_month'))
    )
    with op.batch_alter_table('collection_flow', schema=None) as batch_op:
        batch_op.create_index('ix_collection_flow_project_id_day', ['project_id', 'day'], unique=False)
    with op.batch_alter_table('arrears_span', schema=None) as batch_op:
        batch_op.drop_index('ix_arrears_span_project_id_open_until')
        batch_op.create_index(
            'ix_arrears_span_project_id_open_until', ['project_id', 'open_until'], unique=False,
            postgresql_include=['open_from', 'unit_id', 'building_id', 'party_id', 'due_date', 'bill_id', 'balance'],
        )
    from billing.reports.facts import months_from_flows

    connection = op.get_bind()
    connection.execute(months_from_flows(connection.dialect.name))


def downgrade() -> None:
    with op.batch_alter_table('arrears_span', schema=None) as batch_op:
        batch_op.drop_index('ix_arrears_span_project_id_open_until')
        batch_op.create_index('ix_arrears_span_project_id_open_until', ['project_id', 'open_until'], unique=False)
    with op.batch_alter_table('collection_flow', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_flow_project_id_day')
    op.drop_table('collection_flow_month')
