"""federation: see the package's modules."""
