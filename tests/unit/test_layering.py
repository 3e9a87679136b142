"""The layers hold (DESIGN.md §1): pure cores and the kernel import no I/O layer, models import nothing
above db/, domain packages import neither schema/ nor api/, and the GraphQL layer and the app never
commit, publish or check a role by themselves: the use case and the domain policy do."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

KERNEL = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "kernel").glob("*.py"))
PURE_CORES = [
    "announcements/audience.py",
    "announcements/model.py",
    "announcements/schedule.py",
    "billing/allocation.py",
    "billing/balance.py",
    "billing/dunning/ladder.py",
    "billing/ledger.py",
    "billing/model.py",
    "billing/money.py",
    "billing/reconciliation/alipay.py",
    "billing/reconciliation/alipay_writer.py",
    "billing/reconciliation/bank.py",
    "billing/reconciliation/close_workbook.py",
    "billing/reconciliation/formats.py",
    "billing/reconciliation/interbank.py",
    "billing/reconciliation/matching.py",
    "billing/reconciliation/names.py",
    "billing/reconciliation/phrases.py",
    "billing/reconciliation/statement.py",
    "billing/reconciliation/tabular.py",
    "billing/reconciliation/wechat.py",
    "billing/reconciliation/wechat_writer.py",
    "billing/reports/ageing.py",
    "billing/reports/charts.py",
    "billing/reports/collection.py",
    "billing/reports/collection_facts.py",
    "billing/reports/income.py",
    "billing/reports/risk.py",
    "billing/reports/risk_fit.py",
    "billing/reports/texts.py",
    "billing/reports/views.py",
    "billing/reports/workbook.py",
    "billing/rules.py",
    "billing/texts/__init__.py",
    "billing/texts/en.py",
    "billing/texts/zh_cn.py",
    "dispatch/classifier.py",
    "dispatch/classifier_text.py",
    "dispatch/classifier_words.py",
    "dispatch/urgency_net.py",
    "dispatch/events.py",
    "dispatch/lifecycle.py",
    "dispatch/model.py",
    "dispatch/sla.py",
    "dispatch/solver.py",
    "dispatch/routing.py",
    "dispatch/urgency.py",
    "notifications/default_templates.py",
    "notifications/kinds.py",
    "notifications/pacing.py",
    "notifications/rendering.py",
    "notifications/routing.py",
    "invoicing/buyers.py",
    "invoicing/capitals.py",
    "invoicing/credit_code.py",
    "invoicing/document.py",
    "invoicing/drafting.py",
    "invoicing/fee_kinds.py",
    "invoicing/tax.py",
]
# The one library each core may lean on besides the standard library and the kernel.
CORE_LIBRARIES = {
    "dispatch/classifier_text.py": {"jieba"},
    # The flow in OR-Tools; costs as arrays (numpy); large assignments in scipy's linear_sum_assignment.
    "dispatch/solver.py": {"ortools", "numpy", "scipy"},
    # A technician's day as a vehicle route (pywrapcp).
    "dispatch/routing.py": {"ortools"},
    # Statement files: XLSX bank exports, XML without entities, MT940; payer names compared in pinyin.
    "billing/reconciliation/tabular.py": {"openpyxl"},
    "billing/reconciliation/close_workbook.py": {"openpyxl"},
    "billing/reconciliation/interbank.py": {"defusedxml", "mt940"},
    "billing/reconciliation/names.py": {"pypinyin"},
    # Templates are data an administrator writes: rendered in Jinja2's sandbox.
    "notifications/rendering.py": {"jinja2"},
    # Report exports as XLSX; the /finance page's charts as SVG (pygal builds them as lxml trees).
    "billing/reports/workbook.py": {"xlsxwriter"},
    "billing/reports/charts.py": {"pygal", "lxml"},
    # The overdue-risk scorecard's weights, fitted by logistic regression.
    "billing/reports/risk_fit.py": {"sklearn"},
    # The issued invoice's XML, read back without DTDs or entities.
    "invoicing/document.py": {"lxml"},
}
DOMAIN_PACKAGES = ["announcements", "billing", "dispatch", "invoicing", "notifications", "register"]
EDGE_PACKAGES = ["schema", "api"]

# Committing a transaction, publishing a live event, reading roles: the use case's and the policy's job.
TRANSACTION_CALLS = {"commit", "begin", "begin_nested"}
PUBLISH_CALLS = {"publish", "publish_notice", "publish_after_commit"}
ROLE_ATTRIBUTES = {"has_role", "holds_any", "is_staff_of", "projects_with", "roles", "staff_project_ids"}
# Where the edge legitimately touches these, by module and the start of the finding: the event bus *is*
# the publisher, and the demo seeder writes its logins' role grants (data, not a check).
EDGE_EXCEPTIONS = {
    ("api/eventbus.py", "calls publish"),
    ("api/demo.py", "names Role."),
}


def modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def third_party(names: set[str]) -> set[str]:
    return names - set(sys.stdlib_module_names) - {"__future__"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str


def edge_findings(path: Path) -> list[Finding]:
    """Commits, publishes and role checks written in a module of the GraphQL layer or the app."""
    relative = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in TRANSACTION_CALLS | PUBLISH_CALLS:
                found.append(Finding(relative, node.lineno, f"calls {name}()"))
        if isinstance(node, ast.Attribute):
            if node.attr in ROLE_ATTRIBUTES:
                found.append(Finding(relative, node.lineno, f"reads .{node.attr}"))
            if isinstance(node.value, ast.Name) and node.value.id == "Role":
                found.append(Finding(relative, node.lineno, f"names Role.{node.attr}"))
    allowed = [prefix for module, prefix in EDGE_EXCEPTIONS if module == relative]
    kept = [finding for finding in found if not any(finding.what.startswith(prefix) for prefix in allowed)]
    return sorted(kept, key=lambda finding: (finding.line, finding.what))


@pytest.mark.parametrize("module", KERNEL)
def test_the_kernel_imports_only_the_standard_library(module: str) -> None:
    assert third_party(imported_top_levels(ROOT / module)) - {"kernel"} == set()


@pytest.mark.parametrize("module", PURE_CORES)
def test_a_pure_core_imports_only_the_standard_library_the_kernel_and_other_pure_cores(module: str) -> None:
    # A pure package's `__init__.py` is imported by the package's name.
    pure = {name.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for name in PURE_CORES}
    domains = {"announcements", "billing", "dispatch", "invoicing", "notifications"}
    ours = {name for name in imported_modules(ROOT / module) if name.split(".")[0] in domains}
    leaks = {name for name in ours if not any(name == core or name.startswith(core + ".") for core in pure)}
    # `from billing import model` names the package and the module; only the module matters.
    leaks -= domains
    assert leaks == set()
    allowed = {"kernel"} | domains | CORE_LIBRARIES.get(module, set())
    assert third_party(imported_top_levels(ROOT / module)) - allowed == set()


@pytest.mark.parametrize("module", [str(p.relative_to(ROOT)) for p in modules("db")])
def test_the_database_layer_imports_nothing_above_it(module: str) -> None:
    assert imported_top_levels(ROOT / module) & {*DOMAIN_PACKAGES, *EDGE_PACKAGES} == set()


@pytest.mark.parametrize("module", [str(p.relative_to(ROOT)) for p in modules(*DOMAIN_PACKAGES)])
def test_a_domain_package_imports_neither_the_graphql_layer_nor_the_app(module: str) -> None:
    assert imported_top_levels(ROOT / module) & set(EDGE_PACKAGES) == set()


@pytest.mark.parametrize("module", [str(p.relative_to(ROOT)) for p in modules(*EDGE_PACKAGES)])
def test_the_graphql_layer_and_the_app_neither_commit_nor_publish_nor_check_roles(module: str) -> None:
    assert edge_findings(ROOT / module) == []


def test_the_checkers_notice_what_they_forbid(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text(
        "import json\n"
        "from db.models import Unit\n"
        "async def resolve(info, principal, session, bus):\n"
        "    if not principal.has_role(1, Role.ADMIN):\n"
        "        return None\n"
        "    await session.commit()\n"
        "    await bus.publish('board:1', '{}')\n"
    )
    assert imported_top_levels(leaky) == {"json", "db"}
    assert [(f.line, f.what) for f in edge_findings(leaky)] == [
        (4, "names Role.ADMIN"),
        (4, "reads .has_role"),
        (6, "calls commit()"),
        (7, "calls publish()"),
    ]
