"""The Ray layer: narrator pool, encode tasks, tracker actor, local runtime and the CLI.

Thin on purpose: each piece builds a core adapter once and delegates to it.
"""
