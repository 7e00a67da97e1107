"""The status page (GET /api/status) in Debian's headless Chromium: it renders the example link from the JSON
routes, and a drift made through ARM appears on it without a reload. Every request it makes stays on the app's
origin and carries the function key the page was opened with."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.command.conftest import EXAMPLE, Cli
from tests.command.test_cli import tamper_setting

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # Debian's chromium, chromium-driver
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,800",
)
KEY = "page-test-key"
CARD = '[data-link="orders-api"]'


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        message = "Debian's chromium and chromium-driver are not installed: `make system-packages` installs them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = Options()
    options.binary_location = CHROMIUM  # with the driver's path given too, Selenium downloads nothing
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _requests(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """The requests the page sent since the last call (Chrome's DevTools network events)."""
    events = (json.loads(entry["message"])["message"] for entry in browser.get_log("performance"))
    return [e["params"]["request"] for e in events if e["method"] == "Network.requestWillBeSent"]


def _fact(browser: webdriver.Chrome, name: str) -> str:
    text: str = browser.find_element(By.CSS_SELECTOR, f'{CARD} [data-fact="{name}"]').text
    return text


def test_the_page_shows_the_link_and_a_drift_made_through_arm_appears(cli: Cli, browser: webdriver.Chrome) -> None:
    assert cli("apply", "-f", str(EXAMPLE), "--wait").code == 0
    host = cli.client.host
    browser.get(f"{host}/api/status?code={KEY}&refresh=1")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, CARD))
    assert _fact(browser, "address") == "10.240.16.25"
    assert _fact(browser, "path") == "gateway"
    assert browser.find_element(By.CSS_SELECTOR, f"{CARD} .ready").text == "Ready True"
    assert browser.find_elements(By.CSS_SELECTOR, f"{CARD} svg.timeline")
    browser.execute_script("window.sameDocument = true")  # gone if the page reloads

    tamper_setting(cli, "10.240.16.88")
    verified = cli.client.completed("/api/links/orders-api/verify")["verifiedAt"]
    mark = f'{CARD} circle.detection[data-field="appSettings.PrivateAddress"][data-detected-at="{verified}"]'
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, mark))
    title = browser.find_element(By.CSS_SELECTOR, f"{mark} title").get_attribute("textContent") or ""
    assert "expected 10.240.16.25, actual 10.240.16.88" in title
    assert browser.find_element(By.CSS_SELECTOR, f"{CARD} .ready").text == "Ready False"
    assert _fact(browser, "verified") == verified
    assert browser.execute_script("return window.sameDocument") is True

    sent = _requests(browser)
    assert {r["url"].split("?")[0] for r in sent} >= {f"{host}/api/links", f"{host}/api/links/orders-api/drift"}
    outside = [r["url"] for r in sent if not r["url"].startswith((f"{host}/", "data:"))]
    assert outside == []
    fetches = [r for r in sent if "/api/links" in r["url"]]
    assert fetches and all(r["headers"].get("x-functions-key") == KEY for r in fetches)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
