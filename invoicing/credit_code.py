"""The 统一社会信用代码 (unified social credit code) of companies and other organisations (pure), by
GB 32100-2015 (《法人和其他组织统一社会信用代码编码规则》).

Eighteen characters from the 31 digits and capitals that leave out I, O, S, V and Z: the registering
authority and the kind of organisation (2), the administrative division of the registering office
(6 digits), the subject's identifier (9), and a check character. With Ci the value of the i-th
character in the set and Wi = 3^(i−1) mod 31, the check character is the one whose value is
31 − (Σ Ci × Wi mod 31), and 0 when that is 31. Every weight is prime to 31, so a single wrong
character, or two different neighbours swapped, always changes the check character.
"""

from __future__ import annotations

from kernel.errors import BadInput

__all__ = ["CODE_CHARACTERS", "CODE_LENGTH", "check_character", "checked_credit_code", "credit_code_problem"]

CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_LENGTH = 18
_VALUE = {character: value for value, character in enumerate(CODE_CHARACTERS)}
_WEIGHTS = tuple(pow(3, position, 31) for position in range(CODE_LENGTH - 1))


def check_character(prefix: str) -> str:
    """The check character of the first 17 characters of a code."""
    if len(prefix) != CODE_LENGTH - 1 or any(character not in _VALUE for character in prefix):
        raise ValueError(f"a code's first 17 characters come from {CODE_CHARACTERS}, got {prefix!r}")
    weighted = sum(_VALUE[character] * weight for character, weight in zip(prefix, _WEIGHTS, strict=True))
    return CODE_CHARACTERS[(31 - weighted % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """What is wrong with `code` (in English, for the error message), or None when it is a valid code."""
    if len(code) != CODE_LENGTH:
        return f"a unified social credit code has 18 characters, not {len(code)}"
    for position, character in enumerate(code, start=1):
        if character not in _VALUE:
            return f"character {position} ({character!r}) is not one of the digits and capitals a code uses (no I, O, S, V or Z)"
    if not code[2:8].isdigit():
        return "characters 3 to 8 are the administrative division, six digits"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"the check character is {code[17]!r} but these 17 characters need {expected!r}: a character is mistyped"
    return None


def checked_credit_code(value: str, *, field: str) -> str:
    """`value` in capitals without spaces, when it is a valid code; else BAD_USER_INPUT on `field`."""
    code = "".join(value.split()).upper()
    if (problem := credit_code_problem(code)) is not None:
        raise BadInput(f"{field}: {problem}.", field=field)
    return code
