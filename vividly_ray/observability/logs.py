"""Structured JSON logs for Cloud Logging, with request context and student-text redaction.

Each record becomes one JSON object on one line. Cloud Logging reads ``severity``,
``message`` and ``time`` from it; everything else lands in ``jsonPayload``.

Loggers take part when they live under the ``vividly`` namespace (``get_logger("service")``
gives ``vividly.service``). The request and correlation ids come from context variables set
with ``log_context``. Threads do not inherit context variables, so a caller that hands work
to a thread captures ``current_context()`` first and re-applies it there with
``bind_context``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

LOGGER_NAMESPACE = "vividly"
STUDENT_FIELDS = frozenset({"student_query", "question", "answer", "student_id"})
CONTEXT_KEYS = ("request_id", "correlation_id")

_request_id: ContextVar[str | None] = ContextVar("vividly_request_id", default=None)
_correlation_id: ContextVar[str | None] = ContextVar("vividly_correlation_id", default=None)
_VARS: dict[str, ContextVar[str | None]] = {
    "request_id": _request_id,
    "correlation_id": _correlation_id,
}


def current_context() -> dict[str, str]:
    """The request and correlation ids set in this context (only those that are set)."""
    return {key: value for key, var in _VARS.items() if (value := var.get()) is not None}


@contextmanager
def log_context(request_id: str | None = None, correlation_id: str | None = None) -> Iterator[None]:
    """Set the ids for the duration of the block; an id left as None keeps its current value."""
    tokens = [
        (var, var.set(value))
        for var, value in ((_request_id, request_id), (_correlation_id, correlation_id))
        if value is not None
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextmanager
def bind_context(context: Mapping[str, str]) -> Iterator[None]:
    """Re-apply a context captured with ``current_context()``, e.g. inside a worker thread."""
    unknown = sorted(set(context) - set(CONTEXT_KEYS))
    if unknown:
        raise ValueError(f"unknown log context keys: {', '.join(unknown)}")
    with log_context(context.get("request_id"), context.get("correlation_id")):
        yield


def severity(levelno: int) -> str:
    """The Cloud Logging severity name for a ``logging`` level number."""
    if levelno <= logging.DEBUG:
        return "DEBUG"
    if levelno <= logging.INFO:
        return "INFO"
    if levelno <= logging.WARNING:
        return "WARNING"
    if levelno <= logging.ERROR:
        return "ERROR"
    return "CRITICAL"


def rfc3339(timestamp: float) -> str:
    """A Unix timestamp as an RFC 3339 UTC time with microseconds, e.g. ``...T10:00:00.000000Z``."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def redact_student_text(fields: Mapping[str, Any], *, level: int = logging.INFO) -> dict[str, Any]:
    """``fields`` without student text or ids (at any depth), unless ``level`` is DEBUG or lower."""
    if level <= logging.DEBUG:
        return dict(fields)
    return {
        key: _redact_value(value)
        for key, value in fields.items()
        if str(key).casefold() not in STUDENT_FIELDS
    }


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact_student_text(value)
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """Formats each record as one line of JSON in the shape Cloud Logging understands.

    Extra fields go in ``extra={"fields": {...}}``; they never replace the standard keys,
    and student text is dropped from them above DEBUG.
    """

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.payload(record), default=str, ensure_ascii=False)

    def payload(self, record: logging.LogRecord) -> dict[str, Any]:
        """The JSON object for ``record``, before serialisation."""
        entry: dict[str, Any] = {
            "severity": severity(record.levelno),
            "message": record.getMessage(),
            "time": rfc3339(record.created),
            "logger": record.name,
        }
        context = current_context()
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None) or context.get(key)
            if value is not None:
                entry[key] = str(value)
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in redact_student_text(fields, level=record.levelno).items():
                entry.setdefault(str(key), value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return entry


class _JsonHandler(logging.StreamHandler[IO[str]]):
    """The handler ``configure_logging`` installs; recognised so it is never added twice."""


def get_logger(name: str) -> logging.Logger:
    """The logger ``vividly.<name>`` (``name`` may already start with ``vividly.``)."""
    if name == LOGGER_NAMESPACE or name.startswith(LOGGER_NAMESPACE + "."):
        return logging.getLogger(name)
    return logging.getLogger(f"{LOGGER_NAMESPACE}.{name}")


def parse_level(level: str) -> int:
    """A level name (any case) as its number; ValueError for an unknown name."""
    levels = logging.getLevelNamesMapping()
    try:
        return levels[level.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}") from None


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Send the ``vividly`` loggers to ``stream`` (default stderr) as JSON lines at ``level``.

    Calling it again replaces the handler it installed before instead of adding another.
    """
    logger = logging.getLogger(LOGGER_NAMESPACE)
    numeric = parse_level(level)
    for old in [h for h in logger.handlers if isinstance(h, _JsonHandler)]:
        logger.removeHandler(old)
        old.close()
    handler = _JsonHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(numeric)
    logger.propagate = False
