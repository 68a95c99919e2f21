"""The JSON schemas the model must answer with: the outline and one scene plan.

They keep to the subset that both Gemini's ``responseJsonSchema`` and OpenAI's strict
structured outputs accept: every object closes with ``additionalProperties: false`` and lists
every property as required (an "optional" field is an empty list or ``false``), and counts are
left out of the schema, because strict mode refuses ``minItems``/``maxItems``. The counts the
prompts ask for are checked in code (``outline.py``, ``verifier.py``) instead.
"""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]

_STRING: JsonSchema = {"type": "string"}
_STRINGS: JsonSchema = {"type": "array", "items": _STRING}


def _object(properties: dict[str, JsonSchema]) -> JsonSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


OUTLINE_SCHEMA: JsonSchema = _object(
    {
        # True (with questions) when the passages cannot tell what the student wants explained.
        "needs_clarification": {"type": "boolean"},
        "clarifying_questions": _STRINGS,
        "title": _STRING,
        "scenes": {
            "type": "array",
            "items": _object(
                {
                    "title": _STRING,
                    "purpose": _STRING,
                    "passage_ids": _STRINGS,
                }
            ),
        },
    }
)

SCENE_SCHEMA: JsonSchema = _object(
    {
        "title": _STRING,
        "bullets": _STRINGS,
        "narration": {
            "type": "array",
            "items": _object({"sentence": _STRING, "passage_ids": _STRINGS}),
        },
    }
)
