"""GraphiQL's example tabs: one real operation per thing each role does, valid against the built schema."""

from __future__ import annotations

import io
import json

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, print_ast, validate
from graphql.execution.values import get_variable_values

from api.pages import GRAPHIQL_HTML
from api.pages.graphiql_examples import EXAMPLE_TABS, ExampleTab, default_tabs_json
from schema import build_schema

UPLOADED = io.BytesIO(b"building,unit\n")  # what a multipart part becomes: a file object


def _operation(tab: ExampleTab) -> OperationDefinitionNode:
    operations = [d for d in parse(tab.query).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    return operations[0]


def _name(tab: ExampleTab) -> str:
    operation = _operation(tab)
    return operation.name.value if operation.name else ""


@pytest.mark.parametrize("tab", EXAMPLE_TABS, ids=_name)
def test_the_example_validates_against_the_schema(tab: ExampleTab) -> None:
    schema = build_schema(production=False)._schema
    document = parse(tab.query)

    assert validate(schema, document) == []
    definitions = _operation(tab).variable_definitions or []
    # A file travels in a multipart part that the server puts where the variable's null stands.
    uploads = {d.variable.name.value for d in definitions if "Upload" in print_ast(d.type)}
    variables = {name: UPLOADED if name in uploads else value for name, value in tab.variables.items()}
    coerced = get_variable_values(schema, definitions, variables)
    assert not isinstance(coerced, list), coerced


def test_each_role_has_its_examples_subscriptions_included() -> None:
    by_role: dict[str, list[tuple[str, OperationType]]] = {}
    for tab in EXAMPLE_TABS:
        by_role.setdefault(tab.role, []).append((_name(tab), _operation(tab).operation))

    assert by_role == {
        "LOGIN": [("Login", OperationType.MUTATION)],
        "OWNER": [
            ("OwnerMyBills", OperationType.QUERY),
            ("OwnerPayOnline", OperationType.MUTATION),
            ("OwnerSubmitTicket", OperationType.MUTATION),
            ("OwnerFollowTicket", OperationType.SUBSCRIPTION),
        ],
        "FINANCE": [
            ("FinanceBillRunDryRun", OperationType.MUTATION),
            ("FinanceRecordPayment", OperationType.MUTATION),
            ("FinanceLedgerCheck", OperationType.QUERY),
            ("FinanceDunning", OperationType.QUERY),
            ("FinanceMorningReports", OperationType.QUERY),
        ],
        "DISPATCHER": [
            ("DispatcherBoard", OperationType.QUERY),
            ("DispatcherAssign", OperationType.MUTATION),
            ("DispatcherBoardLive", OperationType.SUBSCRIPTION),
        ],
        "TECHNICIAN": [
            ("TechnicianMyAssignments", OperationType.SUBSCRIPTION),
            ("TechnicianTransition", OperationType.MUTATION),
        ],
        "ADMIN": [("AdminImportUnits", OperationType.MUTATION), ("AdminIssuePasswordReset", OperationType.MUTATION)],
    }


def test_the_page_opens_with_every_example_as_a_tab_login_first() -> None:
    tabs = json.loads(default_tabs_json())

    assert default_tabs_json() in GRAPHIQL_HTML
    assert [tab["query"] for tab in tabs] == [tab.query for tab in EXAMPLE_TABS]
    assert "mutation Login" in tabs[0]["query"]
    assert json.loads(tabs[1].get("variables", "{}")) == EXAMPLE_TABS[1].variables


def test_the_tabs_cannot_end_the_script_block_they_sit_in() -> None:
    assert "</" not in default_tabs_json()
