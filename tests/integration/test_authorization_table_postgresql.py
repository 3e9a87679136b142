"""The authorization table (test_authorization_table.py) on PostgreSQL: the same cells as its SQLite
run, in a file of their own so that `make test`, which hands each test process whole files, runs the
two halves side by side."""

from __future__ import annotations

from tests.integration.test_authorization_table import (
    test_a_caller_gets_what_the_table_says,
    test_foreign_targets_are_reachable_from_their_own_project,
    test_what_of_a_technician_the_viewer_of_a_ticket_sees,
    world_on,
)

__all__ = [
    "table",
    "test_a_caller_gets_what_the_table_says",
    "test_foreign_targets_are_reachable_from_their_own_project",
    "test_what_of_a_technician_the_viewer_of_a_ticket_sees",
]

table = world_on("postgresql")
