"""The 18-character 统一社会信用代码 and its check character (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.credit_code import CODE_CHARACTERS, check_character, checked_credit_code, credit_code_problem
from kernel.errors import BadInput

VALID = [
    "91350100M000100Y43",  # the standard's worked example, with the check character it computes
    "91440300708461136T",
    "91110000100005220B",
]


@pytest.mark.parametrize("code", VALID)
def test_a_code_with_its_check_character_is_valid(code: str) -> None:
    assert credit_code_problem(code) is None
    assert check_character(code[:17]) == code[17]


def test_the_standards_example_works_out_as_it_does_there() -> None:
    # Σ Ci × Wi = 1640, 1640 mod 31 = 28, 31 − 28 = 3: the check character is 3, so …Y4Z is not a code
    # (Z is not even one of the characters).
    assert check_character("91350100M000100Y4") == "3"
    assert "'Z'" in (credit_code_problem("91350100M000100Y4Z") or "")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100I000100Y43", "I"),  # I, O, S, V and Z are not in the character set
        ("91350100O000100Y43", "O"),
        ("913501A0M000100Y43", "administrative division"),  # characters 3–8 are digits
        ("91350100M000100Y44", "check character"),
    ],
)
def test_a_wrong_code_is_refused_with_what_is_wrong(code: str, problem: str) -> None:
    assert problem in (credit_code_problem(code) or "")


def test_a_code_is_read_in_capitals_without_spaces() -> None:
    assert checked_credit_code(" 91440300708461136t ", field="taxCode") == "91440300708461136T"


def test_a_wrong_code_is_bad_input_on_its_field() -> None:
    with pytest.raises(BadInput) as refused:
        checked_credit_code("91350100M000100Y4Z", field="buyer.taxCode")
    assert refused.value.field == "buyer.taxCode"


# --- laws ------------------------------------------------------------------------------------------

body_characters = st.sampled_from(CODE_CHARACTERS)


@st.composite
def prefixes(draw: st.DrawFn) -> str:
    """Seventeen characters: two of the set, six digits (the division), nine of the set."""
    head = "".join(draw(st.lists(body_characters, min_size=2, max_size=2)))
    division = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=6)))
    subject = "".join(draw(st.lists(body_characters, min_size=9, max_size=9)))
    return head + division + subject


@given(prefixes())
def test_any_prefix_with_its_check_character_is_a_valid_code(prefix: str) -> None:
    assert credit_code_problem(prefix + check_character(prefix)) is None


@given(prefixes(), st.integers(min_value=0, max_value=17), body_characters)
def test_every_single_wrong_character_is_caught(prefix: str, position: int, replacement: str) -> None:
    code = prefix + check_character(prefix)
    if code[position] == replacement or (2 <= position <= 7 and not replacement.isdigit()):
        return
    altered = code[:position] + replacement + code[position + 1 :]
    assert credit_code_problem(altered) is not None


@given(prefixes(), st.integers(min_value=0, max_value=16))
def test_every_swap_of_two_neighbouring_characters_is_caught(prefix: str, position: int) -> None:
    code = prefix + check_character(prefix)
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert credit_code_problem(swapped) is not None
