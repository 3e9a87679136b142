"""The cursors a page hands out are relay's base64 of "after:<id>", and `after` reads them back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from strawberry import relay

from schema.pagination import after_id, edges_and_page_info


@pytest.mark.parametrize("ids", [[1], [7, 42, 1234567], [2_147_483_647, 3]])
def test_each_edge_carries_relays_cursor_of_its_row(ids: list[int]) -> None:
    rows = [SimpleNamespace(id=row_id) for row_id in ids]

    edges, page_info = edges_and_page_info(rows, len(ids), lambda row: row.id)

    assert [edge.cursor for edge in edges] == [relay.to_base64("after", row_id) for row_id in ids]
    assert [after_id(edge.cursor) for edge in edges] == ids
    assert (page_info.start_cursor, page_info.end_cursor) == (edges[0].cursor, edges[-1].cursor)
    assert page_info.has_next_page is False


def test_the_extra_row_only_tells_that_another_page_follows() -> None:
    rows = [SimpleNamespace(id=row_id) for row_id in (5, 4, 3)]

    edges, page_info = edges_and_page_info(rows, 2, lambda row: row.id)

    assert [edge.node for edge in edges] == [5, 4]
    assert page_info.has_next_page is True and page_info.end_cursor == relay.to_base64("after", 4)
