"""Editing a person's AWS credentials file: the key's lines change, every other byte stays.

`rewrite` is checked byte for byte on files written the ways people write them (comments,
CRLF, odd spacing, continuation lines, no final newline), and `edit` on the file system:
atomic, 0600, refusing a symlink, a FIFO, a huge file, and a file changed under it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sts_mfa.errors import StateError, WouldOverwrite
from sts_mfa.keys.aws_files import Section, check_edit, edit, rewrite

MOVE = {"aws_access_key_id": None, "aws_secret_access_key": None, "sts_mfa_keys": "keyring"}
ROTATE = {"aws_access_key_id": "AKIANEWNEWNEWNEWNEW1", "aws_secret_access_key": "new/secret+value"}

PERSONAL = (
    "# my keys, do not share\n"
    "[default]\n"
    "region=eu-west-1\n"
    "\n"
    "[alice]   \n"
    "; rotated 2026-01-01\n"
    "aws_access_key_id   =   AKIAOLDOLDOLDOLDOLD1\n"
    "aws_secret_access_key = old/secret\n"
    "region = us-east-1\n"
    "\n"
    "[bob]\n"
    "aws_access_key_id = AKIABOBBOBBOBBOBBOB1\n"
    "aws_secret_access_key = bob-secret\n"
)


def test_moving_a_key_out_replaces_its_two_lines_with_the_marker_and_nothing_else() -> None:
    after = rewrite(PERSONAL, "alice", MOVE, "f")
    assert after == PERSONAL.replace(
        "aws_access_key_id   =   AKIAOLDOLDOLDOLDOLD1\naws_secret_access_key = old/secret\n",
        "sts_mfa_keys = keyring\n",
    )


def test_rotating_replaces_the_values_in_place_keeping_indentation_and_line_endings() -> None:
    text = PERSONAL.replace("\n", "\r\n").replace("\naws_", "\n  aws_")
    after = rewrite(text, "alice", ROTATE, "f")
    assert after == text.replace(
        "  aws_access_key_id   =   AKIAOLDOLDOLDOLDOLD1\r\n", "  aws_access_key_id = AKIANEWNEWNEWNEWNEW1\r\n"
    ).replace("  aws_secret_access_key = old/secret\r\n", "  aws_secret_access_key = new/secret+value\r\n")


def test_an_indented_line_continues_the_value_before_it_as_botocore_reads_it() -> None:
    """`  aws_secret_access_key = ...` under an unindented option is part of that option's value."""
    text = "[alice]\naws_access_key_id = AKIAOLDOLDOLDOLDOLD1\n  aws_secret_access_key = s\n"
    assert rewrite(text, "alice", {"aws_access_key_id": None}, "f") == "[alice]\n"


def test_a_continued_value_goes_with_its_option() -> None:
    text = "[alice]\naws_access_key_id = AKIAOLDOLDOLDOLDOLD1\naws_secret_access_key = one\n  two\nx = 1\n"
    assert rewrite(text, "alice", MOVE, "f") == "[alice]\nsts_mfa_keys = keyring\nx = 1\n"


def test_a_file_without_a_final_newline_gets_one_only_where_a_line_is_added() -> None:
    assert (
        rewrite("[a]\nx = 1", "a", {"sts_mfa_keys": "keyring"}, "f") == "[a]\nx = 1\nsts_mfa_keys = keyring\n"
    )
    assert rewrite("[a]\nx = 1\n[b]\ny = 2", "a", {"x": None}, "f") == "[a]\n[b]\ny = 2"


def test_an_option_of_the_same_name_in_another_section_is_left_alone() -> None:
    after = rewrite(PERSONAL, "alice", ROTATE, "f")
    assert "aws_access_key_id = AKIABOBBOBBOBBOBBOB1\naws_secret_access_key = bob-secret\n" in after


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[alice]\naws_access_key_id = A\n[alice]\nx = 1\n", "cannot be read"),  # botocore refuses duplicates
        ("[bob]\nx = 1\n", r"has no section \[alice\]"),
    ],
)
def test_a_file_botocore_cannot_read_or_without_the_section_is_refused(text: str, why: str) -> None:
    with pytest.raises((WouldOverwrite, StateError), match=why):
        rewrite(text, "alice", MOVE, "f")


def section(path: Path) -> Section:
    return Section(str(path), "alice", "the AWS credentials file")


def test_edit_writes_atomically_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(PERSONAL)
    path.chmod(0o644)
    edit(section(path), MOVE, str(tmp_path / "cache"))
    assert path.read_text() == rewrite(PERSONAL, "alice", MOVE, "f")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cache",
        "credentials",
    ]  # no temp, no lock beside it


@pytest.mark.parametrize("kind", ["symlink", "fifo", "huge", "directory"])
def test_an_unsafe_credentials_file_is_refused_and_left_as_it_is(tmp_path: Path, kind: str) -> None:
    path, real = tmp_path / "credentials", tmp_path / "real"
    real.write_text(PERSONAL)
    if kind == "symlink":
        path.symlink_to(real)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        path.write_text(PERSONAL + "# padding\n" * 200_000)
    else:
        path.mkdir()
    with pytest.raises(StateError, match=r"symbolic link|FIFO|too big|directory"):
        check_edit(section(path), MOVE)
    with pytest.raises(StateError):
        edit(section(path), MOVE, str(tmp_path / "cache"))
    assert real.read_text() == PERSONAL
    assert kind != "symlink" or path.is_symlink()


def test_a_symlinked_file_is_read_as_botocore_reads_it_only_an_edit_refuses_it(tmp_path: Path) -> None:
    """Dotfile managers link ~/.aws/credentials: finding a key there must work, changing it must not."""
    from sts_mfa.keys.aws_files import read_options

    real, link = tmp_path / "real", tmp_path / "credentials"
    real.write_text(PERSONAL)
    link.symlink_to(real)
    assert (read_options(section(link)) or {})["aws_access_key_id"] == "AKIAOLDOLDOLDOLDOLD1"
    with pytest.raises(StateError, match="symbolic link"):
        check_edit(section(link), MOVE)
