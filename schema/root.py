"""The root types, composed from each domain's queries and mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.announcements.mutations import AnnouncementMutations
from schema.announcements.queries import AnnouncementQueries
from schema.announcements.subscriptions import AnnouncementSubscriptions
from schema.billing.mutations import BillingMutations
from schema.billing.queries import BillingQueries
from schema.context import Info
from schema.dispatch.schema import (
    DispatchMutations,
    DispatchQueries,
    DispatchSubscriptions,
)
from schema.notifications.mutations import NotificationMutations
from schema.notifications.queries import NotificationQueries
from schema.notifications.subscriptions import NotificationSubscriptions
from schema.invoicing.mutations import InvoicingMutations
from schema.invoicing.queries import InvoicingQueries
from schema.permissions import IsAuthenticated
from schema.units.mutations import UnitMutations
from schema.units.queries import UnitQueries

__all__ = ["Mutation", "Query", "Subscription"]


@strawberry.type(
    description="Everything to read. Every field needs a bearer token; lists leave out, and single objects answer "
    "null for, what your roles do not let you see."
)
class Query(
    AccountQueries,
    UnitQueries,
    DispatchQueries,
    BillingQueries,
    NotificationQueries,
    AnnouncementQueries,
    InvoicingQueries,
):
    # Written out rather than `relay.node(permission_classes=...)`: with a permission class, strawberry's
    # node field returns its inner coroutine unawaited.
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Any object by its global ID; null when it does not exist or you may not see it.",
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID, as any `id` field gives it.")],
    ) -> relay.Node | None:
        # Taken as a plain ID and decoded here: strawberry would refuse a malformed one with an error, and
        # Relay clients expect null for any ID that names nothing they may see.
        try:
            global_id = relay.GlobalID.from_id(id)
            node_type = global_id.resolve_type(info)
        except (relay.GlobalIDValueError, KeyError, TypeError, ValueError):
            return None
        resolved: relay.Node | None = await node_type.resolve_node(global_id.node_id, info=info)  # type: ignore[misc]
        return resolved


@strawberry.type(
    description="Everything that changes data. Each answers a `<Name>Result` union of its payload and typed errors "
    "(`... on Error { code message field }`); a failed mutation writes nothing. A role that may never call one "
    "gets a top-level FORBIDDEN error."
)
class Mutation(
    AccountMutations,
    UnitMutations,
    DispatchMutations,
    BillingMutations,
    NotificationMutations,
    AnnouncementMutations,
    InvoicingMutations,
):
    pass


@strawberry.type(
    description="Live ticket events, your notifications and announcement counters over the websocket at /graphql (graphql-transport-ws or "
    "graphql-ws), the token in connection_init. Pass the last seq you saw as afterSeq to replay what you missed, without "
    "gap or duplicate."
)
class Subscription(DispatchSubscriptions, NotificationSubscriptions, AnnouncementSubscriptions):
    pass
