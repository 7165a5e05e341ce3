"""state: see the package's modules."""
