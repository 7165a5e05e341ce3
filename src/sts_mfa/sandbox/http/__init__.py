"""http: see the package's modules."""
