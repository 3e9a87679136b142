"""Specification of personal-data validation, encryption, blind indexes and masking."""

import datetime as dt
import hashlib
import hmac
import string
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from db.personal_data import (
    LOOKUP_KEY_INFO,
    PERSONAL_DATA_KEY_SALT,
    InvalidPersonalDataError,
    PersonalDataCipher,
    PersonalDataDecryptionError,
    mask_national_id,
    mask_phone,
    national_id_check_character,
    normalize_national_id,
    normalize_phone,
)

# The worked examples printed in GB 11643-1999 itself.
STANDARD_EXAMPLE_ID = "11010519491231002X"
STANDARD_EXAMPLE_ID_1880 = "440524188001010014"
VALID_ID = "110101199003071233"
VALID_ID_ENDING_IN_X = "32010619851215456X"


# --- national ID check character ------------------------------------------------------------


def test_check_character_of_standard_example_is_x() -> None:
    assert national_id_check_character("11010519491231002") == "X"


def test_check_character_of_second_standard_example_is_4() -> None:
    assert national_id_check_character("44052418800101001") == "4"


@pytest.mark.parametrize("digits", ["1101051949123100", "110105194912310021", "1101051949123100A"])
def test_check_character_refuses_anything_but_17_digits(digits: str) -> None:
    with pytest.raises(ValueError):
        national_id_check_character(digits)


# --- normalize_national_id ------------------------------------------------------------------


def test_valid_id_is_returned_unchanged() -> None:
    assert normalize_national_id(VALID_ID) == VALID_ID


def test_lower_case_x_is_upper_cased() -> None:
    assert normalize_national_id("11010519491231002x") == STANDARD_EXAMPLE_ID


def test_spaces_and_full_width_digits_are_normalized() -> None:
    assert normalize_national_id(" １１０１０５ 19491231 002Ｘ ") == STANDARD_EXAMPLE_ID


def test_id_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="check digit does not match"):
        normalize_national_id("110101199003071234")


def test_id_with_x_where_a_digit_belongs_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="check digit does not match"):
        normalize_national_id("11010119900307123X")


def test_fifteen_digit_id_is_refused_as_obsolete() -> None:
    with pytest.raises(InvalidPersonalDataError, match="15-digit ID numbers are obsolete"):
        normalize_national_id("110105491231002")


@pytest.mark.parametrize(
    "text", ["11010519491231002", "11010519491231002X1", "1101051949123100XX", "A1010519491231002X"]
)
def test_id_of_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(InvalidPersonalDataError, match="must be 18 characters"):
        normalize_national_id(text)


def test_id_with_impossible_birth_date_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="impossible birth date 19900230"):
        normalize_national_id("110101199002301232")


def test_id_born_before_1900_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="birth year 1880 is before 1900"):
        normalize_national_id(STANDARD_EXAMPLE_ID_1880)


def test_empty_id_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="empty"):
        normalize_national_id("  ")


def test_invalid_personal_data_error_is_a_value_error() -> None:
    assert issubclass(InvalidPersonalDataError, ValueError)


@st.composite
def valid_national_ids(draw: st.DrawFn) -> str:
    region = draw(st.text(alphabet=string.digits, min_size=6, max_size=6))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
    sequence = draw(st.text(alphabet=string.digits, min_size=3, max_size=3))
    body = f"{region}{birth:%Y%m%d}{sequence}"
    return body + national_id_check_character(body)


@given(valid_national_ids())
def test_every_well_formed_id_with_its_check_character_is_accepted(national_id: str) -> None:
    assert normalize_national_id(national_id.lower()) == national_id


@given(valid_national_ids(), st.integers(0, 16), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_id_is_detected(
    national_id: str, position: int, shift: int
) -> None:
    changed_digit = str((int(national_id[position]) + shift) % 10)
    mistyped = national_id[:position] + changed_digit + national_id[position + 1 :]
    with pytest.raises(InvalidPersonalDataError):
        normalize_national_id(mistyped)


# --- normalize_phone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
    ],
)
def test_mobile_numbers_are_normalized_to_eleven_digits(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(010) 1234 5678", "010-12345678"),
        ("021-62345678", "021-62345678"),
        ("0755-12345678", "0755-12345678"),
        ("075512345678", "0755-12345678"),
        ("0311-1234567", "0311-1234567"),
        ("+86 10 12345678", "010-12345678"),
        ("+86-755-12345678", "0755-12345678"),
    ],
)
def test_landlines_are_normalized_to_area_code_dash_local_number(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12812345678",  # 12x is not a mobile prefix
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "010-123456",  # local number too short
        "010-123456789",  # local number too long
        "010-02345678",  # local number starting with the trunk 0
        "1234567",  # landline without an area code
    ],
)
def test_numbers_that_are_neither_mobile_nor_landline_are_refused(text: str) -> None:
    with pytest.raises(InvalidPersonalDataError, match="not a mainland mobile"):
        normalize_phone(text)


@pytest.mark.parametrize("text", ["138-1234-567a", "电话13812345678", "138.1234.5678", "+1 415 555 0100"])
def test_phone_with_stray_characters_is_refused(text: str) -> None:
    with pytest.raises(InvalidPersonalDataError, match="only digits"):
        normalize_phone(text)


def test_empty_phone_is_refused() -> None:
    with pytest.raises(InvalidPersonalDataError, match="empty"):
        normalize_phone(" - ")


@given(
    st.sampled_from("3456789"),
    st.text(alphabet=string.digits, min_size=9, max_size=9),
    st.sampled_from(["", "+86", "+86 ", "0086"]),
    st.sampled_from(["", " ", "-"]),
)
def test_any_mobile_written_with_prefix_and_separators_normalizes_to_its_digits(
    second_digit: str, rest: str, prefix: str, separator: str
) -> None:
    digits = "1" + second_digit + rest
    written = prefix + separator.join([digits[:3], digits[3:7], digits[7:]])
    assert normalize_phone(written) == digits


# --- PersonalDataCipher ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cipher() -> PersonalDataCipher:
    return PersonalDataCipher("test-secret-with-enough-entropy")


def test_decrypt_returns_the_encrypted_text(cipher: PersonalDataCipher) -> None:
    token = cipher.encrypt(VALID_ID)
    assert cipher.decrypt(token) == VALID_ID


def test_token_does_not_contain_the_plain_text(cipher: PersonalDataCipher) -> None:
    assert "13812345678" not in cipher.encrypt("13812345678")


def test_token_is_ascii_text(cipher: PersonalDataCipher) -> None:
    token = cipher.encrypt("张三 13812345678")
    assert token.isascii()
    assert cipher.decrypt(token) == "张三 13812345678"


def test_encrypting_the_same_text_twice_gives_different_tokens(cipher: PersonalDataCipher) -> None:
    assert cipher.encrypt("13812345678") != cipher.encrypt("13812345678")


def test_a_cipher_built_from_the_same_secret_decrypts_earlier_tokens(cipher: PersonalDataCipher) -> None:
    token = cipher.encrypt(VALID_ID)
    assert PersonalDataCipher("test-secret-with-enough-entropy").decrypt(token) == VALID_ID


def test_a_different_secret_cannot_decrypt(cipher: PersonalDataCipher) -> None:
    token = cipher.encrypt(VALID_ID)
    with pytest.raises(PersonalDataDecryptionError):
        PersonalDataCipher("another-secret").decrypt(token)


def test_an_altered_token_cannot_be_decrypted(cipher: PersonalDataCipher) -> None:
    token = cipher.encrypt(VALID_ID)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(PersonalDataDecryptionError):
        cipher.decrypt(altered)


@pytest.mark.parametrize("token", ["", "not a token", "令牌"])
def test_garbage_is_not_decryptable(cipher: PersonalDataCipher, token: str) -> None:
    with pytest.raises(PersonalDataDecryptionError):
        cipher.decrypt(token)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        PersonalDataCipher("")


def test_empty_text_round_trips(cipher: PersonalDataCipher) -> None:
    assert cipher.decrypt(cipher.encrypt("")) == ""


@settings(max_examples=50)
@given(st.text(max_size=60))
def test_any_text_round_trips(cipher: PersonalDataCipher, plain: str) -> None:
    assert cipher.decrypt(cipher.encrypt(plain)) == plain


def test_lookup_hash_is_64_hex_characters(cipher: PersonalDataCipher) -> None:
    digest = cipher.lookup_hash("13812345678")
    assert len(digest) == 64
    assert set(digest) <= set(string.hexdigits.lower())


def test_lookup_hash_is_stable_across_cipher_instances(cipher: PersonalDataCipher) -> None:
    again = PersonalDataCipher("test-secret-with-enough-entropy")
    assert cipher.lookup_hash("13812345678") == again.lookup_hash("13812345678")


def test_lookup_hash_differs_for_different_values(cipher: PersonalDataCipher) -> None:
    assert cipher.lookup_hash("13812345678") != cipher.lookup_hash("13812345679")


def test_lookup_hash_depends_on_the_secret(cipher: PersonalDataCipher) -> None:
    other = PersonalDataCipher("another-secret")
    assert cipher.lookup_hash("13812345678") != other.lookup_hash("13812345678")


def test_lookup_hash_is_not_a_plain_sha256_of_the_value(cipher: PersonalDataCipher) -> None:
    assert cipher.lookup_hash("13812345678") != hashlib.sha256(b"13812345678").hexdigest()


def test_lookup_hash_is_hmac_sha256_under_the_documented_hkdf_key() -> None:
    lookup_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=PERSONAL_DATA_KEY_SALT, info=LOOKUP_KEY_INFO
    ).derive(b"courtyard")
    expected = hmac.new(lookup_key, b"13812345678", hashlib.sha256).hexdigest()
    assert PersonalDataCipher("courtyard").lookup_hash("13812345678") == expected


def test_lookup_hash_of_a_known_value_never_changes() -> None:
    # Stored lookup hashes must stay valid across releases, so the derivation is pinned.
    assert (
        PersonalDataCipher("courtyard").lookup_hash("13812345678")
        == "f7b049ee0924b1b48abcffd77751ec26331a27e8bda22a03556d721d9843876f"
    )


def test_a_token_written_by_an_earlier_release_still_decrypts() -> None:
    token = (
        "gAAAAABrBE3DRkBAmJpXpQqHTTiQgo4SDzb7gxhxILHPvSo_ChqZLnasDSDqORe7WrWzKaY1oLqMt1ipKnVpzpCfAa3a"
        "R5hgPPc0iP-PTuOxWGdO-petCpA="
    )
    assert PersonalDataCipher("courtyard").decrypt(token) == "110101199003071233"


# --- masking --------------------------------------------------------------------------------


def test_national_id_shows_first_three_and_last_four() -> None:
    assert mask_national_id("110101199003071234") == "110***********1234"


def test_national_id_ending_in_x_keeps_the_x_visible() -> None:
    assert mask_national_id(STANDARD_EXAMPLE_ID) == "110***********002X"


def test_fifteen_character_id_still_hides_eight() -> None:
    assert mask_national_id("110105491231002") == "110********1002"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("E12345678", "********8"),  # a passport number: only one character may show
        ("1234567", "*******"),
        ("12345678", "********"),
        ("123456789", "********9"),
        ("12345678901", "********901"),
        ("1234567890123", "1********0123"),
        ("X", "*"),
    ],
)
def test_short_national_ids_reveal_less_and_hide_at_least_eight(value: str, expected: str) -> None:
    assert mask_national_id(value) == expected


def test_mobile_shows_first_three_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_landline_shows_area_code_and_last_four() -> None:
    assert mask_phone("010-12345678") == "010*****5678"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0755-1234567", "075*****4567"),
        ("1234567890", "12****7890"),
        ("12345678", "****5678"),
        ("1234567", "****567"),
        ("1234", "****"),
        ("1", "*"),
    ],
)
def test_short_phones_reveal_less_and_hide_at_least_four(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


@pytest.mark.parametrize("mask", [mask_phone, mask_national_id])
def test_empty_value_stays_empty(mask: Callable[[str], str]) -> None:
    assert mask("") == ""


@given(
    st.text(alphabet=st.characters(blacklist_characters="*"), max_size=40),
    st.sampled_from([(mask_phone, 4), (mask_national_id, 8)]),
)
def test_masking_keeps_the_length_and_reveals_only_some_of_head_and_tail(
    value: str, mask_and_min_hidden: tuple[Callable[[str], str], int]
) -> None:
    mask, min_hidden = mask_and_min_hidden
    masked = mask(value)
    visible = [index for index, character in enumerate(masked) if character != "*"]
    assert len(masked) == len(value)
    assert all(masked[index] == value[index] for index in visible)
    assert all(index < 3 or index >= len(value) - 4 for index in visible)
    assert len(value) - len(visible) >= min(min_hidden, len(value))
