"""sts_mfa.audit.policy_files: every bad input is refused in one line naming the file, never a traceback.

Not JSON nor YAML, none of the formats, a template or plan with no role, too big (by size,
by a lying size, on standard input), FIFOs, devices, sockets and directories (within a
deadline: none may hang), bad UTF-8, YAML bombs and self-containing aliases, repeated keys,
YAML CloudFormation cannot read, standard input twice or from a terminal, deep nesting.
Hypothesis feeds random bytes, near-formats and JSON shapes: only PolicyFileError comes out.
A subprocess checks that PyYAML is imported only for a file that is not JSON.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.audit.policy_files import STDIN_NAME, PolicyFileError, PolicySource, source, syntax
from sts_mfa.audit.policy_files import read_policy_files as read
from sts_mfa.audit.policy_files.model import Refused
from sts_mfa.errors import UsageError
from tests.support.policy_files import (
    LOADERS,
    PLAN,
    POLICY,
    SAM_JSON,
    SAM_YAML,
    refused,
    refused_text,
    write,
    yaml_load,
)

# --- bad input: each refused in one line naming the file ------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"Statement": [1, 2}', "it is neither JSON nor YAML: Expecting ',' delimiter (line 1, column 20)"),
        ("Statement:\n  - a\n b: c\n", "it is neither JSON nor YAML:"),
        ("key: [unclosed\n", "it is neither JSON nor YAML:"),
        (
            "a: b\n---\nc: d\n",
            "expected a single document in the stream, but found another document (line 2, column 1)",
        ),
        ("\t{x", "it is neither JSON nor YAML:"),
    ],
)
def test_not_json_and_not_yaml(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in refused_text(tmp_path, content)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"Version": "2012-10-17"}', "no trust policy, CloudFormation role or Terraform aws_iam_role found"),
        ('{"Role": {"AssumeRolePolicyDocument": {}}}', "role or Terraform aws_iam_role found"),
        ("[1, 2]", "found (the document is a list, not an object)"),
        ('"text"', "found (the document is a string, not an object)"),
        ("just some words", "found (the document is a string, not an object)"),
        ("42", "found (the document is a number, not an object)"),
        ("true", "found (the document is a boolean, not an object)"),
        ("null", "found (the document is empty)"),
        ("# only a comment\n", "found (the document is empty)"),
        ("", "it is empty"),
        ("  \n\t\n", "it is empty"),
    ],
)
def test_json_or_yaml_that_is_none_of_the_formats(tmp_path: Path, content: str, expected: str) -> None:
    assert refused_text(tmp_path, content).endswith(expected)


@pytest.mark.parametrize(
    "template",
    [
        {"Resources": {}},
        {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": {"Type": "AWS::S3::Bucket"}}},
    ],
)
def test_a_template_with_no_role(tmp_path: Path, template: dict[str, object]) -> None:
    expected = "it is a CloudFormation template with no IAM role (no resource of Type AWS::IAM::Role)"
    assert refused_text(tmp_path, json.dumps(template)).endswith(expected)


def test_a_file_over_the_bound_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(source.MAX_BYTES + 1)  # sparse: nothing is written, and nothing must be read
    message = refused([str(path)])
    assert f"it is {source.MAX_BYTES + 1} bytes; the limit is 32 MiB" in message


def test_a_file_whose_size_lies_is_read_only_up_to_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc files say they are empty: the bound is on what is read, not only on st_size."""
    monkeypatch.setattr(source, "MAX_BYTES", 16)
    path = "/proc/self/maps"
    if not os.path.exists(path) or os.stat(path).st_size != 0:
        pytest.skip("no /proc here")
    assert refused([path]).endswith("it is over 16 bytes, the limit")


def test_a_file_is_never_read_past_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever fstat says (a file may grow after it, or lie as /proc's do), at most bound + 1 bytes."""
    path = write(tmp_path, b" " * 4096)
    monkeypatch.setattr(source, "MAX_BYTES", 16)
    returned: list[int] = []
    real_fdopen = os.fdopen

    class Spy(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.inner = real_fdopen(fd, "rb", closefd=False)

        def read(self, size: int | None = -1) -> bytes:
            data = self.inner.read(size)
            returned.append(len(data))
            return data

        def __exit__(self, *exc: object) -> None:
            self.inner.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *_a, **_k: Spy(fd))
    monkeypatch.setattr(
        os, "fstat", lambda fd: os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    )
    assert refused([path]).endswith("it is over 16 bytes, the limit")
    assert sum(returned) == 17


def test_errors_opening_or_reading_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "{}")
    real_open = os.open

    def no_permission(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", no_permission)
    assert refused([path]).endswith(": permission denied")
    monkeypatch.setattr(os, "open", real_open)

    class Broken(io.RawIOBase):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdopen", lambda *_a, **_k: Broken())
    assert refused([path]).endswith(": cannot read it: Input/output error")


def test_standard_input_over_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_BYTES", 16)
    read_sizes: list[int] = []

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            read_sizes.append(len(buffer))
            buffer[:] = b" " * len(buffer)
            return len(buffer)

    message = refused(["-"], io.BufferedReader(Endless(), buffer_size=8), names=STDIN_NAME)
    assert message.endswith("it is over 16 bytes, the limit")
    assert sum(read_sizes) <= 24  # at most the bound + 1, in the reader's chunks


def test_yaml_past_its_own_bound_is_not_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syntax, "MAX_YAML_BYTES", 64)
    message = refused_text(tmp_path, "Statement:\n" + "  - x\n" * 20)
    assert (
        "it is not JSON (Expecting value (line 1, column 1)), "
        "and at 131 bytes too big to read as YAML (the limit is 64 bytes)"
    ) in message


def run_with_deadline(paths: list[str], seconds: float = 10.0) -> BaseException | list[PolicySource]:
    """`read(paths)` in a thread: a hang fails the test instead of stopping the suite."""
    outcome: list[BaseException | list[PolicySource]] = []

    def target() -> None:
        try:
            outcome.append(read(paths))
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"reading {paths} did not finish in {seconds} s"
    return outcome[0]


def test_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a blocking open() would wait forever
    error = run_with_deadline([str(fifo)])
    assert isinstance(error, PolicyFileError)
    assert str(error) == (
        f"policy file {fifo}: it is a FIFO (named pipe), not a regular file "
        "(to read a pipe, give - and send it to standard input)"
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_never_read(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    error = run_with_deadline([device])
    assert isinstance(error, PolicyFileError)
    assert str(error) == f"policy file {device}: it is a character device, not a regular file"


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert refused([str(path)]).endswith("it is a socket, not a regular file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refused([str(tmp_path)]) == f"policy file {tmp_path}: it is a directory, not a regular file"


def test_a_missing_file_and_a_bad_path(tmp_path: Path) -> None:
    assert refused([str(tmp_path / "nope.json")]).endswith(": no such file")
    assert refused([""], names="").endswith(": no such file")
    assert refused(["a\0b"], names="a\\x00b").endswith("not a usable path (it contains a NUL character)")


def test_an_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file")
    path = write(tmp_path, "{}")
    os.chmod(path, 0)
    assert refused([path]).endswith(": permission denied")


def test_symlinks_are_followed_to_regular_files_only(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(POLICY)
    assert [s.name for s in read([str(link)])] == [str(link)]
    fifo, to_fifo = tmp_path / "fifo", tmp_path / "to-fifo"
    os.mkfifo(fifo)
    to_fifo.symlink_to(fifo)
    assert "FIFO" in str(run_with_deadline([str(to_fifo)]))
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    assert refused([str(dangling)]).endswith(": no such file")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert "cannot open it: Too many levels of symbolic links" in refused([str(loop)])


def test_invalid_utf8(tmp_path: Path) -> None:
    message = refused_text(tmp_path, b'{"Statement": "\xc3\x28"}')
    assert message.endswith("it is not UTF-8 text (byte 0xc3 at offset 15)")


def test_utf16_is_refused_with_how_to_write_utf8(tmp_path: Path) -> None:
    message = refused_text(tmp_path, '{"Statement": []}'.encode("utf-16"))
    assert "it is UTF-16 text, not UTF-8 (PowerShell's > writes UTF-16" in message


def test_a_utf8_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    [only] = read([write(tmp_path, b'\xef\xbb\xbf{"Statement": []}')])
    assert only.document == {"Statement": []}


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefghi", "bcdefghij", strict=True)
)


@LOADERS
def test_a_yaml_bomb_is_refused_before_it_expands(loader: type[Any]) -> None:
    start = time.monotonic()
    with pytest.raises(Refused, match=r"its YAML aliases would expand 30 nodes to more than 100030"):
        yaml_load(BILLION_LAUGHS, loader)
    assert time.monotonic() - start < 2


def test_a_yaml_bomb_in_a_file(tmp_path: Path) -> None:
    assert "(an alias bomb?)" in refused_text(tmp_path, BILLION_LAUGHS)


@LOADERS
def test_a_yaml_alias_inside_itself_is_refused(loader: type[Any]) -> None:
    with pytest.raises(Refused, match="a YAML alias refers to a node that contains it"):
        yaml_load("a: &a [x, *a]\n", loader)
    with pytest.raises(Refused, match="a YAML alias refers to a node that contains it"):
        yaml_load("a: &a {b: *a}\n", loader)


@LOADERS
def test_some_aliases_are_fine(loader: type[Any]) -> None:
    text = "t: &t {Statement: [{Effect: Allow}]}\n" + "".join(f"r{i}: *t\n" for i in range(1000))
    data = yaml_load(text, loader)
    assert isinstance(data, dict)
    assert len(data) == 1001


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"Statement": [], "Statement": []}', "the JSON repeats the key 'Statement' in one object"),
        (
            '{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}',
            "the JSON repeats the key 'Effect' in one object",
        ),
        (
            "Statement: []\nStatement: []\n",
            "the YAML repeats the key 'Statement' in one mapping (line 2, column 1)",
        ),
        (
            "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
            "        Statement:\n          - Effect: Allow\n            Effect: Deny\n",
            "the YAML repeats the key 'Effect' in one mapping (line 8, column 13)",
        ),
        ("x: !Sub {a: 1, a: 2}\n", "the YAML repeats the key 'a' in one mapping (line 1, column 16)"),
        ("{a: 1, 'a': 2}", "the YAML repeats the key 'a' in one mapping (line 1, column 8)"),
    ],
)
def test_repeated_keys_are_refused(tmp_path: Path, content: str, expected: str) -> None:
    assert refused_text(tmp_path, content).endswith(expected)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "x: !Foo bar\n",
            "the YAML tag !Foo is not a CloudFormation intrinsic function, nor plain YAML (line 1",
        ),
        (
            "x: !!python/object/apply:os.system [echo]\n",
            "the YAML tag !!python/object/apply:os.system is not",
        ),
        ("x: !!set {a, b}\n", "the YAML tag !!set has no JSON form, and CloudFormation does not read it"),
        ("x: !!binary aGVsbG8=\n", "the YAML tag !!binary has no JSON form"),
        ("x: !!omap [a: 1]\n", "the YAML tag !!omap has no JSON form"),
        ("x: !!int 0x\n", "the YAML has a value that cannot be read: invalid literal for int()"),
        ('x: !!int ""\n', "the YAML has a value that cannot be read"),
        ("x: !!bool maybe\n", "the YAML has a value that cannot be read: 'maybe'"),
        ("x: !!float abc\n", "the YAML has a value that cannot be read"),
        ("x: !!null [a]\n", "the YAML cannot be read as CloudFormation reads it"),
        ("x: !!int [1]\n", "expected a scalar node, but found sequence (line 1, column 4)"),
        ("x: " + "1" * 5000 + "\n", "the YAML has a number of 5000 characters (line 1, column 4)"),
        ("x: " + "1:" * 200_000 + "1\n", "the YAML has a number of 400001 characters"),  # base 60: quadratic
        (
            "? [a]\n: b\n",
            "cannot be read as CloudFormation reads it: while constructing a mapping: found unhashable key",
        ),
    ],
)
def test_yaml_that_cloudformation_cannot_read(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in refused_text(tmp_path, content)


def test_a_json_number_too_long_to_convert(tmp_path: Path) -> None:
    content = '{"Statement": [{"Sid": ' + "9" * 5000 + "}]}"
    assert refused_text(tmp_path, content).endswith("the JSON has a number of 5000 digits")


def test_standard_input_twice_is_refused(tmp_path: Path) -> None:
    message = refused(["-", POLICY, "-"], io.BytesIO(b"{}"), names="-")
    assert message == "policy file -: standard input is given more than once, and can be read only once"


def test_standard_input_from_a_terminal_is_refused() -> None:
    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    message = refused(["-"], Terminal(b"{}"), names=STDIN_NAME)
    assert message.endswith(
        ": - means standard input, which is a terminal here "
        "(pipe or redirect the file into sts-mfa, or give its path)"
    )


def test_unreadable_standard_input() -> None:
    closed = io.BytesIO(b"{}")
    closed.close()
    assert "cannot read standard input" in refused(["-"], closed, names=STDIN_NAME)
    assert "not opened in binary mode" in refused(["-"], io.StringIO("{}"), names=STDIN_NAME)


def test_a_missing_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    assert "this process has no standard input" in refused(["-"], names=STDIN_NAME)


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "- " * 5_000 + "x",
        "a:\n" + "  " * 3000,
    ],
    ids=["json-lists", "json-objects", "yaml-block", "yaml-indent"],
)
def test_deep_nesting_is_refused_or_read_never_a_recursion_error(tmp_path: Path, content: str) -> None:
    try:
        read([write(tmp_path, content)])
    except PolicyFileError as e:
        assert "\n" not in str(e)


def test_a_deep_template_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    deep: object = {"Statement": []}
    for _ in range(sys.getrecursionlimit() // 3):
        deep = {"Fn::If": ["C", deep]}
    template = {
        "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": deep}}}
    }
    text = json.dumps(template)  # within json's own nesting limit, deeper than resolve() can go
    try:
        read([write(tmp_path, text)])
    except PolicyFileError as e:
        assert e.reason == "it is nested too deeply to be a policy, template or plan"


def test_an_unprintable_path_is_shown_escaped(tmp_path: Path) -> None:
    path = str(tmp_path / "new\nline")
    message = refused([path], names=str(tmp_path / "new\\nline"))
    assert "\n" not in message


def test_the_error_is_a_usage_error_carrying_the_file_and_reason(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as caught:
        read([str(tmp_path / "x")])
    assert isinstance(caught.value, UsageError)
    assert (caught.value.path, caught.value.reason) == (str(tmp_path / "x"), "no such file")


# --- never anything but PolicyFileError -----------------------------------------------------

FRAGMENTS = [
    "{", "}", "[", "]", ":", ",", "-", " ", "\n", "  ", '"', "'", "&a", "*a", "!Ref", "!Sub", "!GetAtt",
    "!!set", "<<", "#", "?", "|", ">", "Statement", "Resources", "Type", "AWS::IAM::Role", "Properties",
    "AssumeRolePolicyDocument", "planned_values", "root_module", "resources", "aws_iam_role", "values",
    "format_version", "1.0", "${AWS::AccountId}", "Fn::Sub", "Ref", "null", "true", "1e999", "\t",
    "%YAML 1.1", "---", "!!int", "!!bool", "!!float", "!!null", "!!str", "!!seq", "!!map", '""', "0x", "0o",
    "1:2", "99999999999999999999", ".inf", "-", "_", "...", "\x00", "\ufeff", "é",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_raise_nothing_but_policy_file_error(data: bytes) -> None:
    try:
        sources = read(["-"], io.BytesIO(data))
    except PolicyFileError as e:
        assert "\n" not in str(e)
    else:
        assert all(isinstance(s, PolicySource) for s in sources)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_random_near_formats_raise_nothing_but_policy_file_error(parts: list[str]) -> None:
    try:
        sources = read(["-"], io.BytesIO("".join(parts).encode("utf-8", "surrogatepass")))
    except PolicyFileError as e:
        assert "\n" not in str(e)
    else:
        assert all(isinstance(s, PolicySource) for s in sources)


def json_values() -> st.SearchStrategy[object]:
    keys = st.sampled_from(["Resources", "Type", "Properties", "AssumeRolePolicyDocument", "Statement", "Ref",
                            "Fn::Sub", "Fn::Join", "planned_values", "values", "root_module", "resources",
                            "child_modules", "type", "address", "assume_role_policy", "resource_changes",
                            "change", "after", "after_unknown", "format_version", "mode", "x"])  # fmt: skip
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.sampled_from(
            [
                "AWS::IAM::Role",
                "aws_iam_role",
                "managed",
                "AWS::AccountId",
                "${AWS::Region}",
                "${X}",
                "1.0",
                "2.0",
                "",
            ]
        )
    )
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5)
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values())
def test_random_json_shapes_raise_nothing_but_policy_file_error(value: object) -> None:
    try:
        sources = read(["-"], io.BytesIO(json.dumps(value).encode()))
    except PolicyFileError as e:
        assert "\n" not in str(e)
    else:
        assert all(isinstance(s, PolicySource) for s in sources)


# --- PyYAML only for what is not JSON --------------------------------------------------------

PROBE = """
import sys
from sts_mfa.audit.policy_files import read_policy_files
before = "yaml" in sys.modules
read_policy_files(sys.argv[1:])
print(before, "yaml" in sys.modules)
"""


@pytest.mark.parametrize(
    ("paths", "expected"),
    [([POLICY, PLAN, SAM_JSON], "False False"), ([POLICY, SAM_YAML], "False True")],
    ids=["json", "yaml"],
)
def test_yaml_is_imported_only_for_a_file_that_is_not_json(paths: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()
