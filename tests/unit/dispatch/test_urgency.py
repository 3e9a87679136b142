"""Which repairs go through whatever the owner owes."""

from __future__ import annotations

import pytest

from dispatch.urgency import is_urgent_repair
from kernel.vocabulary import Category, Priority


@pytest.mark.parametrize(
    ("category", "priority", "description"),
    [
        (Category.PLUMBING, Priority.HIGH, "卫生间水管漏水"),
        (Category.ELECTRICAL, Priority.NORMAL, "家里停电了"),
        (Category.APPLIANCE, Priority.NORMAL, "厨房有燃气味"),
        (Category.ELEVATOR, Priority.LOW, "电梯按钮不灵"),
        (Category.FIRE_SAFETY, Priority.LOW, "灭火器过期"),
        (Category.GENERAL, Priority.URGENT, "有人受伤"),
        (Category.GENERAL, Priority.NORMAL, "Smoke in the stairwell"),
    ],
)
def test_leaks_power_gas_lifts_and_fire_safety_are_urgent(category: Category, priority: Priority, description: str) -> None:
    assert is_urgent_repair(category=category, priority=priority, description=description)


@pytest.mark.parametrize(
    "description", ["卧室门锁坏了", "墙面掉漆", "纱窗破了", "The kitchen cupboard door is loose"]
)
def test_everyday_repairs_are_not(description: str) -> None:
    assert not is_urgent_repair(category=Category.GENERAL, priority=Priority.NORMAL, description=description)
