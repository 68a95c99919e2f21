"""One validated settings object, read from the environment (prefix ``VIVIDLY_``) at start-up.

Every missing or wrong value is reported at once in a single ``ConfigurationError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vividly_ray.domain.errors import ConfigurationError


class Settings(BaseSettings):
    """Embedded defaults need no account: SQLite, a local folder, Piper, the offline writer."""

    model_config = SettingsConfigDict(env_prefix="VIVIDLY_", extra="ignore", frozen=True)

    home: Path = Field(
        default=Path(".vividly"), description="data folder for the embedded defaults"
    )
    database_url: str = Field(
        default="",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; empty means a SQLite file under home",
    )
    ray_address: str = Field(default="", validation_alias="RAY_ADDRESS")
    ray_num_cpus: int | None = Field(default=None, ge=1, le=1024)
    narrator_pool_size: int = Field(default=2, ge=1, le=64)
    narrator_threads: int = Field(default=1, ge=1, le=64)
    narrator_cpus: float = Field(default=0.5, gt=0, le=64, description="Ray CPUs per narrator")
    encoder_cpus: float = Field(
        default=0.5, gt=0, le=64, description="Ray CPUs per segment encoder"
    )
    encoder_threads: int = Field(default=1, ge=1, le=64)
    environment: str = Field(default="local", validation_alias="ENVIRONMENT")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    auto_migrate: bool = Field(default=True, description="apply database migrations at start-up")
    # Service: who may call it and how much it accepts.
    auth_disabled: bool = Field(
        default=False, description="local development only: every caller is organization 'local'"
    )
    max_queue_depth: int = Field(default=200, ge=1, le=1_000_000)
    rate_limit_per_minute: int = Field(default=120, ge=1, le=1_000_000)
    max_body_bytes: int = Field(default=16_384, ge=1024, le=10_000_000)
    file_url_ttl_s: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    # Durable dispatch.
    lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    max_attempts: int = Field(default=3, ge=1, le=20)
    retry_base_seconds: float = Field(default=2.0, ge=0, le=600)
    pipelines_per_dispatcher: int = Field(default=2, ge=1, le=64)
    poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # Webhooks.
    webhook_allow_private: bool = Field(
        default=False, description="allow callback URLs on loopback/private networks"
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Ray workers may start in another folder: every path handed to them is absolute.
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @property
    def blob_dir(self) -> Path:
        """The local BlobStore: delivered files and the scene cache."""
        return self.home / "blobs"

    @property
    def library_dir(self) -> Path:
        return self.home / "library"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'vividly.db').resolve()}"


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that reproduces ``settings`` in another process (a Ray worker)."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None or (name in ("database_url", "ray_address") and not value):
            continue
        env[_variable_name(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings; on any problem raise ConfigurationError naming every bad variable."""
    source = dict(os.environ if env is None else env)
    try:
        if env is None:
            return Settings(**overrides)
        previous = dict(os.environ)
        os.environ.clear()
        os.environ.update(source)
        try:
            return Settings(**overrides)
        finally:
            os.environ.clear()
            os.environ.update(previous)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "settings"
            variable = _variable_name(name)
            problems.append(f"{variable}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigurationError(problems) from None


def _variable_name(field: str) -> str:
    aliases = {
        "database_url": "DATABASE_URL",
        "ray_address": "RAY_ADDRESS",
        "environment": "ENVIRONMENT",
    }
    if field in aliases:
        return aliases[field]
    if field.isupper():
        return field
    return "VIVIDLY_" + field.upper()
