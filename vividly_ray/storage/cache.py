"""Content-addressed cache: the same inputs always map to the same file.

Same narration text and voice -> same audio; same frames and audio -> same segment. Writes are
atomic (temporary file, then rename), so a crash never leaves a half-written entry behind and a
resumed or repeated request reuses every finished scene.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def content_key(*parts: Any) -> str:
    """A stable SHA-256 over JSON-serialisable parts."""
    payload = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ContentCache:
    """Files stored under ``root/kind/ab/abcdef...suffix``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def get(self, kind: str, key: str, suffix: str) -> Path | None:
        candidate = self.path(kind, key, suffix)
        return candidate if candidate.exists() else None

    def put(self, kind: str, key: str, suffix: str, write: Callable[[Path], None]) -> Path:
        """Call ``write(tmp_path)`` and move the result into place atomically."""
        final = self.path(kind, key, suffix)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final

    def put_json(self, kind: str, key: str, data: Any) -> Path:
        def write(tmp: Path) -> None:
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")

        return self.put(kind, key, ".json", write)

    def get_json(self, kind: str, key: str) -> Any | None:
        found = self.get(kind, key, ".json")
        return None if found is None else json.loads(found.read_text(encoding="utf-8"))
