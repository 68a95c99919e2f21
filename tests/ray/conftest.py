"""A real local Ray cluster for the module, shut down afterwards so nothing outlives the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from actors.runtime import LocalRuntime

from vividly_ray.settings import Settings, load_settings

os.environ["RAY_AUTH_MODE"] = "disabled"


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vividly-home")


@pytest.fixture(scope="module")
def ray_settings(ray_home: Path) -> Settings:
    return load_settings({}, home=ray_home, ray_num_cpus=2)


@pytest.fixture(scope="module")
def runtime(ray_settings: Settings) -> Iterator[LocalRuntime]:
    import ray

    if ray.is_initialized():
        ray.shutdown()
    with LocalRuntime(ray_settings) as started:
        yield started
    assert not ray.is_initialized()
