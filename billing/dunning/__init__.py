"""Dunning (智能催缴): reminders before and on the due date, overdue notices, a firmer notice, then a
finance desk follow-up, as each project's policy says.

`ladder` is the pure core that decides, for a day, which level each account is due for; `policies` keeps
a project's policy as data; `passes` runs a pass (set-based reads, the core, the outbox); `send_check`
re-checks a queued message when the relay is about to send it; `holds` keeps disputed bills and payment
plans; `work_queue` is the finance desk's list of accounts to chase; `arrears` answers dispatch whether
an owner's arrears hold back a repair; `jobs` runs the daily passes from the worker.
"""
