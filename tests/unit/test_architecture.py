"""The pure core never imports Ray; the Ray layer lives in actors/."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "vividly_ray"


def _imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def test_core_package_never_imports_ray_or_actors() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if {"ray", "actors"} & _imported_modules(path.read_text("utf-8"))
    ]
    assert offenders == [], f"these modules import ray/actors: {offenders}"


def test_the_check_sees_an_import() -> None:
    assert "ray" in _imported_modules("import ray.serve as s\nfrom ray import get\n")
