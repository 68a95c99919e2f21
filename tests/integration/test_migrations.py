"""The Alembic migrations against real SQLite and PostgreSQL: they build exactly the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Column, MetaData, String, inspect, select, text
from sqlalchemy.orm import Session

from vividly_ray.persistence.database import make_engine
from vividly_ray.persistence.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    schema_drift,
    schema_matches,
    upgrade,
)
from vividly_ray.persistence.orm import Base, Organization

pytestmark = pytest.mark.integration

MODEL_TABLES = set(Base.metadata.tables)


def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _models_plus_column() -> MetaData:
    """A copy of the models with one column the migrations do not create."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["organizations"].append_column(
        Column("display_name", String(64), nullable=True)
    )
    return metadata


def _add_organization(url: str, organization_id: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.add(Organization(organization_id=organization_id, webhook_secret="s3cret"))
    finally:
        engine.dispose()


def _organization_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Organization.organization_id)))
    finally:
        engine.dispose()


def test_empty_database_has_no_revision(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert not schema_matches(database_url)


def test_upgrade_to_head_builds_exactly_the_models(database_url: str) -> None:
    upgrade(database_url)

    assert schema_drift(database_url) == []
    assert current_revision(database_url) == head_revision()
    assert schema_matches(database_url)
    assert _table_names(database_url) == MODEL_TABLES | {"alembic_version"}


def test_alembic_command_connects_from_the_url_alone(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")

    assert current_revision(database_url) == head_revision()
    assert schema_drift(database_url) == []


def test_drift_reports_a_column_the_migrations_lack(database_url: str) -> None:
    upgrade(database_url)

    diff = schema_drift(database_url, _models_plus_column())

    assert [(d[0], d[2], d[3].name) for d in diff] == [
        ("add_column", "organizations", "display_name")
    ]


def test_drift_reports_a_missing_index(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_content_requests_status"))
    finally:
        engine.dispose()

    diff = schema_drift(database_url)

    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_content_requests_status")]


def test_upgrading_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    _add_organization(database_url, "org-1")

    upgrade(database_url)

    assert current_revision(database_url) == head_revision()
    assert _organization_ids(database_url) == ["org-1"]
    assert schema_drift(database_url) == []


def test_downgrade_to_base_and_back(database_url: str) -> None:
    upgrade(database_url)

    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    assert _table_names(database_url) <= {"alembic_version"}

    upgrade(database_url)
    assert schema_drift(database_url) == []


def test_sqlite_enforces_foreign_keys_after_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organizations (organization_id, webhook_secret, created_at) "
                    "VALUES ('org-1', 's', '2025-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_keys (key_id, organization_id, key_hash, created_at) "
                    "VALUES ('k1', 'org-1', 'h1', '2025-01-01 00:00:00')"
                )
            )
            conn.execute(text("DELETE FROM organizations WHERE organization_id = 'org-1'"))
            remaining = conn.execute(text("SELECT count(*) FROM api_keys")).scalar_one()
    finally:
        engine.dispose()
    assert remaining == 0


@pytest.mark.parametrize(
    ("scheme", "driver"),
    [
        ("postgresql", "psycopg2"),
        ("postgresql+psycopg2", "psycopg2"),
        ("postgresql+psycopg", "psycopg"),
    ],
)
def test_postgresql_url_forms_respect_their_search_path(
    postgres_url: str, scheme: str, driver: str
) -> None:
    """The plain ``postgresql://`` form (the platform's secret) means psycopg2, as the design
    says, whatever SQLAlchemy's own default; explicit drivers are kept."""
    derived = postgres_url.replace("postgresql+psycopg://", f"{scheme}://", 1)
    assert derived.startswith(f"{scheme}://")
    server = derived.split("?", 1)[0]
    schema = f"vividly_plain_{uuid.uuid4().hex[:10]}"
    url = f"{server}?options=-csearch_path%3D{schema}"

    admin = make_engine(server)
    assert admin.dialect.driver == driver
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade(url)
        assert current_revision(url) == head_revision()
        assert schema_drift(url) == []

        created = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
        engine = make_engine(url)
        try:
            assert engine.dialect.driver == driver
            with Session(engine) as session, session.begin():
                session.add(
                    Organization(organization_id="org-p", webhook_secret="k", created_at=created)
                )
            with Session(engine) as session:
                row = session.get(Organization, "org-p")
                assert row is not None
                assert row.webhook_secret == "k"
                assert row.created_at == created
        finally:
            engine.dispose()

        with admin.connect() as conn:
            tables = set(
                conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": schema},
                ).scalars()
            )
        assert tables == MODEL_TABLES | {"alembic_version"}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
