"""The tax split of a tax-inclusive line, per line and summed over an invoice: hand-computed fixtures and
laws over the rates and treatments a project configures."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.tax import InvoiceTotals, TaxSplit, checked_rate, invoice_totals, split_tax
from kernel.errors import BadInput
from kernel.vocabulary import TaxTreatment

GENERAL, SIMPLIFIED, EXEMPT = TaxTreatment.GENERAL, TaxTreatment.SIMPLIFIED, TaxTreatment.EXEMPT

# (amount, rate, treatment) → (net, tax), worked out by hand: tax = amount ÷ (1 + rate) × rate.
FIXTURES = [
    ("106.00", "0.06", GENERAL, "100.00", "6.00"),  # 106 ÷ 1.06 × 0.06 = 6 exactly
    ("100.00", "0.06", GENERAL, "94.34", "5.66"),  # 5.660377…
    ("100.00", "0.09", GENERAL, "91.74", "8.26"),  # 8.256880…
    ("100.00", "0.13", GENERAL, "88.50", "11.50"),  # 11.504424…
    ("100.00", "0.03", SIMPLIFIED, "97.09", "2.91"),  # 2.912621…
    ("100.00", "0.05", SIMPLIFIED, "95.24", "4.76"),  # 4.761904…
    ("100.00", "0", GENERAL, "100.00", "0.00"),  # zero-rated
    ("100.00", "0", EXEMPT, "100.00", "0.00"),  # exempt
    ("248.00", "0.06", GENERAL, "233.96", "14.04"),  # 14.037735…
    ("0.01", "0.13", GENERAL, "0.01", "0.00"),  # 0.00115…: a fen too small to carry tax
    ("0.09", "0.13", GENERAL, "0.08", "0.01"),  # 0.01035…
    ("-100.00", "0.06", GENERAL, "-94.34", "-5.66"),  # a red-letter line: the blue one negated
    # A rate with an even denominator has true halves: 0.03 ÷ 1.2 × 0.2 = 0.005 rounds up, away from zero.
    ("0.03", "0.2", GENERAL, "0.02", "0.01"),
    ("-0.03", "0.2", GENERAL, "-0.02", "-0.01"),
    ("99999999.99", "0.13", GENERAL, "88495575.21", "11504424.78"),  # 11504424.7776…
]


@pytest.mark.parametrize(("amount", "rate", "treatment", "net", "tax"), FIXTURES)
def test_a_line_splits_into_net_and_tax_as_worked_out_by_hand(amount: str, rate: str, treatment: TaxTreatment, net: str, tax: str) -> None:
    split = split_tax(D(amount), rate=D(rate), treatment=treatment)

    assert split == TaxSplit(amount=D(amount), net=D(net), tax=D(tax))


def test_an_invoice_adds_its_lines_to_the_fen() -> None:
    lines = [
        split_tax(D("248.00"), rate=D("0.06"), treatment=GENERAL),
        split_tax(D("35.20"), rate=D("0.09"), treatment=GENERAL),
        split_tax(D("12.34"), rate=D("0.03"), treatment=SIMPLIFIED),
        split_tax(D("10.00"), rate=D("0"), treatment=EXEMPT),
    ]
    # 14.04 + 2.91 (35.20 × 9/109 = 2.9064…) + 0.36 (12.34 × 3/103 = 0.3594…) + 0
    assert invoice_totals(lines) == InvoiceTotals(net=D("288.23"), tax=D("17.31"), amount=D("305.54"))


def test_an_exempt_line_must_have_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        split_tax(D("10.00"), rate=D("0.06"), treatment=EXEMPT)


def test_a_line_must_be_a_whole_number_of_fen() -> None:
    with pytest.raises(ValueError):
        split_tax(D("10.001"), rate=D("0.06"), treatment=GENERAL)


@pytest.mark.parametrize(
    ("rate", "treatment", "problem"),
    [
        ("-0.01", GENERAL, "at least 0"),
        ("1", GENERAL, "below 1"),
        ("0.06001", GENERAL, "four decimal places"),
        ("0.06", EXEMPT, "exempt"),
        ("0", SIMPLIFIED, "simplified"),
        ("NaN", GENERAL, "number"),
    ],
)
def test_a_configured_rate_is_refused_with_the_reason(rate: str, treatment: TaxTreatment, problem: str) -> None:
    with pytest.raises(BadInput) as refused:
        checked_rate(D(rate), treatment, field="rate")

    assert refused.value.field == "rate"
    assert problem in refused.value.message


def test_a_configured_rate_is_kept_with_four_places() -> None:
    assert str(checked_rate(D("0.06"), GENERAL, field="rate")) == "0.0600"


# --- laws ------------------------------------------------------------------------------------------

RATES = [D("0"), D("0.03"), D("0.05"), D("0.06"), D("0.09"), D("0.13")]


@st.composite
def taxed(draw: st.DrawFn) -> tuple[D, D, TaxTreatment]:
    """A tax-inclusive amount (either sign, whole fen) with a rate and a treatment that go together."""
    amount = D(draw(st.integers(min_value=-10**11, max_value=10**11))).scaleb(-2)
    treatment = draw(st.sampled_from(list(TaxTreatment)))
    if treatment is EXEMPT:
        rate = D("0")
    elif treatment is SIMPLIFIED:
        rate = draw(st.sampled_from([D("0.03"), D("0.05")]))
    else:
        rate = draw(st.sampled_from(RATES))
    return amount, rate, treatment


def exact_tax(amount: D, rate: D) -> D:
    """amount ÷ (1 + rate) × rate in exact fractions, rounded half away from zero to the fen."""
    value = Fraction(amount) / (1 + Fraction(rate)) * Fraction(rate)
    return D(value.numerator) / D(value.denominator) if value == 0 else _round_fraction(value)


def _round_fraction(value: Fraction) -> D:
    fen = abs(value) * 100
    whole, rest = divmod(fen.numerator, fen.denominator)
    if 2 * rest >= fen.denominator:
        whole += 1
    return (D(whole) if value > 0 else -D(whole)).scaleb(-2)


@given(taxed())
def test_net_and_tax_add_up_to_the_amount(line: tuple[D, D, TaxTreatment]) -> None:
    amount, rate, treatment = line
    split = split_tax(amount, rate=rate, treatment=treatment)
    assert split.net + split.tax == amount
    assert split.amount == amount


@given(taxed())
def test_the_tax_is_the_exact_quotient_rounded_half_up(line: tuple[D, D, TaxTreatment]) -> None:
    amount, rate, treatment = line
    split = split_tax(amount, rate=rate, treatment=treatment)
    assert split.tax == exact_tax(amount, rate)
    # and what Decimal's own ROUND_HALF_UP makes of the brief's formula, whenever no digit was lost on the way
    naive = (amount / (1 + rate) * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert split.tax == naive


@given(taxed())
def test_a_negated_line_splits_into_the_negated_parts(line: tuple[D, D, TaxTreatment]) -> None:
    amount, rate, treatment = line
    split, negated = split_tax(amount, rate=rate, treatment=treatment), split_tax(-amount, rate=rate, treatment=treatment)
    assert (negated.net, negated.tax) == (-split.net, -split.tax)


@given(taxed())
def test_tax_never_exceeds_its_share_of_the_amount_nor_changes_sign(line: tuple[D, D, TaxTreatment]) -> None:
    amount, rate, treatment = line
    split = split_tax(amount, rate=rate, treatment=treatment)
    assert abs(split.tax) <= abs(amount)
    assert split.tax == 0 or (split.tax > 0) == (amount > 0)
    if treatment is EXEMPT or rate == 0:
        assert split.tax == 0


@given(st.lists(taxed(), max_size=40))
def test_an_invoice_total_is_the_sum_of_its_lines_and_adds_up(lines: list[tuple[D, D, TaxTreatment]]) -> None:
    splits = [split_tax(amount, rate=rate, treatment=treatment) for amount, rate, treatment in lines]
    totals = invoice_totals(splits)
    assert totals.net == sum((split.net for split in splits), D("0.00"))  # 合计金额
    assert totals.tax == sum((split.tax for split in splits), D("0.00"))  # 合计税额
    assert totals.net + totals.tax == totals.amount  # 价税合计
    assert totals.amount == sum((amount for amount, _, _ in lines), D("0.00"))
    assert all(value == value.quantize(D("0.01")) for value in (totals.net, totals.tax, totals.amount))


def test_a_line_refused_says_why() -> None:
    with pytest.raises(ValueError) as exempt:
        split_tax(D("10.00"), rate=D("0.06"), treatment=EXEMPT)
    with pytest.raises(ValueError) as five_places:
        split_tax(D("10.00"), rate=D("0.00005"), treatment=GENERAL)
    with pytest.raises(ValueError) as whole:
        split_tax(D("10.00"), rate=D("1"), treatment=GENERAL)

    assert str(exempt.value) == "an exempt line has no rate, got 0.06"
    assert str(five_places.value) == "a rate is from 0 to below 1 with at most 4 decimal places, got 0.00005"
    assert str(whole.value) == "a rate is from 0 to below 1 with at most 4 decimal places, got 1"


def test_a_rate_that_is_not_a_number_is_refused_on_its_field() -> None:
    with pytest.raises(BadInput) as refused:
        checked_rate("six percent", GENERAL, field="taxRate")  # type: ignore[arg-type]

    assert (refused.value.field, refused.value.message) == ("taxRate", "taxRate must be a number such as 0.06.")


@pytest.mark.parametrize("treatment", [GENERAL, EXEMPT])
def test_a_zero_rate_is_kept_for_zero_rated_and_exempt_fees(treatment: TaxTreatment) -> None:
    assert str(checked_rate(D("0"), treatment, field="rate")) == "0.0000"
