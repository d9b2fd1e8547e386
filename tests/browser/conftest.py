"""A real browser on the admin: headless Chromium driven by Selenium against pytest-django's
live_server (a WSGI server in a thread of this process, on the test database, serving the static
files through the staticfiles finders, so the admin's CSS and JavaScript load with DEBUG off; one
request at a time on SQLite, see `live_server` below). The today page's websocket finds no ASGI
server there (a 404 in the log) and is tested elsewhere (tests/appointments_admin/test_today_live.py).

One Chromium for the whole session (starting one costs about a second); each test gets it with no
cookies, the desktop window size and English. Without chromium and chromedriver on the machine the
browser tests skip, saying so; with REQUIRE_BROWSER=1 (CI, `make screenshots`) they fail instead.

Every page a flow visits is saved as a PNG, in English and in French (the same page requested again
with Accept-Language fr), to $SCREENSHOT_DIR if set, else to pytest's temporary directory so that
a test run does not dirty the checkout (`make screenshots` sets docs/screenshots).
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.factories import DEFAULT_PASSWORD

DESKTOP = (1280, 900)
TABLET = (1024, 768)
WAIT_SECONDS = 10
LANGUAGES = ("en", "fr")
# What Chromium sends for each language (its intl.accept_languages).
ACCEPT_LANGUAGE = {"en": "en-US,en", "fr": "fr-FR,fr"}


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").lower() not in ("", "0", "no", "false")


def _unavailable(reason: str):
    if _browser_required():
        pytest.fail(f"REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(f"no browser tests: {reason}")


def _find_chromium() -> tuple[str, str]:
    binary = next(
        (
            found
            for name in ("chromium", "chromium-browser", "google-chrome")
            if (found := shutil.which(name))
        ),
        None,
    )
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        missing = " and ".join(
            name for name, path in (("chromium", binary), ("chromedriver", driver)) if path is None
        )
        _unavailable(f"{missing} not found on PATH (apt-get install chromium chromium-driver)")
    assert binary is not None and driver is not None
    return binary, driver


@pytest.fixture(scope="session")
def chromium():
    """The session's headless Chromium (a selenium WebDriver)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is not installed (make install: requirements-dev.txt)")
    binary, driver_path = _find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # containers and CI run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",  # a container's /dev/shm is often 64 MB: too small for Chromium
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        "--lang=en-US",
        "--hide-scrollbars",  # screenshots of the same page look the same on every machine
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": ACCEPT_LANGUAGE["en"]})
    try:
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
    except Exception as error:  # any failure to start is "no browser here" (or a failure in CI)
        _unavailable(f"Chromium did not start: {error}")
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _serial_live_server_thread():
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

    class SerialLiveServerThread(LiveServerThread):
        """Answers one request at a time, in the server's own thread (which run() gives the test's
        connection): the in-memory SQLite database is one connection, and two requests at once on
        it (a page and the autocomplete's query) end in "database table is locked"."""

        def _create_server(self, connections_override=None):
            return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)

    return SerialLiveServerThread


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server (the same name, so a test using it gets a transactional database
    and ALLOWED_HOSTS names its host), answering one request at a time on the in-memory SQLite
    database; threaded, as pytest-django's, on PostgreSQL."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    threaded = server.thread
    if threaded.connections_override:  # an in-memory SQLite database
        server.thread = _serial_live_server_thread()(
            threaded.host,
            static_handler=threaded.static_handler,
            connections_override=threaded.connections_override,
            port=threaded.port,
        )
        server.thread.daemon = True
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    for language in LANGUAGES:
        (directory / language).mkdir(parents=True, exist_ok=True)
    return directory


class AdminBrowser:
    """The session's Chromium on the live server: log in, open pages, wait, save screenshots."""

    def __init__(self, driver, base_url: str, screenshot_dir: Path, *, compact: bool):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.base_url = base_url
        self.screenshot_dir = screenshot_dir
        self.compact = compact  # saved for the repository ($SCREENSHOT_DIR): made small
        self.wait = WebDriverWait(driver, WAIT_SECONDS)
        self.language = "en"
        self.shots: list[Path] = []

    # --- the session's state -------------------------------------------------------------------
    def reset(self) -> None:
        """No cookies (so no session), the desktop window, English."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.viewport(*DESKTOP)
        self.speak("en")

    def viewport(self, width: int, height: int) -> None:
        """The page's own size, exactly (a headless window's size includes the browser's frame)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def speak(self, language: str) -> None:
        """What the browser asks for from now on: its Accept-Language header (and navigator.languages),
        as Chromium's intl.accept_languages would set it."""
        user_agent = self.driver.execute_script("return navigator.userAgent")
        self.driver.execute_cdp_cmd(
            "Emulation.setUserAgentOverride",
            {"userAgent": user_agent, "acceptLanguage": ACCEPT_LANGUAGE[language]},
        )
        self.language = language

    # --- navigation ----------------------------------------------------------------------------
    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all_css(self, selector: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait_for(self, selector: str):
        """The element, once it is on the page and visible."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as shown

        return self.wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def wait_until(self, condition: Callable[[], object], message: str = ""):
        return self.wait.until(lambda _driver: condition(), message)

    def submit(self, selector: str) -> None:
        """Click a submit button and wait for the next page to replace this one."""
        from selenium.webdriver.support import expected_conditions as shown

        html = self.css("html")
        self.css(selector).click()
        self.wait.until(shown.staleness_of(html))
        self.wait_until(
            lambda: self.driver.execute_script("return document.readyState") == "complete",
            "the next page did not finish loading",
        )

    def login(self, user, password: str = DEFAULT_PASSWORD, *, screenshot: str | None = None) -> None:
        """Through the real /admin/login/ page, as staff do: a doctor's or receptionist's clinic asks
        no second factor of them (TenantFactory keeps the default: administrators only)."""
        self.open("/admin/login/")
        if screenshot:
            self.shoot(screenshot)
        self.css("#id_username").send_keys(user.username)
        self.css("#id_password").send_keys(password)
        self.submit("#login-form [type=submit]")
        assert self.path() == "/admin/", f"login of {user.username} ended on {self.path()}"

    # --- screenshots ---------------------------------------------------------------------------
    def shoot(self, name: str) -> None:
        """This page as a PNG in the current language, then the same page in the other one (asked
        for again with that Accept-Language), and back: the flow goes on from the page it was on.

        A page reached by a POST is only ever shown after its redirect (a GET), so asking for it
        again repeats nothing; a one-time message on it appears in the first language's shot only."""
        name = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
        spoken = self.language
        self._save(name)
        for language in LANGUAGES:
            if language != spoken:
                self.speak(language)
                self.driver.refresh()
                self._save(name)
        if self.language != spoken:
            self.speak(spoken)
            self.driver.refresh()

    def _save(self, name: str) -> None:
        path = self.screenshot_dir / self.language / f"{name}.png"
        png = self.driver.get_screenshot_as_png()
        path.write_bytes(_small_png(png) if self.compact else png)
        self.shots.append(path)


def _small_png(png: bytes) -> bytes:
    """The screenshot in 256 colours, a third of its size: the admin's flat colours lose nothing
    visible, and docs/screenshots/ stays small in the repository. As it was without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return png
    out = io.BytesIO()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture
def admin_browser(chromium, live_server, screenshot_dir, settings) -> AdminBrowser:
    """The session's Chromium, reset, on the live server (a transactional database: the server's
    thread sees the test's committed rows)."""
    # The live server speaks plain HTTP: secure-only cookies would not be sent back to it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    page = AdminBrowser(chromium, live_server.url, screenshot_dir, compact="SCREENSHOT_DIR" in os.environ)
    page.reset()
    return page
