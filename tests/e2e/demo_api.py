"""A small synchronous GraphQL client for end-to-end tests against a running demo server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

DEMO_PASSWORD = "courtyard-demo"
HERE = {"location": {"latitude": 30.2745, "longitude": 120.1523}}

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ... on AuthPayload { token } ... on Error { code message } } }"""
VIEWER = "{ viewer { units { id number } technician { id name skills onShift capacity currentLoad } } }"
SUBMIT = """mutation($input: SubmitTicketInput!) { submitTicket(input: $input) {
  __typename ... on Ticket { id status version onSiteDueAt assignee { id name } } ... on Error { code message } } }"""
TRANSITION = """mutation($id: ID!, $action: TicketAction!, $note: String, $details: TransitionDetailsInput) {
  transitionTicket(ticketId: $id, action: $action, note: $note, details: $details) {
    __typename ... on Ticket { id status version assignee { id name } } ... on Error { code message } } }"""
ASSIGN = """mutation($t: ID!, $tech: ID!) { assignTicket(ticketId: $t, technicianId: $tech) {
  __typename ... on Ticket { id status assignee { id name } } ... on Error { code message } } }"""


@dataclass(frozen=True)
class DemoTechnician:
    id: str
    name: str
    skills: tuple[str, ...]
    on_shift: bool
    token: str


class DemoApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def gql(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=20
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def login(self, email: str) -> str:
        result = self.gql(LOGIN, {"email": email, "password": DEMO_PASSWORD})["login"]
        assert "token" in result, result
        return result["token"]  # type: ignore[no-any-return]

    def first_unit(self, token: str) -> str:
        return self.gql(VIEWER, token=token)["viewer"]["units"][0]["id"]  # type: ignore[no-any-return]

    def technicians(self, count: int = 10) -> list[DemoTechnician]:
        """The demo technicians tech1 … tech10, each with a token of their own."""
        found = []
        for number in range(1, count + 1):
            token = self.login(f"tech{number}@demo.courtyard")
            tech = self.gql(VIEWER, token=token)["viewer"]["technician"]
            found.append(DemoTechnician(tech["id"], tech["name"], tuple(tech["skills"]), tech["onShift"], token))
        return found

    def submit(self, token: str, unit_id: str, description: str) -> dict[str, Any]:
        result = self.gql(SUBMIT, {"input": {"description": description, "unitId": unit_id}}, token=token)[
            "submitTicket"
        ]
        assert result["__typename"] == "Ticket", result
        return result  # type: ignore[no-any-return]

    def transition(
        self, token: str, ticket_id: str, action: str, *, note: str | None = None, details: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        variables = {"id": ticket_id, "action": action, "note": note, "details": details}
        result = self.gql(TRANSITION, variables, token=token)["transitionTicket"]
        assert result["__typename"] == "Ticket", result
        return result  # type: ignore[no-any-return]

    def assign(self, token: str, ticket_id: str, technician_id: str) -> dict[str, Any]:
        result = self.gql(ASSIGN, {"t": ticket_id, "tech": technician_id}, token=token)["assignTicket"]
        assert result["__typename"] == "Ticket", result
        return result  # type: ignore[no-any-return]
