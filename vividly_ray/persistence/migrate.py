"""Schema migrations: bring a database to the newest revision and check it matches the models.

The Alembic script directory lives in ``persistence/migrations`` next to this module and is
configured here in code, so no alembic.ini is needed. Every function takes a SQLAlchemy URL:
``sqlite:///path.db``, ``postgresql://user@host/db`` (psycopg2) or
``postgresql+psycopg://user@host/db`` (psycopg 3). On PostgreSQL the tables and the
``alembic_version`` table land in the first schema of the connection's ``search_path``, for
example one given as ``?options=-csearch_path%3Dmyschema``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from vividly_ray.persistence.database import make_engine
from vividly_ray.persistence.orm import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _escape(value: str) -> str:
    """Protect ``%`` from the config parser's interpolation (URLs are often percent-encoded)."""
    return value.replace("%", "%%")


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", _escape(str(MIGRATIONS_DIR)))
    config.set_main_option("path_separator", "os")
    return config


def _engine(url: str) -> Engine:
    """The project's engine for ``url``: on SQLite with foreign keys enforced."""
    return make_engine(url)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the package's migrations, pointed at ``url``.

    It can be passed to any ``alembic.command`` function. To run on an existing connection,
    put it in ``config.attributes["connection"]``; otherwise ``env.py`` connects to ``url``.
    """
    config = _script_config()
    config.set_main_option("sqlalchemy.url", _escape(url))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` forward to ``revision``; already there is a no-op."""
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` back to ``revision`` (``"base"`` drops every table)."""
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if it was never migrated."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision in the package's migrations."""
    head = ScriptDirectory.from_config(_script_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions found in {MIGRATIONS_DIR}")
    return head


def schema_matches(url: str) -> bool:
    """Whether the database at ``url`` is at the newest revision."""
    return current_revision(url) == head_revision()


def schema_drift(url: str, metadata: MetaData | None = None) -> list[Any]:
    """How the live database at ``url`` differs from ``metadata`` (default: the ORM models).

    Returns Alembic's autogenerate diffs, such as ``("add_column", schema, table, column)``,
    read as the changes that would bring the database to the models; an empty list means they
    agree on tables, columns, types, nullability, indexes, unique constraints and foreign keys.
    """
    target = Base.metadata if metadata is None else metadata
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "target_metadata": target,
                    "render_as_batch": connection.dialect.name == "sqlite",
                },
            )
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()
