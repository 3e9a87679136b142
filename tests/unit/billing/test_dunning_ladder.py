"""The dunning ladder: which level each account is due for on a day, as fixtures and as laws."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.dunning.ladder import (
    DEFAULT_POLICY,
    AccountFacts,
    BillFacts,
    Decision,
    Escalation,
    HoldReason,
    Level,
    Policy,
    Trigger,
    decide,
    due_set,
    heard_levels,
    notice_key,
    validate_policy,
)
from kernel.errors import BadInput
from kernel.vocabulary import NotificationChannel
from notifications.kinds import MessageKind

DUE = dt.date(2026, 11, 16)


def day(offset: int) -> dt.date:
    """`offset` days after the due date."""
    return DUE + dt.timedelta(days=offset)


def bill(bill_id: int, amount: str, due: dt.date = DUE, *, disputed: bool = False) -> BillFacts:
    return BillFacts(bill_id, due, Decimal(amount), disputed)


def account(*bills: BillFacts, unit: int = 1, heard: dict[int, frozenset[str]] | None = None, plan: bool = False) -> AccountFacts:
    return AccountFacts(unit, 100 + unit, tuple(bills), plan, heard or {})


def codes(offset: int, *accounts: AccountFacts, policy: Policy = DEFAULT_POLICY) -> list[str]:
    return [decision.level.code for decision in decide(policy, accounts, day(offset)).decisions]


def hear(facts: AccountFacts, decision: Decision) -> AccountFacts:
    """The account once the decision's notice went out."""
    heard = dict(facts.heard)
    for bill_id in decision.bill_ids:
        heard[bill_id] = heard.get(bill_id, frozenset()) | {decision.level.code}
    return dataclasses.replace(facts, heard=heard)


def campaign(facts: AccountFacts, days: range, policy: Policy = DEFAULT_POLICY) -> list[tuple[int, str]]:
    """Run a pass every day of `days`, sending what each decides; answer (day, level) sent."""
    sent = []
    for offset in days:
        for decision in decide(policy, [facts], day(offset)).decisions:
            sent.append((offset, decision.level.code))
            facts = hear(facts, decision)
    return sent


# --- the default ladder, day by day ---------------------------------------------------------------


def test_nothing_is_sent_more_than_seven_days_before_the_due_date() -> None:
    assert codes(-8, account(bill(1, "300.00"))) == []


def test_a_reminder_seven_days_before_then_on_the_due_date() -> None:
    assert codes(-7, account(bill(1, "300.00"))) == ["T-7"]
    assert codes(-3, account(bill(1, "300.00"), heard={1: frozenset({"T-7"})})) == []
    assert codes(0, account(bill(1, "300.00"), heard={1: frozenset({"T-7"})})) == ["T0"]


def test_a_daily_pass_sends_each_level_once_and_in_order() -> None:
    sent = campaign(account(bill(1, "300.00")), range(-10, 61))
    assert sent == [(-7, "T-7"), (0, "T0"), (3, "T+3"), (15, "T+15"), (30, "T+30")]


def test_the_phone_follow_up_needs_a_hundred_yuan() -> None:
    sent = campaign(account(bill(1, "99.99")), range(-10, 61))
    assert [code for _, code in sent] == ["T-7", "T0", "T+3", "T+15"]


def test_a_reminder_is_out_of_date_once_the_bill_is_overdue() -> None:
    # Dunning switched on two days after the due date: no "will fall due" reminder, nothing until T+3.
    assert codes(2, account(bill(1, "300.00"))) == []
    assert codes(3, account(bill(1, "300.00"))) == ["T+3"]


def test_an_account_first_seen_long_overdue_gets_the_firmest_level_met_and_never_a_gentler_one() -> None:
    sent = campaign(account(bill(1, "300.00")), range(20, 40))
    assert sent == [(20, "T+15"), (30, "T+30")]


def test_the_overdue_bills_are_chased_not_the_ones_falling_due_later() -> None:
    facts = account(bill(1, "300.00"), bill(2, "280.00", day(30)))
    (decision,) = decide(DEFAULT_POLICY, [facts], day(3)).decisions
    assert (decision.level.code, decision.bill_ids, decision.amount_due, decision.days_overdue) == (
        "T+3",
        (1,),
        Decimal("300.00"),
        3,
    )


def test_a_new_overdue_bill_joining_the_set_starts_the_ladder_again_from_the_firmest_level_met() -> None:
    heard = {1: frozenset({"T-7", "T0", "T+3", "T+15", "T+30"})}
    facts = account(bill(1, "300.00"), bill(2, "280.00", day(31)), heard=heard)
    assert codes(31, facts) == []
    (decision,) = decide(DEFAULT_POLICY, [facts], day(32)).decisions
    assert (decision.level.code, decision.bill_ids, decision.amount_due, decision.days_overdue) == (
        "T+30",
        (1, 2),
        Decimal("580.00"),
        32,
    )


def test_a_bill_paid_in_part_leaves_the_set_and_what_it_heard_as_they_were() -> None:
    heard = {1: frozenset({"T-7", "T0", "T+3"})}
    assert codes(5, account(bill(1, "120.00"), heard=heard)) == []


def test_a_disputed_bill_is_left_out_and_an_account_with_only_disputed_bills_is_held() -> None:
    outcome = decide(DEFAULT_POLICY, [account(bill(1, "300.00", disputed=True), bill(2, "50.00"))], day(3))
    assert [decision.bill_ids for decision in outcome.decisions] == [(2,)]
    held = decide(DEFAULT_POLICY, [account(bill(1, "300.00", disputed=True))], day(3))
    assert held.decisions == () and [hold.reason for hold in held.held] == [HoldReason.DISPUTED]


def test_an_owner_on_a_payment_plan_is_held() -> None:
    outcome = decide(DEFAULT_POLICY, [account(bill(1, "300.00"), plan=True)], day(3))
    assert outcome.decisions == () and [hold.reason for hold in outcome.held] == [HoldReason.PAYMENT_PLAN]


def test_long_overdue_and_large_amounts_come_first() -> None:
    accounts = [
        account(bill(1, "100.00", day(-40)), unit=1),  # 43 days × 100
        account(bill(2, "5000.00"), unit=2),  # 3 days × 5,000
        account(bill(3, "300.00", day(-12)), unit=3),  # 15 days × 300
        account(bill(4, "900.00", day(7)), unit=4),  # a reminder: not overdue
        account(bill(5, "20.00", day(7)), unit=5),
    ]
    decisions = decide(DEFAULT_POLICY, accounts, day(3)).decisions
    assert [decision.unit_id for decision in decisions] == [2, 3, 1, 4, 5]


def test_a_level_may_ask_for_an_amount_and_a_number_of_bills() -> None:
    policy = Policy((Level("BIG", Trigger(1, min_amount=Decimal("1000.00"), min_bills=2), MessageKind.OVERDUE_NOTICE),))
    assert codes(3, account(bill(1, "900.00"), bill(2, "99.99")), policy=policy) == []
    assert codes(3, account(bill(1, "900.00"), bill(2, "100.00")), policy=policy) == ["BIG"]
    assert codes(3, account(bill(1, "1200.00")), policy=policy) == []


def test_the_key_names_the_account_the_level_the_bills_and_what_they_owe() -> None:
    (decision,) = decide(DEFAULT_POLICY, [account(bill(7, "300.00"), bill(9, "20.50"))], day(3)).decisions
    assert notice_key(decision) == "dunning:u1:p101:T+3:7.9:32050"
    many = account(*(bill(1_000_000 + n, "1.00") for n in range(30)))
    (long,) = decide(DEFAULT_POLICY, [many], day(3)).decisions
    assert len(notice_key(long)) < 100


def test_due_set_without_overdue_bills_is_those_that_fall_due_next() -> None:
    bills = (bill(1, "10.00", day(5)), bill(2, "20.00", day(5)), bill(3, "30.00", day(35)))
    assert [b.bill_id for b in due_set(bills, day(0))] == [1, 2]


# --- what a policy may say ------------------------------------------------------------------------


def test_the_default_policy_is_valid() -> None:
    validate_policy(DEFAULT_POLICY)


@pytest.mark.parametrize(
    ("level", "field"),
    [
        (Level("", Trigger(3), MessageKind.OVERDUE_NOTICE), "levels[0].code"),
        (Level("T 3", Trigger(3), MessageKind.OVERDUE_NOTICE), "levels[0].code"),
        (Level("T+3", Trigger(3), None), "levels[0].kind"),
        (Level("T+3", Trigger(3), MessageKind.BILL_REMINDER), "levels[0].kind"),
        (Level("T-3", Trigger(-3), MessageKind.OVERDUE_NOTICE), "levels[0].kind"),
        (Level("T-3", Trigger(-3), MessageKind.ANNOUNCEMENT), "levels[0].kind"),
        (Level("T0", Trigger(0), None, (), Escalation.PHONE_FOLLOW_UP), "levels[0].escalation"),
        (Level("T+9", Trigger(9), None, (NotificationChannel.SMS,), Escalation.PHONE_FOLLOW_UP), "levels[0].channels"),
        (
            Level("T+9", Trigger(9), MessageKind.OVERDUE_NOTICE, (NotificationChannel.SMS, NotificationChannel.SMS)),
            "levels[0].channels",
        ),
        (Level("T+9", Trigger(9, min_amount=Decimal("0")), MessageKind.OVERDUE_NOTICE), "levels[0].minAmount"),
        (Level("T+9", Trigger(9, min_amount=Decimal("1.005")), MessageKind.OVERDUE_NOTICE), "levels[0].minAmount"),
        (Level("T+9", Trigger(9, min_bills=0), MessageKind.OVERDUE_NOTICE), "levels[0].minBills"),
        (Level("T+999", Trigger(999), MessageKind.OVERDUE_NOTICE), "levels[0].daysFromDue"),
    ],
)
def test_an_unusable_level_is_refused_naming_its_field(level: Level, field: str) -> None:
    with pytest.raises(BadInput) as refused:
        validate_policy(Policy((level,)))
    assert refused.value.field == field


def test_a_policy_needs_levels_with_codes_of_their_own() -> None:
    with pytest.raises(BadInput) as empty:
        validate_policy(Policy(()))
    assert empty.value.field == "levels"
    twice = Level("T+3", Trigger(3), MessageKind.OVERDUE_NOTICE)
    with pytest.raises(BadInput) as duplicate:
        validate_policy(Policy((twice, dataclasses.replace(twice, trigger=Trigger(5)))))
    assert duplicate.value.field == "levels[1].code"


# --- laws -----------------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000"), places=2)
offsets = st.integers(min_value=-40, max_value=90)
codes_heard = st.frozensets(st.sampled_from([level.code for level in DEFAULT_POLICY.levels]), max_size=3)


@st.composite
def accounts(draw: st.DrawFn, unit: int) -> AccountFacts:
    count = draw(st.integers(min_value=1, max_value=4))
    bills = tuple(
        BillFacts(unit * 10 + n, day(draw(offsets)), draw(amounts), draw(st.integers(0, 4)) == 0)
        for n in range(count)
    )
    heard = {b.bill_id: draw(codes_heard) for b in bills}
    return AccountFacts(unit, 100 + unit, bills, draw(st.integers(0, 9)) == 0, heard)


account_lists = st.integers(min_value=0, max_value=8).flatmap(
    lambda n: st.tuples(*(accounts(unit) for unit in range(1, n + 1)))
)


@given(account_lists, offsets, st.randoms())
def test_the_same_facts_give_the_same_decisions_in_the_same_order(facts: tuple[AccountFacts, ...], offset: int, rng) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(facts)
    rng.shuffle(shuffled)
    assert decide(DEFAULT_POLICY, facts, day(offset)) == decide(DEFAULT_POLICY, shuffled, day(offset))


@given(account_lists, offsets)
def test_a_decision_is_a_level_met_that_not_every_bill_has_heard(facts: tuple[AccountFacts, ...], offset: int) -> None:
    today = day(offset)
    by_unit = {account.unit_id: account for account in facts}
    for decision in decide(DEFAULT_POLICY, facts, today).decisions:
        account = by_unit[decision.unit_id]
        assert not account.on_payment_plan
        bills = {bill.bill_id: bill for bill in account.bills}
        assert all(not bills[bill_id].disputed for bill_id in decision.bill_ids)
        assert decision.amount_due == sum(bills[bill_id].amount_due for bill_id in decision.bill_ids)
        assert not all(decision.level.code in account.heard.get(bill_id, frozenset()) for bill_id in decision.bill_ids)
        trigger = decision.level.trigger
        assert decision.days_from_due >= trigger.days_from_due
        assert not decision.level.is_reminder or decision.days_from_due <= 0
        assert trigger.min_amount is None or decision.amount_due >= trigger.min_amount


@given(account_lists, offsets)
def test_once_its_notices_went_out_an_account_is_due_for_nothing_more_that_day(
    facts: tuple[AccountFacts, ...], offset: int
) -> None:
    today = day(offset)
    decisions = {decision.unit_id: decision for decision in decide(DEFAULT_POLICY, facts, today).decisions}
    after = [hear(account, decisions[account.unit_id]) if account.unit_id in decisions else account for account in facts]
    assert decide(DEFAULT_POLICY, after, today).decisions == ()


@given(account_lists, offsets)
def test_held_accounts_and_disputed_bills_are_never_chased(facts: tuple[AccountFacts, ...], offset: int) -> None:
    outcome = decide(DEFAULT_POLICY, facts, day(offset))
    held = {(hold.unit_id, hold.reason) for hold in outcome.held}
    for account in facts:
        if account.on_payment_plan:
            assert (account.unit_id, HoldReason.PAYMENT_PLAN) in held
    disputed = {bill.bill_id for account in facts for bill in account.bills if bill.disputed}
    assert not disputed & {bill_id for decision in outcome.decisions for bill_id in decision.bill_ids}


@given(account_lists, offsets)
def test_long_overdue_and_large_amounts_are_decided_first(facts: tuple[AccountFacts, ...], offset: int) -> None:
    decisions = decide(DEFAULT_POLICY, facts, day(offset)).decisions
    ranks = [(decision.priority, decision.amount_due) for decision in decisions]
    assert ranks == sorted(ranks, reverse=True)


@given(st.lists(amounts, min_size=1, max_size=3), st.integers(min_value=-20, max_value=10), st.integers(min_value=1, max_value=90))
def test_day_by_day_the_same_bills_climb_the_ladder_and_never_hear_a_level_twice(
    bill_amounts: list[Decimal], first: int, length: int
) -> None:
    facts = account(*(bill(n, str(amount)) for n, amount in enumerate(bill_amounts, start=1)))
    sent = campaign(facts, range(first, first + length))
    positions = [next(i for i, level in enumerate(DEFAULT_POLICY.levels) if level.code == code) for _, code in sent]
    assert positions == sorted(set(positions))


@given(account_lists, offsets)
def test_an_account_with_every_bill_paid_hears_nothing(facts: tuple[AccountFacts, ...], offset: int) -> None:
    paid = [dataclasses.replace(account, bills=()) for account in facts]
    outcome = decide(DEFAULT_POLICY, paid, day(offset))
    assert outcome.decisions == () and outcome.held == ()


# --- edges: the words of every refusal, the limits, the whole decision ----------------------------

NOTICE = MessageKind.OVERDUE_NOTICE


@pytest.mark.parametrize(
    ("level", "field", "message"),
    [
        (Level("", Trigger(3), NOTICE), "levels[0].code", "A level's code is 1 to 16 letters, digits or + - _ . (e.g. T+3)."),
        (Level("T+999", Trigger(999), NOTICE), "levels[0].daysFromDue", "Days from the due date run from -60 to 730."),
        (Level("T-61", Trigger(-61), MessageKind.BILL_REMINDER), "levels[0].daysFromDue", "Days from the due date run from -60 to 730."),
        (Level("T+3", Trigger(3), None), "levels[0].kind", "A level sends a message, escalates, or both."),
        (Level("T-3", Trigger(-3), MessageKind.ANNOUNCEMENT), "levels[0].kind", "ANNOUNCEMENT is not a dunning message."),
        (
            Level("T+3", Trigger(3), MessageKind.BILL_REMINDER),
            "levels[0].kind",
            "A reminder says the bill will fall due: at most 0 days from the due date.",
        ),
        (
            Level("T0", Trigger(0), NOTICE),
            "levels[0].kind",
            "An overdue notice is for overdue bills: at least 1 day after the due date.",
        ),
        (
            Level("T0", Trigger(0), None, (), Escalation.PHONE_FOLLOW_UP),
            "levels[0].escalation",
            "The finance desk follows up overdue accounts only.",
        ),
        (
            Level("T+9", Trigger(9), None, (NotificationChannel.SMS,), Escalation.PHONE_FOLLOW_UP),
            "levels[0].channels",
            "Channels are for the level's message; this level sends none.",
        ),
        (
            Level("T+9", Trigger(9), NOTICE, (NotificationChannel.SMS, NotificationChannel.SMS)),
            "levels[0].channels",
            "A channel is named twice.",
        ),
        (Level("T+9", Trigger(9, min_amount=Decimal("0")), NOTICE), "levels[0].minAmount", "A least amount is positive, in whole fen."),
        (Level("T+9", Trigger(9, min_bills=0), NOTICE), "levels[0].minBills", "A least number of bills is at least 1."),
    ],
)
def test_a_refused_level_says_why_in_the_words_the_settings_show(level: Level, field: str, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        validate_policy(Policy((level,)))

    assert (refused.value.field, refused.value.message) == (field, message)


def test_the_limits_of_a_level_are_inclusive() -> None:
    validate_policy(
        Policy(
            (
                Level("T-60", Trigger(-60), MessageKind.BILL_REMINDER),
                Level("T+730", Trigger(730, min_amount=Decimal("0.50"), min_bills=1), NOTICE),
            )
        )
    )


def test_a_policy_has_at_most_twelve_levels_each_with_a_code_of_its_own() -> None:
    twelve = tuple(Level(f"T+{n}", Trigger(n), NOTICE) for n in range(1, 13))
    validate_policy(Policy(twelve))

    with pytest.raises(BadInput) as too_many:
        validate_policy(Policy((*twelve, Level("T+13", Trigger(13), NOTICE))))
    with pytest.raises(BadInput) as twice:
        validate_policy(Policy((twelve[0], dataclasses.replace(twelve[1], code="T+1"))))

    assert (too_many.value.field, too_many.value.message) == ("levels", "A dunning policy has 1 to 12 levels.")
    assert (twice.value.field, twice.value.message) == ("levels[1].code", "Two levels are called 'T+1'.")


def test_a_decision_names_the_account_the_level_its_place_and_the_set() -> None:
    (decision,) = decide(DEFAULT_POLICY, [account(bill(1, "300.00"), bill(2, "0.00"))], day(3)).decisions

    assert decision == Decision(
        unit_id=1,
        party_id=101,
        level=DEFAULT_POLICY.levels[2],
        position=2,
        bill_ids=(1,),
        amount_due=Decimal("300.00"),
        oldest_due=DUE,
        days_from_due=3,
    )


def test_holds_name_the_account() -> None:
    outcome = decide(
        DEFAULT_POLICY,
        [account(bill(1, "300.00"), unit=2, plan=True), account(bill(2, "300.00", disputed=True), unit=3)],
        day(3),
    )

    assert [(h.unit_id, h.party_id, h.reason) for h in outcome.held] == [
        (2, 102, HoldReason.PAYMENT_PLAN),
        (3, 103, HoldReason.DISPUTED),
    ]


def test_a_reminder_is_not_sent_the_day_after_the_due_date() -> None:
    assert codes(1, account(bill(1, "300.00"))) == []


def test_a_notice_key_names_up_to_64_characters_of_bill_ids_and_hashes_a_longer_list() -> None:
    def key(first: int) -> str:
        bills = (bill(first, "1.00"), *(bill(1_000_000 + n, "1.00") for n in range(1, 8)))
        (decision,) = decide(DEFAULT_POLICY, [account(*bills)], day(3)).decisions
        return notice_key(decision)

    # the set's bills in id order, joined by dots
    sixty_four = ".".join(str(1_000_000 + n) for n in range(1, 8)) + ".10000000"
    sixty_five = sixty_four.replace(".10000000", ".110000000")
    assert len(sixty_four) == 64
    assert key(10_000_000) == f"dunning:u1:p101:T+3:{sixty_four}:800"
    digest = hashlib.sha256(sixty_five.encode()).hexdigest()[:24]
    assert key(110_000_000) == f"dunning:u1:p101:T+3:h{digest}:800"


def test_the_levels_each_bill_heard_are_gathered_from_its_notices() -> None:
    assert heard_levels([(1, "T0"), (1, "T+3"), (2, "T0"), (1, "T0")]) == {1: frozenset({"T0", "T+3"}), 2: frozenset({"T0"})}
