"""Named, timed steps and bounded commands, for a run of minutes that is never silent.

Each step prints when it starts and how long it took. A command's output goes to its own
log file under the run's folder; while it runs, a line every HEARTBEAT seconds says it
still does. A command that fails or outlives its timeout raises StepFailed with the end of
its output, so the report names the step and shows the engine's own error.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HEARTBEAT = 20  # seconds between "still running" lines


class StepFailed(Exception):
    """A step did not do what it should. ``detail`` is the engine's or the command's own
    output; ``container`` the container whose log explains it, when one does."""

    def __init__(self, message: str, detail: str = "", container: str | None = None):
        super().__init__(message)
        self.detail = detail
        self.container = container


@dataclass
class Result:
    returncode: int
    output: str  # stdout and stderr, interleaved as written
    log: Path


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Steps:
    def __init__(self, log_dir: Path, clock=time.monotonic):
        self.log_dir = log_dir
        self.clock = clock
        self.started = clock()
        self.done: list[tuple[str, float]] = []
        self.failed: str | None = None
        self._count = 0

    def say(self, line: str) -> None:
        print(f"[{self.clock() - self.started:6.1f} s] {line}", flush=True)

    @contextmanager
    def step(self, name: str):
        self.say(f"==> {name}")
        began = self.clock()
        try:
            yield
        except BaseException:
            self.failed = self.failed or name
            self.say(f"FAILED: {name} (after {self.clock() - began:.1f} s)")
            raise
        took = self.clock() - began
        self.done.append((name, took))
        self.say(f"<== {name}: {took:.1f} s")

    def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        stream: bool = False,
        what: str | None = None,
    ) -> Result:
        """Run ``argv`` to its end or ``timeout``; ``stream`` shows its output as it comes
        (a test runner's progress), otherwise it goes to a log file only. ``what`` names
        the command in progress lines (its first words by default)."""
        self._count += 1
        what = what or _short(argv)
        slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
        log = self.log_dir / f"{self._count:03d}-{slug[:40]}.log"
        command = " ".join(argv)
        with log.open("w+") as output:
            output.write(f"$ {command}\n")
            output.flush()
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=None if stream else output,
                stderr=None if stream else subprocess.STDOUT,
                start_new_session=True,  # its whole process group can be ended on a timeout
            )
            try:
                finished = self._wait(process, timeout, what)
            except BaseException:  # interrupted (Ctrl-C, SIGTERM): the command goes too
                _end(process)
                raise
            if not finished:
                _end(process)
                output.seek(0)
                message = f"`{command}` did not finish within {timeout:.0f} s"
                raise StepFailed(message, tail(output.read().split("\n", 1)[1]))
            output.seek(0)
            text = output.read().split("\n", 1)[1]  # less the command line written first
        if check and process.returncode != 0:
            raise StepFailed(f"`{command}` exited {process.returncode} (log: {log})", tail(text))
        return Result(process.returncode, text, log)

    def _wait(self, process: subprocess.Popen, timeout: float, what: str) -> bool:
        """Wait for the command's end, saying every HEARTBEAT seconds that it still runs;
        False if it outlives ``timeout``."""
        began = self.clock()
        while True:
            left = began + timeout - self.clock()
            if left <= 0:
                return False
            try:
                process.wait(timeout=min(HEARTBEAT, left))
                return True
            except subprocess.TimeoutExpired:
                if self.clock() - began < timeout:
                    self.say(f"    ... `{what}` still running ({self.clock() - began:.0f} s)")


def _short(argv: list[str]) -> str:
    words = [Path(argv[0]).name, *(a for a in argv[1:] if not a.startswith("-"))]
    return " ".join(words[:3])


def _end(process: subprocess.Popen) -> None:
    """TERM the command's process group, then KILL what is left after a few seconds."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
