"""The Gateway deployment: the FastAPI ingress (API v1 and the web page).

The FastAPI app is built once per replica by ``build_gateway_app`` (Serve calls it when the
replica starts), from the same composition root as every other edge.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from ray import serve

from actors.doorbell import DispatcherDoorbell
from vividly_ray.bootstrap import build_eraser, build_intake, build_store_urls, build_stores
from vividly_ray.observability.logs import configure_logging
from vividly_ray.service.http_api import ApiServices, create_app
from vividly_ray.settings import load_settings

WEB_DIR = Path(__file__).resolve().parent / "web"
log = logging.getLogger("vividly.gateway")


def _schema_ready(url: str) -> dict[str, str]:
    from vividly_ray.persistence.migrate import current_revision, head_revision

    try:
        current, head = current_revision(url), head_revision()
    except Exception as exc:  # unreachable database: the database check reports it
        return {"schema": f"unknown: {type(exc).__name__}"}
    if current != head:
        return {"schema": f"at revision {current}, the code needs {head}: run `vividly db upgrade`"}
    return {"schema": ""}


def _pools_ready() -> dict[str, str]:
    """Every deployment of this application is running (Serve's own view)."""
    try:
        context = serve.get_replica_context()
        status = serve.status().applications[context.app_name]
    except Exception as exc:  # the controller may be briefly unreachable
        return {"pools": f"unknown: {type(exc).__name__}"}
    problems = [
        f"{name} {deployment.status}"
        for name, deployment in status.deployments.items()
        if str(deployment.status) not in ("HEALTHY", "DeploymentStatus.HEALTHY")
    ]
    return {"pools": "; ".join(problems)}


def build_gateway_app() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_level)
    stores = build_stores(settings)
    if settings.auth_disabled:
        log.warning("AUTHENTICATION IS OFF: every caller acts as organization 'local'")
    doorbell = DispatcherDoorbell()
    doorbell.prime()
    intake = build_intake(settings, stores, doorbell)
    services = ApiServices(
        db=stores.db,
        requests=stores.requests,
        queue=stores.queue,
        accounts=stores.accounts,
        outbox=stores.outbox,
        blobs=stores.blobs,
        intake=intake,
        auth_disabled=settings.auth_disabled,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        max_body_bytes=settings.max_body_bytes,
        file_url_ttl_s=settings.file_url_ttl_s,
        web_dir=WEB_DIR,
        readiness=lambda: {**_schema_ready(settings.effective_database_url), **_pools_ready()},
        store_urls=build_store_urls(stores.blobs),
        store_url_ttl_s=settings.gcs_signed_url_ttl_s,
        eraser=build_eraser(settings, stores),
    )
    return create_app(services)


@serve.deployment(name="Gateway")
@serve.ingress(build_gateway_app)
class Gateway:
    """Holds the handles of the rest of the app, so one ``.bind()`` graph deploys it all."""

    def __init__(self, *handles: Any) -> None:
        self._handles = handles
