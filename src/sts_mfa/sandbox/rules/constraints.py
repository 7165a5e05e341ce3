"""AWS's parameter constraints, checked and reported the way AWS reports them.

AWS validates parameters against its API model before anything else and answers
`ValidationError` with every violation in one message: "2 validation errors
detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must
have length greater than or equal to 2; ...". Members are named in camelCase, in
the order of the API model; patterns are printed as the model writes them (`\\w`
meaning [A-Za-z0-9_], ASCII only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sts_mfa.sandbox.http import errors as awserrors

_DIGITS = re.compile(r"[0-9]*")


def _violation(value: str, member: str, why: str) -> str:
    return f"Value '{value}' at '{member}' failed to satisfy constraint: {why}"


@dataclass(frozen=True)
class Text:
    """A string member: its length bounds and the pattern it must match."""

    member: str
    min_length: int
    max_length: int | None = None
    pattern: str | None = None  # as AWS prints it
    regex: re.Pattern[str] | None = None  # what is matched (default: `pattern`, ASCII)
    required: bool = False

    def problems(self, value: str) -> list[str]:
        whys = []
        if len(value) < self.min_length:
            whys.append(f"Member must have length greater than or equal to {self.min_length}")
        if self.max_length is not None and len(value) > self.max_length:
            whys.append(f"Member must have length less than or equal to {self.max_length}")
        regex = self.regex or (re.compile(self.pattern, re.ASCII) if self.pattern else None)
        if regex is not None and not regex.fullmatch(value):
            whys.append(f"Member must satisfy regular expression pattern: {self.pattern}")
        return [_violation(value, self.member, why) for why in whys]


@dataclass(frozen=True)
class Integer:
    """An integer member and its bounds."""

    member: str
    minimum: int
    maximum: int
    required: bool = False

    def problems(self, value: str) -> list[str]:
        try:
            number = int(value)
        except ValueError:
            return [_violation(value, self.member, "Member must be an integer")]
        whys = []
        if number < self.minimum:
            whys.append(f"Member must have value greater than or equal to {self.minimum}")
        if number > self.maximum:
            whys.append(f"Member must have value less than or equal to {self.maximum}")
        return [_violation(value, self.member, why) for why in whys]


# sts:AssumeRole, in the order of STS's API model.
ASSUME_ROLE: dict[str, Text | Integer] = {
    "RoleArn": Text("roleArn", min_length=20, required=True),
    "RoleSessionName": Text(
        "roleSessionName", min_length=2, max_length=64, pattern=r"[\w+=,.@-]*", required=True
    ),
    "DurationSeconds": Integer("durationSeconds", minimum=900, maximum=43200),
    "SerialNumber": Text("serialNumber", min_length=9, max_length=256, pattern=r"[\w+=/:,.@-]*"),
    "TokenCode": Text("tokenCode", min_length=6, max_length=6, pattern=r"[\d]*", regex=_DIGITS),
    "ExternalId": Text("externalId", min_length=2, max_length=1224, pattern=r"[\w+=,.@:/-]*"),
}

# sts:GetSessionToken (900 s to 36 h for an IAM user).
GET_SESSION_TOKEN: dict[str, Text | Integer] = {
    "DurationSeconds": Integer("durationSeconds", minimum=900, maximum=129600),
    "SerialNumber": ASSUME_ROLE["SerialNumber"],
    "TokenCode": ASSUME_ROLE["TokenCode"],
}

# iam:EnableMFADevice's two codes. An empty code is reported for its length only.
AUTHENTICATION_CODES = (
    Text("authenticationCode1", min_length=6, max_length=6, pattern=r"[\d]+", regex=_DIGITS),
    Text("authenticationCode2", min_length=6, max_length=6, pattern=r"[\d]+", regex=_DIGITS),
)


def validate(params: dict[str, str], members: dict[str, Text | Integer]) -> None:
    """Raise AWS's ValidationError listing every constraint `params` violate."""
    problems: list[str] = []
    for name, constraint in members.items():
        value = params.get(name)
        if value is not None:
            problems += constraint.problems(value)
        elif constraint.required:
            problems.append(
                f"Value null at '{constraint.member}' failed to satisfy constraint: Member must not be null"
            )
    if problems:
        raise awserrors.validation_error(problems)


def validate_authentication_codes(codes: tuple[str, str]) -> None:
    """EnableMFADevice's codes: six digits each (a missing code counts as empty)."""
    problems = [
        problem
        for constraint, code in zip(AUTHENTICATION_CODES, codes, strict=True)
        for problem in constraint.problems(code)
    ]
    if problems:
        raise awserrors.validation_error(problems)
