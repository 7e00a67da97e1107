"""Settings: scopes, ARM endpoint, timings, schedule and kubeconfig lookup, each with a clear error."""

from __future__ import annotations

import base64

import pytest

from adapters import settings
from adapters.settings import InvalidSetting
from kubelink.errors import PermanentError
from kubelink.spec import LinkSpec
from kubelink.validation import parse_link_spec
from tests.unit.samples import BASE, KUBECONFIG, SUB

OTHER = "00000000-0000-0000-0000-0000000000aa"


def spec(**changes: object) -> LinkSpec:
    body = {**BASE, **changes}
    return parse_link_spec(body)


# --- scopes -----------------------------------------------------------------------------------------


def test_unset_scopes_allow_nothing() -> None:
    assert settings.allowed_scopes({}) == ()
    assert settings.allowed_scopes({settings.ALLOWED_SCOPES: "  "}) == ()
    refused = settings.check_scopes(spec(), ())
    assert refused == [f"/subscriptions/{SUB}/resourceGroups/kube-rg", f"/subscriptions/{SUB}/resourceGroups/apps-rg"]
    message = settings.scopes_refusal(refused, ())
    assert "KUBELINK_ALLOWED_SCOPES is not set" in message
    assert "comma-separated list" in message and "/subscriptions/{subscriptionId}" in message


def test_scopes_parse_trimmed_and_without_trailing_slash() -> None:
    raw = f" /subscriptions/{SUB}/ , ,/SUBSCRIPTIONS/{OTHER}/resourcegroups/Apps-RG,"
    assert settings.allowed_scopes({settings.ALLOWED_SCOPES: raw}) == (
        f"/subscriptions/{SUB}",
        f"/SUBSCRIPTIONS/{OTHER}/resourcegroups/Apps-RG",
    )


@pytest.mark.parametrize(
    "entry",
    [
        "subscriptions/" + SUB,
        "/subscriptions/not-a-guid",
        f"/subscriptions/{SUB}/resourceGroups/",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/app",
        "*",
    ],
)
def test_a_bad_scope_entry_names_itself(entry: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        settings.allowed_scopes({settings.ALLOWED_SCOPES: f"/subscriptions/{SUB},{entry}"})
    assert caught.value.code == "InvalidSetting"
    assert repr(entry.rstrip("/")) in caught.value.message
    assert caught.value.message.startswith("The app setting KUBELINK_ALLOWED_SCOPES has an entry")


def test_subscription_scope_covers_its_groups_case_insensitively() -> None:
    assert settings.check_scopes(spec(), (f"/SUBSCRIPTIONS/{SUB.upper()}",)) == []


def test_group_scopes_must_cover_every_group_touched() -> None:
    network_only = (f"/subscriptions/{SUB}/resourceGroups/KUBE-RG",)
    assert settings.check_scopes(spec(), network_only) == [f"/subscriptions/{SUB}/resourceGroups/apps-rg"]
    both = (*network_only, f"/subscriptions/{SUB}/resourcegroups/apps-rg")
    assert settings.check_scopes(spec(), both) == []


def test_a_group_scope_does_not_cover_a_group_sharing_its_prefix() -> None:
    allowed = (f"/subscriptions/{SUB}/resourceGroups/kube", f"/subscriptions/{SUB}/resourceGroups/apps")
    assert len(settings.check_scopes(spec(), allowed)) == 2


def test_another_subscription_is_refused() -> None:
    assert len(settings.check_scopes(spec(), (f"/subscriptions/{OTHER}",))) == 2


def test_the_aks_cluster_is_a_scope_too() -> None:
    aks = f"/subscriptions/{SUB}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/aks"
    linked = spec(kubernetes={**BASE["kubernetes"], "aksCluster": aks})
    groups = (f"/subscriptions/{SUB}/resourceGroups/kube-rg", f"/subscriptions/{SUB}/resourceGroups/apps-rg")
    assert settings.check_scopes(linked, groups) == [aks]
    assert settings.check_scopes(linked, (*groups, f"/subscriptions/{SUB}/resourceGroups/AKS-rg")) == []


def test_one_group_for_network_and_app_is_refused_once() -> None:
    same = spec(app={**BASE["app"], "resourceGroup": "kube-rg"})
    assert settings.check_scopes(same, ()) == [f"/subscriptions/{SUB}/resourceGroups/kube-rg"]


def test_refusal_names_the_refused_and_the_allowed() -> None:
    allowed = (f"/subscriptions/{OTHER}",)
    refused = settings.check_scopes(spec(), allowed)
    message = settings.scopes_refusal(refused, allowed)
    assert f"/subscriptions/{SUB}/resourceGroups/kube-rg" in message
    assert f"(/subscriptions/{OTHER})" in message
    assert "KUBELINK_ALLOWED_SCOPES" in message


# --- ARM endpoint --------------------------------------------------------------------------------


def test_arm_endpoint_default_and_trailing_slash() -> None:
    assert settings.arm_endpoint({}) == "https://management.azure.com"
    assert settings.arm_endpoint({settings.ARM_ENDPOINT: "https://127.0.0.1:8443/"}) == "https://127.0.0.1:8443"


@pytest.mark.parametrize(
    "value", ["http://management.azure.com", "management.azure.com", "https://", "https://h:99999", "https://h/?x=1"]
)
def test_arm_endpoint_must_be_https(value: str) -> None:
    with pytest.raises(InvalidSetting, match="KUBELINK_ARM_ENDPOINT must be an https:// URL"):
        settings.arm_endpoint({settings.ARM_ENDPOINT: value})


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://127.0.0.1:8443", True),
        ("https://127.8.9.10", True),
        ("https://[::1]:8443", True),
        ("https://localhost:8443", True),
        ("https://LOCALHOST", True),
        ("https://management.azure.com", False),
        ("https://127.0.0.1.nip.io", False),
        ("https://localhost.example.com", False),
        ("https://10.0.0.1", False),
        ("https://[::ffff:10.0.0.1]", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    assert settings.is_loopback_url(url) is loopback


# --- timings ----------------------------------------------------------------------------


def test_timing_defaults() -> None:
    assert settings.poll_seconds({}) == 60
    assert settings.verify_concurrency({}) == 10


def test_timing_values() -> None:
    assert settings.poll_seconds({settings.POLL_SECONDS: " 2 "}) == 2
    assert settings.verify_concurrency({settings.VERIFY_CONCURRENCY: "50"}) == 50


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (settings.POLL_SECONDS, "0"),
        (settings.POLL_SECONDS, "1.5"),
        (settings.POLL_SECONDS, "sixty"),
        (settings.POLL_SECONDS, "3601"),
        (settings.VERIFY_CONCURRENCY, "-1"),
        (settings.VERIFY_CONCURRENCY, "101"),
    ],
)
def test_bad_numbers_name_the_setting_and_range(name: str, value: str) -> None:
    read = settings.poll_seconds if name == settings.POLL_SECONDS else settings.verify_concurrency
    with pytest.raises(InvalidSetting, match=f"{name} must be a whole number from 1 to") as caught:
        read({name: value})
    assert caught.value.resource == name


# --- kubeconfig ------------------------------------------------------------------------------------


def test_kubeconfig_as_yaml_and_as_base64() -> None:
    encoded = base64.b64encode(KUBECONFIG.encode()).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))  # as `base64` prints it
    for value in (KUBECONFIG, encoded, wrapped):
        config = settings.kubeconfig("MY_KUBECONFIG", {"MY_KUBECONFIG": value})
        assert config["current-context"] == "c"


def test_kubeconfig_from_bytes() -> None:
    assert settings.load_kubeconfig(KUBECONFIG.encode(), "AKS cluster x")["clusters"][0]["name"] == "c"


def test_missing_kubeconfig_names_the_setting() -> None:
    with pytest.raises(InvalidSetting) as caught:
        settings.kubeconfig("ORDERS_KUBECONFIG", {})
    assert caught.value.message.startswith("The app setting ORDERS_KUBECONFIG is not set")
    assert "kubernetes.kubeconfigSetting" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [
        "not base64 and no colon!",
        base64.b64encode(b"\xff\xfe").decode(),
        "clusters: [unclosed",
        "- just\n- a list: x",
        "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: super-secret-token}}]",
    ],
)
def test_bad_kubeconfig_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(PermanentError) as caught:
        settings.kubeconfig("K", {"K": value})
    assert caught.value.code == "InvalidKubeconfig"
    assert caught.value.message.startswith("The kubeconfig in the app setting K ")
    assert "super-secret-token" not in caught.value.message
    assert value not in caught.value.message
