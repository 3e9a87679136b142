"""Community announcements (公告): drafted, published to an audience resolved into a snapshot of recipients,
read (one receipt per person, counted live), reminded to those who have not read them, recalled.

Pure cores: `model` (text and life of an announcement), `audience` (who it is for), `schedule` (when
reminders fall due). Use cases on the unit of work: `drafting`, `publishing`, `reading`, `reminders`;
the live counters in `live`; who may do what in `policy`. Messages go out through the notifications
outbox.
"""
