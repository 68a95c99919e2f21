"""A stand-in for the model, shared by the unit tests' fake client and the HTTP stubs.

It reads the user message the way a model would have to: passages come as
``<passage id="...">text</passage>`` blocks and the scene task says how many sentences it wants.
The outline it plans spreads the passages over the scenes; the scenes it writes copy the
passages' own sentences and cite the passage each came from, so they pass verification unless
a test bends them on purpose. ``FakeLlmClient`` is the hand-written fake of the LlmClient port.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vividly_ray.script.llm.client import LlmReply
from vividly_ray.script.llm.schema import OUTLINE_SCHEMA, SCENE_SCHEMA
from vividly_ray.script.pacing import split_sentences

_PASSAGE = re.compile(r'<passage id="([^"]*)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)
_SENTENCES = re.compile(r"(\d+) sentences")
_SCENES = re.compile(r"(\d+) concept scenes")
_SCENE_NUMBER = re.compile(r"Write scene (\d+) of")


def passages(user: str) -> list[tuple[str, str]]:
    """(id, text) of every passage in a user message, in order."""
    return [(html.unescape(i), html.unescape(t)) for i, t in _PASSAGE.findall(user)]


def scene_number(user: str) -> int:
    found = _SCENE_NUMBER.search(user)
    return int(found.group(1)) if found else 0


def is_rewrite(user: str) -> bool:
    return "turned down" in user


def outline_answer(user: str, title: str = "The Water Cycle") -> dict[str, Any]:
    """An outline of as many scenes as asked, each with its share of the passages."""
    ids = [i for i, _ in passages(user)]
    wanted = _SCENES.search(user)
    count = max(1, min(len(ids), int(wanted.group(1)) if wanted else 3))
    return {
        "needs_clarification": False,
        "clarifying_questions": [],
        "title": title,
        "scenes": [
            {
                "title": f"Part {n + 1} of the Story",
                "purpose": f"Understand part {n + 1}.",
                "passage_ids": ids[n::count],
            }
            for n in range(count)
        ],
    }


def scene_answer(user: str, sentences: int | None = None) -> dict[str, Any]:
    """A scene of the passages' own sentences, as many as the task asks for, taken from each
    passage in turn, each citing the passage it came from."""
    wanted = _SENTENCES.search(user)
    count = sentences or (int(wanted.group(1)) if wanted else 3)
    split = [[(i, s) for s in split_sentences(text)] for i, text in passages(user)]
    # Take the passages' sentences in turn, so a scene draws on every passage it was given.
    turns = [
        part[n] for n in range(max(map(len, split), default=0)) for part in split if n < len(part)
    ]
    chosen = turns[:count]
    return {
        "title": f"Scene {scene_number(user)}",
        "bullets": [" ".join(s.rstrip(".").split()[:6]) for _, s in chosen[:3]],
        "narration": [{"sentence": s, "passage_ids": [i]} for i, s in chosen],
    }


@dataclass(frozen=True)
class Call:
    system: str
    user: str
    schema: dict[str, Any]
    temperature: float


Answer = Callable[[str], LlmReply]  # the user message -> the reply (or raise)


def replying(data: dict[str, Any], tokens_in: int = 100, tokens_out: int = 30) -> LlmReply:
    return LlmReply(data, tokens_in, tokens_out, model="fake-model")


class FakeLlmClient:
    """The LlmClient port in memory: answers like ``outline_answer``/``scene_answer`` unless a
    test passes its own ``outline`` or ``scene`` answer. Records every call; with ``gather``
    set, each scene call waits until that many scene calls are in progress at once (and fails
    after five seconds if they never are)."""

    def __init__(
        self,
        outline: Answer | None = None,
        scene: Answer | None = None,
        *,
        gather: int = 0,
    ) -> None:
        self.calls: list[Call] = []
        self._outline = outline or (lambda user: replying(outline_answer(user), 200, 80))
        self._scene = scene or (lambda user: replying(scene_answer(user)))
        self._barrier = threading.Barrier(gather) if gather else None
        self._lock = threading.Lock()

    def generate_json(
        self, system: str, user: str, schema: dict[str, Any], *, temperature: float = 0.3
    ) -> LlmReply:
        with self._lock:
            self.calls.append(Call(system, user, schema, temperature))
        if schema is OUTLINE_SCHEMA:
            return self._outline(user)
        if self._barrier is not None:
            self._barrier.wait(timeout=5)
        return self._scene(user)

    def scene_calls(self, number: int | None = None) -> list[Call]:
        with self._lock:
            scenes = [c for c in self.calls if c.schema is SCENE_SCHEMA]
        return [c for c in scenes if number is None or scene_number(c.user) == number]
