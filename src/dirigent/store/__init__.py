"""Persistence: the abstract store and its implementations (in-memory now; SQLite and PostgreSQL later)."""
