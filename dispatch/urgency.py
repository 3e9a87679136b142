"""Which repairs are urgent whatever the owner owes: leaks, power, gas, lifts and fire safety. A project
that holds back repairs for arrears (`billing.dunning.arrears`) never holds these.

A repair is urgent when its priority is URGENT, its trade is lifts or fire safety, or its description
names a leak, a power fault, gas, a lift or a fire hazard. The words err on letting a repair through:
taking a dripping tap for a leak costs nothing, refusing a burst pipe costs a flat.

Pure: standard library and the kernel only.
"""

from __future__ import annotations

from kernel.vocabulary import Category, Priority

__all__ = ["ALWAYS_URGENT_CATEGORIES", "is_urgent_repair"]

ALWAYS_URGENT_CATEGORIES = frozenset({Category.ELEVATOR, Category.FIRE_SAFETY})

_URGENT_WORDS = (
    # leaks
    "漏水", "渗水", "跑水", "爆管", "水管破", "水漫", "淹", "leak", "flood", "burst",
    # power
    "停电", "没电", "断电", "跳闸", "漏电", "触电", "火花", "power", "outage", "electric shock", "spark",
    # gas
    "燃气", "煤气", "天然气", "gas",
    # lifts
    "电梯", "困人", "lift", "elevator",
    # fire safety
    "消防", "着火", "起火", "火灾", "冒烟", "烟雾", "烟感", "fire", "smoke",
)


def is_urgent_repair(*, category: Category, priority: Priority, description: str) -> bool:
    """Whether a repair goes through whatever its reporter owes."""
    if Priority(priority) is Priority.URGENT or Category(category) in ALWAYS_URGENT_CATEGORIES:
        return True
    text = description.casefold()
    return any(word in text for word in _URGENT_WORDS)
