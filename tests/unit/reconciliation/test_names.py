"""Payer names compared in characters, pinyin and masked forms."""

from __future__ import annotations

import pytest

from billing.reconciliation.names import MASKED_SCORE, NameMatch, NameVia, name_similarity


@pytest.mark.parametrize("written", ["ZHANG SAN", "zhangsan", "Zhang San", "ZHANGSAN"])
def test_a_name_in_pinyin_is_the_name_in_characters(written: str) -> None:
    match = name_similarity(written, "张三")
    assert (match.score, match.via) == (1.0, NameVia.PINYIN)


def test_a_masked_name_fits_with_a_strong_but_not_certain_score() -> None:
    match = name_similarity("张*", "张三")
    assert (match.score, match.via) == (MASKED_SCORE, NameVia.MASK)


def test_a_mask_that_does_not_fit_scores_low() -> None:
    assert name_similarity("李*", "张三").score < 0.5


def test_company_names_ignore_bracket_widths_and_spaces() -> None:
    assert name_similarity("星巴克（上海）咖啡有限公司", "星巴克(上海) 咖啡有限公司").score == 1.0


def test_different_people_score_low() -> None:
    assert name_similarity("李四", "张三").score < 0.5


@pytest.mark.parametrize(("left", "right"), [(None, "张三"), ("张三", None), ("", "张三"), ("  ", "张三")])
def test_a_missing_name_scores_zero(left: str | None, right: str | None) -> None:
    assert name_similarity(left, right).score == 0.0


def test_one_name_is_one_name_in_characters() -> None:
    assert name_similarity("张三", "张三") == NameMatch(1.0, NameVia.CHARACTERS)
    assert name_similarity("星巴克（上海）咖啡有限公司", "星巴克(上海) 咖啡有限公司") == NameMatch(1.0, NameVia.CHARACTERS)


def test_a_masked_payer_name_fits_a_plain_statement_name_too() -> None:
    assert name_similarity("张三", "张*") == NameMatch(MASKED_SCORE, NameVia.MASK)


def test_a_name_that_is_all_mask_fits_nobody() -> None:
    assert name_similarity("**", "张三").via is not NameVia.MASK


def test_a_missing_name_is_scored_zero_in_characters() -> None:
    assert name_similarity(None, "张三") == NameMatch(0.0, NameVia.CHARACTERS)
    assert name_similarity("（）", "张三") == NameMatch(0.0, NameVia.CHARACTERS)


def test_scores_keep_four_decimal_places_and_a_tie_goes_to_characters() -> None:
    # characters: 1 of 7 alike (0.2857); pinyin: zhang of zhangab / zhangcde, 10 of 15 (0.6667)
    assert name_similarity("张ab", "张cde") == NameMatch(0.6667, NameVia.PINYIN)
    # Latin letters read the same in pinyin: 2 of 7 alike either way
    assert name_similarity("ab", "axyzw") == NameMatch(0.2857, NameVia.CHARACTERS)
