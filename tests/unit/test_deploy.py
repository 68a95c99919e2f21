"""The container image definition parses with Docker's own parser and matches the project."""

from __future__ import annotations

import tomllib
from pathlib import Path

import dockerfile

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "deploy" / "Dockerfile")))


def test_dockerfile_parses_and_uses_the_supported_python() -> None:
    commands = _instructions()
    assert commands[0].cmd == "FROM"
    assert commands[0].value[0].startswith("python:3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"]


def test_every_copied_path_exists_in_the_repository() -> None:
    for command in _instructions():
        if command.cmd == "COPY":
            *sources, _destination = command.value
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_image_runs_the_projects_console_script_as_a_non_root_user() -> None:
    commands = {c.cmd: c.value for c in _instructions()}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert commands["ENTRYPOINT"][0] in scripts
    assert commands["USER"][0] not in ("root", "0")


def test_serve_config_matches_rays_schema_and_the_app_builder() -> None:
    import yaml
    from ray.serve.schema import ServeDeploySchema

    from actors.app import AppArgs

    config = yaml.safe_load((ROOT / "deploy" / "serve_config.yaml").read_text())
    schema = ServeDeploySchema.model_validate(config)
    (app,) = schema.applications
    assert app.import_path == "actors.app:build_app"
    module, _, name = app.import_path.partition(":")
    import importlib

    assert callable(getattr(importlib.import_module(module), name))
    args = AppArgs.model_validate(app.args)
    assert args.narrator_cpus * args.narrator_max_replicas < 2  # fits two cores with the rest


def test_the_app_builder_refuses_unknown_sizes() -> None:
    import pydantic
    import pytest

    from actors.app import AppArgs

    with pytest.raises(pydantic.ValidationError):
        AppArgs.model_validate({"narrator_cpus": 0})
