"""trust: see the package's modules."""
