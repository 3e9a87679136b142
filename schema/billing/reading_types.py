"""GraphQL type of a meter reading."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from db.models import MeterReading
from schema.billing.common import nodes_of_managed_charges, unit_of
from schema.context import Info
from schema.units.types import UnitType

__all__ = ["MeterReadingType"]


@strawberry.type(name="MeterReading", description="A meter reading of one unit.")
class MeterReadingType(relay.Node):
    id: relay.NodeID[int]
    meter_type: str = strawberry.field(description="Which meter (e.g. electricity, water).")
    reading: Decimal = strawberry.field(description="The meter's value (decimal string, in its unit, e.g. kWh).")
    read_at: dt.datetime = strawberry.field(description="When it was read (UTC).")
    usage: Decimal = strawberry.field(description="This reading minus the previous one (0 for a meter's first).")
    is_replacement: bool = strawberry.field(description="The first reading of a new meter that replaced the old one.")
    replacement_start_value: Decimal | None = strawberry.field(
        description="A replacement meter's value when fitted; usage counts from it."
    )
    flagged_for_review: bool = strawberry.field(description="Usage above three times the trailing average.")
    trailing_average: Decimal | None = strawberry.field(
        description="Mean usage of the previous six readings; null without history."
    )
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: MeterReading) -> MeterReadingType:
        return cls(
            id=row.id,
            meter_type=row.meter_type,
            reading=row.reading,
            read_at=row.read_at,
            usage=row.usage,
            is_replacement=row.is_replacement,
            replacement_start_value=row.replacement_start_value,
            flagged_for_review=row.flagged_for_review,
            trailing_average=row.trailing_average,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.meter_reading)
