"""Child process for the copay SIGKILL test: checks a patient in, starts the copay through
the kiosk's CopayStep (the store records the attempt first), asks the terminal, prints its
answer and then waits to be killed before settling it.

Usage: python copay_child.py DATA_DIR KEY_FILE TERMINAL_URL
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from logic_helpers import MARIA_BORN, NOW, TODAY, FakeClock, identify  # noqa: E402
from hardware.payment import LanTerminal  # noqa: E402
from kiosk.flow import Journey  # noqa: E402
from kiosk.steps.copay import CopayStep  # noqa: E402
from kiosk.store import open_store  # noqa: E402


def main() -> None:
    data_dir, key_file, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    store = open_store(data_dir, key_file)
    store.load_demo_clinic(TODAY)
    terminal = LanTerminal(url)
    journey = Journey(store, [CopayStep(lambda: terminal)], FakeClock(NOW))
    identify(journey, "García-López", MARIA_BORN)
    journey.confirm(True)
    step = journey.step("copay")
    key = step.start(journey)
    print("STARTED", key, flush=True)
    result = step.collect(key, step.state(journey).amount_cents)
    print("ANSWERED", result.status.value, flush=True)
    sys.stdin.readline()  # killed here: the terminal approved, the kiosk has not recorded it


if __name__ == "__main__":
    main()
