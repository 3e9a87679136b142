"""tickets: ticket log with per-project seq, attachments, equipment ledger, classifier corrections, SLA emissions

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 14:53:06.654541
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_seq_counter',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_ticket_seq_counter_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_ticket_seq_counter'))
    )
    op.create_table('equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('LIFT', 'WATER_PUMP', 'FIRE_SYSTEM', 'GENERATOR', 'HVAC_PLANT', 'ACCESS_GATE', 'OTHER', name='equipment_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('serial_number', sa.String(length=100), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('install_date', sa.Date(), nullable=False),
    sa.Column('maintenance_interval_days', sa.Integer(), nullable=False),
    sa.Column('last_maintained_on', sa.Date(), nullable=True),
    sa.Column('next_due_on', sa.Date(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('maintenance_interval_days > 0', name=op.f('ck_equipment_interval_positive')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_equipment_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_equipment_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_equipment_project_id_name'))
    )
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_next_due_on', ['next_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_project_id'), ['project_id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('REPAIR', 'MAINTENANCE', name='ticket_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('location_kind', sa.Enum('UNIT', 'LOBBY', 'LIFT', 'CAR_PARK', 'CORRIDOR', 'STAIRWELL', 'GARDEN', 'ROOF', 'PLANT_ROOM', 'OTHER', name='location_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('location_detail', sa.String(length=200), nullable=True),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('reporter_party_id', sa.Integer(), nullable=True),
    sa.Column('filed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('PLUMBING', 'ELECTRICAL', 'HVAC', 'ELEVATOR', 'FIRE_SAFETY', 'LOCKSMITH', 'CLEANING', 'APPLIANCE', 'GENERAL', name='category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('priority', sa.Enum('URGENT', 'HIGH', 'NORMAL', 'LOW', name='priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('classifier_category', sa.Enum('PLUMBING', 'ELECTRICAL', 'HVAC', 'ELEVATOR', 'FIRE_SAFETY', 'LOCKSMITH', 'CLEANING', 'APPLIANCE', 'GENERAL', name='classifier_category', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('classifier_confidence', sa.Double(), nullable=True),
    sa.Column('classifier_evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('TRIAGE', 'NEW', 'ASSIGNED', 'ACCEPTED', 'ON_SITE', 'IN_PROGRESS', 'WAITING_FOR_OWNER', 'RESOLVED', 'CLOSED', 'REOPENED', 'CANCELLED', name='ticket_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('resumes_to', sa.Enum('TRIAGE', 'NEW', 'ASSIGNED', 'ACCEPTED', 'ON_SITE', 'IN_PROGRESS', 'WAITING_FOR_OWNER', 'RESOLVED', 'CLOSED', 'REOPENED', 'CANCELLED', name='resumes_to_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('preferred_technician_id', sa.Integer(), nullable=True),
    sa.Column('avoided_technician_id', sa.Integer(), nullable=True),
    sa.Column('last_dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('respond_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('on_site_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_warning_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_breach_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_breached', sa.Boolean(), nullable=False),
    sa.Column('sla_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_site_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(location_kind = 'UNIT' AND unit_id IS NOT NULL) OR (location_kind <> 'UNIT' AND unit_id IS NULL)", name=op.f('ck_ticket_unit_iff_unit_location')),
    sa.CheckConstraint('paused_seconds >= 0', name=op.f('ck_ticket_paused_seconds_not_negative')),
    sa.CheckConstraint('rating IS NULL OR (rating BETWEEN 1 AND 5)', name=op.f('ck_ticket_rating_range')),
    sa.ForeignKeyConstraint(['assignee_id'], ['technician.id'], name=op.f('fk_ticket_assignee_id_technician'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['avoided_technician_id'], ['technician.id'], name=op.f('fk_ticket_avoided_technician_id_technician'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_ticket_building_id_building'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_ticket_equipment_id_equipment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['filed_by_user_id'], ['app_user.id'], name=op.f('fk_ticket_filed_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['preferred_technician_id'], ['technician.id'], name=op.f('fk_ticket_preferred_technician_id_technician'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_ticket_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reporter_party_id'], ['party.id'], name=op.f('fk_ticket_reporter_party_id_party'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_ticket_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket'))
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index('ix_ticket_project_id_status', ['project_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_reporter_party_id'), ['reporter_party_id'], unique=False)
        batch_op.create_index('ix_ticket_sla_check_at', ['sla_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_unit_id'), ['unit_id'], unique=False)

    op.create_table('classifier_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('predicted_category', sa.Enum('PLUMBING', 'ELECTRICAL', 'HVAC', 'ELEVATOR', 'FIRE_SAFETY', 'LOCKSMITH', 'CLEANING', 'APPLIANCE', 'GENERAL', name='predicted_category', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('corrected_category', sa.Enum('PLUMBING', 'ELECTRICAL', 'HVAC', 'ELEVATOR', 'FIRE_SAFETY', 'LOCKSMITH', 'CLEANING', 'APPLIANCE', 'GENERAL', name='corrected_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('priority', sa.Enum('URGENT', 'HIGH', 'NORMAL', 'LOW', name='priority', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('corrected_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['corrected_by_user_id'], ['app_user.id'], name=op.f('fk_classifier_correction_corrected_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_classifier_correction_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_classifier_correction_ticket_id_ticket'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classifier_correction'))
    )
    with op.batch_alter_table('classifier_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classifier_correction_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classifier_correction_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('maintenance_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('technician_id', sa.Integer(), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_maintenance_record_equipment_id_equipment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['app_user.id'], name=op.f('fk_maintenance_record_recorded_by_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['technician_id'], ['technician.id'], name=op.f('fk_maintenance_record_technician_id_technician'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_maintenance_record_ticket_id_ticket'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_record')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_maintenance_record_ticket_id'))
    )
    with op.batch_alter_table('maintenance_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_record_equipment_id'), ['equipment_id'], unique=False)

    op.create_table('ticket_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('REPORT', 'RESOLUTION', name='attachment_stage', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('mime_type', sa.String(length=50), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('storage_path', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_ticket_attachment_size_positive')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_attachment_ticket_id_ticket'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['app_user.id'], name=op.f('fk_ticket_attachment_uploaded_by_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachment'))
    )
    with op.batch_alter_table('ticket_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_attachment_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_attachment_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.Enum('SUBMITTED', 'TRIAGED', 'ASSIGNED', 'REASSIGNED', 'UNASSIGNED', 'ESCALATED', 'ACCEPTED', 'REJECTED', 'CHECKED_IN', 'STARTED', 'WAITING_FOR_OWNER', 'RESUMED', 'RESOLVED', 'CLOSED', 'REOPENED', 'CANCELLED', 'SLA_WARNING', 'SLA_BREACHED', 'CATEGORY_CHANGED', 'PRIORITY_CHANGED', 'ATTACHMENT_ADDED', 'COMMENTED', name='ticket_event_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.Enum('ADMIN', 'DISPATCHER', 'TECHNICIAN', 'OWNER', 'SYSTEM', name='actor_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['app_user.id'], name=op.f('fk_ticket_event_actor_user_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_ticket_event_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_event_ticket_id_ticket'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_event')),
    sa.UniqueConstraint('project_id', 'seq', name=op.f('uq_ticket_event_project_id_seq'))
    )
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_event_ticket_id_seq', ['ticket_id', 'seq'], unique=False)

    op.create_table('sla_emission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('SUBMITTED', 'TRIAGED', 'ASSIGNED', 'REASSIGNED', 'UNASSIGNED', 'ESCALATED', 'ACCEPTED', 'REJECTED', 'CHECKED_IN', 'STARTED', 'WAITING_FOR_OWNER', 'RESUMED', 'RESOLVED', 'CLOSED', 'REOPENED', 'CANCELLED', 'SLA_WARNING', 'SLA_BREACHED', 'CATEGORY_CHANGED', 'PRIORITY_CHANGED', 'ATTACHMENT_ADDED', 'COMMENTED', name='sla_event_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('target', sa.Enum('RESPOND', 'ON_SITE', 'RESOLVE', name='sla_target', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('clock_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_event.id'], name=op.f('fk_sla_emission_event_id_ticket_event'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_sla_emission_ticket_id_ticket'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_emission')),
    sa.UniqueConstraint('ticket_id', 'kind', 'target', 'clock_started_at', name=op.f('uq_sla_emission_ticket_id_kind_target_clock_started_at'))
    )


def downgrade() -> None:
    op.drop_table('sla_emission')
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_event_ticket_id_seq')

    op.drop_table('ticket_event')
    with op.batch_alter_table('ticket_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_attachment_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_attachment_content_hash'))

    op.drop_table('ticket_attachment')
    with op.batch_alter_table('maintenance_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_record_equipment_id'))

    op.drop_table('maintenance_record')
    with op.batch_alter_table('classifier_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classifier_correction_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_classifier_correction_project_id'))

    op.drop_table('classifier_correction')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_unit_id'))
        batch_op.drop_index('ix_ticket_sla_check_at')
        batch_op.drop_index(batch_op.f('ix_ticket_reporter_party_id'))
        batch_op.drop_index('ix_ticket_project_id_status')
        batch_op.drop_index(batch_op.f('ix_ticket_equipment_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_building_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_assignee_id'))

    op.drop_table('ticket')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_project_id'))
        batch_op.drop_index('ix_equipment_next_due_on')

    op.drop_table('equipment')
    op.drop_table('ticket_seq_counter')
