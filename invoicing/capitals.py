"""Amounts in Chinese capitals for 价税合计(大写) (pure).

The rules are the People's Bank of China's for filling in notes and settlement vouchers
(《正确填写票据和结算凭证的基本规定》), with the 圆 that invoices print where notes write 元:
- digits 零壹贰叁肆伍陆柒捌玖 with the units 拾佰仟, 万 and 亿 (up to 千亿, the highest unit the rules know);
  a ten is 壹拾, never a bare 拾;
- a zero between digits is written 零, several zeros in a row only once (6007.14: 陆仟零柒圆壹角肆分), and
  zeros at the end of the 万 or 亿 section are left out as the language does (107000: 壹拾万柒仟, but
  100700: 壹拾万零柒佰);
- when the 元 digit is 0 and 角 is not, 零 is written before 角 (1680.32: 壹仟陆佰捌拾圆零叁角贰分; the rules
  allow leaving it out, and we write it, as their first example does, so nothing can be slipped in);
  when 角 is 0 and 分 is not, 零 is written after 圆 (325.04: 叁佰贰拾伍圆零肆分);
- whole yuan end with 整 (壹佰圆整); an amount ending in 角 has no 整 (1409.50: 壹仟肆佰零玖圆伍角, as the
  rules write it), and one ending in 分 never does. Below one yuan there is no 圆 (伍角伍分); zero is 零圆整.
A negative amount, the total of a red-letter invoice, is the capitals of its size after 负, with nothing
between them (红字 -1680.32: 负壹仟陆佰捌拾圆零叁角贰分), as the platform's red-letter 数电发票 print it beside
（小写）¥-1680.32. The bracketed （负数） belongs to the older tax-control (税控) invoices, not to these.
"""

from __future__ import annotations

from decimal import Decimal

from billing.money import to_fen

__all__ = ["MAX_AMOUNT", "amount_in_capitals"]

MAX_AMOUNT = Decimal("999999999999.99")
NEGATIVE_MARK = "负"

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")
_SECTIONS = ("亿", "万", "")


def amount_in_capitals(amount: Decimal) -> str:
    """`amount` (whole fen, at most 999,999,999,999.99 either way) in capitals; see the module docstring."""
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValueError(f"capitals are written for amounts up to {MAX_AMOUNT}, not {amount}")
    fen = to_fen(amount)
    sign = NEGATIVE_MARK if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零圆整"
    text = _whole(yuan) + "圆" if yuan else ""
    if cents == 0:
        return f"{sign}{text}整"
    if yuan and (yuan % 10 == 0 or jiao == 0):
        text += "零"
    if jiao:
        text += _DIGITS[jiao] + "角"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    return sign + text


def _whole(yuan: int) -> str:
    """The yuan of a positive amount: 亿, 万 and units sections of four digits each."""
    sections = [yuan // 10**8, yuan // 10**4 % 10**4, yuan % 10**4]
    text = ""
    zero_pending = False
    for section, unit in zip(sections, _SECTIONS, strict=True):
        if section == 0:
            zero_pending = bool(text)
            continue
        if text and (zero_pending or section < 1000):
            text += "零"
        text += _section(section) + unit
        zero_pending = False
    return text


def _section(number: int) -> str:
    """Four digits or fewer, with the zeros inside written once and those after the last digit left out."""
    digits = f"{number:04d}"
    text = ""
    zero_pending = False
    for digit, place in zip(digits, _PLACES, strict=True):
        if digit == "0":
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[int(digit)] + place
    return text
