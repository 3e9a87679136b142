"""the morning reports' facts: collection flows, settled residuals and arrears spans, filled from the books

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-06 19:30:00

On the reports' branch, after their indexes (0019). The writers keep these rows from now on
(`billing.reports.facts`); this fills them from each project's journal, allocations and bill lines as
`facts_discrepancies` recomputes them, project by project.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0019'
branch_labels = None
depends_on = None

_BATCH = 10_000


def upgrade() -> None:
    op.create_table('collection_flow',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('fee_kind', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('receivable', sa.BigInteger(), nullable=False),
    sa.Column('collected', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_collection_flow_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_collection_flow_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('project_id', 'period', 'building_id', 'issued_on', 'fee_kind', 'day', name=op.f('pk_collection_flow'))
    )
    op.create_table('settled_residual',
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('fee_kind', sa.String(length=40), nullable=False),
    sa.Column('settled_from', sa.Date(), nullable=False),
    sa.Column('settled_until', sa.Date(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_settled_residual_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_settled_residual_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_settled_residual_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('bill_id', 'fee_kind', 'settled_from', name=op.f('pk_settled_residual'))
    )
    with op.batch_alter_table('settled_residual', schema=None) as batch_op:
        batch_op.create_index('ix_settled_residual_project_id_period', ['project_id', 'period'], unique=False)
    op.create_table('arrears_span',
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('open_from', sa.Date(), nullable=False),
    sa.Column('open_until', sa.Date(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_arrears_span_bill_id_bill'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_arrears_span_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_arrears_span_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_arrears_span_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_arrears_span_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('bill_id', 'open_from', name=op.f('pk_arrears_span'))
    )
    with op.batch_alter_table('arrears_span', schema=None) as batch_op:
        batch_op.create_index('ix_arrears_span_project_id_open_until', ['project_id', 'open_until'], unique=False)
    _fill()


def _fill() -> None:
    from billing.reports.facts import history_rows, history_statements
    from db.models import ArrearsSpan, CollectionFlow, SettledResidual

    connection = op.get_bind()
    tables = {model.__tablename__: model.__table__ for model in (CollectionFlow, SettledResidual, ArrearsSpan)}
    for (project_id,) in connection.execute(sa.text("SELECT id FROM project ORDER BY id")).all():
        books = {name: connection.execute(statement).all() for name, statement in history_statements(project_id).items()}
        for name, rows in history_rows(project_id, books).items():
            for first in range(0, len(rows), _BATCH):
                connection.execute(tables[name].insert(), rows[first : first + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table('arrears_span', schema=None) as batch_op:
        batch_op.drop_index('ix_arrears_span_project_id_open_until')
    op.drop_table('arrears_span')
    with op.batch_alter_table('settled_residual', schema=None) as batch_op:
        batch_op.drop_index('ix_settled_residual_project_id_period')
    op.drop_table('settled_residual')
    op.drop_table('collection_flow')
