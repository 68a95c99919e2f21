"""The ScriptWriter pool's repeat cache: a repeated request reuses its script, nothing else does."""

from __future__ import annotations

import dataclasses

import pytest

from actors.pools import RepeatWriter
from vividly_ray.domain.models import Grade, Retrieval, Script, Usage, VideoRequest
from vividly_ray.library.store import load_index
from vividly_ray.script.offline_writer import OfflineScriptWriter

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=1)


class CountingWriter:
    """A ScriptWriter that writes a new script (with a new title) on every call."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        self.calls += 1
        return Script(
            f"{topic} #{self.calls}",
            request.grade,
            request.minutes * 60,
            (),
            (),
            usage=Usage(cpu_seconds=2.0),
        )


@pytest.fixture(scope="module")
def retrieval() -> Retrieval:
    return load_index(None).retrieve(REQUEST.question, REQUEST.grade)


def test_the_same_request_gets_the_same_script_without_writing_it_again(
    retrieval: Retrieval,
) -> None:
    inner = CountingWriter()
    writer = RepeatWriter(inner)
    first = writer.write(REQUEST, retrieval, "water cycle")
    # Another student, organisation and callback: the script is written from the same inputs.
    other = dataclasses.replace(
        REQUEST, student_id="s-2", organization_id="org", callback_url="https://example.org/h"
    )
    again = writer.write(other, retrieval, "water cycle")
    assert inner.calls == 1
    assert again.title == first.title
    assert again.usage.cpu_seconds < first.usage.cpu_seconds  # the lookup's cost, not the first


@pytest.mark.parametrize(
    "change",
    [
        lambda r, t: (dataclasses.replace(r, minutes=2), t),
        lambda r, t: (dataclasses.replace(r, grade=Grade(8)), t),
        lambda r, t: (dataclasses.replace(r, clarifications=("rain",)), t),
        lambda r, t: (r, "clouds"),
    ],
)
def test_anything_the_script_is_written_from_writes_it_again(
    retrieval: Retrieval, change: object
) -> None:
    inner = CountingWriter()
    writer = RepeatWriter(inner)
    writer.write(REQUEST, retrieval, "water cycle")
    request, topic = change(REQUEST, "water cycle")  # type: ignore[operator]
    writer.write(request, retrieval, topic)
    assert inner.calls == 2


def test_other_passages_write_it_again_and_old_scripts_are_let_go(retrieval: Retrieval) -> None:
    inner = CountingWriter()
    writer = RepeatWriter(inner, size=2)
    fewer = dataclasses.replace(retrieval, passages=retrieval.passages[:1])
    for passages in (retrieval, fewer, retrieval):
        writer.write(REQUEST, passages, "water cycle")
    assert inner.calls == 2
    for minutes in (2, 3):  # two more entries push the first out
        writer.write(dataclasses.replace(REQUEST, minutes=minutes), retrieval, "water cycle")
    writer.write(REQUEST, fewer, "water cycle")
    writer.write(REQUEST, retrieval, "water cycle")
    assert inner.calls == 6


def test_a_reused_offline_script_equals_a_freshly_written_one(retrieval: Retrieval) -> None:
    writer = RepeatWriter(OfflineScriptWriter())
    writer.write(REQUEST, retrieval, "water cycle")
    reused = writer.write(REQUEST, retrieval, "water cycle")
    fresh = OfflineScriptWriter().write(REQUEST, retrieval, "water cycle")
    assert dataclasses.replace(reused, usage=fresh.usage) == fresh
