"""mfa: see the package's modules."""
