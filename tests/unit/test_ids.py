"""Global ids Courtyard encodes itself are the very strings strawberry's GlobalID serializes to."""

from __future__ import annotations

import pytest
from strawberry import relay

from schema.billing.common import gid
from schema.ids import decode_id, encode_id


@pytest.mark.parametrize(("type_name", "pk"), [("Bill", 1), ("Payment", 42), ("DunningNotice", 2**31 - 1), ("单元", 7)])
def test_encode_id_answers_what_a_global_id_serializes_to(type_name: str, pk: int) -> None:
    expected = str(relay.GlobalID(type_name, str(pk)))
    assert encode_id(type_name, pk) == expected
    assert gid(type_name, pk) == expected
    assert decode_id(encode_id(type_name, pk), type_name, field="id") == pk
