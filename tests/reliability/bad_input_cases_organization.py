"""The bad-input table's organization cases: `audit --organization` given what AWS never sends.

An endpoint that answers STS and IAM as AWS does but ListAccounts with something else (no
list, IDs that are not 12 digits, tokens that repeat or never end, an account listed
twice) is a small local server (`fake_organizations`); who may list the accounts is the
sandbox's to say (a member account, an account in no organization). Each case is a row of
`docs/bad-inputs.md` (the section "Organizations").
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any, ClassVar
from urllib.parse import parse_qs

from sts_mfa.audit import org_accounts
from sts_mfa.sandbox.fixtures.organization import create_organization
from tests.reliability.bad_input_bench import Bench, Case, Prepare
from tests.support.sandbox import admin

CALLER = "111111111111"
IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    f"<Arn>arn:aws:iam::{CALLER}:user/auditor</Arn><UserId>AIDAEXAMPLE</UserId><Account>{CALLER}</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)
NO_ROLES = (
    '<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<GetAccountAuthorizationDetailsResult><RoleDetailList/><IsTruncated>false</IsTruncated>"
    "</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>"
    "</GetAccountAuthorizationDetailsResponse>"
)


def page(*ids: str, token: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"Accounts": [{"Id": i, "Name": f"account {i}", "State": "ACTIVE"} for i in ids]}
    if token is not None:
        answer["NextToken"] = token
    return answer


class _Organizations(http.server.BaseHTTPRequestHandler):
    """STS and IAM as AWS answers them (one caller, no roles); ListAccounts as `pages` says."""

    pages: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target") or ""
        if target.endswith(".ListAccounts"):
            asked = json.loads(body or b"{}").get("NextToken")
            number = int(asked.rsplit("-", 1)[1]) if asked else 0
            self._send(json.dumps(self.pages[min(number, len(self.pages) - 1)]), "application/x-amz-json-1.1")
            return
        action = parse_qs(body.decode()).get("Action", [""])[0]
        self._send(IDENTITY if action == "GetCallerIdentity" else NO_ROLES, "text/xml")

    def _send(self, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def fake_organizations(*pages: dict[str, Any]) -> Prepare:
    """A local endpoint whose ListAccounts answers `pages` (page N for NextToken "page-N"); b.saved['url']."""

    def prepare(b: Bench) -> None:
        handler = type("Handler", (_Organizations,), {"pages": list(pages)})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        b.saved["url"] = f"http://127.0.0.1:{server.server_address[1]}"
        b.cleanup.append(server.shutdown)

    return prepare


def fewer_pages(b: Bench) -> None:
    """The bound on ListAccounts pages at 50 for this case (10,000 local pages would take seconds)."""
    before = org_accounts.MAX_PAGES
    org_accounts.MAX_PAGES = 50
    b.cleanup.append(lambda: setattr(org_accounts, "MAX_PAGES", before))


def an_organization(b: Bench) -> None:
    create_organization(b.sb, members=2)


def as_a_member(b: Bench) -> None:
    """The caller: a member account's OrganizationAccountAccessRole session."""
    member = create_organization(b.sb, members=1).members[0].account_id
    role = f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    credentials = admin(b.sb, "sts").assume_role(RoleArn=role, RoleSessionName="member")["Credentials"]
    b.env.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
    )


def outside_any_organization(b: Bench) -> None:
    an_organization(b)
    b.env.update({k: v for k, v in b.sb.env(1).items() if k.startswith("AWS_")})


def _audit(*args: str) -> Any:
    return lambda b: ["--endpoint-url", b.saved["url"], "audit", "--organization", *args]


CASES = [
    Case(
        "org-accounts-not-a-list",
        "a ListAccounts answer whose Accounts is not a list",
        _audit(),
        1,
        r"does not look like an AWS endpoint: ListAccounts was answered with a JSON document whose "
        r'Accounts is not a list \("everyone"\) \(HTTP 200\)',
        (fake_organizations({"Accounts": "everyone"}),),
    ),
    Case(
        "org-accounts-missing",
        "a ListAccounts answer with no Accounts at all",
        _audit(),
        1,
        r"listing the organization's accounts \(ListAccounts\): its answer has no Accounts list",
        (fake_organizations({"NextToken": None}),),
    ),
    Case(
        "org-account-id-a-number",
        "an account ID that is a JSON number in ListAccounts",
        _audit(),
        1,
        r"ListAccounts was answered with a JSON document whose Accounts\[0\]\.Id is not a string \(12345\)",
        (fake_organizations({"Accounts": [{"Id": 12345, "Name": "n"}]}),),
    ),
    Case(
        "org-account-id-not-12-digits",
        "an account ID of 5 digits in ListAccounts",
        _audit(),
        1,
        r"it listed an account ID that is not 12 digits: '12345'",
        (fake_organizations(page(CALLER, "12345")),),
    ),
    Case(
        "org-accounts-token-repeats",
        "a ListAccounts NextToken that comes back again",
        _audit(),
        1,
        r"its NextToken repeats or never ends",
        (fake_organizations(page(CALLER, token="page-1"), page(token="page-1")),),
    ),
    Case(
        "org-accounts-never-end",
        "ListAccounts pages that never end (a new token each time)",
        _audit(),
        1,
        r"its NextToken repeats or never ends",
        (fewer_pages, fake_organizations(*(page(token=f"page-{n + 1}") for n in range(60)))),
    ),
    Case(
        "org-accounts-duplicate",
        "the same account on two ListAccounts pages",
        _audit("--json"),
        0,
        r'"accounts": 1,\s+"read": 1,',
        (fake_organizations(page(CALLER, token="page-1"), page(CALLER)),),
    ),
    Case(
        "org-account-option-not-12-digits",
        "`--account` that is not 12 digits",
        ["audit", "--organization", "--account", "12345"],
        2,
        r"'12345' is not an AWS account ID \(12 digits\)",
    ),
    Case(
        "org-member-role-not-a-name",
        "`--member-role` with a space",
        ["audit", "--organization", "--member-role", "Org Admin"],
        2,
        r"'Org Admin' is not a role name",
    ),
    Case(
        "org-option-without-organization",
        "`--exclude-account` without `--organization`",
        ["audit", "--exclude-account", "123456789012"],
        2,
        r"--exclude-account goes with --organization",
    ),
    Case(
        "org-account-not-in-organization",
        "`--account` naming no account of the organization",
        ["audit", "--organization", "--account", "999999999999"],
        1,
        r"--account names no ACTIVE account of the organization: 999999999999",
        (an_organization,),
    ),
    Case(
        "org-caller-is-a-member",
        "a member account's credentials (not the management account, not a delegated administrator)",
        ["audit", "--organization"],
        1,
        r"ListAccounts\)?: AccessDeniedException: You don't have permissions to access this resource",
        (as_a_member,),
    ),
    Case(
        "org-caller-in-no-organization",
        "credentials of an account in no organization",
        ["audit", "--organization"],
        1,
        r"AWSOrganizationsNotInUseException: Your account isn't a member of an organization",
        (outside_any_organization,),
    ),
]
