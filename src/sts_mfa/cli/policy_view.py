"""Policy documents shown as the lesson they are: highlighted JSON with what matters marked.

`lesson(state)` is the three documents `setup` creates (`sts_mfa.scenario.policies` builds
them), each with one line on what it does; `show` prints one document with a gutter
that marks the MFA condition (`MFA ▶`) and, for a trust policy that was analysed,
every line of each statement behind a finding (`open ▌`, `undecided ▌`). The marks
are text, so they survive NO_COLOR and logs; the colours only help.

Whatever the document holds (it may come from AWS, or from anyone who can write a
trust policy) is shown as rich `Text`, never as markup, with control characters
escaped: JSON is re-serialised with `ensure_ascii`, anything else is quoted line by
line through `one_line`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from rich.syntax import Syntax
from rich.text import Text

from sts_mfa.text import one_line

if TYPE_CHECKING:
    from rich.console import Console

    from sts_mfa.state.model import State
    from sts_mfa.trust.analysis import Finding

MFA_KEY = "aws:multifactorauth"
_MARK_STYLE = {"MFA": "bold green", "open": "bold red", "undecided": "bold yellow", "service": "cyan"}


@dataclass(frozen=True)
class Shown:
    title: str
    what: str  # one line: what the document does
    document: object


def lesson(state: State) -> list[Shown]:
    """The three documents setup created, as it created them."""
    from sts_mfa.scenario import policies

    user = state.user.arn if state.user and state.user.arn else "(the user)"
    role = state.role.arn if state.role and state.role.arn else "(the role)"
    role_name = state.role.name if state.role else "the role"
    policy_name = state.policy.name if state.policy else "the policy"
    user_policy = state.user_policy.name if state.user_policy else "the user policy"
    return [
        Shown(
            f"Trust policy of the role {role_name}",
            "who may assume the role: only the user, and only when the request carries MFA",
            policies.trust_policy(user),
        ),
        Shown(
            f"Permission policy {policy_name} (attached to the role)",
            "what the role may do once assumed: list the account's buckets, nothing more",
            policies.list_buckets_policy(),
        ),
        Shown(
            f"Inline user policy {user_policy}",
            "the user's only permission: sts:AssumeRole on that one role, so its key alone can do nothing",
            policies.assume_role_policy(role),
        ),
    ]


def show_lesson(console: Console, state: State) -> None:
    for shown in lesson(state):
        console.print()
        show(console, shown.document, title=shown.title, what=shown.what)


def show(
    console: Console,
    document: object,
    *,
    title: str,
    what: str | None = None,
    findings: Iterable[Finding] = (),
) -> None:
    """One document: a title, the one line on what it does, the JSON with its marks."""
    console.print(Text(one_line(title), style="bold"))
    if what:
        console.print(Text(f"  {one_line(what)}", style="dim"))
    marks = _finding_marks(findings)
    lines = _lines(document)
    labels = [_label(statement, text, marks) for text, statement in lines]
    # One gutter for every document, marked or not, so documents shown together line up.
    width = max([len(label) for label in labels] + [len("MFA ▶")])
    highlighted = _highlight([text for text, _ in lines])
    for label, coloured in zip(labels, highlighted, strict=True):
        kind = label.split(" ", 1)[0] if label else ""
        gutter = Text(label.rjust(width) + (" " if width else ""), style=_MARK_STYLE.get(kind, ""))
        console.print(Text.assemble(gutter, coloured), soft_wrap=True)
    if marks:
        console.print(Text("  (marked: the statements behind the findings above)", style="dim"))


def _finding_marks(findings: Iterable[Finding]) -> dict[int, str]:
    """Statement number -> the worst kind of finding it has."""
    marks: dict[int, str] = {}
    rank = {"open": 0, "undecided": 1, "service": 2}
    for finding in findings:
        if finding.statement is None:
            continue
        held = marks.get(finding.statement)
        if held is None or rank[finding.kind] < rank[held]:
            marks[finding.statement] = finding.kind
    return marks


def _label(statement: int | None, text: str, marks: dict[int, str]) -> str:
    if statement is not None and statement in marks:
        return f"{marks[statement]} ▌"
    if MFA_KEY in text.lower():
        return "MFA ▶"
    return ""


def _highlight(lines: list[str]) -> list[Text]:
    code = "\n".join(lines)
    text = Syntax(code, "json", theme="ansi_dark", background_color="default").highlight(code)
    parts = text.split("\n", allow_blank=True)
    return list(parts)[: len(lines)] + [Text("")] * max(0, len(lines) - len(parts))


# --- the document as lines, each knowing its statement ------------------------------------


def _lines(document: object) -> list[tuple[str, int | None]]:
    parsed = _parsed(document)
    if parsed is None:
        raw = document if isinstance(document, str) else repr(document)
        return [(one_line(line), None) for line in _unquoted(raw).splitlines() or [""]]
    out: list[tuple[str, int | None]] = [("{", None)]
    items = list(parsed.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        name = json.dumps(key, ensure_ascii=True)
        if key == "Statement" and isinstance(value, (list, Mapping)):
            out += _statements(name, value, comma)
        else:
            out += _indented(f"{name}: ", value, comma, None, "  ")
    out.append(("}", None))
    return out


def _statements(name: str, value: Any, comma: str) -> list[tuple[str, int | None]]:
    if isinstance(value, Mapping):
        return _indented(f"{name}: ", value, comma, 1, "  ")
    out: list[tuple[str, int | None]] = [(f"  {name}: [", None)]
    for number, statement in enumerate(value, 1):
        out += _indented("", statement, "," if number < len(value) else "", number, "    ")
    out.append((f"  ]{comma}", None))
    return out


def _indented(
    head: str, value: Any, comma: str, statement: int | None, indent: str
) -> list[tuple[str, int | None]]:
    text = json.dumps(value, indent=2, ensure_ascii=True)
    rows = text.splitlines()
    rows[0] = head + rows[0]
    rows[-1] += comma
    return [(indent + row, statement) for row in rows]


def _parsed(document: object) -> Mapping[object, object] | None:
    """The document as the analysis reads it (so statements are numbered alike), if it is one."""
    from sts_mfa.trust.analysis import load_document

    loaded = load_document(document)
    return loaded if isinstance(loaded, Mapping) else None


def _unquoted(text: str) -> str:
    return unquote(text) if text.lstrip().startswith("%") else text
