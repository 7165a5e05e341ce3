"""One module per command, imported only when its command runs (see `sts_mfa.cli.app.COMMANDS`)."""
