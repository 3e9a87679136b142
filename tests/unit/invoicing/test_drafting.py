"""What an invoice lists for a payment (per fee kind, split into net and tax) and what a red-letter
invoice takes back: fixtures worked out by hand and laws over generated bills and payments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.drafting import (
    AllocationRow,
    BillPayments,
    IssuedLine,
    LineTerms,
    MissingTaxMapping,
    PaymentFacts,
    blue_lines,
    payment_shares,
    red_lines,
)
from invoicing.fee_kinds import LATE_FEE, PREPAYMENT
from kernel.vocabulary import TaxTreatment

ZERO = D("0.00")


def terms(rate: str = "0.06", treatment: TaxTreatment = TaxTreatment.GENERAL, name: str = "物业费") -> LineTerms:
    return LineTerms(
        category="物业管理服务", item_name=name, classification_code="3040802010000000000", unit=None,
        rate=D(rate), treatment=treatment, mapping_id=None,
    )


TERMS = {
    "PROPERTY": terms(),
    "ELECTRICITY": terms("0.13", name="电费"),
    "COMMON": terms("0.13", name="公摊电费"),
    LATE_FEE: terms(name="滞纳金"),
    PREPAYMENT: terms(name="预收物业费"),
}


# --- what a payment paid per fee kind -----------------------------------------------------------------


def test_a_payment_of_a_whole_bill_pays_each_fee_kind_what_the_bill_charged() -> None:
    bill = BillPayments(1, "2026-10", {"PROPERTY": D("247.80"), "ELECTRICITY": D("52.20")}, [AllocationRow(7, D("300.00"), ZERO)])

    shares = payment_shares(PaymentFacts(7, D("300.00")), [bill])

    assert shares == {"PROPERTY": D("247.80"), "ELECTRICITY": D("52.20")}


def test_a_part_payment_is_split_in_proportion_and_the_parts_add_up_to_the_bill() -> None:
    # 100 of 300: 247.80 × 100/300 = 82.60, 52.20 × 100/300 = 17.40; then 150: the cumulative 250 splits into
    # 206.50 / 43.50, so the second payment's parts are 123.90 / 26.10; the last 50 completes both kinds.
    rows = [AllocationRow(1, D("100.00"), ZERO), AllocationRow(2, D("150.00"), ZERO), AllocationRow(3, D("50.00"), ZERO)]
    bill = BillPayments(1, "2026-10", {"PROPERTY": D("247.80"), "ELECTRICITY": D("52.20")}, rows)

    parts = [payment_shares(PaymentFacts(n, amount), [bill]) for n, amount in ((1, D("100")), (2, D("150")), (3, D("50")))]

    assert parts == [
        {"PROPERTY": D("82.60"), "ELECTRICITY": D("17.40")},
        {"PROPERTY": D("123.90"), "ELECTRICITY": D("26.10")},
        {"PROPERTY": D("41.30"), "ELECTRICITY": D("8.70")},
    ]


def test_late_fees_and_credit_are_fee_kinds_of_their_own() -> None:
    bill = BillPayments(1, "2026-09", {"PROPERTY": D("200.00")}, [AllocationRow(5, D("200.00"), D("3.40"))])

    shares = payment_shares(PaymentFacts(5, D("500.00"), refunded=D("96.60")), [bill])

    assert shares == {"PROPERTY": D("200.00"), LATE_FEE: D("3.40"), PREPAYMENT: D("200.00")}


def test_a_discount_line_lowers_its_fee_kind() -> None:
    # lines PROPERTY 250.00 and its discount −25.00, ELECTRICITY 75.00: weights 225 : 75
    bill = BillPayments(1, "2026-10", {"PROPERTY": D("225.00"), "ELECTRICITY": D("75.00")}, [AllocationRow(1, D("30.00"), ZERO)])

    assert payment_shares(PaymentFacts(1, D("30.00")), [bill]) == {"PROPERTY": D("22.50"), "ELECTRICITY": D("7.50")}


def test_a_payment_that_paid_more_than_it_kept_is_refused() -> None:
    bill = BillPayments(1, "2026-10", {"PROPERTY": D("100.00")}, [AllocationRow(1, D("100.00"), ZERO)])
    with pytest.raises(ValueError):
        payment_shares(PaymentFacts(1, D("100.00"), refunded=D("1.00")), [bill])


# --- blue lines ---------------------------------------------------------------------------------------


def test_blue_lines_split_every_share_by_its_fee_kinds_terms() -> None:
    lines = blue_lines([(7, {"PROPERTY": D("247.80"), "ELECTRICITY": D("52.20"), LATE_FEE: D("1.06")})], TERMS)

    assert [(line.fee_kind, line.split.amount, line.split.net, line.split.tax, line.quantity, line.unit_price) for line in lines] == [
        ("PROPERTY", D("247.80"), D("233.77"), D("14.03"), D("1"), D("233.77")),  # 14.026…
        ("ELECTRICITY", D("52.20"), D("46.19"), D("6.01"), D("1"), D("46.19")),  # 6.005…
        (LATE_FEE, D("1.06"), D("1.00"), D("0.06"), D("1"), D("1.00")),
    ]
    assert {line.payment_id for line in lines} == {7}


def test_issuing_is_refused_naming_every_fee_kind_without_a_mapping() -> None:
    with pytest.raises(MissingTaxMapping) as refused:
        blue_lines([(7, {"PROPERTY": D("1.00"), "WATER": D("2.00")}), (8, {"PARKING": D("3.00")})], TERMS, field="paymentIds")

    assert refused.value.fee_kinds == ("PARKING", "WATER")
    assert "PARKING" in refused.value.message and "WATER" in refused.value.message
    assert refused.value.field == "paymentIds"


# --- red lines ----------------------------------------------------------------------------------------


def issued(position: int, payment: int, kind: str, amount: str, tax: str) -> IssuedLine:
    return IssuedLine(position, payment, kind, TERMS[kind], D(amount), D(tax))


def test_a_reversal_takes_back_everything_left_of_its_payment_tax_and_all() -> None:
    left = [
        issued(1, 7, "PROPERTY", "247.80", "14.03"),
        issued(2, 7, PREPAYMENT, "30.00", "1.70"),
        issued(3, 8, "PROPERTY", "10.00", "0.57"),  # another payment's line on the same invoice
    ]

    lines = red_lines(left, payment_id=7, amount=None)

    assert [(line.original_position, line.split.amount, line.split.tax, line.quantity) for line in lines] == [
        (1, D("-247.80"), D("-14.03"), D("-1")),
        (2, D("-30.00"), D("-1.70"), D("-1")),
    ]


def test_a_refund_takes_back_credit_first_with_the_tax_the_formula_gives() -> None:
    left = [issued(1, 7, "PROPERTY", "247.80", "14.03"), issued(2, 7, PREPAYMENT, "30.00", "1.70")]

    lines = red_lines(left, payment_id=7, amount=D("20.00"))

    # 20.00 × 6/106 = 1.1320…
    assert [(line.original_position, line.split.amount, line.split.net, line.split.tax) for line in lines] == [
        (2, D("-20.00"), D("-18.87"), D("-1.13")),
    ]


def test_the_red_line_that_empties_a_line_takes_what_is_left_of_its_tax() -> None:
    # 0.03 left with 0.01 of tax (a blue 0.09 → 0.01 that refunds left so): 0.03 × 6/106 = 0.0017 would be
    # 0.00, but the line must end at zero tax as well as zero amount.
    left = [issued(2, 7, PREPAYMENT, "0.03", "0.01")]

    (line,) = red_lines(left, payment_id=7, amount=D("0.03"))

    assert (line.split.amount, line.split.tax) == (D("-0.03"), D("-0.01"))


def test_a_part_never_takes_more_tax_than_is_left() -> None:
    # 9.99 × 6/106 = 0.5654… → 0.57, but only 0.56 of tax is left on the line.
    left = [issued(2, 7, PREPAYMENT, "10.00", "0.56")]

    (line,) = red_lines(left, payment_id=7, amount=D("9.99"))

    assert (line.split.amount, line.split.net, line.split.tax) == (D("-9.99"), D("-9.43"), D("-0.56"))


def test_a_refund_beyond_the_credit_takes_the_last_lines_next() -> None:
    left = [issued(1, 7, "PROPERTY", "100.00", "5.66"), issued(2, 7, "ELECTRICITY", "50.00", "5.75"), issued(3, 7, PREPAYMENT, "5.00", "0.28")]

    lines = red_lines(left, payment_id=7, amount=D("25.00"))

    assert [(line.original_position, line.split.amount) for line in lines] == [(2, D("-20.00")), (3, D("-5.00"))]


def test_a_red_invoice_never_takes_more_than_is_left() -> None:
    left = [issued(1, 7, PREPAYMENT, "5.00", "0.28")]
    lines = red_lines(left, payment_id=7, amount=D("9.00"))
    assert [line.split.amount for line in lines] == [D("-5.00")]


# --- laws ---------------------------------------------------------------------------------------------

fen = st.integers(min_value=1, max_value=10**7).map(lambda n: D(n).scaleb(-2))


@st.composite
def paid_bills(draw: st.DrawFn) -> tuple[dict[str, D], list[D]]:
    """A bill's charges per fee kind (1–4 kinds) and the parts it was paid in, adding up to its total."""
    kinds = draw(st.lists(st.sampled_from(["PROPERTY", "ELECTRICITY", "COMMON", "WATER"]), min_size=1, max_size=4, unique=True))
    charges = {kind: draw(fen) for kind in kinds}
    total = sum(charges.values(), ZERO)
    cuts = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=int(total * 100) - 1), max_size=5)) if total > D("0.01") else set()))
    bounds = [0, *cuts, int(total * 100)]
    parts = [D(b - a).scaleb(-2) for a, b in zip(bounds, bounds[1:], strict=False)]
    return charges, parts


@given(paid_bills())
def test_each_payment_is_invoiced_for_exactly_what_it_paid_and_never_a_negative_line(bill: tuple[dict[str, D], list[D]]) -> None:
    charges, parts = bill
    rows = [AllocationRow(n, part, ZERO) for n, part in enumerate(parts, start=1)]
    paid = BillPayments(1, "2026-10", charges, rows)
    for n, part in enumerate(parts, start=1):
        shares = payment_shares(PaymentFacts(n, part), [paid])
        assert sum(shares.values(), ZERO) == part
        assert all(share > 0 for share in shares.values())


@given(paid_bills().filter(lambda bill: len(bill[0]) <= 2))
def test_the_parts_of_a_bill_paid_in_instalments_add_up_to_its_charges_per_fee_kind(bill: tuple[dict[str, D], list[D]]) -> None:
    # With one or two fee kinds a larger total never gives a kind less (no Alabama paradox), so the
    # invoices of a bill's instalments add up per kind to exactly what the bill charged.
    charges, parts = bill
    rows = [AllocationRow(n, part, ZERO) for n, part in enumerate(parts, start=1)]
    paid = BillPayments(1, "2026-10", charges, rows)
    totals: dict[str, D] = {}
    for n, part in enumerate(parts, start=1):
        for kind, share in payment_shares(PaymentFacts(n, part), [paid]).items():
            totals[kind] = totals.get(kind, ZERO) + share
    assert totals == charges


@given(st.lists(st.tuples(st.sampled_from(list(TERMS)), fen), min_size=1, max_size=6, unique_by=lambda t: t[0]), st.data())
def test_refunds_then_a_reversal_take_back_each_line_exactly(original: list[tuple[str, D]], data: st.DataObject) -> None:
    lines = blue_lines([(7, dict(original))], TERMS)
    left = [IssuedLine(n, 7, line.fee_kind, line.terms, line.split.amount, line.split.tax) for n, line in enumerate(lines, start=1)]
    total = sum((line.amount for line in left), ZERO)
    refunds = data.draw(st.lists(st.integers(min_value=1, max_value=max(1, int(total * 100))), max_size=3))
    taken: dict[int, tuple[D, D]] = {line.position: (ZERO, ZERO) for line in left}
    for refund in refunds:
        for red in red_lines(left, payment_id=7, amount=D(refund).scaleb(-2)):
            amount, tax = taken[red.original_position]
            taken[red.original_position] = (amount - red.split.amount, tax - red.split.tax)
            assert red.split.amount < 0 and red.split.net + red.split.tax == red.split.amount
            assert red.split.amount <= red.split.tax <= 0
        left = [
            IssuedLine(line.position, 7, line.fee_kind, line.terms, original_line.split.amount - taken[line.position][0],
                       original_line.split.tax - taken[line.position][1])
            for line, original_line in zip(left, lines, strict=True)
        ]
    for red in red_lines(left, payment_id=7, amount=None):
        amount, tax = taken[red.original_position]
        taken[red.original_position] = (amount - red.split.amount, tax - red.split.tax)
    for position, line in enumerate(lines, start=1):
        assert taken[position] == (line.split.amount, line.split.tax)
