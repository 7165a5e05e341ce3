"""sts: see the package's modules."""
