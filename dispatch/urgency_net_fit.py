"""Fitting the URGENT safety net (``dispatch.urgency_net``) and choosing its threshold.

The net is a logistic regression (scikit-learn, L2) on the character n-grams of every labelled report:
the lists shipped in the package and the labelled and development sets in tests/data
(``TRAINING_SETS``), URGENT against everything else. The check round written for the net
(tests/data/classifier_urgency_net_check.csv) and the separate test set are never read here.

The threshold comes from cross-validation on the same examples: each is scored by a model fitted on
the other folds, and the threshold is the score at which those out-of-fold scores cost least, a missed
URGENT report weighing ``MISSED_URGENT_COST * RULES_MISS_SHARE`` needless call-outs. Then the model is
fitted again on every example.

Run ``python -m dispatch.urgency_net_fit`` from the repository to write ``dispatch/urgency_net.json``;
it prints the cross-validated figures. scikit-learn is imported when a fit is asked for, not with the
scoring module: the service reads the weights only.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from dispatch.classifier import TrainingExample, load_seed_examples
from dispatch.classifier_text import Reading
from dispatch.urgency_net import UrgencyNet, blanked, everyday_senses_digest, ngrams, to_json
from kernel.vocabulary import Category, Priority

__all__ = ["FOLDS", "MISSED_URGENT_COST", "RULES_MISS_SHARE", "CrossValidation", "cross_validate", "fit", "fit_net", "training_examples"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
# (file, text column, urgency column)
TRAINING_SETS = (
    ("ticket_descriptions.csv", "description", "urgency"),
    ("classifier_heldout.csv", "text", "priority"),
    ("classifier_urgency_dev.csv", "description", "urgency"),
    ("classifier_urgency_check.csv", "description", "urgency"),
)
FOLDS = 5
# The threshold weighs what each mistake costs. A missed URGENT report costs MISSED_URGENT_COST times
# what a needless urgent call-out costs (a flat against a technician's hour). But the net only matters
# where the rules miss: on each check round's first reading (tests/data/README_classifier_urgency_dev.md,
# the three rounds before the net: 8 of 56, 7 of 51, 10 of 50) they missed RULES_MISS_SHARE of URGENT
# reports, so a report the net misses costs that share of a flat; a report it raises needlessly was
# almost never raised by the rules, so it costs a whole call-out.
MISSED_URGENT_COST = 10.0
RULES_MISS_SHARE = 25 / 157
# Inverse L2 strength; n-grams seen in fewer reports than MIN_REPORTS are not learned (a typo seen once
# teaches nothing that generalises, and the shipped table stays small).
REGULARISATION = 16.0
MIN_REPORTS = 2


def training_examples(data: Path = DATA) -> tuple[TrainingExample, ...]:
    """The shipped lists, then each training set's rows, in file order."""
    examples = list(load_seed_examples())
    for name, text, urgency in TRAINING_SETS:
        with (data / name).open(encoding="utf-8", newline="") as handle:
            examples.extend(
                TrainingExample(row[text], Category(row["category"]), Priority(row[urgency]))
                for row in csv.DictReader(handle)
            )
    return tuple(examples)


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


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold scores beside the labels, and the threshold they give."""

    scores: tuple[float, ...]
    urgent: tuple[bool, ...]
    threshold: float

    def recall(self, threshold: float) -> float:
        found = [score >= threshold for score, urgent in zip(self.scores, self.urgent) if urgent]
        return sum(found) / len(found)

    def false_alarms(self, threshold: float) -> float:
        """The share of reports that are not URGENT which the net calls URGENT."""
        raised = [score >= threshold for score, urgent in zip(self.scores, self.urgent) if not urgent]
        return sum(raised) / len(raised)


def cross_validate(examples: Sequence[TrainingExample]) -> CrossValidation:
    """Folds dealt round-robin within URGENT and the rest, in the examples' order, so every run splits alike."""
    features = [_features(example.text) for example in examples]
    urgent = [example.urgency is Priority.URGENT for example in examples]
    dealt: Counter[bool] = Counter()
    fold_of = []
    for label in urgent:
        fold_of.append(dealt[label] % FOLDS)
        dealt[label] += 1
    scores = [0.0] * len(examples)
    for fold in range(FOLDS):
        training = [index for index, home in enumerate(fold_of) if home != fold]
        net = fit([features[index] for index in training], [urgent[index] for index in training])
        for index, home in enumerate(fold_of):
            if home == fold:
                scores[index] = net.bias + sum(net.weights.get(gram, 0.0) * value for gram, value in features[index].items())
    missed_cost = MISSED_URGENT_COST * RULES_MISS_SHARE

    def cost(threshold: float) -> float:
        return sum(
            (missed_cost if label else 0.0) if score < threshold else (0.0 if label else 1.0)
            for score, label in zip(scores, urgent)
        )

    candidates = sorted({round(score, 4) for score in scores})
    return CrossValidation(tuple(scores), tuple(urgent), min(candidates, key=cost))


def fit_net(examples: Sequence[TrainingExample]) -> tuple[UrgencyNet, CrossValidation]:
    """The net fitted on every example, with the threshold cross-validation chose."""
    validation = cross_validate(examples)
    net = fit(
        [_features(example.text) for example in examples],
        [example.urgency is Priority.URGENT for example in examples],
        threshold=validation.threshold,
    )
    return net, validation


def main() -> None:
    examples = training_examples()
    net, validation = fit_net(examples)
    (ROOT / "dispatch" / "urgency_net.json").write_text(to_json(net) + "\n", encoding="utf-8")
    urgent = sum(validation.urgent)
    print(f"{len(examples)} reports, {urgent} URGENT; {len(net.weights)} n-gram weights")
    for threshold in sorted({validation.threshold, -1.0, -0.5, 0.0, 0.5}):
        print(
            f"threshold {threshold:+.4f}: out-of-fold recall {validation.recall(threshold):.3f}, "
            f"other reports called URGENT {validation.false_alarms(threshold):.3f}"
        )


if __name__ == "__main__":
    main()
