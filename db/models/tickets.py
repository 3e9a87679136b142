"""Repair tickets, their append-only event log, attachments, and the equipment ledger.

The ticket vocabulary (status, category, priority, event type, actor role) is defined once, in the pure
`dispatch.model` module (standard library only), and stored here by value; the enums below are the ones
only storage needs.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, StrEnumColumn, UtcDateTime, created_at_column
from kernel.vocabulary import (
    ActorRole,
    Category,
    Priority,
    SlaTarget,
    TicketEventType,
    TicketStatus,
)

__all__ = [
    "AttachmentStage",
    "ClassifierCorrection",
    "Equipment",
    "EquipmentKind",
    "LocationKind",
    "MaintenanceRecord",
    "OwnerAvailability",
    "SlaEmission",
    "Ticket",
    "TicketAttachment",
    "TicketEvent",
    "TicketKind",
    "TicketSeqCounter",
    "VisitPin",
]

if TYPE_CHECKING:
    from db.models.property import Unit


class LocationKind(str, enum.Enum):
    """Where the fault is: an owner's unit, or a common area of the project."""

    UNIT = "UNIT"
    LOBBY = "LOBBY"
    LIFT = "LIFT"
    CAR_PARK = "CAR_PARK"
    CORRIDOR = "CORRIDOR"
    STAIRWELL = "STAIRWELL"
    GARDEN = "GARDEN"
    ROOF = "ROOF"
    PLANT_ROOM = "PLANT_ROOM"
    OTHER = "OTHER"


class TicketKind(str, enum.Enum):
    """REPAIR: reported by someone; MAINTENANCE: opened by Courtyard when equipment falls due."""

    REPAIR = "REPAIR"
    MAINTENANCE = "MAINTENANCE"


class AttachmentStage(str, enum.Enum):
    """REPORT: sent with the fault report; RESOLUTION: the technician's after-photos."""

    REPORT = "REPORT"
    RESOLUTION = "RESOLUTION"


class EquipmentKind(str, enum.Enum):
    LIFT = "LIFT"
    WATER_PUMP = "WATER_PUMP"
    FIRE_SYSTEM = "FIRE_SYSTEM"
    GENERATOR = "GENERATOR"
    HVAC_PLANT = "HVAC_PLANT"
    ACCESS_GATE = "ACCESS_GATE"
    OTHER = "OTHER"


class Equipment(Base):
    """A ledger entry for plant that needs regular maintenance; `next_due_on` drives the worker."""

    __tablename__ = "equipment"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("maintenance_interval_days > 0", name="interval_positive"),
        Index("ix_equipment_next_due_on", "next_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EquipmentKind] = mapped_column(StrEnumColumn(EquipmentKind, "equipment_kind"))
    model: Mapped[str | None] = mapped_column(String(200))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    install_date: Mapped[dt.date] = mapped_column(Date)
    maintenance_interval_days: Mapped[int]
    last_maintained_on: Mapped[dt.date | None] = mapped_column(Date)
    next_due_on: Mapped[dt.date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = created_at_column()


class Ticket(Base):
    """A repair or maintenance job. `version` is bumped once per change (optimistic locking); the SLA
    columns are kept current by the services and the SLA job, so lists filter on them in SQL."""

    __tablename__ = "ticket"
    __table_args__ = (
        CheckConstraint(
            "(location_kind = 'UNIT' AND unit_id IS NOT NULL) OR (location_kind <> 'UNIT' AND unit_id IS NULL)",
            name="unit_iff_unit_location",
        ),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        CheckConstraint("paused_seconds >= 0", name="paused_seconds_not_negative"),
        Index("ix_ticket_project_id_status", "project_id", "status"),
        Index("ix_ticket_sla_check_at", "sla_check_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    kind: Mapped[TicketKind] = mapped_column(StrEnumColumn(TicketKind, "ticket_kind"), default=TicketKind.REPAIR)
    location_kind: Mapped[LocationKind] = mapped_column(StrEnumColumn(LocationKind, "location_kind"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="RESTRICT"), index=True)
    location_detail: Mapped[str | None] = mapped_column(String(200))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id", ondelete="RESTRICT"), index=True)
    reporter_party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"), index=True)
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[Category] = mapped_column(StrEnumColumn(Category, "category"))
    priority: Mapped[Priority] = mapped_column(StrEnumColumn(Priority, "priority"))
    classifier_category: Mapped[Category | None] = mapped_column(StrEnumColumn(Category, "classifier_category"))
    classifier_confidence: Mapped[float | None]
    classifier_evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    classifier_priority: Mapped[Priority | None] = mapped_column(StrEnumColumn(Priority, "classifier_priority"))
    classifier_priority_evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[TicketStatus] = mapped_column(StrEnumColumn(TicketStatus, "ticket_status"))
    resumes_to: Mapped[TicketStatus | None] = mapped_column(StrEnumColumn(TicketStatus, "resumes_to_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id", ondelete="RESTRICT"), index=True)
    preferred_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id", ondelete="SET NULL"))
    avoided_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id", ondelete="SET NULL"))
    last_dispatched_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The promises, as of the last change: started at submission (or the last reopening).
    sla_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    respond_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    on_site_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    resolve_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # From these three the SLA state at any moment follows without reading the history:
    # BREACHED if `sla_breached` or `sla_breach_at` has passed, WARNING if `sla_warning_at` has passed.
    sla_warning_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    sla_breach_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    sla_breached: Mapped[bool] = mapped_column(default=False)
    # When the SLA job next has something to do for this ticket (an event falls due, or escalation).
    sla_check_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    paused_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    paused_seconds: Mapped[int] = mapped_column(default=0)
    # First time each milestone was reached (kept across reopening, for analytics).
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    on_site_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = created_at_column()
    version: Mapped[int] = mapped_column(default=1)

    # The services bump `version` themselves, once per change, and SQLAlchemy adds `WHERE version = …`
    # to every UPDATE, so a concurrent writer that read the same version fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    # Read with the ticket when a page of tickets shows its unit; never lazily.
    unit: Mapped[Unit | None] = relationship(lazy="raise", viewonly=True)


class TicketSeqCounter(Base):
    """The last `seq` handed out in a project. Incremented inside the transaction that writes the
    events, so its row lock (held until commit) makes commit order equal seq order."""

    __tablename__ = "ticket_seq_counter"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class TicketEvent(Base):
    """One entry of the append-only ticket log; `seq` increases per project in commit order."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        UniqueConstraint("project_id", "seq"),
        Index("ix_ticket_event_ticket_id_seq", "ticket_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[TicketEventType] = mapped_column(StrEnumColumn(TicketEventType, "ticket_event_type"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    actor_role: Mapped[ActorRole] = mapped_column(StrEnumColumn(ActorRole, "actor_role"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = created_at_column()


class TicketAttachment(Base):
    """A photo or short video; the file lives under the media directory at `storage_path`, named by hash."""

    __tablename__ = "ticket_attachment"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="RESTRICT"), index=True)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    stage: Mapped[AttachmentStage] = mapped_column(StrEnumColumn(AttachmentStage, "attachment_stage"))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    mime_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(String(200))
    storage_path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = created_at_column()


class MaintenanceRecord(Base):
    """Maintenance done on a piece of equipment, by a closed maintenance ticket or entered by staff."""

    __tablename__ = "maintenance_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="RESTRICT"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="RESTRICT"), unique=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id", ondelete="SET NULL"))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class ClassifierCorrection(Base):
    """A ticket whose category (or urgency) staff corrected: training data for the project's classifier."""

    __tablename__ = "classifier_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text)
    predicted_category: Mapped[Category | None] = mapped_column(StrEnumColumn(Category, "predicted_category"))
    corrected_category: Mapped[Category] = mapped_column(StrEnumColumn(Category, "corrected_category"))
    priority: Mapped[Priority | None] = mapped_column(StrEnumColumn(Priority, "priority"))
    corrected_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class SlaEmission(Base):
    """That an SLA event was emitted for one promise of one SLA cycle. The unique key is what keeps two
    workers (or a retried run) from emitting the same warning or breach twice."""

    __tablename__ = "sla_emission"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "target", "clock_started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="RESTRICT"))
    kind: Mapped[TicketEventType] = mapped_column(StrEnumColumn(TicketEventType, "sla_event_kind"))
    target: Mapped[SlaTarget] = mapped_column(StrEnumColumn(SlaTarget, "sla_target"))
    clock_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_event.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = created_at_column()


class VisitPin(Base):
    """A dispatcher's pin of a ticket's visit to a technician, and to a start time when given (day routes)."""

    __tablename__ = "visit_pin"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    pinned_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()


class OwnerAvailability(Base):
    """When the owner is there to let the technician in: the visit starts inside this window (day routes).
    Set by the owner when reporting or later, or by a dispatcher for them."""

    __tablename__ = "owner_availability"
    __table_args__ = (CheckConstraint("available_until > available_from", name="window_order"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    available_from: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    available_until: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at_column()
