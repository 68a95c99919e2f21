"""Clarifying questions for a request without a usable topic.

The questions build on what the student did say: the subject they named, the homework or class
they mentioned, or the word they used in place of a topic. Examples are pitched at the grade band,
so a kindergartner is offered "plants" and a tenth grader "chemical bonding".
"""

from __future__ import annotations

from collections.abc import Mapping

from vividly_ray.domain.models import Grade
from vividly_ray.validation.topic import Cue, TopicReading

_BANDS = ("K-2", "3-5", "6-8", "9-12")

# Topics to offer for each whole subject, by grade band (K-2, 3-5, 6-8, 9-12).
_EXAMPLES: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "science": (
        ("plants", "animals", "weather", "the sun and moon"),
        ("the water cycle", "magnets", "food chains", "the solar system"),
        ("cells", "energy", "plate tectonics", "chemical reactions"),
        ("genetics", "chemical bonding", "forces", "evolution"),
    ),
    "physics": (
        ("pushes and pulls", "light and shadows", "sound", "magnets"),
        ("forces", "magnets", "light", "electricity"),
        ("forces and motion", "energy", "sound waves", "electric circuits"),
        ("forces and motion", "energy", "waves", "electricity"),
    ),
    "chemistry": (
        ("solids and liquids", "mixing colors", "melting and freezing"),
        ("states of matter", "mixtures", "melting and freezing"),
        ("atoms", "the periodic table", "chemical reactions", "acids and bases"),
        ("chemical bonding", "the periodic table", "reaction rates", "acids and bases"),
    ),
    "biology": (
        ("plants", "animals", "the human body"),
        ("life cycles", "food chains", "habitats", "the human body"),
        ("cells", "photosynthesis", "ecosystems", "heredity"),
        ("DNA", "cell division", "evolution", "the immune system"),
    ),
    "earth science": (
        ("weather", "rocks", "seasons"),
        ("the water cycle", "volcanoes", "erosion", "weather"),
        ("plate tectonics", "the rock cycle", "climate", "earthquakes"),
        ("plate tectonics", "climate change", "the atmosphere", "ocean currents"),
    ),
    "astronomy": (
        ("the sun", "the moon", "stars"),
        ("the planets", "moon phases", "the solar system"),
        ("gravity and orbits", "eclipses", "the life of a star"),
        ("galaxies", "black holes", "how stars shine", "the big bang"),
    ),
    "math": (
        ("counting", "adding", "shapes", "telling time"),
        ("fractions", "multiplication", "area and perimeter", "place value"),
        ("ratios", "equations", "percentages", "negative numbers"),
        ("linear functions", "quadratic equations", "probability", "trigonometry"),
    ),
    "history": (
        ("holidays", "community helpers", "famous inventors"),
        ("Native American cultures", "explorers", "the American Revolution"),
        ("ancient Egypt", "the Roman Empire", "the Constitution", "the Civil War"),
        ("World War I", "the civil rights movement", "the Industrial Revolution", "the Cold War"),
    ),
    "English": (
        ("letters and sounds", "rhyming", "telling a story"),
        ("nouns and verbs", "the main idea", "similes and metaphors"),
        ("figurative language", "theme", "writing an argument"),
        ("rhetoric", "poetry", "writing a thesis", "literary devices"),
    ),
    "geography": (
        ("maps", "continents", "oceans"),
        ("continents and oceans", "landforms", "map skills", "climate zones"),
        ("latitude and longitude", "population", "world regions"),
        ("urbanization", "migration", "natural resources"),
    ),
}
# Subjects with no list of their own borrow the closest one.
_CLOSEST = {
    "life science": "biology",
    "physical science": "physics",
    "geology": "earth science",
    "algebra": "math",
    "geometry": "math",
    "calculus": "math",
    "trigonometry": "math",
    "statistics": "math",
    "U.S. history": "history",
    "world history": "history",
    "social studies": "history",
    "civics": "history",
    "economics": "history",
    "reading": "English",
    "writing": "English",
    "literature": "English",
    "grammar": "English",
    "health": "biology",
}
# An example question per band, to show what a good request looks like.
_SAMPLE_QUESTIONS = (
    "Why do leaves change color in the fall?",
    "How does a seed grow into a plant?",
    "How do volcanoes form?",
    "How do vaccines train the immune system?",
)
# Pointers that stand for no particular thing; asking what they refer to would sound odd.
_VAGUE_POINTERS = frozenset({"something", "stuff", "thing", "things", "anything", "one"})
_SUBJECT_CHOICE = "Which subject is it for: science, math, social studies or English?"


def _band(grade: Grade) -> int:
    return _BANDS.index(grade.band)


def _listed(items: tuple[str, ...]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


def subject_question(subject: str, grade: Grade) -> str:
    examples = _EXAMPLES.get(subject) or _EXAMPLES[_CLOSEST.get(subject, "science")]
    return f"Which {subject} topic would you like, for example {_listed(examples[_band(grade)])}?"


def clarifying_questions(reading: TopicReading, grade: Grade) -> tuple[str, ...]:
    """One to three questions that would turn this request into one with a topic."""
    sample = _SAMPLE_QUESTIONS[_band(grade)]
    if reading.subjects:
        first = reading.subjects[0]
        questions = [subject_question(first, grade)]
        if len(reading.subjects) > 1:
            named = _listed(reading.subjects)
            questions.append(f"Which subject should the video cover first: {named}?")
        questions.append(f"Is there a particular {first} question you want answered?")
        return tuple(questions)
    if Cue.HOMEWORK in reading.cues:
        return (
            "What topic is your homework about?",
            _SUBJECT_CHOICE,
            "Can you type the homework question itself?",
        )
    if Cue.CLASS in reading.cues:
        when = " today" if Cue.TODAY in reading.cues else ""
        return (
            f"What topic did you study in class{when}?",
            _SUBJECT_CHOICE,
            "Do you remember any words your teacher used, like a name or a science term?",
        )
    if reading.pointer and reading.pointer not in _VAGUE_POINTERS:
        return (
            f'Which topic do you mean by "{reading.pointer}"?',
            f'Could you write out the whole question, like "{sample}"?',
        )
    return (
        "What topic would you like a video about?",
        f'Is there a question you are curious about, like "{sample}"?',
    )


def clarify_reason(reading: TopicReading) -> str:
    """Why the request needs clarifying, for the assessment's reasons."""
    if len(reading.subjects) == 1:
        return f"too broad: {reading.subjects[0]} is a whole subject, not one topic"
    if reading.subjects:
        return f"too broad: {_listed(reading.subjects)} are whole subjects, not one topic"
    if reading.pointer:
        return f'no topic: "{reading.pointer}" does not say what to explain'
    if reading.cues:
        return "no topic: the request mentions school work but not what it is about"
    return "no topic: the request does not name anything to explain"
