"""announcements: drafts, published announcements, their recipients and read receipts

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-06 14:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('announcement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'PUBLISHED', 'RECALLED', name='announcement_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('reminder_after_hours', sa.Integer(), nullable=False),
    sa.Column('reminder_limit', sa.Integer(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('read_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recalled_by', sa.Integer(), nullable=True),
    sa.Column('recalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recall_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('read_count >= 0 AND read_count <= recipient_count', name=op.f('ck_announcement_read_within_recipients')),
    sa.CheckConstraint('reminder_after_hours > 0', name=op.f('ck_announcement_reminder_after_positive')),
    sa.CheckConstraint('reminders_sent >= 0 AND reminders_sent <= reminder_limit', name=op.f('ck_announcement_reminders_within_limit')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_announcement_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_announcement_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['published_by'], ['app_user.id'], name=op.f('fk_announcement_published_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recalled_by'], ['app_user.id'], name=op.f('fk_announcement_recalled_by_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement'))
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index('ix_announcement_project_id_id', ['project_id', 'id'], unique=False)
        batch_op.create_index('ix_announcement_status_next_reminder_at', ['status', 'next_reminder_at'], unique=False)

    op.create_table('announcement_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('addressee', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], name=op.f('fk_announcement_recipient_announcement_id_announcement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_announcement_recipient_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['read_by'], ['app_user.id'], name=op.f('fk_announcement_recipient_read_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_announcement_recipient_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_recipient')),
    sa.UniqueConstraint('announcement_id', 'addressee', name=op.f('uq_announcement_recipient_announcement_id_addressee'))
    )
    with op.batch_alter_table('announcement_recipient', schema=None) as batch_op:
        batch_op.create_index('ix_announcement_recipient_addressee_announcement_id', ['addressee', 'announcement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('announcement_recipient', schema=None) as batch_op:
        batch_op.drop_index('ix_announcement_recipient_addressee_announcement_id')

    op.drop_table('announcement_recipient')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index('ix_announcement_status_next_reminder_at')
        batch_op.drop_index('ix_announcement_project_id_id')

    op.drop_table('announcement')
