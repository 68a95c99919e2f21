"""The model-backed ScriptWriter: one planning call, then every concept scene in parallel.

Degrade, don't die. The offline writer stands behind every step:
- the breaker is open, the provider stays busy through its retries, the outline is unusable, or
  the scene runner lost its workers: the whole script is written offline;
- one scene is blocked, fails, or fails verification twice (the second try is told why the
  first was turned down): that scene alone is written offline from the same passages.
A blocked or refused outline is a decision about the question, not a failure: RefusedUnsafe,
or ClarificationNeeded when the model says the question does not say what to explain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from vividly_ray.domain.errors import RefusedUnsafe, StageFailed
from vividly_ray.domain.models import Passage, Retrieval, Script, Usage, VideoRequest
from vividly_ray.library.query import topic_phrase
from vividly_ray.pipeline.ports import ScriptWriter
from vividly_ray.resilience import CircuitBreaker
from vividly_ray.script.llm.assembly import compose
from vividly_ray.script.llm.client import LlmClient, LlmReply, ProviderError, ProviderRejected
from vividly_ray.script.llm.drafts import offline_draft, read_scene
from vividly_ray.script.llm.outline import budget, read_outline
from vividly_ray.script.llm.prompts import (
    OUTLINE_SYSTEM,
    SCENE_SYSTEM,
    outline_message,
    scene_message,
)
from vividly_ray.script.llm.runner import SceneRunner, ThreadSceneRunner
from vividly_ray.script.llm.schema import OUTLINE_SCHEMA, SCENE_SCHEMA
from vividly_ray.script.llm.tasks import Outline, SceneDraft, SceneTask
from vividly_ray.script.llm.verifier import SceneVerifier
from vividly_ray.script.selection import on_topic

log = logging.getLogger("vividly.script")

REWRITES = 1  # a scene that fails verification is written once more, then falls back
NOTHING = Usage()


def reply_usage(reply: LlmReply) -> Usage:
    return Usage(llm_tokens_in=reply.tokens_in, llm_tokens_out=reply.tokens_out, llm_calls=1)


def _earlier(draft: SceneDraft) -> str:
    """A turned-down draft as the rewrite sees it, sentences numbered as its problems are."""
    sentences = "\n".join(
        f"{n}. {sentence} [{', '.join(cited)}]"
        for n, (sentence, cited) in enumerate(
            zip(draft.narration, draft.citations, strict=False), 1
        )
    )
    bullets = "\n".join(f"- {bullet}" for bullet in draft.bullets)
    return f"title: {draft.title}\nbullets:\n{bullets}\nsentences:\n{sentences}"


class LlmScriptWriter:
    """Writes scripts with a language model behind ``client``, grounded in the retrieved
    passages, verified scene by scene, and backed by ``fallback`` (the offline writer).

    ``provider`` names the model in the script ("gemini:gemini-2.5-flash"). ``write_scene``
    depends only on its task and on this writer's construction, so a pool of replicas, each
    with its own writer, can run the tasks of a script another replica planned.
    """

    def __init__(
        self,
        client: LlmClient,
        *,
        provider: str,
        fallback: ScriptWriter,
        runner: SceneRunner | None = None,
        verifier: SceneVerifier | None = None,
        breaker: CircuitBreaker | None = None,
        temperature: float = 0.3,
    ) -> None:
        self.provider = provider
        self._client = client
        self._fallback = fallback
        self._runner = runner or ThreadSceneRunner(self.write_scene)
        self._verifier = verifier or SceneVerifier()
        self._breaker = breaker
        self._temperature = temperature

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str = "") -> Script:
        topic = topic or topic_phrase(request.effective_question)
        passages = [r.passage for r in on_topic(retrieval)]
        if not passages:
            return self._offline(request, retrieval, topic)  # it says what is missing
        if not self._allowed():
            log.warning("script provider %s is open-circuited; writing offline", self.provider)
            return self._offline(request, retrieval, topic)
        usage = Usage()
        try:
            reply = self._ask_for_outline(request, topic, passages)
            usage = reply_usage(reply)
            outline = self._outline(reply, request, retrieval, topic)
            drafts = self._runner.run(self._tasks(request, retrieval, topic, outline, passages))
        except StageFailed as error:
            if isinstance(error, ProviderError):
                self._record(ok=False)
            log.warning("script provider %s failed (%s); writing offline", self.provider, error)
            return self._offline(request, retrieval, topic, usage)
        if all(draft.empty for draft in drafts):
            log.warning("no scene could be written from the outline; writing offline")
            spent = sum((draft.usage for draft in drafts), usage)
            return self._offline(request, retrieval, topic, spent)
        return compose(
            request, retrieval, topic, outline, drafts, planned_by=self.provider, usage=usage
        )

    def _offline(
        self, request: VideoRequest, retrieval: Retrieval, topic: str, spent: Usage = NOTHING
    ) -> Script:
        """The whole script from the offline writer, still reporting what the model cost."""
        script = self._fallback.write(request, retrieval, topic)
        return replace(script, usage=script.usage + spent)

    def _ask_for_outline(
        self, request: VideoRequest, topic: str, passages: Sequence[Passage]
    ) -> LlmReply:
        message = outline_message(request, topic, passages, budget(request))
        reply = self._client.generate_json(
            OUTLINE_SYSTEM, message, OUTLINE_SCHEMA, temperature=self._temperature
        )
        self._record(ok=True)
        return reply

    def _outline(
        self, reply: LlmReply, request: VideoRequest, retrieval: Retrieval, topic: str
    ) -> Outline:
        if reply.blocked:
            raise RefusedUnsafe([f"the script model declined the request ({reply.blocked})"])
        if reply.data is None:
            raise ProviderRejected("the outline reply held no JSON object")
        return read_outline(reply.data, request, retrieval, topic)

    def _tasks(
        self,
        request: VideoRequest,
        retrieval: Retrieval,
        topic: str,
        outline: Outline,
        passages: Sequence[Passage],
    ) -> list[SceneTask]:
        by_id = {p.passage_id: p for p in passages}
        sources = {s.source_id: s for s in retrieval.sources}
        tasks = []
        for plan in outline.scenes:
            given = tuple(by_id[i] for i in plan.passage_ids)
            documents = dict.fromkeys(p.source_id for p in given)
            tasks.append(
                SceneTask(
                    request=request,
                    topic=topic,
                    outline=outline,
                    plan=plan,
                    passages=given,
                    sources=tuple(sources[i] for i in documents if i in sources),
                    query_terms=retrieval.query_terms,
                )
            )
        return tasks

    def write_scene(self, task: SceneTask) -> SceneDraft:
        """One concept scene: written, verified, rewritten once if it failed, and written
        offline if it failed again (or the provider did)."""
        usage = Usage()
        problems: tuple[str, ...] = ()
        earlier = ""
        for _ in range(1 + REWRITES):
            if not self._allowed():
                problems = (*problems, f"{self.provider} is open-circuited")
                break
            try:
                reply = self._client.generate_json(
                    SCENE_SYSTEM,
                    scene_message(task, problems, earlier),
                    SCENE_SCHEMA,
                    temperature=self._temperature,
                )
            except ProviderError as error:
                self._record(ok=False)
                problems = (*problems, error.reason)
                break
            self._record(ok=True)
            usage = usage + reply_usage(reply)
            if reply.blocked or reply.data is None:
                problems = (f"the model gave no scene ({reply.blocked or 'no JSON'})",)
                break
            draft = read_scene(reply.data, task, self.provider, usage)
            verdict = self._verifier.check(draft, task)
            if verdict.passed:
                return draft
            problems, earlier = verdict.problems, _earlier(draft)
        log.info(
            "scene %d falls back to the offline writer: %s",
            task.plan.position,
            "; ".join(problems),
        )
        return offline_draft(task, self._fallback, usage, problems)

    def _allowed(self) -> bool:
        return self._breaker is None or self._breaker.allow()

    def _record(self, *, ok: bool) -> None:
        if self._breaker is None:
            return
        if ok:
            self._breaker.record_success()
        else:
            self._breaker.record_failure()
