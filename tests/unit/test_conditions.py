"""Conditions: the transition time moves only when the status does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kubelink.conditions import READY, Condition, get_condition, set_condition, utc_timestamp

T0 = datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=15)


def test_first_condition_is_stamped_now() -> None:
    conditions = set_condition((), Condition(READY, "Unknown", "Provisioning", "started", "Info"), T0)
    assert [c.to_json() for c in conditions] == [
        {
            "type": "Ready",
            "status": "Unknown",
            "severity": "Info",
            "reason": "Provisioning",
            "message": "started",
            "lastTransitionTime": "2026-01-31T12:00:00Z",
        }
    ]


def test_same_status_keeps_the_transition_time_but_takes_the_new_words() -> None:
    first = set_condition((), Condition(READY, "True", "Provisioned", "ok"), T0)
    again = set_condition(first, Condition(READY, "True", "Verified", "still ok"), T1)
    ready = get_condition(again, READY)
    assert ready is not None
    assert (ready.reason, ready.message, ready.last_transition_time) == ("Verified", "still ok", "2026-01-31T12:00:00Z")


def test_a_status_change_moves_the_transition_time() -> None:
    first = set_condition((), Condition(READY, "True", "Provisioned"), T0)
    drifted = set_condition(first, Condition(READY, "False", "Drifted", "app setting", "Error"), T1)
    assert drifted[0].last_transition_time == "2026-01-31T12:15:00Z"
    assert drifted[0].severity == "Error"


def test_other_types_are_kept_in_place() -> None:
    both = set_condition(set_condition((), Condition("Verified", "True", "Ok"), T0), Condition(READY, "True", "Ok"), T0)
    updated = set_condition(both, Condition("Verified", "False", "Probe"), T1)
    assert [c.type for c in updated] == ["Verified", READY]
    assert updated[1] == both[1]


def test_json_round_trip() -> None:
    condition = Condition(READY, "False", "Unreachable", "probe 502", "Error", "2026-01-31T12:00:00Z")
    assert Condition.from_json(condition.to_json()) == condition


def test_timestamps_are_utc_and_need_a_zone() -> None:
    assert utc_timestamp(datetime(2026, 1, 31, 13, 0, 0, 999, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-01-31T12:00:00Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_timestamp(datetime(2026, 1, 31))
