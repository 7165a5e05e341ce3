"""The endpoint's token in a private file, for `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.

SDKs read the token from that file on every fetch (botocore: `ContainerProvider`), so
the token need not be printed nor kept in any environment. The file is created new in
sts-mfa's private cache directory (0700, the user's own), with mode 0600, `O_EXCL` and
`O_NOFOLLOW` (`storage.write_new`), under a random name; it holds the token and no
newline (botocore refuses a token with one). It is removed when the server ends, and
only if it is still exactly the file written: a regular file of the user's holding
that token. A server killed with SIGKILL leaves it behind; it is worthless then, since
the token is valid for that server only.
"""

from __future__ import annotations

import contextlib
import os
import secrets

from sts_mfa import cache
from sts_mfa.errors import StateError
from sts_mfa.storage import read_text, write_new

WHAT = "token file"


def write(token: str, directory: str | None = None) -> str:
    """Write `token` to a new private file in the cache directory; its path."""
    root = cache.ensure(directory or cache.root())
    path = os.path.join(root, f"endpoint-{secrets.token_hex(8)}.token")
    write_new(path, token.encode("ascii"), WHAT)
    return path


def remove(path: str, token: str) -> bool:
    """Remove the file if it is still the one written (ours, regular, private, this token)."""
    try:
        if read_text(path, WHAT) != token:
            return False
    except StateError:
        return False  # replaced by something that is not ours to delete
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True
