"""Mutation score of the pure cores: mutmut on one module at a time, against that module's own unit tests.

`make mutation` runs every module below (or those named with `--module`), each in its own working
directory under `.mutation/` with its own mutmut state, one test process at a time, and prints a table
per module. A module's score is (killed + equivalent) / mutants, where an equivalent mutant is one that
survived and is named, with the reason, in `tests/mutation_equivalents.md`; nothing else counts as
killed. Not part of `make test`: every mutant reruns the tests that reach the mutated function.

    python -m tests.mutation                          # every module, fresh mutants
    python -m tests.mutation --module billing/money.py
    python -m tests.mutation --survivors              # retry only what survived last time (after new tests)
    python -m tests.mutation --report                 # the table of the last runs, nothing run
    python -m tests.mutation --list-survivors billing/rules.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.md"
PASSING_SCORE = 95.0

# Each core and the unit tests that specify it, smallest module first: the cores that compute money, its
# words on an invoice, and the decisions of dispatch. Left out: the statement parsers and writers, the
# classifier's keyword tables and the templates and texts (their mutants are mostly spellings of headers,
# keywords and phrases, which their own sample files pin), the dataclass modules, and the report, pacing
# and announcement cores, which a later pass may add.
OWN_TESTS = {
    "billing/money.py": ["tests/unit/billing/test_billing_money.py"],
    "billing/balance.py": ["tests/unit/billing/test_billing_balance.py"],
    "billing/reconciliation/names.py": ["tests/unit/reconciliation/test_names.py"],
    "invoicing/capitals.py": ["tests/unit/invoicing/test_capitals.py"],
    "invoicing/tax.py": ["tests/unit/invoicing/test_tax_split.py"],
    "billing/allocation.py": [
        "tests/unit/billing/test_billing_postings.py",
        "tests/unit/billing/test_billing_allocation.py",
    ],
    "billing/ledger.py": [
        "tests/unit/billing/test_billing_postings.py",
        "tests/unit/billing/test_billing_journal_entries.py",
    ],
    "billing/dunning/ladder.py": ["tests/unit/billing/test_dunning_ladder.py"],
    "dispatch/lifecycle.py": ["tests/unit/dispatch/test_lifecycle.py"],
    "dispatch/sla.py": ["tests/unit/dispatch/test_sla.py", "tests/unit/dispatch/test_dispatch_settings.py"],
    "dispatch/solver.py": ["tests/unit/dispatch/test_solver.py"],
    "billing/rules.py": [
        "tests/unit/billing/test_billing_charges.py",
        "tests/unit/billing/test_billing_late_fee.py",
        "tests/unit/billing/test_billing_laws.py",
        "tests/unit/billing/test_billing_metered_usage.py",
        "tests/unit/billing/test_billing_rule_edges.py",
        "tests/unit/billing/test_billing_texts.py",
        "tests/unit/billing/test_billing_validation.py",
    ],
    "billing/reconciliation/matching.py": [
        "tests/unit/reconciliation/test_matching.py",
        "tests/unit/reconciliation/test_matching_laws.py",
        "tests/unit/reconciliation/test_matching_outcomes.py",
    ],
}

# mutmut's exit codes of a mutant's test run (mutmut/stats.py): a failing test, a pytest internal error,
# a CPU-time limit and a type checker's refusal all kill it; 0 is a survivor; 5 and 33 mean no test
# reached the mutated function. Anything else (suspicious, segfault, not checked) is reported apart.
KILLED_CODES = {1, 3, 36, 24, -24, 152, 255, 37}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
MUTANT_NAME = re.compile(r"`([\w.ǁ]+__mutmut_\d+)`")


@dataclass(frozen=True)
class Score:
    module: str
    mutants: int
    killed: int
    equivalent: int
    survived: int
    no_tests: int
    other: int
    seconds: float | None

    @property
    def percent(self) -> float:
        return 100.0 * (self.killed + self.equivalent) / self.mutants if self.mutants else 0.0


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def workdir(module: str) -> Path:
    return WORK / slug(module)


def shared_settings() -> dict[str, object]:
    """The project's [tool.mutmut] and [tool.pytest.ini_options], checked against the table above."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(tool["mutmut"]["only_mutate"])
    if listed != set(OWN_TESTS):
        raise SystemExit(f"pyproject.toml [tool.mutmut] only_mutate and tests/mutation.py differ: {listed ^ set(OWN_TESTS)}")
    return tool


def toml_table(name: str, values: dict[str, object]) -> str:
    # Strings, booleans, numbers and lists of them are written alike in JSON and TOML.
    return f"[{name}]\n" + "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())


def prepare(module: str, tool: dict[str, object], *, fresh: bool) -> Path:
    """A working directory whose pyproject.toml mutates `module` only and selects its own tests."""
    directory = workdir(module)
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (*tool["mutmut"]["source_paths"], "tests"):
        link = directory / name
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    tests = [test for test in OWN_TESTS[module] if (ROOT / test).exists()]
    mutmut = dict(tool["mutmut"], only_mutate=[module], pytest_add_cli_args_test_selection=tests)
    (directory / "pyproject.toml").write_text(
        toml_table("tool.pytest.ini_options", tool["pytest"]["ini_options"]) + "\n" + toml_table("tool.mutmut", mutmut),
        encoding="utf-8",
    )
    return directory


def exit_codes(module: str) -> dict[str, int | None]:
    meta = workdir(module) / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    return json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]


def named_equivalents() -> set[str]:
    return set(MUTANT_NAME.findall(EQUIVALENTS.read_text(encoding="utf-8"))) if EQUIVALENTS.exists() else set()


def survivors(module: str) -> list[str]:
    return sorted(name for name, code in exit_codes(module).items() if code not in KILLED_CODES)


def run(module: str, tool: dict[str, object], *, only_survivors: bool) -> float | None:
    """Seconds the run took, None when there was nothing to run.

    With `only_survivors`, the last run's verdicts stand: mutmut first tests the mutants it has no verdict
    for (those of functions changed since), then retries by name every mutant that did not die."""
    if not any((ROOT / test).exists() for test in OWN_TESTS[module]):
        return None
    directory = prepare(module, tool, fresh=not only_survivors)
    started = time.monotonic()
    with (directory / "mutmut.log").open("w", encoding="utf-8") as log:
        _mutmut(directory, log)
        if only_survivors and (retry := survivors(module)):
            _mutmut(directory, log, *retry)
    seconds = time.monotonic() - started
    if not only_survivors:
        (directory / "seconds").write_text(f"{seconds:.1f}\n")
    return seconds


def _mutmut(directory: Path, log: TextIO, *mutant_names: str) -> None:
    mutmut = Path(sys.executable).parent / "mutmut"
    # The CI profile draws the same Hypothesis examples for every mutant, so a verdict never depends on luck.
    environment = dict(os.environ, COURTYARD_HYPOTHESIS_PROFILE="ci")
    finished = subprocess.run(
        [str(mutmut), "run", "--max-children", "1", *mutant_names],
        cwd=directory,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if finished.returncode != 0:
        print(f"{directory.name}: mutmut exited {finished.returncode}, see {directory / 'mutmut.log'}", file=sys.stderr)


def score(module: str, equivalents: set[str]) -> Score:
    codes = exit_codes(module)
    survived = {name for name, code in codes.items() if code in SURVIVED_CODES}
    seconds_file = workdir(module) / "seconds"
    return Score(
        module=module,
        mutants=len(codes),
        killed=sum(code in KILLED_CODES for code in codes.values()),
        equivalent=len(survived & equivalents),
        survived=len(survived - equivalents),
        no_tests=sum(code in NO_TESTS_CODES for code in codes.values()),
        other=sum(code not in KILLED_CODES | SURVIVED_CODES | NO_TESTS_CODES for code in codes.values()),
        seconds=float(seconds_file.read_text()) if seconds_file.exists() else None,
    )


def print_table(scores: list[Score]) -> None:
    print("| module | mutants | killed | equivalent | survived | no tests | other | score | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in scores:
        seconds = f"{s.seconds:.0f}" if s.seconds is not None else "–"
        print(
            f"| {s.module} | {s.mutants} | {s.killed} | {s.equivalent} | {s.survived} | {s.no_tests} | {s.other}"
            f" | {s.percent:.1f} % | {seconds} |"
        )


def stale_equivalents(modules: list[str], equivalents: set[str]) -> list[str]:
    """Named equivalents that no longer survive (a test kills them, or mutmut numbers them otherwise)."""
    surviving = {name for module in modules for name, code in exit_codes(module).items() if code in SURVIVED_CODES}
    prefixes = tuple(slug(module) + "." for module in modules)
    return sorted(name for name in equivalents if name.startswith(prefixes) and name not in surviving)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=list(OWN_TESTS), help="only this module (repeatable)")
    parser.add_argument("--survivors", action="store_true", help="rerun only what did not die in the last run")
    parser.add_argument("--report", action="store_true", help="print the table of the last runs, run nothing")
    parser.add_argument("--list-survivors", metavar="MODULE", choices=list(OWN_TESTS))
    arguments = parser.parse_args(argv)
    equivalents = named_equivalents()
    if arguments.list_survivors:
        for name in survivors(arguments.list_survivors):
            print(name + ("  (named equivalent)" if name in equivalents else ""))
        return 0
    tool = shared_settings()
    modules = arguments.module or list(OWN_TESTS)
    if not arguments.report:
        for module in modules:
            seconds = run(module, tool, only_survivors=arguments.survivors)
            print(f"{module}: " + ("nothing to run" if seconds is None else f"{seconds:.0f} s"), flush=True)
    scores = [score(module, equivalents) for module in modules]
    print_table(scores)
    for name in stale_equivalents(modules, equivalents):
        print(f"named as equivalent but not a survivor of the last run: {name}")
    return 0 if all(s.percent >= PASSING_SCORE for s in scores) else 1


if __name__ == "__main__":
    raise SystemExit(main())
