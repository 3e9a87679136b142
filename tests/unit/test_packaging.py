"""Every top-level package of the project is installed: the `courtyard` command (and CI's clean install)
imports from the installed packages, not from the checkout, so a domain package left out of
`[tool.setuptools.packages.find]` works in the tests that run from the checkout and fails in production."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_top_level_package_is_in_the_install() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "benchmarks"} and not path.parent.name.startswith(".")
    )
    assert "announcements" in packages and "billing" in packages
    assert [name for name in packages if not any(fnmatch.fnmatch(name, pattern) for pattern in include)] == []
