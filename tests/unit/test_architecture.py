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


def _vividly_imports(path: Path) -> set[str]:
    """Full names of the vividly_ray modules a file imports (at any depth)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "vividly_ray":
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "vividly_ray")
    return found


def test_the_pipeline_depends_only_on_the_domain_and_itself() -> None:
    allowed = ("vividly_ray.domain", "vividly_ray.pipeline")
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in _vividly_imports(path)
            if name != "vividly_ray" and not name.startswith(allowed)
        )
        for path in (PACKAGE / "pipeline").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_domain_depends_on_nothing_else_of_the_package() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _vividly_imports(path) if not name.startswith("vividly_ray.domain")
        )
        for path in (PACKAGE / "domain").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_composition_root_picks_adapters() -> None:
    """Edges build adapters through bootstrap, never by constructing them themselves."""
    adapters = ("LocalBlobStore(", "PiperNarrator(", "OfflineScriptWriter(", "VideoAssembler(")
    edges = [
        *(PACKAGE.parent / "actors").rglob("*.py"),
        *(PACKAGE.parent / "benchmarks").rglob("*.py"),
    ]
    offenders = [
        f"{path.name}: {name}"
        for path in edges
        for name in adapters
        if name in path.read_text("utf-8")
    ]
    assert offenders == []
