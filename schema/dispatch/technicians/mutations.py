"""Mutations of the technician roster: thin calls into `dispatch.technicians`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.models import Technician
from dispatch import technicians as roster
from schema.context import Info
from schema.dispatch.permissions import DISPATCHERS, TECHNICIAN_UPDATERS
from schema.dispatch.technicians.types import TechnicianType
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.permissions import require_principal
from schema.scalars import CategoryEnum
from schema.use_cases import run_mutation

__all__ = ["TechnicianMutations"]

CreateTechnicianResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "CreateTechnicianResult",
        description=(
            "What `createTechnician` answers: the Technician; BadUserInputError (`field` names the input at fault); "
            "NotFoundError (a project not yours); ConflictError."
        ),
    )
]
UpdateTechnicianResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "UpdateTechnicianResult",
        description=(
            "What `updateTechnician` answers: the Technician; BadUserInputError; NotFoundError (not yours to change); "
            "ConflictError."
        ),
    )
]


@strawberry.input(description="A new technician.")
class CreateTechnicianInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="Name as owners will see it.")
    skills: list[CategoryEnum] = strawberry.field(description="Categories they can handle.")
    home_latitude: float = strawberry.field(description="Home base latitude, degrees.")
    home_longitude: float = strawberry.field(description="Home base longitude, degrees.")
    capacity: int = strawberry.field(default=3, description="Open tickets they may hold at once; 3 unless given.")
    phone: str | None = strawberry.field(
        default=None, description="Mobile number (stored encrypted; owners see it masked)."
    )
    on_shift: bool = strawberry.field(default=True, description="Working now; true unless given.")


@strawberry.input(
    description=(
        "Changes to a technician; fields left out stay as they are. A technician may change only their own onShift and "
        "current position."
    ),
)
class UpdateTechnicianInput:
    id: strawberry.ID = strawberry.field(description="The technician.")
    name: str | None = strawberry.field(default=None, description="New name.")
    skills: list[CategoryEnum] | None = strawberry.field(default=None, description="New skills.")
    capacity: int | None = strawberry.field(default=None, description="New capacity.")
    on_shift: bool | None = strawberry.field(default=None, description="On or off shift.")
    phone: str | None = strawberry.field(default=None, description="New mobile number.")
    current_latitude: float | None = strawberry.field(default=None, description="Current position latitude, degrees.")
    current_longitude: float | None = strawberry.field(default=None, description="Current position longitude, degrees.")


@strawberry.type
class TechnicianMutations:
    @strawberry.mutation(
        permission_classes=DISPATCHERS, description="DISPATCHER or ADMIN: add a technician to the project's roster."
    )
    async def create_technician(
        self,
        info: Info,
        input: Annotated[CreateTechnicianInput, strawberry.argument(description="The new technician.")],
    ) -> CreateTechnicianResult:
        principal = await require_principal(info)

        async def create() -> Technician:
            return await roster.create_technician(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                skills=[skill.value for skill in input.skills],
                home_latitude=input.home_latitude,
                home_longitude=input.home_longitude,
                capacity=input.capacity,
                phone=input.phone,
                on_shift=input.on_shift,
            )

        return await run_mutation(create, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=TECHNICIAN_UPDATERS,
        description="TECHNICIAN, DISPATCHER, ADMIN: Dispatchers manage the roster; technicians may report their own shift and position.",
    )
    async def update_technician(
        self,
        info: Info,
        input: Annotated[UpdateTechnicianInput, strawberry.argument(description="What changes.")],
    ) -> UpdateTechnicianResult:
        principal = await require_principal(info)

        async def update() -> Technician:
            return await roster.update_technician(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
                technician_id=decode_id(input.id, "Technician", field="id"),
                name=input.name,
                skills=None if input.skills is None else [skill.value for skill in input.skills],
                capacity=input.capacity,
                on_shift=input.on_shift,
                phone=input.phone,
                current_latitude=input.current_latitude,
                current_longitude=input.current_longitude,
            )

        return await run_mutation(update, TechnicianType.from_row)
