"""The pure matching core on a group-wide month: 1,000,000 payments against their statement lines.

Generated data, as channels would report it: 20 WeChat Pay and 2 Alipay merchant accounts and bank
transfers, every channel line with its fee (some with a coupon, some refunded), each channel account's
day settled into the bank as one credit the next day (five accounts batch Friday to Sunday into one
Monday credit), and bank transfers found by EndToEndId or, without any key, by the project's rules (the
unit code in the memo). Planted among them: duplicate charges, amount differences, lines missing,
lines Courtyard never saw, refunds on one side only and bank credits nobody can explain.

Printed: generation and matching time (wall, and CPU time, which a shared machine disturbs less), peak
memory, the ratio to a bare in-memory dict join of the same order numbers (the floor, in CPU time), and
the confusion table: every planted case in its row, the outcome it got in the columns; clean rows must
land in MATCH only.

    python -m benchmarks.reconcile_core                  # 1,000,000 payments
    python -m benchmarks.reconcile_core --payments 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import time
from collections import Counter, defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from benchmarks.table import peak_rss_mib, print_table
from billing.reconciliation.matching import (
    ChannelTerms,
    MatchRule,
    MatchStep,
    Reconciliation,
    RecordedPayment,
    RecordedRefund,
    reconcile,
)
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = 28
WECHAT_ACCOUNTS = 20
ALIPAY_ACCOUNTS = 2
BATCHING_ACCOUNTS = 5
"""WeChat accounts 0–4 are paid Friday–Sunday in one Monday credit."""
BANK_ACCOUNT = "6222020200112233"
UNITS = 50_000
FEE_RATE_PER_MILLE = 6
AS_OF = dt.datetime(2027, 1, 10, tzinfo=ZONE)
TERMS = (
    ChannelTerms(Channel.WECHAT, (SourceKind.WECHAT,), report_days=2, payout_min_days=1, payout_max_days=4),
    ChannelTerms(Channel.ALIPAY, (SourceKind.ALIPAY,), report_days=2, payout_min_days=1, payout_max_days=4),
    ChannelTerms(Channel.BANK_TRANSFER, (SourceKind.BANK,), report_days=5),
)
RULES = (MatchRule(name="unit code in memo", pattern=r"(?P<unit>\d+-\d+-\d+)", days_after=3),)
PLANTED = (
    "DUPLICATE_CHARGE",
    "AMOUNT_MISMATCH",
    "UNRECEIVED",
    "CHANNEL_ONLY",
    "REFUND_UNMATCHED line",
    "REFUND_UNMATCHED refund",
    "BANK_UNMATCHED",
)
OUTCOMES = (
    "MATCH",
    "UNRECEIVED",
    "CHANNEL_ONLY",
    "DUPLICATE_CHARGE",
    "AMOUNT_MISMATCH",
    "BANK_UNMATCHED",
    "REFUND_UNMATCHED",
    "PENDING",
)


class Month:
    """Generated inputs, and which item was planted as what (by line key, payment id or refund id)."""

    def __init__(self, payments_wanted: int, seed: int) -> None:
        self.random = random.Random(seed)
        self.payments: list[RecordedPayment] = []
        self.lines: list[StatementLine] = []
        self.planted: dict[str, str] = {}
        self.clean: dict[str, str] = {}
        self.day_net: dict[tuple[SourceKind, str, int], int] = defaultdict(int)
        self.day_fee: dict[tuple[SourceKind, str, int], int] = defaultdict(int)
        self.amounts = {fen: Decimal(fen).scaleb(-2) for fen in range(5_000, 300_001, 1_337)}
        self.unit_codes = {
            f"{u // 1000 + 1}-{u // 100 % 10 + 1}-{u % 100 + 101}": u for u in range(payments_wanted // 20 + 1)
        }
        self.code_of_unit = {unit: code for code, unit in self.unit_codes.items()}
        self.generate(payments_wanted)

    def money(self, fen: int) -> Decimal:
        amount = self.amounts.get(fen)
        return amount if amount is not None else Decimal(fen).scaleb(-2)

    def generate(self, wanted: int) -> None:
        each = max(10, wanted // 2_000)
        plants = [
            "DUPLICATE_CHARGE",
            "AMOUNT_MISMATCH",
            "UNRECEIVED",
            "REFUND_UNMATCHED line",
            "REFUND_UNMATCHED refund",
        ]
        chosen = self.random.sample(range(wanted), each * len(plants))
        fate = {index: plants[position // each] for position, index in enumerate(chosen)}
        fen_choices = list(self.amounts)
        for index in range(wanted):
            kind = index % 20
            day = index % DAYS + 1
            fen = fen_choices[self.random.randrange(len(fen_choices))]
            paid_at = dt.datetime(2026, 12, day, 8 + index % 12, index % 60, tzinfo=ZONE)
            if kind >= 18:
                self.bank_transfer(index, day, fen, paid_at, keyed=kind == 18)
            else:
                source = SourceKind.ALIPAY if kind == 17 else SourceKind.WECHAT
                account = f"A{index % ALIPAY_ACCOUNTS}" if kind == 17 else f"W{index % WECHAT_ACCOUNTS}"
                self.channel_payment(index, source, account, day, fen, paid_at, fate.get(index))
        for number in range(each):  # lines Courtyard never saw, bank credits nobody explains
            day = number % DAYS + 1
            self.channel_line(f"X{number}", SourceKind.WECHAT, "W7", day, 10_000 + number, None, "CHANNEL_ONLY")
            key = f"BANK:U{number}"
            self.lines.append(self.bank_line(key, day, 100 + number * 7, memo="往来款"))
            self.planted[key] = "BANK_UNMATCHED"
        self.settle()

    def channel_payment(
        self, index: int, source: SourceKind, account: str, day: int, fen: int, paid_at: dt.datetime, fate: str | None
    ) -> None:
        order_no = f"CY{index:09d}"
        refunds: tuple[RecordedRefund, ...] = ()
        refund_fen = fen // 4
        if (index % 50 == 0 and fate != "UNRECEIVED") or fate == "REFUND_UNMATCHED refund":
            refunds = (
                RecordedRefund(
                    index, self.money(refund_fen), paid_at + dt.timedelta(hours=3), refund_no=f"RF{index:09d}"
                ),
            )
        channel = Channel.ALIPAY if source is SourceKind.ALIPAY else Channel.WECHAT
        payment = RecordedPayment(
            id=index,
            channel=channel,
            amount=self.money(fen),
            paid_at=paid_at,
            unit_id=index % UNITS,
            order_no=order_no,
            payer_name=None,
            refunds=refunds,
        )
        self.payments.append(payment)
        if fate == "UNRECEIVED":
            self.planted[f"P{index}"] = fate
            return
        line_fen = fen + 1 + index % 97 if fate == "AMOUNT_MISMATCH" else fen
        coupon = 500 if index % 40 == 1 else 0
        line_key = self.channel_line(
            f"{index}", source, account, day, line_fen, order_no, None, coupon=coupon, paid_at=paid_at
        )
        if fate == "AMOUNT_MISMATCH":
            self.planted[f"P{index}"] = fate
            self.planted[line_key] = "AMOUNT_MISMATCH line"
        else:
            self.clean[f"P{index}"] = "payment"
        if fate == "DUPLICATE_CHARGE":
            key = self.channel_line(
                f"{index}d", source, account, day, fen, order_no, None, paid_at=paid_at + dt.timedelta(minutes=1)
            )
            self.planted[key] = fate
        if refunds and fate != "REFUND_UNMATCHED refund":
            self.refund_line(index, source, account, day, refund_fen, order_no, f"RF{index:09d}", paid_at)
            self.clean[f"R{index}"] = "refund"
        if fate == "REFUND_UNMATCHED refund":
            self.planted[f"R{index}"] = fate
        if fate == "REFUND_UNMATCHED line":
            key = self.refund_line(index, source, account, day, refund_fen, order_no, f"RX{index:09d}", paid_at)
            self.planted[key] = fate

    def channel_line(
        self,
        suffix: str,
        source: SourceKind,
        account: str,
        day: int,
        fen: int,
        order_no: str | None,
        planted: str | None,
        *,
        coupon: int = 0,
        paid_at: dt.datetime | None = None,
    ) -> str:
        # Fees are charged per order, rounded to the fen and written with five decimals.
        fee_fen = (fen * FEE_RATE_PER_MILLE + 500) // 1000
        key = f"{source}:{account}:P:{suffix}"
        self.lines.append(
            StatementLine(
                source=source,
                account=account,
                line_key=key,
                row_number=0,
                booked_at=(paid_at or dt.datetime(2026, 12, day, 12, tzinfo=ZONE)) + dt.timedelta(seconds=3),
                kind=LineKind.PAYMENT,
                amount=self.money(fen),
                settled_amount=self.money(fen - coupon),
                fee=Decimal(fee_fen).scaleb(-2),
                order_no=order_no or f"ZZ{suffix}",
                transaction_id=f"42{source[0]}{suffix}",
            )
        )
        self.day_net[(source, account, day)] += fen - coupon - fee_fen
        self.day_fee[(source, account, day)] += fee_fen
        if planted:
            self.planted[key] = planted
        else:
            self.clean[key] = "coupon line" if coupon else "channel line"
        return key

    def refund_line(
        self,
        index: int,
        source: SourceKind,
        account: str,
        day: int,
        fen: int,
        order_no: str,
        refund_no: str,
        paid_at: dt.datetime,
    ) -> str:
        fee_back = (fen * FEE_RATE_PER_MILLE + 500) // 1000
        key = f"{source}:{account}:R:{refund_no}"
        self.lines.append(
            StatementLine(
                source=source,
                account=account,
                line_key=key,
                row_number=0,
                booked_at=paid_at + dt.timedelta(hours=3),
                kind=LineKind.REFUND,
                amount=-self.money(fen),
                settled_amount=-self.money(fen),
                fee=-Decimal(fee_back).scaleb(-2),
                order_no=order_no,
                refund_no=refund_no,
            )
        )
        self.day_net[(source, account, day)] += -fen + fee_back
        self.day_fee[(source, account, day)] -= fee_back
        self.clean.setdefault(key, "refund line")
        return key

    def bank_transfer(self, index: int, day: int, fen: int, paid_at: dt.datetime, *, keyed: bool) -> None:
        unit = index // 20  # one unit per transfer, so a rule never faces two equal candidates by construction
        payment = RecordedPayment(
            id=index,
            channel=Channel.BANK_TRANSFER,
            amount=self.money(fen),
            paid_at=paid_at,
            unit_id=unit,
            order_no=f"CY{index:09d}",
            payer_name="张三",
        )
        self.payments.append(payment)
        arrives = min(day + 1, DAYS + 3)
        key = f"BANK:T{index}"
        if keyed:
            line = self.bank_line(key, arrives, fen, end_to_end=f"CY{index:09d}")
        else:
            line = self.bank_line(key, arrives, fen, memo=f"{self.code_of_unit[unit]}物业费", name="ZHANG SAN")
        self.lines.append(line)
        self.clean[key] = "bank transfer (key)" if keyed else "bank transfer (rule)"
        self.clean[f"P{index}"] = "payment"

    def bank_line(
        self,
        key: str,
        day: int,
        fen: int,
        *,
        memo: str | None = None,
        name: str | None = None,
        end_to_end: str | None = None,
    ) -> StatementLine:
        return StatementLine(
            source=SourceKind.BANK,
            account=BANK_ACCOUNT,
            line_key=key,
            row_number=0,
            booked_at=dt.datetime(2026, 12, 1, 9, tzinfo=ZONE) + dt.timedelta(days=day - 1),
            kind=LineKind.BANK,
            amount=self.money(fen),
            settled_amount=self.money(fen),
            end_to_end_id=end_to_end,
            counterparty_name=name,
            memo=memo,
        )

    def settle(self) -> None:
        """One credit per channel account and day, the next day; batching accounts pay Fri–Sun on Monday."""
        batches: dict[tuple[SourceKind, str, int], int] = defaultdict(int)
        for (source, account, day), net in self.day_net.items():
            weekday = dt.date(2026, 12, day).weekday()
            batching = source is SourceKind.WECHAT and int(account[1:]) < BATCHING_ACCOUNTS and weekday >= 4
            if batching and not (day + (7 - weekday) > DAYS):
                batches[(source, account, day + (7 - weekday))] += net
                continue
            key = f"BANK:S:{source}:{account}:{day}"
            self.lines.append(self.bank_line(key, day + 1, net, name="财付通支付科技有限公司"))
            self.clean[key] = "settlement credit T+1"
        for (source, account, monday), net in batches.items():
            key = f"BANK:B:{source}:{account}:{monday}"
            self.lines.append(self.bank_line(key, monday, net, name="财付通支付科技有限公司"))
            self.clean[key] = "settlement credit Fri–Sun batch"


def outcomes(result: Reconciliation) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in result.matches:
        for key in match.line_keys:
            found[key] = "MATCH"
        for payment_id in match.payment_ids:
            found[f"P{payment_id}"] = "MATCH"
        for refund_id in match.refund_ids:
            found[f"R{refund_id}"] = "MATCH"
    for exception in result.exceptions:
        for key in exception.line_keys:
            found[key] = exception.kind
        for payment_id in exception.payment_ids:
            found[f"P{payment_id}"] = exception.kind
        for refund_id in exception.refund_ids:
            found[f"R{refund_id}"] = exception.kind
    for payment_id in result.pending_payment_ids:
        found[f"P{payment_id}"] = "PENDING"
    for refund_id in result.pending_refund_ids:
        found[f"R{refund_id}"] = "PENDING"
    for key in result.pending_line_keys:
        found[key] = "PENDING"
    return found


def confusion(month: Month, found: dict[str, str]) -> list[dict[str, object]]:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for item, label in month.clean.items():
        if item not in month.planted:
            rows[f"clean: {label}"][found.get(item, "MISSING")] += 1
    for item, label in month.planted.items():
        rows[f"planted: {label}"][found.get(item, "MISSING")] += 1
    table = []
    for label in sorted(rows, key=lambda name: (name.startswith("planted"), name)):
        counts = rows[label]
        table.append(
            {
                "case": label,
                "n": sum(counts.values()),
                **{o: counts.get(o, 0) for o in OUTCOMES},
                "missing": counts.get("MISSING", 0),
            }
        )
    return table


def bare_join(month: Month) -> tuple[float, float]:
    """The floor: a dict of order numbers and one probe per line, nothing else (wall and CPU seconds)."""
    started, cpu = time.perf_counter(), time.process_time()
    by_order = {payment.order_no: payment for payment in month.payments}
    hits = 0
    for line in month.lines:
        if line.order_no in by_order or line.end_to_end_id in by_order:
            hits += 1
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    started = time.perf_counter()
    month = Month(args.payments, args.seed)
    generated = time.perf_counter() - started
    rss_inputs = peak_rss_mib()
    gc.collect()
    gc.freeze()  # the inputs live for the whole run; collections need not walk them again and again

    floor, floor_cpu = bare_join(month)
    started, cpu = time.perf_counter(), time.process_time()
    result = reconcile(
        lines=month.lines,
        payments=month.payments,
        terms=TERMS,
        rules=RULES,
        unit_codes=month.unit_codes,
        as_of=AS_OF,
        zone=ZONE,
    )
    matching, matching_cpu = time.perf_counter() - started, time.process_time() - cpu
    found = outcomes(result)
    table = confusion(month, found)
    fees_found = sum((m.channel_fee for m in result.matches if m.step is MatchStep.SETTLEMENT), Decimal("0"))
    fees_planted = Decimal(sum(month.day_fee.values())).scaleb(-2)
    clean_wrong = sum(row["n"] - row["MATCH"] for row in table if str(row["case"]).startswith("clean"))  # type: ignore[operator]
    planted_wrong = sum(
        row["n"] - row[str(row["case"]).removeprefix("planted: ").split(" ")[0]]  # type: ignore[operator]
        for row in table
        if str(row["case"]).startswith("planted")
    )

    planted_cases = sum(1 for label in month.planted.values() if label != "AMOUNT_MISMATCH line")
    print_table(
        f"Reconciliation core: {len(month.payments):,} payments × {len(month.lines):,} statement lines",
        [
            {
                "payments": len(month.payments),
                "lines": len(month.lines),
                "generate s": generated,
                "match s": matching,
                "match CPU s": matching_cpu,
                "dict join CPU s": floor_cpu,
                "× floor (CPU)": matching_cpu / floor_cpu,
                "lines/CPU s": int(len(month.lines) / matching_cpu),
                "RSS inputs MiB": rss_inputs,
                "peak RSS MiB": peak_rss_mib(),
                "matches": len(result.matches),
                "exceptions": len(result.exceptions),
            }
        ],
    )
    print_table("Confusion: every case (row) by the outcome it got (columns)", table)
    print_table(
        "Checks",
        [
            {
                "check": "channel fees reported on settlements = fees charged",
                "value": f"{fees_found} = {fees_planted}",
                "ok": fees_found == fees_planted,
            },
            {"check": "clean items not matched (false exceptions)", "value": clean_wrong, "ok": clean_wrong == 0},
            {"check": "planted cases not found as planted", "value": planted_wrong, "ok": planted_wrong == 0},
            {
                # An amount mismatch is planted twice (its line and its payment) but is one exception.
                "check": "exceptions raised = cases planted",
                "value": f"{len(result.exceptions):,} = {planted_cases:,}",
                "ok": len(result.exceptions) == planted_cases,
            },
        ],
    )


if __name__ == "__main__":
    main()
