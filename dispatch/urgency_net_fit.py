"""Fitting the URGENT safety net (``dispatch.urgency_net``) and choosing its threshold.

The net is a logistic regression (scikit-learn, L2) on the character n-grams of every labelled report:
the lists shipped in the package and the labelled and development sets in tests/data
(``TRAINING_SETS``), URGENT against everything else. The separate test sets and the newest development
set (tests/data/classifier_dev_5.csv, kept as an honest check of this choice) are never read here.

The threshold is chosen for recall first, with a safety margin. The net only matters where the cue
rules miss, so every URGENT report is scored by a net that never saw its group: each training set by
a net fitted on the other training sets (leave one group out), and each of ``VALIDATION_SETS`` (the
development sets the net is never fitted on) by a net fitted on every training set. The highest
threshold at which the rules and that net together find every URGENT report of every group is then
lowered by a margin: how far a report's score moves when one group of training data is left out (the
median, over the validation reports, of the spread of their scores across the leave-one-group-out
nets), since the next refit moves scores about that much. A report the net cannot name a word for (a
bare "rq") or an enquiry it leaves alone is out of its reach at any threshold and is the cue lists' to
catch. Then the model is fitted again on every training example.

Run ``python -m dispatch.urgency_net_fit`` from the repository to write ``dispatch/urgency_net.json``;
it prints the figures the choice rests on. scikit-learn is imported when a fit is asked for, not with
the scoring module: the service reads the weights only.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from dispatch.classifier import (
    Classifier,
    TrainingExample,
    load_default_classifier,
    load_seed_examples,
)
from dispatch.classifier_text import Reading
from dispatch.urgency_net import (
    UrgencyNet,
    blanked,
    everyday_senses_digest,
    ngrams,
    to_json,
)
from kernel.vocabulary import Category, Priority

__all__ = [
    "SHIPPED_LISTS",
    "TRAINING_SETS",
    "VALIDATION_SETS",
    "GroupScores",
    "ThresholdChoice",
    "choose_threshold",
    "fit",
    "fit_net",
    "score_groups",
    "training_groups",
    "validation_groups",
]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHIPPED_LISTS = "shipped lists"
# (file, text column, urgency column)
TRAINING_SETS = (
    ("ticket_descriptions.csv", "description", "urgency"),
    ("classifier_heldout.csv", "text", "priority"),
    ("classifier_urgency_dev.csv", "description", "urgency"),
    ("classifier_urgency_check.csv", "description", "urgency"),
)
# Development sets with priorities that the net is never fitted on: they only help choose the threshold.
VALIDATION_SETS = (
    ("classifier_dev_3.csv", "description", "urgency"),
    ("classifier_dev_4.csv", "description", "urgency"),
    ("classifier_urgency_net_check.csv", "description", "urgency"),
)
# Inverse L2 strength; n-grams seen in fewer reports than MIN_REPORTS are not learned (a typo seen once
# teaches nothing that generalises, and the shipped table stays small).
REGULARISATION = 16.0
MIN_REPORTS = 2


def _read(data: Path, name: str, text: str, urgency: str) -> tuple[TrainingExample, ...]:
    with (data / name).open(encoding="utf-8", newline="") as handle:
        return tuple(
            TrainingExample(row[text], Category(row["category"]), Priority(row[urgency])) for row in csv.DictReader(handle)
        )


def training_groups(data: Path = DATA) -> dict[str, tuple[TrainingExample, ...]]:
    """The shipped lists, then each training set's rows, in file order, by group."""
    groups = {SHIPPED_LISTS: load_seed_examples()}
    groups.update((name, _read(data, name, text, urgency)) for name, text, urgency in TRAINING_SETS)
    return groups


def validation_groups(data: Path = DATA) -> dict[str, tuple[TrainingExample, ...]]:
    return {name: _read(data, name, text, urgency) for name, text, urgency in VALIDATION_SETS}


def _features(text: str) -> dict[str, float]:
    grams = {gram for gram, _, _ in ngrams(*blanked(Reading.of(text)))}
    return dict.fromkeys(grams, 1.0 / math.sqrt(len(grams))) if grams else {}


def fit(features: Sequence[dict[str, float]], urgent: Sequence[bool], *, threshold: float = 0.0) -> UrgencyNet:
    """Logistic regression on the n-gram features (deterministic: L-BFGS from zero on a fixed order)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    reports = Counter(gram for row in features for gram in row)
    kept = [{gram: value for gram, value in row.items() if reports[gram] >= MIN_REPORTS} for row in features]
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(kept)
    regression = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    regression.fit(matrix, list(urgent))
    weights = {
        gram: round(float(weight), 4)
        for gram, weight in zip(vectorizer.get_feature_names_out(), regression.coef_[0], strict=True)
        if round(float(weight), 4) != 0.0
    }
    return UrgencyNet(
        MappingProxyType(weights), round(float(regression.intercept_[0]), 4), threshold, everyday_senses_digest()
    )


def _net_features(examples: Sequence[TrainingExample]) -> tuple[list[dict[str, float]], list[bool]]:
    return [_features(example.text) for example in examples], [example.urgency is Priority.URGENT for example in examples]


@dataclass(frozen=True, slots=True)
class GroupScores:
    """One group's reports as a net that never saw them scores them, beside what the rules say.

    ``reach`` is per report the highest threshold at which the rules and the net together call it
    URGENT: infinite where the rules do already, minus infinity where the net cannot name a word for it
    or leaves it alone (an enquiry)."""

    urgent: tuple[bool, ...]
    scores: tuple[float, ...]
    reach: tuple[float, ...]

    def recall(self, threshold: float) -> float:
        found = [reach >= threshold for reach, urgent in zip(self.reach, self.urgent) if urgent]
        return sum(found) / len(found) if found else 1.0

    def net_recall(self, threshold: float) -> float:
        """The net alone: the share of URGENT reports scored at or above ``threshold``."""
        found = [score >= threshold for score, urgent in zip(self.scores, self.urgent) if urgent]
        return sum(found) / len(found) if found else 1.0

    def false_alarms(self, threshold: float) -> float:
        """The share of reports that are not URGENT which the rules and the net together call URGENT."""
        raised = [reach >= threshold for reach, urgent in zip(self.reach, self.urgent) if not urgent]
        return sum(raised) / len(raised) if raised else 0.0


def _group_scores(rules: Classifier, net: UrgencyNet, examples: Sequence[TrainingExample]) -> GroupScores:
    unbounded = replace(rules, urgency_net=replace(net, threshold=-math.inf))
    scores, reach = [], []
    for example in examples:
        score = net.score(Reading.of(example.text))
        scores.append(score)
        if rules.classify(example.text).urgency is Priority.URGENT:
            reach.append(math.inf)
        elif unbounded.classify(example.text).urgency is Priority.URGENT:
            reach.append(score)
        else:
            reach.append(-math.inf)
    return GroupScores(tuple(example.urgency is Priority.URGENT for example in examples), tuple(scores), tuple(reach))


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """Every group's out-of-group scores, the threshold at which all their URGENT reports are found, the
    margin and the threshold it gives."""

    groups: Mapping[str, GroupScores]
    full_recall: float
    margin: float

    @property
    def threshold(self) -> float:
        return round(self.full_recall - self.margin, 4)


def score_groups(
    training: Mapping[str, Sequence[TrainingExample]], validation: Mapping[str, Sequence[TrainingExample]], rules: Classifier
) -> tuple[dict[str, GroupScores], list[list[float]]]:
    """Each group scored by a net that never saw it (see the module docstring), and per validation
    report its scores under each leave-one-group-out net."""
    groups: dict[str, GroupScores] = {}
    left_out_nets = []
    for name, examples in training.items():
        rest = [example for other, group in training.items() if other != name for example in group]
        net = fit(*_net_features(rest))
        left_out_nets.append(net)
        groups[name] = _group_scores(rules, net, examples)
    every = fit(*_net_features([example for group in training.values() for example in group]))
    spreads = []
    for name, examples in validation.items():
        groups[name] = _group_scores(rules, every, examples)
        for example in examples:
            reading = Reading.of(example.text)
            spreads.append([net.score(reading) for net in left_out_nets])
    return groups, spreads


def choose_threshold(groups: Mapping[str, GroupScores], spreads: Sequence[Sequence[float]]) -> ThresholdChoice:
    reachable = [
        reach
        for group in groups.values()
        for reach, urgent in zip(group.reach, group.urgent)
        if urgent and -math.inf < reach < math.inf
    ]
    # When the rules find every URGENT report themselves, start from the score of even odds.
    full_recall = min(reachable, default=0.0)
    margin = statistics.median(statistics.pstdev(scores) for scores in spreads)
    return ThresholdChoice(MappingProxyType(dict(groups)), full_recall, margin)


def fit_net(
    training: Mapping[str, Sequence[TrainingExample]], validation: Mapping[str, Sequence[TrainingExample]]
) -> tuple[UrgencyNet, ThresholdChoice]:
    """The net fitted on every training example, with the threshold chosen with its margin."""
    rules = replace(load_default_classifier(), urgency_net=None)
    choice = choose_threshold(*score_groups(training, validation, rules))
    net = fit(*_net_features([example for group in training.values() for example in group]), threshold=choice.threshold)
    return net, choice


def main() -> None:
    training, validation = training_groups(), validation_groups()
    net, choice = fit_net(training, validation)
    (ROOT / "dispatch" / "urgency_net.json").write_text(to_json(net) + "\n", encoding="utf-8")
    examples = sum(len(group) for group in training.values())
    urgent = sum(example.urgency is Priority.URGENT for group in training.values() for example in group)
    print(f"{examples} training reports, {urgent} URGENT; {len(net.weights)} n-gram weights")
    print(
        f"every URGENT report found out of group down to {choice.full_recall:+.4f}; margin {choice.margin:.4f}; "
        f"threshold {choice.threshold:+.4f}"
    )
    for threshold in (choice.full_recall, choice.threshold):
        print(f"at {threshold:+.4f}, out of group (rules and net: URGENT found, others called URGENT; net alone: URGENT found):")
        for name, group in choice.groups.items():
            print(
                f"  {name:34} {group.recall(threshold):.3f}  {group.false_alarms(threshold):.3f}  "
                f"net alone {group.net_recall(threshold):.3f}"
            )


if __name__ == "__main__":
    main()
