"""Short-lived helper processes (espeak-ng, aplay) that can be killed at once from any thread.

Each runs in its own session, so a kill reaches the whole process group, and it is
always reaped (waited for) by the thread that started it: no zombies. Its stderr goes to
an anonymous temporary file rather than a pipe, so a chatty process can never block on
a full pipe while we are busy with its stdout.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from typing import IO

STDERR_LIMIT = 300  # characters of a failing tool's stderr kept for the error message


class ChildProcess:
    def __init__(self, args: Sequence[str], *, stdin: int | IO[bytes] | None,
                 stdout: int | IO[bytes] | None) -> None:
        """Start `args` (no shell). Raises FileNotFoundError if the program is missing."""
        self._stderr = tempfile.TemporaryFile()
        try:
            self.popen = subprocess.Popen(list(args), stdin=stdin, stdout=stdout, stderr=self._stderr,
                                          start_new_session=True, close_fds=True)
        except BaseException:
            self._stderr.close()
            raise

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL the process group; harmless once the process has been reaped."""
        if self.popen.returncode is not None:
            return  # reaped: its pid may belong to someone else by now
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, timeout: float = 5.0) -> int:
        """Wait for the exit (killing it if it takes longer than `timeout`); the exit code."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.wait()

    def stderr_tail(self) -> str:
        """The last line of what the process wrote to stderr, shortened."""
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        last = text.splitlines()[-1] if text else ""
        return last[-STDERR_LIMIT:]

    def close(self) -> None:
        """Kill if still running, reap, and close our ends of its pipes."""
        self.kill()
        self.reap()
        for stream in (self.popen.stdin, self.popen.stdout, self._stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
