from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [
    REPO / ".ci" / "run",
    REPO / "scripts" / "setup.sh",
    REPO / "scripts" / "test.sh",
    REPO / "scripts" / "demo.sh",
    REPO / "scripts" / "i18n.sh",
]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_script_is_executable_bash(script: Path) -> None:
    assert os.access(script, os.X_OK), f"chmod +x {script}"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_test_sh_maps_no_tests_to_success(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "KIOSK_SKIP_APT": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "test.sh"), "-q", "-p", "no:cacheprovider", str(empty)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "collected no tests" in result.stdout
    assert "[setup] ready" in result.stderr
