"""The whole script around the written concept scenes, by the embedded writer's conventions.

The title scene opens with the outline's title and previews the scene titles, the recap restates
each concept scene's opening sentence, and the credits name every document a concept scene
drew on, with its licence. A "pause and think" scene of three questions answered by the concept
scenes' narration goes before the recap when the script has room for it (``checks``). The title,
check and recap are credited to the planning provider (their
words are its outline and scenes); the credits come from the library's own records, so they are
credited to the offline writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vividly_ray.domain.models import Retrieval, Script, Usage, VideoRequest
from vividly_ray.script.checks import add_check_scene
from vividly_ray.script.glossary import build_glossary
from vividly_ray.script.llm.tasks import Outline, SceneDraft
from vividly_ray.script.offline_writer import proper_words
from vividly_ray.script.scenes import (
    Framing,
    credits_scene,
    recap_scene,
    reserved_titles,
    title_scene,
)
from vividly_ray.script.titles import ConceptTitle, running_text

CREDITS_WRITER = "offline"
CHECK_MARGIN = 0.1  # over the requested length that a check scene may take the video
_LONGEST_PHRASE = 6  # a longer title reads badly in "Let's explore ..."; the topic is used then


def _phrase(title: str, topic: str, proper: frozenset[str]) -> str:
    """How the video's subject reads in a sentence."""
    if ":" in title or len(title.split()) > _LONGEST_PHRASE:
        return topic
    return running_text(title, proper)


def compose(
    request: VideoRequest,
    retrieval: Retrieval,
    topic: str,
    outline: Outline,
    drafts: Sequence[SceneDraft],
    *,
    planned_by: str,
    usage: Usage,
) -> Script:
    """The script of the non-empty ``drafts``, in order; ``usage`` is the planning call's, to
    which every draft's is added."""
    written = [draft for draft in drafts if not draft.empty]
    proper = proper_words([r.passage.text for r in retrieval.passages])
    sources = {source.source_id: source for source in retrieval.sources}
    framing = Framing(
        title=outline.title,
        phrase=_phrase(outline.title, topic, proper),
        grade=request.grade,
        target_seconds=request.minutes * 60.0,
        sources=sources,
        proper=proper,
        query=frozenset(retrieval.query_terms),
        reserved=reserved_titles(outline.title, topic),
    )
    concepts = [draft.scene(n + 1) for n, draft in enumerate(written)]
    titles = [
        ConceptTitle(title=scene.title, preview=running_text(scene.title, proper), key_sentence=0)
        for scene in concepts
    ]
    used = [
        sources[i]
        for i in dict.fromkeys(i for scene in concepts for i in scene.source_ids)
        if i in sources
    ]
    count = len(concepts)
    scenes = (
        replace(title_scene(framing, titles, count), written_by=planned_by),
        *concepts,
        replace(recap_scene(count + 1, concepts, titles), written_by=planned_by),
        replace(credits_scene(count + 2, used), written_by=CREDITS_WRITER),
    )
    total = sum((draft.usage for draft in drafts), usage)
    script = Script(
        title=outline.title,
        grade=request.grade,
        target_seconds=framing.target_seconds,
        scenes=scenes,
        sources=tuple(used),
        planned_by=planned_by,
        usage=total,
        glossary=build_glossary(concepts),
    )
    # The drafts were paced without it, so the check scene goes in only while the video stays
    # within 10% of the requested length.
    return add_check_scene(script, limit_seconds=framing.target_seconds * (1 + CHECK_MARGIN))
