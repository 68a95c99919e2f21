"""Shared fixtures. Tests never touch the user's ~/.vividly or ./.vividly."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def vividly_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VIVIDLY_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return home


POSTGRES_URL = os.environ.get(
    "VIVIDLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_schema(server_url: str = POSTGRES_URL) -> Iterator[str]:
    """A new schema in the real PostgreSQL, addressed through ``server_url``'s scheme and
    driver; dropped afterwards."""
    schema = f"vividly_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL for one test, dropped afterwards."""
    with fresh_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vividly.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def pubsub_host() -> Iterator[str]:
    """The real Pub/Sub emulator for the whole session; ``PUBSUB_EMULATOR_HOST`` points at it."""
    from tests.pubsub_emulator import emulator_available, pubsub_emulator

    if not emulator_available():
        pytest.skip("the Pub/Sub emulator needs gcloud and Java (`gcloud beta emulators pubsub`)")
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    with pubsub_emulator() as host:
        os.environ["PUBSUB_EMULATOR_HOST"] = host
        try:
            yield host
        finally:
            if previous is None:
                os.environ.pop("PUBSUB_EMULATOR_HOST", None)
            else:
                os.environ["PUBSUB_EMULATOR_HOST"] = previous
