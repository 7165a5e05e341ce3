"""The sandbox's console and refusal pages: small HTML a person or a browser test can read.

The console page stands in for the AWS Management Console at the sign-in's
destination: it says who is signed in (the assumed-role ARN, the account, the role,
when MFA was used) and until when, which is what a test (or a person trying the
sandbox) needs to see that the sign-in worked. A refusal page says why a sign-in
was refused. Every value shown is escaped, and every page is sent with headers that
keep it to itself: no caching, no framing, no referrer (a sign-in URL is a
credential), no script, nothing loaded from elsewhere.

Elements carry ids (`status`, `assumed-role-arn`, `account`, `role-arn`, `mfa`,
`session-until`, `page`, `region`, `issuer`, `reason`) for tests to read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape

from sts_mfa.sandbox.http.errors import HttpResponse

HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
]

_STYLE = """
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       background: #f2f3f3; color: #16191f; }
header { background: #232f3e; color: #fff; padding: 10px 24px; display: flex;
         justify-content: space-between; align-items: center; }
header .brand { font-weight: 700; letter-spacing: .2px; }
header .who { font-size: 13px; color: #d5dbdb; }
main { max-width: 880px; margin: 32px auto; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.ok { color: #1d8102; font-weight: 700; }
.refused { color: #d13212; font-weight: 700; }
dl { display: grid; grid-template-columns: 190px 1fr; gap: 8px 16px; margin: 20px 0; }
dt { color: #545b64; }
dd { margin: 0; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
     font-size: 14px; word-break: break-all; }
.note { color: #545b64; font-size: 13px; border-top: 1px solid #eaeded; padding-top: 12px; }
"""


@dataclass(frozen=True)
class SignedIn:
    """What the console page shows about a console session."""

    assumed_role_arn: str
    account: str
    role_arn: str
    mfa_at: float | None
    until: float
    issuer: str
    page: str
    region: str | None


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _document(title: str, who: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header><span class="brand">AWS console &middot; sts-mfa sandbox</span>'
        f'<span class="who">{escape(who)}</span></header><main>{body}</main></body></html>'
    )


def _response(status: int, html: str) -> HttpResponse:
    body = html.encode("utf-8")
    headers = [*HEADERS, ("Content-Length", str(len(body)))]
    return HttpResponse(status, headers, body)


def console_page(signed: SignedIn) -> HttpResponse:
    role_name = signed.assumed_role_arn.split("/")[1] if "/" in signed.assumed_role_arn else signed.role_arn
    mfa = f"yes, authenticated at {utc(signed.mfa_at)}" if signed.mfa_at is not None else "no"
    rows = [
        ("Assumed role", "assumed-role-arn", signed.assumed_role_arn),
        ("Account", "account", signed.account),
        ("Role", "role-arn", signed.role_arn),
        ("MFA", "mfa", mfa),
        ("Console session until", "session-until", utc(signed.until)),
        ("Page", "page", signed.page),
        ("Region", "region", signed.region or "-"),
        ("Issuer", "issuer", signed.issuer or "-"),
    ]
    cells = "".join(
        f'<dt>{escape(label)}</dt><dd id="{key}">{escape(value)}</dd>' for label, key, value in rows
    )
    body = (
        f"<h1>Signed in as {escape(role_name)}</h1>"
        f'<p id="status" class="ok">Signed in to account {escape(signed.account)} with a role session</p>'
        f"<dl>{cells}</dl>"
        '<p class="note">This page stands in for the AWS Management Console: the sandbox checked the '
        "role session at its federation endpoint, issued a sign-in token valid for 15 minutes and one "
        "sign-in, and this browser holds the console session it opened.</p>"
    )
    who = f"{role_name} @ {signed.account}"
    return _response(200, _document(f"Console - {role_name}", who, body))


def refusal_page(status: int, reason: str) -> HttpResponse:
    body = (
        "<h1>Sign-in refused</h1>"
        f'<p id="status" class="refused">Not signed in</p><p id="reason">{escape(reason)}</p>'
        '<p class="note">Get a new sign-in URL with <code>sts-mfa console --print</code>: each one is '
        "good for one sign-in within 15 minutes.</p>"
    )
    return _response(status, _document("Sign-in refused", "not signed in", body))


def redirect(location: str, cookie: str) -> HttpResponse:
    """302 to `location` (a path on this sandbox), setting the console session's cookie."""
    headers = [("Location", location), ("Set-Cookie", cookie), ("Referrer-Policy", "no-referrer")]
    headers += [("Cache-Control", "no-store"), ("Content-Length", "0")]
    return HttpResponse(302, headers, b"")
