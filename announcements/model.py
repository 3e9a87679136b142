"""An announcement's text and the steps of its life. Pure: standard library and the kernel only.

A DRAFT is written and rewritten; publishing takes it to PUBLISHED once; recalling takes a published one
to RECALLED once. Nothing goes back: a recalled announcement keeps its recipients and read receipts as
the record of what was said to whom.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.errors import Conflict
from kernel.validation import required_text
from kernel.vocabulary import AnnouncementStatus

__all__ = [
    "BODY_LENGTH",
    "SUMMARY_LENGTH",
    "TITLE_LENGTH",
    "DraftText",
    "check_may_edit",
    "check_may_publish",
    "check_may_recall",
    "draft_text",
    "summary_of",
]

TITLE_LENGTH = 100
BODY_LENGTH = 5_000
SUMMARY_LENGTH = 60
"""Characters of the body that travel in the message (SMS and WeChat templates cap their parameters)."""


@dataclass(frozen=True, slots=True)
class DraftText:
    title: str
    body: str


def draft_text(*, title: str | None, body: str | None) -> DraftText:
    """The title and body as stored: stripped, neither empty nor over its length."""
    return DraftText(
        title=required_text(title, "title", max_length=TITLE_LENGTH),
        body=required_text(body, "body", max_length=BODY_LENGTH),
    )


def summary_of(body: str) -> str:
    """What the message says besides the title: the body's first line, cut at `SUMMARY_LENGTH`."""
    first_line = body.strip().split("\n", 1)[0].strip()
    cut = first_line[:SUMMARY_LENGTH]
    return cut if cut == body.strip() else cut + "…"


def check_may_edit(status: AnnouncementStatus) -> None:
    if status is not AnnouncementStatus.DRAFT:
        raise Conflict("Only a draft can be changed; this announcement was published.", field="id")


def check_may_publish(status: AnnouncementStatus) -> None:
    if status is not AnnouncementStatus.DRAFT:
        raise Conflict("This announcement was published already.", field="id")


def check_may_recall(status: AnnouncementStatus) -> None:
    if status is AnnouncementStatus.DRAFT:
        raise Conflict("A draft has not been published: there is nothing to recall.", field="id")
    if status is AnnouncementStatus.RECALLED:
        raise Conflict("This announcement was recalled already.", field="id")
