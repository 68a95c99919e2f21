"""Narration: speech adapters and the timing constants shared with pacing."""
