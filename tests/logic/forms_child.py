"""Child process for the SIGKILL test: fills PHQ-9 and prints after each committed answer.

Usage: python forms_child.py DATA_DIR KEY_FILE SEED
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from forms_helpers import PHQ9_URL, forms_journey  # noqa: E402
from logic_helpers import MARIA_BORN, NOW, TODAY, FakeClock, identify  # noqa: E402
from kiosk.store import open_store  # noqa: E402


def main() -> None:
    data_dir, key_file, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    store = open_store(data_dir, key_file)
    store.load_demo_clinic(TODAY)
    journey = forms_journey(store, FakeClock(NOW), PHQ9_URL)
    identify(journey, "García-López", MARIA_BORN)
    journey.confirm(True)
    step = journey.step("forms")
    rng = random.Random(seed)
    confirmed = 0
    print("ready", flush=True)
    while True:  # the parent kills us somewhere in here
        page = step.runner(journey).page
        if page is None:
            break
        step.answer(journey, [page.options[rng.randrange(len(page.options))][0]] if page.options else [])
        if step.next(journey) is None:
            confirmed += 1
            print(f"confirmed {confirmed}", flush=True)


if __name__ == "__main__":
    main()
