"""Observability for the HTTP service: Prometheus metrics and structured JSON logs."""
