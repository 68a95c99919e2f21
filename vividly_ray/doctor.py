"""``vividly doctor``: every setting and every configured backend checked in one run.

First the settings: every missing or wrong variable becomes its own failed row (a cloud
deployment that lacks three variables learns all three at once). Then each backend the settings
configure is checked for real and in parallel, each within a time limit: the database and its
schema, the buckets, the subscription and topic, the script-writing model, the voice, ffmpeg.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from vividly_ray.domain.errors import ConfigurationError
from vividly_ray.settings import Settings, load_settings

CHECK_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Check:
    """One row of the report: what was checked, against what, and the verdict."""

    name: str
    target: str
    ok: bool
    detail: str


Probe = Callable[[], str]  # returns what it found (the "ok" detail); raises on failure


def diagnose(env: Mapping[str, str] | None = None) -> list[Check]:
    """The whole report: settings first, then one row per configured backend."""
    source = dict(os.environ if env is None else env)
    rows: list[Check] = []
    try:
        settings: Settings | None = load_settings(source)
        rows.append(Check("settings", "environment", True, "every setting is valid"))
    except ConfigurationError as exc:
        rows.extend(_setting_rows(exc.problems))
        settings = _lenient(source)
    if settings is None:
        rows.append(Check("backends", "-", False, "not checked: fix the settings above first"))
        return rows
    rows.extend(run_probes(backend_probes(settings)))
    return rows


def _setting_rows(problems: tuple[str, ...]) -> list[Check]:
    rows = []
    for problem in problems:
        variable, _, reason = problem.partition(": ")
        rows.append(Check("setting", variable, False, reason or problem))
    return rows


def _lenient(source: dict[str, str]) -> Settings | None:
    """Settings without the deployment requirements, so the configured backends can still be
    checked; None when a value itself does not parse."""
    try:
        return load_settings(source, check_requirements=False)
    except ConfigurationError:
        return None


def run_probes(
    probes: list[tuple[str, str, Probe]], timeout_s: float = CHECK_TIMEOUT_S
) -> list[Check]:
    """Run every probe at once; a probe that raises or overruns is a failed row."""
    if not probes:
        return []
    pool = ThreadPoolExecutor(max_workers=min(8, len(probes)), thread_name_prefix="doctor")
    futures = [(name, target, pool.submit(probe)) for name, target, probe in probes]
    rows: list[Check] = []
    for name, target, future in futures:
        try:
            rows.append(Check(name, target, True, future.result(timeout=timeout_s)))
        except FutureTimeout:
            rows.append(Check(name, target, False, f"no answer within {timeout_s:.0f} s"))
        except Exception as exc:  # any failure of a backend is a row, never a crash
            rows.append(Check(name, target, False, _reason(exc)))
    pool.shutdown(wait=False, cancel_futures=True)
    return rows


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__


def backend_probes(settings: Settings) -> list[tuple[str, str, Probe]]:
    """What to check for these settings (the composition root knows how to build each)."""
    import vividly_ray.doctor_probes as p

    probes: list[tuple[str, str, Probe]] = [
        ("database", _safe_url(settings.effective_database_url), lambda: p.database(settings)),
        ("ffmpeg", "imageio-ffmpeg", p.ffmpeg),
    ]
    if settings.uses_gcs:
        probes.append(
            (
                "bucket",
                settings.gcs_generated_content_bucket,
                lambda: p.bucket_writable(settings, settings.gcs_generated_content_bucket),
            )
        )
    else:
        probes.append(("storage", str(settings.blob_dir), lambda: p.local_storage(settings)))
    if settings.gcs_temp_files_bucket:
        probes.append(
            (
                "bucket",
                settings.gcs_temp_files_bucket,
                lambda: p.bucket_writable(settings, settings.gcs_temp_files_bucket),
            )
        )
    if settings.gcs_oer_content_bucket:
        probes.append(
            (
                "library bucket",
                settings.gcs_oer_content_bucket,
                lambda: p.bucket_readable(settings, settings.gcs_oer_content_bucket),
            )
        )
    if settings.pubsub_subscription:
        probes.append(
            ("subscription", settings.pubsub_subscription, lambda: p.subscription(settings))
        )
    if settings.pubsub_results_topic:
        probes.append(
            ("results topic", settings.pubsub_results_topic, lambda: p.results_topic(settings))
        )
    probes.append(("script writer", settings.script_writer, lambda: p.script_writer(settings)))
    probes.append(("narrator", settings.narrator, lambda: p.narrator(settings)))
    return probes


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and sep:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


def ffmpeg_version(binary: str) -> str:
    result = subprocess.run(
        [binary, "-hide_banner", "-version"], capture_output=True, text=True, timeout=10
    )
    return result.stdout.splitlines()[0] if result.stdout else "unknown version"
