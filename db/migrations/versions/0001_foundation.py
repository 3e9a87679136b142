"""foundation: property register, accounts, technicians

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 14:25:55.576355
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('name', name=op.f('uq_organization_name'))
    )
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_project_organization_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_project_organization_id_name'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_organization_id'), ['organization_id'], unique=False)

    op.create_table('building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('latitude IS NULL OR (latitude BETWEEN -90 AND 90)', name=op.f('ck_building_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR (longitude BETWEEN -180 AND 180)', name=op.f('ck_building_longitude_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_building_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_building_project_id_name'))
    )
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_building_project_id'), ['project_id'], unique=False)

    op.create_table('party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('party_type', sa.Enum('PERSON', 'COMPANY', name='party_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone_encrypted', sa.String(length=512), nullable=True),
    sa.Column('phone_lookup', sa.String(length=64), nullable=True),
    sa.Column('national_id_encrypted', sa.String(length=512), nullable=True),
    sa.Column('national_id_lookup', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_party_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party'))
    )
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_party_national_id_lookup'), ['national_id_lookup'], unique=False)
        batch_op.create_index(batch_op.f('ix_party_phone_lookup'), ['phone_lookup'], unique=False)
        batch_op.create_index(batch_op.f('ix_party_project_id'), ['project_id'], unique=False)

    op.create_table('technician',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone_encrypted', sa.String(length=512), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('home_latitude', sa.Double(), nullable=False),
    sa.Column('home_longitude', sa.Double(), nullable=False),
    sa.Column('current_latitude', sa.Double(), nullable=True),
    sa.Column('current_longitude', sa.Double(), nullable=True),
    sa.Column('on_shift', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_technician_capacity_positive')),
    sa.CheckConstraint('home_latitude BETWEEN -90 AND 90', name=op.f('ck_technician_home_latitude_range')),
    sa.CheckConstraint('home_longitude BETWEEN -180 AND 180', name=op.f('ck_technician_home_longitude_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_technician_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_technician'))
    )
    with op.batch_alter_table('technician', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_technician_project_id'), ['project_id'], unique=False)

    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('technician_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_app_user_party_id_party'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['technician_id'], ['technician.id'], name=op.f('fk_app_user_technician_id_technician'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('email', name=op.f('uq_app_user_email'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_user_technician_id'), ['technician_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=False),
    sa.Column('floor_area', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Enum('APARTMENT', 'SHOP', 'OFFICE', 'PARKING_SPACE', 'STORAGE', name='unit_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('occupancy_status', sa.Enum('SELF_OCCUPIED', 'RENTED', 'VACANT', 'UNDER_RENOVATION', name='occupancy_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('floor_area > 0', name=op.f('ck_unit_floor_area_positive')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_unit_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_unit_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('building_id', 'number', name=op.f('uq_unit_building_id_number'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_building_id'), ['building_id'], unique=False)
        batch_op.create_index('ix_unit_project_id_id', ['project_id', 'id'], unique=False)

    op.create_table('occupancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.Enum('OWNER', 'TENANT', name='occupancy_relation', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_occupancy_dates_ordered')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_occupancy_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_occupancy_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupancy'))
    )
    with op.batch_alter_table('occupancy', schema=None) as batch_op:
        batch_op.create_index('ix_occupancy_party_id_unit_id', ['party_id', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_occupancy_unit_id'), ['unit_id'], unique=False)

    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('ADMIN', 'FINANCE', 'DISPATCHER', 'TECHNICIAN', 'OWNER', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_role_grant_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_role_grant_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('user_id', 'project_id', 'role', name=op.f('uq_role_grant_user_id_project_id_role'))
    )
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grant_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_project_id'))

    op.drop_table('role_grant')
    with op.batch_alter_table('occupancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occupancy_unit_id'))
        batch_op.drop_index('ix_occupancy_party_id_unit_id')

    op.drop_table('occupancy')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_project_id_id')
        batch_op.drop_index(batch_op.f('ix_unit_building_id'))

    op.drop_table('unit')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_technician_id'))
        batch_op.drop_index(batch_op.f('ix_app_user_party_id'))

    op.drop_table('app_user')
    with op.batch_alter_table('technician', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technician_project_id'))

    op.drop_table('technician')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_project_id'))
        batch_op.drop_index(batch_op.f('ix_party_phone_lookup'))
        batch_op.drop_index(batch_op.f('ix_party_national_id_lookup'))
        batch_op.drop_index(batch_op.f('ix_party_name'))

    op.drop_table('party')
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_building_project_id'))

    op.drop_table('building')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_organization_id'))

    op.drop_table('project')
    op.drop_table('organization')
