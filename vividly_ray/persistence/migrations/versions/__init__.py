"""Migration revisions, applied in order of their ``down_revision`` links."""
