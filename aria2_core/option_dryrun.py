"""Ask an aria2c binary whether it accepts option values, without starting an engine.

aria2 checks a value only when it parses it: ``changeGlobalOption`` does so
for the options it changes live, but an option read only at start
(``disk-cache``, ``max-tries`` next to one, …) would first be seen by the
aria2c we restart, which then exits with code 28 ("bad option") and leaves
no engine at all. So before a restart the new options are written to a
temporary conf file and the chosen binary is run with only that and no
link: it parses the file and exits at once, 28 with its message for a bad
value, 1 ("Specify at least one URL") when every value was fine. Nothing
listens, nothing downloads, nothing is read from ``~/.aria2``.

Blocking (a few milliseconds, bounded by :data:`DRY_RUN_TIMEOUT_S`): callers
run it off the GUI thread.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import write_private_file
from .errors import AriaTrayError
from .helper_runs import HelperRuns

DRY_RUN_TIMEOUT_S = 10.0
EXIT_BAD_OPTION = 28

_OPTION = re.compile(r"processing the option '--?([a-z0-9-]+)'")
_DETAIL = re.compile(r"->\s*\[[^\]]*\]\s*errorCode=\d+\s*(.+)$")


class DryRunError(AriaTrayError):
    """The binary could not be run to check the options."""


@dataclass(frozen=True)
class OptionRejection:
    """aria2c refused a value: which option (if it said), its reason, its whole message."""

    option: str
    detail: str
    message: str


def parse_rejection(text: str) -> OptionRejection:
    """The option and reason in aria2c's "bad option" output (exit code 28).

    ``Exception: [AbstractOptionHandler.cc:69] errorCode=28 We encountered a
    problem while processing the option '--max-tries'.`` followed by
    ``-> [OptionHandlerImpl.cc:159] errorCode=1 Bad number abc``.
    """
    option = match.group(1) if (match := _OPTION.search(text)) else ""
    detail = ""
    for line in text.splitlines():
        found = _DETAIL.search(line.strip())
        if found:
            detail = found.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = [
        line for line in lines if "errorCode" in line or line.startswith(("->", "Parse error"))
    ]
    return OptionRejection(option, detail, " ".join(telling) or (lines[-1] if lines else ""))


def check_options(
    binary: Path,
    options: Mapping[str, str],
    scratch_dir: Path,
    env: Mapping[str, str] | None = None,
    runs: HelperRuns | None = None,
) -> OptionRejection | None:
    """Run ``binary`` on ``options`` as a conf file; ``None`` when it accepts them all.

    ``scratch_dir`` (in the app home) holds the temporary conf file for the
    moment of the run; it is private (0600) like the real one. ``runs`` lets
    the caller kill the run when it shuts down (see :mod:`helper_runs`).
    """
    scratch_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="dry-run-", suffix=".conf", dir=scratch_dir)
    os.close(fd)
    conf = Path(name)
    try:
        text = "".join(f"{key}={value}\n" for key, value in options.items())
        write_private_file(conf, text)
        try:
            done = (runs or HelperRuns()).run(
                [str(binary), f"--conf-path={conf}"],
                timeout=DRY_RUN_TIMEOUT_S,
                env=env,
                cwd=str(scratch_dir),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise DryRunError(f"Could not run {binary} to check the options: {exc}") from exc
    finally:
        conf.unlink(missing_ok=True)
    if done.returncode != EXIT_BAD_OPTION:
        return None
    output = (done.stdout + b"\n" + done.stderr).decode("utf-8", "replace")
    return parse_rejection(output.replace(str(conf), "<options>"))
