"""session: see the package's modules."""
