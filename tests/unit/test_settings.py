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
