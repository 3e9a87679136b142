"""Personal data of parties: validation, encryption at rest, blind indexes and masking.

National ID numbers and phone numbers are stored encrypted with Fernet (AES-128-CBC plus
HMAC-SHA256, from `cryptography`). Because a Fernet token is different on every call, exact-match
lookups ("find the party with this phone") go through a blind index: an HMAC of the normalized
value under a second key, stored next to the token.

Both keys are derived from the application secret with HKDF-SHA256 using the fixed salt
`PERSONAL_DATA_KEY_SALT` and the info labels `ENCRYPTION_KEY_INFO` and `LOOKUP_KEY_INFO`. Changing
any of them, or the secret, makes every stored token unreadable and every stored lookup hash stale,
so they are part of the storage format and must never change for an existing database.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "ENCRYPTION_KEY_INFO",
    "LOOKUP_KEY_INFO",
    "PERSONAL_DATA_KEY_SALT",
    "InvalidPersonalDataError",
    "PersonalDataCipher",
    "PersonalDataDecryptionError",
    "mask_national_id",
    "mask_phone",
    "national_id_check_character",
    "normalize_national_id",
    "normalize_phone",
]

PERSONAL_DATA_KEY_SALT = b"courtyard/personal-data/v1"
ENCRYPTION_KEY_INFO = b"courtyard/personal-data/fernet-key"
LOOKUP_KEY_INFO = b"courtyard/personal-data/lookup-hmac-key"

_MASK_CHARACTER = "*"

# GB 11643-1999: weights of the first 17 digits (2**(17-i) mod 11) and the check characters
# indexed by the weighted sum mod 11.
_NATIONAL_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_NATIONAL_ID_CHECK_CHARACTERS = "10X98765432"
_NATIONAL_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_OLDEST_BIRTH_YEAR = 1900

_MOBILE_SHAPE = re.compile(r"1[3-9]\d{9}")
# A local number never starts with 0: that is the trunk prefix of the area code.
_LOCAL_NUMBER_SHAPE = re.compile(r"[1-9]\d{6,7}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086)")


class InvalidPersonalDataError(ValueError):
    """A phone or national ID number that cannot be right; the message says why."""


class PersonalDataDecryptionError(Exception):
    """A token that was not produced by this secret, or was altered."""


class PersonalDataCipher:
    """Encrypts, decrypts and blind-indexes personal data with keys derived from one secret."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("the personal-data secret must not be empty")
        secret = secret_key.encode("utf-8")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive_key(secret, ENCRYPTION_KEY_INFO)))
        self._lookup_key = _derive_key(secret, LOOKUP_KEY_INFO)

    def encrypt(self, plain: str) -> str:
        """Return a Fernet token (URL-safe ASCII); encrypting the same text twice gives different tokens."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as error:
            raise PersonalDataDecryptionError("token cannot be decrypted with this secret") from error

    def lookup_hash(self, plain: str) -> str:
        """Return a stable 64-character hex HMAC of the text, for exact-match lookups.

        Hash the normalized form (`normalize_phone`, `normalize_national_id`) so that the
        lookup matches however the user typed the number.
        """
        return hmac.new(self._lookup_key, plain.encode("utf-8"), hashlib.sha256).hexdigest()


def _derive_key(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=PERSONAL_DATA_KEY_SALT, info=info).derive(
        secret
    )


def national_id_check_character(first_17_digits: str) -> str:
    """Return the GB 11643 check character ('0'–'9' or 'X') for the first 17 digits of an ID."""
    if len(first_17_digits) != 17 or not first_17_digits.isascii() or not first_17_digits.isdigit():
        raise ValueError("expected exactly 17 digits")
    weighted_sum = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _NATIONAL_ID_WEIGHTS, strict=True)
    )
    return _NATIONAL_ID_CHECK_CHARACTERS[weighted_sum % 11]


def normalize_national_id(text: str) -> str:
    """Return an 18-character resident ID number in upper case, or raise InvalidPersonalDataError."""
    candidate = re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()
    if not candidate:
        raise InvalidPersonalDataError("ID number is empty")
    if len(candidate) == 15 and candidate.isdigit():
        raise InvalidPersonalDataError("15-digit ID numbers are obsolete; use the 18-character number")
    if not _NATIONAL_ID_SHAPE.fullmatch(candidate):
        raise InvalidPersonalDataError(
            "ID number must be 18 characters: 17 digits and a digit or X at the end"
        )
    try:
        birth_date = dt.date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        raise InvalidPersonalDataError(
            f"ID number contains an impossible birth date {candidate[6:14]}"
        ) from None
    if birth_date.year < _OLDEST_BIRTH_YEAR:
        raise InvalidPersonalDataError(
            f"ID number's birth year {birth_date.year} is before {_OLDEST_BIRTH_YEAR}; a digit is mistyped"
        )
    if national_id_check_character(candidate[:17]) != candidate[17]:
        raise InvalidPersonalDataError("ID number check digit does not match; a character is mistyped")
    return candidate


def normalize_phone(text: str) -> str:
    """Return a mainland phone number in canonical form, or raise InvalidPersonalDataError.

    Mobiles become 11 digits (`13812345678`); landlines become area code, dash, local number
    (`010-12345678`, `0755-1234567`). Spaces, dashes, brackets and a +86/0086 prefix are accepted.
    """
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not compact:
        raise InvalidPersonalDataError("phone number is empty")
    international = _COUNTRY_PREFIX.match(compact)
    if international:
        compact = compact[international.end() :]
        # Dialled from abroad a landline drops its trunk 0; put it back for the domestic form.
        if compact and not compact.startswith("0") and not _MOBILE_SHAPE.fullmatch(compact):
            compact = "0" + compact
    elif len(compact) == 13 and compact.startswith("861"):
        compact = compact[2:]
    if not compact.isascii() or not compact.isdigit():
        raise InvalidPersonalDataError("phone number may contain only digits, spaces, dashes and +86")
    if _MOBILE_SHAPE.fullmatch(compact):
        return compact
    if compact.startswith("0"):
        # 010 and 02x are the only three-digit area codes; every other one has four digits.
        area_length = 3 if compact.startswith(("010", "02")) else 4
        area_code, local_number = compact[:area_length], compact[area_length:]
        if _LOCAL_NUMBER_SHAPE.fullmatch(local_number):
            return f"{area_code}-{local_number}"
    raise InvalidPersonalDataError(
        "not a mainland mobile (11 digits starting 13–19) or landline (area code and 7–8 digits)"
    )


def mask_national_id(national_id: str) -> str:
    """Show the first 3 and last 4 characters, starring the rest: `110***********1234`.

    Shorter values reveal fewer characters so that at least 8 always stay hidden.
    """
    return _mask_middle(national_id, head=3, tail=4, min_hidden=8)


def mask_phone(phone: str) -> str:
    """Show the first 3 and last 4 characters, starring the rest: `138****5678`.

    Shorter values reveal fewer characters so that at least 4 always stay hidden.
    """
    return _mask_middle(phone, head=3, tail=4, min_hidden=4)


def _mask_middle(value: str, *, head: int, tail: int, min_hidden: int) -> str:
    """Star all but `head` leading and `tail` trailing characters, keeping the length.

    When the value is too short to hide `min_hidden` characters, the head gives up its
    characters first (it identifies least), then the tail.
    """
    length = len(value)
    shortfall = max(0, min_hidden - (length - head - tail))
    head_cut = min(head, shortfall)
    head -= head_cut
    tail = max(0, tail - (shortfall - head_cut))
    return value[:head] + _MASK_CHARACTER * (length - head - tail) + value[length - tail :]
