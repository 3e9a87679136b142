"""GraphQL of invoicing: the tax configuration, owners' invoice titles, requesting and reading invoices."""
