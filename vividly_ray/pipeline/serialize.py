"""JSON shapes of the script and the manifest written next to every video."""

from __future__ import annotations

from typing import Any

from vividly_ray.domain.models import Scene, Script, SourceDocument, Visual


def source_to_dict(source: SourceDocument) -> dict[str, str]:
    return {
        "id": source.source_id,
        "title": source.title,
        "subject": source.subject,
        "license": source.license,
        "license_url": source.license_url,
        "source_url": source.source_url,
        "attribution": source.attribution,
    }


def transcript_text(script: Script) -> str:
    """The plain-text transcript: the title, then each scene's title and its narration as a
    paragraph, for readers who cannot or would rather not listen (and for search)."""
    parts = [script.title, ""]
    for scene in script.scenes:
        spoken = " ".join(sentence.strip() for sentence in scene.narration if sentence.strip())
        if not spoken:
            continue
        parts += [scene.title, spoken, ""]
    return "\n".join(parts).rstrip() + "\n"


def script_to_dict(script: Script) -> dict[str, Any]:
    return {
        "title": script.title,
        "grade": script.grade.label,
        "target_seconds": round(script.target_seconds, 2),
        "scenes": [
            {
                "index": scene.index,
                "kind": scene.kind.value,
                "title": scene.title,
                "bullets": list(scene.bullets),
                "narration": scene.narration_text,
                "sentences": list(scene.narration),
                "source_ids": list(scene.source_ids),
                **_edited_sentences(scene),
                **({"visual": visual_to_dict(scene.visual)} if scene.visual else {}),
            }
            for scene in script.scenes
        ],
        "sources": [source_to_dict(s) for s in script.sources],
        "glossary": [
            {"term": e.term, "definition": e.definition, "scene": e.scene_index}
            for e in script.glossary
        ],
        "check_for_understanding": [
            {"question": c.question, "answer": c.answer, "scene": c.scene_index}
            for c in script.checks
        ],
    }


def visual_to_dict(visual: Visual) -> dict[str, Any]:
    shape: dict[str, Any] = {"kind": visual.kind.value}
    if visual.headings:
        shape["headings"] = list(visual.headings)
    shape["items"] = [
        {
            "label": item.label,
            **({"detail": item.detail} if item.detail else {}),
            **({"cells": list(item.cells)} if item.cells else {}),
            "reveal_at": item.reveal_at,
        }
        for item in visual.items
    ]
    return shape


def _edited_sentences(scene: Scene) -> dict[str, Any]:
    """For each narration sentence the writer edited, the source sentence it came from."""
    edits = [
        {"sentence": said, "source": source}
        for said, source in zip(scene.narration, scene.source_sentences, strict=False)
        if source and source != said
    ]
    return {"edited_from_source": edits} if edits else {}
