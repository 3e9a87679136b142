"""Shared output and measurement helpers for the benchmark scripts."""

from __future__ import annotations

import resource
import sys
from collections.abc import Mapping, Sequence

__all__ = ["peak_rss_mib", "print_table"]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(title: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Print rows as an aligned plain-text table under a title."""
    print(f"\n{title}")
    if not rows:
        print("  (no rows)")
        return
    columns = list(rows[0].keys())
    cells = [[_format(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    print("  " + "  ".join(column.ljust(width) for column, width in zip(columns, widths)))
    print("  " + "  ".join("-" * width for width in widths))
    for line in cells:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(line, widths)))
    sys.stdout.flush()


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
