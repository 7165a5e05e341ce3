"""Property tests where the space of bad input is too large for a table: paths, URLs, INI files.

Each property says what must hold for every input hypothesis can think of: the tool
either accepts it or refuses it with its own error (one line, a documented exit code),
never with a Python exception, and never by touching a file it did not write.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.aws import endpoints
from sts_mfa.cli.params import FilePath, path_problem
from sts_mfa.errors import StsMfaError, UsageError
from sts_mfa.files import ini as inifiles
from sts_mfa.files import private as storage
from sts_mfa.text import one_line

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --------------------------------------------------------------------- endpoint URLs

url_parts = st.one_of(
    st.text(max_size=40),
    st.builds(
        "{}://{}{}{}{}".format,
        st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "", "http:", "file"]),
        st.sampled_from(
            ["127.0.0.1", "LOCALHOST", "[::1]", "[::1", "exa mple.com", "", "h", "user:pw@h", "ünï.example"]
        ),
        st.sampled_from(["", ":80", ":443", ":5000", ":0", ":99999", ":x", ":"]),
        st.sampled_from(["", "/", "//", "/path/", "/a b", "/\n"]),
        st.sampled_from(["", "?q=1", "#frag", "?"]),
    ),
)


@SETTINGS
@given(url_parts)
def test_an_endpoint_is_normalised_or_refused_in_one_line(url: str) -> None:
    try:
        normal = endpoints.normalize(url)
    except UsageError as e:
        assert "\n" not in one_line(str(e))
        assert len(str(e)) < 300  # the input is quoted, cut short
        return
    assert endpoints.normalize(normal) == normal  # idempotent
    assert endpoints.same(url, normal) and endpoints.same(normal, url)
    assert not normal.endswith("/") and normal.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/"),
        ("http://127.0.0.1:5000", "HTTP://127.0.0.1:5000"),
        ("http://Example.COM", "http://example.com:80"),
        ("https://example.com/", "https://EXAMPLE.com:443"),
    ],
)
def test_spellings_of_one_endpoint_are_the_same(a: str, b: str) -> None:
    assert endpoints.same(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://h:1", "http://h:2"),
        ("http://h", "https://h"),
        ("http://h/a", "http://h/b"),
        (None, "http://h"),
    ],
)
def test_different_endpoints_are_different(a: str | None, b: str) -> None:
    assert not endpoints.same(a, b)


# ------------------------------------------------------------------------------ paths

path_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.ascii_letters + "/.[]*?\\\n\x1b ", max_size=300),
    st.builds(lambda n: "a" * n, st.integers(0, 5000)),
)


@SETTINGS
@given(path_text)
def test_a_state_path_is_accepted_or_refused_by_click(text: str) -> None:
    """--state: anything is a clean usage error or a string the tool can use as a path."""
    try:
        value = FilePath().convert(text, None, None)
    except click.BadParameter as e:
        assert len(e.format_message()) < 400
        return
    assert path_problem(str(value)) is None


@SETTINGS
@given(name=st.text(alphabet=string.ascii_letters + string.digits + "._-[]* ", min_size=1, max_size=40))
def test_reading_any_name_in_a_directory_of_traps_raises_only_our_errors(tmp_path: Path, name: str) -> None:
    """Whatever sits at a path (nothing, a FIFO, a directory, a symlink, a device), reading it
    returns text, None, or raises StateError; it never blocks and never follows a link."""
    traps = tmp_path / "traps"
    traps.mkdir(exist_ok=True)
    if not (traps / "fifo").exists():
        os.mkfifo(traps / "fifo")
        (traps / "dir").mkdir()
        (traps / "link").symlink_to("/etc/hostname")
        (traps / "null").symlink_to("/dev/null")
    for candidate in (
        traps / name,
        traps / "fifo",
        traps / "dir",
        traps / "link",
        traps / "null",
        Path("/dev/zero"),
    ):
        if path_problem(str(candidate)) is not None:
            continue
        try:
            storage.read_text(candidate)
            storage.check_path(candidate)
        except StsMfaError:
            pass


@SETTINGS
@given(st.text(max_size=200))
def test_every_message_is_one_line(text: str) -> None:
    line = one_line(f"sts-mfa: error: {text}")
    assert "\n" not in line and "\r" not in line and "\x1b" not in line


# ------------------------------------------------------------------ INI merge, byte for byte

section_name = (
    st.text(alphabet=string.ascii_letters + string.digits + "-_ ", min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
ini_line = st.one_of(
    st.builds(
        "key{} = {}".format,
        st.integers(0, 9),
        st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=20),
    ),
    st.sampled_from(["", "# comment", "; comment", "  indented = yes", "k=v\r"]),
)
ini_file = st.lists(st.tuples(section_name, st.lists(ini_line, max_size=4)), max_size=6)


def render(sections: list[tuple[str, list[str]]]) -> str:
    return "".join(f"[{name}]\n" + "".join(line + "\n" for line in lines) for name, lines in sections)


@SETTINGS
@given(ini_file, st.booleans())
def test_merging_keeps_every_other_section_byte_for_byte(
    sections: list[tuple[str, list[str]]], trailing: bool
) -> None:
    text = render(sections) + ("tail-without-newline = 1" if trailing and sections else "")
    ours = {"sandbox-identity": inifiles.section("sandbox-identity", {"aws_access_key_id": "AKIANEW"})}
    merged = inifiles.merge(text, ours)
    for name, lines in sections:
        if name == "sandbox-identity":
            continue
        body = f"[{name}]\n" + "".join(line + "\n" for line in lines)
        if name not in {n for n, _ in sections if n != name} and body in text:
            assert body in merged or body.rstrip("\n") in merged, (body, merged)
    assert merged.count("[sandbox-identity]") == 1
    assert inifiles.merge(merged, ours) == merged  # merging again changes nothing
