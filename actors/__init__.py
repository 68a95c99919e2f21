"""The Ray layer: pools, tracker actor and the app builder. Thin: build an adapter once, delegate."""
