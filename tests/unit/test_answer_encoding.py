"""GraphQL answers are encoded by orjson (api/graphql_view.py): the same JSON values strawberry's encoder
writes, text outside ASCII as UTF-8, and the standard library for what orjson refuses."""

from __future__ import annotations

import json

import pytest

from api.graphql_view import CourtyardGraphQL


@pytest.fixture(scope="module")
def view() -> CourtyardGraphQL:
    return CourtyardGraphQL(production=True, allowed_origins=(), graphiql_html=None)


def _strawberry(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def test_an_answer_is_the_same_json_with_its_chinese_written_as_utf_8(view: CourtyardGraphQL) -> None:
    answer = {"data": {"bills": [{"description": "物业服务费", "amount": "231.00", "count": 3, "paid": False, "unit": None}]},
              "errors": [{"message": "Bill not found.", "path": ["bills", 0], "extensions": {"code": "NOT_FOUND"}}]}
    encoded = view.encode_json(answer)
    assert isinstance(encoded, str)  # websocket frames stay text frames
    assert json.loads(encoded) == answer
    assert "物业服务费" in encoded and "\\u" not in encoded
    assert encoded == _strawberry(answer).replace(json.dumps("物业服务费"), '"物业服务费"')


@pytest.mark.parametrize("refused", [{"data": {"big": 2**70}}, {"data": {1: "a key that is no string"}}])
def test_what_orjson_refuses_is_encoded_as_strawberry_encodes_it(view: CourtyardGraphQL, refused: object) -> None:
    assert view.encode_json(refused) == _strawberry(refused)


@pytest.mark.parametrize("answer", [{"data": {"unit": {"number": "1号楼-101"}}}, {"data": {"big": 2**70}}])
def test_an_http_answer_is_the_same_json_as_bytes(view: CourtyardGraphQL, answer: object) -> None:
    encoded = view.encode_json_bytes(answer)
    assert isinstance(encoded, bytes)  # the response sends them as they are
    assert encoded.decode() == view.encode_json(answer)
    assert json.loads(encoded) == answer
