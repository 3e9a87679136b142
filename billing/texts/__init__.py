"""Owner-facing texts in the project's language: bill-line and late-fee explanations, statement entries,
receipts.

The engine explains an amount as phrases with figures (`billing.model.Phrase`); this edge stores them
(`encode`/`decode`, the JSON kept in `bill_line.explanation`) and renders them to a locale with the
templates of one small module per language (`billing.texts.zh_cn`, `billing.texts.en`). Templates are
data: adding a language is adding a module with the same names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import ModuleType

from billing.model import Explanation, Phrase
from billing.texts import en, zh_cn
from kernel.vocabulary import Locale

__all__ = ["decode", "encode", "language", "order_description", "render", "render_stored", "statement_entry"]

_LANGUAGES: Mapping[Locale, ModuleType] = {Locale.ZH_CN: zh_cn, Locale.EN: en}

# Figures that are amounts of money (the language writes its currency), and quantities read on a meter
# (the language writes the meter's unit after them).
_MONEY = frozenset({"amount", "share", "total", "base", "cut", "waiver", "cap", "principal"})
_QUANTITIES = frozenset({"quantity", "total_quantity"})


def language(locale: Locale) -> ModuleType:
    """The templates of `locale`."""
    return _LANGUAGES[locale]


def render(explanation: Explanation, locale: Locale) -> str:
    """The explanation as one sentence in `locale`."""
    texts = language(locale)
    rendered = ""
    for part in explanation:
        text = _render_phrase(part, texts)
        if not rendered:
            rendered = text
        elif part.key in texts.ATTACHED:
            rendered += texts.ATTACHED_SEPARATOR + text
        else:
            rendered += texts.SEPARATOR + text
    return rendered


def _render_phrase(part: Phrase, texts: ModuleType) -> str:
    figures = dict(part.figures)
    template = texts.TEMPLATES.get(f"{part.key}/one_month") if figures.get("months") == "1" else None
    template = template or texts.TEMPLATES[part.key]
    unit = texts.UNITS.get(figures.get("unit", ""), figures.get("unit", ""))
    values = {}
    for name, value in figures.items():
        if name in _MONEY:
            values[name] = texts.money(value)
        elif name in _QUANTITIES:
            values[name] = f"{value} {unit}" if unit else value
        elif name == "meter":
            values[name] = texts.METERS.get(value, value)
        else:
            values[name] = value
    return str(template.format(**values))


def encode(explanation: Explanation) -> str:
    """The explanation as stored: compact JSON, `[[key, {figure: value}], …]`."""
    return json.dumps([[part.key, dict(part.figures)] for part in explanation], ensure_ascii=False, separators=(",", ":"))


def decode(stored: str) -> Explanation | None:
    """The stored explanation's phrases; None for a text written before explanations were structured."""
    if not stored.startswith("["):
        return None
    try:
        parts = json.loads(stored)
        return tuple(Phrase(str(key), tuple((str(name), str(value)) for name, value in figures.items())) for key, figures in parts)
    except (ValueError, TypeError, AttributeError):
        return None


@lru_cache(maxsize=4096)
def render_stored(stored: str, locale: Locale) -> str:
    """A stored explanation in `locale`; a legacy plain text as it was written.

    Kept once worked out: the answer depends on nothing else, and a project's bills repeat the same few
    explanations (a page of twelve bills renders thirty lines, most of them alike)."""
    explanation = decode(stored)
    return stored if explanation is None else render(explanation, locale)


def statement_entry(
    kind: str, *, raises_balance: bool, periods: Iterable[str], channels: Iterable[str], locale: Locale
) -> str:
    """What a statement entry was, in `locale`, named by its bills' periods and its payments' channels
    (never by the database's numbers)."""
    texts = language(locale)
    key = f"{kind}/{'raise' if raises_balance else 'lower'}" if kind == "ADJUSTMENT" else kind
    template = texts.STATEMENT.get(key, texts.STATEMENT["OTHER"])
    return str(
        template.format(
            periods=texts.LIST_SEPARATOR.join(sorted(set(periods))),
            channels=texts.LIST_SEPARATOR.join(texts.CHANNELS.get(channel, channel) for channel in sorted(set(channels))),
        )
    )


def order_description(project_name: str, periods: Iterable[str], locale: Locale) -> str:
    """What the payer's gateway shows for an online order: the community and the bills' periods."""
    texts = language(locale)
    return str(texts.ORDER.format(project=project_name, periods=texts.LIST_SEPARATOR.join(sorted(set(periods)))))
