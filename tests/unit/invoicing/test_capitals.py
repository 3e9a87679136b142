"""价税合计(大写): amounts in Chinese capitals, by the People's Bank of China's rules for filling in notes
and settlement vouchers (《正确填写票据和结算凭证的基本规定》), with the 圆 the invoice prints."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.capitals import MAX_AMOUNT, amount_in_capitals

FIXTURES = [
    ("0.00", "零圆整"),
    ("0.05", "伍分"),
    ("0.50", "伍角"),
    ("0.55", "伍角伍分"),
    ("1.00", "壹圆整"),
    ("10.00", "壹拾圆整"),
    ("15.00", "壹拾伍圆整"),
    ("100.00", "壹佰圆整"),
    ("105.00", "壹佰零伍圆整"),
    ("1005.05", "壹仟零伍圆零伍分"),
    # the rules' own examples (written with 元 there)
    ("1409.50", "壹仟肆佰零玖圆伍角"),  # a zero between digits is written; nothing after 角
    ("6007.14", "陆仟零柒圆壹角肆分"),  # several zeros in a row are one 零
    ("1680.32", "壹仟陆佰捌拾圆零叁角贰分"),  # the 元 digit is 0 and 角 is not: 零 before 角
    ("107000.53", "壹拾万柒仟圆零伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖圆零贰分"),  # 角 is 0 and 分 is not: 零 after 圆
    ("325.04", "叁佰贰拾伍圆零肆分"),
    # zeros around the 万 and 亿 sections
    ("100700.00", "壹拾万零柒佰圆整"),
    ("100000000.00", "壹亿圆整"),
    ("100010000.00", "壹亿零壹万圆整"),
    ("101000000.00", "壹亿零壹佰万圆整"),
    ("110000000.00", "壹亿壹仟万圆整"),
    ("100000001.00", "壹亿零壹圆整"),
    ("12003400.00", "壹仟贰佰万叁仟肆佰圆整"),
    ("1000.10", "壹仟圆零壹角"),
    ("20.30", "贰拾圆零叁角"),
    ("305.54", "叁佰零伍圆伍角肆分"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分"),
    # a red-letter invoice's negative total
    ("-100.00", "负壹佰圆整"),
    ("-0.05", "负伍分"),
    ("-1680.32", "负壹仟陆佰捌拾圆零叁角贰分"),
]


def test_a_red_letter_total_is_its_size_in_capitals_right_after_负_without_brackets() -> None:
    # 数电 red-letter invoices print 负 against the capitals; （负数） was the tax-control system's form.
    for amount in ("-20.00", "-0.01", "-100700.00"):
        written = amount_in_capitals(D(amount))
        assert written == "负" + amount_in_capitals(-D(amount))
        assert "（" not in written and "数" not in written


@pytest.mark.parametrize(("amount", "capitals"), FIXTURES)
def test_an_amount_is_written_in_capitals_as_the_rules_say(amount: str, capitals: str) -> None:
    assert amount_in_capitals(D(amount)) == capitals


@pytest.mark.parametrize("amount", ["0.001", "1000000000000.00", "-1000000000000.00", "NaN", "Infinity"])
def test_an_amount_that_cannot_be_written_is_refused(amount: str) -> None:
    with pytest.raises(ValueError):
        amount_in_capitals(D(amount))


# --- laws: the capitals read back to the amount, and the zero and 整 rules hold ------------------------

DIGITS = {c: n for n, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def read_capitals(text: str) -> D:
    """The amount that capitals say: an independent reader, the oracle of the laws below."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    whole_text, fraction_text = text.split("圆") if "圆" in text else ("", text)
    fen = sum(
        DIGITS[digit] * (10 if unit == "角" else 1)
        for digit, unit in zip(fraction_text, fraction_text[1:], strict=False)
        if digit in DIGITS and unit in ("角", "分")
    )
    return sign * (D(_read_whole(whole_text)) + D(fen).scaleb(-2))


def _read_whole(text: str) -> int:
    total = section = 0
    digit = 0
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char in SMALL_UNITS:
            section += digit * SMALL_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    return total + section + digit


amounts = st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1).map(lambda fen: D(fen).scaleb(-2))


@given(amounts)
def test_capitals_read_back_to_the_amount(amount: D) -> None:
    assert read_capitals(amount_in_capitals(amount)) == amount


@given(amounts)
def test_zeros_are_written_once_and_never_before_a_unit_or_at_the_end(amount: D) -> None:
    capitals = amount_in_capitals(amount)
    assert "零零" not in capitals
    for unit in ("万", "亿", "圆", "角", "分", "整"):
        if capitals != "零圆整":
            assert f"零{unit}" not in capitals
    assert not capitals.endswith("零")


@given(amounts)
def test_whole_yuan_end_with_zheng_and_nothing_else_does(amount: D) -> None:
    capitals = amount_in_capitals(amount)
    fen = abs(int(amount.scaleb(2))) % 100
    assert capitals.endswith("圆整") == (fen == 0)
    assert capitals.endswith("分") == (fen % 10 != 0)
    assert capitals.endswith("角") == (fen != 0 and fen % 10 == 0)


def test_the_largest_amount_is_below_a_trillion() -> None:
    assert MAX_AMOUNT == D("999999999999.99")


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("100001000.00", "壹亿零壹仟圆整"),  # an empty 万 section between two others is one 零, before 仟 too
        ("1011.00", "壹仟零壹拾壹圆整"),  # one 零 for one gap, none after it
        ("10101.00", "壹万零壹佰零壹圆整"),
    ],
)
def test_each_gap_of_zeros_is_one_zero_and_only_a_gap_gets_one(amount: str, capitals: str) -> None:
    assert amount_in_capitals(D(amount)) == capitals


def test_the_refusal_says_the_largest_amount_written() -> None:
    with pytest.raises(ValueError) as refused:
        amount_in_capitals(D("1000000000000.00"))

    assert str(refused.value) == "capitals are written for amounts up to 999999999999.99, not 1000000000000.00"
