"""The reliability suite's ledger: each scenario records how often it ran, how many faults it
injected and how many invariant violations it saw, with its own figures; the table is printed
at the end of the run and written as JSON lines to ``VIVIDLY_RELIABILITY_REPORT`` when set.

A scenario records before it asserts, so a violation shows in the table and fails the test.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ScenarioResult:
    scenario: str  # "2. duplicate intake: Idempotency-Key x50"
    runs: int
    faults: int
    violations: int
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def row(self) -> str:
        figures = ", ".join(f"{k}={_short(v)}" for k, v in self.figures.items())
        return (
            f"| {self.scenario} | {self.runs} | {self.faults} | {self.violations} | "
            f"{self.seconds:.1f} | {figures} |"
        )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


class Ledger:
    def __init__(self) -> None:
        self.results: list[ScenarioResult] = []
        self._lock = threading.Lock()

    def record(
        self,
        scenario: str,
        *,
        runs: int,
        faults: int,
        violations: int,
        seconds: float = 0.0,
        **figures: Any,
    ) -> ScenarioResult:
        result = ScenarioResult(scenario, runs, faults, violations, dict(figures), seconds)
        with self._lock:
            self.results.append(result)
        target = os.environ.get("VIVIDLY_RELIABILITY_REPORT")
        if target:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(asdict(result), default=str) + "\n")
        return result

    def table(self) -> list[str]:
        if not self.results:
            return []
        lines = [
            "| scenario | runs | faults | violations | seconds | figures |",
            "|---|---|---|---|---|---|",
        ]
        lines.extend(r.row() for r in sorted(self.results, key=lambda r: _order(r.scenario)))
        return lines


def _order(scenario: str) -> tuple[int, str]:
    number, _, rest = scenario.partition(".")
    return (int(number), rest) if number.isdigit() else (99, scenario)


LEDGER = Ledger()
