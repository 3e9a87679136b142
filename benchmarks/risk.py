"""The overdue-risk score (issue 16): scoring 100,000 open bills on one core (goal ≤ 30 s), and the
time-split validation of the fitted scorecard against the rule baseline (AUC, top-decile lift,
calibration by tenths).

The books are generated in memory with the demo's habits (most units pay on time, some now and then
late, some always late, some late for months after a new occupant moved in, a few chronic), so the
figures measure the scoring path the finance desk's ranking takes (`UnitHistory.features_of` and the
scorecard in force, `score_open_bills`) without the database: its three set-based statements are timed
by `python -m benchmarks.risk --demo`, on the demo community read from SQLite.

    python -m benchmarks.risk [--units 100000] [--months 12] [--validation-units 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchmarks.table import peak_rss_mib, print_table
from billing.reports.risk import Evaluation, PastBill
from billing.reports.risk_fit import baseline_rates, fit_model, validate
from billing.reports.risk_scoring import (
    KnownBill,
    ScorecardInForce,
    UnitHistory,
    labelled_bills,
    score_open_bills,
)

GOAL_SECONDS = 30.0
START = dt.date(2024, 1, 1)


def _month(index: int) -> dt.date:
    year, month = divmod(START.month - 1 + index, 12)
    return dt.date(START.year + year, month + 1, 1)


def generated_books(units: int, months: int, *, seed: int, last_open: bool) -> dict[int, UnitHistory]:
    """`months` billed months per unit (the last one still open if `last_open`); each unit pays after a habit."""
    rng = random.Random(seed)
    books = {}
    next_id = 1
    for unit_id in range(1, units + 1):
        chance = rng.random()
        habit = "on_time" if chance < 0.72 else "sometimes" if chance < 0.86 else "always" if chance < 0.93 else "new" if chance < 0.97 else "chronic"
        moved_in = _month(rng.randint(0, months)) if habit == "new" else dt.date(2018, 5, 1)
        usual = Decimal(rng.randint(12_000, 60_000)) / 100
        bills = []
        for index in range(months):
            issued = _month(index + 1)
            due = issued + dt.timedelta(days=15)
            if habit == "always" or (habit == "new" and issued < moved_in + dt.timedelta(days=183)):
                paid: dt.date | None = due + dt.timedelta(days=rng.randint(35, 80))
            elif habit == "chronic":
                paid = _month(index + 1 + (3 - index % 4)) + dt.timedelta(days=9)
            elif habit == "sometimes" and rng.random() < 0.2:
                paid = due + dt.timedelta(days=rng.randint(5, 60))
            else:
                paid = issued + dt.timedelta(days=rng.randint(1, 13))
            is_open = last_open and index == months - 1
            amount = usual * (Decimal(3) if rng.random() < 0.02 else Decimal(1))
            past = PastBill(issued, due, amount, None if is_open else paid, rng.random() < (0.6 if habit != "on_time" else 0.15))
            bills.append(KnownBill(next_id, unit_id, unit_id, issued.strftime("%Y-%m"), is_open, int(amount * 100), past))
            next_id += 1
        books[unit_id] = UnitHistory(tuple(bills), ((moved_in, None),), rng.random() < 0.03)
    return books


def scoring_row(units: int, months: int, scorecard: ScorecardInForce, label: str) -> dict[str, object]:
    books = generated_books(units, months, seed=16, last_open=True)
    started, cpu = time.perf_counter(), time.process_time()
    ranked = score_open_bills(books, scorecard)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    return {
        "scorer": label,
        "open bills": len(ranked),
        "past bills": units * (months - 1),
        "wall s": wall,
        "CPU s": used,
        "goal": f"≤ {GOAL_SECONDS:.0f} s: {'met' if used <= GOAL_SECONDS else 'NOT met'}",
        "µs/bill": used / len(ranked) * 1e6,
    }


def _evaluation_row(name: str, evaluation: Evaluation) -> dict[str, object]:
    return {"scorer": name, "AUC": evaluation.auc, "top-decile lift": evaluation.top_decile_lift}


def _calibration_rows(name: str, evaluation: Evaluation) -> list[dict[str, object]]:
    return [
        {"scorer": name, "tenth": f"{int(mean * 10) / 10:.1f}", "mean predicted": mean, "share late": share, "bills": count}
        for mean, share, count in evaluation.calibration
    ]


async def demo_read() -> list[dict[str, object]]:
    """The demo community seeded into SQLite, then its books read and its open bills ranked as the
    ranking does: the three statements and the scoring, timed."""
    from zoneinfo import ZoneInfo

    from api.demo import seed_demo
    from billing.reports.risk_scoring import read_history, scorecard_in_force
    from db.migrate import upgrade_to_head
    from db.models import Project
    from db.personal_data import PersonalDataCipher
    from db.session import create_engine, create_session_factory

    engine = create_engine(f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'demo.db'}")
    await upgrade_to_head(engine)
    sessions = create_session_factory(engine)
    await seed_demo(sessions, PersonalDataCipher("benchmark-risk-secret-0123456789abcdef"), today=dt.date(2026, 3, 15))
    async with sessions() as session:
        project = await session.get(Project, 1)
        assert project is not None
        started = time.perf_counter()
        history = await read_history(session, project.id, ZoneInfo(project.timezone))
        read = time.perf_counter() - started
        ranked = score_open_bills(history, await scorecard_in_force(session, project.id))
        scored = time.perf_counter() - started - read
    await engine.dispose()
    bills = sum(len(unit.bills) for unit in history.values())
    return [{"demo (SQLite)": "read + rank", "bills read": bills, "open bills": len(ranked), "read s": read, "score s": scored}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000, help="open bills to score (one per unit)")
    parser.add_argument("--months", type=int, default=12, help="bills per unit, the last open")
    parser.add_argument("--validation-units", type=int, default=20_000, help="units whose 24 months train and judge")
    parser.add_argument("--demo", action="store_true", help="also seed the demo into SQLite and time reading its books")
    arguments = parser.parse_args()

    books = generated_books(arguments.validation_units, 24, seed=7, last_open=False)
    examples = labelled_bills(books, _month(26))
    started = time.process_time()
    validation = validate(examples)
    validating = time.process_time() - started
    assert validation is not None
    model = fit_model(examples)
    print_table(
        f"Time-split validation: {len(examples):,} labelled bills of {arguments.validation_units:,} units, split on "
        f"{validation.split_on} ({validation.trained_on:,} train, {validation.validated_on:,} judge), {validating:.1f} s CPU; "
        f"scorecard {'ENABLED' if validation.enabled else 'disabled'} (needs a higher AUC and no lower lift)",
        [_evaluation_row("rule baseline (late ≥ 2 of 6)", validation.baseline), _evaluation_row("fitted scorecard", validation.model)],
    )
    print_table(
        "Calibration on the judged bills (per tenth of predicted probability)",
        _calibration_rows("baseline", validation.baseline) + _calibration_rows("scorecard", validation.model),
    )
    rows = [
        scoring_row(arguments.units, arguments.months, ScorecardInForce(model, None), "fitted scorecard"),
        scoring_row(arguments.units, arguments.months, ScorecardInForce(None, baseline_rates(examples)), "rule baseline"),
    ]
    print_table(f"Scoring open bills on one core (goal ≤ {GOAL_SECONDS:.0f} s for 100,000); peak {peak_rss_mib():.0f} MiB", rows)
    if arguments.demo:
        print_table("The demo's books read set-based and ranked", asyncio.run(demo_read()))


if __name__ == "__main__":
    main()
