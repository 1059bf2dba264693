"""The smoke book as its readers see it: every page opened in headless Chromium.

Uses the smoke book built once per session (``smoke_book`` in conftest.py). Needs
Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and Selenium
(the ``test`` extra); without them the tests are skipped, saying which is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from cchlib import book
from conftest import ROOT

CHROMIUM = os.environ.get("CCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CCH_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
]
# Folders of the build machine that no page may name.
MACHINE_PATHS = sorted({str(ROOT), str(Path.home()), "/root/", "/tmp/", "/work/"})
CHAPTERS = [e for e in book.executable_entries(ROOT) if e.startswith("notebooks/")]
# Console errors of the theme's own scripts, harmless for the reader, matched narrowly:
# sphinx-thebe 0.3.1 registers its inline config script twice (env-before-read-docs runs
# twice in a Jupyter Book 1.x build), so the second `const THEBE_JS_URL` is a redeclaration;
# thebe is not used by this book. pydata-sphinx-theme logs an empty stored theme mode on a
# fresh browser profile and falls back to "auto".
KNOWN_UPSTREAM = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    '"Got invalid theme mode: . Resetting to auto."',
)


def _missing_browser() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install -y {package}; .ci/run does this)"
    return None


@pytest.fixture(scope="module")
def driver():
    """Headless Chromium with a fresh profile; browser console messages are recorded."""
    reason = _missing_browser()
    if reason:
        pytest.skip(f"no headless browser: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def html(smoke_book) -> Path:
    """The folder of the built smoke book's HTML."""
    _, index = smoke_book
    return index.parent


def _pages(html: Path) -> list[Path]:
    return [html / f"{entry}.html" for entry in book.toc_entries(ROOT)]


def _open(driver, page: Path) -> list[str]:
    """Load ``page`` and return the console errors it produced."""
    driver.get_log("browser")  # drop messages of earlier pages
    driver.get(page.as_uri())
    return [
        entry["message"] for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and not any(known in entry["message"] for known in KNOWN_UPSTREAM)
    ]


def test_pages_load_without_console_errors_and_with_their_images(driver, html):
    problems = []
    for page in _pages(html):
        errors = _open(driver, page)
        if errors:
            problems.append(f"{page.relative_to(html)}: console errors {errors}")
        broken = driver.execute_script(
            "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        if broken:
            problems.append(f"{page.relative_to(html)}: images not loaded {broken}")
    assert not problems, "\n".join(problems)


def test_every_internal_link_resolves(driver, html):
    broken = []
    for page in _pages(html):
        driver.get(page.as_uri())
        hrefs = driver.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)")
        for href in set(hrefs):
            url = urlparse(href)
            if url.scheme != "file":
                continue
            target = Path(unquote(url.path))
            if not target.exists():
                broken.append(f"{page.relative_to(html)} -> {href}")
            elif url.fragment and target.suffix == ".html":
                ids = set(re.findall(r'id="([^"]+)"', target.read_text(errors="replace")))
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(html)} -> {href} (no such anchor)")
    assert not broken, "links that do not resolve:\n" + "\n".join(sorted(broken))


def test_search_finds_mnist(driver, html):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((html / "search.html").as_uri() + "?q=MNIST")
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
        or "did not match any" in d.find_element(By.ID, "search-results").text
    )
    found = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
    assert any("mnist" in a.get_attribute("href").lower() for a in found), [a.text for a in found]


def test_no_page_names_a_folder_of_the_build_machine(html):
    leaks = []
    for page in sorted(html.rglob("*.html")):
        text = page.read_text(errors="replace")
        leaks += [f"{page.relative_to(html)}: {p}" for p in MACHINE_PATHS if p in text]
    assert not leaks, "machine paths on pages:\n" + "\n".join(leaks)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_opens_with_what_we_found(driver, html, chapter):
    from selenium.webdriver.common.by import By

    driver.get((html / f"{chapter}.html").as_uri())
    boxes = [
        box for box in driver.find_elements(By.CSS_SELECTOR, "div.admonition")
        if box.find_element(By.CSS_SELECTOR, ".admonition-title").text.strip() == "What we found"
    ]
    assert boxes, f"{chapter}: no 'What we found' box"
    text = boxes[0].text
    assert "The paper:" in text and "This run:" in text and re.search(
        r"Verdict: (reproduced|partly reproduced|not reproduced|undecided)\.", text
    ), f"{chapter}: the box lacks its glued finding: {text!r}"
    first = driver.find_elements(By.CSS_SELECTOR, "div.admonition")[0]
    assert first == boxes[0], f"{chapter}: 'What we found' is not the first box on the page"
