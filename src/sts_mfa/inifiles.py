"""Writing sections into a user's AWS config or credentials file without touching the rest.

`~/.aws/credentials` holds a person's real keys. The tool never replaces such a
file: it refuses an existing one unless told to merge, and a merge replaces or
appends only the sections it owns, keeping every other byte as it was (the
other profiles, their comments, their order, blank lines, even odd spacing).
A parser that rewrites the file (configparser) would lose comments and
formatting, so sections are found by their header lines and copied verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sts_mfa.errors import WouldOverwrite
from sts_mfa.storage import PathLike, check_path, read_text, write_atomic

_HEADER = re.compile(r"[ \t]*\[([^\]\r\n]*)\][ \t]*(?:[#;].*)?")
_COMMENT = re.compile(r"[ \t]*[#;]")


def section(name: str, values: Mapping[str, str]) -> str:
    """One INI section as text: `[name]` and `key = value` lines."""
    lines = [f"[{name}]"] + [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def merge(text: str, sections: Mapping[str, str]) -> str:
    """`text` with each named section replaced in place (or appended), all else byte for byte.

    `sections` maps a section name (as between the brackets: `default`,
    `profile prod`, `sandbox-identity`) to its full text, header included.
    Comment lines inside a replaced section are kept: they may belong to the
    section that follows.
    """
    out: list[str] = []
    written: set[str] = set()
    skipping = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.fullmatch(line.rstrip("\r\n"))
        if header is not None:
            name = header.group(1).strip()
            skipping = name in sections
            if skipping:
                if name not in written:
                    out.append(sections[name])
                    written.add(name)
                continue
        if skipping and not _COMMENT.match(line):
            continue
        out.append(line)
    rest = [body for name, body in sections.items() if name not in written]
    if rest:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        if out:
            out.append("\n")
        out.append("\n".join(rest))
    return "".join(out)


def check_writable(path: PathLike, *, merge_into: bool, what: str) -> bool:
    """Before doing any work: may `path` be written? Returns whether it exists.

    An existing file is refused unless `merge_into`; a symlink, FIFO or someone
    else's file is refused always.
    """
    exists = check_path(path, what, private=False)
    if exists and not merge_into:
        raise WouldOverwrite(
            f"{what} {path} already exists; sts-mfa never replaces a file",
            hint="pass --merge to add its profiles there (every other profile is kept byte for byte), "
            "or name a new file",
        )
    return exists


def write_sections(path: PathLike, sections: Mapping[str, str], *, merge_into: bool, what: str) -> None:
    """Create `path` with `sections`, or (with `merge_into`) merge them into it; mode 0600 either way."""
    check_writable(path, merge_into=merge_into, what=what)
    current = read_text(path, what, private=False) or ""
    write_atomic(path, merge(current, sections), what)
