"""sts_mfa.policy_files: trust policies read from files before they are deployed.

The formats on realistic fixtures (tests/data/policy_files/: a SAM template in YAML and the
same in JSON, a Terraform plan with nested modules and its state, a bare policy), the names
they give, CloudFormation's short-form tags and pseudo parameters, and every bad input the
reader must refuse in one line naming the file (PolicyFileError, exit 2), never a traceback.
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

from sts_mfa.errors import ExitCode, UsageError
from sts_mfa.policy_files import (
    STDIN_NAME,
    PolicyFileError,
    PolicySource,
    cfn_yaml,
    cloudformation,
    source,
    syntax,
    terraform,
)
from sts_mfa.policy_files import read_policy_files as read
from sts_mfa.policy_files.model import Refused
from sts_mfa.trust import analyse

DATA = Path(__file__).parent / "data" / "policy_files"
SAM_YAML = str(DATA / "sam-template.yaml")
SAM_JSON = str(DATA / "sam-template.json")
PLAN = str(DATA / "terraform-plan.json")
STATE = str(DATA / "terraform-state.json")
POLICY = str(DATA / "trust-policy.json")
ACCOUNT = cloudformation.PLACEHOLDER_ACCOUNT
LOADERS = pytest.mark.parametrize("loader", cfn_yaml.LOADERS, ids=lambda c: c.__name__)
SAM_ROLES = [
    "AdminRole",
    "GitHubDeployRole",
    "AuditorRole",
    "FunctionRole",
    "ReportFunctionRole",
    "BreakGlassRole",
]


def write(tmp_path: Path, content: str | bytes, name: str = "policy") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def by_name(sources: list[PolicySource]) -> dict[str, PolicySource]:
    return {s.name: s for s in sources}


def refused(paths: list[str], stdin: Any = None, *, names: str | None = None) -> str:
    """The one-line message `read` refuses `paths` with; it names the file."""
    with pytest.raises(PolicyFileError) as caught:
        read(paths, stdin)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"policy file {names or paths[-1]}: "), message
    assert caught.value.exit_code == ExitCode.USAGE
    return message


def refused_text(tmp_path: Path, content: str | bytes) -> str:
    return refused([write(tmp_path, content)])


def yaml_load(text: str, loader: type[Any] | None = None) -> object:
    return cfn_yaml.load(text, loader)


# --- 1. a bare trust policy -------------------------------------------------------------------


def test_a_bare_policy_is_one_source_named_by_the_path_as_given() -> None:
    relative = os.path.relpath(POLICY)
    [only] = read([relative])
    assert only == PolicySource(relative, None, json.loads(Path(POLICY).read_text()))
    assert only.name == relative
    assert only.note is None


def test_a_bare_policy_in_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'Version: "2012-10-17"\nStatement:\n  - Effect: Allow\n    Action: sts:AssumeRole\n'
    )
    [only] = read([path])
    assert only.document == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
    }


def test_stdin_is_read_once_and_named_stdin() -> None:
    stream = io.BytesIO(Path(POLICY).read_bytes())
    sources = read(["-", POLICY], stream)
    assert [s.name for s in sources] == [STDIN_NAME, POLICY]
    assert sources[0].document == sources[1].document


def test_stdin_is_this_process_standard_input_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(b"Resources:\n  R:\n    Type: AWS::IAM::Role\n"))
    monkeypatch.setattr(sys, "stdin", fake)
    [only] = read(["-"])
    assert only.name == f"{STDIN_NAME}#R"


def test_stdin_of_a_template_names_its_roles() -> None:
    sources = read(["-"], io.BytesIO(Path(SAM_YAML).read_bytes()))
    assert [s.name for s in sources] == [f"{STDIN_NAME}#{role}" for role in SAM_ROLES]


# --- 2. CloudFormation ----------------------------------------------------------------------


def test_sam_yaml_template_gives_each_iam_role_named_path_hash_logical_id() -> None:
    sources = read([SAM_YAML])
    assert [s.name for s in sources] == [f"{SAM_YAML}#{role}" for role in SAM_ROLES]


def test_sub_of_partition_and_account_becomes_this_accounts_root() -> None:
    admin = by_name(read([SAM_YAML]))[f"{SAM_YAML}#AdminRole"]
    assert admin.document == {
        "Version": "2012-10-17",  # unquoted in the YAML: text, not a date
        "Statement": [
            {
                "Sid": "AccountPeopleWithMfa",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    assert analyse(admin.document).verdict == "requires-mfa"


def test_github_oidc_role_resolves_the_provider_and_keeps_the_parameters() -> None:
    deploy = by_name(read([SAM_YAML]))[f"{SAM_YAML}#GitHubDeployRole"]
    assert isinstance(deploy.document, dict)
    [statement] = deploy.document["Statement"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    assert statement["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        # parameters have no value before deployment: the Fn::Sub stays, as written
        "StringLike": {
            "token.actions.githubusercontent.com:sub": {
                "Fn::Sub": "repo:${GitHubOrg}/${RepositoryName}:ref:refs/heads/main"
            }
        },
    }


def test_a_document_that_is_an_intrinsic_is_passed_through_as_found() -> None:
    auditor = by_name(read([SAM_YAML]))[f"{SAM_YAML}#AuditorRole"]
    written = json.loads(Path(SAM_JSON).read_text())["Resources"]["AuditorRole"]["Properties"]
    assert auditor.document == written["AssumeRolePolicyDocument"]
    assert isinstance(auditor.document, dict)
    assert list(auditor.document) == ["Fn::If"]
    assert analyse(auditor.document).verdict == "undecided"


def test_yaml_aliases_share_a_trust_policy_and_getatt_stays() -> None:
    sources = by_name(read([SAM_YAML]))
    lambda_trust = sources[f"{SAM_YAML}#FunctionRole"].document
    assert lambda_trust == sources[f"{SAM_YAML}#ReportFunctionRole"].document
    assert isinstance(lambda_trust, dict)
    assert lambda_trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    break_glass = sources[f"{SAM_YAML}#BreakGlassRole"].document
    assert isinstance(break_glass, dict)
    assert break_glass["Statement"][0]["Principal"] == {"AWS": {"Fn::GetAtt": ["AdminRole", "Arn"]}}


def test_the_json_template_gives_the_same_roles_as_the_yaml_one() -> None:
    from_yaml = [(s.resource, s.document, s.note) for s in read([SAM_YAML])]
    from_json = [(s.resource, s.document, s.note) for s in read([SAM_JSON])]
    assert from_json == from_yaml


def test_the_json_template_is_the_aws_clis_reading_of_the_yaml_one() -> None:
    """An independent reader of CloudFormation's YAML (the AWS CLI's `cloudformation package`)
    reads the YAML fixture as the JSON fixture, and as ours does."""
    yamlhelper = pytest.importorskip("awscli.customizations.cloudformation.yamlhelper")
    theirs = json.loads(json.dumps(yamlhelper.yaml_parse(Path(SAM_YAML).read_text()), default=str))
    assert theirs == json.loads(Path(SAM_JSON).read_text())
    for loader in cfn_yaml.LOADERS:
        assert yaml_load(Path(SAM_YAML).read_text(), loader) == theirs


@pytest.mark.parametrize("pseudo", sorted(cloudformation.PSEUDO_PARAMETERS))
def test_each_pseudo_parameter_resolves_in_ref_and_sub(pseudo: str) -> None:
    value = cloudformation.PSEUDO_PARAMETERS[pseudo]
    assert cloudformation.resolve({"Ref": pseudo}) == value
    assert cloudformation.resolve({"Fn::Sub": f"<${{{pseudo}}}>"}) == f"<{value}>"
    assert cloudformation.resolve({"Fn::Sub": [f"<${{{pseudo}}}>", {}]}) == f"<{value}>"


def test_the_placeholders_are_the_documented_ones() -> None:
    assert cloudformation.PSEUDO_PARAMETERS == {
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::URLSuffix": "amazonaws.com",
    }


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "AWS::StackName"},
        {"Ref": "AWS::NoValue"},
        {"Ref": "AWS::NotificationARNs"},
        {"Ref": "TrustedAccount"},
        {"Ref": ["not", "a", "name"]},
        {"Fn::Sub": "arn:aws:iam::${TrustedAccount}:root"},
        {"Fn::Sub": "${AdminRole.Arn}"},
        {"Fn::Sub": "${ AWS::AccountId }"},  # not the name CloudFormation reads: never guessed
        {"Fn::Sub": ["${Account}", {"Account": {"Ref": "TrustedAccount"}}]},
        {"Fn::Sub": ["${Account}", {"Account": 123456789012}]},
        {"Fn::Sub": ["a", "b", "c"]},
        {"Fn::Sub": 42},
        {"Fn::GetAtt": ["AdminRole", "Arn"]},
        {"Fn::ImportValue": "shared-account-id"},
        {"Fn::If": ["IsProd", "a", "b"]},
        {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "TrustedAccount"}, ":root"]]},
        {"Fn::Join": [":", {"Ref": "ListParameter"}]},
        {"Fn::Join": "not a list"},
        {"Fn::Select": [0, ["a", "b"]]},
    ],
    ids=json.dumps,
)
def test_what_has_no_known_value_stays_untouched(value: object) -> None:
    assert cloudformation.resolve(value) == value


def test_a_partly_known_sub_stays_exactly_as_written() -> None:
    written = {
        "Fn::Sub": [
            "arn:${AWS::Partition}:iam::${Account}:role/${Name}",
            {"Account": {"Ref": "TrustedAccount"}, "Name": {"Fn::Sub": "${AWS::Region}-admin"}},
        ]
    }
    assert cloudformation.resolve(written) == written


def test_sub_list_form_with_known_variables() -> None:
    value = {
        "Fn::Sub": [
            "arn:${AWS::Partition}:iam::${Account}:role/${Name}",
            {"Account": {"Ref": "AWS::AccountId"}, "Name": "deploy", "Unused": {"Ref": "Other"}},
        ]
    }
    assert cloudformation.resolve(value) == f"arn:aws:iam::{ACCOUNT}:role/deploy"


def test_sub_variables_win_over_pseudo_parameters_and_literals_stay_literal() -> None:
    assert (
        cloudformation.resolve({"Fn::Sub": ["${AWS::Region}", {"AWS::Region": "eu-west-1"}]}) == "eu-west-1"
    )
    assert (
        cloudformation.resolve({"Fn::Sub": "${!Literal}-${!AWS::AccountId}"})
        == "${Literal}-${AWS::AccountId}"
    )
    assert cloudformation.resolve({"Fn::Sub": "no variables, a lone $ and a { }"}) == (
        "no variables, a lone $ and a { }"
    )


def test_join_of_known_strings_as_cdk_synth_writes_an_account_root() -> None:
    cdk = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
    }
    assert cloudformation.resolve(cdk) == f"arn:aws:iam::{ACCOUNT}:root"


def test_resolution_reaches_every_depth_and_leaves_other_keys(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {
                                "Principal": {
                                    "AWS": [{"Ref": "AWS::AccountId"}, "arn:aws:iam::111122223333:root"]
                                },
                                "Condition": {
                                    "StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}
                                },
                                "Ref": "a key of two is no intrinsic",
                                "Other": 1,
                            }
                        ]
                    }
                },
            }
        }
    }
    [only] = read([write(tmp_path, json.dumps(template))])
    assert only.document == {
        "Statement": [
            {
                "Principal": {"AWS": [ACCOUNT, "arn:aws:iam::111122223333:root"]},
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
                "Ref": "a key of two is no intrinsic",
                "Other": 1,
            }
        ]
    }


def test_a_role_without_a_document_is_a_source_with_a_note(tmp_path: Path) -> None:
    template = (
        "Resources:\n"
        "  Bare:\n    Type: AWS::IAM::Role\n"
        "  Odd:\n    Type: AWS::IAM::Role\n    Properties: !If [C, {}, {}]\n"
    )
    sources = read([path := write(tmp_path, template)])
    assert sources == [
        PolicySource(path, "Bare", None, note=cloudformation.NO_DOCUMENT),
        PolicySource(path, "Odd", None, note=cloudformation.NO_DOCUMENT),
    ]


def test_only_iam_roles_count(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "NotARole": {"Type": "AWS::IAM::User", "Properties": {"AssumeRolePolicyDocument": {}}},
            "Weird": ["Fn::ForEach", "list"],
            "NoType": {"Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": "{}"}},
        }
    }
    path = write(tmp_path, json.dumps(template))
    assert read([path]) == [PolicySource(path, "Role", "{}")]


# --- 3. Terraform ---------------------------------------------------------------------------


def test_terraform_plan_gives_each_managed_role_named_path_hash_address() -> None:
    names = [s.name for s in read([PLAN])]
    assert names == [
        f"{PLAN}#aws_iam_role.admin",
        f'{PLAN}#aws_iam_role.team["ops"]',
        f"{PLAN}#module.ci.aws_iam_role.deploy",
        f"{PLAN}#module.ci.module.lambda.aws_iam_role.this[0]",
    ]  # not the data source, not the role being destroyed, not other resource types


def test_terraform_plan_documents_are_the_json_text_as_found() -> None:
    sources = by_name(read([PLAN]))
    plan = json.loads(Path(PLAN).read_text())
    admin = plan["planned_values"]["root_module"]["resources"][1]["values"]["assume_role_policy"]
    assert sources[f"{PLAN}#aws_iam_role.admin"].document == admin
    assert analyse(admin).verdict == "requires-mfa"
    lambda_role = sources[f"{PLAN}#module.ci.module.lambda.aws_iam_role.this[0]"]
    assert isinstance(lambda_role.document, str)
    assert json.loads(lambda_role.document)["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }


def test_a_policy_known_only_after_apply_has_no_document_and_says_why() -> None:
    deploy = by_name(read([PLAN]))[f"{PLAN}#module.ci.aws_iam_role.deploy"]
    assert deploy.document is None
    assert (
        deploy.note == terraform.KNOWN_AFTER_APPLY == "the plan knows its assume_role_policy only after apply"
    )


def plan_with(values: dict[str, object], change: dict[str, object] | None) -> dict[str, object]:
    role = {
        "address": "aws_iam_role.r",
        "mode": "managed",
        "type": "aws_iam_role",
        "name": "r",
        "values": values,
    }
    plan: dict[str, object] = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [role]}},
    }
    if change is not None:
        plan["resource_changes"] = [{"address": "aws_iam_role.r", "type": "aws_iam_role", "change": change}]
    return plan


def test_a_policy_missing_from_planned_values_is_taken_from_the_change(tmp_path: Path) -> None:
    plan = plan_with(
        {"name": "r"}, {"actions": ["create"], "after": {"assume_role_policy": '{"Statement":[]}'}}
    )
    path = write(tmp_path, json.dumps(plan))
    assert read([path]) == [PolicySource(path, "aws_iam_role.r", '{"Statement":[]}')]


@pytest.mark.parametrize(
    "change",
    [None, {"actions": ["create"], "after": {}, "after_unknown": {}}, {"after": None, "after_unknown": "x"}],
)
def test_a_plan_role_with_no_policy_at_all_says_so(tmp_path: Path, change: dict[str, object] | None) -> None:
    path = write(tmp_path, json.dumps(plan_with({"name": "r", "assume_role_policy": None}, change)))
    assert read([path]) == [
        PolicySource(path, "aws_iam_role.r", None, note="the plan gives it no assume_role_policy")
    ]


def test_terraform_state_gives_each_managed_role() -> None:
    sources = read([STATE])
    assert [s.name for s in sources] == [
        f"{STATE}#aws_iam_role.admin",
        f"{STATE}#module.ci.aws_iam_role.deploy",
        f"{STATE}#module.ci.module.lambda.aws_iam_role.this[0]",
    ]
    assert all(isinstance(s.document, str) and s.note is None for s in sources)
    assert analyse(sources[1].document).verdict == "open"  # GitHub's OIDC: never MFA


def test_a_terraform_resource_without_an_address_is_named_by_type_and_name(tmp_path: Path) -> None:
    state = {
        "format_version": "1.0",
        "values": {"root_module": {"resources": [{"type": "aws_iam_role", "name": "x", "values": {}}]}},
    }
    path = write(tmp_path, json.dumps(state))
    assert read([path]) == [
        PolicySource(path, "aws_iam_role.x", None, note="the state gives it no assume_role_policy")
    ]


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ({"format_version": "1.0"}, "state"),  # terraform show -json of an empty state
        ({"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {}}}, "state"),
        ({"format_version": "1.2", "planned_values": {"outputs": {}}, "resource_changes": []}, "plan"),
        ({"planned_values": {"root_module": {"resources": "not a list", "child_modules": [1, {}]}}}, "plan"),
    ],
)
def test_terraform_with_no_role_is_refused(tmp_path: Path, document: dict[str, object], kind: str) -> None:
    message = refused_text(tmp_path, json.dumps(document))
    assert message.endswith(f"it is a Terraform {kind} with no aws_iam_role (managed resource)")


def test_an_unknown_terraform_format_major_version_is_refused(tmp_path: Path) -> None:
    plan = json.loads(Path(PLAN).read_text())
    plan["format_version"] = "2.0"
    assert "format_version is 2.0; this reader knows 1.x" in refused_text(tmp_path, json.dumps(plan))


def test_a_raw_tfstate_is_refused_with_the_command_that_converts_it(tmp_path: Path) -> None:
    raw = {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 3,
        "lineage": "x",
        "outputs": {},
        "resources": [],
    }
    message = refused_text(tmp_path, json.dumps(raw))
    assert "raw Terraform state file" in message
    assert "terraform show -json" in message


# --- several files --------------------------------------------------------------------------


def test_files_are_read_in_order_and_a_repeated_path_once() -> None:
    sources = read([POLICY, PLAN, POLICY, SAM_JSON])
    assert [s.file for s in sources] == [POLICY] + [PLAN] * 4 + [SAM_JSON] * 6


def test_file_and_resource_are_apart_whatever_the_names_hold(tmp_path: Path) -> None:
    """A path may hold a `#` (and a for_each key too): the name is for people, file and
    resource for programs (SARIF's artifact and logical locations)."""
    folder = tmp_path / "pr#12"
    folder.mkdir()
    template = write(folder, Path(SAM_JSON).read_text(), "t#1.json")
    first = read([template])[0]
    assert (first.file, first.resource, first.name) == (template, "AdminRole", f"{template}#AdminRole")
    plan = plan_with({"assume_role_policy": "{}"}, None)
    plan["planned_values"] = {
        "root_module": {
            "resources": [{"address": 'aws_iam_role.x["a#b"]', "type": "aws_iam_role", "values": {}}]
        }
    }
    [role] = read([write(folder, json.dumps(plan), "p#.json")])
    assert (role.file, role.resource) == (str(folder / "p#.json"), 'aws_iam_role.x["a#b"]')


def test_no_paths_no_sources() -> None:
    assert read([]) == []


def test_every_source_is_one_the_analysis_reads() -> None:
    for item in read([SAM_YAML, SAM_JSON, PLAN, STATE, POLICY]):
        if item.document is None:
            assert item.note
        else:
            assert analyse(item.document).verdict in ("requires-mfa", "open", "undecided", "service")


# --- the short-form tags --------------------------------------------------------------------


def test_the_tag_table_is_cloudformations() -> None:
    # every intrinsic function with a short form, Length and ToJsonString (AWS::LanguageExtensions) too
    functions = ["And", "Base64", "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs", "If", "ImportValue",
                 "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString",
                 "Transform"]  # fmt: skip
    expected = {"!Ref": "Ref", "!Condition": "Condition"} | {f"!{f}": f"Fn::{f}" for f in functions}
    assert expected == cfn_yaml.TAGS


@LOADERS
@pytest.mark.parametrize(("tag", "long_form"), sorted(cfn_yaml.TAGS.items()))
def test_a_tag_on_a_scalar(loader: type[Any], tag: str, long_form: str) -> None:
    expected: object = ["Res", "Attr"] if tag == "!GetAtt" else "Res.Attr"
    assert yaml_load(f"x: {tag} Res.Attr\n", loader) == {"x": {long_form: expected}}


@LOADERS
@pytest.mark.parametrize(("tag", "long_form"), sorted(cfn_yaml.TAGS.items()))
def test_a_tag_on_a_sequence(loader: type[Any], tag: str, long_form: str) -> None:
    flow = yaml_load(f"x: {tag} [a, 1, {{k: v}}]\n", loader)
    block = yaml_load(f"x: {tag}\n  - a\n  - 1\n  - k: v\n", loader)
    assert flow == block == {"x": {long_form: ["a", 1, {"k": "v"}]}}


@LOADERS
@pytest.mark.parametrize(("tag", "long_form"), sorted(cfn_yaml.TAGS.items()))
def test_a_tag_on_a_mapping(loader: type[Any], tag: str, long_form: str) -> None:
    flow = yaml_load(f"x: {tag} {{a: b, c: [d]}}\n", loader)
    block = yaml_load(f"x: {tag}\n  a: b\n  c: [d]\n", loader)
    assert flow == block == {"x": {long_form: {"a": "b", "c": ["d"]}}}


@LOADERS
def test_getatt_splits_at_the_first_dot_only(loader: type[Any]) -> None:
    assert yaml_load("- !GetAtt Db.Endpoint.Address\n- !GetAtt Lonely\n- !GetAtt [A, B.C]\n", loader) == [
        {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        {"Fn::GetAtt": ["Lonely"]},
        {"Fn::GetAtt": ["A", "B.C"]},
    ]


@LOADERS
def test_tags_nest_and_quote_as_plain_yaml(loader: type[Any]) -> None:
    text = 'x: !Join ["", [!Ref "AWS::Region", !Select [0, !GetAZs ""], !Sub \'${A}\', !Ref ""]]\n'
    assert yaml_load(text, loader) == {
        "x": {
            "Fn::Join": [
                "",
                [
                    {"Ref": "AWS::Region"},
                    {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
                    {"Fn::Sub": "${A}"},
                    {"Ref": ""},
                ],
            ]
        }
    }


@LOADERS
def test_timestamps_stay_the_text_written(loader: type[Any]) -> None:
    assert yaml_load("Version: 2012-10-17\nAt: 2001-12-14t21:59:43.10-05:00\n", loader) == {
        "Version": "2012-10-17",
        "At": "2001-12-14t21:59:43.10-05:00",
    }


@LOADERS
def test_merge_keys_are_no_repeated_keys(loader: type[Any]) -> None:
    text = "base: &b {Effect: Allow, Action: x}\nmerged:\n  <<: *b\n  Action: sts:AssumeRole\n"
    assert yaml_load(text, loader) == {
        "base": {"Effect": "Allow", "Action": "x"},
        "merged": {"Effect": "Allow", "Action": "sts:AssumeRole"},
    }


@LOADERS
def test_keys_one_in_python_are_refused_not_merged(loader: type[Any]) -> None:
    """A dict would keep one of `1:` and `true:` (1 == True), silently: refused instead."""
    with pytest.raises(Refused, match="the YAML repeats the key True in one mapping"):
        yaml_load("1: a\ntrue: b\n", loader)
    assert yaml_load("1: a\n'1': b\n", loader) == {1: "a", "1": "b"}


def test_pyyamls_own_safe_loader_is_left_as_it_was() -> None:
    import datetime

    import yaml

    assert yaml.safe_load("v: 2012-10-17\n") == {"v": datetime.date(2012, 10, 17)}
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("x: !Ref a\n")
    assert yaml.safe_load("a: 1\na: 2\n") == {"a": 2}


def test_the_loaders_agree_on_every_fixture() -> None:
    if len(cfn_yaml.LOADERS) < 2:
        pytest.skip("PyYAML without libyaml here: one loader only")
    for path in DATA.iterdir():
        text = path.read_text()
        assert yaml_load(text, cfn_yaml.LOADERS[0]) == yaml_load(text, cfn_yaml.LOADERS[1]), path


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
from sts_mfa.policy_files import read_policy_files
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
