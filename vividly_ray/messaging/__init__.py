"""Message-service adapters (Google Cloud Pub/Sub)."""
