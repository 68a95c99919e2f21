"""What a video cost: usage figures and an estimated price from a configurable table.

Prices are list prices in US dollars, as estimates; operators override them with
``VIVIDLY_PRICES`` (JSON with any of the field names below). Speech is priced by the voice
family, since Cloud Text-to-Speech charges Chirp 3 HD voices more than Standard ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

from vividly_ray.domain.errors import ConfigurationError

_DEFAULT_TTS = {
    "chirp": 30.0,
    "studio": 160.0,
    "neural2": 16.0,
    "wavenet": 16.0,
    "standard": 4.0,
    "piper": 0.0,
}


@dataclass(frozen=True)
class PriceTable:
    llm_input_per_million_tokens: float = 0.30
    llm_output_per_million_tokens: float = 2.50
    cpu_per_hour: float = 0.045  # one vCPU of a GKE node
    tts_per_million_characters: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_TTS))

    @classmethod
    def from_json(cls, text: str) -> PriceTable:
        """The defaults with the given fields replaced; an unknown field is an error."""
        if not text.strip():
            return cls()
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError([f"VIVIDLY_PRICES: not JSON ({exc})"]) from None
        known = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or set(values) - known:
            raise ConfigurationError(
                [f"VIVIDLY_PRICES: expected an object with fields among {sorted(known)}"]
            )
        table = cls()
        if "tts_per_million_characters" in values:
            values["tts_per_million_characters"] = {
                **table.tts_per_million_characters,
                **values["tts_per_million_characters"],
            }
        return replace(table, **values)

    def tts_rate(self, voice: str) -> float:
        """Price per million characters for a ``voiced_by`` name ("google:en-US-Chirp3-HD-x")."""
        name = voice.lower()
        for family, price in self.tts_per_million_characters.items():
            if family in name:
                return price
        return self.tts_per_million_characters.get("standard", 0.0)


def estimate(
    table: PriceTable,
    *,
    tokens_in: int,
    tokens_out: int,
    tts_characters: dict[str, int],
    cpu_seconds: float,
) -> dict[str, Any]:
    """The manifest's ``cost`` block: usage and the estimated price of each part."""
    llm = (
        tokens_in * table.llm_input_per_million_tokens
        + tokens_out * table.llm_output_per_million_tokens
    ) / 1e6
    speech = sum(table.tts_rate(voice) * chars / 1e6 for voice, chars in tts_characters.items())
    cpu = cpu_seconds / 3600 * table.cpu_per_hour
    return {
        "llm_tokens_in": tokens_in,
        "llm_tokens_out": tokens_out,
        "tts_characters": sum(tts_characters.values()),
        "cpu_seconds": round(cpu_seconds, 3),
        "estimated_usd": {
            "llm": round(llm, 6),
            "speech": round(speech, 6),
            "compute": round(cpu, 6),
            "total": round(llm + speech + cpu, 6),
        },
        "prices": {
            "llm_input_per_million_tokens": table.llm_input_per_million_tokens,
            "llm_output_per_million_tokens": table.llm_output_per_million_tokens,
            "cpu_per_hour": table.cpu_per_hour,
            "tts_per_million_characters": dict(table.tts_per_million_characters),
        },
    }
