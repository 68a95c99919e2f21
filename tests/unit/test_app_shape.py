"""What a stack starts: the deployments of each kind of app, and what each replica imports.

A local stack's start-up is mostly its worker processes importing Ray, Serve and the package,
so a replica left out, or a module a replica never needs, is start-up time saved.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from actors.app import AppArgs, build_app
from vividly_ray.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def deployments(args: AppArgs) -> tuple[str, set[str]]:
    """The ingress deployment's name and every deployment's, built without a cluster."""
    from ray.serve._private.build_app import build_app as build_graph

    built = build_graph(build_app(args), name="vividly")
    return built.ingress_deployment_name, {d.name for d in built.deployments}


def test_the_http_app_has_the_gateway_as_its_ingress() -> None:
    ingress, names = deployments(AppArgs())
    assert ingress == "Gateway"
    assert names == {
        "Gateway",
        "Dispatcher",
        "Tracker",
        "Narrator",
        "SegmentEncoder",
        "ScriptWriter",
    }


def test_an_app_without_http_leaves_the_gateway_out(tmp_path: Path) -> None:
    args = AppArgs.from_settings(load_settings({}, home=tmp_path), gateway=False)
    assert args.gateway is False
    ingress, names = deployments(args)
    assert ingress == "Dispatcher"
    assert names == {"Dispatcher", "Tracker", "Narrator", "SegmentEncoder", "ScriptWriter"}


def test_pubsub_keeps_the_gateway_its_bridge_is_deployed_beside(tmp_path: Path) -> None:
    settings = load_settings(
        {}, home=tmp_path, google_cloud_project="p", pubsub_subscription="requests-sub"
    )
    args = AppArgs.from_settings(settings, gateway=False)
    assert args.gateway is True and args.pubsub_bridge is True
    assert {"Gateway", "PubSubBridge"} <= deployments(args)[1]
    with pytest.raises(ValidationError, match="keep gateway on"):
        AppArgs(gateway=False, pubsub_bridge=True)


def imported_by(module: str) -> dict[str, Any]:
    """The heavy libraries a fresh interpreter holds after importing ``module``."""
    code = (
        "import json, sys\n"
        f"import {module}\n"
        "heavy = ('sqlalchemy', 'fastapi', 'PIL', 'onnxruntime', 'av', 'rank_bm25')\n"
        "print(json.dumps({name: name in sys.modules for name in heavy}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_a_pool_replica_does_not_import_the_database_layer() -> None:
    # The Narrator and SegmentEncoder replicas load this module; only the Dispatcher, the
    # Tracker and the Gateway use the database.
    loaded = imported_by("actors.pools")
    assert loaded["sqlalchemy"] is False, loaded
    assert loaded["onnxruntime"] is False and loaded["av"] is False, loaded


def test_the_check_sees_an_import() -> None:
    assert imported_by("actors.tracker")["sqlalchemy"] is True
