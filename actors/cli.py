"""The `vividly` command line (an edge: it composes the Ray layer with the core).

Exit codes: 0 completed; 1 failed (prints the stage and the reason); 2 invalid input (names the
field and the allowed range); 3 clarification needed (prints the questions); 4 refused as unsafe
for K-12 (prints why).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from vividly_ray.domain.errors import (
    ClarificationNeeded,
    ConfigurationError,
    InvalidRequest,
    LibraryError,
    RefusedUnsafe,
    RequestNotFound,
    StageFailed,
)
from vividly_ray.domain.models import VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.settings import Settings, load_settings
from vividly_ray.validation.limits import parse_request, validate_fields

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CLARIFY, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is also our invalid-input code."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vividly", description="Turn a question into a narrated explainer video.")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="make a video for a question")
    _request_arguments(gen)
    gen.add_argument("--out", required=True, type=Path, help="folder for the video and its files")
    gen.add_argument("--aspect", default="16:9", help="16:9 (default), 9:16 or 1:1")
    gen.add_argument("--resolution", default="720p", help="480p, 720p (default) or 1080p")

    check = commands.add_parser("check", help="only validate a question; prints JSON")
    _request_arguments(check)

    library = commands.add_parser("library", help="manage the local OER library")
    library_commands = library.add_subparsers(dest="library_command", required=True)
    add = library_commands.add_parser("add", help="index Markdown, HTML, text or OER JSONL files")
    add.add_argument("paths", nargs="+", type=Path)
    library_commands.add_parser("list", help="show the indexed documents")

    status = commands.add_parser("status", help="show a request's persisted status and events")
    status.add_argument("request_id")
    return parser


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="the student's question, 3-500 characters")
    parser.add_argument("--grade", required=True, help="K or 1-12")
    parser.add_argument("--minutes", required=True, help="video length, 1-10 minutes")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console()
    err = Console(stderr=True)
    try:
        settings = load_settings()
        if args.command == "generate":
            return _generate(args, settings, out, err)
        if args.command == "check":
            return _check(args, settings, out)
        if args.command == "library":
            return _library(args, settings, out)
        if args.command == "status":
            return _status(args, settings, out)
    except InvalidFields as exc:
        for problem in exc.problems:
            err.print(f"[red]invalid input[/red] {problem.message}", highlight=False)
        return EXIT_INVALID
    except InvalidRequest as exc:
        err.print(f"[red]invalid input[/red] {exc.message}", highlight=False)
        return EXIT_INVALID
    except ConfigurationError as exc:
        err.print(f"[red]configuration error[/red]\n{exc.message}", highlight=False)
        return EXIT_INVALID
    except (LibraryError, RequestNotFound) as exc:
        err.print(f"[red]error[/red] {exc.message}", highlight=False)
        return EXIT_INVALID
    return EXIT_FAILED


class InvalidFields(Exception):
    """Every invalid field of one command line, reported together."""

    def __init__(self, problems: list[InvalidRequest]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _parse(args: argparse.Namespace) -> VideoRequest:
    fields = dict(
        aspect=getattr(args, "aspect", "16:9"),
        resolution=getattr(args, "resolution", "720p"),
    )
    problems = validate_fields(args.question, args.grade, args.minutes, **fields)
    if problems:
        raise InvalidFields(problems)
    return parse_request(args.question, args.grade, args.minutes, **fields)


def _check(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    from vividly_ray.bootstrap import build_library, build_validator, prepare_home

    request = _parse(args)
    prepare_home(settings)
    validator = build_validator(build_library(settings))
    assessment = validator.assess(request.question, request.grade)
    print(json.dumps(validator.to_json(assessment), indent=2))
    return {"proceed": EXIT_OK, "clarify": EXIT_CLARIFY, "refuse": EXIT_REFUSED}[
        str(assessment.decision)
    ]


def _generate(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    request = _parse(args)
    from actors.runtime import LocalRuntime
    from vividly_ray.cli_progress import ConsoleProgress

    started = time.perf_counter()
    err.print(f"starting Ray and the scene pools ({settings.narrator_pool_size} narrators)...")
    with LocalRuntime(settings) as runtime:
        ready = time.perf_counter()
        request_id = runtime.submit(request)
        err.print(f"request {request_id} recorded")
        try:
            with ConsoleProgress(err) as progress:
                result = runtime.pipeline(request, progress).run(request_id, request, args.out)
        except ClarificationNeeded as exc:
            out.print("The question needs clarification before a video can be made:")
            for question in exc.questions:
                out.print(f"  - {question}", highlight=False)
            return EXIT_CLARIFY
        except RefusedUnsafe as exc:
            out.print(f"Refused: {exc.message}", highlight=False)
            return EXIT_REFUSED
        except StageFailed as exc:
            err.print(f"[red]failed[/red] in stage {exc.stage}: {exc.reason}", highlight=False)
            err.print(f"details: vividly status {request_id}", highlight=False)
            return EXIT_FAILED
        except KeyboardInterrupt:
            runtime.repository.transition(
                request_id, RequestStatus.CANCELLED, message="interrupted from the terminal"
            )
            err.print(f"cancelled request {request_id}", highlight=False)
            return EXIT_INTERRUPTED
    finished = time.perf_counter()
    out.print(
        f"completed: {result.duration:.1f} s of video, {result.scene_count} scenes "
        f"({result.reused_scenes} reused) rendered in {finished - ready:.1f} s "
        f"after {ready - started:.1f} s of start-up"
    )
    for label, path in (
        ("video", result.video_path),
        ("captions", result.captions_vtt),
        ("captions", result.captions_srt),
        ("thumbnail", result.thumbnail),
        ("script", result.script_json),
        ("manifest", result.manifest_json),
    ):
        out.print(f"  {label:<10} {path}", highlight=False)
    return EXIT_OK


def _library(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    from vividly_ray.bootstrap import build_library, prepare_home
    from vividly_ray.library.documents import load_documents
    from vividly_ray.library.store import LocalLibrary

    prepare_home(settings)
    if args.library_command == "add":
        store = LocalLibrary(settings.library_dir)
        total = 0
        for path in args.paths:
            if not path.exists():
                raise LibraryError(f"{path}: no such file")
            documents = load_documents(path)
            store.add(documents)
            total += len(documents)
            out.print(f"indexed {len(documents)} document(s) from {path}", highlight=False)
        out.print(f"{total} document(s) added to {settings.library_dir}", highlight=False)
        return EXIT_OK
    library = build_library(settings)
    for doc in library.documents():
        src = doc.source
        columns = (src.source_id, 40), (src.grade_band, 5), (src.subject, 15), (src.license, 12)
        line = " ".join(value.ljust(width) for value, width in columns)
        out.print(f"{line} {src.title}", highlight=False, soft_wrap=True)
    return EXIT_OK


def _status(args: argparse.Namespace, settings: Settings, out: Console) -> int:
    from vividly_ray.bootstrap import build_repository

    repository = build_repository(settings)
    record = repository.get(args.request_id)
    print(
        json.dumps(
            {
                "request_id": record.request_id,
                "status": record.status.value,
                "progress_percentage": record.progress_percentage,
                "current_stage": record.current_stage,
                "error_message": record.error_message,
                "events": [
                    {
                        "at": e.created_at.isoformat(),
                        "type": e.event_type,
                        "status": e.status.value,
                        "progress": e.progress_percentage,
                        "message": e.message,
                    }
                    for e in repository.events(args.request_id)
                ],
            },
            indent=2,
        )
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
