"""The first `make run` / `make test` installs for minutes: it must say so, and let pip show progress;
later runs skip the install (the stamp file), so they stay quiet."""

from __future__ import annotations

from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _recipe(target: str) -> list[str]:
    lines = MAKEFILE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_the_install_step_announces_itself_and_shows_pip_progress() -> None:
    recipe = _recipe("$(STAMP)")
    install = next(line for line in recipe if "pip install" in line)
    assert recipe[0].startswith("@echo ") and "few minutes" in recipe[0]
    assert "--quiet" not in install.split() and "-q" not in install.split()
    assert recipe.index(install) < next(i for i, line in enumerate(recipe) if "touch $(STAMP)" in line)
    assert "run: $(STAMP)" in MAKEFILE.read_text() and "test: $(STAMP)" in MAKEFILE.read_text()
