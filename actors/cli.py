"""The `vividly` command line (an edge: it composes the Ray layer with the core).

Exit codes come from the one edge policy (``vividly_ray.edge``): 0 completed; 1 failed (prints
the stage and the reason); 2 invalid input or settings (names the field and the allowed range);
3 clarification needed (prints the questions); 4 refused as unsafe for K-12; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from vividly_ray.domain.errors import InvalidFields, InvalidRequest, LibraryError, VividlyError
from vividly_ray.domain.models import VideoRequest
from vividly_ray.edge import (
    EXIT_CLARIFY,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_REFUSED,
    field_errors,
    policy_for,
)
from vividly_ray.settings import Settings, load_settings
from vividly_ray.smoke import DEFAULT_TIMEOUT_S as DEFAULT_SMOKE_TIMEOUT_S
from vividly_ray.validation.limits import parse_request, validate_fields


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vividly", description="Turn a question into a narrated explainer video."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="make a video for a question")
    _request_arguments(gen)
    gen.add_argument("--out", required=True, type=Path, help="folder for the video and its files")
    gen.add_argument("--aspect", default="16:9", help="16:9 (default), 9:16 or 1:1")
    gen.add_argument("--resolution", default="720p", help="480p, 720p (default) or 1080p")

    answer = commands.add_parser("answer", help="answer a request's clarifying question")
    answer.add_argument("request_id")
    answer.add_argument("answer", help="the student's answer")
    answer.add_argument("--out", required=True, type=Path, help="folder for the video")

    check = commands.add_parser("check", help="only validate a question; prints JSON")
    _request_arguments(check)

    serve_cmd = commands.add_parser("serve", help="run the HTTP service (Ray Serve)")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key for an organization")
    create.add_argument("--org", required=True)
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id")
    key_commands.add_parser("list", help="list keys (never the keys themselves)")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations")
    db_commands.add_parser("current", help="show the schema revision")

    library = commands.add_parser("library", help="manage the local OER library")
    library_commands = library.add_subparsers(dest="library_command", required=True)
    add = library_commands.add_parser("add", help="index Markdown, HTML, text or OER JSONL files")
    add.add_argument("paths", nargs="+", type=Path)
    library_commands.add_parser("list", help="show the indexed documents")

    status = commands.add_parser("status", help="show a request's persisted status and events")
    status.add_argument("request_id")

    erase = commands.add_parser(
        "erase", help="erase a request and everything it stored (question, student id, files)"
    )
    erase.add_argument("request_id")

    retention = commands.add_parser(
        "retention", help="erase what is due and every request past the retention period"
    )
    retention.add_argument(
        "--days",
        type=float,
        help="erase requests that ended this many days ago (default: VIVIDLY_RETENTION_DAYS)",
    )

    doctor = commands.add_parser(
        "doctor", help="check every setting and every configured backend at once"
    )
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")

    smoke = commands.add_parser(
        "smoke",
        help="submit the platform's smoke request to a deployment and check its video plays",
    )
    smoke.add_argument("--url", required=True, help="the service's base URL (http or https)")
    smoke.add_argument(
        "--api-key",
        default=os.environ.get("VIVIDLY_API_KEY"),
        help="an API key of the deployment (default: $VIVIDLY_API_KEY)",
    )
    smoke.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_SMOKE_TIMEOUT_S,
        help=f"seconds the whole check may take (default {DEFAULT_SMOKE_TIMEOUT_S:g})",
    )
    smoke.add_argument("--out", type=Path, help="keep the downloaded files in this folder")
    smoke.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (progress on stderr)"
    )
    return parser


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="the student's question, 3-500 characters")
    parser.add_argument("--grade", required=True, help="K or 1-12")
    parser.add_argument("--minutes", required=True, help="video length, 1-10 minutes")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console()
    err = Console(stderr=True)
    if args.command == "doctor":
        # Before load_settings: the doctor reports bad settings rather than stopping at them.
        return _doctor(args, out)
    if args.command == "smoke":
        # A client of a deployment: it needs none of this machine's service settings.
        return _smoke(args)
    try:
        settings = load_settings()
        handler = {
            "generate": _generate,
            "answer": _answer,
            "check": _check,
            "serve": _serve,
            "keys": _keys,
            "db": _db,
            "library": _library,
            "status": _status,
            "erase": _erase,
            "retention": _retention,
        }[args.command]
        return handler(args, settings, out, err)
    except VividlyError as exc:
        return _report(exc, err)


def _doctor(args: argparse.Namespace, out: Console) -> int:
    from rich.table import Table

    from vividly_ray.doctor import diagnose

    rows = diagnose()
    failed = [row for row in rows if not row.ok]
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
    else:
        table = Table(title="vividly doctor", show_lines=False)
        for column in ("check", "target", "result", "detail"):
            table.add_column(column, overflow="fold")
        for row in rows:
            verdict = "[green]ok[/green]" if row.ok else "[red]failed[/red]"
            table.add_row(row.name, row.target, verdict, row.detail)
        out.print(table)
        out.print(
            f"{len(failed)} of {len(rows)} checks failed" if failed else "every check passed",
            highlight=False,
        )
    return EXIT_FAILED if failed else EXIT_OK


def _smoke(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from vividly_ray.smoke import SmokeOptions, run_smoke, summary_line

    parts = urlsplit(args.url)
    problems = []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"--url: must be an http:// or https:// URL, got {args.url!r}")
    if not args.api_key:
        problems.append("--api-key: required (or set VIVIDLY_API_KEY)")
    elif not (args.api_key.isascii() and args.api_key.isprintable()) or " " in args.api_key:
        problems.append("--api-key: must be printable ASCII without spaces")
    if not args.timeout > 0:
        problems.append(f"--timeout: must be more than 0 seconds, got {args.timeout:g}")
    if problems:
        for problem in problems:
            print(f"invalid input {problem}", file=sys.stderr)
        return EXIT_INVALID
    progress = sys.stderr if args.json else sys.stdout

    def emit(line: str) -> None:
        print(line, file=progress, flush=True)

    options = SmokeOptions(
        url=args.url, api_key=args.api_key, timeout_s=args.timeout, keep_dir=args.out
    )
    report = run_smoke(options, emit)
    if args.json:
        print(json.dumps(report.to_json(), indent=2), flush=True)
    if report.ok:
        emit(summary_line(report))
    else:
        print(summary_line(report), file=sys.stderr, flush=True)
    return report.exit_code


def _report(exc: VividlyError, err: Console) -> int:
    """The edge policy's exit code, with a message naming what is wrong."""
    problems = field_errors(exc)
    if problems:
        for problem in problems:
            err.print(
                f"[red]invalid input[/red] {problem['field']}: {problem['message']}",
                highlight=False,
            )
    else:
        label = "configuration error" if "settings" in exc.message[:20] else "error"
        err.print(f"[red]{label}[/red] {exc.message}", highlight=False)
    return policy_for(exc).exit_code


def _parse(args: argparse.Namespace) -> VideoRequest:
    fields = dict(
        aspect=getattr(args, "aspect", "16:9"),
        resolution=getattr(args, "resolution", "720p"),
    )
    problems = validate_fields(args.question, args.grade, args.minutes, **fields)
    if problems:
        raise InvalidFields(problems)
    return parse_request(args.question, args.grade, args.minutes, organization_id="local", **fields)


def _check(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import build_library, build_validator

    request = _parse(args)
    validator = build_validator(build_library(settings))
    assessment = validator.assess(request.question, request.grade)
    print(json.dumps(validator.to_json(assessment), indent=2))
    return {"proceed": EXIT_OK, "clarify": EXIT_CLARIFY, "refuse": EXIT_REFUSED}[
        str(assessment.decision)
    ]


def _generate(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    request = _parse(args)
    from actors.follow import follow_request, local_intake
    from actors.service_runtime import ServiceRuntime

    err.print(f"starting Ray and the service ({settings.narrator_pool_size} narrators)...")
    with ServiceRuntime(settings) as runtime:
        stores, intake = local_intake(settings)
        record, _ = intake.record(request)
        err.print(f"request {record.request_id} recorded", highlight=False)
        return follow_request(
            stores, record.request_id, args.out, out, err, startup_s=runtime.startup_s
        )


def _answer(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from actors.follow import follow_request, local_intake
    from actors.service_runtime import ServiceRuntime

    stores, _ = local_intake(settings)
    stores.requests.answer(args.request_id, args.answer)
    err.print(f"answer recorded for {args.request_id}; starting the service...", highlight=False)
    with ServiceRuntime(settings) as runtime:
        return follow_request(
            stores, args.request_id, args.out, out, err, startup_s=runtime.startup_s
        )


def _serve(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from actors.service_runtime import ServiceRuntime
    from vividly_ray.observability.logs import configure_logging

    configure_logging(settings.log_level)
    if settings.auth_disabled:
        err.print(
            "[bold red]WARNING: authentication is OFF (VIVIDLY_AUTH_DISABLED). Every caller "
            "acts as organization 'local'. Never expose this server.[/bold red]"
        )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime = ServiceRuntime(settings, http=(args.host, args.port))
    runtime.start()
    try:
        out.print(
            f"vividly-ray ready at http://{args.host}:{args.port}/ "
            f"(API docs at /docs) after {runtime.startup_s:.1f} s",
            highlight=False,
        )
        while not stop.wait(0.5):
            pass
    finally:
        err.print("shutting down...")
        runtime.close()
    return EXIT_OK


def _keys(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import build_stores

    accounts = build_stores(settings).accounts
    if args.keys_command == "create":
        created = accounts.create_key(args.org)
        print(f"key_id: {created.key_id}")
        print(f"key: {created.key}")
        print(f"organization: {created.organization_id}")
        if created.organization_created:
            print(f"webhook_secret: {created.webhook_secret}")
        err.print("Store the key now: it is not shown again.")
        return EXIT_OK
    if args.keys_command == "revoke":
        info = accounts.revoke_key(args.key_id)
        print(f"revoked {info.key_id} of {info.organization_id}")
        return EXIT_OK
    for key in accounts.list_keys():
        state = "revoked" if key.revoked_at else "active"
        print(f"{key.key_id}  {key.organization_id:<24} {state:<8} {key.created_at:%Y-%m-%d}")
    return EXIT_OK


def _db(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import prepare_home
    from vividly_ray.persistence.migrate import current_revision, head_revision, upgrade

    prepare_home(settings)
    url = settings.effective_database_url
    if args.db_command == "upgrade":
        upgrade(url)
    current = current_revision(url)
    print(f"schema revision {current} (head {head_revision()})")
    return EXIT_OK if current == head_revision() else EXIT_FAILED


def _library(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
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


def _status(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import build_repository
    from vividly_ray.service.views import detail_view, event_view

    repository = build_repository(settings)
    record = repository.get(args.request_id)
    events = repository.events(args.request_id)
    view: dict[str, Any] = detail_view(
        record, events, dict(record.request_metadata.get("files", {}))
    )
    view["request_id"] = record.request_id
    view["error_message"] = record.error_message
    view["events"] = [event_view(e) for e in events]
    print(json.dumps(view, indent=2))
    return EXIT_OK


def _erase(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import build_eraser, build_stores

    outcome = build_eraser(settings, build_stores(settings)).request(args.request_id, None)
    if outcome.erased:
        out.print(f"erased {args.request_id} ({outcome.blobs_removed} stored files removed)")
    else:
        out.print(
            f"{args.request_id} was running: cancelled now, erased from "
            f"{outcome.due.isoformat()} (by the Dispatcher's sweep or `vividly retention`)"
        )
    return EXIT_OK


def _retention(args: argparse.Namespace, settings: Settings, out: Console, err: Console) -> int:
    from vividly_ray.bootstrap import build_eraser, build_stores

    if args.days is not None:
        if not 0 <= args.days <= 3650:
            raise InvalidRequest("--days", f"must be 0-3650 days, got {args.days:g}")
        settings = settings.model_copy(update={"retention_days": args.days})
    report = build_eraser(settings, build_stores(settings)).sweep()
    print(json.dumps({"retention_days": settings.retention_days, **report.as_dict()}))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
