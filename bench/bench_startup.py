"""Benchmark: cold start of the kiosk to the first frame of the welcome screen.

Each measurement is a fresh process (bench/_startup_child.py): the time runs from just
before the spawn to the moment the child has swapped its first frame with the root on
screen (kiosk: welcome screen current) to the window. The same is measured for a bare
Kivy app whose root is one Label ("hello"), in the same run, and the kiosk is reported
as a ratio to it, so the figure does not depend much on the machine.

The kiosk opens its database just after that first frame; the time until it is open (a
patient's "Check in" works) is reported too, as "ready".

Two kiosk cases:
  * first start (new database): an empty data dir and no key file; the start creates
    the key, runs the migrations and loads the demo clinic. A fresh dir every time.
  * normal start: a data dir (and key file) that already holds the demo clinic, made
    by an untimed warm-up run.

    python bench/bench_startup.py [--repeat 5]

Rounds alternate the three kinds (order rotated each round). Without $DISPLAY a private
Xvfb is started (and stopped at the end). Target: normal start <= 1.5x hello.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _xvfb import ensure_display  # noqa: E402

TARGET_RATIO = 1.5
CHILD = Path(__file__).resolve().with_name("_startup_child.py")
MARKER = "FIRST_FRAME"
READY = "READY"
TIMEOUT_S = 120


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def run_child(mode: str, env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from just before the spawn to the child's first frame, and to ready (kiosk)."""
    start = now_ns()
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), mode],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise SystemExit(f"bench: {mode} child gave no first frame in {TIMEOUT_S} s\n{err[-3000:]}") from None
    marks = {}
    for line in out.splitlines():
        name, _, stamp = line.partition(" ")
        if name in (MARKER, READY):
            marks[name] = (int(stamp) - start) / 1e9
    if MARKER in marks:
        return marks[MARKER], marks.get(READY)
    raise SystemExit(
        f"bench: {mode} child exited ({proc.returncode}) without reporting a first frame\n{err[-3000:]}"
    )


class Bench:
    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "KIVY_"))}
        self.runs = 0

    def hello_env(self) -> dict[str, str]:
        return {**self.base_env, "KIVY_HOME": str(self.scratch / "hello-kivy")}

    def kiosk_env(self, name: str) -> dict[str, str]:
        return {
            **self.base_env,
            "KIOSK_DATA_DIR": str(self.scratch / name / "data"),
            "KIOSK_KEY_FILE": str(self.scratch / name / "keys" / "data.key"),
        }

    def hello(self):
        return run_child("hello", self.hello_env())

    def kiosk_first(self):
        self.runs += 1
        name = f"first-{self.runs}"
        try:
            return run_child("kiosk", self.kiosk_env(name))
        finally:
            shutil.rmtree(self.scratch / name, ignore_errors=True)

    def kiosk_normal(self):
        return run_child("kiosk", self.kiosk_env("normal"))


def summary(name: str, times: list[float]) -> str:
    shown = " ".join(f"{t:.3f}" for t in times)
    return (f"{name:<30} median {statistics.median(times):6.3f} s   "
            f"min {min(times):6.3f}   max {max(times):6.3f}   [{shown}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each kind (default 5)")
    args = parser.parse_args()
    ensure_display()

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-startup-") as tmp:
        bench = Bench(Path(tmp))
        # Untimed warm-up: byte-code, OS file cache, Kivy's config.ini in both KIVY_HOMEs,
        # and the "normal" data dir gets its key, schema and demo clinic.
        warm_hello, _ = bench.hello()
        warm_kiosk, _ = bench.kiosk_normal()
        print(f"warm-up (not counted): hello {warm_hello:.3f} s, kiosk first start {warm_kiosk:.3f} s")

        kinds = [("hello", bench.hello), ("first", bench.kiosk_first), ("normal", bench.kiosk_normal)]
        times: dict[str, list[float]] = {name: [] for name, _ in kinds}
        ready: dict[str, list[float]] = {"first": [], "normal": []}
        for round_no in range(args.repeat):
            order = kinds[round_no % 3:] + kinds[:round_no % 3]
            for name, run in order:
                frame, ready_at = run()
                times[name].append(frame)
                if name in ready:
                    ready[name].append(ready_at)
            print(f"round {round_no + 1}/{args.repeat}: " + "  ".join(f"{n} {times[n][-1]:.3f} s" for n, _ in order))

    hello = statistics.median(times["hello"])
    first = statistics.median(times["first"])
    normal = statistics.median(times["normal"])
    print()
    print(f"time from spawn to first frame, {args.repeat} runs each (display {os.environ['DISPLAY']})")
    print(summary("bare Kivy hello (Label)", times["hello"]))
    print(summary("kiosk first start (new db)", times["first"]))
    print(summary("kiosk normal start", times["normal"]))
    print(summary("kiosk first start: ready", ready["first"]))
    print(summary("kiosk normal start: ready", ready["normal"]))
    print()
    print(f"ratio first start  / hello: {first / hello:.2f}x")
    print(f"ratio normal start / hello: {normal / hello:.2f}x")
    print(f"first start extra over normal start (key, migrations, demo clinic): {first - normal:+.3f} s")
    verdict = "meets" if normal / hello <= TARGET_RATIO else "MISSES"
    print(f"target normal start <= {TARGET_RATIO}x hello: {verdict} the target")


if __name__ == "__main__":
    main()
