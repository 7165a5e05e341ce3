"""files: see the package's modules."""
