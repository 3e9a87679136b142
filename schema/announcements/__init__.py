"""GraphQL of announcements (公告): the staff view, your own, writing and publishing them, live counters."""
