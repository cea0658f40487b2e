"""The dashboard in a real browser: Playwright driving Debian's chromium (never a downloaded browser).

One server (``python -m sim.app.cli`` on a free port, default host) and one page for the module. The tests
run in order, as a facilitator would: pick a preset, move a lever, step; play one decision and the game to
its replay; compare two policies; read the Info page. Then: every request the page made went to 127.0.0.1
(nothing from the internet, not even through Solara's CDN proxy), and the server listens on 127.0.0.1 only.

Screenshots go to a temporary folder; with ``PDSIM_APP_SCREENSHOTS=docs/img`` they are also written there,
compressed, as the README's ``app_*.png``. Skips, saying why, if /usr/bin/chromium or playwright is missing
(``bash .ci/test`` installs chromium with apt when run as root).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the "
                "dashboard's browser tests", allow_module_level=True)
pytest.importorskip("solara", reason="the dashboard needs the viz extra: pip install -e '.[viz]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[viz]'")

import sim  # noqa: E402

# One server and one page, the tests in order: under pytest -n the module runs on one worker.
pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(sim.__file__).resolve().parent.parent  # the checkout whose `sim` the tests import
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT = 30_000  # ms for any one wait
WORLDS = 200  # a few hundred, as in a workshop; a little fewer keeps the module within ~60 s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cdn_cache() -> Path:
    """Where Solara serves /_solara/cdn/ from: the files solara-assets installed (anything missing there
    Solara's proxy would fetch from the internet and add)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


@pytest.fixture(scope="module")
def server():
    cache = _cdn_cache()
    shipped = {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()} if cache.exists() else set()
    port = _free_port()
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "sim.app.cli", "--port", str(port), "--worlds", str(WORLDS)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the dashboard server did not start:\n{proc.stdout.read()}")
            time.sleep(0.3)
    yield {"url": url, "port": port, "proc": proc, "shipped": shipped}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("app_screenshots")


@pytest.fixture(scope="module")
def browser_page(server):
    requests: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(TIMEOUT)
        page.on("request", lambda r: requests.append(r.url))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(server["url"])
        page.get_by_role("button", name="Step", exact=True).wait_for()  # Mesa SolaraViz's Step
        yield page, (requests, failed)
        browser.close()


def _save(page, shots: Path, name: str) -> Path:
    page.evaluate("window.scrollTo(0, 0); "
                  "document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; e.scrollLeft = 0; })")
    path = shots / f"app_{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000  # a page, not a blank
    target = os.environ.get("PDSIM_APP_SCREENSHOTS")
    if target:
        from PIL import Image

        out = Path(target) / path.name
        image = Image.open(path).convert("RGB")  # an exact-colour palette: keeps Okabe-Ito true, a third the size
        image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(out, optimize=True)
        assert out.stat().st_size < 200_000, f"{out} is {out.stat().st_size} bytes"
    return path


#: What play mode waits for next: the replay is shown, a decision is open, or the run can go on.
NEXT_STEP = """() => {
  const w = document.querySelector('.v-window-item--active');
  if (w.querySelector('.pd-replay')) return 'replay';
  const button = (text) => [...w.querySelectorAll('button')].find(b => b.innerText.includes(text) && !b.disabled);
  if (button('Decide and go on')) return 'decide';
  if (button('Run to the next decision')) return 'run';
  return false;
}"""


def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_html()


def test_explore_pick_preset_move_lever_step(browser_page, shots):
    """Explore is Mesa's SolaraViz: the preset and the levers in its sidebar apply on its Reset."""
    page, _ = browser_page
    sidebar = page.locator(".v-navigation-drawer")
    # Pick a preset from the scenario select.
    sidebar.get_by_label("Scenario preset").first.click(force=True)
    page.get_by_role("option", name="kenya_2008").click()
    # Move the lag lever: click its slider at 40 % of the track.
    track = sidebar.locator(".v-input", has_text="Warning-to-action lag").locator(".v-slider").first
    box = track.bounding_box()
    page.mouse.click(box["x"] + 0.4 * box["width"], box["y"] + box["height"] / 2)
    policy = page.locator(".pd-policy")
    assert "Warning-to-action lag <b>14</b>" in policy.inner_html()  # nothing applies before Reset
    sidebar.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_function("() => !document.querySelector('.pd-policy').innerHTML.includes('lag <b>14</b>')")
    page.get_by_text("Kenya 2008").first.wait_for()
    page.get_by_text("Day 0 of").wait_for()
    before = {k: _text(page, s) for k, s in (("prob", ".pd-probability"), ("tension", ".pd-tension"),
                                            ("story", ".pd-story"))}
    sidebar.get_by_role("button", name="Step", exact=True).click()  # Mesa's Step: one day
    page.get_by_text("Day 1 of").wait_for()
    for day in (8, 15, 22):
        page.get_by_role("button", name="Step a week").click()
        page.get_by_text(f"Day {day} of").wait_for()
    after = {k: _text(page, s) for k, s in (("prob", ".pd-probability"), ("tension", ".pd-tension"),
                                           ("story", ".pd-story"))}
    assert "by day 22" in after["prob"] and after["prob"] != before["prob"]
    assert after["tension"] != before["tension"]
    assert after["story"] != before["story"] and re.search(r"day \d+", after["story"])
    assert "Kenya" in after["story"]
    page.get_by_role("button", name="Run to the end").click()  # the whole run, for the picture
    page.wait_for_function(r"() => /Day (\d+) of \1;/.test("
                           "document.querySelector('.v-window-item--active').innerText)")
    _save(page, shots, "explore")


def test_play_one_decision_then_to_the_replay(browser_page, shots):
    page, _ = browser_page
    page.get_by_role("tab", name="Play").click()
    page.get_by_role("button", name="Run to the next decision").click()
    page.get_by_role("button", name="Decide and go on").wait_for()
    prob_before = _text(page, ".v-window-item--active .pd-probability")
    page.get_by_role("button", name="Wait a week").click()
    page.get_by_role("button", name="Decide and go on").click()
    page.locator(".pd-choice").first.wait_for()
    assert "Wait a week" in page.locator(".pd-choice").first.inner_text()
    page.get_by_role("button", name="Run to the next decision").click()
    # The crisis runs on: the probability card moves to a later day (its text always names the day).
    page.wait_for_function("(old) => document.querySelector('.v-window-item--active .pd-probability').innerHTML"
                           " !== old", arg=prob_before)
    assert _text(page, ".v-window-item--active .pd-probability") != prob_before
    page.wait_for_function("() => { const t = document.querySelector('.v-window-item--active').innerText;"
                           " return t.includes('Decide and go on') || t.includes('over all worlds'); }")
    _save(page, shots, "play")
    # Play on with the default answers to the end: the replay over all worlds appears.
    for _ in range(40):
        state = page.wait_for_function(NEXT_STEP).json_value()
        if state == "replay":
            break
        name = "Decide and go on" if state == "decide" else "Run to the next decision"
        page.get_by_role("button", name=name).click()
        # Wait for the server's answer (a decision taken leads to "run"; a run to "decide" or "replay").
        page.wait_for_function(f"(old) => {{ const s = ({NEXT_STEP})(); return s && s !== old; }}", arg=state)
    page.locator(".pd-replay").wait_for()
    replay = page.locator(".pd-replay").inner_text()
    assert "Your choices" in page.locator(".pd-replay").inner_html() and "vs no action" in replay
    _save(page, shots, "play_end")
    # The record: the room's choices with the run's config, as a JSON download.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export choices and config (JSON)").click()
    record = json.loads(Path(download.value.path()).read_text())
    assert record["choices"][0]["answers"]["When do we act?"] == "Wait a week"
    assert record["config"]["replicates"] == WORLDS and record["replay"][0]["label"] == "Your choices"


def test_compare_two_policies(browser_page, shots):
    page, _ = browser_page
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run to the end").click()
    page.wait_for_function(r"() => /Day (\d+) of \1\b/.test("  # the horizon reached, whatever it is
                           "document.querySelector('.v-window-item--active').innerText)")
    card = page.locator(".pd-difference").inner_text()
    assert re.search(r"[+-]\d+ points", card) and "paired by world" in card
    assert page.get_by_text("World 0 under A").count() and page.get_by_text("World 0 under B").count()
    _save(page, shots, "compare")


def test_info_page(browser_page):
    page, _ = browser_page
    page.get_by_role("tab", name="Info").click()
    for head in ("WHAT IS IT?", "HOW IT WORKS", "THINGS TO TRY", "CREDITS AND REFERENCES"):
        page.get_by_role("heading", name=head).wait_for()


def test_every_request_stays_on_this_computer(browser_page, server):
    _, (requests, failed) = browser_page
    assert len(requests) > 5, "no requests recorded"
    foreign = [u for u in requests if not re.match(rf"^(http|ws)s?://(127\.0\.0\.1|localhost):{server['port']}/", u)]
    assert not foreign, f"requests left this computer: {foreign[:5]}"
    # Solara's /_solara/cdn/ is a proxy: it serves what solara-assets installed and fetches anything else
    # from the internet. Every asset the page asked for must have been installed before the server started.
    cdn = [re.sub(r"[?#].*$", "", u.split("/_solara/cdn/", 1)[1]) for u in requests if "/_solara/cdn/" in u]
    fetched = [p for p in cdn if p not in server["shipped"] and f"{p}/__main.js" not in server["shipped"]]
    assert not fetched, f"assets not shipped with solara-assets (the proxy would fetch them online): {fetched[:5]}"
    assert not failed, f"requests that failed: {failed[:5]}"


def test_server_listens_on_loopback_only(server):
    port = server["port"]
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:  # 0A = LISTEN
                listening.append(addr)
    assert listening, f"nothing listens on port {port}"
    assert set(listening) <= {"0100007F", "00000000000000000000000001000000"}, listening  # 127.0.0.1, ::1
