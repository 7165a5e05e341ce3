"""`sts-mfa sandbox serve --example-profiles DIR`: an identity someone already has, as AWS profiles.

A person who comes to sts-mfa usually has an IAM user with an access key, a virtual
MFA device on a phone and roles that demand MFA, named in `~/.aws/config`. This
builds exactly that in the sandbox's identity account, through the sandbox's own
endpoint as its admin (so every check AWS makes applies, and moto stays the only
keeper of state):

* IAM user `alice` (path `/`) with an access key, and a virtual MFA device `alice`
  enabled with two real codes (those of the two previous 30-second windows, so
  the current window's code is still unspent);
* roles `Admin` (allowed `*`) and `ReadOnly` (allowed `s3:ListAllMyBuckets`), each
  trusting alice only with `Bool aws:MultiFactorAuthPresent true`;
* an inline policy on alice allowing `sts:AssumeRole` on both roles and
  `sts:GetSessionToken`.

Then it writes, in DIR (created 0700 if missing): `config` with profiles
`sandbox-alice`, `sandbox-admin` and `sandbox-readonly` (`role_arn`,
`source_profile`, `mfa_serial`, `mfa_process`), `credentials` with alice's keys
under `sandbox-alice`, and `alice.seed`, the device's seed, which the
`mfa_process` command (`python -m sts_mfa.sandbox.totp_code`) turns into the
current code. All three are 0600. An existing file is refused unless `merge`, and a
merge replaces only these sections, keeping every other byte (`sts_mfa.files.ini`).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sts_mfa.sandbox.server import Sandbox

USER = "alice"
SOURCE_PROFILE = "sandbox-alice"
# profile -> (role name, the one action its policy allows)
ROLES = {"sandbox-admin": ("Admin", "*"), "sandbox-readonly": ("ReadOnly", "s3:ListAllMyBuckets")}
_MFA_ONLY = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@dataclass(frozen=True)
class ExampleFiles:
    """Where the example profiles go (absolute paths)."""

    directory: Path
    config: Path
    credentials: Path
    seed: Path

    @classmethod
    def in_directory(cls, directory: str | os.PathLike[str]) -> ExampleFiles:
        root = Path(directory).absolute()
        return cls(root, root / "config", root / "credentials", root / f"{USER}.seed")

    def check(self, *, merge: bool) -> None:
        """Before anything starts: refuse a DIR that is not a directory, and existing
        files unless `merge` (symlinks and files of others always)."""
        from sts_mfa.errors import UsageError
        from sts_mfa.files.ini import check_writable

        if not self.directory.exists():
            return  # it will be created (0700), empty
        if not self.directory.is_dir():
            raise UsageError(f"--example-profiles {self.directory} exists and is not a directory")
        for path, what in self._files():
            check_writable(path, merge_into=merge, what=what)

    def _files(self) -> list[tuple[Path, str]]:
        return [
            (self.config, "--example-profiles config file"),
            (self.credentials, "--example-profiles credentials file"),
            (self.seed, "--example-profiles seed file"),
        ]


@dataclass(frozen=True)
class ExampleIdentity:
    """What `create_identity` made: alice's keys, her device and the roles' ARNs."""

    account: str
    user_arn: str
    access_key_id: str
    secret_access_key: str
    serial: str
    seed: str
    role_arns: dict[str, str]  # profile name -> role ARN


def create_identity(sb: Sandbox, clock: Callable[[], float] = time.time) -> ExampleIdentity:
    """alice, her MFA device, the two roles and her policy, in the identity account."""
    iam = _admin_client(sb, "iam")
    user = iam.create_user(UserName=USER, Path="/")["User"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=USER, Path="/")["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"].decode()
    _enable_device(iam, serial, seed, clock)
    role_arns = {}
    for profile, (name, action) in ROLES.items():
        trust = _document(
            {"Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole", "Condition": _MFA_ONLY}
        )
        role_arns[profile] = iam.create_role(RoleName=name, Path="/", AssumeRolePolicyDocument=trust)["Role"][
            "Arn"
        ]
        allowed = _document({"Action": action, "Resource": "*"})
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-permissions", PolicyDocument=allowed)
    assume = _document(
        {"Action": "sts:AssumeRole", "Resource": sorted(role_arns.values())},
        {"Action": "sts:GetSessionToken", "Resource": "*"},
    )
    iam.put_user_policy(UserName=USER, PolicyName="assume-sandbox-roles", PolicyDocument=assume)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    account = sb.accounts[0].account_id
    return ExampleIdentity(
        account, user["Arn"], key["AccessKeyId"], key["SecretAccessKey"], serial, seed, role_arns
    )


def _enable_device(iam: Any, serial: str, seed: str, clock: Callable[[], float]) -> None:
    """Enable with the codes of the two previous windows (AWS accepts a window either
    side), leaving the current window's code for the first AssumeRole."""
    import pyotp
    from botocore.exceptions import ClientError

    totp = pyotp.TOTP(seed)
    for attempt in range(2):  # a second try if a 30-second boundary fell in between
        now = clock()
        try:
            iam.enable_mfa_device(
                UserName=USER,
                SerialNumber=serial,
                AuthenticationCode1=totp.at(now - 60),
                AuthenticationCode2=totp.at(now - 30),
            )
            return
        except ClientError as exc:
            if attempt or exc.response["Error"]["Code"] != "InvalidAuthenticationCode":
                raise


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]})


def _admin_client(sb: Sandbox, service: str) -> Any:
    import boto3
    from botocore.config import Config

    admin = sb.accounts[0]
    make_client: Any = boto3.session.Session().client
    return make_client(
        service,
        endpoint_url=sb.endpoint,
        region_name=sb.region,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def mfa_process_command(seed_path: Path) -> str:
    """The command line that prints the device's current code (this very Python)."""
    return shlex.join([sys.executable, "-m", "sts_mfa.sandbox.totp_code", str(seed_path)])


def write_files(
    files: ExampleFiles, identity: ExampleIdentity, *, endpoint: str, region: str, merge: bool
) -> None:
    """The config, the credentials and the seed, each 0600, in a 0700 DIR if it is new.

    The config first: merging into a file of someone's is what is likeliest to be
    refused (`inifiles.write_sections` proves the merge changes nothing else), and
    then nothing at all has been written."""
    from sts_mfa.files.ini import section, write_sections
    from sts_mfa.files.private import write_atomic

    if not files.directory.exists():
        files.directory.mkdir(mode=0o700, parents=True)
        files.directory.chmod(0o700)  # whatever the umask
    files.check(merge=merge)
    common = {"region": region, "endpoint_url": endpoint}
    profiles = {SOURCE_PROFILE: common}
    for profile, role_arn in identity.role_arns.items():
        profiles[profile] = {
            "role_arn": role_arn,
            "source_profile": SOURCE_PROFILE,
            "mfa_serial": identity.serial,
            **common,
            "mfa_process": mfa_process_command(files.seed),
        }
    sections = {f"profile {name}": section(f"profile {name}", values) for name, values in profiles.items()}
    write_sections(files.config, sections, merge_into=merge, what="--example-profiles config file")
    keys = {"aws_access_key_id": identity.access_key_id, "aws_secret_access_key": identity.secret_access_key}
    credentials = {SOURCE_PROFILE: section(SOURCE_PROFILE, keys)}
    write_sections(
        files.credentials, credentials, merge_into=merge, what="--example-profiles credentials file"
    )
    write_atomic(files.seed, identity.seed + "\n", "--example-profiles seed file")


def how_to_try(files: ExampleFiles) -> str:
    """One line for stderr: what to run with the new profiles."""
    return (
        f"sts-mfa sandbox: example profiles {', '.join([SOURCE_PROFILE, *ROLES])} in {files.directory}; "
        "try: sts-mfa assume sandbox-readonly, or aws --profile sandbox-readonly sts get-caller-identity "
        f"(the AWS CLI asks for the MFA code: `{mfa_process_command(files.seed)}` prints it)"
    )
