"""The reliability suite (docs/reliability.md). Fast scenarios run in `make test`; the slow ones
(marked ``reliability_slow``: repeated kills, load, outages of real servers) run with
`make reliability`, which sets ``VIVIDLY_RELIABILITY=full``. Every scenario records its runs,
faults and violations in the ledger; the table is printed at the end of the run."""

from __future__ import annotations

import os

import pytest

from tests.reliability.ledger import LEDGER, Ledger

FULL = os.environ.get("VIVIDLY_RELIABILITY") == "full"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="slow reliability scenario: run `make reliability`")
    for item in items:
        if "reliability_slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = LEDGER.table()
    if lines:
        terminalreporter.section("reliability: runs, faults and invariant violations")
        for line in lines:
            terminalreporter.write_line(line)
