"""The inactivity timer: active, then a warning with a countdown, then expired."""

from __future__ import annotations

import pytest

from kiosk.idle import ACTIVE, EXPIRED, WARNING, IdleTimer


@pytest.fixture
def timer() -> IdleTimer:
    t = IdleTimer(warn_after=60, countdown=30)
    t.touch(1000.0)
    return t


def test_states_over_time(timer):
    assert timer.state(1000.0) == ACTIVE
    assert timer.state(1059.9) == ACTIVE
    assert timer.state(1060.0) == WARNING  # exactly warn_after of quiet
    assert timer.state(1089.9) == WARNING
    assert timer.state(1090.0) == EXPIRED  # exactly warn_after + countdown
    assert timer.state(5000.0) == EXPIRED


def test_seconds_left(timer):
    assert timer.seconds_left(1000.0) == 90
    assert timer.seconds_left(1060.0) == 30  # the warning starts at the full countdown
    assert timer.seconds_left(1060.5) == 30  # rounded up: never shows 0 while still counting
    assert timer.seconds_left(1061.0) == 29
    assert timer.seconds_left(1075.5) == 15
    assert timer.seconds_left(1089.5) == 1
    assert timer.seconds_left(1090.0) == 0
    assert timer.seconds_left(9999.0) == 0  # never negative


def test_touch_resets(timer):
    assert timer.state(1070.0) == WARNING
    timer.touch(1070.0)
    assert timer.state(1070.0) == ACTIVE
    assert timer.state(1129.0) == ACTIVE
    assert timer.state(1130.0) == WARNING
    assert timer.seconds_left(1070.0) == 90


def test_expired_timer_comes_back_after_a_touch(timer):
    assert timer.state(2000.0) == EXPIRED
    timer.touch(2000.0)
    assert timer.state(2000.0) == ACTIVE


def test_fresh_timer_counts_from_zero():
    t = IdleTimer(warn_after=10, countdown=5)
    assert t.last_activity == 0.0
    assert t.state(9.0) == ACTIVE
    assert t.state(12.0) == WARNING
    assert t.seconds_left(12.0) == 3
    assert t.state(15.0) == EXPIRED


def test_warning_state_always_shows_at_least_one_second():
    t = IdleTimer(warn_after=60, countdown=30)
    t.touch(0.0)
    for tenth in range(600, 900):
        now = tenth / 10
        assert t.state(now) == WARNING
        assert 1 <= t.seconds_left(now) <= 30
