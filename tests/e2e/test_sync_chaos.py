"""Chaos, short version (the long one, >= 1,000 events, is bench/bench_sync_chaos.py):
faults between agent and server, SIGKILLs of both, and still 0 lost, 0 twice."""

from __future__ import annotations

import pytest

from tests.e2e.chaos import run_chaos

pytestmark = pytest.mark.slow


def test_nothing_lost_nothing_twice_through_faults_and_kills(tmp_path, database_url):
    result = run_chaos(tmp_path, database_url, events=150, seconds=20, seed=4, log=lambda _line: None)
    report = "\n".join(result.lines())
    print(report)
    assert result.events_made >= 150 and result.check_ins > 0, report
    assert result.agent_kills + result.server_kills > 0, report
    assert sum(n for f, n in result.faults.items() if f.value != "pass") > 0, report
    assert result.lost == 0, report
    assert result.unexpected == 0 and result.stored_twice == 0, report
    assert result.arrivals_not_applied == 0, report
    assert result.dead_letters == 0, report
    assert result.on_server == result.events_made, report
