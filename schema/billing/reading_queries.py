"""Queries of meter readings: those flagged for review."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from billing import readings
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.reading_types import MeterReadingType
from schema.context import Info
from schema.pagination import after_id, edges_and_page_info, page_size

__all__ = ["MeterReadingConnection", "ReadingQueries"]


@strawberry.type(name="MeterReadingConnection", description="A page of meter readings.")
class MeterReadingConnection(relay.Connection[MeterReadingType]):
    pass


@strawberry.type
class ReadingQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Readings whose usage exceeds 3× the trailing average.")
    async def flagged_readings(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> MeterReadingConnection:
        size, start_after = page_size(first), after_id(after)
        rows = await read_of_project(
            info,
            project_id,
            lambda principal, project: readings.list_flagged_readings(
                info.context.session_factory, principal, project_id=project, limit=size + 1, after_id=start_after
            ),
        )
        edges, page_info = edges_and_page_info(rows or [], size, MeterReadingType.from_row)
        return MeterReadingConnection(edges=edges, page_info=page_info)
