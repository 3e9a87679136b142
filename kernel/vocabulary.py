"""The enumerations stored in the database and reasoned about by the pure cores, each defined once.

Every enum is a `StrEnum` whose values are the upper-case member names, so the same values travel
unchanged through the database, GraphQL and event messages. Enums that only storage needs stay with
their models in `db.models`; enums that only one core needs stay in that core's `model` module.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ActorRole",
    "AnnouncementStatus",
    "BillLineKind",
    "BillStatus",
    "Category",
    "FeeRuleKind",
    "DeliveryStatus",
    "DunningEscalation",
    "InvoiceColour",
    "InvoiceStatus",
    "InvoiceType",
    "Locale",
    "MessageStatus",
    "NotificationChannel",
    "PartyType",
    "Priority",
    "SlaTarget",
    "TaxTreatment",
    "TicketEventType",
    "TicketStatus",
    "UnitKind",
]


# --- the property register -------------------------------------------------------------------------


class Locale(StrEnum):
    """The language a project speaks to its owners: explanations, receipts and their PDFs."""

    ZH_CN = "ZH_CN"
    EN = "EN"

    @property
    def tag(self) -> str:
        """The BCP 47 language tag: zh-CN, en."""
        return "zh-CN" if self is Locale.ZH_CN else "en"


class UnitKind(StrEnum):
    APARTMENT = "APARTMENT"
    SHOP = "SHOP"
    OFFICE = "OFFICE"
    PARKING_SPACE = "PARKING_SPACE"
    STORAGE = "STORAGE"


class PartyType(StrEnum):
    PERSON = "PERSON"
    COMPANY = "COMPANY"


# --- charging --------------------------------------------------------------------------------------


class FeeRuleKind(StrEnum):
    PER_AREA = "PER_AREA"
    FIXED = "FIXED"
    METERED_TIERED = "METERED_TIERED"
    APPORTIONED = "APPORTIONED"


class BillStatus(StrEnum):
    """Stored status; "overdue" is not a state but an unpaid bill past its due date."""

    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"


class DunningEscalation(StrEnum):
    """What a dunning level does beyond its message: nothing, or a follow-up for the finance desk to phone."""

    NONE = "NONE"
    PHONE_FOLLOW_UP = "PHONE_FOLLOW_UP"


class BillLineKind(StrEnum):
    """A charge is positive; discount and waiver lines are negative and follow the charge they reduce."""

    CHARGE = "CHARGE"
    DISCOUNT = "DISCOUNT"
    WAIVER = "WAIVER"


# --- invoicing -------------------------------------------------------------------------------------


class TaxTreatment(StrEnum):
    """How VAT is charged on a line: GENERAL (一般计税, output tax at the rate), SIMPLIFIED (简易计税, at a levy
    rate without input credit), EXEMPT (免税: no tax, printed as 免税)."""

    GENERAL = "GENERAL"
    SIMPLIFIED = "SIMPLIFIED"
    EXEMPT = "EXEMPT"


class InvoiceType(StrEnum):
    """NORMAL (普通发票, 普票) or SPECIAL (增值税专用发票, 专票: its buyer may credit the input tax; a company only)."""

    NORMAL = "NORMAL"
    SPECIAL = "SPECIAL"


class InvoiceColour(StrEnum):
    """BLUE issues an amount; RED (红字发票) takes back part or all of a blue invoice, which is never edited."""

    BLUE = "BLUE"
    RED = "RED"


class InvoiceStatus(StrEnum):
    """PENDING: requested, not yet issued; ISSUED: a tax document with its number, never changed again;
    FAILED: issuing was refused (the reason says why) and may be tried again; CANCELLED: never issued,
    because the payment was reversed first."""

    PENDING = "PENDING"
    ISSUED = "ISSUED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


# --- repair tickets --------------------------------------------------------------------------------


class TicketStatus(StrEnum):
    """Where a ticket stands; TRIAGE means the classifier was unsure and a dispatcher must categorise it."""

    TRIAGE = "TRIAGE"
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    ACCEPTED = "ACCEPTED"
    ON_SITE = "ON_SITE"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_FOR_OWNER = "WAITING_FOR_OWNER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    CANCELLED = "CANCELLED"


class ActorRole(StrEnum):
    """The capacity in which someone acts on a ticket; SYSTEM is Courtyard itself (auto-dispatch, SLA job)."""

    ADMIN = "ADMIN"
    DISPATCHER = "DISPATCHER"
    TECHNICIAN = "TECHNICIAN"
    OWNER = "OWNER"
    SYSTEM = "SYSTEM"


class Priority(StrEnum):
    """How soon a ticket must be handled; the classifier reads it from the text as the ticket's urgency."""

    URGENT = "URGENT"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"


class AbsenceReason(StrEnum):
    """Why a technician is off on a date their week says they work."""

    LEAVE = "LEAVE"  # 请假 / 年假
    SICK = "SICK"  # 病假
    OTHER = "OTHER"


class Category(StrEnum):
    """The trade a fault belongs to, which decides the skill a technician needs."""

    PLUMBING = "PLUMBING"
    ELECTRICAL = "ELECTRICAL"
    HVAC = "HVAC"
    ELEVATOR = "ELEVATOR"
    FIRE_SAFETY = "FIRE_SAFETY"
    LOCKSMITH = "LOCKSMITH"
    CLEANING = "CLEANING"
    APPLIANCE = "APPLIANCE"
    GENERAL = "GENERAL"


class TicketEventType(StrEnum):
    """Types of the append-only `TicketEvent` log (and of the live messages published from it)."""

    SUBMITTED = "SUBMITTED"
    TRIAGED = "TRIAGED"
    ASSIGNED = "ASSIGNED"
    REASSIGNED = "REASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    ESCALATED = "ESCALATED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CHECKED_IN = "CHECKED_IN"
    STARTED = "STARTED"
    WAITING_FOR_OWNER = "WAITING_FOR_OWNER"
    RESUMED = "RESUMED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    CANCELLED = "CANCELLED"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
    CATEGORY_CHANGED = "CATEGORY_CHANGED"
    PRIORITY_CHANGED = "PRIORITY_CHANGED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    COMMENTED = "COMMENTED"


class SlaTarget(StrEnum):
    """The three promises of a service level: RESPOND is met on ACCEPTED, ON_SITE on ON_SITE,
    RESOLVE on RESOLVED."""

    RESPOND = "RESPOND"
    ON_SITE = "ON_SITE"
    RESOLVE = "RESOLVE"


# --- notifications ---------------------------------------------------------------------------------


class NotificationChannel(StrEnum):
    """How a message reaches a person: the in-app inbox (live over the websocket), e-mail, SMS or a WeChat
    subscription message."""

    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    WECHAT = "WECHAT"


class MessageStatus(StrEnum):
    """Where a message of the outbox stands.

    QUEUED and THROTTLED wait for their `next_attempt_at` (THROTTLED: held back by quiet hours or a
    frequency cap, never dropped); SENT means a provider accepted it, DELIVERED that it reached the person
    (the in-app inbox, or a provider's receipt); FAILED that no channel could take it; DISABLED_BY_USER
    that the person turned off every channel it could use; CANCELLED that its sender withdrew it before it
    went out.
    """

    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    THROTTLED = "THROTTLED"
    DISABLED_BY_USER = "DISABLED_BY_USER"
    CANCELLED = "CANCELLED"


class DeliveryStatus(StrEnum):
    """One attempt at sending a message through one channel. SENDING is written before the provider is
    called: an attempt still SENDING after its relay stopped is resent with the same idempotency key."""

    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


# --- announcements ---------------------------------------------------------------------------------


class AnnouncementStatus(StrEnum):
    """A DRAFT is edited by its project's administrators and seen by no one else; PUBLISHED has reached its
    recipients (a snapshot taken at publishing); RECALLED is hidden from them again, its history kept."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    RECALLED = "RECALLED"
