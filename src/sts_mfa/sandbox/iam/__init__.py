"""iam: see the package's modules."""
