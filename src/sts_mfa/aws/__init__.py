"""aws: see the package's modules."""
