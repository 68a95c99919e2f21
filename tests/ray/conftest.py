"""The real Serve application on a local Ray cluster for the module, shut down afterwards."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from actors.follow import local_intake
from actors.service_runtime import ServiceRuntime
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.models import VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.service.intake import Intake
from vividly_ray.settings import Settings, load_settings

os.environ["RAY_AUTH_MODE"] = "disabled"


@dataclass
class Service:
    runtime: ServiceRuntime
    stores: Stores
    intake: Intake

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def submit(self, request: VideoRequest) -> str:
        record, _ = self.intake.record(request)
        return record.request_id

    def wait(self, request_id: str, timeout_s: float = 240) -> RequestRecord:
        """Until the request ends or waits for an answer."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.stores.requests.get(request_id)
            if record.status.is_terminal or record.status is RequestStatus.CLARIFICATION_NEEDED:
                return record
            time.sleep(0.1)
        raise TimeoutError(f"request {request_id} still {record.status} after {timeout_s} s")

    def run(self, request: VideoRequest) -> RequestRecord:
        return self.wait(self.submit(request))

    def download(self, record: RequestRecord, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        for name, key in record.request_metadata["files"].items():
            self.stores.blobs.get_file(key, out / name)
        return out


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vividly-home")


@pytest.fixture(scope="module")
def ray_settings(ray_home: Path) -> Settings:
    return load_settings(
        {},
        home=ray_home,
        ray_num_cpus=2,
        lease_seconds=6,
        retry_base_seconds=0.5,
        retention_sweep_s=5,
    )


@pytest.fixture(scope="module")
def service(ray_settings: Settings) -> Iterator[Service]:
    import ray

    if ray.is_initialized():
        ray.shutdown()
    saved = dict(os.environ)
    try:
        with ServiceRuntime(ray_settings) as runtime:
            stores, intake = local_intake(ray_settings)
            yield Service(runtime, stores, intake)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert not ray.is_initialized()
