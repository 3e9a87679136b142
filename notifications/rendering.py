"""Rendering a message's template with its payload, in Jinja2's sandbox.

Templates are data an administrator writes, so they run in `ImmutableSandboxedEnvironment`: no
attribute of a Python object beyond the safe ones, no changing the values passed in, and a name the
payload does not have is an error (`StrictUndefined`), not an empty string in a message to an owner.
Output longer than `MAX_RENDERED_LENGTH` is refused while it is produced. Money reads as ¥ with two
decimals (`| yuan`), dates in the message's locale (`| day`).

The digest of what was rendered goes on every delivery attempt, so the text a person received can be
proved later without keeping it twice. Pure: standard library, the kernel and jinja2.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from kernel.vocabulary import Locale

__all__ = [
    "MAX_RENDERED_LENGTH",
    "MAX_TEMPLATE_LENGTH",
    "Rendered",
    "TemplateFailed",
    "TemplateText",
    "check_template",
    "render",
]

MAX_TEMPLATE_LENGTH = 10_000
MAX_RENDERED_LENGTH = 20_000


@dataclass(frozen=True, slots=True)
class TemplateText:
    """One template: `version` 0 is a built-in text, otherwise the project's saved version."""

    body: str
    subject: str | None = None
    provider_template: str | None = None
    provider_params: Mapping[str, str] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    body: str
    provider_template: str | None
    provider_params: Mapping[str, str]
    version: int

    @property
    def digest(self) -> str:
        """SHA-256 of everything rendered, hex."""
        canonical = json.dumps(
            {"subject": self.subject, "body": self.body, "template": self.provider_template, "params": dict(self.provider_params)},
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class TemplateFailed(Exception):
    """A template that does not compile or render; `field` names the part at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _yuan(value: Any) -> str:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise TemplateError(f"{value!r} is not an amount of money") from None
    return f"¥{amount:,.2f}"


def _environment(locale: Locale) -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    environment.filters["yuan"] = _yuan
    environment.filters["day"] = lambda value: _day(value, locale)
    return environment


def _day(value: Any, locale: Locale) -> str:
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise TemplateError(f"{value!r} is not a date") from None
    if locale is Locale.ZH_CN:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day:%b} {day.year}"


_ENVIRONMENTS = {locale: _environment(locale) for locale in Locale}


def check_template(template: TemplateText) -> None:
    """Refuse a template that does not compile (before it is saved)."""
    for name, text in _parts(template):
        if len(text) > MAX_TEMPLATE_LENGTH:
            raise TemplateFailed(f"At most {MAX_TEMPLATE_LENGTH} characters.", field=name)
        try:
            _ENVIRONMENTS[Locale.ZH_CN].parse(text)
        except TemplateError as error:
            raise TemplateFailed(f"The template does not compile: {error}", field=name) from None


def render(template: TemplateText, context: Mapping[str, Any], locale: Locale) -> Rendered:
    """The template filled in with `context` (the message's payload and what the relay adds)."""
    values = {name: _render_one(locale, text, context, name) for name, text in _parts(template)}
    return Rendered(
        subject=values.pop("subject", None),
        body=values.pop("body"),
        provider_template=template.provider_template,
        provider_params={name.removeprefix("providerParams."): text for name, text in values.items()},
        version=template.version,
    )


def _parts(template: TemplateText) -> list[tuple[str, str]]:
    parts = [("body", template.body)]
    if template.subject is not None:
        parts.append(("subject", template.subject))
    parts.extend((f"providerParams.{name}", text) for name, text in sorted(template.provider_params.items()))
    return parts


@functools.lru_cache(maxsize=1024)
def _compiled(locale: Locale, text: str) -> Template:
    """A template's text compiled once (compiling costs far more than rendering): a relay renders one
    version of a template for thousands of messages."""
    return _ENVIRONMENTS[locale].from_string(text)


def _render_one(locale: Locale, text: str, context: Mapping[str, Any], name: str) -> str:
    try:
        compiled = _compiled(locale, text)
        pieces: list[str] = []
        length = 0
        for piece in compiled.generate(**context):
            length += len(piece)
            if length > MAX_RENDERED_LENGTH:
                raise TemplateFailed(f"Renders to more than {MAX_RENDERED_LENGTH} characters.", field=name)
            pieces.append(piece)
    except TemplateFailed:
        raise
    except Exception as error:  # the template is data: whatever it raises (1/0, a bad filter) is its fault
        raise TemplateFailed(f"The template does not render: {error.__class__.__name__}: {error}", field=name) from None
    return "".join(pieces).strip()
