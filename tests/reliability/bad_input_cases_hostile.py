"""The bad-input table's hardening cases: input that is hostile, malformed or someone else's.

Every file, path, environment variable, stream and HTTP answer the tool reads is input:
a FIFO where the state file should be, a symlink, a file another user owns, a closed
stdout, a pipe whose reader has gone, Ctrl-C at a prompt, an endpoint that answers with
an HTML page, a state file naming resources the tool did not create. Each case is a row
of `docs/bad-inputs.md` (the sections after "Sessions, credentials, region, endpoint").
"""

from __future__ import annotations

import http.server
import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from sts_mfa.sandbox import Faults
from sts_mfa.session.handoff import KEPT_SETTINGS
from sts_mfa.state.document import write_atomic
from tests.reliability.bad_input_bench import (
    Bench,
    Case,
    Outcome,
    Prepare,
    edit,
    env,
    half_setup,
    iam,
    nothing_deleted,
    phone_setup,
    software,
    stdin,
    text,
    with_session,
)
from tests.support.sandbox import phone_codes, residue

USER_FILE = b"# a file of the user's own: sts-mfa must not touch it\n"

# ------------------------------------------------------------------- preparations


def fifo_at_state(b: Bench) -> None:
    """A FIFO where the state file should be: opening it for reading would block forever."""
    os.mkfifo(b.cli.state, 0o600)


def fifo_policy_file(b: Bench) -> None:
    os.mkfifo(b.path("policy.fifo"), 0o600)


def not_a_policy_file(b: Bench) -> None:
    b.path("package.json").write_text('{"name": "app", "version": "1.0.0"}')


def beyond_the_solver_alphabet(b: Bench) -> None:
    """A Deny whose value holds U+E0041 (a tag character): cvc5's strings stop at U+2FFFF."""
    allow = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "sts:AssumeRole",
    }
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:AssumeRole",
        "Condition": {"StringNotEquals": {"aws:RequestTag/x": "\U000e0041"}},
    }
    b.path("tagged.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [allow, deny]}))


def symlink_at_state(b: Bench) -> None:
    """The state path is a symlink to a real state file elsewhere."""
    real = b.path("elsewhere.json")
    os.replace(b.cli.state, real)
    b.cli.state.symlink_to(real)


def owned_by_someone_else(b: Bench) -> None:
    os.chown(b.cli.state, 65534, 65534)  # the tests run as root, which may give a file away


def huge_state(b: Bench) -> None:
    b.cli.state.write_bytes(b" " * (2 << 20) + b"{}")
    b.cli.state.chmod(0o600)


def lock_is_a_symlink(b: Bench) -> None:
    """`<state>.lock` is a symlink to a file of the user's: taking the lock must not open it."""
    victim = b.path("victim.txt")
    victim.write_bytes(USER_FILE)
    lock = b.cli.state.with_name(b.cli.state.name + ".lock")
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)


def decoy_temp_files(b: Bench) -> None:
    """Next to state `prod`: an in-flight temp file of `prod.json`, and a user's file that looks alike."""
    write_atomic(b.path("prod"), b.cli.state.read_text())
    (b.path("prod.json")).write_text("{}")
    for name in (".prod.json.0123456789abcdef.tmp", ".prod.x.tmp", ".prod.0123456789abcdeg.tmp"):
        b.path(name).write_bytes(USER_FILE)


def glob_characters_in_the_name(b: Bench) -> None:
    """A state named `st[a]te.json`: as a glob its temp-file pattern would match `state.json`'s."""
    write_atomic(b.path("st[a]te.json"), b.cli.state.read_text())
    b.path(".state.json.0123456789abcdef.tmp").write_bytes(USER_FILE)


def users_file(name: str) -> Prepare:
    def prepare(b: Bench) -> None:
        b.path(name).write_bytes(USER_FILE)

    return prepare


def copy_state_to(name: str) -> Prepare:
    def prepare(b: Bench) -> None:
        write_atomic(b.path(name), b.cli.state.read_text())

    return prepare


def in_directory(b: Bench) -> None:
    """Run in the case's directory (and come back afterwards)."""
    here = os.getcwd()
    os.chdir(b.tmp)
    b.cleanup.append(lambda: os.chdir(here))


def earlier_kept_state(b: Bench) -> None:
    b.path("sts-mfa-demo-state.json").write_bytes(USER_FILE)


def teardown_will_fail(b: Bench) -> None:
    """The demo's setup makes 8 changes; the 9th (teardown's first) fails."""
    b.sb.set_faults(Faults(fail={9: "before"}))


class _NotAws(http.server.BaseHTTPRequestHandler):
    """A web server that is not AWS: answers every request with the configured status and body."""

    status = 200
    body = b""
    content_type = "text/html"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


def not_aws(status: int, body: bytes) -> Prepare:
    """Start a local web server answering `status` and `body`; its URL is b.saved['url']."""

    def prepare(b: Bench) -> None:
        handler = type("Handler", (_NotAws,), {"status": status, "body": body})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        b.saved["url"] = f"http://127.0.0.1:{server.server_address[1]}"
        b.cleanup.append(server.shutdown)

    return prepare


def endpoint(b: Bench) -> str:
    return str(b.sb.endpoint)


def foreign_user_with_our_name(b: Bench) -> None:
    """The tool's user is gone; someone else's user of the same name (path /, untagged) is there."""
    data = b.state()
    client = iam(b)
    name = data["user"]["name"]
    for key in client.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        client.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    serial = data["mfa_device"]["serial"]
    client.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    client.delete_virtual_mfa_device(SerialNumber=serial)
    client.delete_user_policy(UserName=name, PolicyName=data["user_policy"]["name"])
    client.delete_user(UserName=name)
    client.create_user(UserName=name, Path="/")
    client.create_access_key(UserName=name)


def untag_role(b: Bench) -> None:
    iam(b).untag_role(RoleName=b.state()["role"]["name"], TagKeys=["created-by"])


def mistyped_role_profile(b: Bench) -> None:
    """An unfinished setup recorded with a --role-profile that does not exist (an older sts-mfa let it)."""
    half_setup(b)
    data = b.state()
    data["role_profile"] = "nope"
    b.write(data)


def credential_sources(b: Bench) -> None:
    b.env.update(
        {
            "AWS_PROFILE": "admin",
            "AWS_SHARED_CREDENTIALS_FILE": str(b.path("credentials")),
            "AWS_CONFIG_FILE": str(b.path("config")),
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(b.path("token")),
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(b.path("jwt")),
            "AWS_ROLE_ARN": "arn:aws:iam::111111111111:role/other",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
            "STS_MFA_SANDBOX_ROLE_SECRET_ACCESS_KEY": "sandbox-role-secret",
            "STS_MFA_CODE": "123456",
            "AWS_ACCESS_KEY": "legacy-key-name",
            "AWS_SECRET_KEY": "legacy-secret-name",
            "AWS_CREDENTIAL_FILE": str(b.path("old-tools-credentials")),
            "AWS_CREDENTIAL_PROFILES_FILE": str(b.path("java-v1-credentials")),
            "BOTO_CONFIG": str(b.path("boto.cfg")),
            "JAVA_TOOL_OPTIONS": "-Xss4m -Daws.accessKeyId=AKIAJAVAPROPERTY",
            "_JAVA_OPTIONS": "-Daws.secretKey=java-property-secret",
        }
    )


# ------------------------------------------------------------------------- checks


def no_lock_file(b: Bench, _: Outcome) -> None:
    """A refused path gains no `.lock` companion."""
    assert not b.cli.state.with_name(b.cli.state.name + ".lock").exists()


def victim_untouched(b: Bench, _: Outcome) -> None:
    assert b.path("victim.txt").read_bytes() == USER_FILE


def decoys_untouched(b: Bench, _: Outcome) -> None:
    for name in (".prod.json.0123456789abcdef.tmp", ".prod.x.tmp", ".prod.0123456789abcdeg.tmp"):
        assert b.path(name).read_bytes() == USER_FILE, name


def glob_decoy_untouched(b: Bench, _: Outcome) -> None:
    assert b.path(".state.json.0123456789abcdef.tmp").read_bytes() == USER_FILE


def file_untouched(name: str) -> Callable[[Bench, Outcome], None]:
    def check(b: Bench, _: Outcome) -> None:
        assert b.path(name).read_bytes() == USER_FILE

    return check


def short_line(b: Bench, result: Outcome) -> None:
    """What the input was is cut short in the message: the error line stays readable."""
    assert max(len(line) for line in result.stderr.splitlines()) < 400, result.stderr[:500]


def the_foreign_user_is_still_there(b: Bench, _: Outcome) -> None:
    name = b.state()["user"]["name"]
    user = iam(b).get_user(UserName=name)["User"]
    assert user["Path"] == "/"
    assert iam(b).list_access_keys(UserName=name)["AccessKeyMetadata"], "its key was deleted"
    assert residue(b.sb)["roles"], "the tool's role was deleted though teardown refused"


def role_still_there(b: Bench, _: Outcome) -> None:
    assert residue(b.sb)["roles"]


def no_state_file(b: Bench, _: Outcome) -> None:
    assert not b.cli.state.exists()


def user_removed(b: Bench, _: Outcome) -> None:
    assert residue(b.sb)["users"] == []
    assert not b.cli.state.exists()


def resumable_after_interrupt(b: Bench, _: Outcome) -> None:
    """The interrupted phone setup finishes with two codes: nothing was lost."""
    b.run("setup", "--codes", *phone_codes(b.sb, b.cli))


def both_kept(b: Bench, result: Outcome) -> None:
    """The earlier kept state is intact; this run's is in a new file, named in the output; teardown works."""
    assert b.path("sts-mfa-demo-state.json").read_bytes() == USER_FILE
    second = b.path("sts-mfa-demo-state-2.json")
    assert str(second) in result.output, result.output
    b.sb.set_faults(Faults())
    b.run("--state", str(second), "teardown")
    assert residue(b.sb)["users"] == []


def nothing_scrubbed_reaches_the_child(b: Bench, result: Outcome) -> None:
    names = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", result.stdout, flags=re.MULTILINE))
    leaked = {n for n in names if n.startswith(("AWS_CONTAINER_", "STS_MFA_")) and n not in KEPT_SETTINGS} | (
        names
        & {
            "AWS_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "AWS_ACCESS_KEY",
            "AWS_SECRET_KEY",
            "AWS_CREDENTIAL_FILE",
            "AWS_CREDENTIAL_PROFILES_FILE",
            "BOTO_CONFIG",
            "_JAVA_OPTIONS",
        }
    )
    assert leaked == set(), f"reached the child: {sorted(leaked)}"
    assert "AWS_EC2_METADATA_DISABLED=true" in result.stdout
    assert "sandbox-role-secret" not in result.stdout
    assert "JAVA_TOOL_OPTIONS=-Xss4m\n" in result.stdout  # the JVM's other options are kept
    assert "AKIAJAVAPROPERTY" not in result.stdout and "java-property-secret" not in result.stdout


# -------------------------------------------------------------------------- the table

HUGE = "1" * 100_000
LONG_PATH = "/".join(["a" * 200] * 25)  # 5,024 characters

CASES = [
    # --- hostile files where sts-mfa reads or writes ---
    Case(
        "state-fifo",
        "a FIFO where the state file should be (`status`)",
        [],
        4,
        r"is a FIFO \(named pipe\), not a regular file",
        (fifo_at_state,),
        runner="shell",
        shell="{sts} status",
        check=no_lock_file,
    ),
    Case(
        "state-fifo-credential-process",
        "a FIFO at the state path, on the cached-credentials path (`assume --format process`)",
        [],
        4,
        r"is a FIFO",
        (fifo_at_state,),
        runner="shell",
        shell="{sts} assume --format process",
        check=no_lock_file,
    ),
    Case(
        "state-fifo-setup",
        "a FIFO at the state path, `setup` (which would take the lock)",
        ["setup", "--software-token"],
        4,
        r"is a FIFO",
        (fifo_at_state,),
        check=no_lock_file,
    ),
    Case(
        "policy-file-fifo",
        "a FIFO given to `audit --policy-file`: opening it for reading would block forever",
        lambda b: ["audit", "--policy-file", str(b.path("policy.fifo"))],
        2,
        r"policy file .*policy\.fifo: it is a FIFO \(named pipe\), not a regular file",
        (fifo_policy_file,),
    ),
    Case(
        "policy-file-char-device",
        "`audit --policy-file /dev/zero`, a device that never ends",
        ["audit", "--policy-file", "/dev/zero"],
        2,
        r"policy file /dev/zero: it is a character device, not a regular file",
    ),
    Case(
        "policy-file-not-a-policy",
        "`audit --policy-file` given a JSON file that describes no role",
        lambda b: ["audit", "--policy-file", str(b.path("package.json"))],
        2,
        r"no trust policy, CloudFormation role or Terraform aws_iam_role found",
        (not_a_policy_file,),
    ),
    Case(
        "policy-file-beyond-the-solver-alphabet",
        "`audit --policy-file` given a Deny whose value has a character past U+2FFFF, which the "
        "solver cannot hold",
        lambda b: ["audit", "--policy-file", str(b.path("tagged.json"))],
        3,
        r"1 undecided; first: .*tagged\.json \(undecided: .*a character beyond U\+2FFFF",
        (beyond_the_solver_alphabet,),
    ),
    Case(
        "state-char-device",
        "`--state /dev/zero`, a device that never ends",
        ["--state", "/dev/zero", "status"],
        4,
        r"/dev/zero is a character device, not a regular file",
    ),
    Case(
        "config-dev-null",
        "`AWS_CONFIG_FILE=/dev/null`, as in an `exec --server` child: an empty config",
        ["assume", "prod", "--format", "process"],
        6,
        r"The config profile \(prod\) could not be found",
        (env(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull),),
    ),
    Case(
        "config-char-device",
        "`AWS_CONFIG_FILE=/dev/zero`, a device that never ends",
        ["assume", "prod", "--format", "process"],
        4,
        r"/dev/zero is a character device, not a regular file",
        (env(AWS_CONFIG_FILE="/dev/zero"),),
    ),
    Case(
        "state-symlink",
        "the state path is a symlink to a state file",
        ["teardown"],
        4,
        r"is a symbolic link",
        (software, symlink_at_state),
        check=nothing_deleted,
    ),
    Case(
        "state-other-owner",
        "a state file owned by another user",
        ["teardown"],
        4,
        r"belongs to another user \(uid 65534\)",
        (software, owned_by_someone_else),
        check=nothing_deleted,
    ),
    Case(
        "state-huge",
        "a 2 MiB state file",
        ["status"],
        4,
        r"bytes: far too big to be one sts-mfa wrote",
        (huge_state,),
    ),
    Case(
        "lock-symlink",
        "`<state>.lock` is a symlink to a file of the user's",
        ["assume", "--force"],
        4,
        r"lock file .*\.lock is a symbolic link",
        (software, lock_is_a_symlink),
        check=victim_untouched,
    ),
    Case(
        "stale-temp-exact-match",
        "state `prod` beside `prod.json`'s temp file and look-alike files of the user's",
        lambda b: ["--state", str(b.path("prod")), "assume", "--force"],
        0,
        r"",
        (software, decoy_temp_files),
        changes_state=True,
        check=decoys_untouched,
    ),
    Case(
        "stale-temp-glob-characters",
        "a state named `st[a]te.json` beside `state.json`'s temp file",
        lambda b: ["--state", str(b.path("st[a]te.json")), "assume", "--force"],
        0,
        r"",
        (software, glob_characters_in_the_name),
        changes_state=True,
        check=glob_decoy_untouched,
    ),
    Case(
        "qr-png-exists",
        "`setup --qr-png` naming a file that already exists",
        lambda b: ["setup", "--qr-png", str(b.path("mine.png"))],
        2,
        r"mine\.png already exists; sts-mfa never overwrites a file",
        (users_file("mine.png"),),
        changes_state=True,
        check=file_untouched("mine.png"),
    ),
    Case(
        "credentials-file-exists",
        "`sandbox serve --credentials-file` naming an existing file",
        [],
        2,
        r"already exists; sts-mfa never replaces a file \(pass --merge",
        (users_file("credentials"),),
        runner="shell",
        shell="{sts} sandbox serve --background --credentials-file {tmp}/credentials",
        check=file_untouched("credentials"),
    ),
    Case(
        "svg-exists",
        "`demo --svg` naming an existing file",
        lambda b: ["demo", "--svg", str(b.path("mine.svg"))],
        2,
        r"mine\.svg already exists; sts-mfa never overwrites a file",
        (users_file("mine.svg"),),
        check=file_untouched("mine.svg"),
    ),
    Case(
        "demo-kept-state-exists",
        "`demo --aws` fails in teardown where an earlier run's kept state is",
        ["demo", "--aws"],
        1,
        r"the demo failed: teardown",
        (in_directory, earlier_kept_state, teardown_will_fail),
        check=both_kept,
    ),
    # --- streams: closed, gone, interrupted ---
    Case(
        "stdout-closed",
        "stdout closed (`>&-`), `status`",
        [],
        1,
        r"standard output was closed",
        (software,),
        runner="shell",
        shell="{sts} status >&-",
    ),
    Case(
        "stdout-closed-cache-hit",
        "stdout closed, a cached session (`assume --format process`)",
        [],
        1,
        r"standard output was closed",
        (software, with_session),
        runner="shell",
        shell="{sts} assume --format process >&-",
    ),
    Case(
        "stdout-reader-gone",
        "the pipe's reader has gone (`\\| head -0`), `status --json`",
        [],
        1,
        r"standard output was closed",
        (software,),
        runner="shell",
        shell="{sts} status --json | {{ exec 0<&-; sleep 2; }}; exit ${{PIPESTATUS[0]}}",
    ),
    Case(
        "stdout-reader-gone-cache-hit",
        "the pipe's reader has gone, a cached session (`assume --format process`)",
        [],
        1,
        r"standard output was closed",
        (software, with_session),
        runner="shell",
        shell="{sts} assume --format process | {{ exec 0<&-; sleep 2; }}; exit ${{PIPESTATUS[0]}}",
    ),
    Case(
        "stdout-full",
        "stdout cannot be written (`> /dev/full`: no space left), `status --json`",
        [],
        1,
        r"standard output could not be written: No space left on device",
        (software,),
        runner="shell",
        shell="{sts} status --json > /dev/full",
    ),
    Case(
        "stdout-full-help",
        "stdout cannot be written, while Click prints `--help`",
        [],
        1,
        r"standard output could not be written: No space left on device",
        (),
        runner="shell",
        shell="{sts} --help > /dev/full",
    ),
    Case(
        "stdout-full-cache-hit",
        "stdout cannot be written, a cached session (`assume --format process`)",
        [],
        1,
        r"standard output could not be written: No space left on device",
        (software, with_session),
        runner="shell",
        shell="{sts} assume --format process > /dev/full",
    ),
    Case(
        "stdin-closed-code",
        "stdin closed (`<&-`) where `--code -` reads the code",
        [],
        2,
        r"standard input is closed, so there is no code to read",
        (software,),
        runner="shell",
        shell="{sts} assume --force --code - <&-",
    ),
    Case(
        "stdin-closed-prompt",
        "stdin closed, phone mode, a new session needed",
        [],
        2,
        r"no terminal to ask for one",
        (phone_setup,),
        runner="shell",
        shell="{sts} assume --force <&-",
    ),
    Case(
        "code-stdin-huge",
        "100,000 digits on stdin for `--code -`",
        ["assume", "--force", "--code", "-"],
        2,
        r"exactly 6 digits; '1{16}'… \(\d+ characters\) has",
        (software, stdin(HUGE + "\n")),
        check=short_line,
    ),
    Case(
        "code-argument-huge",
        "a 100,000-digit `--code`",
        ["assume", "--force", "--code", HUGE],
        2,
        r"exactly 6 digits; '1{16}'… \(100000 characters\) has 100000",
        (software,),
        check=short_line,
    ),
    Case(
        "prompt-ctrl-c-setup",
        "Ctrl-C at setup's prompt for the first code",
        ["setup"],
        130,
        r"interrupted; the state file keeps what was done so far",
        runner="pty",
        keys=(("First code from the app", b"\x03"),),
        changes_state=True,
        check=resumable_after_interrupt,
    ),
    Case(
        "prompt-ctrl-d-setup",
        "Ctrl-D at setup's prompt for the first code",
        ["setup"],
        130,
        r"interrupted; the state file keeps what was done so far",
        runner="pty",
        keys=(("First code from the app", b"\x04"),),
        changes_state=True,
        check=resumable_after_interrupt,
    ),
    Case(
        "prompt-ctrl-c-assume",
        "Ctrl-C at assume's prompt for a code",
        ["assume", "--force"],
        130,
        r"interrupted; the state file keeps what was done so far",
        (phone_setup,),
        runner="pty",
        keys=(("MFA code from your authenticator app", b"\x03"),),
    ),
    Case(
        "prompt-ctrl-d-assume",
        "Ctrl-D at assume's prompt for a code",
        ["assume", "--force"],
        130,
        r"interrupted; the state file keeps what was done so far",
        (phone_setup,),
        runner="pty",
        keys=(("MFA code from your authenticator app", b"\x04"),),
    ),
    # --- malformed values ---
    Case(
        "endpoint-not-a-url",
        "`--endpoint-url foo`",
        ["--endpoint-url", "foo", "status"],
        2,
        r"'foo' is not an endpoint URL: it must start with http:// or https://",
    ),
    Case(
        "endpoint-no-host",
        "`--endpoint-url http://`",
        ["--endpoint-url", "http://", "check-deny"],
        2,
        r"is not an endpoint URL: it has no host name",
    ),
    Case(
        "endpoint-bad-port",
        "`--endpoint-url http://127.0.0.1:99999`",
        ["--endpoint-url", "http://127.0.0.1:99999", "setup", "--software-token"],
        2,
        r"is not an endpoint URL: Port out of range",
    ),
    Case(
        "endpoint-bad-ipv6",
        "`--endpoint-url 'http://[::1'`",
        ["--endpoint-url", "http://[::1", "setup", "--software-token"],
        2,
        r"is not an endpoint URL: Invalid IPv6 URL",
    ),
    Case(
        "endpoint-with-space",
        "`--endpoint-url 'http://exa mple.com'`",
        ["--endpoint-url", "http://exa mple.com", "status"],
        2,
        r"is not an endpoint URL: it contains spaces",
    ),
    Case(
        "endpoint-env-malformed",
        "`AWS_ENDPOINT_URL=not-a-url`",
        ["check-deny"],
        2,
        r"AWS_ENDPOINT_URL: 'not-a-url' is not an endpoint URL",
        (software, env(AWS_ENDPOINT_URL="not-a-url")),
    ),
    Case(
        "state-path-empty",
        "`--state ''`",
        ["--state", "", "status"],
        2,
        r"'': the path is empty",
    ),
    Case(
        "state-path-too-long",
        "a 5,024-character `--state`",
        ["--state", LONG_PATH, "status"],
        2,
        r"… \(5024 characters\): the path is 5024 bytes long",
        check=short_line,
    ),
    Case(
        "state-name-too-long",
        "a `--state` whose file name is 300 characters",
        lambda b: ["--state", str(b.path("s" * 300)), "status"],
        2,
        r"a name in the path is longer than 255 bytes",
        check=short_line,
    ),
    Case(
        "exec-empty-command",
        "`exec -- ''`",
        ["exec", "--", ""],
        2,
        r"the command to run is empty",
        (software,),
    ),
    Case(
        "state-integer-too-long",
        "a state file with a 5,001-digit number",
        ["assume", "--force"],
        4,
        r"holds a number far too long to be one sts-mfa wrote",
        (
            software,
            text(
                lambda t: t.replace('"max_session_duration": 3600', '"max_session_duration": 1' + "0" * 5000)
            ),
        ),
    ),
    Case(
        "markup-in-path",
        "rich markup in the state file's name (`[bold red]x[blink].json`)",
        lambda b: ["--state", str(b.path("[bold red]x[blink].json")), "status", "--offline"],
        0,
        r"State file .*\[bold red\]x\[blink\]\.json",
        (software, copy_state_to("[bold red]x[blink].json")),
    ),
    Case(
        "markup-in-error",
        "rich markup in a path named in an error",
        lambda b: ["--state", str(b.path("[red]nope[/]") / "s.json"), "setup", "--software-token"],
        4,
        r"directory .*/\[red\]nope\[/\] for the state file does not exist",
    ),
    Case(
        "newline-in-path",
        "a newline and an escape in `--state`",
        lambda b: ["--state", str(b.path("a\nb\x1b[31m.json")), "check-deny"],
        4,
        r"no state file at .*a\\nb\\x1b\[31m\.json",
    ),
    Case(
        "columns-zero",
        "`COLUMNS=0`",
        [],
        0,
        r"State file",
        (software,),
        runner="shell",
        shell="COLUMNS=0 LINES=0 {sts} status --offline",
    ),
    Case(
        "columns-negative",
        "`COLUMNS=-7`",
        [],
        0,
        r"Usage: ",
        runner="shell",
        shell="COLUMNS=-7 {sts} --help",
    ),
    Case(
        "columns-junk",
        "`COLUMNS=wide`",
        [],
        0,
        r"would delete",
        (software,),
        runner="shell",
        shell="COLUMNS=wide {sts} teardown --dry-run",
    ),
    # --- endpoints that answer but are not AWS ---
    Case(
        "endpoint-empty-body",
        "an endpoint that answers 200 with an empty body",
        lambda b: ["--endpoint-url", b.saved["url"], "setup", "--software-token"],
        1,
        r"does not look like an AWS endpoint: GetCallerIdentity was answered with an empty body \(HTTP 200\)",
        (not_aws(200, b""),),
        check=no_state_file,
    ),
    Case(
        "endpoint-html",
        "an endpoint that answers 200 with an HTML page",
        lambda b: ["--endpoint-url", b.saved["url"], "setup", "--software-token"],
        1,
        r"does not look like an AWS endpoint: GetCallerIdentity was answered with an HTML page",
        (not_aws(200, b"<!DOCTYPE html><html><body>Welcome</body></html>"),),
        check=no_state_file,
    ),
    Case(
        "endpoint-html-404",
        "an endpoint that answers 404 with an HTML page",
        lambda b: ["--endpoint-url", b.saved["url"], "setup", "--software-token"],
        1,
        r"answered HTTP 404 .* it does not look like an AWS endpoint",
        (not_aws(404, b"<html><body>Not Found</body></html>"),),
        check=no_state_file,
    ),
    Case(
        "endpoint-trailing-slash",
        "the state's endpoint spelled with a trailing slash",
        lambda b: ["--endpoint-url", endpoint(b) + "/", "check-deny"],
        0,
        r"Proven",
        (software,),
    ),
    Case(
        "endpoint-upper-case",
        "the state's endpoint spelled in capitals",
        lambda b: ["--endpoint-url", endpoint(b).upper(), "check-deny"],
        0,
        r"Proven",
        (software,),
    ),
    # --- state files and resources that are not sts-mfa's ---
    Case(
        "state-name-not-from-prefix",
        "a state file naming user `alice` (not the state's prefix)",
        ["teardown"],
        4,
        r"user\.name: expected 'sts-mfa-[0-9a-f]{8}-user' \(from the prefix\), got 'alice'",
        (software, edit(lambda d: d["user"].update(name="alice"))),
        check=nothing_deleted,
    ),
    Case(
        "state-arn-other-path",
        "a state file whose role ARN is outside /sts-mfa/",
        ["teardown"],
        4,
        r"role\.arn: expected the ARN of role /sts-mfa/",
        (software, edit(lambda d: d["role"].update(arn=d["role"]["arn"].replace("/sts-mfa/", "/admin/")))),
        check=nothing_deleted,
    ),
    Case(
        "state-prefix-malformed",
        "a state file whose prefix is not `sts-mfa-` and 8 hex digits",
        ["teardown"],
        4,
        r"prefix: expected 'sts-mfa-' and 8 hex digits, got 'prod'",
        (software, edit(lambda d: d.update(prefix="prod"))),
        check=nothing_deleted,
    ),
    Case(
        "teardown-foreign-user",
        "the state's user name now belongs to someone else's user (path /, untagged)",
        ["teardown"],
        4,
        r"teardown refused, nothing was deleted: the state file names user sts-mfa-[0-9a-f]{8}-user: "
        r"its path is '/', not '/sts-mfa/'; it is not tagged created-by=sts-mfa",
        (software, foreign_user_with_our_name),
        check=the_foreign_user_is_still_there,
    ),
    Case(
        "teardown-untagged-role",
        "the state's role lost its created-by tag",
        ["teardown"],
        4,
        r"teardown refused, nothing was deleted: the state file names role .*: it is not tagged",
        (software, untag_role),
        check=role_still_there,
    ),
    Case(
        "role-profile-typo-setup",
        "`setup --role-profile` naming a profile that does not exist",
        ["setup", "--software-token", "--role-profile", "nope"],
        6,
        r"profile \(nope\) could not be found",
        check=no_state_file,
    ),
    Case(
        "role-profile-typo-teardown",
        "teardown of an unfinished setup recorded with a missing `--role-profile`",
        ["teardown"],
        0,
        r"Removed \d+ resource",
        (mistyped_role_profile,),
        changes_state=True,
        check=user_removed,
    ),
    Case(
        "exec-scrubs-credential-sources",
        "`exec -- env` with profiles, container, web-identity, other tools' and Java's credentials set",
        [],
        0,
        r"AWS_SESSION_TOKEN=",
        (software, with_session, credential_sources),
        runner="shell",
        shell="{sts} exec -- env",
        shows_credentials=True,
        check=nothing_scrubbed_reaches_the_child,
    ),
]
