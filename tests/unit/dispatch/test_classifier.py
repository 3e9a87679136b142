"""Specification of the repair-ticket classifier (dispatch/classifier.py).

The labelled set is tests/data/ticket_descriptions.csv: owner-style repair reports written for this
project in Chinese, English and a mix of both, each with a category and an urgency. Its ``split``
column was fixed once, when the set was written: within every (category, language) group a seeded
shuffle put a quarter of the rows in ``test`` (12 per category), the rest in ``train``. Weights,
smoothing and the triage threshold were tuned by cross-validation on ``train`` only, so the
accuracy asserted below is measured on text the model never learned from. Never move a row between
splits after looking at results; add new rows with a split of their own instead.

Run with ``-s`` to see the confusion tables.
"""

from __future__ import annotations

import ast
import csv
import logging
import sys
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.classifier import (
    DEFAULT_TRIAGE_THRESHOLD,
    Classifier,
    Evaluation,
    TrainingExample,
    evaluate,
    load_default_classifier,
    load_seed_examples,
)
from kernel.vocabulary import Category, Priority

REPO = Path(__file__).resolve().parents[3]
LABELLED_SET = REPO / "tests" / "data" / "ticket_descriptions.csv"

# Floors sit just below what the held-out split measured (108 tickets, so one ticket is 0.009):
# trained on the train split 0.954 (103 right), the shipped rules + seed list 0.981 (106 right);
# URGENT recall 10/12 and precision 10/11; urgency 0.556 overall, where always answering NORMAL
# would score 0.42 (urgency labels are judgement calls, categories mostly are not).
TRAINED_ACCURACY_FLOOR = 0.94
SHIPPED_ACCURACY_FLOOR = 0.97
URGENT_RECALL_FLOOR = 0.8
URGENT_PRECISION_FLOOR = 0.85
URGENCY_ACCURACY_FLOOR = 0.5


@cache
def labelled_rows() -> tuple[dict[str, str], ...]:
    with LABELLED_SET.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def examples(split: str) -> list[TrainingExample]:
    return [
        TrainingExample(row["description"], Category(row["category"]), Priority(row["urgency"]))
        for row in labelled_rows()
        if row["split"] == split
    ]


@cache
def trained_classifier() -> Classifier:
    return Classifier.train(examples("train"))


@cache
def held_out_evaluation() -> Evaluation:
    return evaluate(trained_classifier(), examples("test"))


def print_confusion(title: str, table: Mapping[str, Mapping[str, int]]) -> None:
    labels = list(table)
    width = max(len(label) for label in labels) + 1
    print(f"\n{title} (rows: expected, columns: predicted)")
    print(" " * width + "".join(label[:5].rjust(7) for label in labels))
    for expected in labels:
        counts = "".join(str(table[expected][predicted]).rjust(7) for predicted in labels)
        print(expected.ljust(width) + counts)


# --- the labelled set ---------------------------------------------------------------------------


def test_labelled_set_is_large_bilingual_and_covers_every_category() -> None:
    rows = labelled_rows()
    per_category = Counter(row["category"] for row in rows)
    languages = Counter(row["language"] for row in rows)

    assert len(rows) >= 360
    assert set(per_category) == {category.value for category in Category}
    assert min(per_category.values()) >= 30
    assert {row["urgency"] for row in rows} == {urgency.value for urgency in Priority}
    assert set(languages) == {"zh", "en", "mixed"}
    assert 0.4 <= languages["zh"] / len(rows) <= 0.6
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["description"] for row in rows}) == len(rows)


def test_held_out_split_is_a_stratified_quarter() -> None:
    rows = labelled_rows()
    test_per_category = Counter(row["category"] for row in rows if row["split"] == "test")

    assert {row["split"] for row in rows} == {"train", "test"}
    assert set(test_per_category.values()) == {12}
    assert 0.24 <= sum(test_per_category.values()) / len(rows) <= 0.27


def test_shipped_seed_list_covers_every_category_and_shares_no_text_with_the_labelled_set() -> None:
    seed = load_seed_examples()
    labelled_texts = {row["description"].strip().lower() for row in labelled_rows()}

    assert {example.category for example in seed} == set(Category)
    assert all(example.urgency is not None for example in seed)
    assert not [example.text for example in seed if example.text.strip().lower() in labelled_texts]


# --- accuracy on the held-out split -------------------------------------------------------------


def test_held_out_accuracy_after_training_on_the_train_split() -> None:
    evaluation = held_out_evaluation()
    print_confusion("Held-out categories, trained on the train split", evaluation.confusion())
    print_confusion("Held-out urgencies", evaluation.urgency_confusion())
    print(
        f"accuracy {evaluation.accuracy:.3f} on {len(evaluation.outcomes)} held-out tickets; "
        f"triaged {evaluation.triage_rate:.3f}; "
        f"auto-dispatched accuracy {evaluation.auto_dispatch_accuracy:.3f}; "
        f"urgency accuracy {evaluation.urgency_accuracy:.3f}"
    )

    assert evaluation.accuracy >= TRAINED_ACCURACY_FLOOR


def test_shipped_classifier_accuracy_on_the_held_out_split() -> None:
    evaluation = evaluate(load_default_classifier(), examples("test"))
    print(f"\nshipped classifier (rules + seed list): held-out accuracy {evaluation.accuracy:.3f}")

    assert evaluation.accuracy >= SHIPPED_ACCURACY_FLOOR


def test_auto_dispatched_tickets_are_classified_better_than_the_average() -> None:
    evaluation = held_out_evaluation()

    assert 0.0 < evaluation.triage_rate < 0.25
    assert evaluation.auto_dispatch_accuracy > evaluation.accuracy


def test_held_out_urgent_tickets_are_recognised() -> None:
    outcomes = held_out_evaluation().outcomes
    labelled_urgent = [verdict for example, verdict in outcomes if example.urgency is Priority.URGENT]
    called_urgent = [example for example, verdict in outcomes if verdict.urgency is Priority.URGENT]

    recall = sum(verdict.urgency is Priority.URGENT for verdict in labelled_urgent) / len(labelled_urgent)
    precision = sum(example.urgency is Priority.URGENT for example in called_urgent) / len(called_urgent)
    assert recall >= URGENT_RECALL_FLOOR
    assert precision >= URGENT_PRECISION_FLOOR
    assert held_out_evaluation().urgency_accuracy >= URGENCY_ACCURACY_FLOOR


# --- behaviour on single descriptions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("卫生间漏水", Category.PLUMBING),
        ("电梯困人", Category.ELEVATOR),
        ("空调不制冷", Category.HVAC),
        ("the kitchen light keeps tripping the breaker", Category.ELECTRICAL),
        ("楼道里有烟味，消防报警器一直响", Category.FIRE_SAFETY),
        ("locked out, key snapped in the lock", Category.LOCKSMITH),
        ("垃圾桶满了好几天没人清理", Category.CLEANING),
        ("微波炉不加热了", Category.APPLIANCE),
        ("crack in the bedroom wall", Category.GENERAL),
    ],
)
def test_typical_reports_map_to_their_trade(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert not verdict.needs_triage


def test_named_equipment_outweighs_a_shared_symptom() -> None:
    classifier = load_default_classifier()

    assert classifier.classify("热水器漏水了").category is Category.APPLIANCE
    assert classifier.classify("地暖漏水").category is Category.HVAC
    assert classifier.classify("卫生间漏水").category is Category.PLUMBING
    assert classifier.classify("冰箱不制冷了").category is Category.APPLIANCE
    assert classifier.classify("空调不制冷").category is Category.HVAC


def test_a_phrase_inside_a_longer_phrase_does_not_count_twice() -> None:
    verdict = load_default_classifier().classify("燃气灶打不着火")

    assert verdict.category is Category.APPLIANCE
    assert verdict.urgency is not Priority.URGENT
    assert "燃气灶" in verdict.evidence


def test_evidence_is_quoted_from_the_description() -> None:
    verdict = load_default_classifier().classify("Toilet is LEAKING again")

    assert verdict.category is Category.PLUMBING
    assert set(verdict.evidence) == {"Toilet", "LEAKING"}


def test_full_width_letters_are_understood_and_quoted_as_written() -> None:
    verdict = load_default_classifier().classify("卧室ＡＣ漏水")

    assert verdict.category is Category.HVAC
    assert "ＡＣ" in verdict.evidence


def test_every_evidence_word_occurs_in_its_description() -> None:
    classifier = trained_classifier()
    for row in labelled_rows():
        description = row["description"]
        verdict = classifier.classify(description)
        assert verdict.evidence, description
        assert all(word in description for word in verdict.evidence), (description, verdict.evidence)


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("漏水电梯困人空调锁钥匙垃圾冰箱墙裂缝烟味的了 ，！ABCabc leakfiredoorＡＢ?")),
        max_size=40,
    )
)
def test_any_text_gets_a_well_formed_verdict(text: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert 0.0 <= verdict.confidence <= 1.0
    assert verdict.needs_triage == (verdict.confidence < load_default_classifier().threshold)
    assert all(word and word in text for word in verdict.evidence)
    assert all(word and word in text for word in verdict.urgency_evidence)
    if not verdict.evidence:
        assert verdict.category is Category.GENERAL
        assert verdict.needs_triage


@pytest.mark.parametrize("text", ["", "   ", "???", "asdfgh qwerty", "你好", "。。。"])
def test_empty_or_meaningless_text_goes_to_triage_as_general(text: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is Category.GENERAL
    assert verdict.confidence == 0.0
    assert verdict.evidence == ()
    assert verdict.needs_triage
    assert verdict.urgency is Priority.NORMAL


def test_known_words_that_explain_nothing_go_to_triage_as_general() -> None:
    verdict = load_default_classifier().classify("我家的猫跑丢了")

    assert verdict.category is Category.GENERAL
    assert verdict.evidence == ()
    assert verdict.needs_triage


# --- urgency ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("电梯困人", "困人"),
        ("卧室插座冒火花了", "火花"),
        ("厨房里很浓的燃气味", "燃气味"),
        ("地下室水管爆了，水漫到车库", "水漫"),
        ("洗衣机漏电，手麻了一下", "漏电"),
        ("someone is trapped in the lift", "trapped"),
        ("sparks coming out of the socket", "sparks"),
        ("I can smell gas in the hallway", "smell gas"),
        ("the basement is flooding", "flooding"),
    ],
)
def test_danger_to_people_or_property_is_urgent(text: str, cue: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.URGENT
    assert cue in verdict.urgency_evidence


@pytest.mark.parametrize("text", ["水龙头有点滴水，不急，有空来看看", "the tap drips a little, not urgent, no rush"])
def test_an_owner_saying_there_is_no_hurry_gets_low_urgency(text: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.LOW
    assert verdict.category is Category.PLUMBING


def test_an_owners_own_hurry_is_high_not_urgent() -> None:
    assert load_default_classifier().classify("楼上漏水到我家，紧急！").urgency is Priority.HIGH


def test_without_any_cue_urgency_is_normal() -> None:
    assert load_default_classifier().classify("空调不制冷").urgency is Priority.NORMAL


# --- triage threshold ---------------------------------------------------------------------------

# A fire hydrant (fire safety) beside a cracked wall (general repairs): a person should decide.
MIXED_SIGNALS = "消防栓旁边的墙裂了"


def test_a_ticket_below_the_threshold_goes_to_triage_and_at_it_does_not() -> None:
    classifier = load_default_classifier()
    confidence = classifier.classify(MIXED_SIGNALS).confidence

    assert classifier.with_threshold(min(1.0, confidence + 0.01)).classify(MIXED_SIGNALS).needs_triage
    assert not classifier.with_threshold(confidence).classify(MIXED_SIGNALS).needs_triage


def test_a_mixed_signal_ticket_goes_to_triage_at_the_default_threshold() -> None:
    verdict = load_default_classifier().classify(MIXED_SIGNALS)

    assert verdict.confidence < DEFAULT_TRIAGE_THRESHOLD
    assert verdict.needs_triage


def test_a_clear_ticket_is_dispatched_even_at_a_strict_threshold() -> None:
    assert not load_default_classifier(threshold=0.95).classify("电梯困人").needs_triage


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_a_threshold_outside_zero_to_one_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        load_default_classifier(threshold=threshold)


# --- learning from corrections ------------------------------------------------------------------


def test_one_correction_teaches_a_word_the_rules_do_not_know() -> None:
    shipped = load_default_classifier()
    corrected = shipped.with_corrections([TrainingExample("小区里有流浪狗", Category.CLEANING)])

    assert shipped.classify("地下车库有流浪狗").category is Category.GENERAL
    verdict = corrected.classify("地下车库有流浪狗")
    assert verdict.category is Category.CLEANING
    assert verdict.evidence == ("流浪狗",)


def test_repeated_corrections_outvote_a_keyword_rule() -> None:
    # This company's motorised drying racks are serviced by the appliance engineer, not general repairs.
    shipped = load_default_classifier()
    once = shipped.with_corrections([TrainingExample("电动晾衣架升降不了", Category.APPLIANCE)])
    twice = once.with_corrections([TrainingExample("电动晾衣架遥控器按了没反应", Category.APPLIANCE)])

    assert shipped.classify("阳台的电动晾衣架不动了").category is Category.GENERAL
    assert once.classify("阳台的电动晾衣架不动了").category is Category.GENERAL
    assert twice.classify("阳台的电动晾衣架不动了").category is Category.APPLIANCE
    assert twice.classify("晾衣架的杆子断了").category is Category.GENERAL


def test_a_correction_does_not_move_unrelated_tickets() -> None:
    corrected = load_default_classifier().with_corrections([TrainingExample("电梯里有呕吐物", Category.CLEANING)])

    assert corrected.classify("电梯里有呕吐物，太恶心了").category is Category.CLEANING
    assert corrected.classify("电梯按钮不亮").category is Category.ELEVATOR


def test_learning_a_correction_leaves_the_original_classifier_unchanged() -> None:
    shipped = load_default_classifier()
    before = shipped.classify("地下车库有流浪狗")
    shipped.with_corrections([TrainingExample("小区里有流浪狗", Category.CLEANING)])

    assert shipped.classify("地下车库有流浪狗") == before


def test_english_word_forms_are_learned_as_one_word() -> None:
    learned_only = Classifier.train(load_seed_examples(), rules=(), urgency_cues=())

    for text in ("the pipes leaked", "pipe leaks", "leaking pipe"):
        assert learned_only.classify(text).category is Category.PLUMBING, text


def test_rules_alone_classify_without_any_training() -> None:
    verdict = Classifier.train([]).classify("电梯困人")

    assert verdict.category is Category.ELEVATOR
    assert verdict.urgency is Priority.URGENT


def test_training_examples_accept_stored_label_strings_and_reject_unknown_ones() -> None:
    example = TrainingExample("卫生间漏水", "PLUMBING", "HIGH")  # type: ignore[arg-type]

    assert example.category is Category.PLUMBING
    assert example.urgency is Priority.HIGH
    with pytest.raises(ValueError):
        TrainingExample("卫生间漏水", "PLUMBER")  # type: ignore[arg-type]


# --- the module stays a pure core ---------------------------------------------------------------


def test_classifier_imports_only_the_standard_library_jieba_and_the_shared_kernel() -> None:
    source = (REPO / "dispatch" / "classifier.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])

    assert imported - set(sys.stdlib_module_names) - {"__future__"} == {"jieba", "kernel"}


def test_jieba_does_not_log_below_warnings() -> None:
    assert logging.getLogger("jieba").getEffectiveLevel() >= logging.WARNING
