"""The dispatch domain's part of the root types, composed from its families (tickets, planning,
technicians, equipment, analytics) the way `schema.root` composes the domains."""

from __future__ import annotations

import strawberry

from schema.dispatch.analytics.queries import AnalyticsQueries
from schema.dispatch.equipment.mutations import EquipmentMutations
from schema.dispatch.equipment.queries import EquipmentQueries
from schema.dispatch.planning.mutations import PlanningMutations
from schema.dispatch.planning.queries import PlanningQueries
from schema.dispatch.routes.mutations import RouteMutations
from schema.dispatch.routes.queries import RouteQueries
from schema.dispatch.subscriptions import DispatchSubscriptions
from schema.dispatch.technicians.mutations import TechnicianMutations
from schema.dispatch.technicians.queries import TechnicianQueries
from schema.dispatch.tickets.mutations import TicketMutations
from schema.dispatch.tickets.queries import TicketQueries

__all__ = ["DispatchMutations", "DispatchQueries", "DispatchSubscriptions"]


@strawberry.type
class DispatchQueries(
    TechnicianQueries, TicketQueries, PlanningQueries, RouteQueries, EquipmentQueries, AnalyticsQueries
):
    pass


@strawberry.type
class DispatchMutations(TechnicianMutations, TicketMutations, PlanningMutations, RouteMutations, EquipmentMutations):
    pass
