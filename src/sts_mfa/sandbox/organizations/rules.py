"""Organizations: the actions the sandbox serves, and who may call them.

What AWS documents (Organizations API Reference, and the same text in botocore's model):

* ListAccounts and ListDelegatedAdministrators: "You can only call this operation from the
  management account or a member account that is a delegated administrator"; any other
  member gets `AccessDeniedException` ("You don't have permissions to access this
  resource."), an account in no organization `AWSOrganizationsNotInUseException` ("Your
  account isn't a member of an organization."). Errors are HTTP 400 in the JSON protocol.
* RegisterDelegatedAdministrator: the management account only.
* DescribeOrganization: any account of the organization.
* Every action also needs the caller's identity policies to allow `organizations:ACTION`
  (resource `*` here), as every call does.

moto 5.2.5 answers ListAccounts for anyone: a member account or an account in no
organization gets an empty list (no error), pages of any `MaxResults` (100 by default),
and it checks no policy with its own IAM checks off. The sandbox answers ListAccounts
itself (`listing`) and forwards the other served actions to moto once they are allowed.
"""

from __future__ import annotations

from collections.abc import Callable

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.errors import AwsFault
from sts_mfa.sandbox.organizations import listing
from sts_mfa.sandbox.rules.authorization import Call, require_identity
from sts_mfa.sandbox.rules.bookkeeping import NOTHING, AfterSuccess
from sts_mfa.sandbox.seam import orgview

NOT_IN_USE = "Your account isn't a member of an organization."


def authorize(call: Call) -> AfterSuccess:
    rule = ORGANIZATIONS_RULES.get(call.request.action)
    if rule is None:
        raise awserrors.unsupported("organizations", call.request.action)
    require_identity(call, "*")
    management = orgview.management_of(call.account)
    if management is None:
        raise AwsFault("AWSOrganizationsNotInUseException", NOT_IN_USE, 400)
    return rule(call, management)


def _denied(call: Call) -> AwsFault:
    return awserrors.access_denied("organizations", call.caller.arn, call.request.iam_action, "*")


def _management_or_delegated(call: Call, management: str) -> None:
    if call.account != management and call.account not in orgview.delegated_administrators(management):
        raise _denied(call)


def _list_accounts(call: Call, management: str) -> AfterSuccess:
    _management_or_delegated(call, management)
    return AfterSuccess(answer=listing.answer(call.request.document, orgview.accounts(management)))


def _list_delegated_administrators(call: Call, management: str) -> AfterSuccess:
    _management_or_delegated(call, management)
    return NOTHING


def _register_delegated_administrator(call: Call, management: str) -> AfterSuccess:
    if call.account != management:
        raise _denied(call)
    return NOTHING


def _describe_organization(call: Call, management: str) -> AfterSuccess:
    return NOTHING  # any account of the organization; moto answers


# Organizations action -> its rule (given the caller's management account). Only these are served.
ORGANIZATIONS_RULES: dict[str, Callable[[Call, str], AfterSuccess]] = {
    "ListAccounts": _list_accounts,
    "ListDelegatedAdministrators": _list_delegated_administrators,
    "RegisterDelegatedAdministrator": _register_delegated_administrator,
    "DescribeOrganization": _describe_organization,
}
