#!/usr/bin/env python3
"""Run the reliability suite and print its summary section.

    python scripts/reliability_report.py            # pytest tests/reliability -q
    python scripts/reliability_report.py -m "not slow"   # extra arguments go to pytest

Prints the "reliability summary" section that `tests/reliability/conftest.py` adds to
pytest's terminal summary (fault points and leaks, kills and torn state files, bad
inputs and tracebacks, secret scans), then pytest's own result line, and exits with
pytest's exit code. With --full, the whole pytest output is shown as well.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "reliability summary"
HEADER = re.compile(r"^=+ (.*?) =+$")


def section(output: str, title: str) -> list[str]:
    """The lines of pytest's `==== title ====` section (without the header)."""
    lines: list[str] = []
    inside = False
    for line in output.splitlines():
        header = HEADER.match(line)
        if header:
            if inside:
                break
            inside = header.group(1).strip() == title
            continue
        if inside:
            lines.append(line)
    return lines


def result_line(output: str) -> str:
    """pytest's last line: '... passed, ... in 12.34s'."""
    for line in reversed(output.splitlines()):
        if re.search(r"\b(passed|failed|error|no tests ran)\b", line):
            return line.strip("= ").strip()
    return "(no pytest result line)"


def main(argv: list[str]) -> int:
    full = "--full" in argv
    extra = [a for a in argv if a != "--full"]
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", *extra]
    print(f"$ {' '.join(command[2:])}", flush=True)
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    if full:
        print(output)
    lines = section(output, SECTION)
    print(f"== {SECTION} ==")
    if lines:
        print("\n".join(lines))
    else:
        print("(the suite printed no reliability summary: did it run?)")
    print(f"== pytest: {result_line(output)} (exit {proc.returncode}) ==")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
