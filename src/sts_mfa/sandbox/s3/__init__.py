"""s3: see the package's modules."""
