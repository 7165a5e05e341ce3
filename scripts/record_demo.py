"""Record docs/demo.svg: `sts-mfa demo` on the embedded sandbox, drawn as a 100-column terminal.

    python scripts/record_demo.py [--out docs/demo.svg]

Runs the installed console script with no AWS configuration at all (the demo
starts its own sandbox), `COLUMNS=100`, and `--svg`. It waits once for the next
30 s TOTP window, like every demo run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "demo.svg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the SVG")
    args = parser.parse_args(argv)
    beside = Path(sys.executable).parent / "sts-mfa"
    program = str(beside) if beside.exists() else shutil.which("sts-mfa")
    if program is None:
        sys.exit("sts-mfa is not installed in this environment: pip install -e '.[sandbox]'")
    out: Path = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sts-mfa-record-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STS_MFA_", "_STS_MFA_"))}
        env.update(
            HOME=home,
            COLUMNS="100",
            LINES="50",
            AWS_CONFIG_FILE=str(Path(home) / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(home) / "credentials"),
        )
        env.pop("NO_COLOR", None)  # the picture is in colour
        fresh = Path(home) / "demo.svg"  # demo --svg writes only a new file
        result = subprocess.run(
            [program, "demo", "--svg", str(fresh)],
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            print(f"sts-mfa demo failed (exit {result.returncode})", file=sys.stderr)
            return result.returncode
        shutil.copyfile(fresh, out)
    if not out.exists() or not out.read_text().lstrip().startswith("<svg"):
        print(f"sts-mfa demo exited 0 but {out} is not an SVG", file=sys.stderr)
        return 1
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
