"""The HTTP service: pure helpers the Ray Serve deployment builds on."""
