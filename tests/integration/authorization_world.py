"""The world the authorization table runs in: one caller per role, and for every kind of object three
targets seen from those callers — their own, someone else's in the same project, another project's.

Callers (all in Lakeside): admin_a (ADMIN), finance_a (FINANCE), dispatcher_a (DISPATCHER), tech_a
(TECHNICIAN, 陈师傅) and alice (OWNER of unit A1-101), plus an anonymous caller.

Targets, named `<Kind>:own`, `<Kind>:other` and `<Kind>:foreign` in `ids`:
- own: alice's (her unit, party, occupancy, bills, payments, receipts, tickets) and tech_a's (himself,
  and alice's ticket, which he has accepted). For staff roles own and other are both objects of their
  project; the difference matters to owners and technicians.
- other: bob's in Lakeside (unit A1-102; his ticket is with 吴师傅 / tech_hvac).
- foreign: carol's in Hillside (unit B1-101; her ticket is with 刘师傅 / tech_b).
Dunning: August is billed in both projects and long overdue, so a pass hands every owner's account to the
finance desk to phone (`DunningNotice:*` are those follow-ups, and the work queues list the accounts).

Project-wide objects (fee rules, discount rules, bill runs, equipment) have two of their own in Lakeside
(own, other) and one in Hillside (foreign); `Project:own` and `Project:other` are both Lakeside.
Both projects have a tax configuration; `Invoice:<ownership>` is the invoice of `Payment:<ownership>`,
`InvoiceTitle:<ownership>` a title kept by alice, bob or carol, and `InvoiceBatch` a project-wide object.

Everything past the register is made through the API by those who may (finance_a, dispatcher_a,
admin_a for Lakeside, admin_b for Hillside), so the objects are what real requests produce. Operations
that use their target up (a transition, a refund, a revision) get a fresh one from the `fresh_*`
factories, or one an earlier refused call left untouched.
"""

from __future__ import annotations

import itertools
import datetime as dt
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from starlette.applications import Starlette
from strawberry import relay

from api.app import create_app
from api.settings import Settings
from api.state import AppState
from billing.dunning.passes import run_dunning
from billing.runs import run_billing
from db.models import (
    DailyClose,
    DunningNotice,
    OccupancyStatus,
    Party,
    PaymentChannel,
    ReconciliationException,
    ReconciliationMatch,
    ReconciliationRule,
    RoleGrant,
    StatementAccount,
    StatementAccountKind,
    Unit,
    User,
)
from db.unit_of_work import unit_of_work
from kernel.principal import Role
from kernel.vocabulary import NotificationChannel, UnitKind
from notifications.channels import InAppSender
from notifications.kinds import MessageKind
from notifications.outbox import enqueue
from notifications.relay import relay_once
from tests.conftest import TEST_SECRET, Clock, PostgresServer, _empty_postgres, missing_service
from tests.integration.dispatch_world import build_dispatch_world
from tests.integration.world import _PASSWORD_HASH, PASSWORD, World, gql

__all__ = [
    "BILLING_PERIOD",
    "CALLERS",
    "OWNERSHIPS",
    "PASSWORD",
    "ROLES",
    "AuthorizationWorld",
    "build_authorization_world",
    "multipart",
    "readings_csv",
    "serve_authorization_world",
]

ROLES: Final = ("ADMIN", "FINANCE", "DISPATCHER", "TECHNICIAN", "OWNER", "ANONYMOUS")
OWNERSHIPS: Final = ("own", "other", "foreign")
CALLERS: Final[dict[str, str | None]] = {
    "ADMIN": "admin_a",
    "FINANCE": "finance_a",
    "DISPATCHER": "dispatcher_a",
    "TECHNICIAN": "tech_a",
    "OWNER": "alice",
    "ANONYMOUS": None,
}
BILLING_PERIOD: Final = "2026-10"
JPEG: Final = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4

# Who acts for each ownership when a target is made: the reporting owner, the technician who holds
# the ticket, and the staff who manage the project (Hillside has only its admin).
_REPORTER = {"own": "alice", "other": "bob", "foreign": "carol"}
_TECHNICIAN = {"own": "tech_a", "other": "tech_hvac", "foreign": "tech_b"}
_TECHNICIAN_ROW = {"own": "Technician:a", "other": "Technician:hvac", "foreign": "Technician:b"}
_UNIT_ROW = {"own": "Unit:alice", "other": "Unit:bob", "foreign": "Unit:carol"}
_PROJECT_ROW = {"own": "Project:lakeside", "other": "Project:lakeside", "foreign": "Project:hillside"}
_FINANCE = {"own": "finance_a", "other": "finance_a", "foreign": "admin_b"}
_DISPATCHER = {"own": "dispatcher_a", "other": "dispatcher_a", "foreign": "admin_b"}
_ADMIN = {"own": "admin_a", "other": "admin_a", "foreign": "admin_b"}

RESULT = "{ __typename ... on Error { code message field } }"


@dataclass
class AuthorizationWorld:
    """The test world, its HTTP client, and what the table's probes need to aim at each target."""

    world: World
    app: Starlette
    client: httpx.AsyncClient
    receipts: dict[str, dict[str, str]] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # Fresh targets handed out since `begin_cell`, and those a refusal left untouched, for the next cell.
    _taken: list[tuple[Hashable, str]] = field(default_factory=list)
    _unspent: dict[Hashable, list[str]] = field(default_factory=dict)

    @property
    def state(self) -> AppState:
        return self.world.state

    def token(self, user: str | None) -> str | None:
        return None if user is None else self.world.token(user)

    def gid(self, kind: str, ownership: str) -> str:
        return self.world.gid(f"{kind}:{ownership}")

    def pk(self, kind: str, ownership: str) -> int:
        return self.world.ids[f"{kind}:{ownership}"]

    def serial(self) -> int:
        """A number no other call has had: for names and keys that must be unique."""
        return next(self._serial)

    async def call(self, user: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A setup request that must succeed; answers its root field's value."""
        result = await gql(self.client, document, variables, token=self.world.token(user))
        assert "errors" not in result, result
        (value,) = result["data"].values()
        assert value.get("code") is None, (document, variables, value)
        return value  # type: ignore[no-any-return]

    # --- fresh targets, for operations that use theirs up ------------------------------------------

    def begin_cell(self) -> None:
        self._taken.clear()

    def give_back(self) -> None:
        """The cell was refused and wrote nothing: its fresh targets are as good as new."""
        for kind, target in self._taken:
            self._unspent.setdefault(kind, []).append(target)
        self._taken.clear()

    async def _fresh(self, kind: Hashable, make: Callable[[], Awaitable[str]]) -> str:
        unspent = self._unspent.get(kind)
        target = unspent.pop() if unspent else await make()
        self._taken.append((kind, target))
        return target

    async def fresh_ticket(self, ownership: str, *, assigned: bool) -> str:
        """A ticket on the target unit reported by its owner; NEW, or ASSIGNED to the target technician."""
        return await self._fresh(("ticket", ownership, assigned), lambda: self._new_ticket(ownership, assigned=assigned))

    async def fresh_fee_rule(self, ownership: str) -> str:
        return await self._fresh(("fee rule", ownership), lambda: self._new_fee_rule(ownership))

    async def fresh_announcement(self, ownership: str, *, published: bool) -> str:
        """A draft announcement to the target unit's residents, written by its project's admin; or that,
        published."""
        return await self._fresh(
            ("announcement", ownership, published), lambda: self._new_announcement(ownership, published=published)
        )
    async def fresh_invoice_title(self, ownership: str) -> str:
        """A title kept by the target's owner (alice, bob, carol)."""
        return await self._fresh(("invoice title", ownership), lambda: self._new_invoice_title(ownership))

    async def fresh_payment(self, ownership: str, *, with_credit: bool) -> str:
        """A payment on the target unit (1.00 towards its bill), or with credit left to refund: 50.00 on a
        unit that has no bills (the project's shop)."""
        return await self._fresh(
            ("payment", ownership, with_credit), lambda: self._new_payment(ownership, with_credit=with_credit)
        )

    async def _new_ticket(self, ownership: str, *, assigned: bool) -> str:
        ticket = await self.call(
            _REPORTER[ownership],
            SUBMIT,
            {"input": {"unitId": self.world.gid(_UNIT_ROW[ownership]), "description": "水龙头漏水", "category": "PLUMBING"}},
        )
        if assigned:
            await self.call(
                _DISPATCHER[ownership],
                ASSIGN,
                {"ticket": ticket["id"], "technician": self.world.gid(_TECHNICIAN_ROW[ownership])},
            )
        return str(ticket["id"])

    async def _new_announcement(self, ownership: str, *, published: bool) -> str:
        admin = _ADMIN[ownership]
        created = await self.call(
            admin,
            CREATE_ANNOUNCEMENT,
            {
                "input": {
                    "projectId": self.world.gid(_PROJECT_ROW[ownership]),
                    "title": f"停水通知 {self.serial()}",
                    "body": "明日 9:00–17:00 停水。",
                    "audience": {"unitIds": [self.world.gid(_UNIT_ROW[ownership])]},
                }
            },
        )
        if published:
            await self.call(admin, PUBLISH_ANNOUNCEMENT, {"id": created["id"]})
        return str(created["id"])

    async def _new_fee_rule(self, ownership: str) -> str:
        rule = await self.call(
            _FINANCE[ownership],
            CREATE_FEE_RULE,
            {"input": _fixed_rule(self.world.gid(_PROJECT_ROW[ownership]), f"FRESH{self.serial()}")},
        )
        return str(rule["id"])

    async def _new_invoice_title(self, ownership: str) -> str:
        title = await self.call(
            _REPORTER[ownership], CREATE_INVOICE_TITLE, {"input": {"kind": "PERSON", "name": f"抬头{self.serial()}"}}
        )
        return str(title["id"])

    async def _new_payment(self, ownership: str, *, with_credit: bool) -> str:
        unit = ("Unit:shop" if ownership != "foreign" else "Unit:hillside_shop") if with_credit else _UNIT_ROW[ownership]
        payment = await self.call(
            _FINANCE[ownership],
            RECORD_PAYMENT,
            {"input": _payment_input(self.world.gid(unit), "50.00" if with_credit else "1.00", f"fresh-{self.serial()}")},
        )
        return str(payment["id"])


SUBMIT = "mutation ($input: SubmitTicketInput!) { submitTicket(input: $input) { __typename ... on Ticket { id } ... on Error { code message } } }"
ASSIGN = f"mutation ($ticket: ID!, $technician: ID!) {{ assignTicket(ticketId: $ticket, technicianId: $technician) {RESULT} }}"
ACCEPT = f"mutation ($ticket: ID!) {{ transitionTicket(ticketId: $ticket, action: ACCEPT) {RESULT} }}"
CREATE_FEE_RULE = (
    "mutation ($input: CreateFeeRuleInput!) { createFeeRule(input: $input) "
    "{ __typename ... on FeeRule { id } ... on Error { code message field } } }"
)
RECORD_PAYMENT = (
    "mutation ($input: RecordPaymentInput!) { recordPayment(input: $input) "
    "{ __typename ... on Payment { id receipt { id content signature } } ... on Error { code message field } } }"
)
UPDATE_DISPATCH_SETTINGS = (
    f"mutation ($input: UpdateDispatchSettingsInput!) {{ updateDispatchSettings(input: $input) {RESULT} }}"
)
CREATE_DISCOUNT_RULE = (
    "mutation ($input: CreateDiscountRuleInput!) { createDiscountRule(input: $input) "
    "{ __typename ... on DiscountRule { id } ... on Error { code message field } } }"
)
CREATE_WAIVER = (
    "mutation ($input: CreateWaiverInput!) { createWaiver(input: $input) "
    "{ __typename ... on Waiver { id } ... on Error { code message field } } }"
)
RUN_BILLING = (
    "mutation ($project: ID!, $period: String!) { runBilling(projectId: $project, period: $period, dryRun: false) "
    "{ __typename ... on BillRun { id } ... on Error { code message field } } }"
)
BILLS = "query ($project: ID!) { bills(filter: {projectId: $project}) { edges { node { id unit { id } } } } }"
FLAGGED = "query ($project: ID!) { flaggedReadings(projectId: $project) { edges { node { id unit { id } } } } }"
CREATE_ADJUSTMENT = (
    "mutation ($input: CreateAdjustmentInput!) { createAdjustment(input: $input) "
    "{ __typename ... on Adjustment { id } ... on Error { code message field } } }"
)
CREATE_INTENT = (
    "mutation ($bills: [ID!]!) { createPaymentIntent(billIds: $bills, channel: WECHAT) "
    "{ __typename ... on PaymentIntent { id } ... on Error { code message field } } }"
)
CREATE_EQUIPMENT = (
    "mutation ($input: CreateEquipmentInput!) { createEquipment(input: $input) "
    "{ __typename ... on Equipment { id } ... on Error { code message field } } }"
)
IMPORT_READINGS = (
    f"mutation ($project: ID!, $file: Upload!) {{ importMeterReadings(projectId: $project, file: $file) {RESULT} }}"
)
CREATE_ANNOUNCEMENT = (
    "mutation ($input: CreateAnnouncementInput!) { createAnnouncement(input: $input) "
    "{ __typename ... on Announcement { id } ... on Error { code message field } } }"
)
PUBLISH_ANNOUNCEMENT = f"mutation ($id: ID!) {{ publishAnnouncement(id: $id) {RESULT} }}"
ATTACHMENTS = "query ($id: ID!) { node(id: $id) { ... on Ticket { attachments { id } } } }"
SET_INVOICE_SELLER = f"mutation ($input: SetInvoiceSellerInput!) {{ setInvoiceSeller(input: $input) {RESULT} }}"
SET_TAX_MAPPING = f"mutation ($input: SetTaxMappingInput!) {{ setTaxMapping(input: $input) {RESULT} }}"
CREATE_INVOICE_TITLE = (
    "mutation ($input: InvoiceTitleInput!) { createInvoiceTitle(input: $input) "
    "{ __typename ... on InvoiceTitle { id } ... on Error { code message field } } }"
)
ISSUE_INVOICE_BATCH = (
    "mutation ($input: IssueInvoiceBatchInput!) { issueInvoiceBatch(input: $input) "
    "{ __typename ... on InvoiceBatch { id } ... on Error { code message field } } }"
)
REQUEST_INVOICE = (
    "mutation ($input: RequestInvoiceInput!) { requestInvoice(input: $input) "
    "{ __typename ... on Invoice { id status } ... on Error { code message field } } }"
)
# Sample 税收分类编码 and rates: the fee rules of the world invoiced as property services at 6%.
INVOICED_FEE_KINDS = {"lakeside": ("PROPERTY", "WATER", "LATE_FEE", "PREPAYMENT"), "hillside": ("PROPERTY", "LATE_FEE", "PREPAYMENT")}


def _fixed_rule(project: str, code: str, amount: str = "500.00") -> dict[str, Any]:
    # Large enough that no cell's small payments ever settle a bill (an open bill is a target too).
    return {
        "projectId": project,
        "code": code,
        "kind": "FIXED",
        "name": f"{code} 服务费",
        "effectiveFrom": "2026-01-01",
        "amountPerCycle": amount,
        "scope": {"unitKinds": ["APARTMENT"]},
    }


def _payment_input(unit: str, amount: str, key: str) -> dict[str, Any]:
    return {"unitId": unit, "amount": amount, "channel": "CASH", "payerName": "王丽", "idempotencyKey": key}


def readings_csv(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = ["building,unit,meter_type,reading,read_at", *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


async def multipart(
    client: httpx.AsyncClient,
    token: str | None,
    document: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, bytes]],
) -> dict[str, Any]:
    """A GraphQL multipart request: `files` maps a variable path (e.g. `file`, `input.photos.0`) to a file."""
    names = {str(n): path for n, path in enumerate(files)}
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": document, "variables": variables}),
            "map": json.dumps({n: [f"variables.{path}"] for n, path in names.items()}),
        },
        files={n: (files[path][0], files[path][1], "application/octet-stream") for n, path in names.items()},
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    # An upload without a login is refused before its body is read: HTTP 401, still a GraphQL answer.
    assert response.status_code == 200 or (token is None and response.status_code == 401), response.text
    return response.json()  # type: ignore[no-any-return]


async def _add_register_extras(state: AppState, world: World) -> None:
    """What the shared test world lacks: a login for Hillside's technician, a party with no unit in each
    project (to add occupancies to), and a shop in Hillside that is never billed (to prepay into)."""
    lakeside, hillside = world.ids["Project:lakeside"], world.ids["Project:hillside"]
    async with state.session_factory() as session, session.begin():
        user = User(
            email="tech_b@example.test",
            display_name="tech_b",
            password_hash=_PASSWORD_HASH,
            technician_id=world.ids["Technician:b"],
        )
        session.add(user)
        await session.flush()
        session.add(RoleGrant(user_id=user.id, project_id=hillside, role=Role.TECHNICIAN))
        world.users["tech_b"] = user.id
        spares = {"lakeside": Party(project_id=lakeside, name="赵敏"), "hillside": Party(project_id=hillside, name="钱伟")}
        session.add_all(spares.values())
        shop = Unit(
            project_id=hillside,
            building_id=world.ids["Building:b1"],
            number="S01",
            floor=1,
            floor_area=Decimal("60.00"),
            kind=UnitKind.SHOP,
            occupancy_status=OccupancyStatus.VACANT,
        )
        session.add(shop)
        await session.flush()
        world.ids.update(
            {
                "Party:spare_lakeside": spares["lakeside"].id,
                "Party:spare_hillside": spares["hillside"].id,
                "Unit:hillside_shop": shop.id,
            }
        )


def _name_targets(world: World, kind: str, own: str, other: str, foreign: str) -> None:
    for ownership, source in zip(OWNERSHIPS, (own, other, foreign), strict=True):
        world.ids[f"{kind}:{ownership}"] = world.ids[source]


def _pk(global_id: str) -> int:
    return int(relay.GlobalID.from_id(global_id).node_id)


async def _billing(aw: AuthorizationWorld) -> None:
    world = aw.world
    lakeside, hillside = world.gid("Project:lakeside"), world.gid("Project:hillside")
    fee_rules = {
        "own": await aw.call("finance_a", CREATE_FEE_RULE, {"input": _fixed_rule(lakeside, "PROPERTY")}),
        "other": await aw.call("finance_a", CREATE_FEE_RULE, {"input": _fixed_rule(lakeside, "WATER")}),
        "foreign": await aw.call("admin_b", CREATE_FEE_RULE, {"input": _fixed_rule(hillside, "PROPERTY")}),
    }
    for ownership, project in (("own", lakeside), ("other", lakeside), ("foreign", hillside)):
        world.ids[f"FeeRule:{ownership}"] = _pk(fee_rules[ownership]["id"])
        discount = await aw.call(
            _FINANCE[ownership],
            CREATE_DISCOUNT_RULE,
            {"input": {"projectId": project, "name": f"空置优惠 {ownership}", "percent": "10", "ruleCodes": ["PROPERTY"], "vacantOnly": True}},
        )
        world.ids[f"DiscountRule:{ownership}"] = _pk(discount["id"])
        waiver = await aw.call(
            _FINANCE[ownership],
            CREATE_WAIVER,
            {"input": {"unitId": world.gid(_UNIT_ROW[ownership]), "ruleCode": "PROPERTY", "period": "2026-12", "amount": "1.00", "reason": "维修补偿"}},
        )
        world.ids[f"Waiver:{ownership}"] = _pk(waiver["id"])

    # Three readings per meter: a baseline, 100 used, then 900 used (over three times the average: flagged).
    for user, project, units in (
        ("finance_a", lakeside, (("A1", "101"), ("A1", "102"))),
        ("admin_b", hillside, (("B1", "101"),)),
    ):
        rows = [
            (building, number, "water", value, at)
            for building, number in units
            for value, at in (("0", "2026-08-31 18:00"), ("100", "2026-09-30 18:00"), ("1000", "2026-10-31 18:00"))
        ]
        imported = await multipart(
            aw.client, world.token(user), IMPORT_READINGS, {"project": project, "file": None}, {"file": ("readings.csv", readings_csv(rows))}
        )
        assert imported["data"]["importMeterReadings"]["__typename"] == "ImportMeterReadingsPayload", imported
    flagged = {}
    for user, project in (("finance_a", lakeside), ("admin_b", hillside)):
        found = await gql(aw.client, FLAGGED, {"project": project}, token=world.token(user))
        flagged.update({edge["node"]["unit"]["id"]: edge["node"]["id"] for edge in found["data"]["flaggedReadings"]["edges"]})
    for ownership in OWNERSHIPS:
        world.ids[f"MeterReading:{ownership}"] = _pk(flagged[world.gid(_UNIT_ROW[ownership])])

    runs = {
        project: await aw.call(user, RUN_BILLING, {"project": project, "period": BILLING_PERIOD})
        for user, project in (("finance_a", lakeside), ("admin_b", hillside))
    }
    world.ids["BillRun:own"] = world.ids["BillRun:other"] = _pk(runs[lakeside]["id"])
    world.ids["BillRun:foreign"] = _pk(runs[hillside]["id"])
    bills = {}
    for user, project in (("finance_a", lakeside), ("admin_b", hillside)):
        found = await gql(aw.client, BILLS, {"project": project}, token=world.token(user))
        for edge in found["data"]["bills"]["edges"]:
            bills.setdefault(edge["node"]["unit"]["id"], edge["node"]["id"])

    for ownership in OWNERSHIPS:
        bill = bills[world.gid(_UNIT_ROW[ownership])]
        world.ids[f"Bill:{ownership}"] = _pk(bill)
        payment = await aw.call(
            _FINANCE[ownership],
            RECORD_PAYMENT,
            {"input": {**_payment_input(world.gid(_UNIT_ROW[ownership]), "10.00", f"world-{ownership}"), "billIds": [bill]}},
        )
        world.ids[f"Payment:{ownership}"] = _pk(payment["id"])
        world.ids[f"Receipt:{ownership}"] = _pk(payment["receipt"]["id"])
        aw.receipts[ownership] = {"content": payment["receipt"]["content"], "signature": payment["receipt"]["signature"]}
        adjustment = await aw.call(
            _FINANCE[ownership],
            CREATE_ADJUSTMENT,
            {"input": {"billId": bill, "kind": "DEBIT", "amount": "1.00", "reason": "补收"}},
        )
        world.ids[f"Adjustment:{ownership}"] = _pk(adjustment["id"])
        intent = await aw.call(_REPORTER[ownership], CREATE_INTENT, {"bills": [bill]})
        world.ids[f"PaymentIntent:{ownership}"] = _pk(intent["id"])


async def _invoicing(aw: AuthorizationWorld) -> None:
    """Each project's seller and tax mappings, a title of each owner, an invoice of each target payment."""
    world = aw.world
    for project, finance in (("lakeside", "finance_a"), ("hillside", "admin_b")):
        project_id = world.gid(f"Project:{project}")
        seller = {"projectId": project_id, "name": f"{project}物业服务有限公司", "taxCode": "91440300708461136T"}
        await aw.call(finance, SET_INVOICE_SELLER, {"input": seller})
        for fee_kind in INVOICED_FEE_KINDS[project]:
            mapping = {
                "projectId": project_id, "feeKind": fee_kind, "category": "物业管理服务", "itemName": fee_kind,
                "classificationCode": "3040802010000000000", "rate": "0.06", "treatment": "GENERAL",
            }
            await aw.call(finance, SET_TAX_MAPPING, {"input": mapping})
    for ownership in OWNERSHIPS:
        title = await aw.call(_REPORTER[ownership], CREATE_INVOICE_TITLE, {"input": {"kind": "PERSON", "name": _REPORTER[ownership]}})
        world.ids[f"InvoiceTitle:{ownership}"] = _pk(title["id"])
        invoice = await aw.call(_FINANCE[ownership], REQUEST_INVOICE, {"input": {"paymentIds": [world.gid(f"Payment:{ownership}")]}})
        assert invoice["status"] == "ISSUED", invoice
        world.ids[f"Invoice:{ownership}"] = _pk(invoice["id"])
    for ownership in ("own", "foreign"):
        batch = await aw.call(
            _FINANCE[ownership], ISSUE_INVOICE_BATCH, {"input": {"projectId": world.gid(_PROJECT_ROW[ownership]), "period": BILLING_PERIOD}}
        )
        world.ids[f"InvoiceBatch:{ownership}"] = _pk(batch["id"])
    world.ids["InvoiceBatch:other"] = world.ids["InvoiceBatch:own"]


async def _dispatch(aw: AuthorizationWorld) -> None:
    world = aw.world
    for user, project in (("admin_a", "Project:lakeside"), ("admin_b", "Project:hillside")):
        # Tickets stay where the table puts them: nothing is handed out behind its back.
        await aw.call(user, UPDATE_DISPATCH_SETTINGS, {"input": {"projectId": world.gid(project), "autoDispatch": False}})
    for ownership, name in (("own", "1号楼生活水泵"), ("other", "2号楼电梯"), ("foreign", "B1消防泵")):
        equipment = await aw.call(
            _ADMIN[ownership],
            CREATE_EQUIPMENT,
            {
                "input": {
                    "projectId": world.gid(_PROJECT_ROW[ownership]),
                    "name": name,
                    "kind": "WATER_PUMP",
                    "installDate": "2024-05-01",
                    "maintenanceIntervalDays": 90,
                }
            },
        )
        world.ids[f"Equipment:{ownership}"] = _pk(equipment["id"])

    for ownership in OWNERSHIPS:
        reporter = _REPORTER[ownership]
        submitted = await multipart(
            aw.client,
            world.token(reporter),
            SUBMIT,
            {"input": {"unitId": world.gid(_UNIT_ROW[ownership]), "description": "卫生间漏水", "category": "PLUMBING", "photos": [None]}},
            {"input.photos.0": ("漏水.jpg", JPEG)},
        )
        ticket = submitted["data"]["submitTicket"]
        assert ticket["__typename"] == "Ticket", submitted
        if ownership == "own":
            # First with 周师傅, then with tech_a: the ticket's events name an earlier assignee too.
            await aw.call("dispatcher_a", ASSIGN, {"ticket": ticket["id"], "technician": world.gid("Technician:far")})
        await aw.call(_DISPATCHER[ownership], ASSIGN, {"ticket": ticket["id"], "technician": world.gid(_TECHNICIAN_ROW[ownership])})
        await aw.call(_TECHNICIAN[ownership], ACCEPT, {"ticket": ticket["id"]})
        world.ids[f"Ticket:{ownership}"] = _pk(ticket["id"])
        attachments = await gql(aw.client, ATTACHMENTS, {"id": ticket["id"]}, token=world.token(reporter))
        (attachment,) = attachments["data"]["node"]["attachments"]
        world.ids[f"Attachment:{ownership}"] = _pk(attachment["id"])


async def _add_reconciliation_books(state: AppState, world: World) -> None:
    """In each project a statement account with one match, one open exception, one closed day and one
    matching rule, so a reconciliation list shows its own project's rows and nothing of another project's."""
    day = dt.date(2026, 10, 31)
    async with state.session_factory() as session, session.begin():
        for project in ("lakeside", "hillside"):
            project_id = world.ids[f"Project:{project}"]
            account = StatementAccount(
                project_id=project_id, name=f"{project} WeChat", kind=StatementAccountKind.WECHAT, channel=PaymentChannel.WECHAT
            )
            session.add(account)
            await session.flush()
            world.ids[f"StatementAccount:{project}"] = account.id
            rule = ReconciliationRule(
                project_id=project_id, position=1, name="房号转账", params={"pattern": r"(?P<unit>\d+-\d+)", "days_after": 5}
            )
            session.add(rule)
            await session.flush()
            world.ids[f"ReconciliationRule:{project}"] = rule.id
            zero = Decimal("0.00")
            session.add_all(
                [
                    ReconciliationMatch(project_id=project_id, step="MANUAL"),
                    ReconciliationException(project_id=project_id, kind="CHANNEL_ONLY", day=day),
                    DailyClose(
                        project_id=project_id, account_id=account.id, day=day, clearing_account="CLEARING:WECHAT",
                        opening_balance=zero, closing_balance=zero, matched_count=0, matched_amount=zero,
                        exception_count=0, exception_amount=zero, open_exception_count=0, open_exception_amount=zero,
                    ),
                ]
            )


SAVE_TEMPLATE = (
    "mutation ($input: NotificationTemplateInput!) { saveNotificationTemplate(input: $input) "
    "{ __typename ... on NotificationTemplate { version } ... on Error { code message field } } }"
)


async def _notifications(aw: AuthorizationWorld) -> None:
    """An announcement in the in-app inbox of every login (owners through their party, everyone else
    through their login), one saved template per project; `Notification:own/other/foreign` are alice's,
    bob's and carol's."""
    world, state = aw.world, aw.state
    async with state.session_factory() as session:
        grants = dict((await session.execute(select(RoleGrant.user_id, RoleGrant.project_id))).all())
        parties = dict((await session.execute(select(User.id, User.party_id))).all())
    keys = {}
    async with unit_of_work(state.session_factory) as work:
        for name, user_id in world.users.items():
            message = await enqueue(
                work.session,
                project_id=grants[user_id],
                kind=MessageKind.ANNOUNCEMENT,
                idempotency_key=f"world:{name}",
                payload={"title": f"{name} 的公告"},
                party_id=parties[user_id],
                user_id=None if parties[user_id] else user_id,
                now=state.clock(),
            )
            keys[name] = message.id
    await relay_once(
        state.session_factory, {NotificationChannel.IN_APP: InAppSender()}, now=state.clock(), cipher=state.cipher
    )
    for ownership, name in zip(OWNERSHIPS, ("alice", "bob", "carol"), strict=True):
        world.ids[f"Notification:{ownership}"] = keys[name]
    for admin, project in (("admin_a", "Project:lakeside"), ("admin_b", "Project:hillside")):
        template = {"projectId": world.gid(project), "kind": "ANNOUNCEMENT", "channel": "IN_APP", "locale": "ZH_CN", "body": "{{ title }}"}
        await aw.call(admin, SAVE_TEMPLATE, {"input": template})


async def _announcements(aw: AuthorizationWorld) -> None:
    """In each project announcements published to one unit's residents, `Announcement:own/other/foreign`
    to alice, bob and carol, and a draft each (`AnnouncementDraft:…`), written by the projects' admins."""
    for ownership in OWNERSHIPS:
        aw.world.ids[f"Announcement:{ownership}"] = _pk(await aw._new_announcement(ownership, published=True))
        aw.world.ids[f"AnnouncementDraft:{ownership}"] = _pk(await aw._new_announcement(ownership, published=False))


async def _dunning(aw: AuthorizationWorld) -> None:
    """August billed in both projects on 1 September (due on the 16th, 47 days overdue on the world's day)
    and a dunning pass over each: every owner's account is handed to the desk to phone, so the work queues
    list them; `DunningNotice:own/other/foreign` are alice's, bob's and carol's follow-ups."""
    world, state = aw.world, aw.state
    for project in ("Project:lakeside", "Project:hillside"):
        await run_billing(
            state.session_factory, None, now=dt.datetime(2026, 9, 1, 1, 0, tzinfo=dt.UTC), project_id=world.ids[project],
            period="2026-08", dry_run=False,
        )
        await run_dunning(state.session_factory, None, project_id=world.ids[project], now=state.clock())
    async with state.session_factory() as session:
        follow_ups = dict((await session.execute(select(DunningNotice.unit_id, DunningNotice.id))).all())
    for ownership in OWNERSHIPS:
        world.ids[f"DunningNotice:{ownership}"] = follow_ups[world.ids[_UNIT_ROW[ownership]]]


async def build_authorization_world(app: Starlette, client: httpx.AsyncClient) -> AuthorizationWorld:
    state: AppState = app.state.courtyard
    world = await build_dispatch_world(state)
    await _add_register_extras(state, world)
    await _add_reconciliation_books(state, world)
    _name_targets(world, "Project", "Project:lakeside", "Project:lakeside", "Project:hillside")
    _name_targets(world, "StatementAccount", "StatementAccount:lakeside", "StatementAccount:lakeside", "StatementAccount:hillside")
    _name_targets(
        world, "ReconciliationRule", "ReconciliationRule:lakeside", "ReconciliationRule:lakeside", "ReconciliationRule:hillside"
    )
    _name_targets(world, "Building", "Building:a1", "Building:a2", "Building:b1")
    for kind in ("Unit", "Party", "Occupancy"):
        _name_targets(world, kind, f"{kind}:alice", f"{kind}:bob", f"{kind}:carol")
    _name_targets(world, "Technician", "Technician:a", "Technician:hvac", "Technician:b")
    aw = AuthorizationWorld(world, app, client)
    await _dispatch(aw)
    await _billing(aw)
    await _notifications(aw)
    await _announcements(aw)
    await _dunning(aw)
    await _invoicing(aw)
    return aw


@asynccontextmanager
async def serve_authorization_world(
    database: str, directory: Path, sqlite_template: Path, postgres_server: PostgresServer
) -> AsyncIterator[AuthorizationWorld]:
    """The world on a fresh app over `database` ("sqlite" or "postgresql"), for a module of tests."""
    if database == "sqlite":
        path = directory / "courtyard.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        if postgres_server.url is None:
            missing_service(postgres_server.unavailable_reason or "PostgreSQL unavailable")
        assert postgres_server.url is not None
        await _empty_postgres(postgres_server.url)
        url = postgres_server.url
    settings = Settings(database_url=url, secret_key=TEST_SECRET, media_dir=directory / "media")
    app = create_app(settings, clock=Clock(), migrate=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield await build_authorization_world(app, client)
