"""ISO 8601 in and out without the datetime calls Python 3.5 lacks (the PTrade script shares these)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from quantlink_terminal.clock import CHINA_TZ, parse_date, parse_iso, to_iso


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T09:31:02.123+08:00", datetime(2026, 11, 20, 9, 31, 2, 123000, tzinfo=CHINA_TZ)),
        ("2026-11-20T01:31:02Z", datetime(2026, 11, 20, 1, 31, 2, tzinfo=UTC)),
        ("2026-11-20T09:31:02.1+0800", datetime(2026, 11, 20, 9, 31, 2, 100000, tzinfo=CHINA_TZ)),
        ("2026-11-20T09:31:02.123456789+08:00", datetime(2026, 11, 20, 9, 31, 2, 123456, tzinfo=CHINA_TZ)),
        ("2026-11-20T09:31:02-05:30", datetime(2026, 11, 20, 9, 31, 2, tzinfo=timezone(-timedelta(hours=5.5)))),
        ("2026-11-20 09:31:02", datetime(2026, 11, 20, 9, 31, 2, tzinfo=CHINA_TZ)),  # PTrade's entrust_time
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=CHINA_TZ)),
    ],
)
def test_parse_iso_reads_what_servers_and_ptrade_write(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["", "20261120", "2026-11-20T9:31", "yesterday", "2026-11-20T09:31:02+8"])
def test_parse_iso_refuses_what_is_not_iso(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso(text)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 20, 9, 31, 2, 123999, tzinfo=CHINA_TZ),
        datetime(2026, 11, 20, 1, 31, 2, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3))),
    ],
)
def test_to_iso_is_china_time_with_milliseconds(moment: datetime) -> None:
    assert to_iso(moment) == moment.astimezone(CHINA_TZ).isoformat(timespec="milliseconds")
    assert parse_iso(to_iso(moment)) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_parse_date() -> None:
    assert parse_date("2026-02-16") == date(2026, 2, 16)
    with pytest.raises(ValueError):
        parse_date("2026-2-16")
