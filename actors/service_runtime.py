"""ServiceRuntime: Ray (started here or joined via RAY_ADDRESS) with the Serve app running.

``vividly serve`` runs it with the Gateway and the HTTP proxy; ``vividly generate`` runs the
same app without either (the Dispatcher is its ingress) and records its request through the
same intake, so the CLI and the service share one execution path: intake -> Dispatcher ->
pipeline on the pools.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import ray
from ray import serve

from actors.app import AppArgs, build_app
from vividly_ray.settings import Settings, settings_env

APP_NAME = "vividly"
# Serve's background cadence, set for a Ray started here (a cluster's pods get the same values
# from the ConfigMap, deploy/k8s/configmap.yaml). Serve's defaults run the controller's loop
# ten times a second and have every replica export its cached metrics ten times a second; on
# an idle 2-core stack that was 4.8 CPU-seconds in 20 s, a quarter of a core taken from the
# pools, and 3.1 with these (docs/performance.md). The cost: the controller notices a change
# (a replica up, a deployment updated) up to 0.4 s later, and Ray's replica metrics are at
# most a second old instead of a tenth, for dashboards scraped every 30 s. A value already in
# the environment wins.
SERVE_CADENCE = {
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000",
}

log = logging.getLogger("vividly.runtime")


def single_disk_backends(settings: Settings) -> list[str]:
    """The backends of ``settings`` that live in a folder of this machine, which the other
    nodes of a cluster do not see unless ``VIVIDLY_HOME`` is a volume they all mount."""
    found = []
    if not settings.database_url:
        found.append(f"the database is a SQLite file in {settings.home} (set DATABASE_URL)")
    if not settings.uses_gcs:
        found.append(
            f"files and the scene cache are in {settings.blob_dir} "
            "(set GCS_GENERATED_CONTENT_BUCKET)"
        )
    return found


class ServiceRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        http: tuple[str, int] | None = None,
        args: AppArgs | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        # Without HTTP (the command line, the benchmarks) the app has no Gateway to start.
        self.args = args or AppArgs.from_settings(settings, gateway=http is not None)
        self._started_ray = False
        self.startup_s = 0.0

    def start(self) -> ServiceRuntime:
        started = time.perf_counter()
        if not ray.is_initialized():
            # A laptop cluster needs no token; a joined cluster brings its own settings.
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            address = self.settings.ray_address or "local"
            if address == "local":
                # The workers of a Ray started here inherit this environment. A joined
                # cluster's workers inherit their own node's (a pod's ConfigMap), never ours.
                os.environ.update(settings_env(self.settings))
                for name, value in SERVE_CADENCE.items():
                    os.environ.setdefault(name, value)
            ray.init(
                address=address,
                num_cpus=self.settings.ray_num_cpus if address == "local" else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self._started_ray = True
        self._check_backends()
        if self.http is None:
            # The command line shows its own progress; Serve's start-up lines are noise there.
            logging.getLogger("ray.serve").setLevel(logging.WARNING)
            serve.start(proxy_location="Disabled")
            route: str | None = None
        else:
            host, port = self.http
            serve.start(http_options={"host": host, "port": port})
            route = "/"
        serve.run(build_app(self.args), name=APP_NAME, route_prefix=route, blocking=False)
        self._wait_healthy()
        self.startup_s = time.perf_counter() - started
        return self

    def _check_backends(self) -> None:
        """On a cluster of several nodes, warn about backends only this node's disk holds: a
        request recorded in a SQLite file here is never seen by a Dispatcher elsewhere."""
        listed: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
        nodes = len([node for node in listed if node.get("Alive")])
        found = single_disk_backends(self.settings)
        if nodes > 1 and found:
            log.warning(
                "%d Ray nodes, but %s: unless VIVIDLY_HOME is a volume every node mounts, "
                "the nodes will not see each other's requests and files",
                nodes,
                "; ".join(found),
            )

    def _wait_healthy(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status: Any = serve.status().applications.get(APP_NAME)
            if status is not None and str(status.status).endswith("RUNNING"):
                return
            if status is not None and str(status.status).endswith("DEPLOY_FAILED"):
                raise RuntimeError(f"the Serve application failed to deploy: {status.message}")
            time.sleep(0.2)
        raise TimeoutError("the Serve application did not become ready in time")

    def close(self) -> None:
        if self._started_ray:
            # Ray started here stops with every process it started, the replicas included.
            # Serve's own shutdown would first drain each replica gracefully (about 6 s on two
            # cores) for a cluster that is about to go; a request still running is fenced by
            # its lease and taken up by the next stack on the same database.
            self._started_ray = False
            ray.shutdown()
            return
        serve.shutdown()  # type: ignore[no-untyped-call]

    def __enter__(self) -> ServiceRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
