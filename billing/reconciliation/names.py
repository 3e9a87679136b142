"""How alike a statement's counterparty name and a payer's name are, in characters and in pinyin.

Bank files write the same person as 张三, ZHANG SAN, zhangsan or (masked by Alipay and some banks) 张*;
a company appears with or without 有限公司 and brackets in either width. The score is between 0 and 1:
the better of the two names compared as characters and compared as toneless pinyin, with `*` in a
masked name standing for any one character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

from pypinyin import Style, lazy_pinyin  # type: ignore[import-untyped]

__all__ = ["NameMatch", "NameVia", "name_similarity"]

_NOISE = re.compile(r"[\s·.,，。()（）\[\]【】\-_'\"]")
_MASK = "*"
MASKED_SCORE = 0.9
"""A masked name that fits (张* for 张三) is strong evidence but not proof: two 张 may pay the same day."""


class NameVia(StrEnum):
    CHARACTERS = "CHARACTERS"
    PINYIN = "PINYIN"
    MASK = "MASK"


@dataclass(frozen=True, slots=True)
class NameMatch:
    score: float
    via: NameVia


@lru_cache(maxsize=65_536)
def _fold(name: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())


@lru_cache(maxsize=65_536)
def _pinyin(folded: str) -> str:
    return "".join(lazy_pinyin(folded, style=Style.NORMAL, errors="default")).casefold()


def name_similarity(statement_name: str | None, payer_name: str | None) -> NameMatch:
    """How alike two names are (0 when either is missing)."""
    if not statement_name or not payer_name:
        return NameMatch(0.0, NameVia.CHARACTERS)
    left, right = _fold(statement_name), _fold(payer_name)
    if not left or not right:
        return NameMatch(0.0, NameVia.CHARACTERS)
    if _MASK in left or _MASK in right:
        masked, plain = (left, right) if _MASK in left else (right, left)
        pattern = "".join("." if char == _MASK else re.escape(char) for char in masked)
        if re.fullmatch(pattern, plain) and masked.strip(_MASK):
            return NameMatch(MASKED_SCORE, NameVia.MASK)
    characters = SequenceMatcher(None, left, right).ratio()
    if characters == 1.0:
        return NameMatch(1.0, NameVia.CHARACTERS)
    pinyin = SequenceMatcher(None, _pinyin(left), _pinyin(right)).ratio()
    if pinyin > characters:
        return NameMatch(round(pinyin, 4), NameVia.PINYIN)
    return NameMatch(round(characters, 4), NameVia.CHARACTERS)
