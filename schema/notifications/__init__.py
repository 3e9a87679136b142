"""GraphQL of notifications: your own inbox (query, live subscription, marking read), your choices and
WeChat consents, and the project templates administrators write and preview."""
