"""The Alipay business bill (业务明细 zip) the sandbox writes: laid out as Alipay's, read back whole by our
parser, the same bytes for the same day."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.reconciliation.alipay import parse_alipay_bill
from billing.reconciliation.alipay_writer import (
    AlipayMerchant,
    AlipayRefund,
    AlipayTrade,
    alipay_fee,
    write_alipay_business_bill,
)
from billing.reconciliation.statement import LineKind
from tests.unit.reconciliation.builders import SHANGHAI

MERCHANT = AlipayMerchant(account="2088101117955611", fee_rate=Decimal("0.006"))
DAY = dt.date(2026, 12, 1)


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 1, hour, minute, tzinfo=SHANGHAI)


def _trade(number: int, amount: str, *, hour: int = 10, goods: str = "湖畔花园 2026-11 物业费") -> AlipayTrade:
    return AlipayTrade(
        created_at=_at(hour),
        paid_at=_at(hour, 1),
        trade_no=f"2026120122001400{number:08d}",
        out_trade_no=f"CY0001{number:09d}",
        amount=Decimal(amount),
        payer="138****1234",
        goods=goods,
    )


TRADES = (_trade(1, "268.20", goods="湖畔花园, 2026-11 物业费"), _trade(2, "55.55", hour=11))
REFUNDS = (AlipayRefund(refunded_at=_at(15), out_request_no="CY0001R000000007", amount=Decimal("100.00"), trade=TRADES[0]),)


def _bill(trades: tuple[AlipayTrade, ...] = TRADES, refunds: tuple[AlipayRefund, ...] = REFUNDS) -> bytes:
    return write_alipay_business_bill(MERCHANT, day=DAY, trades=trades, refunds=refunds, zone=SHANGHAI)


def _members(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            info.filename.encode("cp437").decode("gbk"): archive.read(info).decode("gbk")
            for info in archive.infolist()
            if not info.flag_bits & 0x800  # names in GBK, as Alipay's Windows tools write them
        }


def test_the_zip_holds_a_gbk_detail_and_summary_named_by_account_and_day_with_hash_lines() -> None:
    members = _members(_bill())

    detail = members["2088101117955611_20261201_业务明细.csv"]
    summary = members["2088101117955611_20261201_业务明细(汇总).csv"]
    lines = detail.split("\r\n")
    assert lines[:3] == [
        "#支付宝业务明细查询",
        "#账号：[2088101117955611]",
        "#起始日期：[2026年12月01日 00:00:00]   终止日期：[2026年12月02日 00:00:00]",
    ]
    assert lines[-5:] == [
        "#" + "-" * 41 + "业务明细列表结束" + "-" * 41,
        "#交易合计：2笔，商家实收共323.75元，商家优惠共0.00元",
        "#退款合计：1笔，商家实收退款共-100.00元，商家优惠退款共0.00元",
        "#导出时间：[2026年12月02日 09:00:00]",
        "",
    ]
    refund = next(line for line in lines if ",退款," in line)
    # long numbers end in a TAB; the refund's amounts are negative and the fee given back positive
    assert refund.startswith("202612012200140000000001\t,CY0001000000001\t,退款,")
    assert ",-100.00,-100.00," in refund and refund.endswith(",CY0001R000000007\t,0.60,0.00,")
    assert '"湖畔花园, 2026-11 物业费"' in refund
    assert summary.split("\r\n")[5] == "合计,,2,1,223.75,223.75,0.00,0.00,0.00,-1.34,0.00,222.41"


def test_our_parser_reads_the_bill_back_whole() -> None:
    statement = parse_alipay_bill(_bill(), account=MERCHANT.account, zone=SHANGHAI)

    assert [(line.kind, line.amount, line.fee, line.order_no, line.transaction_id, line.refund_no) for line in statement.lines] == [
        (LineKind.PAYMENT, Decimal("268.20"), Decimal("1.61"), "CY0001000000001", "202612012200140000000001", None),
        (LineKind.PAYMENT, Decimal("55.55"), Decimal("0.33"), "CY0001000000002", "202612012200140000000002", None),
        (LineKind.REFUND, Decimal("-100.00"), Decimal("-0.60"), "CY0001000000001", "202612012200140000000001", "CY0001R000000007"),
    ]
    assert statement.lines[2].booked_at == _at(15)
    assert {total.name: (total.stated, total.parsed) for total in statement.totals}["实收净额（元）"] == (
        Decimal("222.41"),
        Decimal("222.41"),
    )


def test_the_same_day_gives_the_same_bytes_whatever_order_its_rows_come_in() -> None:
    assert _bill() == _bill(trades=TRADES[::-1])


def test_the_fee_is_the_rate_to_the_fen_rounded_half_up() -> None:
    assert (alipay_fee(Decimal("0.75"), Decimal("0.006")), alipay_fee(Decimal("0.83"), Decimal("0.006"))) == (
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert alipay_fee(Decimal("268.20"), Decimal("0.006")) == Decimal("1.61")  # 1.6092
    assert alipay_fee(Decimal("175.00"), Decimal("0.006")) == Decimal("1.05")


@given(
    st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=12),
    st.data(),
)
def test_any_day_reads_back_to_its_trades_and_refunds(amounts: list[int], data: st.DataObject) -> None:
    trades = tuple(_trade(n, f"{fen / 100:.2f}", hour=n % 24) for n, fen in enumerate(amounts, start=1))
    refunded = data.draw(st.lists(st.sampled_from(trades), unique=True, max_size=len(trades)))
    refunds = tuple(
        AlipayRefund(
            refunded_at=_at(23, 59), out_request_no=f"CY0001R{n:09d}", amount=data.draw(st.integers(1, int(t.amount * 100))) / Decimal(100), trade=t
        )
        for n, t in enumerate(refunded, start=1)
    )

    statement = parse_alipay_bill(_bill(trades, refunds), account=MERCHANT.account, zone=SHANGHAI)

    payments = [line for line in statement.lines if line.kind is LineKind.PAYMENT]
    given_back = [line for line in statement.lines if line.kind is LineKind.REFUND]
    assert sorted((line.order_no, line.amount) for line in payments) == sorted((t.out_trade_no, t.amount) for t in trades)
    assert sorted((line.refund_no, -line.amount) for line in given_back) == sorted((r.out_request_no, r.amount) for r in refunds)
    assert sum(line.fee for line in statement.lines) == sum(alipay_fee(t.amount, MERCHANT.fee_rate) for t in trades) - sum(
        alipay_fee(r.amount, MERCHANT.fee_rate) for r in refunds
    )
