"""The matcher's outcomes whole: every match and exception with each of its fields and explanation facts,
as the resolution screens and the journal read them, for each path through the steps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest

from billing.reconciliation.matching import (
    ChannelTerms,
    ExceptionKind,
    Explanation,
    Match,
    MatchRule,
    MatchStep,
    PairedLines,
    ReconciliationException,
    RecordedRefund,
    Settlement,
)
from billing.reconciliation.statement import Channel, LineKind, SourceKind
from tests.unit.reconciliation.builders import (
    BANK_ACCOUNT,
    TERMS,
    WECHAT_ACCOUNT,
    at,
    bank_line,
    channel_line,
    payment,
    refund,
    refund_line,
)
from tests.unit.reconciliation.test_matching import run

ORDER_KEY = (Explanation("KEY_EQUAL", (("key", "order_no"),)), Explanation("AMOUNT_EQUAL"))


def transfer(number: int, amount: str, **kw: object):  # type: ignore[no-untyped-def]
    return payment(number, amount, channel=Channel.BANK_TRANSFER, order=False, **kw)  # type: ignore[arg-type]


# --- exact keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "paid", "key"),
    [
        (channel_line(1, "100.00"), payment(1, "100.00"), "order_no"),
        (channel_line(1, "100.00"), payment(1, "100.00", order=False, transaction="42000000000001"), "transaction_id"),
        (bank_line(1, "800.00", reference="ICBC0001"), transfer(1, "800.00", transaction="ICBC0001", day=2), "bank_reference"),
        (bank_line(1, "800.00", end_to_end="CY000001"), payment(1, "800.00", channel=Channel.BANK_TRANSFER, day=2), "end_to_end_id"),
    ],
)
def test_a_key_and_its_amount_equal_make_an_exact_match(line, paid, key: str) -> None:  # type: ignore[no-untyped-def]
    result = run([line], [paid])

    assert result.matches == (
        Match(
            step=MatchStep.EXACT_KEY,
            line_keys=(line.line_key,),
            payment_ids=(1,),
            explanation=(Explanation("KEY_EQUAL", (("key", key),)), Explanation("AMOUNT_EQUAL")),
        ),
    )
    assert (result.exceptions, result.pending_payment_ids, result.pending_line_keys) == ((), (), ())


def test_an_amount_mismatch_says_the_key_both_amounts_and_the_fee_that_explains_it() -> None:
    line = bank_line(1, "994.00", end_to_end="CY000001")

    result = run([line], [payment(1, "1000.00", channel=Channel.POS, day=2)])

    assert result.exceptions == (
        ReconciliationException(
            kind=ExceptionKind.AMOUNT_MISMATCH,
            line_keys=("BANK:1",),
            payment_ids=(1,),
            explanation=(
                Explanation("KEY_EQUAL", (("key", "end_to_end_id"), ("value", "CY000001"))),
                Explanation.of(
                    "AMOUNT_DIFFERS",
                    line_amount=D("994.00"),
                    payment_amount=D("1000.00"),
                    difference=D("-6.00"),
                    fee=D("6.00"),
                    fee_explains=True,
                ),
            ),
            difference=D("-6.00"),
            fee_explains=True,
        ),
    )
    assert result.matches == ()


@pytest.mark.parametrize(("received", "explains"), [("1006.00", False), ("1000.01", False)])
def test_a_fee_explains_only_money_missing_by_exactly_the_fee(received: str, explains: bool) -> None:
    (exception,) = run([bank_line(1, received, end_to_end="CY000001")], [payment(1, "1000.00", channel=Channel.POS, day=2)]).exceptions

    assert exception.fee_explains is explains


def test_without_a_fee_rate_or_a_fee_on_the_line_no_fee_is_named() -> None:
    (exception,) = run([channel_line(1, "99.00")], [payment(1, "100.00")]).exceptions

    assert exception.explanation[1] == Explanation.of(
        "AMOUNT_DIFFERS", line_amount=D("99.00"), payment_amount=D("100.00"), difference=D("-1.00"), fee_explains=False
    )


def test_a_second_line_for_a_matched_payment_is_a_duplicate_charge_pointing_at_the_first() -> None:
    first, second = channel_line(1, "100.00", order=1), channel_line(2, "100.00", order=1, hour=11)

    result = run([second, first], [payment(1, "100.00")])

    assert result.exceptions == (
        ReconciliationException(
            kind=ExceptionKind.DUPLICATE_CHARGE,
            line_keys=("WECHAT:P:2",),
            explanation=(
                Explanation("KEY_EQUAL", (("key", "order_no"), ("value", "CY000001"))),
                Explanation.of("ALREADY_MATCHED", payment=1, line="WECHAT:P:1", amount=D("100.00")),
            ),
            difference=D("100.00"),
            related_line_keys=("WECHAT:P:1",),
            related_payment_ids=(1,),
        ),
    )


def test_a_second_payment_of_one_charge_is_a_duplicate_charge_pointing_at_the_first() -> None:
    payments = [payment(1, "300.00", charge="bills:7"), payment(2, "300.00", charge="bills:7", hour=11)]

    result = run([channel_line(1, "300.00"), channel_line(2, "300.00", hour=11)], payments)

    assert result.matches == (
        Match(step=MatchStep.EXACT_KEY, line_keys=("WECHAT:P:1",), payment_ids=(1,), explanation=ORDER_KEY),
    )
    assert result.exceptions == (
        ReconciliationException(
            kind=ExceptionKind.DUPLICATE_CHARGE,
            line_keys=("WECHAT:P:2",),
            payment_ids=(2,),
            explanation=(*ORDER_KEY, Explanation.of("SAME_CHARGE", charge="bills:7", amount=D("300.00"), first_payment=1)),
            difference=D("300.00"),
            related_line_keys=("WECHAT:P:1",),
            related_payment_ids=(1,),
        ),
    )


def test_payments_without_a_charge_key_or_without_a_line_are_never_duplicates() -> None:
    payments = [payment(1, "300.00"), payment(2, "300.00", hour=11), payment(3, "300.00", charge="bills:7", hour=12)]

    result = run([channel_line(1, "300.00"), channel_line(2, "300.00", hour=11)], [*payments, payment(4, "300.00", charge="bills:7", hour=13)], as_of=at(1, 14))

    assert [m.payment_ids for m in result.matches] == [(1,), (2,)]
    assert result.exceptions == ()
    assert result.pending_payment_ids == (3, 4)


# --- refunds -------------------------------------------------------------------------------------------


def refunded(*refunds: RecordedRefund):  # type: ignore[no-untyped-def]
    return payment(1, "100.00", refunds=refunds)


@pytest.mark.parametrize(
    ("change", "key", "value"),
    [
        ({"refund_no": "RF11"}, "refund_no", "RF11"),
        ({"provider_refund_id": "5030011"}, "provider_refund_id", "5030011"),
        ({"bank_reference": "5030011"}, "bank_reference", "5030011"),
        ({"end_to_end_id": "RF11"}, "end_to_end_id", "RF11"),
    ],
)
def test_a_refund_line_matches_its_refund_by_any_of_its_keys(change: dict[str, str], key: str, value: str) -> None:
    made = dataclasses.replace(refund(11, "40.00", refund_no="RF11"), provider_refund_id="5030011")
    line = dataclasses.replace(refund_line(5, "40.00", order=99), **change)

    result = run([channel_line(1, "100.00"), line], [refunded(made)])

    assert result.matches[1] == Match(
        step=MatchStep.EXACT_KEY,
        line_keys=("WECHAT:R:5",),
        refund_ids=(11,),
        explanation=(Explanation.of("KEY_EQUAL", key=key, value=value), Explanation.of("AMOUNT_EQUAL", amount=D("-40.00"))),
        related_payment_ids=(1,),
    )
    assert result.exceptions == ()


def test_a_refund_line_without_a_number_takes_the_earliest_open_refund_of_its_order_and_amount() -> None:
    refunds = (refund(12, "40.00", day=2), refund(11, "40.00", day=2), refund(13, "40.00", day=1), refund(14, "30.00"))
    lines = [channel_line(1, "100.00"), refund_line(5, "40.00", order=1), refund_line(6, "40.00", order=1, day=2)]

    result = run(lines, [refunded(*refunds)], as_of=at(2, 16))

    assert [(m.line_keys, m.refund_ids) for m in result.matches] == [
        (("WECHAT:P:1",), ()),
        (("WECHAT:R:5",), (13,)),
        (("WECHAT:R:6",), (11,)),
    ]
    assert result.matches[1].explanation == (
        Explanation.of("REFUND_OF_ORDER", key="order_no", value="CY000001", payment=1),
        Explanation.of("AMOUNT_EQUAL", amount=D("-40.00")),
    )
    assert result.pending_refund_ids == (12, 14)


def test_a_refund_number_already_matched_is_not_matched_again() -> None:
    lines = [channel_line(1, "100.00"), refund_line(5, "40.00", order=1, refund_no="RF11"), refund_line(6, "40.00", order=1, refund_no="RF11", day=2)]

    result = run(lines, [refunded(refund(11, "40.00", refund_no="RF11"))])

    assert [m.refund_ids for m in result.matches] == [(), (11,)]
    assert [(e.kind, e.line_keys) for e in result.exceptions] == [(ExceptionKind.REFUND_UNMATCHED, ("WECHAT:R:6",))]


def test_a_refund_line_with_another_amount_is_an_amount_mismatch_of_the_refund() -> None:
    lines = [channel_line(1, "100.00"), refund_line(5, "45.00", order=1, refund_no="RF11")]

    result = run(lines, [refunded(refund(11, "40.00", refund_no="RF11"))])

    assert result.exceptions == (
        ReconciliationException(
            kind=ExceptionKind.AMOUNT_MISMATCH,
            line_keys=("WECHAT:R:5",),
            refund_ids=(11,),
            explanation=(
                Explanation.of("KEY_EQUAL", key="refund_no", value="RF11"),
                Explanation.of("REFUND_AMOUNT_DIFFERS", line_amount=D("45.00"), refund_amount=D("40.00"), difference=D("5.00")),
            ),
            difference=D("5.00"),
            fee_explains=False,
            related_payment_ids=(1,),
        ),
    )


def test_a_bank_debit_matches_a_refund_by_its_reference() -> None:
    made = dataclasses.replace(refund(11, "800.00"), provider_refund_id="ICBC9")
    paid = dataclasses.replace(transfer(1, "800.00", transaction="ICBC1", day=2), refunds=(made,))

    result = run([bank_line(1, "800.00", reference="ICBC1"), bank_line(2, "-800.00", reference="ICBC9", day=3)], [paid])

    assert [(m.line_keys, m.payment_ids, m.refund_ids) for m in result.matches] == [
        (("BANK:1",), (1,), ()),
        (("BANK:2",), (), (11,)),
    ]


# --- fees, payouts, settlements --------------------------------------------------------------------------


def test_a_fee_line_is_a_channel_fee_linked_to_its_order_or_to_nothing() -> None:
    linked = dataclasses.replace(channel_line(2, "-0.60", order=1), kind=LineKind.FEE, line_key="WECHAT:F:2")
    unknown = dataclasses.replace(channel_line(3, "-0.30", order=77), kind=LineKind.FEE, line_key="WECHAT:F:3")

    result = run([channel_line(1, "100.00"), linked, unknown], [payment(1, "100.00")])

    # matches come in the order of their first line key
    assert result.matches[:2] == (
        Match(
            step=MatchStep.CHANNEL_FEE,
            line_keys=("WECHAT:F:2",),
            explanation=(Explanation.of("CHANNEL_FEE", amount=D("0.60"), order_no="CY000001"),),
            channel_fee=D("0.60"),
            related_payment_ids=(1,),
        ),
        Match(
            step=MatchStep.CHANNEL_FEE,
            line_keys=("WECHAT:F:3",),
            explanation=(Explanation.of("CHANNEL_FEE", amount=D("0.30"), order_no="CY000077"),),
            channel_fee=D("0.30"),
        ),
    )


def payout_line(amount: str, *, day: int = 1):  # type: ignore[no-untyped-def]
    return dataclasses.replace(
        channel_line(3, amount, source=SourceKind.ALIPAY, day=day, hour=18),
        kind=LineKind.PAYOUT,
        line_key=f"ALIPAY:W:{day}",
        order_no=None,
        transaction_id=None,
    )


def test_a_withdrawal_matches_the_bank_credit_of_its_amount_within_the_payout_window() -> None:
    result = run([payout_line("-99.40"), bank_line(50, "99.40", day=5)], [])

    assert result.matches == (
        Match(
            step=MatchStep.PAYOUT,
            line_keys=("ALIPAY:W:1", "BANK:50"),
            explanation=(Explanation.of("PAYOUT_ARRIVED", amount=D("99.40"), sent=dt.date(2026, 12, 1), days=4),),
        ),
    )


def test_a_withdrawal_arriving_the_same_day_matches_and_one_a_day_too_late_does_not() -> None:
    assert run([payout_line("-99.40"), bank_line(50, "99.40", day=1, hour=20)], []).matches[0].explanation[0].fact("days") == 0
    late = run([payout_line("-99.40"), bank_line(50, "99.40", day=6)], [], as_of=at(20))
    assert [e.kind for e in late.exceptions] == [ExceptionKind.BANK_UNMATCHED, ExceptionKind.UNRECEIVED]


def test_a_withdrawal_takes_only_a_credit_of_the_channels_payout_account_and_not_one_already_taken() -> None:
    terms = tuple(dataclasses.replace(t, payout_account="ALIPAY-PAYOUT") if t.channel is Channel.ALIPAY else t for t in TERMS)
    wrong = bank_line(50, "99.40", day=2)
    right = bank_line(51, "99.40", day=3, account="ALIPAY-PAYOUT")

    result = run([payout_line("-99.40"), wrong, right], [], terms=terms)

    assert [m.line_keys for m in result.matches] == [("ALIPAY:W:1", "BANK:51")]


def test_a_withdrawal_never_arriving_is_unreceived_with_its_due_day() -> None:
    (exception,) = run([payout_line("-99.40")], [], as_of=at(5, 18)).exceptions

    assert exception == ReconciliationException(
        kind=ExceptionKind.UNRECEIVED,
        line_keys=("ALIPAY:W:1",),
        explanation=(Explanation.of("PAYOUT_NOT_ARRIVED", amount=D("99.40"), due=dt.date(2026, 12, 5)),),
        difference=D("-99.40"),
    )
    assert run([payout_line("-99.40")], [], as_of=at(5, 17, 59)).pending_line_keys == ("ALIPAY:W:1",)


def test_a_settlement_match_explains_the_days_the_amounts_and_the_lag() -> None:
    lines = [
        channel_line(1, "100.00", fee="0.60000"),
        channel_line(2, "50.00", fee="0.30000", coupon="5.00"),
        refund_line(9, "20.00", order=1, fee="0.12000"),
    ]
    payments = [payment(1, "100.00", refunds=(refund(9, "20.00"),)), payment(2, "50.00")]

    # 150.00 − 5.00 coupon − 20.00 refunded − (0.90 − 0.12) fees = 124.22, arriving two days later
    result = run([*lines, bank_line(50, "124.22", day=3)], payments)

    settlement = Settlement(
        source=SourceKind.WECHAT,
        account=WECHAT_ACCOUNT,
        first_day=dt.date(2026, 12, 1),
        last_day=dt.date(2026, 12, 1),
        line_keys=("WECHAT:P:1", "WECHAT:P:2", "WECHAT:R:9"),
        gross=D("150.00"),
        coupons=D("5.00"),
        refunds=D("-20.00"),
        fees=D("0.78"),
    )
    assert next(m for m in result.matches if m.step is MatchStep.SETTLEMENT) == Match(
        step=MatchStep.SETTLEMENT,
        line_keys=("BANK:50",),
        explanation=(
            Explanation.of(
                "SETTLES_CHANNEL_DAYS",
                source=SourceKind.WECHAT,
                account=WECHAT_ACCOUNT,
                first_day=dt.date(2026, 12, 1),
                last_day=dt.date(2026, 12, 1),
                lines=3,
            ),
            Explanation.of("SETTLEMENT_AMOUNT", gross=D("150.00"), coupons=D("5.00"), refunds=D("-20.00"), fees=D("0.78"), net=D("124.22")),
            Explanation.of("ARRIVED_AFTER_DAYS", days=2),
        ),
        settlement=settlement,
        channel_fee=D("0.78"),
    )
    assert result.settlements == (settlement,)


def test_a_credit_for_two_days_settles_the_shortest_run_that_fits_and_never_a_day_twice() -> None:
    lines = [channel_line(1, "100.00", day=4), channel_line(2, "100.00", day=5), channel_line(3, "100.00", day=6)]
    payments = [payment(1, "100.00", day=4), payment(2, "100.00", day=5), payment(3, "100.00", day=6)]

    result = run([*lines, bank_line(50, "200.00", day=7), bank_line(51, "200.00", day=8)], payments)

    settled = [(m.settlement.first_day.day, m.settlement.last_day.day) for m in result.matches if m.settlement]
    assert settled == [(4, 5)]
    assert [(e.kind, e.line_keys) for e in result.exceptions] == [(ExceptionKind.BANK_UNMATCHED, ("BANK:51",))]


def test_days_further_apart_than_the_payout_window_are_never_one_settlement() -> None:
    lines = [channel_line(1, "100.00", day=1), channel_line(2, "100.00", day=6)]
    payments = [payment(1, "100.00", day=1), payment(2, "100.00", day=6)]

    result = run([*lines, bank_line(50, "200.00", day=7)], payments)

    assert [m.step for m in result.matches] == [MatchStep.EXACT_KEY, MatchStep.EXACT_KEY]


def test_a_channel_without_terms_for_its_statement_settles_nothing() -> None:
    terms = tuple(t for t in TERMS if t.channel is not Channel.ALIPAY) + (ChannelTerms(Channel.ALIPAY, (SourceKind.BANK,)),)
    line = channel_line(1, "100.00", source=SourceKind.ALIPAY)

    result = run([line, bank_line(50, "100.00", day=2)], [payment(1, "100.00", channel=Channel.ALIPAY)], terms=terms)

    assert [m.step for m in result.matches] == [MatchStep.EXACT_KEY]


# --- rules -------------------------------------------------------------------------------------------


def test_a_rule_match_explains_the_rule_the_pattern_the_amount_the_date_and_the_name() -> None:
    rule = MatchRule(name="unit and name", pattern=r"(?P<unit>\d+-\d+-\d+)", amount_tolerance=D("1.00"), days_after=5, min_name_similarity=0.8)
    paid = transfer(1, "1200.00", unit=17, day=1, payer="张三")

    result = run([bank_line(1, "1199.50", memo="3-1-502物业费", name="张三", day=3)], [paid], [rule], unit_codes={"3-1-502": 17})

    assert result.matches == (
        Match(
            step=MatchStep.RULE,
            line_keys=("BANK:1",),
            payment_ids=(1,),
            explanation=(
                Explanation.of("RULE", rule="unit and name", position=1),
                Explanation.of("PATTERN_FOUND", field="memo", text="3-1-502", unit=17),
                Explanation.of("AMOUNT_WITHIN", line_amount=D("1199.50"), payment_amount=D("1200.00"), difference=D("-0.50"), tolerance=D("1.00")),
                Explanation.of("DATE_WITHIN", days=2, days_before=0, days_after=5),
                Explanation.of("NAME_SIMILAR", line_name="张三", payer_name="张三", score=1.0, via="CHARACTERS", minimum=0.8),
            ),
            rule="unit and name",
            amount_difference=D("-0.50"),
        ),
    )


def test_a_pattern_pointing_at_a_party_finds_that_partys_payment() -> None:
    rule = MatchRule(name="tenant", pattern="星巴克", party_id=9)
    paid = dataclasses.replace(transfer(1, "8000.00", day=2), party_id=9)
    other = dataclasses.replace(transfer(2, "8000.00", day=2), party_id=8)

    (match,) = run([bank_line(1, "8000.00", memo="星巴克 房租")], [other, paid], [rule]).matches

    assert match.payment_ids == (1,)
    assert match.explanation[1] == Explanation.of("PATTERN_FOUND", field="memo", text="星巴克", party=9)


def test_a_pattern_whose_unit_code_is_unknown_matches_nothing() -> None:
    rule = MatchRule(name="unit in memo", pattern=r"(?P<unit>\d+-\d+-\d+)")

    result = run([bank_line(1, "1200.00", memo="9-9-999")], [transfer(1, "1200.00", unit=17, day=2)], [rule], unit_codes={"3-1-502": 17}, as_of=at(3))

    assert result.matches == ()


def test_the_closer_amount_then_the_closer_day_then_the_better_name_wins() -> None:
    rule = MatchRule(name="near", amount_tolerance=D("5.00"), days_after=3, min_name_similarity=0.0)
    payments = [
        transfer(1, "1003.00", day=2, payer="张三"),
        transfer(2, "1001.00", day=1, payer="张三"),
        transfer(3, "1001.00", day=2, payer="李四"),
        transfer(4, "1001.00", day=2, payer="张三"),
    ]

    (match,) = run([bank_line(1, "1000.00", name="张三")], payments, [rule], as_of=at(3)).matches

    assert match.payment_ids == (4,)


def test_a_line_before_its_payment_by_more_than_days_before_is_not_matched() -> None:
    rule = MatchRule(name="a day before", days_before=1, days_after=0)
    paid = transfer(1, "1000.00", day=4)

    assert run([bank_line(1, "1000.00", day=3)], [paid], [rule], as_of=at(3)).matches
    assert not run([bank_line(1, "1000.00", day=2)], [paid], [rule], as_of=at(3)).matches


# --- what is left --------------------------------------------------------------------------------------


def test_what_is_left_is_explained_for_each_kind() -> None:
    refund_only = refund_line(5, "40.00", order=7)
    result = run(
        [channel_line(1, "100.00", order=8), refund_only, bank_line(2, "500.00"), bank_line(3, "-3.00")],
        [payment(1, "60.00", refunds=(refund(11, "10.00", refund_no="RF11"),)), transfer(2, "500.00", day=2)],
        as_of=at(20),
    )

    # by kind, then by the keys and ids they own
    assert result.exceptions == (
        ReconciliationException(
            kind=ExceptionKind.BANK_UNMATCHED,
            line_keys=("BANK:2",),
            explanation=(Explanation.of("BANK_LINE_NOT_MATCHED", amount=D("500.00")),),
            difference=D("500.00"),
            suggested_payment_ids=(2,),
        ),
        ReconciliationException(
            kind=ExceptionKind.BANK_UNMATCHED,
            line_keys=("BANK:3",),
            explanation=(Explanation.of("BANK_LINE_NOT_MATCHED", amount=D("-3.00")),),
            difference=D("-3.00"),
        ),
        ReconciliationException(
            kind=ExceptionKind.CHANNEL_ONLY,
            line_keys=("WECHAT:P:1",),
            explanation=(Explanation.of("PAID_AT_CHANNEL_ONLY", amount=D("100.00"), order_no="CY000008", transaction_id="42000000000001"),),
            difference=D("100.00"),
        ),
        ReconciliationException(
            kind=ExceptionKind.REFUND_UNMATCHED,
            refund_ids=(11,),
            explanation=(Explanation.of("REFUND_NOT_IN_STATEMENT", amount=D("10.00"), refund_no="RF11"),),
            difference=D("10.00"),
            related_payment_ids=(1,),
        ),
        ReconciliationException(
            kind=ExceptionKind.REFUND_UNMATCHED,
            line_keys=("WECHAT:R:5",),
            explanation=(Explanation.of("REFUND_NOT_IN_COURTYARD", amount=D("-40.00"), order_no="CY000007", transaction_id="42000000000007"),),
            difference=D("-40.00"),
        ),
        ReconciliationException(
            kind=ExceptionKind.UNRECEIVED,
            payment_ids=(1,),
            explanation=(Explanation.of("NO_STATEMENT_LINE", channel=Channel.WECHAT, amount=D("60.00"), order_no="CY000001", due=dt.date(2026, 12, 3)),),
            difference=D("-60.00"),
        ),
        ReconciliationException(
            kind=ExceptionKind.UNRECEIVED,
            payment_ids=(2,),
            explanation=(Explanation.of("NO_STATEMENT_LINE", channel=Channel.BANK_TRANSFER, amount=D("500.00"), due=dt.date(2026, 12, 5)),),
            difference=D("-500.00"),
        ),
    )
    assert result.by_kind(ExceptionKind.UNRECEIVED) == result.exceptions[-2:]


def test_a_refund_is_pending_until_its_report_window_ends() -> None:
    paid = payment(1, "100.00", refunds=(refund(11, "10.00", day=1),))
    line = channel_line(1, "100.00")

    assert run([line], [paid], as_of=at(3, 14, 59)).pending_refund_ids == (11,)
    assert [e.refund_ids for e in run([line], [paid], as_of=at(3, 15)).exceptions] == [(11,)]


def test_a_payment_is_unreceived_from_the_moment_its_report_window_ends() -> None:
    paid = payment(1, "100.00", day=1)

    assert run([], [paid], as_of=at(3)).pending_payment_ids == ()
    assert run([], [paid], as_of=at(3, 9, 59)).pending_payment_ids == (1,)


def test_suggestions_are_payments_of_the_amount_within_three_days_at_most_five() -> None:
    payments = [transfer(n, "500.00", day=day) for n, day in ((1, 1), (2, 5), (3, 6), (4, 5), (5, 4), (6, 3), (7, 2), (8, 2))]

    (exception, *_) = run([bank_line(1, "500.00", day=5)], payments, as_of=at(5, 11)).exceptions

    assert exception.suggested_payment_ids == (7, 8, 6, 5, 2)


# --- inputs ------------------------------------------------------------------------------------------------


def test_inputs_given_twice_are_refused_naming_them() -> None:
    def refusal(lines=(), payments=()) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(ValueError) as refused:
            run(lines, payments)
        return str(refused.value)

    assert refusal([channel_line(1, "1.00"), channel_line(1, "1.00")]) == "line key WECHAT:P:1 appears twice; store each line once"
    assert refusal(payments=[payment(1, "1.00"), payment(1, "2.00")]) == "payment 1 appears twice"
    twice = refund(11, "1.00")
    assert refusal(payments=[payment(1, "1.00", refunds=(twice,)), payment(2, "1.00", refunds=(twice,))]) == "refund 11 appears twice"
    with pytest.raises(ValueError) as missing:
        run([], [payment(1, "1.00", channel=Channel.POS), payment(2, "1.00", channel=Channel.CASH)], terms=TERMS[:1])
    assert str(missing.value) == "no channel terms for CASH, POS"


def test_a_bank_account_number_is_the_settlement_account_of_no_channel() -> None:
    result = run([bank_line(1, "10.00", account=BANK_ACCOUNT)], [], as_of=at(20))

    assert result.settlements == ()


# --- edges the rules and keys must hold ----------------------------------------------------------------


def test_a_fact_not_given_reads_as_none() -> None:
    assert Explanation.of("X", amount=D(1), order_no=None).fact("order_no") is None


def test_a_payment_recorded_in_utc_counts_the_projects_calendar_day() -> None:
    # 17:30 UTC on 1 December is 01:30 on 2 December in Shanghai, the day the credit arrived
    paid = dataclasses.replace(transfer(1, "1000.00"), paid_at=dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC))

    (match,) = run([bank_line(1, "1000.00", day=2)], [paid], [MatchRule(name="same day", days_after=0)]).matches

    assert match.explanation[2] == Explanation.of("DATE_WITHIN", days=0, days_before=0, days_after=0)


def test_a_bank_line_of_zero_is_neither_a_payment_nor_a_refund() -> None:
    paid = payment(1, "100.00", channel=Channel.BANK_TRANSFER, refunds=(refund(11, "10.00", refund_no="RF11"),))

    by_order = run([bank_line(1, "0.00", end_to_end="CY000001")], [paid], as_of=at(20))
    by_refund = run([bank_line(1, "0.00", end_to_end="RF11")], [paid], as_of=at(20))

    for result in (by_order, by_refund):
        assert result.matches == ()
        assert [(e.kind, e.line_keys, e.payment_ids, e.refund_ids) for e in result.exceptions] == [
            (ExceptionKind.BANK_UNMATCHED, ("BANK:1",), (), ()),
            (ExceptionKind.REFUND_UNMATCHED, (), (), (11,)),
            (ExceptionKind.UNRECEIVED, (), (1,), ()),
        ]


def test_a_line_after_an_amount_mismatch_of_its_payment_is_a_duplicate_of_that_line() -> None:
    lines = [channel_line(1, "99.00", order=1), channel_line(2, "100.00", order=1, hour=11)]

    result = run(lines, [payment(1, "100.00")])

    assert [(e.kind, e.line_keys, e.related_line_keys) for e in result.exceptions] == [
        (ExceptionKind.AMOUNT_MISMATCH, ("WECHAT:P:1",), ()),
        (ExceptionKind.DUPLICATE_CHARGE, ("WECHAT:P:2",), ("WECHAT:P:1",)),
    ]


def test_a_payment_without_a_charge_key_does_not_hide_later_duplicates() -> None:
    payments = [payment(1, "50.00", hour=9), payment(2, "300.00", charge="bills:7"), payment(3, "300.00", charge="bills:7", hour=11)]
    lines = [channel_line(1, "50.00", hour=9), channel_line(2, "300.00"), channel_line(3, "300.00", hour=11)]

    result = run(lines, payments)

    assert [(e.kind, e.payment_ids) for e in result.exceptions] == [(ExceptionKind.DUPLICATE_CHARGE, (3,))]


def test_a_rule_looks_at_lines_one_by_one_whatever_the_lines_before_it_found() -> None:
    rule = MatchRule(name="unit in memo or name", pattern=r"(?P<unit>\d+-\d+-\d+)", days_after=5)
    payments = [transfer(1, "700.00", unit=17, day=2), transfer(2, "900.00", unit=18, day=2)]
    lines = [
        bank_line(1, "500.00", memo="没有房号", hour=8),  # no pattern at all
        bank_line(2, "600.00", memo="3-1-999", hour=9),  # a unit nobody knows
        bank_line(3, "650.00", memo="3-1-503", hour=10),  # a known unit with nothing open of that amount
        bank_line(4, "700.00", memo="9-9-999", name="3-1-502", hour=11),  # unknown in the memo, known in the name
        bank_line(5, "900.00", memo="3-1-503", hour=12),
    ]

    result = run(lines, payments, [rule], unit_codes={"3-1-502": 17, "3-1-503": 18})

    assert [(m.line_keys, m.payment_ids) for m in result.matches] == [(("BANK:4",), (1,)), (("BANK:5",), (2,))]
    assert result.matches[0].explanation[1] == Explanation.of("PATTERN_FOUND", field="counterparty_name", text="3-1-502", unit=17)


def test_a_pattern_for_a_party_without_payments_matches_nothing() -> None:
    rule = MatchRule(name="tenant", pattern="星巴克", party_id=9)

    assert run([bank_line(1, "8000.00", memo="星巴克")], [transfer(1, "8000.00", day=2)], [rule], as_of=at(3)).matches == ()


def test_a_tie_or_a_line_without_candidates_leaves_the_next_line_to_be_matched() -> None:
    payments = [transfer(1, "1000.00", day=2), transfer(2, "1000.00", day=2), transfer(3, "2000.00", day=2)]
    lines = [bank_line(1, "1000.00", hour=8), bank_line(2, "1500.00", hour=9), bank_line(3, "2000.00", hour=10)]

    result = run(lines, payments, [MatchRule(name="amount and date")], as_of=at(3))

    assert [(m.line_keys, m.payment_ids) for m in result.matches] == [(("BANK:3",), (3,))]


def test_rules_look_only_at_bank_credits_small_ones_included() -> None:
    rule = MatchRule(name="within a yuan", amount_tolerance=D("1.00"))
    payments = [transfer(1, "0.50", day=2), transfer(2, "0.40", day=2), transfer(3, "100.00", day=2)]
    lines = [bank_line(1, "0.50", hour=8), bank_line(2, "0.00", hour=9), channel_line(3, "100.00", day=2)]

    result = run(lines, payments, [rule], as_of=at(3))

    assert [(m.line_keys, m.payment_ids) for m in result.matches] == [(("BANK:1",), (1,))]


def test_a_rule_scans_up_to_64_open_payments_of_its_channels_per_day_and_amount() -> None:
    rule = MatchRule(name="by name", amount_tolerance=D("10.00"), min_name_similarity=0.9)
    matched_by_key = transfer(1, "1000.00", day=2, transaction="REF1")
    smaller = [transfer(n, "900.00", day=2, payer="李四") for n in range(2, 80)]
    other_channel = [payment(n, "1000.00", day=2, payer="李四") for n in range(100, 180)]
    others = [transfer(n, "1000.00", day=2, payer="李四") for n in range(200, 263)]
    wanted = transfer(263, "1000.00", day=2, payer="张三")
    lines = [bank_line(1, "1000.00", reference="REF1", hour=8), bank_line(2, "1000.00", name="张三", hour=9)]

    result = run(lines, [matched_by_key, *smaller, *other_channel, *others, wanted], [rule], as_of=at(3))
    one_too_many = run(
        lines, [matched_by_key, *others, transfer(199, "1000.00", day=2, payer="李四"), wanted], [rule], as_of=at(3)
    )

    assert [m.payment_ids for m in result.matches] == [(1,), (263,)]
    assert [m.payment_ids for m in one_too_many.matches] == [(1,)]


# --- settlements and payouts at their edges -------------------------------------------------------------

ALIPAY_ACCOUNT = "2088000000000001"


def alipay_line(number: int, amount: str, **kw: object):  # type: ignore[no-untyped-def]
    return dataclasses.replace(channel_line(number, amount, source=SourceKind.ALIPAY, **kw), account=ALIPAY_ACCOUNT)  # type: ignore[arg-type]


def settled_days(result) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    return [
        (m.settlement.source, m.settlement.first_day.day, m.settlement.last_day.day)
        for m in result.matches
        if m.settlement is not None
    ]


def test_a_channel_day_adds_up_every_fee_line_refund_and_refunded_coupon() -> None:
    lines = [
        alipay_line(1, "100.00"),
        alipay_line(2, "200.00", coupon="10.00"),
        dataclasses.replace(alipay_line(3, "-0.60"), kind=LineKind.FEE, line_key="ALIPAY:F:3"),
        dataclasses.replace(alipay_line(4, "-1.20"), kind=LineKind.FEE, line_key="ALIPAY:F:4"),
        dataclasses.replace(alipay_line(5, "-50.00", order=2), kind=LineKind.REFUND, settled_amount=D("-45.00"), line_key="ALIPAY:R:5"),
        dataclasses.replace(alipay_line(6, "-20.00", order=1), kind=LineKind.REFUND, line_key="ALIPAY:R:6"),
        dataclasses.replace(payout_line("-1.00"), account=ALIPAY_ACCOUNT),
        bank_line(7, "1.00", day=1, hour=8),
    ]

    result = run(lines, [], as_of=at(1, 23))

    (day,) = result.settlements
    # 300.00 − (10.00 − 5.00 refunded) coupons − 70.00 refunds − 1.80 fees
    assert (day.gross, day.coupons, day.refunds, day.fees, day.net) == (D("300.00"), D("5.00"), D("-70.00"), D("1.80"), D("223.20"))
    # in booking order, then by key; the withdrawal is not part of the day
    assert day.line_keys == ("ALIPAY:F:3", "ALIPAY:F:4", "ALIPAY:P:1", "ALIPAY:P:2", "ALIPAY:R:5", "ALIPAY:R:6")


def test_a_day_whose_net_is_under_a_yuan_is_settled_by_its_credit() -> None:
    result = run([channel_line(1, "0.50"), bank_line(50, "0.50", day=2)], [payment(1, "0.50")])

    assert settled_days(result) == [(SourceKind.WECHAT, 1, 1)]


def test_runs_of_days_are_cut_at_the_payout_window_and_still_listed() -> None:
    lines = [channel_line(1, "100.00", day=1), channel_line(2, "100.00", day=6)]

    result = run([*lines, bank_line(50, "200.00", day=7)], [payment(1, "100.00", day=1), payment(2, "100.00", day=6)])

    assert settled_days(result) == []
    assert [s.first_day.day for s in result.settlements] == [1, 6]


def test_a_credit_may_settle_days_up_to_the_payout_window_apart_the_day_the_last_one_ends() -> None:
    terms = tuple(dataclasses.replace(t, payout_min_days=0, payout_max_days=2) if t.channel is Channel.WECHAT else t for t in TERMS)
    lines = [channel_line(1, "100.00", day=1), channel_line(2, "100.00", day=3, hour=8)]

    result = run([*lines, bank_line(50, "200.00", day=3, hour=20)], [payment(1, "100.00", day=1), payment(2, "100.00", day=3, hour=8)], terms=terms)

    assert settled_days(result) == [(SourceKind.WECHAT, 1, 3)]


def test_a_credit_takes_the_next_run_when_the_first_is_settled_or_out_of_its_window() -> None:
    lines = [channel_line(n, "100.00", day=day) for n, day in ((1, 4), (2, 5), (3, 6), (4, 7))]
    payments = [payment(n, "100.00", day=day) for n, day in ((1, 4), (2, 5), (3, 6), (4, 7))]
    credits = [bank_line(50, "100.00", day=5, hour=20), bank_line(51, "200.00", day=8), bank_line(52, "100.00", day=9)]

    result = run([*lines, *credits], payments)

    # 100.00 on the 5th settles the 4th; 200.00 on the 8th takes the 5th and 6th (the 4th–5th run is
    # taken); 100.00 on the 9th is too late for the 4th, 5th and 6th and settles the 7th
    assert settled_days(result) == [(SourceKind.WECHAT, 4, 4), (SourceKind.WECHAT, 5, 6), (SourceKind.WECHAT, 7, 7)]


def test_of_two_accounts_with_the_same_net_the_earlier_day_then_the_first_account_is_settled() -> None:
    earlier = run([alipay_line(1, "100.00", day=2), channel_line(2, "100.00", day=1), bank_line(50, "100.00", day=3)], [])
    same_day = run(
        [alipay_line(1, "70.00", day=1), alipay_line(3, "100.00", day=2), channel_line(2, "100.00", day=2), bank_line(50, "100.00", day=3)],
        [],
    )

    assert settled_days(earlier) == [(SourceKind.WECHAT, 1, 1)]
    assert settled_days(same_day) == [(SourceKind.ALIPAY, 2, 2)]


def test_a_credit_into_the_wrong_account_for_one_channel_may_settle_another() -> None:
    terms = tuple(dataclasses.replace(t, payout_account="other") if t.channel is Channel.WECHAT else t for t in TERMS)

    result = run([channel_line(1, "100.00", day=1), alipay_line(2, "100.00", day=1, hour=11), bank_line(50, "100.00", day=2)], [], terms=terms)

    assert settled_days(result) == [(SourceKind.ALIPAY, 1, 1)]


def test_only_open_bank_credits_settle_channel_days() -> None:
    paid = transfer(1, "100.00", day=1, transaction="REF1")
    lines = [alipay_line(1, "100.00", day=1), channel_line(2, "100.00", day=2), bank_line(50, "100.00", day=2, reference="REF1")]

    result = run(lines, [paid])

    assert settled_days(result) == []
    assert [m.step for m in result.matches] == [MatchStep.EXACT_KEY]


def test_a_refund_line_is_never_taken_for_a_withdrawal() -> None:
    result = run([refund_line(5, "40.00", order=1), bank_line(50, "40.00", day=2)], [])

    assert result.matches == ()


def test_a_withdrawal_takes_a_bank_credit_only_an_open_one_and_every_withdrawal_is_matched() -> None:
    paid = transfer(1, "99.40", day=1, transaction="REF1")
    first, second = payout_line("-99.40", day=1), payout_line("-50.00", day=2)
    lines = [
        alipay_line(9, "99.40", day=1, hour=9),  # a channel line of the same amount is not a bank credit
        first,
        second,
        bank_line(50, "99.40", day=2, reference="REF1", hour=8),
        bank_line(51, "99.40", day=2, hour=9),
        bank_line(52, "50.00", day=3),
    ]

    result = run(lines, [paid])

    assert [m.line_keys for m in result.matches if m.step is MatchStep.PAYOUT] == [
        ("ALIPAY:W:1", "BANK:51"),
        ("ALIPAY:W:2", "BANK:52"),
    ]


def test_a_withdrawal_of_under_a_yuan_matches_its_credit() -> None:
    result = run([payout_line("-0.50"), bank_line(50, "0.50", day=2)], [])

    assert [m.step for m in result.matches] == [MatchStep.PAYOUT]


def test_a_withdrawal_from_a_statement_without_terms_waits_seven_days() -> None:
    terms = tuple(t for t in TERMS if t.channel is not Channel.ALIPAY)

    in_time = run([payout_line("-99.40"), bank_line(50, "99.40", day=8)], [], terms=terms)
    too_late = run([payout_line("-99.40"), bank_line(50, "99.40", day=9)], [], terms=terms, as_of=at(20))

    assert [m.step for m in in_time.matches] == [MatchStep.PAYOUT]
    assert [(e.kind, e.explanation[0].fact("due")) for e in too_late.exceptions] == [
        (ExceptionKind.BANK_UNMATCHED, None),
        (ExceptionKind.UNRECEIVED, dt.date(2026, 12, 8)),
    ]


def test_a_name_exactly_as_similar_as_the_rule_asks_is_enough() -> None:
    rule = MatchRule(name="by name", min_name_similarity=1.0)

    (match,) = run([bank_line(1, "1000.00", name="张三")], [transfer(1, "1000.00", day=2, payer="张三")], [rule]).matches

    assert match.payment_ids == (1,)


# --- order, refusals and what is left, at their edges -----------------------------------------------------


def test_lines_are_taken_in_booking_order_whatever_their_keys() -> None:
    earlier = dataclasses.replace(channel_line(9, "100.00", order=1), booked_at=at(1, 9))
    later = dataclasses.replace(channel_line(1, "100.00", order=1), booked_at=at(1, 11))

    result = run([later, earlier], [payment(1, "100.00")])

    assert [m.line_keys for m in result.matches] == [("WECHAT:P:9",)]
    assert [(e.kind, e.line_keys) for e in result.exceptions] == [(ExceptionKind.DUPLICATE_CHARGE, ("WECHAT:P:1",))]


def test_the_refusal_names_the_key_given_twice() -> None:
    with pytest.raises(ValueError) as refused:
        run([channel_line(1, "1.00"), channel_line(2, "1.00"), channel_line(2, "2.00")], [])

    assert str(refused.value) == "line key WECHAT:P:2 appears twice; store each line once"


@pytest.mark.parametrize(
    ("amount", "kind"),
    [("-1.00", ExceptionKind.REFUND_UNMATCHED), ("0.00", ExceptionKind.CHANNEL_ONLY), ("0.50", ExceptionKind.CHANNEL_ONLY)],
)
def test_money_leaving_at_a_channel_unknown_to_courtyard_is_an_unmatched_refund(amount: str, kind: ExceptionKind) -> None:
    (exception,) = run([channel_line(1, amount, order=5)], []).exceptions

    assert exception.kind is kind


def test_an_unreceived_payment_is_due_on_the_projects_calendar_day() -> None:
    (exception,) = run([], [payment(1, "100.00", day=1, hour=5)], as_of=at(20)).exceptions

    # 05:00 on 3 December in Shanghai is still 2 December in UTC
    assert exception.explanation[0].fact("due") == dt.date(2026, 12, 3)


def test_a_small_open_credit_is_offered_the_payment_of_its_amount() -> None:
    (exception, _) = run([bank_line(1, "0.50")], [transfer(1, "0.50", day=1)], as_of=at(20)).exceptions

    assert (exception.kind, exception.suggested_payment_ids) == (ExceptionKind.BANK_UNMATCHED, (1,))


# --- each loop goes on past what it skips ---------------------------------------------------------------


def test_a_payment_taken_by_an_earlier_line_is_passed_over_for_the_next_one() -> None:
    rule = MatchRule(name="within a yuan", amount_tolerance=D("1.00"))
    payments = [transfer(1, "1000.00", day=2), transfer(2, "1000.50", day=2)]
    lines = [bank_line(1, "1000.00", hour=8), bank_line(2, "1000.50", hour=9)]

    assert [(m.line_keys, m.payment_ids) for m in run(lines, payments, [rule]).matches] == [
        (("BANK:1",), (1,)),
        (("BANK:2",), (2,)),
    ]


def test_the_scan_limit_holds_per_day_and_the_next_day_is_still_looked_at() -> None:
    rule = MatchRule(name="by name", days_after=1, min_name_similarity=0.9)
    crowd = [transfer(n, "1000.00", day=1, payer="李四") for n in range(1, 70)]

    (match,) = run([bank_line(1, "1000.00", day=2, name="张三")], [*crowd, transfer(99, "1000.00", day=2, payer="张三")], [rule], as_of=at(2, 11)).matches

    assert match.payment_ids == (99,)


def test_a_bank_credit_under_a_yuan_matches_by_its_key() -> None:
    (match,) = run([bank_line(1, "0.50", end_to_end="CY000001")], [payment(1, "0.50", channel=Channel.BANK_TRANSFER, day=2)]).matches

    assert match.step is MatchStep.EXACT_KEY


def test_a_fee_of_exactly_one_yuan_explains_a_yuan_missing() -> None:
    (exception,) = run([channel_line(1, "99.00", fee="1.00")], [payment(1, "100.00")]).exceptions

    assert (exception.fee_explains, exception.explanation[1].fact("fee")) == (True, D("1.00"))


def test_two_withdrawals_of_one_amount_take_one_credit_each() -> None:
    lines = [payout_line("-99.40", day=1), payout_line("-99.40", day=2), bank_line(50, "99.40", day=2), bank_line(51, "99.40", day=3)]

    result = run(lines, [])

    assert [m.line_keys for m in result.matches] == [("ALIPAY:W:1", "BANK:50"), ("ALIPAY:W:2", "BANK:51")]


def test_a_withdrawal_passes_over_a_credit_that_came_before_it() -> None:
    result = run([bank_line(50, "99.40", day=1, hour=8), payout_line("-99.40", day=3), bank_line(51, "99.40", day=4)], [], as_of=at(4, 12))

    assert [m.line_keys for m in result.matches] == [("ALIPAY:W:3", "BANK:51")]


def test_a_unit_code_of_a_unit_without_open_payments_matches_nothing() -> None:
    rule = MatchRule(name="unit in memo", pattern=r"(?P<unit>\d+-\d+-\d+)")

    result = run([bank_line(1, "1200.00", memo="3-1-504")], [transfer(1, "1200.00", unit=17, day=2)], [rule], unit_codes={"3-1-504": 19}, as_of=at(3))

    assert result.matches == ()


def test_a_credit_passes_over_a_day_paid_into_another_account_or_out_of_its_window() -> None:
    terms = tuple(dataclasses.replace(t, payout_account="other") if t.channel is Channel.WECHAT else t for t in TERMS)
    wrong_account = run([channel_line(1, "100.00", day=1), alipay_line(2, "100.00", day=2), bank_line(50, "100.00", day=3)], [], terms=terms)
    too_old = run([channel_line(1, "100.00", day=1), channel_line(2, "100.00", day=5), bank_line(50, "100.00", day=6)], [])

    assert settled_days(wrong_account) == [(SourceKind.ALIPAY, 2, 2)]
    assert settled_days(too_old) == [(SourceKind.WECHAT, 5, 5)]


def test_pairings_of_one_day_made_in_batches_add_up_coupons_included() -> None:
    batches = [
        PairedLines(SourceKind.WECHAT, WECHAT_ACCOUNT, dt.date(2026, 12, 1), count=2, gross=D("200.00"), coupons=D("5.00"), fees=D("1.20000")),
        PairedLines(SourceKind.WECHAT, WECHAT_ACCOUNT, dt.date(2026, 12, 1), count=1, gross=D("100.00"), coupons=D("0.00"), fees=D("0.60000")),
    ]

    # 300.00 − 5.00 coupons − 1.80 fees
    (match,) = run([bank_line(50, "293.20", day=2)], [], paired=batches).matches

    assert match.settlement is not None
    assert (match.settlement.line_count, match.settlement.coupons, match.settlement.fees) == (3, D("5.00"), D("1.80"))
