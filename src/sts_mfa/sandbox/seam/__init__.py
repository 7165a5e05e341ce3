"""seam: see the package's modules."""
