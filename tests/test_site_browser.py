"""The generated website in a real headless browser (Debian's chromium and chromedriver, driven by Selenium).

Pages are opened from file://, as someone who downloaded the site would: search runs in the browser without network,
links are relative, claim pages carry their ClaimReview, Chinese pages hold Chinese text, and markup in the knowledge
never runs. Install the browser with ``apt-get install chromium chromium-driver`` (CI does it in .ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bot.facts import KnowledgeBase, require_knowledge
from bot.site import build_site

FIXTURE = Path(__file__).parent / "fixtures" / "good"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = (
    "The browser test needs Debian's chromium and chromedriver: run "
    "'apt-get update && apt-get install -y chromium chromium-driver' (as root), then run the tests again."
)
WAIT = 5  # seconds; everything is local


def _missing() -> list[str]:
    return [path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(path) and os.access(path, os.X_OK))]


def test_chromium_and_chromedriver_are_installed() -> None:
    missing = _missing()
    assert not missing, f"{', '.join(missing)} not found. {INSTALL}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    missing = _missing()
    if missing:
        pytest.fail(f"{', '.join(missing)} not found. {INSTALL}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download a browser or a driver
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT * 2)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Path:
    out = tmp_path_factory.mktemp("browser-site")
    build_site(kb, out)
    return out


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    return WebDriverWait(driver, WAIT).until(condition)


def _no_alert(driver: WebDriver) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 (raises when there is none)
    except NoAlertPresentException:
        return True
    return False


def _search(driver: WebDriver, query: str) -> list[tuple[str, str]]:
    """Type ``query`` in the search box; the (href, text) of each result once the list shows."""
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query)
    _wait(driver, lambda d: d.find_element(By.ID, "search-status").text)
    links = driver.find_elements(By.CSS_SELECTOR, "#results li a")
    return [(a.get_attribute("href"), a.text) for a in links]


def test_search_finds_the_ireland_entry_and_its_page_has_sources(browser: WebDriver, site: Path,
                                                                 kb: KnowledgeBase) -> None:
    driver = browser
    driver.get((site / "en" / "index.html").as_uri())
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    results = _search(driver, "Dublin")
    ireland = kb.by_id["response-ireland"].title["en"]
    assert any(href.endswith("/en/response-ireland.html") and text == ireland for href, text in results), results
    assert len(results) < len(kb.entries)  # a filter, not the whole list

    driver.find_element(By.LINK_TEXT, ireland).click()
    _wait(driver, lambda d: d.current_url.endswith("/en/response-ireland.html"))
    assert driver.find_element(By.TAG_NAME, "h1").text == ireland
    sources = driver.find_elements(By.CSS_SELECTOR, ".sources li a")
    expected = {s.url for s, _ in kb.cited(kb.by_id["response-ireland"])}
    assert expected <= {a.get_attribute("href") for a in sources}
    assert kb.version in driver.find_element(By.TAG_NAME, "footer").text

    assert _search_again(driver, site, "no such thing at all xyz") == []


def _search_again(driver: WebDriver, site: Path, query: str) -> list[tuple[str, str]]:
    driver.get((site / "en" / "index.html").as_uri())
    return _search(driver, query)


def test_claim_page_carries_a_claim_review(browser: WebDriver, site: Path) -> None:
    driver = browser
    driver.get((site / "en" / "claim-stations-in-embassies.html").as_uri())
    blocks = driver.execute_script(
        "return Array.from(document.querySelectorAll('script[type=\"application/ld+json\"]')).map(s => s.textContent)"
    )
    assert len(blocks) == 1
    review = json.loads(blocks[0])
    assert review["@type"] == "ClaimReview" and review["reviewRating"]["alternateName"] == "False"
    assert review["url"].endswith("/en/claim-stations-in-embassies.html")


def test_traditional_chinese_pages_show_chinese_and_search_in_either_script(browser: WebDriver, site: Path,
                                                                            kb: KnowledgeBase) -> None:
    driver = browser
    entry = kb.by_id["response-ireland"]
    driver.get((site / "zh-Hant" / "response-ireland.html").as_uri())
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant"
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert heading == entry.title["zh-Hant"] and any("\u4e00" <= c <= "\u9fff" for c in heading)
    answer = driver.find_element(By.CSS_SELECTOR, ".answer").text
    assert answer == entry.answer["zh-Hant"]

    driver.get((site / "zh-Hant" / "index.html").as_uri())
    for query in ("都柏林", "爱尔兰", "愛爾蘭"):  # Simplified typed on the Traditional page works too
        results = _search(driver, query)
        assert any(href.endswith("/zh-Hant/response-ireland.html") for href, _ in results), (query, results)


def test_search_ignores_accents_and_invisible_characters(browser: WebDriver, site: Path, kb: KnowledgeBase) -> None:
    driver = browser
    driver.get((site / "es" / "index.html").as_uri())
    title = kb.by_id["response-spain"].title["es"]  # "¿Qué hizo España con las supuestas comisarías chinas?"
    for query in ("que hizo espana", "COMISARÍAS", "comisarias espana", "Espa\u00adña"):
        results = _search(driver, query)
        assert any(href.endswith("/es/response-spain.html") and text == title for href, text in results), query


def test_markup_in_the_knowledge_never_runs(browser: WebDriver, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    entries = knowledge / "entries" / "all.yaml"
    text = entries.read_text(encoding="utf-8")
    entries.write_text(text.replace('"Claim: the stations are inside embassies"', f"'Claim: {hostile}'"),
                       encoding="utf-8")
    out = tmp_path / "site"
    build_site(require_knowledge(knowledge), out)

    driver = browser
    driver.get((out / "en" / "claim-in-embassies.html").as_uri())
    assert _no_alert(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == f"Claim: {hostile}"
    assert driver.execute_script("return document.images.length") == 0
    driver.get((out / "en" / "index.html").as_uri())
    results = _search(driver, "alert")
    assert results and results[0][1] == f"Claim: {hostile}"  # shown as text
    assert _no_alert(driver) and driver.execute_script("return document.images.length") == 0
