"""Frozen value objects passed between stages (and between Ray workers, so they stay picklable)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Aspect(StrEnum):
    WIDE = "16:9"
    TALL = "9:16"
    SQUARE = "1:1"


class Resolution(StrEnum):
    P480 = "480p"
    P720 = "720p"
    P1080 = "1080p"


def frame_size(aspect: Aspect, resolution: Resolution) -> tuple[int, int]:
    """Pixel (width, height); the short side is the resolution's line count."""
    short = {Resolution.P480: 480, Resolution.P720: 720, Resolution.P1080: 1080}[resolution]
    long = {Resolution.P480: 854, Resolution.P720: 1280, Resolution.P1080: 1920}[resolution]
    if aspect is Aspect.WIDE:
        return long, short
    if aspect is Aspect.TALL:
        return short, long
    return short, short


@dataclass(frozen=True)
class Grade:
    """A K-12 grade level: 0 is kindergarten, 1-12 the grades."""

    level: int

    @property
    def label(self) -> str:
        return "K" if self.level == 0 else str(self.level)

    @property
    def band(self) -> str:
        """The library's grade bands: K-2, 3-5, 6-8, 9-12."""
        if self.level <= 2:
            return "K-2"
        if self.level <= 5:
            return "3-5"
        if self.level <= 8:
            return "6-8"
        return "9-12"


@dataclass(frozen=True)
class VideoRequest:
    """A validated request for one video."""

    question: str
    grade: Grade
    minutes: float
    aspect: Aspect = Aspect.WIDE
    resolution: Resolution = Resolution.P720
    student_id: str = "local"
    organization_id: str | None = None
    correlation_id: str | None = None
    voice: str = ""  # empty: the configured narrator's default voice
    callback_url: str | None = None
    # The student's answers to clarifying questions, oldest first.
    clarifications: tuple[str, ...] = ()

    @property
    def effective_question(self) -> str:
        """The question as validation reads it: the original words plus every answer given."""
        return " ".join((self.question, *self.clarifications))


@dataclass(frozen=True)
class SourceDocument:
    """One library document with its licence and attribution."""

    source_id: str
    title: str
    subject: str
    grade_band: str
    license: str
    attribution: str
    license_url: str = ""
    source_url: str = ""


@dataclass(frozen=True)
class Passage:
    """A retrievable piece of a document (one paragraph or a short run of paragraphs)."""

    passage_id: str
    source_id: str
    title: str
    text: str


@dataclass(frozen=True)
class RetrievedPassage:
    passage: Passage
    score: float


@dataclass(frozen=True)
class Retrieval:
    """What the retrieving stage found for a question: ranked passages and their sources."""

    query: str
    passages: tuple[RetrievedPassage, ...]
    sources: tuple[SourceDocument, ...]
    query_terms: tuple[str, ...] = ()  # the search terms retrieval ranked by


class SceneKind(StrEnum):
    TITLE = "title"
    CONCEPT = "concept"
    RECAP = "recap"
    CHECK = "check"  # check for understanding: questions, a pause, then the answers
    CREDITS = "credits"


class VisualKind(StrEnum):
    """How a scene's content is drawn, chosen from what the scene teaches."""

    BULLETS = "bullets"  # a title and points (the fallback)
    CYCLE = "cycle"  # stages on a ring, arrows from each to the next
    STEPS = "steps"  # numbered steps of a process, in order
    COMPARISON = "comparison"  # a table: rows of aspects, one column per thing compared
    KEY_NUMBER = "key_number"  # one big number with its unit and what it measures
    TIMELINE = "timeline"  # dated events on a line
    FORMULA = "formula"  # an equation with each symbol labelled
    KEY_TERMS = "key_terms"  # term cards: a term and its short definition
    QUESTIONS = "questions"  # check for understanding: numbered questions, answers revealed


@dataclass(frozen=True)
class VisualItem:
    """One part of a visual: a stage, a step, a row, a date, a symbol, a term, a question."""

    label: str
    detail: str = ""  # the second line: a definition, an event, what a symbol stands for
    cells: tuple[str, ...] = ()  # a comparison row's values, one per column
    # The narration sentence at whose start this part appears on screen.
    reveal_at: int = 0


@dataclass(frozen=True)
class Visual:
    """What a scene draws besides its title, in the order the narration reaches it."""

    kind: VisualKind
    items: tuple[VisualItem, ...]
    headings: tuple[str, ...] = ()  # a comparison's column names; a formula's equation


@dataclass(frozen=True)
class Scene:
    """One scene of the script: what is shown and what is said."""

    index: int
    kind: SceneKind
    title: str
    bullets: tuple[str, ...]
    narration: tuple[str, ...]  # one sentence per item; captions and timings follow these
    source_ids: tuple[str, ...] = ()
    # For each bullet, the index of the narration sentence at whose start it appears on screen.
    # Empty means: spread the bullets evenly over the narration.
    reveal_at: tuple[int, ...] = ()
    # Which provider wrote this scene ("offline", "gemini:<model>", "openai:<model>"); a scene
    # that fell back to the offline writer says so here and in the manifest.
    written_by: str = "offline"
    # What the slide draws; None draws the bullets as a list (the layout before visuals).
    visual: Visual | None = None
    # For each narration sentence, the library sentence it was written from when the writer
    # shortened or simplified it ("" for a sentence that is the source's own words or framing).
    source_sentences: tuple[str, ...] = ()

    @property
    def narration_text(self) -> str:
        return " ".join(self.narration)


@dataclass(frozen=True)
class Usage:
    """What a piece of work cost a paid provider (for the manifest's cost estimate)."""

    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    llm_calls: int = 0
    tts_characters: int = 0
    cpu_seconds: float = 0.0  # CPU the work took on our own workers

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            llm_tokens_in=self.llm_tokens_in + other.llm_tokens_in,
            llm_tokens_out=self.llm_tokens_out + other.llm_tokens_out,
            llm_calls=self.llm_calls + other.llm_calls,
            tts_characters=self.tts_characters + other.tts_characters,
            cpu_seconds=self.cpu_seconds + other.cpu_seconds,
        )


@dataclass(frozen=True)
class GlossaryEntry:
    """A key term and the narration sentence that explains it where it is first taught."""

    term: str
    definition: str
    scene_index: int


@dataclass(frozen=True)
class CheckQuestion:
    """A check-for-understanding question whose answer the narration has already given."""

    question: str
    answer: str
    scene_index: int  # the scene whose narration holds the answer


@dataclass(frozen=True)
class Script:
    title: str
    grade: Grade
    target_seconds: float
    scenes: tuple[Scene, ...]
    sources: tuple[SourceDocument, ...]
    planned_by: str = "offline"  # the provider that planned the outline
    usage: Usage = Usage()  # LLM tokens spent writing this script
    glossary: tuple[GlossaryEntry, ...] = ()  # key terms in the order the video teaches them
    checks: tuple[CheckQuestion, ...] = ()  # the "pause and think" questions, in asking order


@dataclass(frozen=True)
class SentenceTiming:
    """Where one narrated sentence sits in its scene's audio, in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class ScenePart:
    """A run of a scene's narration sentences that is narrated and encoded as one piece.

    A long scene is cut at sentence boundaries into parts, so its work can be spread over
    several workers; the parts' audio and segments, joined in order, are exactly the whole
    scene's. Only the first part opens with the scene's lead-in silence, and only the last part
    ends with its tail; every later part opens with the gap that separates two sentences.
    """

    first: int  # the index of its first sentence among the scene's narration sentences
    count: int  # how many sentences it narrates
    total: int  # how many narration sentences the whole scene has

    def __post_init__(self) -> None:
        if self.first < 0 or self.count < 1 or self.first + self.count > self.total:
            raise ValueError(
                f"a scene part must narrate 1 or more of the scene's {self.total} sentences "
                f"(first {self.first}, count {self.count})"
            )

    @property
    def opens(self) -> bool:
        return self.first == 0

    @property
    def closes(self) -> bool:
        return self.first + self.count == self.total

    def of(self, sentences: Sequence[str]) -> list[str]:
        """This part's sentences out of the scene's narration sentences."""
        return list(sentences[self.first : self.first + self.count])


def piece_name(scene_index: int, part: ScenePart | None) -> str:
    """A file-name-safe name of a scene or of one part of it: ``scene-003``, ``scene-003-04``
    (the part of scene 3 that starts at its sentence 4)."""
    name = f"scene-{scene_index:03d}"
    return name if part is None else f"{name}-{part.first:02d}"


def piece_label(scene_index: int, part: ScenePart | None) -> str:
    """How errors and logs name a scene or a part of it."""
    if part is None:
        return f"scene {scene_index}"
    last = part.first + part.count
    return f"scene {scene_index} (sentences {part.first + 1}-{last} of {part.total})"


@dataclass(frozen=True)
class TaskSpan:
    """When and where one scene task ran: the worker that ran it and its wall-clock start and
    end (seconds since the epoch), so a request's manifest can show where the time went."""

    worker: str
    started_at: float
    finished_at: float


@dataclass(frozen=True)
class SceneAudio:
    """Narration for one scene (or one part of it): a mono 16-bit WAV file and exact sentence
    timings, in seconds from the start of this audio."""

    scene_index: int
    wav_key: str  # blob key of a mono 16-bit WAV in the BlobStore
    duration: float
    sentences: tuple[SentenceTiming, ...]
    content_key: str
    voiced_by: str = "piper"  # the provider that spoke it ("piper:<voice>", "google:<voice>")
    # Characters sent to a paid speech provider for this scene (0 for the embedded voice and for
    # audio reused from the cache).
    tts_characters: int = 0
    cpu_seconds: float = 0.0  # CPU spent making it here (0 when reused from the cache)
    # The cluster node whose worker narrated it or fetched it from the cache (empty when the
    # work did not run on a cluster).
    node_id: str = ""
    span: TaskSpan | None = None  # the narrate task's worker and times (None off the pools)
    # The sentences this audio narrates when the scene was cut into parts; None: all of them.
    part: ScenePart | None = None


@dataclass(frozen=True)
class SceneSegment:
    """An encoded video segment for one scene or one part of it (H.264, no audio)."""

    scene_index: int
    video_key: str  # blob key of the segment in the BlobStore
    duration: float
    content_key: str
    reused: bool = False
    cpu_seconds: float = 0.0  # drawing and encoding (0 when reused from the cache)
    # The cluster node whose worker encoded it or fetched it from the cache (empty when the
    # work did not run on a cluster).
    node_id: str = ""
    span: TaskSpan | None = None  # the draw+encode task's worker and times (None off the pools)
    part: ScenePart | None = None  # the part of the scene it shows (None: the whole scene)


@dataclass(frozen=True)
class RenderSpec:
    """How slides are drawn and encoded; part of every segment's content key."""

    width: int
    height: int
    theme: str = "default"
    encoder_preset: str = "veryfast"
    crf: int = 23


def render_spec(request: VideoRequest) -> RenderSpec:
    """The one render spec of a request: computed here, handed to the encoder and assembler."""
    width, height = frame_size(request.aspect, request.resolution)
    return RenderSpec(width=width, height=height)


Chapter = tuple[str, float, float]  # (title, start seconds, end seconds)

DELIVERED_FILES: dict[str, str] = {
    "video.mp4": "video/mp4",
    "captions.vtt": "text/vtt; charset=utf-8",
    "captions.srt": "application/x-subrip; charset=utf-8",
    "transcript.txt": "text/plain; charset=utf-8",
    "thumbnail.jpg": "image/jpeg",
    "script.json": "application/json",
    "manifest.json": "application/json",
}


def delivered_key(request_id: str, name: str) -> str:
    """Where a delivered file of a request lives in the BlobStore."""
    return f"videos/{request_id}/{name}"


@dataclass(frozen=True)
class EncodedNarration:
    """The narration track already encoded to AAC (an M4A file in the assembler's node's
    scratch), made while the scenes rendered, and the pieces it holds, in timeline order:
    each piece's narration blob and content key and the slot (its segment's length) it fills.
    The assembler uses it only for exactly those pieces."""

    path: Path
    pieces: tuple[tuple[str, str, float], ...]  # (wav key, content key, slot seconds)
    cpu_seconds: float = 0.0  # the encode and the reading and fitting of the pieces


@dataclass(frozen=True)
class AssembledVideo:
    """The assembler's local output files (in its scratch folder) and the manifest's figures."""

    video_path: Path
    vtt_path: Path
    srt_path: Path
    thumbnail_path: Path
    duration: float
    chapters: tuple[Chapter, ...]
    cpu_seconds: float = 0.0  # joining, muxing and the thumbnail


@dataclass(frozen=True)
class VideoResult:
    """What a completed request delivered: blob keys by file name, and figures worth reporting."""

    request_id: str
    files: dict[str, str]  # file name (video.mp4, ...) -> blob key
    duration: float
    scene_count: int
    title: str
    reused_scenes: int = 0
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorInfo:
    """Why a request failed, as the API reports it: the stage, a stable code, a message."""

    stage: str
    code: str
    message: str
    error_id: str = ""
