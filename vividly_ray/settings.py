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
    encoder_cpus: float = Field(default=0.5, gt=0, le=64, description="Ray CPUs per encode task")
    encoder_threads: int = Field(default=1, ge=1, le=64)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

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
    aliases = {"database_url": "DATABASE_URL", "ray_address": "RAY_ADDRESS"}
    if field in aliases:
        return aliases[field]
    if field.isupper():
        return field
    return "VIVIDLY_" + field.upper()
