"""The explorer page in a real headless browser (Debian's chromium + chromium-driver, driven
by selenium from the ``browser`` extra).

The page is written by ``srcnn explain ... --html``, loaded from ``file://``, and clicked:
step, a cell, back, the last frame. What it shows is compared with the values the Python
side computes (:mod:`constructions.explorer`). A screenshot of each page is kept in
``test-artifacts/`` at the repository root (git-ignored). Where chromium, chromedriver or
selenium is missing the tests are skipped with the reason, which pytest's ``-ra`` summary
prints, except under CI (``CI=true``), where a missing browser fails: ``.ci/run`` installs
it, and a green CI run must have run these tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from constructions.explain import float_weights, patch_activity
from constructions.explorer import learner_rollout, machine_rollout
from constructions.learner import compile_library_learner
from constructions.tm import compile_tm
from simulators.formats import load_machine
from srcnn.cli import main

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[browser]')"
    for exe, pkg in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(exe) is None:
            return f"{exe} is not on PATH (apt-get install -y {pkg})"
    return None


@pytest.fixture
def browser(tmp_path):
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no headless browser under CI: {reason}")
        pytest.skip(f"no headless browser: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def _click(driver, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, element_id).click()


def _grid(driver) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_element(By.ID, "grid").find_elements(By.TAG_NAME, "tr")]


def _shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_machine_page_steps_and_explains_a_cell(browser, tmp_path, capsys):
    page = tmp_path / "bb2.html"
    assert main(["explain", "bb2", "--html", str(page)]) == 0
    ctm = compile_tm(load_machine("bb2"))
    r = machine_rollout(ctm, 1000)
    browser.get(page.as_uri())
    assert _text(browser, "frame").startswith("layer 0 of 6")
    assert browser.get_log("browser") == []  # no script error
    _click(browser, "step")
    assert _text(browser, "frame").startswith("layer 1 of 6")
    want = [[str(int(v)) for v in row] for row in r["grids"][1]]
    assert _grid(browser) == want
    assert _text(browser, "match") == "identical"
    assert _text(browser, "decoded") == _text(browser, "reference")
    # the cell the head moved onto: its patch at layer 1 and the units that fire on it
    hr, hc = r["decoded"][1]["head"]
    _click(browser, f"cell-{hr}-{hc}")
    assert _text(browser, "detail").startswith(f"cell ({hr}, {hc}) at layer 1")
    act = patch_activity(float_weights(ctm.patch), r["patches"][r["patch_ids"][1][hr][hc]]
                         ["patch"])
    names = ctm.patch.units2
    shown = _text(browser, "units").splitlines()
    assert [line.split(":")[0] for line in shown] == [f"h2[{k}] {names[k]}"
                                                      for k, _, _ in act["h2"]]
    nxt = int(r["grids"][2][hr][hc])
    assert _text(browser, "produced").endswith(f"= {nxt} ({r['labels'][str(nxt)]})")
    assert _text(browser, "check") == "= the value of this cell at layer 2 in the rollout"
    _shot(browser, "explorer_bb2_layer1_cell.png")
    _click(browser, "back")
    assert _text(browser, "frame").startswith("layer 0 of 6")
    _click(browser, "last")
    assert _text(browser, "frame").startswith("layer 6 of 6")
    assert "last layer" in _text(browser, "detail")
    assert _text(browser, "decoded").startswith("state Z")


def test_learner_page_shows_w_filling_then_the_test_phase(browser, tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("1,1,-1,1\n1,-1,-1,1\n-1,1,1,-1\n")
    test.write_text("1,1,1\n-1,-1,-1\n")
    page = tmp_path / "majority.html"
    assert main(["explain", "majority", "--train", str(train), "--test", str(test),
                 "--point", "2", "--html", str(page)]) == 0
    X = np.array([[1, 1, -1], [1, -1, -1], [-1, 1, 1]])
    y = np.array([1, 1, -1])
    r = learner_rollout(compile_library_learner("majority"), X, y, np.array([-1, -1, -1]))
    browser.get(page.as_uri())
    assert _text(browser, "frame").startswith("SGD step 1 of 4")
    signs = {1: "+", -1: "\u2212", 0: "0"}
    assert _grid(browser) == [[signs[v] for v in row] for row in r["W_steps"][0]["W_thirds"]]
    for _ in range(3):
        _click(browser, "step")
    assert _text(browser, "frame").startswith("SGD step 4 of 4")
    assert _grid(browser)[-1] == ["+"] * 4  # the dummy example, written last
    _shot(browser, "explorer_majority_sgd.png")
    _click(browser, "step")
    _click(browser, "step")
    assert _text(browser, "frame").startswith(f"layer 1 of {r['layers']}")
    assert _text(browser, "match") == "identical"
    m, d = 3, 3
    _click(browser, f"cell-{m}-{d}")  # the dummy row's label cell: the head is born here
    assert "tape head in start on P" in _text(browser, "detail")
    _click(browser, "last")
    assert _text(browser, "decoded").startswith("state Z")
    from simulators.learners import predict

    assert r["prediction"] == predict("majority", X, y, np.array([[-1, -1, -1]]))[0] == 1
    assert "[A+]" in _text(browser, "decoded")  # 2 of 3 labels are +1
    _shot(browser, "explorer_majority_last.png")
