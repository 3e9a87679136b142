"""The learned safety net for URGENT: a character n-gram model that catches dangers the cue lists miss.

The urgency cues and danger pairs (``dispatch.classifier_words``) are phrase lists, and each fresh
round of reports nobody had tuned them on found wordings they lacked (the rounds' first readings are in
tests/data/README_classifier_urgency_dev.md). This model reads characters instead of phrases, so a typo
("燃起表", "电悌"), a dialect verb or pinyin ("mei qi xie lou") still shares most of its character
n-grams with the labelled dangers; its verdict is OR-ed with the rules, so it can only raise a priority.

How a report is scored, so an operator can follow it:

1. The text as ``dispatch.classifier_text.Reading`` read it (normalised: lower case, simplified
   characters) with what a contrast sets aside ("不是漏水，是…"), the everyday senses of danger
   words ("油烟") and an owner's own hurry ("紧急", "asap") blanked out, and the few
   characters or words after an absence word ("没有燃气味", "no smoke"), the same reach the rules use,
   marked as denied. So a negated danger is not evidence of one.
2. Every distinct character n-gram of one to three characters in what is left (spaces count, so
   "gas " and " lift" carry word edges; one that touches a denied character is a feature of its own),
   each with its learned weight; ``score`` is the bias plus
   the weights' sum divided by the square root of how many n-grams the text has (a long text is not
   louder than a short one).
3. URGENT when ``score >= threshold``; the threshold was chosen for recall first, with a margin
   (``dispatch.urgency_net_fit``): below the lowest score at which the rules and nets that never saw a
   development set's reports still find every URGENT one of them, by how far scores move between fits.
4. Its evidence is the text's words (the reading's tokens, adjacent ones joined) that the n-grams
   inside them pushed up most.

The weights are data shipped beside this module (``urgency_net.json``), fitted offline by
``python -m dispatch.urgency_net_fit``: scoring is a dictionary look-up per n-gram, deterministic and
free of scikit-learn, and the service loads it once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from dispatch.classifier_text import PhraseMatcher, Reading, is_cjk
from dispatch.classifier_words import DEFAULT_URGENCY_CUES, OWNER_HURRY

__all__ = ["MAX_NGRAM", "UrgencyNet", "blanked", "everyday_senses_digest", "from_json", "load_urgency_net", "ngrams", "to_json"]

MAX_NGRAM = 3
_BLANK = "\x00"
# How far an absence word reaches, as in ``Reading.is_denied``: characters of Chinese, words of English.
_DENIAL_CJK_REACH = 4
_DENIAL_LATIN_REACH = 3
_EVIDENCE_LIMIT = 3
# A word is evidence when its n-grams add at least this much to the score (a fifth of a nat, after the
# length scaling): enough to be one of the reasons, not a word that merely did not pull down.
_EVIDENCE_MIN_PUSH = 0.2
_WEIGHTS_FILE = "urgency_net.json"


def _unread() -> tuple[str, ...]:
    """The urgency cues' masks (weight 0: "烟头", "油烟", "电动车", "差点滑倒", "万一着火"), the
    everyday senses of danger words, and an owner's own hurry ("紧急", "asap"), which is HIGH and
    no sign of danger: the net does not read them."""
    return (*(cue.phrase for cue in DEFAULT_URGENCY_CUES if cue.weight == 0), *OWNER_HURRY)


@cache
def _everyday_senses() -> PhraseMatcher:
    return PhraseMatcher(("mask", phrase, 0.0) for phrase in _unread())


def everyday_senses_digest() -> str:
    """A digest of what the net does not read, stored with the fitted weights: the net must be fitted
    again when it changes."""
    return hashlib.sha256("\n".join(sorted(_unread())).encode()).hexdigest()[:16]


def blanked(reading: Reading) -> tuple[str, tuple[bool, ...]]:
    """The normalised text with what a contrast sets aside, the everyday senses of danger words and an
    owner's own hurry replaced by a blank, which no n-gram crosses, and per character whether an absence word denies it;
    the same length as the text, so offsets survive."""
    characters = list(reading.normalised)
    spans = [(span.start, span.end) for span in reading.contrasted]
    spans += [(hit.start, hit.end) for hit in _everyday_senses().hits(reading.normalised)]
    for start, end in spans:
        characters[start:end] = _BLANK * (end - start)
    denied = [False] * len(characters)
    for span in reading.absences:
        end = _denial_end(reading, span.end)
        denied[span.end : end] = [True] * (end - span.end)
    return "".join(characters), tuple(denied)


def _denial_end(reading: Reading, after: int) -> int:
    """Where an absence word's reach ends: a few characters of Chinese or words of English, within its clause."""
    text = reading.normalised
    limit = next((start for start in reading.clause_starts if start > after), len(text))
    position = after
    while position < limit and text[position] == " ":
        position += 1
    if position < limit and is_cjk(text[position]):
        return min(position + _DENIAL_CJK_REACH, limit)
    for _ in range(_DENIAL_LATIN_REACH):
        while position < limit and text[position] != " ":
            position += 1
        while position < limit and text[position] == " ":
            position += 1
    return position


def ngrams(text: str, denied: tuple[bool, ...]) -> Iterator[tuple[str, int, int]]:
    """Each character n-gram (1 to ``MAX_NGRAM``) of the blanked text with its span; runs of spaces
    count as one, and no n-gram includes a blank or starts inside a run of spaces. An n-gram that
    touches denied characters is another feature, marked ``~`` ("没有燃气味" teaches "~燃气", not
    "燃气"), so a negated danger weighs what negated dangers weighed in training."""
    for start in range(len(text)):
        if text[start] == _BLANK or (text[start] == " " and start > 0 and text[start - 1] == " "):
            continue
        gram: list[str] = []
        negated = False
        position = start
        while position < len(text) and len(gram) < MAX_NGRAM:
            char = text[position]
            if char == _BLANK:
                break
            position += 1
            if char == " " and gram and gram[-1] == " ":
                continue
            gram.append(char)
            negated = negated or denied[position - 1]
            if gram != [" "]:
                yield ("~" if negated else "") + "".join(gram), start, position


@dataclass(frozen=True, slots=True)
class UrgencyNet:
    """Learned n-gram weights, a bias and the decision threshold; immutable and shared by every request."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    everyday_senses: str = ""

    def contributions(self, reading: Reading) -> tuple[float, list[tuple[float, int, int]]]:
        """The score and each known n-gram's share of it with its span (one per distinct n-gram)."""
        seen: dict[str, tuple[int, int]] = {}
        for gram, start, end in ngrams(*blanked(reading)):
            seen.setdefault(gram, (start, end))
        if not seen:
            return self.bias, []
        scale = 1.0 / math.sqrt(len(seen))
        shares = [(self.weights[gram] * scale, start, end) for gram, (start, end) in seen.items() if gram in self.weights]
        return self.bias + sum(share for share, _, _ in shares), shares

    def score(self, reading: Reading) -> float:
        return self.contributions(reading)[0]

    def evidence(self, reading: Reading) -> tuple[str, ...]:
        """The words of the text that made it URGENT, strongest first; empty when the net does not fire."""
        score, shares = self.contributions(reading)
        if score < self.threshold:
            return ()
        pushes = [0.0] * len(reading.tokens)
        for share, start, end in shares:
            for index, token in enumerate(reading.tokens):
                overlap = min(end, token.end) - max(start, token.start)
                if overlap > 0:
                    pushes[index] += share * overlap / (end - start)
        words = _joined(reading, pushes)
        strongest = sorted(
            (word for word in words if word[0] >= _EVIDENCE_MIN_PUSH and _explains(reading, word[1], word[2])),
            key=lambda word: -word[0],
        )
        quoted = dict.fromkeys(reading.quote(start, end) for _, start, end in strongest[:_EVIDENCE_LIMIT])
        return tuple(quoted)


def _explains(reading: Reading, start: int, end: int) -> bool:
    """A lone character or a short word ("一", "no") is learned signal, but no explanation to a person."""
    return end - start >= (3 if reading.normalised[start:end].isascii() else 2)


def _joined(reading: Reading, pushes: list[float]) -> list[tuple[float, int, int]]:
    """Tokens that push up, with neighbours that also push up joined into one phrase ("燃" "汽味" -> "燃汽味")."""
    pushing = sorted(
        (token.start, token.end, push) for token, push in zip(reading.tokens, pushes) if push > 0
    )
    words: list[tuple[float, int, int]] = []
    for start, end, push in pushing:
        if words and not reading.normalised[words[-1][2] : start].strip() and start >= words[-1][2]:
            total, first, _ = words[-1]
            words[-1] = (total + push, first, end)
        else:
            words.append((push, start, end))
    return words


def from_json(raw: str) -> UrgencyNet:
    data = json.loads(raw)
    return UrgencyNet(
        MappingProxyType(dict(data["weights"])), float(data["bias"]), float(data["threshold"]), data["everyday_senses"]
    )


def to_json(net: UrgencyNet) -> str:
    return json.dumps(
        {
            "threshold": net.threshold,
            "bias": net.bias,
            "everyday_senses": net.everyday_senses,
            "weights": dict(sorted(net.weights.items())),
        },
        ensure_ascii=False,
        indent=0,
        sort_keys=False,
    )


@cache
def load_urgency_net() -> UrgencyNet:
    """The shipped net (``urgency_net.json``), read once per process."""
    return from_json(resources.files(__package__).joinpath(_WEIGHTS_FILE).read_text(encoding="utf-8"))
