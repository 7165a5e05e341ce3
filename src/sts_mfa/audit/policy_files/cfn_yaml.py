"""CloudFormation's YAML: PyYAML's safe loader, with the short-form intrinsic function tags.

`!Ref X` is `{"Ref": "X"}`, `!Sub s` is `{"Fn::Sub": "s"}`, in the scalar, sequence and
mapping node forms alike, as CloudFormation reads them; `!GetAtt Res.Attr` is
`{"Fn::GetAtt": ["Res", "Attr"]}` (split at the first dot: attributes such as
`Endpoint.Address` have dots of their own). A tag that is no intrinsic function is refused.

What CloudFormation's YAML is not, or what JSON cannot hold, is refused or kept as text:
- a key repeated in one mapping (which value wins is unclear), unlike PyYAML's last-wins;
- `!!binary`, `!!set`, `!!omap`, `!!pairs` (no JSON form);
- timestamps stay the text they are: `Version: 2012-10-17` is the string IAM wants, not a date;
- aliases that would expand the document far beyond its size (a "billion laughs" bomb), or
  that contain themselves: counted on the node graph before anything is built from it.

Other aliases, and `<<` merge keys, are read as `aws cloudformation package` reads them
(explicit keys win over merged ones): CloudFormation itself refuses a template with aliases,
so a template that has them is deployed through that command, and this is what it deploys.

libyaml's parser is used when PyYAML has it (about three times faster, and it bounds
nesting depth itself); the pure-Python one otherwise. Both share the constructor below.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from sts_mfa.audit.policy_files.model import Refused, shown
from sts_mfa.audit.policy_files.source import MAX_NUMBER_CHARS

# Every short-form tag CloudFormation reads, and the long form it stands for.
TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!And": "Fn::And",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!Equals": "Fn::Equals",
    "!FindInMap": "Fn::FindInMap",
    "!GetAtt": "Fn::GetAtt",
    "!GetAZs": "Fn::GetAZs",
    "!If": "Fn::If",
    "!ImportValue": "Fn::ImportValue",
    "!Join": "Fn::Join",
    "!Length": "Fn::Length",
    "!Not": "Fn::Not",
    "!Or": "Fn::Or",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Sub": "Fn::Sub",
    "!ToJsonString": "Fn::ToJsonString",
    "!Transform": "Fn::Transform",
}
# Aliases may add this many nodes beyond the ones written out (a shared trust policy
# referenced by a few hundred roles is far below it; nine nested lists of ten aliases are not).
ALIAS_ALLOWANCE = 100_000
_CAP = 1 << 62
_MERGE = "tag:yaml.org,2002:merge"
_NO_JSON_FORM = ("binary", "set", "omap", "pairs")


class NotYaml(ValueError):
    """The text is not YAML at all (a scanner or parser error): one line, with where."""


class _Constructor(SafeConstructor):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:  # `1:` and `true:` are one key to Python's dict (1 == True): refused, not merged
                repeated = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class refuses it, with its position
                continue
            if repeated:
                raise Refused(f"the YAML repeats the key {shown(repr(key))} in one mapping{_at(key_node)}")
        return super().construct_mapping(node, deep=deep)


def _intrinsic(long_name: str) -> Callable[[_Constructor, Node], dict[str, object]]:
    def construct(loader: _Constructor, node: Node) -> dict[str, object]:
        value: object
        if isinstance(node, ScalarNode):
            text = loader.construct_scalar(node)
            value = text.split(".", 1) if long_name == "Fn::GetAtt" else text
        elif isinstance(node, SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - the three node kinds are all there are
            raise Refused(f"the tag {node.tag} is on a node of no known kind{_at(node)}")
        return {long_name: value}

    return construct


def _as_text(loader: _Constructor, node: Node) -> str:
    if not isinstance(node, ScalarNode):  # pragma: no cover - the resolver only tags scalars so
        raise Refused(f"a timestamp that is not a scalar{_at(node)}")
    return loader.construct_scalar(node)


def _bounded_int(loader: _Constructor, node: Node) -> object:
    if not isinstance(node, ScalarNode):  # `!!int [1]`: the base class says what is wrong, and where
        return loader.construct_scalar(node)  # type: ignore[arg-type]
    if len(node.value) > MAX_NUMBER_CHARS:
        raise Refused(f"the YAML has a number of {len(node.value)} characters{_at(node)}")
    return loader.construct_yaml_int(node)


def _no_json_form(loader: _Constructor, node: Node) -> object:
    raise Refused(
        f"the YAML tag {_tag(node)} has no JSON form, and CloudFormation does not read it{_at(node)}"
    )


def _unknown_tag(loader: _Constructor, node: Node) -> object:
    raise Refused(
        f"the YAML tag {_tag(node)} is not a CloudFormation intrinsic function, nor plain YAML{_at(node)}"
    )


def _register(tag: str | None, constructor: Callable[[_Constructor, Node], object]) -> None:
    # The stubs want a whole loader class as the first parameter; ours get the constructor part.
    _Constructor.add_constructor(tag, cast("Any", constructor))


for _short, _long_name in TAGS.items():
    _register(_short, _intrinsic(_long_name))
_register("tag:yaml.org,2002:timestamp", _as_text)
_register("tag:yaml.org,2002:int", _bounded_int)
for _name in _NO_JSON_FORM:
    _register(f"tag:yaml.org,2002:{_name}", _no_json_form)
_register(None, _unknown_tag)  # every other tag, `!!python/...` included


class PyLoader(Reader, Scanner, Parser, Composer, _Constructor, Resolver):
    """SafeLoader's parts, with the CloudFormation constructor."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        Resolver.__init__(self)


LOADERS: list[type[Any]] = [PyLoader]
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class CLoader(CParser, _Constructor, Resolver):
        """CSafeLoader's parts (libyaml's parser), with the CloudFormation constructor."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            Resolver.__init__(self)

    LOADERS.insert(0, CLoader)  # the first is the one used


def load(text: str, loader_class: type[Any] | None = None) -> object:
    """The single YAML document in `text`, as data; `NotYaml` or `Refused` if it cannot be."""
    loader = (loader_class or LOADERS[0])(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as e:
            raise NotYaml(_one_line(e)) from None
        if node is None:
            return None
        _check_aliases(node)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as e:
            raise Refused(f"the YAML cannot be read as CloudFormation reads it: {_one_line(e)}") from None
        except Refused:
            raise
        except (ValueError, TypeError, OverflowError, IndexError, KeyError) as e:
            # a scalar its explicit tag does not fit: `!!int ""`, `!!bool maybe`, `!!float abc`
            raise Refused(f"the YAML has a value that cannot be read: {shown(str(e))}") from None
    except RecursionError:
        raise Refused("it is nested too deeply to be a policy, template or plan") from None
    finally:
        loader.dispose()


def _check_aliases(root: Node) -> None:
    """Refuse a node graph whose aliases make it far bigger than written, or infinite."""
    sizes: dict[int, int] = {}
    building: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in building:
            raise Refused(f"a YAML alias refers to a node that contains it{_at(node)}")
        building.add(key)
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        total = 1
        for child in children:
            total = min(total + size(child), _CAP)  # a bomb's count would be a huge integer
        building.discard(key)
        sizes[key] = total
        return total

    expanded, written = size(root), len(sizes)
    if expanded > written + ALIAS_ALLOWANCE:
        raise Refused(
            f"its YAML aliases would expand {written} nodes to more than {written + ALIAS_ALLOWANCE} "
            "(an alias bomb?)"
        )


def _tag(node: Node) -> str:
    """`!!set`, `!Foo`: a tag as written (PyYAML spells the standard ones out in full)."""
    standard = "tag:yaml.org,2002:"
    return shown(f"!!{node.tag[len(standard) :]}" if node.tag.startswith(standard) else node.tag)


def _at(node: Node) -> str:
    mark = node.start_mark
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _one_line(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        context, problem = error.context, error.problem or "not YAML"
        if context:  # PyYAML says "expected a single document in the stream" / "but found another document"
            problem = f"{context}{',' if problem.startswith('but ') else ':'} {problem}"
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return shown(f"{problem}{where}")
    return shown(" ".join(str(error).split()))
