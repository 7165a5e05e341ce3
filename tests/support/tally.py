"""The reliability suite's tally: what its tests tried and what they found.

Tests record what they tried (fault points, kills, bad inputs, secret scans) and what
they found (leaks, torn state files, tracebacks) in `TALLY`, through the `tally`
fixture (tests/reliability/conftest.py), *before* asserting, so a failing run still
counts its findings. That conftest's `pytest_terminal_summary` prints `TALLY.lines()`
under SECTION_TITLE; `scripts/reliability_report.py` runs the suite and shows only that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECTION_TITLE = "reliability summary"


@dataclass
class Tally:
    fault_points: list[str] = field(default_factory=list)
    fault_leaks: list[str] = field(default_factory=list)
    resumes: list[str] = field(default_factory=list)
    resume_leaks: list[str] = field(default_factory=list)
    sweeps: list[str] = field(default_factory=list)
    sweep_leaks: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    kill_leaks: list[str] = field(default_factory=list)
    state_reads: int = 0
    torn_state: list[str] = field(default_factory=list)
    stray_temp_files: int = 0
    interrupts: list[str] = field(default_factory=list)
    interrupt_failures: list[str] = field(default_factory=list)
    bad_inputs: list[str] = field(default_factory=list)
    bad_input_groups: dict[str, list[str]] = field(default_factory=dict)  # doc section -> case ids
    wrong_exit_groups: dict[str, list[str]] = field(default_factory=dict)
    tracebacks: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    wrong_exit_codes: list[str] = field(default_factory=list)
    outputs: int = 0
    trust_policies: list[str] = field(default_factory=list)
    false_proofs: list[str] = field(default_factory=list)
    wrong_verdicts: list[str] = field(default_factory=list)
    secret_scans: int = 0
    secret_leaks: list[str] = field(default_factory=list)

    # -- recording -------------------------------------------------------------

    def fault_point(self, case: str, *, leaked: bool) -> None:
        self.fault_points.append(case)
        if leaked:
            self.fault_leaks.append(case)

    def resume(self, case: str, *, leaked: bool) -> None:
        self.resumes.append(case)
        if leaked:
            self.resume_leaks.append(case)

    def sweep(self, case: str, *, leaked: bool) -> None:
        self.sweeps.append(case)
        if leaked:
            self.sweep_leaks.append(case)

    def kill(self, case: str, *, leaked: bool) -> None:
        self.kills.append(case)
        if leaked:
            self.kill_leaks.append(case)

    def interrupt(self, case: str, *, clean_exit: bool) -> None:
        self.interrupts.append(case)
        if not clean_exit:
            self.interrupt_failures.append(case)

    def state_read(self, where: str, *, torn: bool) -> None:
        self.state_reads += 1
        if torn:
            self.torn_state.append(where)

    def state_reads_checked(self, reads: int, torn: list[str]) -> None:
        """A reader's tally: `reads` parses, of which `torn` (messages) failed."""
        self.state_reads += reads
        self.torn_state += torn

    def output(self, case: str, text: str) -> None:
        """Any command output: a traceback in it is a finding wherever it came from."""
        self.outputs += 1
        if "Traceback (most recent call last)" in text:
            self.tracebacks.append(case)
        if "internal error" in text:
            self.internal_errors.append(case)

    def bad_input(
        self, case: str, *, exit_ok: bool, text: str, known_bug: bool = False, group: str = "elsewhere"
    ) -> None:
        self.bad_inputs.append(case)
        self.bad_input_groups.setdefault(group, []).append(case)
        if not exit_ok:
            self.wrong_exit_codes.append(f"{case} [xfail]" if known_bug else case)
            self.wrong_exit_groups.setdefault(group, []).append(case)
        self.output(case, text)

    def trust_policy(self, case: str, *, false_proof: bool, wrong: bool) -> None:
        self.trust_policies.append(case)
        if false_proof:
            self.false_proofs.append(case)
        if wrong:
            self.wrong_verdicts.append(case)

    def secrets_scanned(self, case: str, leaked: list[str]) -> None:
        self.secret_scans += 1
        if leaked:
            self.secret_leaks.append(f"{case}: {', '.join(leaked)}")

    # -- reporting -------------------------------------------------------------

    def touched(self) -> bool:
        return any(
            (
                self.fault_points,
                self.resumes,
                self.sweeps,
                self.kills,
                self.state_reads,
                self.interrupts,
                self.bad_inputs,
                self.secret_scans,
                self.outputs,
                self.trust_policies,
            )
        )

    def lines(self) -> list[str]:
        def found(items: list[str]) -> str:
            unique = sorted(set(items))
            if not unique:
                return "0"
            more = f", +{len(unique) - 5} more" if len(unique) > 5 else ""
            return f"{len(items)} ({', '.join(unique[:5])}{more})"

        setup_kills = [k for k in self.kills if k.startswith("setup")]
        writer_kills = [k for k in self.kills if not k.startswith("setup")]
        rows: list[tuple[str, int, str, list[str]]] = [
            ("setup/teardown fault points", len(self.fault_points), "leaks", self.fault_leaks),
            ("setups resumed after a fault", len(self.resumes), "leaks", self.resume_leaks),
            ("sweeps without a state file", len(self.sweeps), "leaks", self.sweep_leaks),
            ("kill -9 of setup", len(setup_kills), "leaks", self.kill_leaks),
            ("kill -9 of state writers", len(writer_kills), "stray temp files", []),
            ("state file reads checked", self.state_reads, "torn", self.torn_state),
            ("Ctrl-C of setup", len(self.interrupts), "not exit 130 + one line", self.interrupt_failures),
            ("bad inputs", len(self.bad_inputs), "wrong exit codes", self.wrong_exit_codes),
            *(
                (
                    f"  {_short(group)}",
                    len(ids),
                    "wrong exit codes",
                    self.wrong_exit_groups.get(group, []),
                )
                for group, ids in self.bad_input_groups.items()
            ),
            ("outputs checked for tracebacks", self.outputs, "tracebacks", self.tracebacks),
            ("outputs checked for crashes", self.outputs, "internal errors", self.internal_errors),
            ("secret scans of output", self.secret_scans, "secrets shown", self.secret_leaks),
            ("trust policies in the corpus", len(self.trust_policies), "false proofs", self.false_proofs),
            ("trust policies in the corpus", len(self.trust_policies), "wrong verdicts", self.wrong_verdicts),
        ]
        lines = []
        for label, tried, what, findings in rows:
            result = f"{self.stray_temp_files}" if what == "stray temp files" else found(findings)
            lines.append(f"{label:<32}{tried:>6}   {what}: {result}")
        return lines


def _short(heading: str, width: int = 28) -> str:
    """A docs/bad-inputs.md section heading cut at a word to fit the report's first column."""
    text = heading.lower()
    return text if len(text) <= width else text[: text.rfind(" ", 0, width)]


TALLY = Tally()
