"""Specification of how the classifier reads a description (dispatch/classifier_text.py): clauses,
negation and phrase matching, independent of any trade's word list."""

from __future__ import annotations

import pytest

from dispatch.classifier_text import PhraseMatcher, Reading, normalise


def spans_of(reading: Reading, word: str) -> tuple[int, int]:
    start = reading.normalised.index(word)
    return start, start + len(word)


@pytest.mark.parametrize(
    ("text", "contrasted", "kept"),
    [
        ("不是热水器的问题，是水管在漏", "热水器", "水管"),
        ("不是漏水是渗水", "漏水", "渗水"),
        ("水管没问题，是空调在滴水", "水管", "空调"),
        ("热水器是好的，就是没热水", "热水器", "没热水"),
        ("it's not the lift, it's the light", "lift", "light"),
        ("the dryer is fine, it's the washer", "dryer", "washer"),
        ("not the shower itself, the drain under it", "shower", "drain"),
    ],
)
def test_a_contrast_takes_the_denied_part_out_of_the_reading(text: str, contrasted: str, kept: str) -> None:
    reading = Reading.of(text)

    assert reading.is_contrasted(*spans_of(reading, contrasted))
    assert not reading.is_contrasted(*spans_of(reading, kept))


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("是不是没电了", "没电"),  # a question, not a denial
        ("不是很热", "热"),  # a degree
        ("电梯运行不正常", "电梯"),  # "不正常" says something is wrong
        ("空调正常运行的时候有异响", "空调"),  # "正常" that does not end its clause
    ],
)
def test_questions_and_degrees_are_no_contrast(text: str, word: str) -> None:
    reading = Reading.of(text)

    assert not reading.is_contrasted(*spans_of(reading, word))


def test_contrasted_words_are_not_learned_or_scored() -> None:
    keys = Reading.of("不是热水器的问题，是水管在漏").keys

    assert "热水器" not in keys
    assert "水管" in keys


@pytest.mark.parametrize(
    ("text", "alarm"),
    [
        ("没有燃气味", "燃气味"),
        ("没闻到燃气味", "燃气味"),
        ("没有人被困", "被困"),
        ("nobody is trapped", "trapped"),
        ("no smoke at all", "smoke"),
    ],
)
def test_an_absence_word_just_before_an_alarm_denies_it(text: str, alarm: str) -> None:
    reading = Reading.of(text)

    assert reading.is_denied(*spans_of(reading, alarm))


@pytest.mark.parametrize(
    ("text", "alarm"),
    [
        ("有没有燃气味", "燃气味"),  # asking whether
        ("没有热水，还有燃气味", "燃气味"),  # the absence is in another clause
        ("没过多久，插座就冒烟了", "冒烟"),
        ("no hot water and the whole kitchen smells of gas", "gas"),
    ],
)
def test_an_absence_elsewhere_denies_nothing(text: str, alarm: str) -> None:
    reading = Reading.of(text)

    assert not reading.is_denied(*spans_of(reading, alarm))


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("锁坏了 进不去家", 2),  # a space between Chinese words separates
        ("3.5米高的地方漏水", 1),  # a decimal point does not
        ("烟感一直响但是没有烟", 2),  # "但是" starts a clause without a comma
        ("the lift is stuck but nobody is inside", 2),
    ],
)
def test_clauses_end_at_punctuation_spaces_between_chinese_words_and_but(text: str, clauses: int) -> None:
    reading = Reading.of(text)

    assert len({reading.clause_of(index) for index in range(len(text))}) == clauses


def test_a_phrase_of_two_parts_matches_them_in_order_within_one_clause() -> None:
    matcher = PhraseMatcher([("URGENT", "楼上…漏", 1.0), ("URGENT", "ceiling…leak*", 1.0)])

    assert [hit.label for hit in matcher.hits("楼上卫生间在漏")] == ["URGENT"]
    assert matcher.hits("楼上很吵，厨房在漏") == []
    assert matcher.hits("漏到楼上") == []
    assert [(hit.start, hit.end) for hit in matcher.hits("the ceiling is leaking")] == [(4, 22)]


def test_english_phrases_match_whole_words_with_their_endings() -> None:
    matcher = PhraseMatcher([("PLUMBING", "leak*", 1.0), ("CLEANING", "pee", 1.0), ("LOCKSMITH", "key", 1.0)])

    assert {hit.label for hit in matcher.hits("it leaked and the keys")} == {"PLUMBING", "LOCKSMITH"}
    assert matcher.hits("peeling paint, a monkey") == []


def test_pinyin_with_a_trailing_particle_still_matches() -> None:
    matcher = PhraseMatcher([("ELECTRICAL", "tingdian*", 1.0), ("ELEVATOR", "dian ti*", 1.0)])

    assert {hit.label for hit in matcher.hits("tingdianle, dian tile huai le")} == {"ELECTRICAL", "ELEVATOR"}


def test_an_occurrence_inside_a_longer_phrase_is_dropped() -> None:
    matcher = PhraseMatcher([("APPLIANCE", "燃气灶", 4.0), ("FIRE_SAFETY", "燃气", 2.0)])

    assert [(hit.label, hit.start) for hit in matcher.hits("燃气灶坏了，燃气表也坏了")] == [
        ("APPLIANCE", 0),
        ("FIRE_SAFETY", 6),
    ]


def test_offsets_survive_normalisation_so_evidence_is_quoted_verbatim() -> None:
    reading = Reading.of("卧室ＡＣ漏水")

    assert reading.normalised == "卧室ac漏水"
    assert reading.quote(2, 4) == "ＡＣ"


def test_traditional_characters_fold_to_simplified_keeping_offsets() -> None:
    text = "電梯困咗人，喺12樓"

    assert normalise(text) == "电梯困咗人,喺12楼"
    assert len(normalise(text)) == len(text)


def test_bu_denies_only_the_alarm_it_stands_before() -> None:
    denied = Reading.of("不冒烟也不烫")
    kept = Reading.of("插座不停冒烟")

    assert denied.is_denied(1, 3)
    assert not kept.is_denied(4, 6)
