"""Request state in SQL (SQLite locally, PostgreSQL / Cloud SQL in production)."""
