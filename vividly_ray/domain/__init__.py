"""Domain values shared by every stage: requests, sources, scenes, timings, statuses, errors."""
