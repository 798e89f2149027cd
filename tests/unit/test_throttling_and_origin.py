"""The throttling rule (quantlink.throttling) as a function, and the settings that carry the limits and
the browser origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantlink.errors import RateLimited
from quantlink.settings import OwnerApiSettings, TerminalSettings
from quantlink.throttling import TerminalRate

AT = datetime(2026, 11, 20, 1, 31, 15, 250000, tzinfo=UTC)  # 15.25 s into its minute
PULLS = TerminalRate(name="pull", limit=2, window_seconds=60)


def test_a_window_admits_its_limit_then_refuses_until_it_ends() -> None:
    window, count = PULLS.admit(None, 0, AT)  # a record never counted
    assert (window, count) == (PULLS.window(AT), 1)
    window, count = PULLS.admit(window, count, AT)
    assert count == 2
    with pytest.raises(RateLimited) as refused:
        PULLS.admit(window, count, AT + timedelta(seconds=44))
    assert refused.value.retry_after == 1  # 44.75 s later: under a second left, rounded up
    assert refused.value.headers() == {"Retry-After": "1"}
    assert PULLS.admit(window, count, AT + timedelta(seconds=45)) == (window + 1, 1)  # the next minute


def test_retry_after_is_the_rest_of_the_window_in_whole_seconds() -> None:
    assert PULLS.retry_after(AT) == 45  # 44.75 s, rounded up
    assert PULLS.retry_after(AT.replace(second=0, microsecond=0)) == 60
    assert TerminalRate(name="ack", limit=1, window_seconds=3600).retry_after(AT) == 3600 - (31 * 60 + 15)


def test_a_record_counted_in_a_later_window_counts_there() -> None:
    """A clock a little behind another Lambda's never restarts a window the record already moved past."""
    ahead = PULLS.window(AT) + 1
    assert PULLS.admit(ahead, 1, AT) == (ahead, 2)
    with pytest.raises(RateLimited):
        PULLS.admit(ahead, 2, AT)


def test_the_terminal_limits_come_from_the_environment_with_generous_defaults() -> None:
    base = {"TABLE_NAME": "t", "QUEUE_NAME_PREFIX": "q"}
    defaults = TerminalSettings.from_environ(base)
    assert (defaults.pull_rate(), defaults.ack_rate()) == (
        TerminalRate(name="pull", limit=600, window_seconds=60),
        TerminalRate(name="ack", limit=1200, window_seconds=60),
    )
    tuned = TerminalSettings.from_environ(
        {**base, "PULL_RATE_LIMIT": "5", "ACK_RATE_LIMIT": "7", "RATE_WINDOW_SECONDS": "10"}
    )
    assert (tuned.pull_rate(), tuned.ack_rate()) == (
        TerminalRate(name="pull", limit=5, window_seconds=10),
        TerminalRate(name="ack", limit=7, window_seconds=10),
    )
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        TerminalSettings.from_environ({**base, "PULL_RATE_LIMIT": "0"})


def test_the_owner_apis_origin_is_the_spas_never_everyone() -> None:
    base = {
        "TABLE_NAME": "t", "QUEUE_NAME_PREFIX": "q", "COGNITO_ENDPOINT": "c", "USER_POOL_ID": "p",
        "USER_POOL_CLIENT_ID": "c",
    }  # fmt: skip
    website = "http://quantlink-web-1.s3-website-us-east-1.amazonaws.com"
    assert OwnerApiSettings.from_environ({**base, "WEB_URL": website + "/"}).cors_origin == website
    assert OwnerApiSettings.from_environ(base).cors_origin == "http://localhost:3000"  # the default web_url's
    given = {**base, "WEB_URL": website, "CORS_ORIGIN": "https://app.example.com"}
    assert OwnerApiSettings.from_environ(given).cors_origin == "https://app.example.com"
