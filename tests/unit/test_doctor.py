"""The doctor's report: one row per problem, probes isolated and bounded in time."""

from __future__ import annotations

import threading

from vividly_ray.doctor import _safe_url, diagnose, run_probes


def test_a_failing_or_hanging_probe_is_a_row_and_the_others_still_run() -> None:
    released = threading.Event()

    def hangs() -> str:
        released.wait(5)
        return "late"

    def fails() -> str:
        raise PermissionError("403 caller lacks storage.objects.create\nmore detail")

    rows = run_probes(
        [("a", "one", lambda: "fine"), ("b", "two", fails), ("c", "three", hangs)],
        timeout_s=0.3,
    )
    released.set()
    assert [(r.name, r.ok) for r in rows] == [("a", True), ("b", False), ("c", False)]
    assert rows[1].detail == "PermissionError: 403 caller lacks storage.objects.create"
    assert "no answer within" in rows[2].detail


def test_bad_values_and_missing_variables_are_all_rows_and_backends_wait() -> None:
    rows = diagnose({"ENVIRONMENT": "staging", "VIVIDLY_LEASE_SECONDS": "forever"})
    settings_rows = [r for r in rows if r.name == "setting"]
    assert {r.target for r in settings_rows} >= {"VIVIDLY_LEASE_SECONDS", "PUBSUB_SUBSCRIPTION"}
    assert len(settings_rows) == 8  # the bad value and the seven cloud variables
    assert rows[-1].name == "backends" and not rows[-1].ok


def test_database_passwords_are_not_printed() -> None:
    assert _safe_url("postgresql://app:s3cret@10.0.0.5/vividly") == (
        "postgresql://app:***@10.0.0.5/vividly"
    )
    assert _safe_url("sqlite:////tmp/v.db") == "sqlite:////tmp/v.db"


def test_the_silent_narrator_is_reported_without_asking_google() -> None:
    from vividly_ray.doctor_probes import narrator
    from vividly_ray.settings import load_settings

    detail = narrator(load_settings({"VIVIDLY_NARRATOR": "silent"}, check_requirements=False))
    assert detail.startswith("silent")
