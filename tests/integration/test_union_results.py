"""Mutation results are unions of the object and the error types, read with the README's pattern
`... on Thing { … } ... on Error { code message field }`. GraphQL refuses a selection that asks for one
response name with two types, so no member of a union may have a field named like another member's
field but typed differently (`FeeRule.code: String` against `Error.code: ErrorCode` was one)."""

from __future__ import annotations

from itertools import combinations

import httpx
from graphql import GraphQLObjectType, GraphQLUnionType

from api.state import AppState
from schema import build_schema
from tests.integration.world import build_world, gql

CREATE_RULE_AS_README_TEACHES = """
mutation ($input: CreateFeeRuleInput!) {
  createFeeRule(input: $input) {
    __typename
    ... on FeeRule { ruleCode kind }
    ... on Error { code message field }
  }
}"""


def test_no_union_member_shares_a_field_name_with_another_of_a_different_type() -> None:
    graphql_schema = build_schema(production=False)._schema
    clashes: list[str] = []
    for union in graphql_schema.type_map.values():
        if not isinstance(union, GraphQLUnionType):
            continue
        members: list[GraphQLObjectType] = list(union.types)
        for left, right in combinations(members, 2):
            for name in sorted(set(left.fields) & set(right.fields)):
                if str(left.fields[name].type) != str(right.fields[name].type):
                    clashes.append(
                        f"{union.name}: {left.name}.{name}: {left.fields[name].type} vs "
                        f"{right.name}.{name}: {right.fields[name].type}"
                    )
    assert clashes == []


async def test_a_fee_rule_and_its_error_are_read_with_the_readme_pattern(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given
    world = await build_world(state)
    rule = {
        "projectId": world.gid("Project:lakeside"),
        "code": "PROPERTY",
        "kind": "PER_AREA",
        "name": "物业费",
        "effectiveFrom": "2026-01-01",
        "ratePerSquareMetre": "2.80",
    }
    # when the same rule is created twice
    created = await gql(client, CREATE_RULE_AS_README_TEACHES, {"input": rule}, token=world.token("finance_a"))
    again = await gql(client, CREATE_RULE_AS_README_TEACHES, {"input": rule}, token=world.token("finance_a"))
    # then the document validates, and each answer reads its own `…Code` / `code`
    assert created == {"data": {"createFeeRule": {"__typename": "FeeRule", "ruleCode": "PROPERTY", "kind": "PER_AREA"}}}
    assert again["data"]["createFeeRule"]["code"] == "CONFLICT"
