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
import math
import sys
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from dataclasses import replace

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
from dispatch.classifier_text import Reading
from dispatch.urgency_net import everyday_senses_digest, load_urgency_net
from dispatch.urgency_net_fit import GroupScores, choose_threshold, fit
from kernel.vocabulary import Category, Priority

REPO = Path(__file__).resolve().parents[3]
LABELLED_SET = REPO / "tests" / "data" / "ticket_descriptions.csv"

# Floors sit just below what the held-out split measured (108 tickets, so one ticket is 0.009):
# trained on the train split 0.991 (107 right), the shipped rules + seed lists 0.991 (107 right);
# URGENT recall 23/23 (urgency labels follow issue 18's definition of URGENT, which includes every
# fault of fire equipment); urgency 0.602 overall, where always answering NORMAL would score 0.39.
# URGENT precision is 23/33 (0.697; 23/25 and urgency 0.630 before): the URGENT safety net's
# threshold is chosen for recall first, with a margin below it (dispatch/urgency_net_fit.py), and
# issue 18 accepts needless urgent call-outs for that; the floor keeps the price from growing unnoticed. The rules were written by people who had read this whole file, so these
# figures flatter them: tests/data/classifier_heldout.csv, measured by benchmarks/classifier.py, is
# the set the model was never tuned on.
TRAINED_ACCURACY_FLOOR = 0.98
SHIPPED_ACCURACY_FLOOR = 0.98
URGENT_RECALL_FLOOR = 0.98
URGENT_PRECISION_FLOOR = 0.65
URGENCY_ACCURACY_FLOOR = 0.6


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
def cue_rules_alone() -> Classifier:
    """The shipped classifier without its learned safety net: what the cue lists and danger pairs say."""
    return replace(load_default_classifier(), urgency_net=None)


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
    # 12 per category when the split was drawn; issue 18 relabelled rows to the product's schema
    # (doors to LOCKSMITH, a gas smell to GENERAL, a blocked fire escape to CLEANING), which moves
    # rows between categories but never between splits.
    assert all(8 <= count <= 14 for count in test_per_category.values())
    assert sum(test_per_category.values()) == 12 * len(Category)
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
    # Unsure always means triage; a sure reading is triaged too when it is contested (a danger said of
    # another trade's thing, as in "冰箱漏电"), so the converse does not hold.
    if verdict.confidence < load_default_classifier().threshold:
        assert verdict.needs_triage
    assert all(word and word in text for word in verdict.evidence)
    assert all(word and word in text for word in verdict.urgency_evidence)
    if not verdict.evidence:
        assert verdict.category is Category.GENERAL
        assert verdict.needs_triage


def test_a_sure_reading_of_a_danger_in_another_trades_appliance_still_goes_to_triage() -> None:
    classifier = load_default_classifier()
    verdict = classifier.classify("冰箱漏电")

    assert verdict.confidence >= classifier.threshold
    assert verdict.needs_triage
    assert verdict.urgency is Priority.URGENT


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


# --- what is wrong before where it is (issue 18) -------------------------------------------------
# Each case is written from the category definitions in dispatch/classifier_words.py.


@pytest.mark.parametrize(
    ("text", "category", "evidence"),
    [
        # a fault that is one trade's wherever it is outweighs the place it is in
        ("电梯里好脏，地上全是泥", Category.CLEANING, "脏"),
        ("the lift is really dirty, mud all over the floor", Category.CLEANING, "dirty"),
        ("有人在电梯墙上乱涂乱画", Category.CLEANING, "乱涂乱画"),
        # sparks from a socket are the electrician's wherever the socket is
        ("电梯旁边的插座在冒火花", Category.ELECTRICAL, "插座"),
        ("the socket inside the lift is sparking", Category.ELECTRICAL, "socket"),
        # a thing followed by a locative is only where the fault is
        ("消防栓旁边的墙裂了", Category.GENERAL, "墙"),
        ("电梯厅的灯坏了，晚上黑乎乎的", Category.ELECTRICAL, "灯"),
    ],
)
def test_the_fault_outweighs_the_place(text: str, category: Category, evidence: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert evidence in verdict.evidence
    assert not verdict.needs_triage


@pytest.mark.parametrize(
    ("text", "category", "evidence"),
    [
        # a smart seat's heating and remote are electronics; the bowl stays the plumber's
        ("马桶加热功能坏了", Category.APPLIANCE, "马桶加热"),
        ("马桶遥控器没反应", Category.APPLIANCE, "马桶遥控"),
        ("座圈不热了", Category.APPLIANCE, "座圈不热"),
        ("马桶漏水", Category.PLUMBING, "马桶"),
        # gas smelt beside a named gas appliance is that appliance's
        ("煤气灶那里一股燃气味，很浓", Category.APPLIANCE, "煤气灶那里一股燃气味"),
        # sparks at a plug or a cord are the circuit's, whatever it feeds
        ("洗衣机插头冒火花", Category.ELECTRICAL, "插头冒火花"),
        ("sparks from the plug of the kettle", Category.ELECTRICAL, "sparks from the plug"),
        # a lift's own lamp and air conditioning are the lift's
        ("电梯内的灯一闪一闪", Category.ELEVATOR, "电梯内的灯"),
        ("电梯的空调漏水", Category.ELEVATOR, "电梯的空调"),
        # what did not happen, answered by what did ("X没响，是Y"), is left out
        ("烟感没叫，是应急灯不亮", Category.FIRE_SAFETY, "应急灯"),
        ("水管没漏，是马桶水箱一直流", Category.PLUMBING, "水箱"),
    ],
)
def test_what_is_wrong_decides_at_the_trade_boundaries(text: str, category: Category, evidence: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert evidence in verdict.evidence
    assert not verdict.needs_triage


def test_what_did_not_happen_is_no_evidence() -> None:
    assert "烟感" not in load_default_classifier().classify("烟感没叫，是应急灯不亮").evidence
    assert "水管" not in load_default_classifier().classify("水管没漏，是马桶水箱一直流").evidence


@pytest.mark.parametrize("text", ["道闸杆被撞断了", "小区门口的道闸一直不落杆"])
def test_a_car_park_barrier_goes_to_a_dispatcher(text: str) -> None:
    # The lists give it to the building, owners to access control: trades split on it.
    assert load_default_classifier().classify(text).needs_triage


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("智能锁没电了，开不了门", Category.LOCKSMITH),
        ("my smart lock's battery died, can't open the door", Category.LOCKSMITH),
        ("smart lock 没电了", Category.LOCKSMITH),
        ("烟感没电了一直滴滴叫", Category.FIRE_SAFETY),
        ("家里烟感一直滴滴叫，不知道是不是没电了", Category.FIRE_SAFETY),
        ("空调遥控器没电了", Category.HVAC),
        ("燃气灶点火器没电了，打不着", Category.APPLIANCE),
        ("家里没电了", Category.ELECTRICAL),
        ("卧室插座没电", Category.ELECTRICAL),
    ],
)
def test_a_flat_battery_belongs_to_what_it_powers(text: str, category: Category) -> None:
    assert load_default_classifier().classify(text).category is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("密码锁没得电了，开不到门", Category.LOCKSMITH),
        ("fingerprint lock 冇电，入唔到屋", Category.LOCKSMITH),
        ("成间屋冇电", Category.ELECTRICAL),
    ],
)
def test_a_flat_battery_in_dialect_belongs_to_what_it_powers(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert not verdict.needs_triage


@pytest.mark.parametrize(
    "text",
    ["燃气管子接口松了", "液化气罐的阀门拧不紧", "煤气表后面那截管子有点晃", "the gas hose behind the meter is cracked"],
)
def test_the_pipes_and_valves_of_the_gas_supply_are_not_the_plumbers(text: str) -> None:
    assert load_default_classifier().classify(text).category is Category.GENERAL


def test_a_pipe_without_gas_stays_the_plumbers() -> None:
    assert load_default_classifier().classify("洗手池下面的管子接口松了在滴水").category is Category.PLUMBING


@pytest.mark.parametrize(
    "text",
    ["冰箱外壳带电，一碰就麻手", "摸了一下热水器被电到了", "烤箱着火了", "the tumble dryer is giving off smoke"],
)
def test_a_danger_said_of_another_trades_equipment_goes_to_triage(text: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.needs_triage
    assert verdict.urgency is Priority.URGENT


@pytest.mark.parametrize("text", ["楼下按对讲我家这边听不见声音", "the doorbell stopped ringing"])
def test_an_intercom_or_a_doorbell_whose_trade_people_dispute_goes_to_triage(text: str) -> None:
    assert load_default_classifier().classify(text).needs_triage


def test_a_lifts_intercom_is_the_lifts() -> None:
    verdict = load_default_classifier().classify("电梯里的对讲没有声音")

    assert (verdict.category, verdict.needs_triage) == (Category.ELEVATOR, False)


def test_a_fire_that_might_happen_is_the_reason_not_the_fault() -> None:
    cluttered = load_default_classifier().classify("楼梯间堆满了旧柜子，万一着火了都跑不出去")
    parked = load_default_classifier().classify("楼道里放满了电动车和纸箱，万一着火了根本跑不出去")

    assert (cluttered.category, cluttered.needs_triage) == (Category.CLEANING, False)
    assert parked.category is not Category.FIRE_SAFETY
    assert "着火" not in parked.evidence


def test_water_from_the_flat_above_on_another_trades_equipment_goes_to_triage() -> None:
    verdict = load_default_classifier().classify("楼上渗水，流到我家配电箱里了")

    assert verdict.needs_triage
    assert verdict.urgency is Priority.URGENT


def test_water_from_the_flat_above_through_a_ceiling_is_the_plumbers() -> None:
    verdict = load_default_classifier().classify("楼上漏水，滴到我家天花板上了")

    assert (verdict.category, verdict.needs_triage) == (Category.PLUMBING, False)


@pytest.mark.parametrize("text", ["热水器出水管的接头在漏水", "the pipe under the water heater is dripping"])
def test_a_pipe_of_a_plumbed_in_appliance_goes_to_triage(text: str) -> None:
    assert load_default_classifier().classify(text).needs_triage


def test_a_hose_of_a_washing_machine_is_its_own() -> None:
    verdict = load_default_classifier().classify("洗衣机的进水管裂了在漏水")

    assert (verdict.category, verdict.needs_triage) == (Category.APPLIANCE, False)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("卧室插座冒烟了，有焦味", Category.ELECTRICAL),
        ("卫生间的插座漏电", Category.ELECTRICAL),
        ("摸开关的时候被电到了", Category.ELECTRICAL),
        ("楼道里冒烟了，不知道哪里来的", Category.FIRE_SAFETY),
    ],
)
def test_a_danger_of_its_own_trades_equipment_is_dispatched(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert not verdict.needs_triage


@pytest.mark.parametrize("text", ["对面阳台有人烧烤，烟都飘进我家了", "楼梯间总有人抽烟，烟味好大", "someone smoking cigarettes in the stairwell, the smoke comes under my door"])
def test_smoke_that_someone_makes_goes_to_triage(text: str) -> None:
    assert load_default_classifier().classify(text).needs_triage


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("油烟机的灯不亮了", "灯"),
        ("抽油烟机的开关按了没反应", "开关"),
        ("range hood light bulb is out", "bulb"),
        ("烤箱的灯泡坏了", "灯泡"),
        ("洗衣机排水管漏水", "排水管"),
        ("washing machine drain hose split and leaks on the floor", "drain hose"),
        ("冰箱门的密封条坏了", "密封条"),
        ("热水器漏水了", "漏水"),
    ],
)
def test_a_part_or_a_symptom_of_an_appliance_is_the_appliance_engineers(text: str, part: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is Category.APPLIANCE
    assert part in verdict.evidence


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("电梯里的灯坏了", Category.ELEVATOR),
        ("暖气阀门关不上", Category.HVAC),
        ("消防栓没水", Category.FIRE_SAFETY),
        ("配电箱的门坏了关不上", Category.ELECTRICAL),
    ],
)
def test_a_part_belongs_to_the_equipment_it_is_said_with(text: str, category: Category) -> None:
    assert load_default_classifier().classify(text).category is category


@pytest.mark.parametrize(
    "text",
    ["纱窗破了个洞，蚊子飞进来", "the fly screen on my window is torn", "墙上的插座面板旁边墙皮掉了", "外墙的瓷砖松了"],
)
def test_the_building_fabric_is_general_repairs(text: str) -> None:
    assert load_default_classifier().classify(text).category is Category.GENERAL


def test_a_lamp_on_the_building_fabric_is_still_the_electricians() -> None:
    assert load_default_classifier().classify("外墙的灯坏了").category is Category.ELECTRICAL


@pytest.mark.parametrize(
    ("text", "category", "denied"),
    [
        ("不是热水器的问题，是水管在漏水", Category.PLUMBING, "热水器"),
        ("it's not the lift, it's the light in the lift lobby", Category.ELECTRICAL, "lift"),
        ("水管没问题，是空调内机在滴水", Category.HVAC, "水管"),
        ("电子锁不是没电，是一直显示系统锁定", Category.LOCKSMITH, "没电"),
        ("不是锁坏了，是窗户玻璃裂了", Category.GENERAL, "锁"),
        ("the dryer is fine, it's the washing machine that won't spin", Category.APPLIANCE, "dryer"),
    ],
)
def test_what_the_owner_says_is_not_the_problem_does_not_count(text: str, category: Category, denied: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert denied not in verdict.evidence


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # colloquial and dialect words
        ("蹲坑冲不下去", Category.PLUMBING),
        ("坐厕堵咗", Category.PLUMBING),
        ("冲凉房的去水塞住咗", Category.PLUMBING),
        ("屋企冇电", Category.ELECTRICAL),
        ("雪柜唔凍", Category.APPLIANCE),
        ("升降机坏咗", Category.ELEVATOR),
        ("楼道好埋汰", Category.CLEANING),
        ("厨房好多曱甴", Category.CLEANING),
        ("地下室有耗子", Category.CLEANING),
        # typos and homophones
        ("电题坏了", Category.ELEVATOR),
        ("马通堵了", Category.PLUMBING),
        ("热水气打不着火", Category.APPLIANCE),
        ("钥是丢了进不去", Category.LOCKSMITH),
        ("烟敢一直响", Category.FIRE_SAFETY),
        ("下水到堵了", Category.PLUMBING),
        ("toliet wont flush", Category.PLUMBING),
        ("elevater stuck on 3", Category.ELEVATOR),
        ("frige not cold", Category.APPLIANCE),
        # pinyin, with or without spaces and particles
        ("dianti huai le", Category.ELEVATOR),
        ("kongtiao bu zhileng", Category.HVAC),
        ("matong du le", Category.PLUMBING),
        ("tingdianle", Category.ELECTRICAL),
        ("yaoshi diu le", Category.LOCKSMITH),
        # Chinese and English mixed
        ("lift 里很脏", Category.CLEANING),
        ("卧室的AC漏水", Category.HVAC),
        ("fridge 不冷了", Category.APPLIANCE),
    ],
)
def test_owners_own_words_are_understood(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is category
    assert all(word in text for word in verdict.evidence)


# --- urgency ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        # someone trapped; a lift falling
        ("电梯困人", "困人"),
        ("电梯卡住了，我妈在里面出不来", "在里面"),
        ("someone is trapped in the lift", "trapped"),
        ("the lift stopped between floors and my son is inside", "son is inside"),
        ("电梯突然往下坠", "下坠"),
        ("小孩把自己反锁在卫生间里了", "反锁在"),
        # fire, smoke, burning smell, sparks
        ("卧室插座冒火花了", "火花"),
        ("sparks coming out of the socket", "sparks"),
        ("卧室有一股烧焦的味道", "烧焦"),
        ("burning plastic smell from the fuse box", "burning"),
        ("楼下垃圾桶着火了", "着火"),
        # gas
        ("厨房里很浓的燃气味", "燃气味"),
        ("楼道有股燃气的味道", "燃气的味"),
        ("I can smell gas in the hallway", "smell gas"),
        # shocks
        ("洗衣机漏电，手麻了一下", "漏电"),
        ("热水器洗澡的时候电了一下", "电了一下"),
        ("got a shock from the light switch", "shock"),
        # no power to a whole flat
        ("家里全部没电了，别人家有电", "家里全部没电"),
        ("整栋楼停电了", "停电"),
        ("the whole flat has no power", "whole flat has no power"),
        # water into another flat, through a ceiling; bursts and floods
        ("楼下说我家漏水漏到他家了", "漏水漏到他家"),
        ("天花板在往下滴水，楼上漏下来的", "楼上漏"),
        ("water is coming through my ceiling from the flat above", "water is coming through my ceiling"),
        ("地下室水管爆了，水漫到车库", "水漫"),
        ("the basement is flooding", "flooding"),
        ("楼顶水箱溢水了，水顺着楼梯往下淌", "往下淌"),
        ("热水管裂了，烫水一直往外冒，已经流到客厅了", "流到客厅"),
        ("总阀关不住，水一直在冒", "水一直在冒"),
        ("地下室水位一直在涨", "水位一直在涨"),
        ("楼道灯的线头露在外面还滴着水", "线头露在外面还滴着水"),
        # caught, and lifts that endanger whoever steps in
        ("电梯门夹住我家老人的手了", "夹住我家老人"),
        ("小孩鞋子卡进扶梯缝里了，人还在上面", "卡进扶梯"),
        ("电梯门开了但是轿厢没下来，门口是空的", "轿厢没"),
        ("电梯开着门就往上走", "开着门就"),
        ("扶梯突然反转了好多人摔倒", "梯突然反转"),
        ("电梯里有人出不来", "人出不来"),
        ("电梯井里有水", "电梯井里有水"),
        ("消防通道的门锁死了打不开", "消防通道的门锁"),
        # falling, collapsing, open holes, downed wires
        ("外墙瓷砖掉了一块，差点砸到人", "差点砸"),
        ("楼顶的太阳能热水器被风吹得要掉下来", "要掉下来"),
        ("地下车库顶上在往下掉水泥块", "往下掉水泥块"),
        ("井盖不见了，晚上看不见会掉进去", "井盖不见"),
        ("大树被风吹断压在电线上", "压在电线"),
        ("someone fell down the stairs because the lights are out", "fell down"),
        # gas from a flue or a cylinder
        ("热水器的烟道脱落了，屋里有废气味道", "烟道脱落"),
        ("燃气报警器在叫", "燃气报警"),
        ("天然气管道漏气了", "天然气管道漏气"),
    ],
)
def test_danger_to_people_or_property_is_urgent(text: str, cue: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.URGENT
    assert any(cue in phrase for phrase in verdict.urgency_evidence), verdict.urgency_evidence


@pytest.mark.parametrize(
    ("text", "equipment"),
    [
        ("楼道的灭火器过期了", "灭火器"),
        ("smoke alarm battery low, chirping", "smoke alarm"),
        ("车库的喷淋头在滴水", "喷淋头"),
        ("防火门的闭门器坏了", "防火门"),
        ("安全出口的指示灯不亮", "安全出口"),
        ("fire extinguisher on our floor is missing", "extinguisher"),
        ("消防栓没水", "消防栓"),
    ],
)
def test_every_fault_of_fire_equipment_is_urgent_and_names_the_equipment(text: str, equipment: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.category is Category.FIRE_SAFETY
    assert verdict.urgency is Priority.URGENT
    assert equipment in verdict.urgency_evidence


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("5号楼电梯卡在十楼，里面有老人", Category.ELEVATOR),
        ("孩子把自己反锁在房间里，怎么叫都不开", Category.LOCKSMITH),
        ("把自己锁外面了，孩子还在里面睡觉", Category.LOCKSMITH),
    ],
)
def test_someone_inside_a_stuck_lift_or_behind_a_lock_is_trapped(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert (verdict.category, verdict.urgency) == (category, Priority.URGENT)


@pytest.mark.parametrize("text", ["电梯里面有人拉屎了", "钥匙锁在里面了，进不去"])
def test_someone_inside_a_dirty_lift_or_keys_inside_a_flat_are_not_trapped(text: str) -> None:
    assert cue_rules_alone().classify(text).urgency is not Priority.URGENT


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("smoke is coming out of the rubbish chute", Category.FIRE_SAFETY),
        ("垃圾桶在冒烟", Category.FIRE_SAFETY),
        ("插座冒烟了", Category.ELECTRICAL),
        ("电梯轿厢里在冒烟", Category.ELEVATOR),
    ],
)
def test_smoke_is_the_trade_of_the_equipment_it_comes_from_else_the_fire_wardens(text: str, category: Category) -> None:
    verdict = load_default_classifier().classify(text)

    assert (verdict.category, verdict.urgency) == (category, Priority.URGENT)


@pytest.mark.parametrize(
    "text",
    [
        "没有人被困，电梯就是停了",
        "nobody is trapped, the lift just stopped",
        "不是漏电，是插座松了",
        "没有燃气味，就是燃气灶打不着火",
        "I checked, no gas smell, the hob just won't light",
        "钥匙锁在里面了，进不去",
        "厨房插座没电了，其他房间有电",
        "漏电保护器老是跳",
        # the neighbours of the cues above, which are not dangers
        "窗帘夹住了",
        "马桶水停不住一直流",
        "水龙头关不住",
        "水箱水位浮球坏了一直在进水",
        "电梯按钮装反了",
        "保洁拖完地楼道全是水渍",
        "阳台的下水管裂了一条缝，下雨天会往外渗水",
        "空调嘶嘶响",
        "电表箱门坏了，电线露在外面",
    ],
)
def test_a_denied_or_partial_alarm_is_not_urgent(text: str) -> None:
    assert cue_rules_alone().classify(text).urgency is not Priority.URGENT


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        # Shanghainese, Cantonese (in traditional characters too), Sichuanese and northern speech
        ("三号楼电梯里厢困牢两个人", "困牢"),
        ("部𨋢困咗人喺九樓", "困咗"),
        ("插座燒咗，有啲煙", "煙"),
        ("屋头一点电都没得了", "没得了"),
        ("成个屋企冇晒电", "冇晒电"),
        ("俺家整个屋都没电了", "整个屋都没电"),
        # typos and homophones
        ("店梯关人了，里面有人", "里面有人"),
        ("插做冒火星", "火星"),
        ("煤起味好重", "煤起"),
        ("天花扳一直在滴，楼上的水", "楼上的水"),
        # pinyin and English paraphrase
        ("ranqi wei hen zhong", "ranqi"),
        ("the bathroom tap gave me a shock, got a shock twice", "shock"),
        ("smoking socket in the kitchen", "smoking socket"),
    ],
)
def test_danger_in_dialect_typos_and_pinyin_is_urgent(text: str, cue: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.URGENT
    assert any(cue in phrase for phrase in verdict.urgency_evidence), verdict.urgency_evidence


@pytest.mark.parametrize(
    ("text", "halves"),
    [
        ("电梯停在5楼和6楼之间了，我妈在里头", ("电梯", "在里头")),
        ("楼下阿姨上来说，她家卫生间顶上湿了一大块", ("楼下", "湿了")),
        ("燃气灶关了，厨房还是有股怪味，像臭鸡蛋", ("燃气", "味")),
        ("小区路口的窨井盖，昨晚被人撬走了", ("窨井", "撬走")),
        ("阳台栏杆，一推就晃", ("栏杆", "晃")),
    ],
)
def test_a_danger_told_across_clauses_is_urgent_and_names_both_halves(text: str, halves: tuple[str, str]) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.URGENT
    for half in halves:
        assert any(half in phrase for phrase in verdict.urgency_evidence), verdict.urgency_evidence


@pytest.mark.parametrize(
    "text",
    [
        # negations of the new cues
        "开关按不下去，不冒烟也不烫",
        "燃气公司查过了，没有漏气，就是灶的火小",
        "电梯停用保养，没人困在里面",
        "插座不通电，没有冒烟也没有焦味",
        # their everyday senses
        "楼道里有人抽烟，烟头扔了一地",
        "油烟机吸力小，做饭满屋油烟",
        "楼道有一滩油，我差点滑倒",
        "消防通道被电动车堵了",
        "书房两个插座都没电了",
        "厨房吊柜的门掉下来了",
        "电梯里有人吐了，好脏",
        "密码锁打不开，老婆孩子在门外等着",
    ],
)
def test_the_new_cues_leave_their_negations_and_everyday_senses_alone(text: str) -> None:
    assert cue_rules_alone().classify(text).urgency is not Priority.URGENT


# Issue 18's six danger families in word families the lists lacked; the rules alone must read them.
@pytest.mark.parametrize(
    ("text", "cue"),
    [
        # someone shut in a lift, in southwestern speech and English
        ("电梯半路停了，关起一个快递员", "关起一个"),
        ("the elevator stopped between the 9th and 10th floor", "stopped between"),
        # fire flaring up, a thing smoking, arcing heard at a socket
        ("配电箱那里着起来了", "着起来"),
        ("the hairdryer plug is smoking", "smoking"),
        ("插座一直滋滋响", "滋滋"),
        # gas likened, in pinyin, and a gas appliance that hisses and leaves someone dizzy
        ("厨房闻着有股臭鸡蛋的气味", "臭鸡蛋"),
        ("tianranqi wei dao hen da", "tianranqi"),
        ("热水器一直有嘶嘶的声音，我妈洗完澡头晕", "热水器"),
        # the hand a shock hit; every circuit down
        ("洗手的时候被开关电到手了", "电到手"),
        ("停了一下之后电都断了，空调冰箱都不动", "电都断"),
        # fire equipment that leaks, whatever trade it reads as
        ("地下室的消火栓一直在漏", "消火栓"),
        ("the sprinkler in the corridor is leaking onto the carpet", "sprinkler"),
    ],
)
def test_the_six_danger_families_are_urgent_by_the_rules_in_more_wordings(text: str, cue: str) -> None:
    verdict = cue_rules_alone().classify(text)

    assert verdict.urgency is Priority.URGENT
    assert any(cue in phrase for phrase in verdict.urgency_evidence), verdict.urgency_evidence


@pytest.mark.parametrize(
    "text",
    # the everyday senses of those words: a lift door closing (关起来), a lamp switched off in
    # southwestern speech (关倒), an electric water heater's hiss
    ["电梯门关起来很慢", "电梯门关起来一个劲响", "电梯里的灯关倒了", "电热水器加热的时候嘶嘶响"],
)
def test_the_danger_families_leave_everyday_senses_alone(text: str) -> None:
    assert cue_rules_alone().classify(text).urgency is not Priority.URGENT


def test_a_blocked_fire_escape_is_the_cleaners_at_high() -> None:
    verdict = load_default_classifier().classify("消防通道堆满了纸箱和旧家具")

    assert (verdict.category, verdict.urgency) == (Category.CLEANING, Priority.HIGH)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("卧室门合页松了，关门会响", Category.LOCKSMITH),
        ("入户门关不上了", Category.LOCKSMITH),
        ("the bedroom door frame has swollen and the door sticks", Category.LOCKSMITH),
        ("厨房吊柜的柜门歪了", Category.GENERAL),
        ("闻到煤气味，不知道哪里来的", Category.GENERAL),
        ("燃气灶关了还有燃气味", Category.APPLIANCE),
        ("小区路上的井盖丢了", Category.GENERAL),
        ("电表箱着火了", Category.ELECTRICAL),
        ("楼下垃圾桶着火了", Category.FIRE_SAFETY),
        ("整栋楼都没有热水", Category.PLUMBING),
        ("热水器不出热水", Category.APPLIANCE),
        ("电梯里的风扇不转", Category.ELEVATOR),
    ],
)
def test_categories_follow_the_schema_what_is_broken_not_where(text: str, category: Category) -> None:
    assert load_default_classifier().classify(text).category is category


def test_an_enquiry_about_fire_equipment_is_low() -> None:
    verdict = load_default_classifier().classify("想问一下灭火器多久换一次")

    assert verdict.urgency is Priority.LOW
    assert "想问" in verdict.urgency_evidence


def test_an_owner_saying_there_is_no_hurry_does_not_make_gas_less_urgent() -> None:
    verdict = load_default_classifier().classify("有点燃气味，不急")

    assert verdict.urgency is Priority.URGENT
    assert verdict.urgency_evidence == ("燃气味",)


def test_every_priority_but_normal_names_the_words_it_rests_on() -> None:
    classifier = load_default_classifier()
    for row in labelled_rows():
        text = row["description"]
        verdict = classifier.classify(text)
        if verdict.urgency is Priority.NORMAL:
            assert verdict.urgency_evidence == (), text
        else:
            assert verdict.urgency_evidence, text
            assert all(word in text for word in verdict.urgency_evidence), (text, verdict.urgency_evidence)


@pytest.mark.parametrize("text", ["水龙头有点滴水，不急，有空来看看", "the tap drips a little, not urgent, no rush"])
def test_an_owner_saying_there_is_no_hurry_gets_low_urgency(text: str) -> None:
    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.LOW
    assert verdict.category is Category.PLUMBING


def test_an_owners_own_hurry_is_high_not_urgent() -> None:
    verdict = load_default_classifier().classify("卫生间水龙头漏水，紧急！")

    assert verdict.urgency is Priority.HIGH
    assert "紧急" in verdict.urgency_evidence


def test_without_any_cue_urgency_is_normal() -> None:
    assert load_default_classifier().classify("空调不制冷").urgency is Priority.NORMAL


# --- triage threshold ---------------------------------------------------------------------------

# An air conditioner (HVAC) and a water heater (appliances) both broken: a person should decide.
MIXED_SIGNALS = "空调和热水器都坏了"


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

    assert shipped.classify("电动晾衣架不动了").category is Category.GENERAL
    assert once.classify("电动晾衣架不动了").category is Category.GENERAL
    assert twice.classify("电动晾衣架不动了").category is Category.APPLIANCE
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


CLASSIFIER_MODULES = ("classifier", "classifier_text", "classifier_words", "urgency_net")


def test_classifier_imports_only_the_standard_library_jieba_the_shared_kernel_and_its_own_modules() -> None:
    imported = set()
    for name in CLASSIFIER_MODULES:
        source = (REPO / "dispatch" / f"{name}.py").read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)

    third_party = {name.split(".")[0] for name in imported} - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"jieba", "kernel", "dispatch"}
    assert {name for name in imported if name.startswith("dispatch")} <= {f"dispatch.{name}" for name in CLASSIFIER_MODULES}


def test_jieba_does_not_log_below_warnings() -> None:
    assert logging.getLogger("jieba").getEffectiveLevel() >= logging.WARNING


# --- the learned safety net for URGENT ----------------------------------------------------------------

# Wordings the cue lists and danger pairs do not know (checked below: the rules alone leave them
# below URGENT), with a word the net must name.
UNSEEN_DANGERS = [
    ("整栋楼黑了，啥电都没", "整栋楼黑"),
    ("someone stuck in the elevater", "elevater"),
]


@pytest.mark.parametrize(("text", "word"), UNSEEN_DANGERS)
def test_the_safety_net_raises_a_danger_the_cue_lists_do_not_know(text: str, word: str) -> None:
    assert cue_rules_alone().classify(text).urgency is not Priority.URGENT

    verdict = load_default_classifier().classify(text)

    assert verdict.urgency is Priority.URGENT
    assert word in verdict.urgency_evidence


@pytest.mark.parametrize(("text", "_word"), UNSEEN_DANGERS)
def test_the_safety_nets_evidence_is_words_of_the_text(text: str, _word: str) -> None:
    evidence = load_urgency_net().evidence(Reading.of(text))

    assert evidence
    assert all(word in text for word in evidence)


@pytest.mark.parametrize("text", ["屋头没有燃汽味，灶台打不燃", "不是燃汽味，是下水道返上来的臭味"])
def test_the_safety_net_does_not_read_a_denied_danger(text: str) -> None:
    net = load_urgency_net()

    assert net.score(Reading.of(text)) < net.threshold
    assert net.evidence(Reading.of(text)) == ()
    assert load_default_classifier().classify(text).urgency is not Priority.URGENT


def test_the_safety_net_denies_what_an_absence_word_denies() -> None:
    net = load_urgency_net()

    assert net.score(Reading.of("屋里没有燃汽味")) < net.score(Reading.of("屋里有燃汽味"))


@pytest.mark.parametrize("text", ["卫生间地漏返上来的臭味很重", "厨房下水道的臭味好大", "the bathroom smells like sewage again"])
def test_the_safety_net_does_not_take_a_drains_smell_for_gas(text: str) -> None:
    assert load_default_classifier().classify(text).urgency is not Priority.URGENT


def test_the_safety_net_leaves_an_enquiry_to_office_hours() -> None:
    verdict = load_default_classifier().classify("我想问一下灭火器多久换一次")

    assert verdict.urgency is not Priority.URGENT


def test_the_shipped_safety_net_was_fitted_with_the_current_everyday_senses() -> None:
    # The net does not read the cues' masks ("烟头", "油烟"); when they change, fit it again
    # (python -m dispatch.urgency_net_fit).
    assert load_urgency_net().everyday_senses == everyday_senses_digest()


def test_fitting_the_safety_net_is_deterministic() -> None:
    features = [{"燃": 0.5, "气": 0.5}, {"灯": 0.7}, {"燃": 0.7}, {"灯": 0.5, "气": 0.5}] * 3
    urgent = [True, False, True, False] * 3

    first, second = fit(features, urgent), fit(features, urgent)

    assert first == second
    assert first.weights["燃"] > 0 > first.weights["灯"]


def test_the_safety_nets_threshold_finds_every_urgent_report_it_can_reach_and_keeps_a_margin() -> None:
    # given out-of-group scores: URGENT reports the rules catch (reach inf), ones the net can reach at
    # their score, one it cannot name a word for (reach -inf), and other reports
    groups = {
        "first": GroupScores(
            urgent=(True, True, True, False), scores=(0.5, -0.2, -3.0, 0.9), reach=(math.inf, -0.2, -math.inf, 0.9)
        ),
        "second": GroupScores(urgent=(True, False), scores=(0.1, -1.0), reach=(0.1, -1.0)),
    }
    # and validation reports whose scores spread by 0.1, 0.2 and 0 across the leave-one-group-out nets
    spreads = [[0.0, 0.2], [0.0, 0.4], [1.0, 1.0]]

    # when
    choice = choose_threshold(groups, spreads)

    # then every reachable URGENT report is found at the lowest of their scores, and the threshold sits
    # a median spread below it
    assert choice.full_recall == -0.2
    assert choice.margin == pytest.approx(0.1)
    assert choice.threshold == pytest.approx(-0.3)
    assert groups["second"].recall(choice.threshold) == 1.0
    assert groups["first"].recall(choice.threshold) == pytest.approx(2 / 3)
    assert groups["second"].false_alarms(choice.threshold) == 0.0


@pytest.mark.parametrize("text", ["老鼠把网线咬断了", "rats chewed through the cable behind the fridge"])
def test_what_pests_chewed_through_goes_to_a_dispatcher(text: str) -> None:
    # Pest control is the cleaners', the repair the trade's of what was chewed: both are needed.
    verdict = load_default_classifier().classify(text)

    assert verdict.needs_triage
    assert load_default_classifier().classify("厨房有老鼠").category is Category.CLEANING
