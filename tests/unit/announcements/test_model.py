"""An announcement's text and its life: drafts are edited, published once, recalled once."""

from __future__ import annotations

import pytest

from announcements.model import (
    BODY_LENGTH,
    SUMMARY_LENGTH,
    TITLE_LENGTH,
    check_may_edit,
    check_may_publish,
    check_may_recall,
    draft_text,
    summary_of,
)
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import AnnouncementStatus

DRAFT, PUBLISHED, RECALLED = AnnouncementStatus.DRAFT, AnnouncementStatus.PUBLISHED, AnnouncementStatus.RECALLED


def test_a_draft_keeps_its_text_stripped() -> None:
    text = draft_text(title="  停水通知 ", body="\n11月5日 9:00–17:00 A1栋停水检修。\n")

    assert (text.title, text.body) == ("停水通知", "11月5日 9:00–17:00 A1栋停水检修。")


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [("", "正文", "title"), ("标题", "  ", "body"), ("长" * (TITLE_LENGTH + 1), "正文", "title"), ("标题", "长" * (BODY_LENGTH + 1), "body")],
)
def test_empty_or_overlong_text_is_refused_naming_its_field(title: str, body: str, field: str) -> None:
    with pytest.raises(BadInput) as refused:
        draft_text(title=title, body=body)

    assert refused.value.field == field


def test_a_short_body_is_its_own_summary_and_a_long_one_is_cut_at_its_first_line_or_length() -> None:
    assert summary_of("今日停水。") == "今日停水。"
    assert summary_of("第一行\n第二行") == "第一行…"
    long = "水" * (SUMMARY_LENGTH + 10)
    assert summary_of(long) == "水" * SUMMARY_LENGTH + "…"


def test_only_a_draft_is_edited_or_published_and_only_a_published_one_recalled() -> None:
    check_may_edit(DRAFT)
    check_may_publish(DRAFT)
    check_may_recall(PUBLISHED)
    for status in (PUBLISHED, RECALLED):
        with pytest.raises(Conflict):
            check_may_edit(status)
        with pytest.raises(Conflict):
            check_may_publish(status)
    for status in (DRAFT, RECALLED):
        with pytest.raises(Conflict):
            check_may_recall(status)
