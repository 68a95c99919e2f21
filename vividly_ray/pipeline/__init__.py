"""The pipeline: stage ports, the orchestrator that drives a request through them, assembly."""
