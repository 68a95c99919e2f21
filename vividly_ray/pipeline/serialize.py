"""JSON shapes of the script and the manifest written next to every video."""

from __future__ import annotations

from typing import Any

from vividly_ray.domain.models import Script, SourceDocument


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
            }
            for scene in script.scenes
        ],
        "sources": [source_to_dict(s) for s in script.sources],
        "glossary": [
            {"term": e.term, "definition": e.definition, "scene": e.scene_index}
            for e in script.glossary
        ],
    }
