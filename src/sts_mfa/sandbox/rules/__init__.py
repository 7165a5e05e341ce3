"""rules: see the package's modules."""
