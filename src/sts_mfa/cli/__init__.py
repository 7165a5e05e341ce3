from sts_mfa.cli.main import cli, main

__all__ = ["cli", "main"]
