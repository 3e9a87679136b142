"""billing: readings remember the run that billed them, late-fee policies in dated versions, project locale

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None

# The policy that existed before versions counts from the earliest day any bill can have been overdue.
_FIRST_VERSION_FROM = "1970-01-01"


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'locale', sa.Enum('ZH_CN', 'EN', name='project_locale', native_enum=False, create_constraint=True),
            server_default='ZH_CN', nullable=False,
        ))

    with op.batch_alter_table('meter_reading', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_in_run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_meter_reading_billed_in_run_id_bill_run'), 'bill_run', ['billed_in_run_id'], ['id'], ondelete='RESTRICT'
        )
    # Readings up to the end of a unit's billed periods count as billed by the first bill that ends after
    # them: before this revision, a month without a run was simply never charged, and charging all of that
    # history on the next bill would surprise everyone. From now on such months go on the next bill.
    read_on = 'date(meter_reading.read_at)' if op.get_context().dialect.name == 'sqlite' else 'CAST(meter_reading.read_at AS date)'
    op.execute(
        'UPDATE meter_reading SET billed_in_run_id = ('
        ' SELECT bill.run_id FROM bill'
        ' WHERE bill.unit_id = meter_reading.unit_id AND bill.period_end >= ' + read_on +
        ' ORDER BY bill.period_end LIMIT 1)'
    )

    op.create_table('late_fee_policy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('daily_rate', sa.BigInteger(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('cap_ratio', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cap_ratio IS NULL OR cap_ratio >= 0', name=op.f('ck_late_fee_policy_version_cap_ratio_non_negative')),
    sa.CheckConstraint('daily_rate >= 0', name=op.f('ck_late_fee_policy_version_daily_rate_non_negative')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_late_fee_policy_version_grace_days_non_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_late_fee_policy_version_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_late_fee_policy_version_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_fee_policy_version')),
    sa.UniqueConstraint('project_id', 'effective_from', name=op.f('uq_late_fee_policy_version_project_id_effective_from'))
    )
    op.execute(
        'INSERT INTO late_fee_policy_version (project_id, effective_from, daily_rate, grace_days, cap_ratio, created_at)'
        f" SELECT project_id, '{_FIRST_VERSION_FROM}', daily_rate, grace_days, cap_ratio, created_at FROM late_fee_policy"
    )
    op.drop_table('late_fee_policy')


def downgrade() -> None:
    op.create_table('late_fee_policy',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('daily_rate', sa.BigInteger(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('cap_ratio', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cap_ratio IS NULL OR cap_ratio >= 0', name=op.f('ck_late_fee_policy_cap_ratio_non_negative')),
    sa.CheckConstraint('daily_rate >= 0', name=op.f('ck_late_fee_policy_daily_rate_non_negative')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_late_fee_policy_grace_days_non_negative')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_late_fee_policy_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_late_fee_policy'))
    )
    # Only the latest version of each project survives a downgrade: the old table held one policy.
    op.execute(
        'INSERT INTO late_fee_policy (project_id, daily_rate, grace_days, cap_ratio, created_at)'
        ' SELECT v.project_id, v.daily_rate, v.grace_days, v.cap_ratio, v.created_at FROM late_fee_policy_version v'
        ' WHERE v.effective_from = (SELECT max(w.effective_from) FROM late_fee_policy_version w WHERE w.project_id = v.project_id)'
    )
    op.drop_table('late_fee_policy_version')
    with op.batch_alter_table('meter_reading', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_meter_reading_billed_in_run_id_bill_run'), type_='foreignkey')
        batch_op.drop_column('billed_in_run_id')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('locale')
