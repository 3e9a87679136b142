"""Specification of owner-facing texts: the engine's phrases rendered in zh-CN and en."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from billing.model import LateFeePolicy, Tier, phrase
from billing.rules import (
    RuleValidationError,
    _validate_tiers,
    late_fee_breakdown,
    late_fee_explanation,
)
from billing import texts
from billing.texts import decode, encode, render, render_stored
from kernel.vocabulary import Locale

TIERED = (
    phrase("used_earlier", quantity="3000", unit="kWh"),
    phrase("tier", tier=1, quantity="240", unit="kWh", price="0.4883", amount="117.19"),
    phrase("tier", tier=2, quantity="60", unit="kWh", price="0.5383", amount="32.30"),
)


def test_tiers_read_in_chinese_with_du_and_yuan() -> None:
    assert render(TIERED, Locale.ZH_CN) == (
        "本年度此前已用 3000 度；第1档：240 度 × ¥0.4883 = ¥117.19；第2档：60 度 × ¥0.5383 = ¥32.30"
    )


def test_tiers_read_in_english_as_before() -> None:
    assert render(TIERED, Locale.EN) == (
        "3000 kWh used earlier this year; tier 1: 240 kWh × 0.4883 = 117.19; tier 2: 60 kWh × 0.5383 = 32.30"
    )


def test_water_reads_in_cubic_metres_in_chinese() -> None:
    assert render((phrase("priced", quantity="12.5", unit="m³", price="3.45", amount="43.13"),), Locale.ZH_CN) == (
        "12.5 立方米 × ¥3.45 = ¥43.13"
    )


def test_a_shared_total_by_floor_area_reads_in_chinese() -> None:
    shared = (phrase("share_by_area", total="1000.00", area="89.00", total_area="222.00", share="400.90"),)
    assert render(shared, Locale.ZH_CN) == "公摊总额 ¥1000.00，按建筑面积分摊：89.00 平方米 / 222.00 平方米 = ¥400.90"


def test_monthly_tiers_widened_over_a_cycle_qualify_the_breakdown() -> None:
    parts = (phrase("priced", quantity="500", unit="kWh", price="0.5", amount="250.00"), phrase("monthly_tiers_widened", months=3))
    assert render(parts, Locale.EN) == "500 kWh × 0.5 = 250.00 (monthly tiers × 3 months)"
    assert render(parts, Locale.ZH_CN) == "500 度 × ¥0.5 = ¥250.00（月度阶梯 × 3 个月）"


def test_a_late_fee_is_explained_as_principal_times_rate_times_days_with_grace_and_cap() -> None:
    capped = LateFeePolicy(daily_rate=D("0.0005"), grace_days=5, cap_ratio=D("0.01"))
    fee = late_fee_breakdown(D("429.69"), date(2026, 11, 17), date(2026, 12, 17), capped)
    assert fee.amount == D("4.30")
    assert render(late_fee_explanation(fee), Locale.ZH_CN) == (
        "滞纳金：本金 ¥429.69 × 日费率 0.0005 × 25 天（2026-11-23 至 2026-12-17，宽限期 5 天后）= ¥5.37；"
        "以本金的 1% 为上限：¥4.30"
    )
    assert render(late_fee_explanation(fee), Locale.EN) == (
        "late fee: 429.69 × 0.0005 a day × 25 days (2026-11-23 to 2026-12-17, after 5 days' grace) = 5.37;"
        " capped at 1% of the principal: 4.30"
    )


def test_stored_explanations_round_trip_and_legacy_texts_show_as_written() -> None:
    assert decode(encode(TIERED)) == TIERED
    assert render_stored("fixed 15.00 per billing cycle", Locale.ZH_CN) == "fixed 15.00 per billing cycle"


def test_a_tariff_entered_as_published_is_refused_with_how_to_enter_it() -> None:
    published = (
        Tier(D(0), D(240), D("0.4883")),
        Tier(D(241), D(400), D("0.5383")),
        Tier(D(401), None, D("0.7883")),
    )
    with pytest.raises(RuleValidationError) as refused:
        _validate_tiers(published)
    assert refused.value.field == "tiers[1].startsAt"
    assert "241–… as startsAt 240" in refused.value.message
    assert "0–240, 240–400, 400+" in refused.value.message


@pytest.mark.parametrize(
    ("kind", "raises", "periods", "channels", "chinese", "english"),
    [
        ("BILLS_ISSUED", True, ["2026-11"], [], "2026-11 账单", "bill for 2026-11"),
        ("LATE_FEE", True, ["2026-10"], [], "滞纳金（2026-10 账单）", "late fee on the 2026-10 bill"),
        ("PAYMENT", False, [], ["WECHAT"], "缴费（微信支付）", "payment (WeChat Pay)"),
        ("ADJUSTMENT", True, ["2026-11"], [], "调增（2026-11 账单）", "adjustment raising the 2026-11 bill"),
        ("ADJUSTMENT", False, ["2026-11"], [], "调减（2026-11 账单）", "adjustment lowering the 2026-11 bill"),
        ("REFUND", True, [], ["ALIPAY"], "退款（支付宝）", "refund (Alipay)"),
        ("REVERSAL", True, ["2026-12", "2026-11", "2026-11"], ["CASH"], "撤销缴费（现金）", "payment reversed (cash)"),
        ("SOMETHING_NEW", True, [], [], "账务调整", "account entry"),
    ],
)
def test_a_statement_entry_is_named_by_periods_and_channels_in_the_projects_language(
    kind: str, raises: bool, periods: list[str], channels: list[str], chinese: str, english: str
) -> None:
    def said(locale: Locale) -> str:
        return texts.statement_entry(kind, raises_balance=raises, periods=periods, channels=channels, locale=locale)

    assert (said(Locale.ZH_CN), said(Locale.EN)) == (chinese, english)


def test_a_statement_entry_of_several_bills_lists_each_period_once_in_order() -> None:
    periods = ["2026-12", "2026-11", "2026-12"]
    assert texts.statement_entry("BILLS_ISSUED", raises_balance=True, periods=periods, channels=[], locale=Locale.ZH_CN) == (
        "2026-11、2026-12 账单"
    )
    assert texts.statement_entry("BILLS_ISSUED", raises_balance=True, periods=periods, channels=[], locale=Locale.EN) == (
        "bill for 2026-11, 2026-12"
    )


def test_an_online_order_is_described_by_community_and_periods() -> None:
    periods = ["2026-11", "2026-10"]
    assert texts.order_description("翠湖花园", periods, Locale.ZH_CN) == "翠湖花园 2026-10、2026-11 账单缴费"
    assert texts.order_description("Lakeside", periods, Locale.EN) == "Lakeside: bills for 2026-10, 2026-11"
