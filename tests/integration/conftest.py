"""Real databases come from the shared fixtures in tests/conftest.py."""
