from __future__ import annotations

import pytest

from vividly_ray.domain.errors import ConfigurationError
from vividly_ray.settings import load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.narrator_pool_size >= 1


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(
            {
                "VIVIDLY_NARRATOR_POOL_SIZE": "0",
                "DATABASE_URL": "mysql://somewhere/db",
                "VIVIDLY_ENCODER_THREADS": "many",
            }
        )
    text = str(caught.value)
    assert len(caught.value.problems) == 3
    for variable in ("VIVIDLY_NARRATOR_POOL_SIZE", "DATABASE_URL", "VIVIDLY_ENCODER_THREADS"):
        assert variable in text


def test_postgres_url_is_accepted() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert load_settings({"DATABASE_URL": url}).effective_database_url == url


def test_a_cloud_environment_names_every_missing_variable_with_the_bad_values() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(
            {
                "ENVIRONMENT": "production",
                "DATABASE_URL": "sqlite:///x.db",
                "GCS_GENERATED_CONTENT_BUCKET": "videos",
                "VIVIDLY_POLL_SECONDS": "soon",
            }
        )
    named = {problem.split(":")[0] for problem in caught.value.problems}
    assert named == {
        "VIVIDLY_POLL_SECONDS",
        "GOOGLE_CLOUD_PROJECT",
        "GCS_OER_CONTENT_BUCKET",
        "GCS_TEMP_FILES_BUCKET",
        "PUBSUB_SUBSCRIPTION",
        "PUBSUB_RESULTS_TOPIC",
        "DATABASE_URL",  # set, but not PostgreSQL
    }


def test_platform_names_are_read_without_a_prefix() -> None:
    settings = load_settings(
        {
            "GOOGLE_CLOUD_PROJECT": "proj",
            "GCS_GENERATED_CONTENT_BUCKET": "videos",
            "PUBSUB_SUBSCRIPTION": "intake",
            "VERTEX_MODEL": "gemini-2.5-pro",
            "GOOGLE_TTS_VOICE": "en-US-Neural2-F",
        }
    )
    assert settings.uses_gcs and settings.pubsub_subscription == "intake"
    assert (settings.vertex_model, settings.tts_voice) == ("gemini-2.5-pro", "en-US-Neural2-F")


def test_a_model_writer_needs_its_endpoint() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"VIVIDLY_SCRIPT_WRITER": "openai"})
    assert {p.split(":")[0] for p in caught.value.problems} == {
        "VIVIDLY_OPENAI_BASE_URL",
        "VIVIDLY_OPENAI_MODEL",
    }
    with pytest.raises(ConfigurationError, match="GOOGLE_CLOUD_PROJECT"):
        load_settings({"VIVIDLY_SCRIPT_WRITER": "gemini"})


def test_a_short_subscription_name_needs_the_project_and_a_full_path_does_not() -> None:
    with pytest.raises(ConfigurationError, match="GOOGLE_CLOUD_PROJECT"):
        load_settings({"PUBSUB_SUBSCRIPTION": "intake"})
    full = "projects/p/subscriptions/intake"
    assert load_settings({"PUBSUB_SUBSCRIPTION": full}).pubsub_subscription == full


def test_secrets_are_not_echoed_in_problems_and_are_exported_to_workers() -> None:
    from vividly_ray.settings import settings_env

    with pytest.raises(ConfigurationError) as caught:
        load_settings({"VIVIDLY_OPENAI_API_KEY": "sk-secret", "VIVIDLY_LEASE_SECONDS": "x"})
    assert "sk-secret" not in str(caught.value)
    settings = load_settings({"VIVIDLY_OPENAI_API_KEY": "sk-secret"})
    assert "sk-secret" not in repr(settings)
    assert settings_env(settings)["VIVIDLY_OPENAI_API_KEY"] == "sk-secret"
