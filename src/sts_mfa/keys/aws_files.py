"""A profile's key in the AWS config and credentials files: found, and edited in place.

`~/.aws/credentials` holds a person's real keys, so it is edited as `sts_mfa.files.ini`
merges: line by line, only the option lines asked for changed (a key's lines removed, or
its value replaced, the line's own indentation and line ending kept), every other byte as
it was; then the result is read back with configparser, as botocore reads it, and must be
exactly the old file with just those options changed, or nothing is written.

A file to edit is read without following a symlink (editing through one would replace the
link with a file: a dotfile manager's link lost), refused if it is a FIFO, a device, someone
else's or over 1 MiB (`sts_mfa.files.private.read_text`), and written atomically (a new
file in the same directory, fsynced, renamed over it: mode 0600), under a lock in the
private cache directory (never a `.lock` beside the user's file), after checking it did
not change since it was read.

Where a profile's key is: in the credentials file's `[NAME]`, else in the config file's
`[profile NAME]` (`[default]` for the default profile), as botocore looks. After
`keys add`, the section that held it says `sts_mfa_keys = keyring` instead (botocore
ignores an option it does not know): that line is what tells sts-mfa to ask the keyring.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sts_mfa.errors import StateError, WouldOverwrite
from sts_mfa.files import cache, ini
from sts_mfa.files.private import read_config_text, read_text, write_atomic

MARKER = "sts_mfa_keys"
IN_KEYRING = "keyring"
KEY_OPTIONS = ("aws_access_key_id", "aws_secret_access_key")
TOKEN_OPTION = "aws_session_token"  # noqa: S105 - an option name, not a password


@dataclass(frozen=True)
class Section:
    """One section of one of the two files: where a profile's settings are written."""

    path: str
    name: str  # as between the brackets
    what: str  # "the AWS credentials file", for messages

    def __str__(self) -> str:
        return f"[{self.name}] of {self.path}"


def sections_of(profile: str, config: str, credentials: str) -> list[Section]:
    """The sections botocore reads `profile` from, the credentials file's first."""
    names = ["default", "profile default"] if profile == "default" else [f"profile {profile}"]
    return [Section(credentials, profile, "the AWS credentials file")] + [
        Section(config, name, "the AWS config file") for name in names
    ]


def read_options(section: Section) -> dict[str, str] | None:
    """The section's options as botocore reads them (None: no such section, or no such file).

    Read as botocore reads the file, through a symlink too (only an edit refuses one)."""
    text = read_config_text(section.path)
    if text is None:
        return None
    return ini.parsed(text, f"{section.what} {section.path}").get(section.name)


def edit(section: Section, changes: Mapping[str, str | None], lock_dir: str) -> None:
    """Set (str) or remove (None) options of `section`, keeping every other byte of its file."""
    with _locked(section.path, lock_dir):
        text = read_text(section.path, section.what, private=False)
        if text is None:
            raise StateError(f"{section.what} {section.path} is gone")
        new = rewrite(text, section.name, changes, f"{section.what} {section.path}")
        if read_text(section.path, section.what, private=False) != text:
            raise WouldOverwrite(
                f"{section.what} {section.path} changed while sts-mfa was editing it; nothing was written"
            )
        write_atomic(section.path, new, section.what)


def check_edit(section: Section, changes: Mapping[str, str | None]) -> None:
    """Before anything else is changed: would `edit` be refused (an unsafe file, a risky edit)?"""
    text = read_text(section.path, section.what, private=False)
    if text is None:
        raise StateError(f"{section.what} {section.path} is gone")
    rewrite(text, section.name, changes, f"{section.what} {section.path}")


def rewrite(text: str, name: str, changes: Mapping[str, str | None], what: str) -> str:
    """`text` with the options `changes` names set or removed in section `name`, all else byte for byte."""
    lines = ini.lines(text)
    parts = ini.read_lines(lines)
    inside = _section_lines(parts, name)
    if inside is None:
        raise StateError(f"{what} has no section [{name}]")
    out: list[str] = []
    done: set[str] = set()
    insert_at = 0  # where an option the section lacks goes: after its last option (else its header)
    removed_at: int | None = None  # or where the first option removed was
    for i, (line, part) in enumerate(zip(lines, parts, strict=True)):
        if i in inside and part.option is not None and part.option in changes:
            value = changes[part.option]
            if value is None and removed_at is None:
                removed_at = len(out)
            if part.option not in done and value is not None:
                out.append(_option_line(line, part.option, value))
            done.add(part.option)
        else:
            out.append(line)
        if i == inside.start - 1 or (i in inside and part.option is not None):
            insert_at = len(out)
    insert_at = insert_at if removed_at is None else removed_at
    added = [f"{k} = {v}" for k, v in changes.items() if k not in done and v is not None]
    if added:
        ending = _ending(lines[inside.start - 1])
        if insert_at and not out[insert_at - 1].endswith(("\n", "\r")):
            out[insert_at - 1] += ending  # the file's last line had no line ending
        out[insert_at:insert_at] = [each + ending for each in added]
    result = "".join(out)
    _check(text, result, name, changes, what)
    return result


def _section_lines(parts: list[ini.Line], name: str) -> range | None:
    """The line numbers of the section `name`, after its header (None: it is not in the file)."""
    start = next((i + 1 for i, part in enumerate(parts) if part.header == name), None)
    if start is None:
        return None
    end = next((i for i in range(start, len(parts)) if parts[i].header is not None), len(parts))
    return range(start, end)


def _option_line(line: str, option: str, value: str) -> str:
    """`option = value` in place of `line`: its indentation and its line ending kept."""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return f"{indent}{option} = {value}{_ending(line)}"


def _ending(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return "\n"


def _check(before: str, after: str, name: str, changes: Mapping[str, str | None], what: str) -> None:
    """After must read, as botocore reads it, exactly as before but for `changes` in `name`."""
    old, new = ini.parsed(before, what), ini.parsed(after, what)
    expected = {**old, name: {k: v for k, v in old.get(name, {}).items() if k not in changes}}
    expected[name].update({k: v for k, v in changes.items() if v is not None})
    if new != expected:
        raise WouldOverwrite(
            f"editing {what} would change more than section [{name}]'s keys; nothing was written"
        )


@contextmanager
def _locked(path: str, lock_dir: str) -> Iterator[None]:
    """Edits of one file take turns: the lock lives in the private cache, keyed by the file's path."""
    entry = os.path.join(cache.ensure(lock_dir), cache.entry_name("aws-file", os.path.abspath(path)))
    with cache.locked(entry, f"the edit of {path}"):
        yield
