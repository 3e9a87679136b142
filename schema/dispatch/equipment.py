"""Equipment ledger and dispatch analytics: queries and mutations (thin calls into `dispatch`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy import select

from db.models import Equipment
from dispatch import analytics
from dispatch import equipment as ledger
from kernel.errors import AccessDenied, NotFound
from kernel.principal import Role
from schema.context import Info
from schema.dispatch.enums import EquipmentKindEnum
from schema.dispatch.ticket_types import (
    EquipmentType,
    MaintenanceRecordType,
    TechnicianType,
)
from schema.errors import BadUserInputError, NotFoundError, run_in_transaction
from schema.ids import decode_id, decode_optional_id
from schema.permissions import IsAuthenticated, require_principal, requires_role

__all__ = ["AnalyticsQueries", "EquipmentMutations", "EquipmentQueries"]

CreateEquipmentResult = Annotated[
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union("CreateEquipmentResult")
]
UpdateEquipmentResult = Annotated[
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union("UpdateEquipmentResult")
]
RecordMaintenanceResult = Annotated[
    MaintenanceRecordType | BadUserInputError | NotFoundError, strawberry.union("RecordMaintenanceResult")
]
LEDGER = [IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER)]

AnalyticsPeriodEnum = strawberry.enum(analytics.AnalyticsPeriod, name="AnalyticsPeriod")
DEFAULT_ANALYTICS_DAYS = 30


@strawberry.input
class CreateEquipmentInput:
    project_id: strawberry.ID
    name: str
    kind: EquipmentKindEnum
    install_date: dt.date
    maintenance_interval_days: int
    building_id: strawberry.ID | None = None
    model: str | None = None
    serial_number: str | None = None
    location: str | None = None
    last_maintained_on: dt.date | None = None


@strawberry.input
class UpdateEquipmentInput:
    id: strawberry.ID
    name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    location: str | None = None
    building_id: strawberry.ID | None = None
    maintenance_interval_days: int | None = None
    next_due_on: dt.date | None = None
    is_active: bool | None = None


@strawberry.input
class RecordMaintenanceInput:
    equipment_id: strawberry.ID
    performed_on: dt.date
    notes: str | None = None
    technician_id: strawberry.ID | None = None


@strawberry.type
class EquipmentQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER, Role.FINANCE, Role.TECHNICIAN)],
        description="The project's equipment ledger, soonest due first.",
    )
    async def equipment(self, info: Info, project_id: strawberry.ID) -> list[EquipmentType]:
        principal = await require_principal(info)
        try:
            project = decode_id(project_id, "Project", field="projectId")
        except NotFound:
            return []
        if not principal.has_role(project, Role.ADMIN, Role.DISPATCHER, Role.FINANCE, Role.TECHNICIAN):
            return []
        async with info.context.session_factory() as session:
            rows = (
                await session.scalars(
                    select(Equipment)
                    .where(Equipment.project_id == project)
                    .order_by(Equipment.next_due_on, Equipment.id)
                )
            ).all()
        return [EquipmentType.from_row(row) for row in rows]


@strawberry.type
class EquipmentMutations:
    @strawberry.mutation(permission_classes=LEDGER, description="Add plant to the maintenance ledger.")
    async def create_equipment(self, info: Info, input: CreateEquipmentInput) -> CreateEquipmentResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda session: ledger.create_equipment(
                session,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                kind=input.kind,
                install_date=input.install_date,
                maintenance_interval_days=input.maintenance_interval_days,
                building_id=decode_optional_id(input.building_id, "Building", field="buildingId"),
                model=input.model,
                serial_number=input.serial_number,
                location=input.location,
                last_maintained_on=input.last_maintained_on,
            ),
            EquipmentType.from_row,
        )

    @strawberry.mutation(permission_classes=LEDGER)
    async def update_equipment(self, info: Info, input: UpdateEquipmentInput) -> UpdateEquipmentResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda session: ledger.update_equipment(
                session,
                principal,
                equipment_id=decode_id(input.id, "Equipment", field="id"),
                name=input.name,
                model=input.model,
                serial_number=input.serial_number,
                location=input.location,
                building_id=decode_optional_id(input.building_id, "Building", field="buildingId"),
                maintenance_interval_days=input.maintenance_interval_days,
                next_due_on=input.next_due_on,
                is_active=input.is_active,
            ),
            EquipmentType.from_row,
        )

    @strawberry.mutation(
        permission_classes=LEDGER, description="Record maintenance done outside a ticket (an inspection, a contractor)."
    )
    async def record_maintenance(self, info: Info, input: RecordMaintenanceInput) -> RecordMaintenanceResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda session: ledger.record_maintenance(
                session,
                principal,
                equipment_id=decode_id(input.equipment_id, "Equipment", field="equipmentId"),
                performed_on=input.performed_on,
                today=info.context.now().date(),
                notes=input.notes,
                technician_id=decode_optional_id(input.technician_id, "Technician", field="technicianId"),
            ),
            MaintenanceRecordType.from_row,
        )


@strawberry.type(name="CountByKey")
class CountByKeyType:
    key: str
    count: int


@strawberry.type(name="Durations", description="Minutes from submission, over the tickets that got that far.")
class DurationsType:
    count: int
    mean_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, value: analytics.Durations) -> DurationsType:
        return cls(count=value.count, mean_minutes=value.mean_minutes, p90_minutes=value.p90_minutes)


@strawberry.type(name="TechnicianPerformance")
class TechnicianPerformanceType:
    tickets: int
    resolved: int
    time_to_accept: DurationsType
    time_to_arrive: DurationsType
    time_to_resolve: DurationsType
    average_rating: float | None
    ratings: int
    technician_pk: strawberry.Private[int]

    @strawberry.field
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="DispatchAnalytics")
class DispatchAnalyticsType:
    ticket_count: int
    by_category: list[CountByKeyType]
    by_building: list[CountByKeyType]
    by_period: list[CountByKeyType]
    time_to_accept: DurationsType
    time_to_arrive: DurationsType
    time_to_resolve: DurationsType
    sla_judged: int = strawberry.field(description="Tickets resolved or closed, plus open ones already breached.")
    sla_met: int = strawberry.field(description="Judged tickets resolved with no promise broken.")
    sla_compliance_rate: float | None
    technicians: list[TechnicianPerformanceType]
    fault_sites: list[CountByKeyType] = strawberry.field(description="Where faults were reported most often.")

    @classmethod
    def of(cls, report: analytics.DispatchAnalytics) -> DispatchAnalyticsType:
        def counts(items: tuple[tuple[str, int], ...]) -> list[CountByKeyType]:
            return [CountByKeyType(key=key, count=count) for key, count in items]

        return cls(
            ticket_count=report.ticket_count,
            by_category=counts(report.by_category),
            by_building=counts(report.by_building),
            by_period=counts(report.by_period),
            time_to_accept=DurationsType.of(report.time_to_accept),
            time_to_arrive=DurationsType.of(report.time_to_arrive),
            time_to_resolve=DurationsType.of(report.time_to_resolve),
            sla_judged=report.sla_judged,
            sla_met=report.sla_met,
            sla_compliance_rate=report.sla_compliance_rate,
            technicians=[
                TechnicianPerformanceType(
                    tickets=item.tickets,
                    resolved=item.resolved,
                    time_to_accept=DurationsType.of(item.time_to_accept),
                    time_to_arrive=DurationsType.of(item.time_to_arrive),
                    time_to_resolve=DurationsType.of(item.time_to_resolve),
                    average_rating=item.average_rating,
                    ratings=item.ratings,
                    technician_pk=item.technician_id,
                )
                for item in report.technicians
            ],
            fault_sites=[CountByKeyType(key=site.site, count=site.count) for site in report.fault_sites],
        )


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER)],
        description="Tickets submitted in [from, to) (default: the last 30 days): volumes, times, SLA, technicians.",
    )
    async def dispatch_analytics(
        self,
        info: Info,
        project_id: strawberry.ID,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
        period: AnalyticsPeriodEnum = analytics.AnalyticsPeriod.DAY,  # type: ignore[valid-type]
    ) -> DispatchAnalyticsType | None:
        principal = await require_principal(info)
        until = to or info.context.now()
        since = from_ or until - dt.timedelta(days=DEFAULT_ANALYTICS_DAYS)
        async with info.context.session_factory() as session:
            try:
                project = decode_id(project_id, "Project", field="projectId")
                report = await analytics.dispatch_analytics(
                    session,
                    principal,
                    project_id=project,
                    since=since,
                    until=until,
                    period=analytics.AnalyticsPeriod(period),
                )
            except (NotFound, AccessDenied):
                return None
        return DispatchAnalyticsType.of(report)
