"""The real `courtyard serve --demo`: starts, seeds, answers GraphQL, and shuts down cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import copy_of_seeded_demo, courtyard_serve

pytestmark = pytest.mark.e2e

LOGIN = """mutation { login(email: "admin@demo.courtyard", password: "courtyard-demo") {
  ... on AuthPayload { token viewer { roles { role project { id name } } } } ... on Error { code message } } }"""
UNITS = """query($p: ID!) { units(projectId: $p, first: 5, filter: {kind: APARTMENT}) {
  totalCount edges { node { number building { name } occupancies { relation party { name phone } } } } } }"""


def test_serve_demo_end_to_end(tmp_path: Path) -> None:
    with courtyard_serve(tmp_path, "--demo") as server:
        login = httpx.post(f"{server.url}/graphql", json={"query": LOGIN}, timeout=10).json()["data"]["login"]
        token, project = login["token"], login["viewer"]["roles"][0]["project"]
        units = httpx.post(
            f"{server.url}/graphql",
            json={"query": UNITS, "variables": {"p": project["id"]}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["data"]["units"]
        graphiql = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert server.process.returncode == 0, server.log()
    assert project["name"] == "翠湖花园 Emerald Lake Garden"
    assert units["totalCount"] == 240
    first = units["edges"][0]["node"]
    assert (first["building"]["name"], first["number"]) == ("1栋", "101")
    assert first["occupancies"][0]["party"]["phone"].isdigit()  # admins see phone numbers unmasked
    assert graphiql.status_code == 200
    log = server.log()
    assert "admin@demo.courtyard" in log and "owner1@demo.courtyard" in log
    assert "Traceback" not in log


def test_serve_demo_twice_does_not_duplicate(shared_folder: Path, tmp_path: Path) -> None:
    # given a folder the demo was seeded into before (the run's one seeding: the test above seeds its own)
    folder = copy_of_seeded_demo(shared_folder, tmp_path)
    # when it is served with --demo again
    with courtyard_serve(folder, "--demo") as server:
        login = httpx.post(f"{server.url}/graphql", json={"query": LOGIN}, timeout=10).json()["data"]["login"]
    # then nothing is added: the admin still has the one project
    assert "demo data already present" in server.log()
    assert [role["project"]["name"] for role in login["viewer"]["roles"]] == ["翠湖花园 Emerald Lake Garden"]
