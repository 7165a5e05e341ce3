"""`python -m sts_mfa` runs the same CLI as the `sts-mfa` console script."""

from sts_mfa.cli import main

if __name__ == "__main__":
    main()
