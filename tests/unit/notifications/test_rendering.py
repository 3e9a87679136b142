"""Templates are data: rendered in the sandbox, money as ¥, dates in the locale, failures named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.vocabulary import Locale
from notifications.default_templates import DEFAULT_TEMPLATES
from notifications.kinds import KINDS
from notifications.rendering import MAX_RENDERED_LENGTH, TemplateFailed, TemplateText, check_template, render


def test_money_and_dates_read_as_owners_expect() -> None:
    text = TemplateText(body="应缴{{ amount | yuan }}，{{ day | day }}前", subject="{{ project }}")
    rendered = render(text, {"amount": "1234.5", "day": "2026-11-30", "project": "湖畔"}, Locale.ZH_CN)
    assert (rendered.body, rendered.subject) == ("应缴¥1,234.50，2026年11月30日前", "湖畔")
    assert render(text, {"amount": "5", "day": "2026-11-30", "project": "x"}, Locale.EN).body == "应缴¥5.00，30 Nov 2026前"


def test_a_name_the_payload_lacks_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TemplateFailed) as failed:
        render(TemplateText(body="{{ missing }}"), {}, Locale.ZH_CN)
    assert failed.value.field == "body"


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ payload.update({'a': 1}) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_reaching_into_python(body: str) -> None:
    with pytest.raises(TemplateFailed):
        render(TemplateText(body=body), {"payload": {}}, Locale.ZH_CN)


def test_runaway_output_is_refused_while_it_is_produced() -> None:
    with pytest.raises(TemplateFailed) as failed:
        render(TemplateText(body="{% for i in range(99999) %}{{ 'x' * 100 }}{% endfor %}"), {}, Locale.ZH_CN)
    assert str(MAX_RENDERED_LENGTH) in failed.value.message


def test_a_template_that_does_not_compile_is_refused_before_it_is_saved() -> None:
    with pytest.raises(TemplateFailed) as failed:
        check_template(TemplateText(body="ok", subject="{% if %}"))
    assert failed.value.field == "subject"


def test_provider_parameters_render_by_name() -> None:
    text = TemplateText(body="b", provider_template="SMS_1", provider_params={"amount": "{{ a | yuan }}"})
    assert dict(render(text, {"a": "3"}, Locale.ZH_CN).provider_params) == {"amount": "¥3.00"}


def test_every_kind_has_built_in_texts_in_both_locales_that_render_with_its_required_fields() -> None:
    for kind, rules in KINDS.items():
        for locale in Locale:
            text = DEFAULT_TEMPLATES[(kind, locale)]
            values = {name: "2026-11-30" if "date" in name else "12.5" for name in rules.required}
            rendered = render(text, {**values, "project": "湖畔"}, locale)
            assert rendered.body and rendered.subject, (kind, locale)


@given(st.text(max_size=200))
def test_the_digest_tells_texts_apart(body: str) -> None:
    one = render(TemplateText(body="{{ b }}"), {"b": body}, Locale.ZH_CN)
    other = render(TemplateText(body="{{ b }}!"), {"b": body}, Locale.ZH_CN)
    assert one.digest != other.digest and len(one.digest) == 64
