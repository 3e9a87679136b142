"""Payer names compared in characters, pinyin and masked forms."""

from __future__ import annotations

import pytest

from billing.reconciliation.names import MASKED_SCORE, NameVia, name_similarity


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
