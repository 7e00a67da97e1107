"""The status a user follows: customStatus and output shapes of the README ("What a run does"), and run timing."""

from __future__ import annotations

from kubelink.options import RunOptions
from kubelink.progress import STEPS, Progress, combine_results


def test_custom_status_has_the_five_steps_pending_at_start() -> None:
    status = Progress().custom_status()
    assert status == {"step": None, "steps": dict.fromkeys(STEPS, "pending"), "message": "Starting"}
    assert list(status["steps"]) == ["service", "gateway", "pointToSite", "vnetIntegration", "appSetting"]


def test_steps_move_running_then_done_and_output_keeps_their_order() -> None:
    progress = Progress()
    progress.start("service", "Ensuring Service")
    assert progress.custom_status()["step"] == "service"
    assert progress.custom_status()["steps"]["service"] == "running"
    progress.results["vnetIntegration"] = "created"  # recorded early by the gateway step
    progress.finish("service", "created", "Service has IP")
    progress.finish("appSetting", "updated", "done")
    assert progress.custom_status()["steps"]["service"] == "done"
    assert list(progress.output("l", "10.0.0.1")["steps"]) == ["service", "vnetIntegration", "appSetting"]
    assert progress.output("l", "10.0.0.1")["privateAddress"] == "10.0.0.1"


def test_a_failure_outside_the_five_steps_is_named_but_adds_no_step() -> None:
    progress = Progress()
    progress.fail("preflight", "Step preflight failed: PreflightFailed: pool overlaps")
    status = progress.custom_status()
    assert status["step"] == "preflight" and set(status["steps"]) == set(STEPS)
    progress.fail("gateway", "boom")
    assert progress.custom_status()["steps"]["gateway"] == "failed"


def test_combined_result_of_several_writes() -> None:
    assert combine_results(["unchanged", "created", "updated"]) == "created"
    assert combine_results(["unchanged", "updated"]) == "updated"
    assert combine_results(["unchanged", "unchanged"]) == "unchanged"
    assert combine_results([]) == "unchanged"


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    options = RunOptions(retry_first_seconds=5, retry_max_seconds=60)
    assert [options.retry_delay(n, None) for n in range(6)] == [5, 10, 20, 40, 60, 60]
    assert options.retry_delay(0, 30) == 30  # Azure asked for longer
    assert options.retry_delay(3, 1) == 40  # a short Retry-After does not shorten the backoff


def test_options_travel_as_camel_case_json_and_default_what_is_missing() -> None:
    options = RunOptions.for_poll_seconds(2)
    assert options.to_json()["pollSeconds"] == 2 and options.retry_first_seconds == 2
    assert RunOptions.from_json(options.to_json()) == options
    assert RunOptions.from_json({"pollSeconds": 7, "unknown": 1}) == RunOptions(poll_seconds=7)
    assert RunOptions.from_json(None) == RunOptions()


def test_every_change_is_published_as_it_happens() -> None:
    published: list[dict[str, object]] = []
    progress = Progress(publish=published.append)
    progress.start("service", "Ensuring Service")
    progress.say("Waiting for its IP")
    progress.finish("service", "created", "Service has IP")
    progress.fail("gateway", "Step gateway failed")
    assert [p["message"] for p in published] == [
        "Ensuring Service",
        "Waiting for its IP",
        "Service has IP",
        "Step gateway failed",
    ]
    assert published[0]["steps"]["service"] == "running"  # type: ignore[index]
    assert published[-1]["steps"]["gateway"] == "failed"  # type: ignore[index]
