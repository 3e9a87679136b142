"""Mutations of meter readings: one reading, or a CSV of them (all rows or none)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from billing import readings
from kernel.errors import BadInput
from schema.billing.common import FINANCE_ONLY, mutation_result
from schema.billing.reading_types import MeterReadingType
from schema.context import Info
from schema.errors import (
    BadUserInputError,
    ConflictError,
    ImportRejectedError,
    NotFoundError,
    error_result,
)
from schema.ids import decode_id
from schema.use_cases import run_for_caller

__all__ = ["ReadingMutations"]

MAX_IMPORT_BYTES = 10 * 1024 * 1024


@strawberry.input(description="One meter reading.")
class RecordMeterReadingInput:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    meter_type: str = strawberry.field(description="Which meter (e.g. electricity, water), as the fee rules name it.")
    reading: Decimal = strawberry.field(
        description="The meter's value (decimal string, not below the previous one unless isReplacement)."
    )
    read_at: dt.datetime = strawberry.field(description="When it was read (UTC timestamp).")
    is_replacement: bool = strawberry.field(
        default=False, description="The first reading of a new meter (give replacementStartValue)."
    )
    replacement_start_value: Decimal | None = strawberry.field(default=None, description="The new meter's start value.")


@strawberry.type(description="Meter readings imported.")
class ImportMeterReadingsPayload:
    imported: int = strawberry.field(description="Readings written.")
    flagged: int = strawberry.field(description="Of those, flagged for review (usage above 3× the trailing average).")


RecordMeterReadingResult = mutation_result(MeterReadingType, "RecordMeterReadingResult")
ImportMeterReadingsResult = Annotated[
    ImportMeterReadingsPayload | ImportRejectedError | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union(
        "ImportMeterReadingsResult",
        description=(
            "What `importMeterReadings` answers: ImportMeterReadingsPayload; ImportRejectedError with every bad row "
            "(nothing written); BadUserInputError; NotFoundError."
        ),
    ),
]


@strawberry.type
class ReadingMutations:
    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE or ADMIN: record one meter reading; readings far above the trailing average are flagged for "
            "review."
        ),
    )
    async def record_meter_reading(
        self,
        info: Info,
        input: Annotated[RecordMeterReadingInput, strawberry.argument(description="The reading.")],
    ) -> RecordMeterReadingResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: readings.record_reading(
                info.context.session_factory,
                principal,
                reading=readings.ReadingInput(
                    unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                    meter_type=input.meter_type,
                    reading=input.reading,
                    read_at=input.read_at,
                    is_replacement=input.is_replacement,
                    replacement_start_value=input.replacement_start_value,
                ),
            ),
            MeterReadingType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Import readings from CSV (building, unit, meter_type, reading, read_at[, replacement_start_value]): all rows or none.",
    )
    async def import_meter_readings(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        file: Annotated[Upload, strawberry.argument(description="The CSV file, as a GraphQL multipart upload.")],
    ) -> ImportMeterReadingsResult:
        content = await file.read()  # type: ignore[attr-defined]
        if len(content) > MAX_IMPORT_BYTES:
            return error_result(BadInput(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.", field="file"))
        return await run_for_caller(
            info,
            lambda principal: readings.import_readings(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                content=content,
            ),
            lambda summary: ImportMeterReadingsPayload(imported=summary.imported, flagged=summary.flagged),
        )
