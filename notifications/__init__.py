"""Notifications: the transactional outbox every domain sends through (e-mail, SMS, WeChat, the in-app
inbox), its relay, the pure rules that pace and route messages, and the owners' own inbox and choices."""
