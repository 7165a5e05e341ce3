"""sts_mfa.audit.policy_files: the formats it reads, the names it gives, CloudFormation's tags.

Realistic fixtures (tests/data/policy_files/: a SAM template in YAML and the same in JSON, a
Terraform plan with nested modules and its state, a bare policy) and standard input; the
short-form tags over every tag and node form on both loaders; pseudo parameters resolved and
nothing else guessed. What must be refused is in test_policy_files_bad_input.py.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from sts_mfa.audit.policy_files import STDIN_NAME, PolicySource, cfn_yaml, cloudformation, terraform
from sts_mfa.audit.policy_files import read_policy_files as read
from sts_mfa.audit.policy_files.model import Refused
from sts_mfa.trust.analysis import analyse
from tests.support.policy_files import (
    DATA,
    LOADERS,
    PLAN,
    POLICY,
    SAM_JSON,
    SAM_YAML,
    STATE,
    by_name,
    refused_text,
    write,
    yaml_load,
)

ACCOUNT = cloudformation.PLACEHOLDER_ACCOUNT
SAM_ROLES = [
    "AdminRole",
    "GitHubDeployRole",
    "AuditorRole",
    "FunctionRole",
    "ReportFunctionRole",
    "BreakGlassRole",
]


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
