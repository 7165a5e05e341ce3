"""`teardown`: delete everything the state records, in AWS's order, never what is not the tool's.

A state file is input: before anything is deleted, every recorded user, role and
policy that exists is checked for the tool's three marks (see `sts_mfa.state.marks`),
and the whole teardown is refused if one lacks any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import translate_errors
from sts_mfa.errors import StateError
from sts_mfa.scenario.context import Context, check_account, gone, mfa_serial, policy_arn
from sts_mfa.scenario.iam_delete import delete_policy, delete_role, delete_user_tree, delete_virtual_device
from sts_mfa.state.document import Transaction
from sts_mfa.state.marks import missing_marks
from sts_mfa.state.model import State


@dataclass
class TeardownResult:
    deleted: list[str] = field(default_factory=list)
    nothing_to_do: bool = False
    qr_png: str | None = None  # what happened to a QR code PNG left by an unfinished setup


def teardown(ctx: Context, txn: Transaction) -> TeardownResult:
    """Delete everything the state records, in AWS's order, asking AWS what is attached.

    A state file is input: before anything is deleted, every recorded resource that
    exists is checked for the tool's three marks (path, name prefix, tag), and the
    whole teardown is refused if one lacks any (exit 4, naming it).
    """
    result = TeardownResult()
    state = txn.state
    if state is None:
        result.nothing_to_do = True
        return result
    qr_png = _qr_png_to_remove(state)  # before the seed is forgotten with the user
    identity_side = state.on_side("identity")
    # The role side is reached only when something is recorded there: a state whose
    # --role-profile was mistyped (so nothing was made there) clears without it.
    role_side = state.on_side("role")
    with translate_errors("teardown"):
        if identity_side:
            check_account(ctx.aws, state.account, "the user")
        if role_side and ctx.role_aws is not None:
            check_account(ctx.role_side, state.role_account, "the role")
        _refuse_what_is_not_ours(ctx, state, identity_side=identity_side, role_side=role_side)
        if identity_side:
            _delete_identity_side(ctx, txn, state, result)
        if role_side:
            _delete_role_side(ctx, txn, state, result)
    if qr_png is not None:  # a QR code PNG from an unfinished phone setup: it holds the seed
        from sts_mfa.mfa.qr import remove_if_ours

        result.qr_png = remove_if_ours(*qr_png)
        ctx.report.info(result.qr_png)
    txn.delete()
    return result


def _delete_identity_side(ctx: Context, txn: Transaction, state: State, result: TeardownResult) -> None:
    """The user and everything on it (its device too), or a device left by an unfinished setup."""
    iam = ctx.aws.iam()
    if state.user is not None:
        serial = state.mfa_device.serial if state.mfa_device else None
        if serial is None and state.mfa_device and state.account:
            serial = mfa_serial(state.account, state.iam_path, state.mfa_device.name)
        delete_user_tree(iam, state.user.name, ctx.report, result.deleted, extra_serial=serial)
        state.user = state.access_key = state.mfa_device = state.user_policy = None
        state.seed = None
        state.totp = {}
        state.session = None
        txn.save()
    elif state.mfa_device is not None and state.mfa_device.serial:
        delete_virtual_device(iam, state.mfa_device.serial, ctx.report, result.deleted)
        state.mfa_device = None
        txn.save()


def _delete_role_side(ctx: Context, txn: Transaction, state: State, result: TeardownResult) -> None:
    """The role (its policies detached first), then the managed policy; saved after each."""
    role_iam = ctx.role_side.iam()
    if state.role is not None:
        delete_role(role_iam, state.role.name, ctx.report, result.deleted)
        state.role = None
        state.policy_attached = False
        state.session = None
        txn.save()
    if state.policy is not None:
        arn = state.policy.arn
        if arn is None and state.role_account:
            arn = policy_arn(state.role_account, state.iam_path, state.policy.name)
        if arn is not None:
            delete_policy(role_iam, arn, ctx.report, result.deleted)
        state.policy = None
        txn.save()


def _qr_png_to_remove(state: State) -> tuple[str, bytes | None] | None:
    if not state.qr_png:
        return None
    from sts_mfa.mfa.qr import expected_png

    return state.qr_png, expected_png(state.seed, state.user.name if state.user else None, state.account)


def _marks_problem(
    kind: str, label: str, describe: Callable[[], tuple[str, str, Any]], prefix: str
) -> str | None:
    """Why the existing resource is not the tool's, or None (also None when it is gone).

    `describe()` asks AWS for the resource's (name, path, tags).
    """
    try:
        name, path, tag_list = describe()
    except ClientError as e:
        if gone(e):
            return None
        raise
    missing = missing_marks(kind, name, path, tag_list, prefix=prefix)
    return f"{kind} {label}: {'; '.join(missing)}" if missing else None


def _refuse_what_is_not_ours(ctx: Context, state: State, *, identity_side: bool, role_side: bool) -> None:
    """Raise StateError, before anything is deleted, if a recorded resource lacks the tool's marks."""
    checks: list[tuple[str, str, Callable[[], tuple[str, str, Any]]]] = []
    if identity_side and state.user is not None:
        iam, user = ctx.aws.iam(), state.user.name

        # GetUser, GetRole and GetPolicy return the tags too (AWS omits `Tags` when there are none).
        def user_marks() -> tuple[str, str, Any]:
            found = iam.get_user(UserName=user)["User"]
            return found["UserName"], found["Path"], found.get("Tags", [])

        checks.append(("user", user, user_marks))
    if role_side:
        role_iam = ctx.role_side.iam()
        if state.role is not None:
            role = state.role.name

            def role_marks() -> tuple[str, str, Any]:
                found = role_iam.get_role(RoleName=role)["Role"]
                return found["RoleName"], found["Path"], found.get("Tags", [])

            checks.append(("role", role, role_marks))
        arn = state.policy.arn if state.policy is not None else None
        if arn is not None:
            policy = arn

            def policy_marks() -> tuple[str, str, Any]:
                found = role_iam.get_policy(PolicyArn=policy)["Policy"]
                return found["PolicyName"], found["Path"], found.get("Tags", [])

            checks.append(("policy", arn, policy_marks))
    problems = [
        p for kind, label, describe in checks if (p := _marks_problem(kind, label, describe, state.prefix))
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StateError(
            f"teardown refused, nothing was deleted: the state file names {problems[0]}{more}",
            hint="sts-mfa deletes only what carries all its marks: the path /sts-mfa/, its name prefix "
            "and the tag created-by=sts-mfa",
        )
