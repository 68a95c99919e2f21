"""Command line of the lesson-quality harness.

    python -m benchmarks.quality --queries Q.jsonl [--keys K.jsonl] [--library BOOK.jsonl ...]
        [--json quality.json] [--limit N] [--no-slides] [--keep-frames DIR] [--check]

Exit status 0 for a finished measurement whatever it found; with ``--check``, 1 when a target
is missed. A file that cannot be read is reported on stderr with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.index import LibraryIndex

from .evaluate import evaluate
from .lessons import LessonMaker, Query, load_keys, load_library, load_queries
from .report import other_checks, targets, totals
from .table import render_table


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality",
        description="Measure the lessons the offline writer makes for evaluation questions.",
    )
    parser.add_argument("--queries", type=Path, required=True, help="questions (JSON Lines)")
    parser.add_argument("--keys", type=Path, help="answer keys (JSON Lines)")
    parser.add_argument(
        "--library",
        type=Path,
        action="append",
        default=[],
        help="a library file added to the starter library (repeatable)",
    )
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--limit", type=_positive, help="only the first N questions")
    parser.add_argument("--no-slides", action="store_true", help="do not draw or measure slides")
    parser.add_argument("--keep-frames", type=Path, help="copy every drawn PNG under this folder")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    return parser


class InputError(Exception):
    """An input file is missing, unreadable, or not in the expected shape."""


@dataclass(frozen=True)
class Inputs:
    """What a run reads before it measures anything."""

    queries: list[Query]
    keys: dict[str, list[list[str]]]
    library: LibraryIndex


def read_inputs(args: argparse.Namespace) -> Inputs:
    """The questions, keys and library; raises ``InputError`` naming what could not be read."""
    try:
        return Inputs(
            load_queries(args.queries)[: args.limit],
            load_keys(args.keys),
            load_library(args.library),
        )
    except (OSError, LibraryError, ValueError, KeyError) as error:
        raise InputError(f"{type(error).__name__}: {error}") from error


def measure(args: argparse.Namespace, inputs: Inputs) -> dict[str, Any]:
    """Run every question and return the whole report (``main`` adds the wall time)."""
    library = inputs.library
    maker = LessonMaker(library)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vividly-quality-") as scratch:
        for number, query in enumerate(inputs.queries, start=1):
            keep = args.keep_frames / f"{number:02d}" if args.keep_frames else None
            rows.append(
                evaluate(
                    maker.run(query),
                    inputs.keys,
                    slides=not args.no_slides,
                    scratch=Path(scratch) / f"{number:02d}",
                    keep=keep,
                )
            )
    total = totals(rows)
    return {
        "harness": "lesson-quality",
        "inputs": {
            "queries": str(args.queries),
            "keys": str(args.keys) if args.keys else None,
            "libraries": [str(path) for path in args.library],
            "documents": len(library),
            "passages": len(library.passages()),
            "slides": not args.no_slides,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "totals": total,
        "targets": targets(total),
        "other_checks": other_checks(total),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        inputs = read_inputs(args)
    except InputError as error:
        print(f"quality: cannot read the inputs: {error}", file=sys.stderr)
        return 2
    report = measure(args, inputs)
    report["wall_s"] = round(time.perf_counter() - started, 2)
    print(render_table(report["rows"], report["totals"], report["targets"], report["other_checks"]))
    print(f"wall time {report['wall_s']} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    missed = [goal["target"] for goal in report["targets"] if not goal["met"]]
    return 1 if args.check and missed else 0
