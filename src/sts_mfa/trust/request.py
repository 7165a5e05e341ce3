"""The request a trust policy is asked about, as solver variables: who calls, how, with which keys.

How the request is signed is its *kind*, one variable of the model:

* long-term: an IAM user's or the root user's access keys; no MFA key at all;
* temporary: credentials obtained without MFA (a role session, a session token, a
  federated user); `aws:MultiFactorAuthPresent` is "false" and there is no age;
* web-identity / saml: a sign-in through an identity provider; no MFA key;
* service: an AWS service (or IAM Roles Anywhere, for certificate holders); no MFA key;
* mfa: a request made with MFA: "true", and an age in seconds.

An AWS caller is kept as its parts (partition, account, type, path, name, session),
never as one ARN for the solver to take apart: a principal entry fixes parts, and ARNs
are built from them only where a condition reads one. Every condition key the policy
names gets a presence bit and a value of its type (`sts_mfa.trust.keys`); keys that follow
from the caller or the kind are tied here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sts_mfa.trust import keys as K
from sts_mfa.trust.solver import smt

KindName = Literal["long-term", "temporary", "web-identity", "saml", "service", "mfa"]
LONG_TERM, TEMPORARY, WEB_IDENTITY, SAML, SERVICE, MFA = range(6)
KIND_NAMES: dict[int, KindName] = {
    LONG_TERM: "long-term",
    TEMPORARY: "temporary",
    WEB_IDENTITY: "web-identity",
    SAML: "saml",
    SERVICE: "service",
    MFA: "mfa",
}
NO_MFA_KINDS = (LONG_TERM, TEMPORARY, WEB_IDENTITY, SAML, SERVICE)
AWS_KINDS = (LONG_TERM, TEMPORARY, MFA)
ACTION_OF = {
    LONG_TERM: "sts:AssumeRole",
    TEMPORARY: "sts:AssumeRole",
    MFA: "sts:AssumeRole",
    SERVICE: "sts:AssumeRole",
    WEB_IDENTITY: "sts:AssumeRoleWithWebIdentity",
    SAML: "sts:AssumeRoleWithSAML",
}
USER, ROOT, ROLE_SESSION, FEDERATED_USER = range(4)
TYPE_NAMES = {USER: "User", ROOT: "Account", ROLE_SESSION: "AssumedRole", FEDERATED_USER: "FederatedUser"}
# Which callers sign each kind of AWS request: long-term keys belong to users and root;
# a session token, a role session or a federated user signs temporary requests.
TYPES_OF = {
    LONG_TERM: (USER, ROOT),
    TEMPORARY: (USER, ROOT, ROLE_SESSION, FEDERATED_USER),
    MFA: (USER, ROOT, ROLE_SESSION),
}


def _class(chars: str) -> smt.ReRef:
    """A character class like `\\w+=,.@-`: ASCII word characters and the others listed."""
    pieces = [smt.Range("a", "z"), smt.Range("A", "Z"), smt.Range("0", "9"), smt.Re("_")]
    pieces += [smt.Re(c) for c in chars.replace("\\w", "")]
    return smt.Union(*pieces)


@dataclass
class Value:
    """One condition key in the request: present or not, and its value (one, or several members)."""

    key: str
    type: str  # string, number, date, ip
    present: smt.BoolRef
    value: smt.ExprRef  # String, Int or Real; for ip: the IPv4 address
    members: list[tuple[smt.BoolRef, smt.SeqRef]] = field(default_factory=list)  # set operators
    text: smt.SeqRef | None = None  # a whole number's decimal text, for string comparisons
    # A key that follows from the caller: its value in each case of the caller's type,
    # compared branch by branch (never one string the solver must take apart).
    branches: list[tuple[smt.BoolRef, smt.SeqRef]] = field(default_factory=list)
    arn_of_parts: bool = False  # the branches are aws:PrincipalArn's
    ip6: smt.BitVecRef | None = None
    is_ip6: smt.BoolRef | None = None


class Request:
    """Solver variables for the request, and the facts that tie them together."""

    def __init__(self) -> None:
        self.facts: list[smt.BoolRef] = []
        self.values: dict[str, Value] = {}
        self.kind = smt.Int("kind")
        self.caller = smt.String("caller")  # a provider or a service; an AWS caller is its parts
        self.partition, self.account, self.path, self.name, self.session, self.unique = (
            smt.String(w) for w in ("partition", "account", "path", "name", "session", "unique")
        )
        self.principal_type = smt.Int("type")
        self.facts += [
            smt.And(self.kind >= LONG_TERM, self.kind <= MFA),
            *(
                smt.Implies(self.kind == k, smt.Or(*(self.principal_type == t for t in TYPES_OF[k])))
                for k in AWS_KINDS
            ),
            smt.Or(*(self.partition == smt.StringVal(p) for p in ("aws", "aws-cn", "aws-us-gov"))),
            smt.Length(self.account) == 12,
            smt.Length(self.name) >= 1,
            smt.Length(self.session) >= 2,
        ]

    def is_kind(self, *kinds: int) -> smt.BoolRef:
        return smt.Or(*(self.kind == k for k in kinds))

    def is_aws(self) -> smt.BoolRef:
        return self.is_kind(*AWS_KINDS)

    def is_type(self, principal_type: int) -> smt.BoolRef:
        return self.principal_type == principal_type

    # -- what follows from the caller's parts ----------------------------------------------------

    def _arn(self, service: str, *rest: smt.SeqRef | str) -> smt.SeqRef:
        parts = [smt.StringVal(p) if isinstance(p, str) else p for p in rest]
        return smt.Concat(
            smt.StringVal("arn:"), self.partition, smt.StringVal(f":{service}::"), self.account, *parts
        )

    def _principal_arns(self) -> list[smt.SeqRef]:
        """`aws:PrincipalArn` by type: user, root user, role (not the session), federated user."""
        return [
            self._arn("iam", ":user", self.path, self.name),
            self._arn("iam", ":root"),
            self._arn("iam", ":role", self.path, self.name),
            self._arn("sts", ":federated-user/", self.name),
        ]

    def _userids(self) -> list[smt.SeqRef]:
        """`aws:userid` by type: AIDA... for a user, the account for root, AROA...:session, account:name."""
        return [
            smt.Concat(smt.StringVal("AIDA"), self.unique),
            self.account,
            smt.Concat(smt.StringVal("AROA"), self.unique, smt.StringVal(":"), self.session),
            smt.Concat(self.account, smt.StringVal(":"), self.name),
        ]

    # -- condition keys ----------------------------------------------------------------------

    def declare(self, key: str, type_: str, set_atoms: int) -> Value:
        """The key's variables (made once), with what the caller and the kind fix about it."""
        if key in self.values:
            return self.values[key]
        n = f"key:{key}"
        present = smt.Bool(f"{n}:present")
        if type_ == "number":
            value: smt.ExprRef = smt.Int(f"{n}:int") if key in K.TYPED else smt.Real(f"{n}:real")
        elif type_ == "date":
            value = smt.Int(f"{n}:epoch")
        elif type_ == "ip":
            value = smt.BitVec(f"{n}:ip4", 32)
        else:
            value = smt.String(f"{n}:str")
        entry = Value(key, type_, present, value)
        if type_ == "number" and key in K.TYPED:
            entry.text = smt.String(f"{n}:text")
            self.facts += [value >= 0, entry.text == smt.IntToStr(value)]
        if type_ == "ip":
            entry.ip6 = smt.BitVec(f"{n}:ip6", 128)
            entry.is_ip6 = smt.Bool(f"{n}:is_ip6")
        if set_atoms and type_ in ("string", "number", "date") and K.single_valued(key):
            # A set operator over a single-valued key: the set is that one value, or empty.
            entry.members = [(present, value)]
        elif set_atoms and type_ == "string":
            entry.members = [(smt.Bool(f"{n}:in{i}"), smt.String(f"{n}:m{i}")) for i in range(set_atoms)]
            self.facts.append(present == smt.Or(*(member for member, _ in entry.members)))
        self.values[key] = entry
        self.facts += self._tied(entry)
        return entry

    def _tied(self, entry: Value) -> list[smt.BoolRef]:
        key, present, value = entry.key, entry.present, entry.value
        if key == K.MFA_PRESENT:
            return [
                present == self.is_kind(TEMPORARY, MFA),
                smt.Implies(
                    present, value == smt.If(self.kind == MFA, smt.StringVal("true"), smt.StringVal("false"))
                ),
            ]
        if key == K.MFA_AGE:
            return [present == (self.kind == MFA), smt.Implies(present, value >= 0)]
        if key in K.PRINCIPAL_KEYS:
            return self._principal_key(entry)
        facts = []
        if key in K.PARAMETERS and isinstance(value, smt.SeqRef):
            chars, low, high = K.PARAMETERS[key]
            length = smt.Length(value)
            shape = smt.And(smt.InRe(value, smt.Star(_class(chars))), length >= low, length <= high)
            facts.append(smt.Implies(present, shape))
        if key in K.ASSUME_ROLE_ONLY:
            return [*facts, smt.Implies(present, self.is_kind(LONG_TERM, TEMPORARY, MFA, SERVICE))]
        if facts:
            return facts
        provider = K.provider_key(key)
        if provider == "saml":
            return [smt.Implies(present, self.kind == SAML)]
        if provider is not None:
            suffix = smt.StringVal(f"oidc-provider/{provider}")
            via = smt.Or(self.caller == smt.StringVal(provider), smt.SuffixOf(suffix, self.caller))
            return [smt.Implies(present, smt.And(self.kind == WEB_IDENTITY, via))]
        return []

    def _principal_key(self, entry: Value) -> list[smt.BoolRef]:
        key, present, value = entry.key, entry.present, entry.value
        if key == K.SERVICE_NAME:
            return [present == (self.kind == SERVICE), smt.Implies(present, value == self.caller)]
        if key == K.USERNAME:
            return [
                present == smt.And(self.is_aws(), self.is_type(USER)),
                smt.Implies(present, value == self.name),
            ]
        if key == K.PRINCIPAL_ACCOUNT:
            return [present == self.is_aws(), smt.Implies(present, value == self.account)]
        types = (USER, ROOT, ROLE_SESSION, FEDERATED_USER)
        cases = {
            K.PRINCIPAL_ARN: self._principal_arns(),
            K.PRINCIPAL_TYPE: [smt.StringVal(TYPE_NAMES[t]) for t in types],
            K.USERID: self._userids(),
        }[key]
        entry.branches = [(self.is_type(t), expr) for t, expr in zip(types, cases, strict=True)]
        entry.arn_of_parts = key == K.PRINCIPAL_ARN
        return [present == self.is_aws()]
