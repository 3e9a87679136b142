"""Arrears ageing read bill by bill: every bill's receivable postings up to the cut-off summed in the
database (`reading.receivable_balances_sql`), and the rest left to the pure core (`ageing.arrears_ageing`).

This is the reading the report had before the database learnt to age the arrears itself
(`reading.read_arrears_ageing`). It stays as the reference that reading is tested against on both
databases, and as the "per bill" figure of `benchmarks/reports.py`. It asks no policy: its callers are a
test and a benchmark.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.money import from_fen
from billing.reports.ageing import AgeingReport, OpenBill, arrears_ageing
from billing.reports.collection import day_end
from billing.reports.reading import receivable_balances_sql
from db.models import Bill, Unit

__all__ = ["ageing_per_bill"]


async def ageing_per_bill(session: AsyncSession, *, project_id: int, as_of: dt.date, zone: ZoneInfo, top: int) -> AgeingReport:
    """The ageing report of the project as of the end of `as_of`, every open bill read into Python."""
    balances = receivable_balances_sql(project_id, day_end(as_of, zone)).subquery()
    rows = await session.execute(
        select(Bill.id, Bill.unit_id, Unit.building_id, Bill.due_date, balances.c.balance)
        .join(balances, balances.c.bill_id == Bill.id)
        .join(Unit, Unit.id == Bill.unit_id)
    )
    bills = (OpenBill(bill_id, unit_id, building_id, due, from_fen(int(balance))) for bill_id, unit_id, building_id, due, balance in rows)
    return arrears_ageing(bills, as_of=as_of, top=top)
