"""The reports' words: every definition, bucket and heading in both languages, zh-CN first."""

from __future__ import annotations

from billing.reports import texts
from billing.reports.ageing import AGE_BUCKETS
from billing.reports.texts import ReportKind
from kernel.vocabulary import Locale


def test_every_report_defines_its_figures_in_both_languages_chinese_by_default() -> None:
    for report in ReportKind:
        assert texts.definition(report) == texts.definition(report, Locale.ZH_CN)
        assert all(texts.definition(report, locale) for locale in Locale)
    assert "收缴率" in texts.definition(ReportKind.COLLECTION)
    assert "预收款" in texts.definition(ReportKind.COLLECTION)


def test_every_bucket_and_heading_has_a_label_in_both_languages() -> None:
    for locale in Locale:
        assert [texts.bucket_label(index, locale) for index in range(len(AGE_BUCKETS))]
    assert texts.bucket_label(4) == "365天以上"
    assert texts.heading("in_yuan", name="0–30天") == "0–30天（元）"


def test_fee_kinds_take_the_rules_names_and_the_reports_own_for_late_fees_and_adjustments() -> None:
    names = {"PROPERTY": "物业服务费 Property management"}

    assert texts.fee_kind_label("PROPERTY", names) == "物业服务费 Property management"
    assert texts.fee_kind_label("LATE_FEE", names) == "滞纳金"
    assert texts.fee_kind_label("ADJUSTMENT", names, Locale.EN) == "adjustments"
    assert texts.fee_kind_label("GONE", names) == "GONE"
    assert texts.channel_label("WECHAT") == "微信支付"
