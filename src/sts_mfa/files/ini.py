"""Writing sections into a user's AWS config or credentials file without touching the rest.

`~/.aws/credentials` holds a person's real keys. The tool never replaces such a
file: it refuses an existing one unless told to merge, and a merge replaces or
appends only the sections it owns, keeping every other byte as it was (the
other profiles, their comments, their order, blank lines, even odd spacing).
A parser that rewrites the file (configparser) would lose comments and
formatting, so sections are found by their header lines, with configparser's own
rules for what a header is, and copied verbatim; then the result is read back
with configparser to prove every other section reads exactly as before.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sts_mfa.errors import StateError, WouldOverwrite
from sts_mfa.files.private import PathLike, check_path, read_text, write_atomic

# What configparser (and so botocore) reads: lines split as a file opened in text mode
# splits them (\n, \r\n or \r, never a form feed or U+2028), and its section header rule.
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SECTION = re.compile(r"\[(?P<header>.+)\]")  # configparser.RawConfigParser.SECTCRE
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$")  # configparser's OPTCRE
_COMMENT_PREFIXES = ("#", ";")


def lines(text: str) -> list[str]:
    """`text` split as configparser reads it, each line with its own ending (joined, it is `text`)."""
    return _LINES.findall(text)


def parsed(text: str, what: str) -> dict[str, dict[str, str]]:
    """Every section's options as botocore reads them; a file it cannot read is refused (exit 2)."""
    return _parsed(text, what)


def section(name: str, values: Mapping[str, str]) -> str:
    """One INI section as text: `[name]` and `key = value` lines."""
    lines = [f"[{name}]"] + [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Line:
    """One line as configparser reads it: the section it opens (`header`), and the option it is
    part of (`option`, lower-cased as botocore's parser names it: its first line or a continuation)."""

    header: str | None = None
    option: str | None = None


def headers(lines: list[str]) -> list[str | None]:
    """For each line, the section it opens as configparser reads it (None: not a header)."""
    return [line.header for line in read_lines(lines)]


def read_lines(lines: list[str]) -> list[Line]:
    """Each line's part, as configparser reads it.

    Mirrors RawConfigParser._read: blank and comment lines change nothing; a line
    indented deeper than the option before it continues that option's value (even if
    it looks like `[name]`); otherwise a `[...]` line opens the section between the
    first `[` and the last `]`, spaces included, and any other line starts an option
    (its name: what comes before the first `=` or `:`, stripped).
    """
    found: list[Line] = []
    option: str | None = None
    in_section, indent_level = False, 0
    for line in lines:
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith(_COMMENT_PREFIXES):
            found.append(Line())
            continue
        indent = len(body) - len(body.lstrip())
        if in_section and option is not None and indent > indent_level:
            found.append(Line(option=option))  # a continuation line
            continue
        indent_level = indent
        match = _SECTION.match(stripped)
        if match is not None:
            found.append(Line(header=match.group("header")))
            in_section, option = True, None
        else:
            option = _option_name(stripped)
            found.append(Line(option=option))
    return found


def _option_name(stripped: str) -> str:
    match = _OPTION.match(stripped)
    return (match.group("option") if match else stripped).rstrip().lower()


def merge(text: str, sections: Mapping[str, str]) -> str:
    """`text` with each named section replaced in place (or appended), all else byte for byte.

    `sections` maps a section name (exactly as between the brackets: `default`,
    `profile prod`, `sandbox-identity`) to its full text, header included. Comment
    lines inside a replaced section are kept: they may belong to the section after it.
    """
    lines = _LINES.findall(text)
    out: list[str] = []
    written: set[str] = set()
    skipping = False
    for line, header in zip(lines, headers(lines), strict=True):
        if header is not None:
            skipping = header in sections
            if skipping:
                if header not in written:
                    out.append(sections[header])
                    written.add(header)
                continue
        if skipping and not line.strip().startswith(_COMMENT_PREFIXES):
            continue
        out.append(line)
    rest = [body for name, body in sections.items() if name not in written]
    if rest:
        if out and not out[-1].endswith(("\n", "\r")):
            out.append("\n")
        if out:
            out.append("\n")
        out.append("\n".join(rest))
    return "".join(out)


def _parsed(text: str, what: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()  # as botocore reads the AWS files
    try:
        parser.read_string(text)
    except configparser.Error as e:
        raise WouldOverwrite(
            f"{what} cannot be read the way the AWS CLI reads it: {_first_line(e)}"
        ) from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def checked_merge(text: str, sections: Mapping[str, str], what: str) -> str:
    """`merge`, then proof that every other section reads exactly as before (else nothing is written)."""
    before = _parsed(text, what) if text.strip() else {}
    merged = merge(text, sections)
    after = _parsed(merged, f"{what}, merged,")
    changed = [name for name, items in before.items() if name not in sections and after.get(name) != items]
    if changed:
        raise WouldOverwrite(f"merging into {what} would change section [{changed[0]}]; nothing was written")
    return merged


def check_writable(path: PathLike, *, merge_into: bool, what: str) -> bool:
    """Before doing any work: may `path` be written? Returns whether it exists.

    An existing file is refused unless `merge_into`; a symlink, FIFO or someone
    else's file is refused always.
    """
    import os

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StateError(f"directory {directory} for {what} {path} does not exist")
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
    write_atomic(path, checked_merge(current, sections, f"{what} {path}"), what)
