"""A small retrieval about the water cycle: what the script-writer tests plan and write from.

Two openly licensed documents, written for these tests, in the library's shapes: passage ids are
``<source id>#<n>`` and every passage's document is among the sources.
"""

from __future__ import annotations

from vividly_ray.domain.models import (
    Grade,
    Passage,
    Retrieval,
    RetrievedPassage,
    SourceDocument,
    VideoRequest,
)

QUESTION = "Explain the water cycle for grade 5"
TOPIC = "the water cycle"

MOVING = SourceDocument(
    source_id="water-on-the-move",
    title="Water on the Move",
    subject="science",
    grade_band="3-5",
    license="CC BY 4.0",
    attribution="Water on the Move, Test Science Library, CC BY 4.0",
    license_url="https://creativecommons.org/licenses/by/4.0/",
    source_url="https://example.org/water-on-the-move",
)
WEATHER = SourceDocument(
    source_id="weather-and-water",
    title="Weather and Water",
    subject="science",
    grade_band="3-5",
    license="CC0-1.0",
    attribution="Weather and Water, Test Science Library, public domain (CC0)",
)

_TEXTS = {
    "water-on-the-move#1": (
        "The water cycle is the path that water takes around our planet. "
        "Water moves between the oceans, the air, and the land again and again. "
        "The same water has been moving this way for billions of years. "
        "The sun gives the water cycle the energy it needs to keep going."
    ),
    "water-on-the-move#2": (
        "Evaporation happens when the sun heats water in oceans, lakes, and rivers. "
        "The warm water turns into an invisible gas called water vapor. "
        "Water vapor rises up into the air because warm air is light. "
        "Plants also give off water vapor from their leaves."
    ),
    "water-on-the-move#3": (
        "Condensation happens when water vapor cools high in the sky. "
        "The cool vapor turns back into tiny drops of liquid water. "
        "Billions of these tiny drops gather together and form clouds. "
        "Fog is a cloud that forms close to the ground."
    ),
    "weather-and-water#1": (
        "Precipitation is water that falls from clouds to the ground. "
        "Drops in a cloud bump into each other and grow bigger. "
        "When the drops get too heavy, they fall as rain. "
        "In cold air, the water falls as snow, sleet, or hail instead."
    ),
    "weather-and-water#2": (
        "Collection happens when fallen water gathers in oceans, lakes, and rivers. "
        "Some rain soaks into the soil and becomes groundwater. "
        "Rivers carry water downhill until it reaches the ocean. "
        "Then the sun warms the water and the whole cycle starts again."
    ),
}


def water_cycle_retrieval() -> Retrieval:
    sources = {MOVING.source_id: MOVING, WEATHER.source_id: WEATHER}
    passages = tuple(
        RetrievedPassage(
            Passage(
                passage_id=pid,
                source_id=pid.split("#")[0],
                title=sources[pid.split("#")[0]].title,
                text=text,
            ),
            score=10.0 - n,
        )
        for n, (pid, text) in enumerate(_TEXTS.items())
    )
    return Retrieval(
        query=QUESTION,
        passages=passages,
        sources=(MOVING, WEATHER),
        query_terms=("water", "cycl"),
    )


def water_cycle_request(minutes: float = 2.0, grade: int = 5) -> VideoRequest:
    return VideoRequest(question=QUESTION, grade=Grade(grade), minutes=minutes)


PASSAGE_IDS = tuple(_TEXTS)
