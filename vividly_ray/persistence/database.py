"""One engine and session factory per process, for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for several processes (WAL, foreign keys, busy wait).

    A plain ``postgresql://`` URL uses psycopg2 (the platform's secret holds that form);
    ``postgresql+psycopg://`` uses psycopg 3.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver's own transaction handling would start a transaction only at the
            # first write, after a SELECT read the row: a fencing check and its write would
            # not be one atomic step. Transactions are begun explicitly instead (below).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a committed write
            # survives any crash of the processes (what resuming relies on); only a power cut
            # of the machine itself may lose the last commits before the next checkpoint.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # SQLite has no row locks: IMMEDIATE takes the database's write lock up front, so a
            # read-check-write (a lease token, a state transition) cannot interleave with
            # another writer. Writes are short; readers wait at most that long.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(driver_url(url), pool_pre_ping=True, pool_size=5, max_overflow=10)


def driver_url(url: str) -> str:
    """A plain ``postgresql://`` URL means psycopg2 (the design's driver), whatever SQLAlchemy's
    own default for that scheme is."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.removeprefix("postgres://")
    return url


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Database:
    """The engine and its sessions; repositories share one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_schema(self) -> None:
        """Create missing tables directly (tests); deployments use the Alembic migrations."""
        from vividly_ray.persistence.orm import Base

        Base.metadata.create_all(self.engine)

    def ping(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
