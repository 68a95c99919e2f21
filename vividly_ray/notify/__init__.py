"""Signed webhook callbacks that tell a client its video is ready (or failed)."""
