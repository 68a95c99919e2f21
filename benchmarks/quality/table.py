"""The short human-readable summary printed after a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COLUMNS = (
    ("#", 3),
    ("gr", 3),
    ("min", 4),
    ("decision", 16),
    ("cov", 5),
    ("off", 4),
    ("fig", 4),
    ("frag", 5),
    ("chop", 5),
    ("FK-gr", 6),
    ("grnd", 6),
    ("dur", 6),
    ("capV", 5),
    ("use", 5),
    ("attr", 5),
    ("chk", 4),
)


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cells(number: int, row: dict[str, Any]) -> list[str]:
    decision = row["decision"] or "-"
    if not row["decision_ok"]:
        decision += f"!={row['expect']}"
    head = [str(number), row["grade"], f"{float(row['minutes']):g}", decision]
    metrics = row["metrics"]
    if metrics is None:
        outcome = row["outcome"] if row["outcome"] != row["decision"] else ""
        return [*head, outcome]
    slides = metrics["slides"]
    return [
        *head,
        _number(metrics["coverage"]["share"]),
        str(metrics["off_topic_scenes"]["count"]),
        str(metrics["figure_references"]["count"]),
        str(metrics["fragments"]["count"]),
        "yes" if metrics["title"]["chopped"] else "no",
        _number(metrics["reading"]["difference"], 1),
        _number(metrics["grounding"]["share"]),
        f"{metrics['duration']['relative_error'] * 100:+.0f}%",
        str(metrics["captions"]["violating_cues"]),
        _number(slides["frame_use_mean"]) if slides else "-",
        str(metrics["attribution"]["count"]),
        (str(metrics["check"]["questions"]) if metrics["check"]["complete"] else "-")
        if "check" in metrics
        else "-",
    ]


def render_table(
    rows: Sequence[dict[str, Any]],
    total: dict[str, Any],
    goals: Sequence[dict[str, Any]],
    checks: Sequence[dict[str, Any]],
) -> str:
    """Rows, then totals, then each target and check with met / MISSED."""
    lines = ["  ".join(name.rjust(width) for name, width in COLUMNS) + "  title"]
    for number, row in enumerate(rows, start=1):
        cells = _cells(number, row)
        widths = [width for _, width in COLUMNS]
        shown = [cell.rjust(width) for cell, width in zip(cells, widths, strict=False)]
        tail = cells[len(widths) :] if row["metrics"] is None else [row["title"] or ""]
        lines.append("  ".join([*shown, *tail]))
    lines.append("")
    lines.append(
        f"questions {total['questions']}, decisions right {total['decisions_correct']}, "
        f"lessons {total['lessons']}, too little material {len(total['too_little_material'])}"
    )
    for goal in (*goals, *checks):
        verdict = "met" if goal["met"] else "MISSED"
        lines.append(f"  {verdict:>6}  {goal['target']}: {goal['value']} (wanted {goal['wanted']})")
    slides = total["slides"]
    if slides:
        lines.append(
            f"  slides: {slides['frames']} frames, smallest text {slides['min_text_px']} px, "
            f"frame use {slides['frame_use_mean']} (by kind {slides['frame_use_by_kind']}), "
            f"text box {slides['text_bbox_share_mean']}"
        )
    return "\n".join(lines)
