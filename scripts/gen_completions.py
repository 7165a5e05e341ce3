"""Write the shell completion scripts in completions/ from Click's own generator.

    python scripts/gen_completions.py           # (re)write completions/
    python scripts/gen_completions.py --check   # exit 1 if a checked-in file is stale

Each script is what the installed console script prints for
`_STS_MFA_COMPLETE={bash,zsh,fish}_source sts-mfa`; nothing is edited by hand,
so `tests/cli/test_completions.py` can regenerate them and compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
COMPLETE_VAR = "_STS_MFA_COMPLETE"

# shell -> file name, following each shell's convention for where completions are looked up
FILES: dict[str, str] = {
    "bash": "sts-mfa.bash",  # source it, or drop into ~/.local/share/bash-completion/completions/sts-mfa
    "zsh": "_sts-mfa",  # a directory on $fpath
    "fish": "sts-mfa.fish",  # ~/.config/fish/completions/
}


def console_script() -> str:
    """The installed `sts-mfa`: next to this interpreter first (a venv), else on PATH."""
    beside = Path(sys.executable).parent / "sts-mfa"
    if beside.exists():
        return str(beside)
    found = shutil.which("sts-mfa")
    if found is None:
        sys.exit("sts-mfa is not installed in this environment: pip install -e .")
    return found


def generate(shell: str, program: str | None = None) -> str:
    """Click's completion script for `shell`, exactly as the console script prints it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STS_MFA_"))}
    env[COMPLETE_VAR] = f"{shell}_source"
    result = subprocess.run(
        [program or console_script()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit(f"generating the {shell} completion failed (exit {result.returncode}): {result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files; write nothing")
    args = parser.parse_args(argv)
    program = console_script()
    stale = []
    COMPLETIONS.mkdir(exist_ok=True)
    for shell, name in FILES.items():
        path = COMPLETIONS / name
        text = generate(shell, program)
        current = path.read_text() if path.exists() else None
        if current == text:
            print(f"{path.relative_to(ROOT)}: up to date")
            continue
        stale.append(path)
        if args.check:
            print(f"{path.relative_to(ROOT)}: STALE (run python scripts/gen_completions.py)")
        else:
            path.write_text(text)
            print(f"{path.relative_to(ROOT)}: written")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
