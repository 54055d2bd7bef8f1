"""The sliding-window helper behind the login throttle and deconfliction search."""

import pytest

from config.ratelimit import RateLimited, enforce, hit

WINDOW = 60


def _hits(n, *, at, ident="a", limit=3):
    return [hit("test", ident, limit=limit, window=WINDOW, now=at).allowed for _ in range(n)]


def test_allows_up_to_the_limit_then_refuses():
    assert _hits(4, at=6000.0) == [True, True, True, False]


def test_callers_are_counted_separately():
    _hits(3, at=6000.0, ident="a")
    assert _hits(1, at=6000.0, ident="b") == [True]


def test_previous_window_still_counts_just_after_the_boundary():
    _hits(3, at=6000.0)
    assert _hits(1, at=6061.0) == [False]


def test_window_slides_free_after_two_windows():
    _hits(3, at=6000.0)
    assert _hits(3, at=6125.0) == [True, True, True]


def test_refusal_says_when_to_retry():
    _hits(3, at=6000.0)
    result = hit("test", "a", limit=3, window=WINDOW, now=6010.0)
    assert not result.allowed
    assert 0 < result.retry_after <= WINDOW


def test_enforce_raises_rate_limited():
    enforce("enforce-test", "a", limit=1, window=WINDOW)
    with pytest.raises(RateLimited) as excinfo:
        enforce("enforce-test", "a", limit=1, window=WINDOW)
    assert excinfo.value.retry_after > 0
