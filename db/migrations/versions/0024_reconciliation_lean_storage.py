"""a match of one line and one payment holds them itself, and a settlement holds its channel days, not their
lines: a group's day of a million exact pairs wrote seven foreign-key checked rows per pair before

Revision ID: 0024
Revises: 0017
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0017'
branch_labels = None
depends_on = None

def _local_day(booked_at: dt.datetime | str, zone: str) -> dt.date:
    moment = dt.datetime.fromisoformat(booked_at) if isinstance(booked_at, str) else booked_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


_PAIR_COLUMNS = (
    ('line_id', 'statement_line', 'fk_reconciliation_match_line_id_statement_line'),
    ('payment_id', 'payment', 'fk_reconciliation_match_payment_id_payment'),
)


def _set_aside_what_names_matches(connection: sa.Connection) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Batch mode rebuilds reconciliation_match on SQLite and drops the old table, which with foreign keys on
    deletes its links (CASCADE) and fails on a resolved exception naming it (RESTRICT): the links and those
    names are read, taken away, and `_put_back` restores them after the rebuild."""
    links = [
        dict(row._mapping)
        for row in connection.execute(sa.text('SELECT match_id, line_id, payment_id, reversal_id FROM reconciliation_match_link'))
    ]
    named = [
        {'id': id_, 'match_id': match_id}
        for id_, match_id in connection.execute(
            sa.text('SELECT id, resolution_match_id FROM reconciliation_exception WHERE resolution_match_id IS NOT NULL')
        )
    ]
    connection.execute(sa.text('UPDATE reconciliation_exception SET resolution_match_id = NULL WHERE resolution_match_id IS NOT NULL'))
    connection.execute(sa.text('DELETE FROM reconciliation_match_link'))
    return links, named


def _put_back(connection: sa.Connection, links: list[dict[str, object]], named: list[dict[str, object]]) -> None:
    if links:
        columns = list(links[0])
        connection.execute(
            sa.text(f'INSERT INTO reconciliation_match_link ({", ".join(columns)}) VALUES ({", ".join(":" + c for c in columns)})'), links
        )
    if named:
        connection.execute(sa.text('UPDATE reconciliation_exception SET resolution_match_id = :match_id WHERE id = :id'), named)


def upgrade() -> None:
    connection = op.get_bind()
    # A settlement's line links become the local days of those lines, in each project's zone.
    settled = connection.execute(
        sa.text(
            'SELECT DISTINCT k.match_id, l.account_id, l.booked_at, p.timezone FROM reconciliation_match_link k'
            ' JOIN statement_line l ON l.id = k.line_id JOIN statement_account a ON a.id = l.account_id'
            ' JOIN project p ON p.id = a.project_id WHERE k.settles'
        )
    ).all()
    days = sorted({(match_id, account_id, _local_day(booked_at, zone)) for match_id, account_id, booked_at, zone in settled})
    connection.execute(sa.text('DELETE FROM reconciliation_match_link WHERE settles'))
    links, named = _set_aside_what_names_matches(connection)
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        for column, table, name in _PAIR_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(name, table, [column], ['id'], ondelete='RESTRICT')
        for column, _, _ in _PAIR_COLUMNS:
            batch_op.create_index(
                f'ux_reconciliation_match_{column.removesuffix("_id")}', [column], unique=True,
                sqlite_where=sa.text(f'{column} IS NOT NULL'), postgresql_where=sa.text(f'{column} IS NOT NULL'),
            )
    with op.batch_alter_table('reconciliation_match_link', schema=None) as batch_op:
        batch_op.drop_index('ux_match_link_owned_line')
        batch_op.drop_index('ux_match_link_settled_line')
        batch_op.drop_column('settles')
        batch_op.create_index(
            'ux_match_link_line', ['line_id'], unique=True,
            sqlite_where=sa.text('line_id IS NOT NULL'), postgresql_where=sa.text('line_id IS NOT NULL'),
        )
    op.create_table(
        'reconciliation_settled_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ['account_id'], ['statement_account.id'], name=op.f('fk_reconciliation_settled_day_account_id_statement_account'),
            ondelete='RESTRICT',
        ),
        sa.ForeignKeyConstraint(
            ['match_id'], ['reconciliation_match.id'], name=op.f('fk_reconciliation_settled_day_match_id_reconciliation_match'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_settled_day')),
        sa.UniqueConstraint('account_id', 'day', name=op.f('uq_reconciliation_settled_day_account_id_day')),
    )
    with op.batch_alter_table('reconciliation_settled_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_settled_day_match_id'), ['match_id'], unique=False)
    if days:
        connection.execute(
            sa.text('INSERT INTO reconciliation_settled_day (match_id, account_id, day) VALUES (:match_id, :account_id, :day)'),
            [{'match_id': match_id, 'account_id': account_id, 'day': day} for match_id, account_id, day in days],
        )
    _put_back(connection, links, named)


def downgrade() -> None:
    connection = op.get_bind()
    links, named = _set_aside_what_names_matches(connection)
    for link in links:
        link['settles'] = False
    links.extend(
        {'match_id': match_id, 'line_id': line, 'payment_id': payment, 'reversal_id': None, 'settles': False}
        for match_id, line_id, payment_id in connection.execute(
            sa.text('SELECT id, line_id, payment_id FROM reconciliation_match WHERE line_id IS NOT NULL')
        )
        for line, payment in ((line_id, None), (None, payment_id))
    )
    # A settled day's channel lines become the settlement's line links again.
    days = connection.execute(
        sa.text(
            'SELECT d.match_id, d.account_id, d.day, p.timezone FROM reconciliation_settled_day d'
            ' JOIN statement_account a ON a.id = d.account_id JOIN project p ON p.id = a.project_id'
        )
    ).all()
    for match_id, account_id, day, zone in days:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        start = dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).astimezone(dt.UTC)
        line_ids = connection.execute(
            sa.text(
                "SELECT id FROM statement_line WHERE account_id = :account AND kind IN ('PAYMENT', 'REFUND', 'FEE')"
                ' AND booked_at >= :start AND booked_at < :end'
            ),
            {'account': account_id, 'start': start, 'end': start + dt.timedelta(days=1)},
        ).scalars()
        links.extend(
            {'match_id': match_id, 'line_id': line_id, 'payment_id': None, 'reversal_id': None, 'settles': True} for line_id in line_ids
        )
    with op.batch_alter_table('reconciliation_settled_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_settled_day_match_id'))
    op.drop_table('reconciliation_settled_day')
    with op.batch_alter_table('reconciliation_match_link', schema=None) as batch_op:
        batch_op.drop_index('ux_match_link_line')
        batch_op.add_column(sa.Column('settles', sa.Boolean(), nullable=False))
        batch_op.create_index(
            'ux_match_link_owned_line', ['line_id'], unique=True,
            sqlite_where=sa.text('line_id IS NOT NULL AND settles = 0'), postgresql_where=sa.text('line_id IS NOT NULL AND NOT settles'),
        )
        batch_op.create_index(
            'ux_match_link_settled_line', ['line_id'], unique=True,
            sqlite_where=sa.text('line_id IS NOT NULL AND settles = 1'), postgresql_where=sa.text('line_id IS NOT NULL AND settles'),
        )
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        batch_op.drop_index('ux_reconciliation_match_payment')
        batch_op.drop_index('ux_reconciliation_match_line')
        for column, _, name in _PAIR_COLUMNS:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.drop_column(column)
    _put_back(connection, links, named)
