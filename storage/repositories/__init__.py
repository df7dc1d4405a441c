"""Repositories: rows in, domain objects out, one module per aggregate. Written once for SQLite and PostgreSQL."""
