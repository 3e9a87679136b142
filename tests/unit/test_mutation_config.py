"""`make mutation` stays runnable: its modules, their own tests and the named equivalents agree."""

from __future__ import annotations

from tests import mutation
from tests.unit.test_layering import PURE_CORES


def test_every_mutated_module_is_a_pure_core_with_its_own_unit_tests() -> None:
    mutation.shared_settings()  # refuses a [tool.mutmut] only_mutate that differs from the table
    for module, tests in mutation.OWN_TESTS.items():
        assert module in PURE_CORES
        assert tests and all((mutation.ROOT / test).is_file() for test in tests), module


def test_every_named_equivalent_belongs_to_a_mutated_module() -> None:
    prefixes = tuple(mutation.slug(module) + ".x" for module in mutation.OWN_TESTS)

    assert [name for name in mutation.named_equivalents() if not name.startswith(prefixes)] == []
