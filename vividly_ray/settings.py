"""One validated settings object, read from the environment (prefix ``VIVIDLY_``) at start-up.

Every missing or wrong value is reported at once in a single ``ConfigurationError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vividly_ray.domain.errors import ConfigurationError


class Settings(BaseSettings):
    """Embedded defaults need no account: SQLite, a local folder, Piper, the offline writer."""

    model_config = SettingsConfigDict(
        env_prefix="VIVIDLY_", extra="ignore", frozen=True, populate_by_name=True
    )

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
    part_seconds: float = Field(
        default=30.0,
        ge=2,
        le=600,
        description="longest speech of one piece of work: longer scenes are cut into parts "
        "(finer on a larger Narrator pool)",
    )
    first_part_seconds: float = Field(
        default=4.0, ge=1, le=600, description="the same for the first scene (the stream's start)"
    )
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
    # A pipeline mostly waits on the pools; enough of them at once keep the pools busy while
    # other requests write their scripts and assemble their videos.
    pipelines_per_dispatcher: int = Field(default=4, ge=1, le=64)
    # The intakes ring a Dispatcher for each request they record, so the poll only finds what
    # no one rang for (a retry come due, an expired lease, a lost ring); each idle pass is a
    # claim query, which at four a second was a tenth of the Dispatcher's CPU.
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Privacy: how long a finished request (question, student id, video) is kept.
    retention_days: float = Field(
        default=30.0, ge=0, le=3650, description="erase requests this long after they end; 0 keeps"
    )
    retention_sweep_s: float = Field(default=300.0, ge=5, le=86_400)
    # Webhooks.
    webhook_allow_private: bool = Field(
        default=False, description="allow callback URLs on loopback/private networks"
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    # Google Cloud, with the platform's variable names. Empty means: not used.
    google_cloud_project: str = Field(default="", validation_alias="GOOGLE_CLOUD_PROJECT")
    gcs_generated_content_bucket: str = Field(
        default="",
        validation_alias="GCS_GENERATED_CONTENT_BUCKET",
        description="bucket for delivered videos and scene artifacts (empty: local folder)",
    )
    gcs_oer_content_bucket: str = Field(
        default="",
        validation_alias="GCS_OER_CONTENT_BUCKET",
        description="bucket whose documents are added to the library",
    )
    gcs_oer_prefix: str = Field(default="", description="folder inside the OER bucket")
    gcs_temp_files_bucket: str = Field(
        default="",
        validation_alias="GCS_TEMP_FILES_BUCKET",
        description="bucket for the scene cache and intermediate files (default: content bucket)",
    )
    gcs_signer_email: str = Field(
        default="",
        description="service account that signs URLs when no key file exists (Workload Identity)",
    )
    gcs_signed_url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    pubsub_subscription: str = Field(
        default="",
        validation_alias="PUBSUB_SUBSCRIPTION",
        description="subscription to take requests from (name or projects/P/subscriptions/S)",
    )
    pubsub_results_topic: str = Field(
        default="",
        validation_alias="PUBSUB_RESULTS_TOPIC",
        description="topic that receives completed/failed/clarification/cancelled events",
    )
    pubsub_organization: str = Field(
        default="platform", description="organization of messages that name none"
    )
    pubsub_max_messages: int = Field(
        default=20, ge=1, le=1000, description="messages held at once (flow control)"
    )
    pubsub_max_lease_extension_s: int = Field(
        default=30, ge=10, le=600, description="longest lease extension of a held message"
    )
    script_writer: str = Field(default="offline", pattern="^(offline|gemini|openai)$")
    vertex_location: str = Field(default="us-central1", validation_alias="VERTEX_LOCATION")
    vertex_model: str = Field(default="gemini-2.5-flash", validation_alias="VERTEX_MODEL")
    vertex_base_url: str = Field(default="", description="override of the Vertex AI endpoint")
    openai_base_url: str = Field(default="", description="OpenAI-compatible server, .../v1")
    openai_model: str = Field(default="")
    openai_api_key: SecretStr = Field(default=SecretStr(""))
    google_access_token: SecretStr = Field(
        default=SecretStr(""),
        description="a static OAuth token for Vertex AI and Cloud TTS instead of Application "
        "Default Credentials (short-lived: one-off runs and tests against stubs)",
    )
    narrator: str = Field(
        default="piper",
        pattern="^(piper|google|silent)$",
        description="piper (the bundled voice), google (Cloud Text-to-Speech, Piper as the "
        "fallback) or silent (silence paced like speech: load tests and benchmarks only)",
    )
    tts_voice: str = Field(default="en-US-Chirp3-HD-Charon", validation_alias="GOOGLE_TTS_VOICE")
    tts_language: str = Field(default="en-US", validation_alias="GOOGLE_TTS_LANGUAGE")
    tts_endpoint: str = Field(default="", description="override of the Cloud TTS endpoint")
    breaker_failures: int = Field(default=3, ge=1, le=100)
    breaker_open_seconds: float = Field(default=60.0, gt=0, le=3600)
    prices: str = Field(
        default="",
        description="JSON price table overriding the defaults (see vividly_ray.costs)",
    )

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

    @field_validator("prices")
    @classmethod
    def _price_table(cls, value: str) -> str:
        from vividly_ray.domain.costs import PriceTable

        try:
            PriceTable.from_json(value)
        except ConfigurationError as exc:
            raise ValueError(exc.problems[0].removeprefix("VIVIDLY_PRICES: ")) from None
        return value

    @property
    def uses_gcs(self) -> bool:
        return bool(self.gcs_generated_content_bucket)

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
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[_variable_name(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


# What a cloud deployment cannot run without (ENVIRONMENT=production or staging).
CLOUD_REQUIRED = (
    "DATABASE_URL",
    "GOOGLE_CLOUD_PROJECT",
    "GCS_GENERATED_CONTENT_BUCKET",
    "GCS_OER_CONTENT_BUCKET",
    "GCS_TEMP_FILES_BUCKET",
    "PUBSUB_SUBSCRIPTION",
    "PUBSUB_RESULTS_TOPIC",
)
CLOUD_ENVIRONMENTS = frozenset({"production", "staging"})


def requirement_problems(values: Mapping[str, str]) -> list[str]:
    """Variables that are missing for the configuration ``values`` describes (raw variables,
    so they can be checked even when other values failed to parse)."""

    def given(name: str) -> bool:
        return bool(values.get(name, "").strip())

    problems: list[str] = []
    environment = values.get("ENVIRONMENT", "local").strip().lower()
    if environment in CLOUD_ENVIRONMENTS:
        for name in CLOUD_REQUIRED:
            if not given(name):
                problems.append(f"{name}: required when ENVIRONMENT={environment}")
        url = values.get("DATABASE_URL", "")
        if url and not url.startswith("postgresql"):
            problems.append(f"DATABASE_URL: must be PostgreSQL when ENVIRONMENT={environment}")
    writer = values.get("VIVIDLY_SCRIPT_WRITER", "offline").strip().lower()
    if writer == "gemini" and not given("GOOGLE_CLOUD_PROJECT"):
        problems.append("GOOGLE_CLOUD_PROJECT: required when VIVIDLY_SCRIPT_WRITER=gemini")
    if writer == "openai":
        for name in ("VIVIDLY_OPENAI_BASE_URL", "VIVIDLY_OPENAI_MODEL"):
            if not given(name):
                problems.append(f"{name}: required when VIVIDLY_SCRIPT_WRITER=openai")
    for name in ("PUBSUB_SUBSCRIPTION", "PUBSUB_RESULTS_TOPIC"):
        short = given(name) and not values[name].strip().startswith("projects/")
        if short and not given("GOOGLE_CLOUD_PROJECT") and environment not in CLOUD_ENVIRONMENTS:
            problems.append(
                f"GOOGLE_CLOUD_PROJECT: required to resolve {name}={values[name].strip()!r} "
                "(or give the full projects/.../ path)"
            )
    return problems


def _raw_values(source: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, str]:
    values = {key: value for key, value in source.items() if isinstance(value, str)}
    for field, value in overrides.items():
        values[_variable_name(field)] = str(value)
    return values


def load_settings(
    env: dict[str, str] | None = None, *, check_requirements: bool = True, **overrides: Any
) -> Settings:
    """Read settings; on any problem raise ConfigurationError naming every bad variable.

    ``check_requirements=False`` skips what a deployment needs (``requirement_problems``), for
    ``vividly doctor``, which reports those itself and still checks what is configured.
    """
    source = dict(os.environ if env is None else env)
    problems: list[str] = []
    settings: Settings | None = None
    try:
        if env is None:
            settings = Settings(**overrides)
        else:
            previous = dict(os.environ)
            os.environ.clear()
            os.environ.update(source)
            try:
                settings = Settings(**overrides)
            finally:
                os.environ.clear()
                os.environ.update(previous)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "settings"
            variable = _variable_name(name)
            shown = "***" if "key" in name else repr(err.get("input"))
            problems.append(f"{variable}: {err['msg']} (got {shown})")
    if check_requirements:
        problems.extend(requirement_problems(_raw_values(source, overrides)))
    if problems or settings is None:
        raise ConfigurationError(problems)
    return settings


def _variable_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    if field.isupper():
        return field
    return "VIVIDLY_" + field.upper()
