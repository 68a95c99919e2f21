"""``python -m benchmarks.quality``: see ``cli.py`` for the options."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
