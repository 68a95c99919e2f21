"""Blob storage and the content-addressed cache of finished scene work."""
