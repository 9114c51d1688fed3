"""`gst ui` end to end in a real browser: the Debian Chromium, driven through Selenium.

Starts `gst ui` on a free local port in a child process, then: Gatys on two uploaded images
(the result appears, at the size asked for; style mix weights that do not match the styles get
their message), a non-image upload (its message appears), Translate with a tiny trained pix2pix
run and a CycleGAN run (its direction notice), Sample from a tiny GAN and the Runs tab. A screenshot of each
tab goes to $GST_UI_SCREENSHOTS (docs/ui/ for the README), else to the test's temporary folder.
Skipped, saying why, where Chromium, its driver, Selenium or Gradio is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from .server import Server, wait_for_server  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    # Only the child process imports Gradio: this one keeps its imports out of the suite.
    pytest.mark.skipif(
        importlib.util.find_spec("gradio") is None,
        reason="the ui extra is not installed (pip install 'gst-toolkit[ui]')",
    ),
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="no Chromium/chromedriver found (Debian: apt-get install chromium "
        "chromium-driver; .ci/run installs them when it runs as root)",
    ),
]
WAIT = 40  # seconds for a step on a busy shared CPU; the steps themselves take a few


@pytest.fixture
def server(runs_root, tmp_path):
    started = Server(runs_root, tmp_path)
    try:
        wait_for_server(started.url, started.process, started.log)
        yield started
    finally:
        started.stop()


@pytest.fixture
def pictures(tmp_path):
    """Two real photos (scikit-image's cat and coffee), small: a 120×80 content, a 90×60 style."""
    data = pytest.importorskip("skimage.data", reason="scikit-image is not installed")
    from PIL import Image

    paths = {}
    for name, photo, size in (
        ("cat", data.chelsea(), (120, 80)),
        ("coffee", data.coffee(), (90, 60)),
    ):
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS).save(paths[name])
    return paths


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Without these, Chromium on a closed network waits on its own background fetches.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1280,1040", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    yield driver
    driver.quit()


def _input(driver, elem_id: str, kind: str = "input"):
    return driver.find_element(By.CSS_SELECTOR, f"#{elem_id} {kind}")


def _type(driver, elem_id: str, text: str, kind: str = "input") -> None:
    box = _input(driver, elem_id, kind)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.TAB)


def _choose(driver, elem_id: str, text: str) -> None:
    """A dropdown that takes typed values: type the path, then Enter, then close the list."""
    box = _input(driver, elem_id)
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.ENTER)
    box.send_keys(Keys.ESCAPE)
    driver.find_element(By.TAG_NAME, "h2").click()


def _pick(driver, elem_id: str, value: str) -> None:
    """A dropdown of listed values: open it, click the option."""
    _input(driver, elem_id).click()
    option = f'#{elem_id} li[aria-label="{value}"]'
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, option))
    driver.find_element(By.CSS_SELECTOR, option).click()


def _upload(driver, elem_id: str, *paths: Path) -> None:
    _input(driver, elem_id, "input[type=file]").send_keys("\n".join(str(p) for p in paths))


def _text_appears(driver, text: str, timeout: float = WAIT) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: text in d.find_element(By.TAG_NAME, "body").text,
        message=f"{text!r} never appeared on the page",
    )


def _image_size(driver, elem_id: str) -> tuple[int, int]:
    def loaded(d):
        images = d.find_elements(By.CSS_SELECTOR, f"#{elem_id} img")
        sizes = [d.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", i) for i in images]  # fmt: skip
        return next((tuple(s) for s in sizes if s[0] > 0), None)

    return WebDriverWait(driver, WAIT).until(loaded, message=f"no image in #{elem_id}")


def _tab(driver, name: str) -> None:
    tabs = driver.find_elements(By.CSS_SELECTOR, "button[role=tab]")
    next(t for t in tabs if t.text.strip() == name).click()


def _shot(driver, folder: Path, name: str) -> Path:
    from PIL import Image

    path = folder / f"{name}.png"
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)  # let the page settle after scrolling
    driver.save_screenshot(str(path))
    with Image.open(path) as image:  # 128 colours: small enough to commit
        image.convert("RGB").quantize(128).save(path, optimize=True)
    return path


def test_every_tab_in_a_browser(server, browser, runs_root, pictures, tmp_path):
    url, log = server.url, server.log
    shots = Path(os.environ.get("GST_UI_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    driver = browser
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "stylize-run"))

    # A non-image upload: its message, naming the file, on the page; no traceback.
    bad = tmp_path / "notes.png"
    bad.write_text("these are notes, not pixels")
    _upload(driver, "stylize-content", bad)
    _text_appears(driver, "cannot read 'notes.png' as an image")
    assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
    driver.find_element(By.CSS_SELECTOR, "[data-testid=toast-close]").click()
    driver.find_element(By.CSS_SELECTOR, "#stylize-content button[aria-label=Clear]").click()

    # Stylize: two uploads, a short Gatys; the result appears at the size asked for.
    _upload(driver, "stylize-content", pictures["cat"])
    _upload(driver, "stylize-styles", pictures["coffee"])
    WebDriverWait(driver, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stylize-inputs img")) == 2,
        message="the two uploads never showed",
    )
    _type(driver, "stylize-size", "96")
    _type(driver, "stylize-steps", "10")
    # Style mix weights, two for one style: the message, before any work.
    driver.find_element(By.XPATH, "//button[contains(., 'Several styles')]").click()
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#stylize-mix textarea"),
        message="the Several styles section never opened",
    )
    _type(driver, "stylize-mix", "1, 3", "textarea")
    driver.find_element(By.ID, "stylize-run").click()
    _text_appears(driver, "2 style mix weight(s) for 1 style image(s)")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=toast-close]").click()
    _type(driver, "stylize-mix", Keys.DELETE, "textarea")  # emptied: equal weights
    driver.find_element(By.ID, "stylize-run").click()
    _text_appears(driver, "Done: cat-stylized.png, 96×64 pixels")
    assert _image_size(driver, "stylize-output") == (96, 64)  # 120×80 at 96 on the longer side
    _shot(driver, shots, "stylize")

    # Translate with a tiny trained pix2pix run: one output per upload, each its own size.
    _tab(driver, "Translate")
    _choose(driver, "translate-model", str(runs_root / "pix2pix"))
    _upload(driver, "translate-images", pictures["cat"], pictures["coffee"])
    driver.find_element(By.ID, "translate-run").click()
    _text_appears(driver, "Translated 2 image(s)")
    assert _image_size(driver, "translate-output") in {(120, 80), (90, 60)}  # sizes kept
    _shot(driver, shots, "translate")
    # A two-way CycleGAN run A → B: the notice `gst translate` prints, worded for the page.
    _choose(driver, "translate-model", str(runs_root / "cyclegan"))
    driver.find_element(By.ID, "translate-run").click()
    _text_appears(driver, "translates both ways; using A → B (g_ab), the default: choose B → A")

    # Sample: a grid from the tiny GAN, one row per class.
    _tab(driver, "Sample")
    _choose(driver, "sample-run", str(runs_root / "gan"))
    driver.find_element(By.ID, "sample-run-button").click()
    assert _image_size(driver, "sample-output") == (2 + 6 * 18, 2 + 3 * 18)  # 16 in 3 rows of 6
    _shot(driver, shots, "sample")

    # Runs: the GAN run's losses plotted and its latest preview.
    _tab(driver, "Runs")
    _pick(driver, "runs-run", str(runs_root / "gan"))
    _text_appears(driver, "6 logged steps, last step 6; preview step_0000006.png")
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#runs-curves img"),
        message="no loss plot drawn",
    )
    _shot(driver, shots, "runs")
    assert "Traceback" not in log.read_text()

    # Everything the app wrote was in its temporary folder, and that is gone once it stops.
    workspace = server.workspace()
    assert (workspace / "uploads").is_dir()
    server.stop()
    assert not workspace.exists()
    assert list(server.cwd.iterdir()) == []
