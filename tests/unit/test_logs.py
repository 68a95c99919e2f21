from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from vividly_ray.observability.logs import (
    LOGGER_NAMESPACE,
    JsonFormatter,
    bind_context,
    configure_logging,
    current_context,
    get_logger,
    log_context,
    redact_student_text,
    severity,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    namespace = logging.getLogger(LOGGER_NAMESPACE)
    saved = (list(namespace.handlers), namespace.level, namespace.propagate)
    out = io.StringIO()
    configure_logging("DEBUG", stream=out)
    yield out
    namespace.handlers[:] = saved[0]
    namespace.setLevel(saved[1])
    namespace.propagate = saved[2]


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_line_with_cloud_logging_fields(stream: io.StringIO) -> None:
    log = get_logger("service")
    log.info("claimed %s", "job", extra={"fields": {"attempt": 2}})
    log.warning("slow")
    first, second = _lines(stream)
    assert first["severity"] == "INFO"
    assert first["message"] == "claimed job"
    assert first["logger"] == "vividly.service"
    assert first["attempt"] == 2
    assert "request_id" not in first
    assert "correlation_id" not in first
    assert first["time"].endswith("Z")
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert second["severity"] == "WARNING"


@pytest.mark.parametrize(
    "levelno, name",
    [
        (logging.DEBUG, "DEBUG"),
        (5, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARNING"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "CRITICAL"),
        (60, "CRITICAL"),
    ],
)
def test_severity_names(levelno: int, name: str) -> None:
    assert severity(levelno) == name


def test_context_ids_are_added_and_nest(stream: io.StringIO) -> None:
    log = get_logger("service")
    with log_context(request_id="req-1", correlation_id="corr-1"):
        log.info("outer")
        with log_context(correlation_id="corr-2"):
            log.info("inner")
        log.info("outer again")
    log.info("outside")
    outer, inner, again, outside = _lines(stream)
    assert (outer["request_id"], outer["correlation_id"]) == ("req-1", "corr-1")
    assert (inner["request_id"], inner["correlation_id"]) == ("req-1", "corr-2")
    assert (again["request_id"], again["correlation_id"]) == ("req-1", "corr-1")
    assert "request_id" not in outside
    assert current_context() == {}


def test_context_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), log_context(request_id="req-1"):
        raise RuntimeError("boom")
    assert current_context() == {}


def test_context_is_carried_into_a_worker_thread(stream: io.StringIO) -> None:
    log = get_logger("worker")
    seen: dict[str, dict[str, str]] = {}

    def work(captured: dict[str, str]) -> None:
        seen["before"] = current_context()
        with bind_context(captured):
            seen["bound"] = current_context()
            log.info("in thread")

    with log_context(request_id="req-9"):
        thread = threading.Thread(target=work, args=(current_context(),))
        thread.start()
        thread.join()
    assert seen["before"] == {}
    assert seen["bound"] == {"request_id": "req-9"}
    (line,) = _lines(stream)
    assert line["request_id"] == "req-9"


def test_bind_context_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="student_id"), bind_context({"student_id": "s"}):
        pass


def test_student_fields_vanish_at_info(stream: io.StringIO) -> None:
    fields = {
        "student_query": "why is the sky blue",
        "question": "q",
        "answer": "a",
        "student_id": "s-42",
        "grade": 5,
        "nested": {"Student_Query": "hidden", "kept": 1},
    }
    get_logger("service").info("validated", extra={"fields": fields})
    (line,) = _lines(stream)
    for key in ("student_query", "question", "answer", "student_id"):
        assert key not in line
    assert line["grade"] == 5
    assert line["nested"] == {"kept": 1}
    assert "sky" not in stream.getvalue()
    assert "s-42" not in stream.getvalue()


def test_student_fields_appear_at_debug(stream: io.StringIO) -> None:
    fields = {"student_query": "why is the sky blue", "student_id": "s-42"}
    get_logger("service").debug("validated", extra={"fields": fields})
    (line,) = _lines(stream)
    assert line["student_query"] == "why is the sky blue"
    assert line["student_id"] == "s-42"


def test_redact_student_text_is_pure() -> None:
    fields = {"student_id": "s", "items": [{"answer": "x", "n": 1}], "ok": True}
    assert redact_student_text(fields) == {"items": [{"n": 1}], "ok": True}
    assert redact_student_text(fields, level=logging.DEBUG) == fields
    assert "student_id" in fields


def test_fields_never_replace_standard_keys(stream: io.StringIO) -> None:
    get_logger("service").info("real", extra={"fields": {"message": "fake", "severity": "X"}})
    (line,) = _lines(stream)
    assert line["message"] == "real"
    assert line["severity"] == "INFO"


def test_non_json_field_values_are_stringified(stream: io.StringIO) -> None:
    get_logger("service").info("odd", extra={"fields": {"when": datetime(2024, 1, 2)}})
    (line,) = _lines(stream)
    assert line["when"] == "2024-01-02 00:00:00"


def test_exception_text_is_included(stream: io.StringIO) -> None:
    log = get_logger("service")
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("stage failed")
    (line,) = _lines(stream)
    assert line["severity"] == "ERROR"
    assert line["message"] == "stage failed"
    assert "ValueError: bad value" in line["exception"]
    assert "Traceback" in line["exception"]


def test_configure_is_idempotent_and_honours_level() -> None:
    namespace = logging.getLogger(LOGGER_NAMESPACE)
    saved = (list(namespace.handlers), namespace.level, namespace.propagate)
    try:
        first, second = io.StringIO(), io.StringIO()
        configure_logging("INFO", stream=first)
        configure_logging("info", stream=second)
        assert len(namespace.handlers) == len(saved[0]) + 1
        log = get_logger("service")
        log.debug("hidden")
        log.info("shown")
        assert first.getvalue() == ""
        assert [line["message"] for line in _lines(second)] == ["shown"]
    finally:
        namespace.handlers[:] = saved[0]
        namespace.setLevel(saved[1])
        namespace.propagate = saved[2]


def test_configure_rejects_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging("LOUD", stream=io.StringIO())


def test_get_logger_keeps_names_in_the_namespace() -> None:
    assert get_logger("vividly.service").name == "vividly.service"
    assert get_logger("vividly").name == "vividly"
    assert get_logger("vividly_ray.x").name == "vividly.vividly_ray.x"


def test_formatter_works_on_its_own() -> None:
    record = logging.LogRecord("other", logging.ERROR, __file__, 1, "plain %d", (3,), None)
    record.request_id = "from-extra"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "plain 3"
    assert line["severity"] == "ERROR"
    assert line["request_id"] == "from-extra"
    assert "exception" not in line
