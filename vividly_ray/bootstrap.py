"""The composition root: the one place that picks adapters from settings.

Nothing here creates a client at import time; each builder is called once by an edge (the CLI,
a Ray actor) that then holds what it built.
"""

from __future__ import annotations

from dataclasses import dataclass

from vividly_ray.domain.models import RenderSpec, VideoRequest, frame_size
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.media.assemble import VideoAssembler
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.settings import Settings
from vividly_ray.validation.assess import QuestionValidator


@dataclass(frozen=True)
class CoreServices:
    """Adapters that need no Ray: built once per process."""

    settings: Settings
    library: LibraryIndex
    validator: QuestionValidator
    writer: OfflineScriptWriter
    assembler: VideoAssembler


def prepare_home(settings: Settings) -> None:
    for folder in (settings.home, settings.cache_dir, settings.library_dir, settings.work_dir):
        folder.mkdir(parents=True, exist_ok=True)


def build_repository(settings: Settings) -> SqlRequestRepository:
    prepare_home(settings)
    return SqlRequestRepository.from_url(settings.effective_database_url)


def build_library(settings: Settings) -> LibraryIndex:
    return load_index(settings.library_dir)


def build_validator(library: LibraryIndex) -> QuestionValidator:
    return QuestionValidator(extra_terms=library.vocabulary())


def build_core(settings: Settings) -> CoreServices:
    prepare_home(settings)
    library = build_library(settings)
    return CoreServices(
        settings=settings,
        library=library,
        validator=build_validator(library),
        writer=OfflineScriptWriter(keywords=library.keywords),
        assembler=VideoAssembler(settings.work_dir),
    )


def render_spec(request: VideoRequest) -> RenderSpec:
    width, height = frame_size(request.aspect, request.resolution)
    return RenderSpec(width=width, height=height)
