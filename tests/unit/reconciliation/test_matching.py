"""The matching core: each step and its explanation, each exception kind, the edges of every window."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from billing.reconciliation.matching import (
    ExceptionKind,
    MatchRule,
    MatchStep,
    PairedLines,
    Reconciliation,
    exact_key_explanation,
    reconcile,
    unit_code,
)
from billing.reconciliation.statement import Channel, LineKind, SourceKind
from tests.unit.reconciliation.builders import (
    SHANGHAI,
    TERMS,
    at,
    bank_line,
    channel_line,
    payment,
    refund,
    refund_line,
)


def run(lines=(), payments=(), rules=(), *, as_of=None, unit_codes=None, terms=TERMS, paired=()) -> Reconciliation:
    return reconcile(
        lines=list(lines),
        payments=list(payments),
        paired=paired,
        terms=terms,
        rules=rules,
        unit_codes=unit_codes,
        as_of=as_of or at(20),
        zone=SHANGHAI,
    )


def codes(explanation) -> list[str]:
    return [part.code for part in explanation]


# ------------------------------------------------------------------------------------------ exact keys


def test_an_order_number_matches_and_says_so() -> None:
    result = run([channel_line(1, "100.00")], [payment(1, "100.00")])
    (match,) = result.matches
    assert match.step is MatchStep.EXACT_KEY
    assert (match.line_keys, match.payment_ids) == (("WECHAT:P:1",), (1,))
    assert codes(match.explanation) == ["KEY_EQUAL", "AMOUNT_EQUAL"]
    assert match.explanation[0].fact("key") == "order_no"
    assert result.exceptions == ()


def test_a_key_that_finds_another_amount_names_the_keys_value() -> None:
    (exception,) = run([channel_line(1, "99.00")], [payment(1, "100.00")]).exceptions
    assert exception.explanation[0].facts == (("key", "order_no"), ("value", "CY000001"))


def test_the_provider_transaction_id_matches_when_the_order_number_is_unknown() -> None:
    result = run([channel_line(1, "100.00")], [payment(1, "100.00", order=False, transaction="42000000000001")])
    assert result.matches[0].explanation[0].fact("key") == "transaction_id"


def test_a_bank_reference_matches_the_providers_transaction_id() -> None:
    line = bank_line(1, "800.00", reference="ICBC0001")
    result = run(
        [line], [payment(1, "800.00", channel=Channel.BANK_TRANSFER, order=False, transaction="ICBC0001", day=2)]
    )
    assert result.matches[0].explanation[0].fact("key") == "bank_reference"


def test_an_end_to_end_id_matches_our_order_number() -> None:
    line = bank_line(1, "800.00", end_to_end="CY000001")
    result = run([line], [payment(1, "800.00", channel=Channel.BANK_TRANSFER, day=2)])
    assert result.matches[0].explanation[0].fact("key") == "end_to_end_id"


def test_a_key_with_another_amount_is_an_amount_mismatch_with_the_difference() -> None:
    result = run([channel_line(1, "99.00")], [payment(1, "100.00")])
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.AMOUNT_MISMATCH
    assert exception.difference == Decimal("-1.00")
    assert exception.fee_explains is False
    assert (exception.line_keys, exception.payment_ids) == (("WECHAT:P:1",), (1,))
    assert result.matches == ()


def test_an_amount_mismatch_that_the_channels_fee_explains_says_so() -> None:
    # A POS payment of 1,000.00 arrives net of the 0.6% fee.
    line = bank_line(1, "994.00", end_to_end="CY000001")
    (exception,) = run([line], [payment(1, "1000.00", channel=Channel.POS, day=2)]).exceptions
    assert exception.kind is ExceptionKind.AMOUNT_MISMATCH
    assert exception.difference == Decimal("-6.00")
    assert exception.fee_explains is True
    assert exception.explanation[1].fact("fee") == Decimal("6.00")


def test_an_amount_mismatch_explained_by_the_lines_own_fee() -> None:
    line = dataclasses.replace(channel_line(1, "99.40", fee="0.60000"))
    (exception,) = run([line], [payment(1, "100.00")]).exceptions
    assert exception.fee_explains is True


def test_a_second_line_for_the_same_order_is_a_duplicate_charge() -> None:
    first, second = channel_line(1, "100.00", order=1), channel_line(2, "100.00", order=1, hour=11)
    result = run([second, first], [payment(1, "100.00")])
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.DUPLICATE_CHARGE
    assert exception.line_keys == ("WECHAT:P:2",)
    assert exception.related_line_keys == ("WECHAT:P:1",)
    assert exception.related_payment_ids == (1,)
    assert result.matches[0].line_keys == ("WECHAT:P:1",)


def test_two_payments_of_the_same_charge_and_amount_are_a_duplicate_charge() -> None:
    payments = [payment(1, "300.00", charge="bills:7"), payment(2, "300.00", charge="bills:7", hour=11)]
    result = run([channel_line(1, "300.00"), channel_line(2, "300.00", hour=11)], payments)
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.DUPLICATE_CHARGE
    assert exception.payment_ids == (2,)
    assert exception.related_payment_ids == (1,)
    assert codes(exception.explanation)[-1] == "SAME_CHARGE"


def test_two_payments_of_the_same_charge_with_different_amounts_are_instalments_not_duplicates() -> None:
    payments = [payment(1, "100.00", charge="bills:7"), payment(2, "200.00", charge="bills:7")]
    assert run([channel_line(1, "100.00"), channel_line(2, "200.00")], payments).exceptions == ()


# ----------------------------------------------------------------------------------- left unmatched


def test_a_payment_without_a_line_after_the_report_window_is_unreceived() -> None:
    result = run([], [payment(1, "100.00", day=1)], as_of=at(3))
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.UNRECEIVED
    assert exception.payment_ids == (1,)
    assert exception.difference == Decimal("-100.00")
    assert exception.explanation[0].fact("due") == dt.date(2026, 12, 3)


def test_a_payment_within_its_report_window_is_pending() -> None:
    result = run([], [payment(1, "100.00", day=1)], as_of=at(3, minute=0) - (at(1, 1) - at(1, 0)))
    assert result.exceptions == ()
    assert result.pending_payment_ids == (1,)


def test_a_line_not_in_courtyard_is_channel_only() -> None:
    (exception,) = run([channel_line(1, "100.00")], []).exceptions
    assert exception.kind is ExceptionKind.CHANNEL_ONLY
    assert exception.line_keys == ("WECHAT:P:1",)
    assert exception.explanation[0].fact("order_no") == "CY000001"


def test_an_unexplained_bank_line_is_bank_unmatched_with_suggestions() -> None:
    result = run(
        [bank_line(1, "500.00")], [payment(7, "500.00", channel=Channel.BANK_TRANSFER, day=2, order=False)], as_of=at(3)
    )
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.BANK_UNMATCHED
    assert exception.suggested_payment_ids == (7,)
    assert result.pending_payment_ids == (7,)


# --------------------------------------------------------------------------------------------- refunds


def test_a_refund_line_matches_the_refund_by_its_number() -> None:
    paid = payment(1, "100.00", refunds=(refund(11, "40.00", refund_no="RF11"),))
    result = run([channel_line(1, "100.00"), refund_line(5, "40.00", order=1, refund_no="RF11")], [paid])
    refund_match = next(m for m in result.matches if m.refund_ids)
    assert refund_match.refund_ids == (11,)
    assert refund_match.explanation[0].fact("key") == "refund_no"
    assert refund_match.related_payment_ids == (1,)


def test_a_refund_line_without_a_number_matches_by_order_and_amount() -> None:
    paid = payment(1, "100.00", refunds=(refund(11, "40.00"),))
    result = run([channel_line(1, "100.00"), refund_line(5, "40.00", order=1)], [paid])
    assert codes(next(m for m in result.matches if m.refund_ids).explanation)[0] == "REFUND_OF_ORDER"


def test_a_refund_line_courtyard_never_made_is_refund_unmatched() -> None:
    result = run([channel_line(1, "100.00"), refund_line(5, "40.00", order=1)], [payment(1, "100.00")])
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.REFUND_UNMATCHED
    assert exception.line_keys == ("WECHAT:R:5",)


def test_a_refund_courtyard_made_that_never_appears_is_refund_unmatched() -> None:
    paid = payment(1, "100.00", refunds=(refund(11, "40.00"),))
    (exception,) = run([channel_line(1, "100.00")], [paid]).exceptions
    assert exception.kind is ExceptionKind.REFUND_UNMATCHED
    assert exception.refund_ids == (11,)
    assert exception.related_payment_ids == (1,)


# ------------------------------------------------------------------------------------------ settlement


def wechat_day() -> tuple[list, list]:
    """Three payments on 1 December, one with a coupon, one partly refunded; fees in five decimals."""
    lines = [
        channel_line(1, "100.00", fee="0.60000"),
        channel_line(2, "50.00", fee="0.30000", coupon="5.00"),
        channel_line(3, "200.00", fee="1.20000"),
        refund_line(9, "20.00", order=3, fee="0.12000"),
    ]
    payments = [payment(1, "100.00"), payment(2, "50.00"), payment(3, "200.00", refunds=(refund(9, "20.00"),))]
    return lines, payments


def test_a_bank_credit_equal_to_a_channel_days_net_settles_it_as_one_group_with_the_fee_reported() -> None:
    lines, payments = wechat_day()
    # 350.00 gross − 5.00 coupon − 20.00 refunded − (2.10 − 0.12) fees = 323.02
    result = run([*lines, bank_line(50, "323.02", day=2, name="财付通支付科技有限公司")], payments)
    settlement_match = next(m for m in result.matches if m.step is MatchStep.SETTLEMENT)
    assert settlement_match.line_keys == ("BANK:50",)
    assert settlement_match.channel_fee == Decimal("1.98")
    settlement = settlement_match.settlement
    assert settlement is not None
    assert (settlement.gross, settlement.coupons, settlement.refunds, settlement.fees, settlement.net) == (
        Decimal("350.00"),
        Decimal("5.00"),
        Decimal("-20.00"),
        Decimal("1.98"),
        Decimal("323.02"),
    )
    assert len(settlement.line_keys) == 4
    assert codes(settlement_match.explanation) == ["SETTLES_CHANNEL_DAYS", "SETTLEMENT_AMOUNT", "ARRIVED_AFTER_DAYS"]
    assert settlement_match.explanation[2].fact("days") == 1
    assert result.exceptions == ()


def test_a_settlement_arriving_the_same_day_is_not_taken_for_it() -> None:
    lines, payments = wechat_day()
    result = run([*lines, bank_line(50, "323.02", day=1, hour=20)], payments)
    assert [e.kind for e in result.exceptions] == [ExceptionKind.BANK_UNMATCHED]


def test_a_settlement_arriving_on_the_last_day_of_the_payout_window_matches_and_a_day_later_does_not() -> None:
    lines, payments = wechat_day()
    assert any(m.step is MatchStep.SETTLEMENT for m in run([*lines, bank_line(50, "323.02", day=5)], payments).matches)
    late = run([*lines, bank_line(50, "323.02", day=6)], payments)
    assert [e.kind for e in late.exceptions] == [ExceptionKind.BANK_UNMATCHED]


def test_a_weekend_batch_settles_consecutive_days_in_one_credit() -> None:
    lines = [
        channel_line(1, "100.00", day=4, fee="0.60"),
        channel_line(2, "100.00", day=5, fee="0.60"),
        channel_line(3, "100.00", day=6, fee="0.60"),
    ]
    payments = [payment(1, "100.00", day=4), payment(2, "100.00", day=5), payment(3, "100.00", day=6)]
    result = run([*lines, bank_line(50, "298.20", day=7)], payments)
    settlement = next(m for m in result.matches if m.step is MatchStep.SETTLEMENT).settlement
    assert settlement is not None
    assert (settlement.first_day.day, settlement.last_day.day) == (4, 6)
    assert settlement.fees == Decimal("1.80")
    assert result.exceptions == ()


def test_a_settlement_into_another_account_than_the_channels_payout_account_is_not_taken() -> None:
    terms = tuple(dataclasses.replace(t, payout_account="other") if t.channel is Channel.WECHAT else t for t in TERMS)
    lines, payments = wechat_day()
    result = run([*lines, bank_line(50, "323.02", day=2)], payments, terms=terms)
    assert [e.kind for e in result.exceptions] == [ExceptionKind.BANK_UNMATCHED]


def test_lines_paired_before_the_call_count_in_their_days_settlement_as_if_given_one_by_one() -> None:
    lines, payments = wechat_day()
    credit = bank_line(50, "323.02", day=2, name="财付通支付科技有限公司")
    whole = run([*lines, credit], payments)
    # Line 1 was paired with payment 1 by its order number outside the core.
    paired = PairedLines(
        source=SourceKind.WECHAT,
        account=lines[0].account,
        day=dt.date(2026, 12, 1),
        count=1,
        gross=Decimal("100.00"),
        coupons=Decimal("0.00"),
        fees=Decimal("0.60000"),
    )
    rest = run([*lines[1:], credit], payments[1:], paired=[paired])

    (settled,) = [m for m in rest.matches if m.step is MatchStep.SETTLEMENT]
    (whole_settled,) = [m for m in whole.matches if m.step is MatchStep.SETTLEMENT]
    assert settled.settlement is not None and whole_settled.settlement is not None
    assert settled.settlement.line_keys == ("WECHAT:P:2", "WECHAT:P:3", "WECHAT:R:9")
    assert settled.settlement.line_count == whole_settled.settlement.line_count == 4
    assert [m for m in rest.matches if m.step is not MatchStep.SETTLEMENT] == [
        m for m in whole.matches if m.step is not MatchStep.SETTLEMENT and m.payment_ids != (1,)
    ]
    assert settled.explanation == whole_settled.explanation
    assert settled.channel_fee == whole_settled.channel_fee
    assert rest.exceptions == whole.exceptions == ()


def test_a_day_whose_lines_were_all_paired_before_the_call_still_settles() -> None:
    paired = PairedLines(
        source=SourceKind.WECHAT,
        account="1900000109",
        day=dt.date(2026, 12, 1),
        count=1,
        gross=Decimal("100.00"),
        coupons=Decimal("0"),
        fees=Decimal("0.60000"),
    )
    result = run([bank_line(50, "99.40", day=2)], [], paired=[paired])
    (match,) = result.matches
    assert match.step is MatchStep.SETTLEMENT and match.settlement is not None
    assert (match.settlement.line_keys, match.settlement.line_count, match.channel_fee) == ((), 1, Decimal("0.60"))
    assert match.explanation[0].fact("lines") == 1


def test_the_explanation_of_an_exact_pair_is_the_one_a_match_in_the_core_carries() -> None:
    (match,) = run([channel_line(1, "100.00")], [payment(1, "100.00")]).matches
    assert match.explanation == exact_key_explanation("order_no")


def test_every_channel_day_is_reported_whether_settled_or_not() -> None:
    lines, payments = wechat_day()
    result = run(lines, payments)
    (day,) = result.settlements
    assert (day.first_day.day, day.net) == (1, Decimal("323.02"))


def test_an_alipay_fee_line_is_a_channel_fee_and_a_withdrawal_matches_its_bank_credit() -> None:
    fee = dataclasses.replace(
        channel_line(2, "-0.60", source=SourceKind.ALIPAY, order=1), kind=LineKind.FEE, line_key="ALIPAY:F:2"
    )
    payout = dataclasses.replace(
        channel_line(3, "-99.40", source=SourceKind.ALIPAY, order=0, hour=18),
        kind=LineKind.PAYOUT,
        line_key="ALIPAY:W:3",
        order_no=None,
    )
    paid = dataclasses.replace(payment(1, "100.00", channel=Channel.ALIPAY))
    result = run(
        [channel_line(1, "100.00", source=SourceKind.ALIPAY), fee, payout, bank_line(50, "99.40", day=2)], [paid]
    )
    steps = {m.step: m for m in result.matches}
    assert steps[MatchStep.CHANNEL_FEE].channel_fee == Decimal("0.60")
    assert steps[MatchStep.CHANNEL_FEE].related_payment_ids == (1,)
    assert steps[MatchStep.PAYOUT].line_keys == ("ALIPAY:W:3", "BANK:50")
    assert codes(steps[MatchStep.PAYOUT].explanation) == ["PAYOUT_ARRIVED"]
    assert steps[MatchStep.PAYOUT].explanation[0].fact("days") == 1
    assert codes(steps[MatchStep.CHANNEL_FEE].explanation) == ["CHANNEL_FEE"]
    assert result.exceptions == ()


def test_a_withdrawal_that_never_arrives_is_unreceived_after_the_payout_window() -> None:
    payout = dataclasses.replace(
        channel_line(3, "-99.40", source=SourceKind.ALIPAY), kind=LineKind.PAYOUT, order_no=None
    )
    assert run([payout], [], as_of=at(3)).pending_line_keys == (payout.line_key,)
    (exception,) = run([payout], [], as_of=at(6)).exceptions
    assert exception.kind is ExceptionKind.UNRECEIVED


# ---------------------------------------------------------------------------------------------- rules

UNIT_RULE = MatchRule(name="unit in memo", pattern=r"(?P<unit>\d+-\d+-\d+)", days_after=5)


def test_a_unit_code_in_the_memo_finds_that_units_payment() -> None:
    payments = [
        payment(1, "1200.00", channel=Channel.BANK_TRANSFER, unit=17, order=False),
        payment(2, "1200.00", channel=Channel.BANK_TRANSFER, unit=18, order=False),
    ]
    line = bank_line(1, "1200.00", memo="转账 3-1-502物业费")
    result = run([line], payments, [UNIT_RULE], unit_codes={"3-1-502": 17, "3-1-503": 18}, as_of=at(3))
    (match,) = result.matches
    assert (match.step, match.rule, match.payment_ids) == (MatchStep.RULE, "unit in memo", (1,))
    assert codes(match.explanation) == ["RULE", "PATTERN_FOUND", "AMOUNT_WITHIN", "DATE_WITHIN"]
    assert match.explanation[1].fact("text") == "3-1-502"
    assert match.explanation[1].fact("unit") == 17


def test_a_pattern_in_the_counterparty_name_points_at_a_fixed_unit() -> None:
    rule = MatchRule(name="shop tenant", pattern="星巴克", unit_id=40)
    line = bank_line(1, "8000.00", name="星巴克（上海）咖啡有限公司")
    result = run([line], [payment(1, "8000.00", channel=Channel.BANK_TRANSFER, unit=40, order=False, day=2)], [rule])
    assert result.matches[0].explanation[1].fact("field") == "counterparty_name"


@pytest.mark.parametrize(
    ("received", "matched"), [("999.00", True), ("998.99", False), ("1001.00", True), ("1001.01", False)]
)
def test_the_amount_tolerance_is_inclusive_at_its_edge(received: str, matched: bool) -> None:
    rule = MatchRule(name="within a yuan", amount_tolerance=Decimal("1.00"))
    result = run(
        [bank_line(1, received)], [payment(1, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=2)], [rule]
    )
    assert bool(result.matches) is matched
    if matched:
        assert result.matches[0].amount_difference == Decimal(received) - Decimal("1000.00")


@pytest.mark.parametrize(("line_day", "matched"), [(1, True), (4, True), (5, False)])
def test_the_date_window_counts_calendar_days_and_is_inclusive(line_day: int, matched: bool) -> None:
    rule = MatchRule(name="three days", days_after=3)
    paid = payment(1, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=1, hour=23)
    result = run([bank_line(1, "1000.00", day=line_day, hour=0)], [paid], [rule])
    assert bool(result.matches) is matched


def test_a_line_before_the_payment_needs_days_before() -> None:
    paid = payment(1, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=3)
    line = bank_line(1, "1000.00", day=2)
    assert run([line], [paid], [MatchRule(name="after only")]).matches == ()
    assert run([line], [paid], [MatchRule(name="a day either side", days_before=1)]).matches


def test_a_payer_name_in_pinyin_matches_the_name_in_characters() -> None:
    rule = MatchRule(name="by name", min_name_similarity=0.85)
    payments = [
        payment(1, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=2, payer="张三"),
        payment(2, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=2, payer="李四"),
    ]
    result = run([bank_line(1, "1000.00", name="ZHANG SAN")], payments, [rule])
    (match,) = result.matches
    assert match.payment_ids == (1,)
    name_part = match.explanation[-1]
    assert (name_part.code, name_part.fact("via"), name_part.fact("score")) == ("NAME_SIMILAR", "PINYIN", 1.0)


def test_two_equally_good_payments_are_left_for_a_person_with_both_suggested() -> None:
    payments = [payment(n, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=2) for n in (1, 2)]
    result = run([bank_line(1, "1000.00")], payments, [MatchRule(name="amount and date")], as_of=at(3))
    (exception,) = result.exceptions
    assert exception.kind is ExceptionKind.BANK_UNMATCHED
    assert exception.suggested_payment_ids == (1, 2)


def test_rules_are_tried_in_order_and_the_match_names_the_first_that_fits() -> None:
    rules = [MatchRule(name="by name", min_name_similarity=0.9), MatchRule(name="amount only")]
    paid = payment(1, "1000.00", channel=Channel.BANK_TRANSFER, order=False, day=2, payer="王五")
    (match,) = run([bank_line(1, "1000.00", name="赵六")], [paid], rules).matches
    assert (match.rule, match.explanation[0].fact("position")) == ("amount only", 2)


def test_rules_never_pick_a_payment_of_a_channel_they_do_not_cover() -> None:
    result = run(
        [bank_line(1, "100.00")], [payment(1, "100.00", order=False, day=2)], [MatchRule(name="bank only")], as_of=at(3)
    )
    assert result.matches == ()


# -------------------------------------------------------------------------------------------- inputs


def test_a_line_key_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        run([channel_line(1, "1.00"), channel_line(1, "1.00")], [])


def test_a_payment_of_a_channel_without_terms_is_refused() -> None:
    with pytest.raises(ValueError, match="CASH"):
        run([], [payment(1, "1.00", channel=Channel.CASH)])


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("3-1-502", "3-1-502"),
        ("3栋1单元502室", "3-1-502"),
        ("3号楼1单元502", "3-1-502"),
        ("３－１－５０２", "3-1-502"),
        ("a1栋102", "A1-102"),
        ("A1 / 102", "A1-102"),
    ],
)
def test_a_unit_code_is_read_the_same_however_it_is_written(written: str, code: str) -> None:
    assert unit_code(written) == code


def test_a_rule_finds_the_unit_of_a_code_written_another_way() -> None:
    rule = MatchRule(name="房号", pattern=r"(?P<unit>\d+栋\d+单元\d+)", days_after=5)
    payments = [
        payment(1, "1200.00", channel=Channel.BANK_TRANSFER, unit=17, order=False),
        payment(2, "1200.00", channel=Channel.BANK_TRANSFER, unit=18, order=False),
    ]
    line = bank_line(1, "1200.00", memo="3栋1单元503室 物业费")
    result = run([line], payments, [rule], unit_codes={"3-1-502": 17, "3-1-503": 18}, as_of=at(3))
    (match,) = result.matches
    assert (match.rule, match.payment_ids) == ("房号", (2,))
    assert match.explanation[1].fact("unit") == 18
