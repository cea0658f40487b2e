"""The workshop dashboard (issue 8) without a browser: levers from the schema, what the screen records,
the plain-language story, compare and play modes, the command line, and the pages rendered by Solara.

The browser tests (Playwright driving Debian's chromium) are in tests/browser/.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard needs the viz extra: pip install -e '.[viz]'")

from sim.app import figures as F  # noqa: E402
from sim.app.cli import LOCAL, is_loopback, main, parser  # noqa: E402
from sim.app.compare import ComparePair  # noqa: E402
from sim.app.levers import default_policy, headline_levers, model_params  # noqa: E402
from sim.app.play import WAIT, PlaySession  # noqa: E402
from sim.app.world import DashboardModel  # noqa: E402
from sim.config import HEADLINE_LEVERS, PolicyConfig  # noqa: E402

R = 60  # worlds: enough to see behaviour, fast to run


# -- levers: one source of truth -----------------------------------------------------------------------
def test_sliders_take_defaults_ranges_and_units_from_the_schema():
    meta = {f.name: dict(f.metadata) for f in fields(PolicyConfig)}
    defaults = PolicyConfig()
    levers = headline_levers()
    assert [lv.name for lv in levers] == list(HEADLINE_LEVERS)
    for lv in levers:
        slider = lv.slider()
        lo, hi = meta[lv.name]["range"]
        assert slider.value == getattr(defaults, lv.name)
        assert (slider.min, slider.max) == (lo, hi)
        assert meta[lv.name]["unit"] in slider.label
        assert f"{lo:g}" in slider.label and f"{hi:g}" in slider.label
        assert slider.is_float_slider == isinstance(getattr(defaults, lv.name), float)
    params = model_params("generic", 300, 0, ["generic"])
    assert params["tool"]["value"] == defaults.tool
    assert params["warning_to_action_lag_days"].value == defaults.warning_to_action_lag_days


def test_model_params_are_what_solaraviz_needs_to_rebuild_the_model():
    import inspect

    from mesa.visualization.solara_viz import _build_model_init_kwargs, split_model_params

    params = model_params("kenya_2008", 7, 2, ["generic", "kenya_2008"])
    accepted = inspect.signature(DashboardModel).parameters
    assert set(params) <= set(accepted) and "scenario" not in params  # Mesa's Reset passes its own scenario
    adjustable, fixed = split_model_params(params)
    assert set(adjustable) == {"preset", *HEADLINE_LEVERS, "tool", "intervene"}
    assert fixed == {"replicates": 7, "seed": 2}
    # What SolaraViz's Reset does: its parameter values plus a fresh Mesa Scenario, into the model's class.
    values = {**fixed, **{k: (v.value if hasattr(v, "value") else v["value"]) for k, v in adjustable.items()}}
    values["warning_to_action_lag_days"] = 60
    old = DashboardModel("generic", replicates=2)
    new = type(old)(**_build_model_init_kwargs(old, values, add_scenario_when_empty=True,
                                                require_model_accepts_scenario=True))
    assert new.scenario_name == "kenya_2008" and new.replicates == 7 and new.policy.warning_to_action_lag_days == 60
    assert new.day == 0 and new.scenario_config.name == "kenya_2008"


def test_a_changed_schema_default_reaches_the_slider(monkeypatch):
    import sim.app.levers as levers

    original = levers.PolicyConfig

    class Shifted(original):  # a schema whose lag default moved: the slider must follow, not a copy
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.warning_to_action_lag_days = 21

    monkeypatch.setattr(levers, "PolicyConfig", Shifted)
    assert levers.lever("warning_to_action_lag_days").slider().value == 21


# -- what the screen records ------------------------------------------------------------------------------
def test_dashboard_model_records_world_zero_the_fan_and_the_probability():
    m = DashboardModel("kenya_2008", replicates=R, seed=3)
    m.run_to(40)
    assert m.days == list(range(41))
    fan = np.asarray(m.fan)
    assert np.all(np.diff(fan, axis=1) >= 0)  # quantiles in order, every day
    assert m.world_regional[-1] == pytest.approx(float(np.asarray(m.tension)[:, 0].max()))
    p = m.escalation()
    assert p["probability"] == pytest.approx(np.mean(np.asarray(m.first_escalation) <= m.day))
    assert p["ci_low"] <= p["probability"] <= p["ci_high"]
    hist = np.asarray(m.escalated_history)
    assert np.all(np.diff(hist[:, 0]) >= 0)  # "escalated so far" never falls


def test_lever_moves_the_model_policy():
    m = DashboardModel("generic", warning_to_action_lag_days=90, flexibility=0.9, tool="mission", replicates=5)
    assert (m.policy.warning_to_action_lag_days, m.policy.flexibility, m.policy.tool) == (90, 0.9, "mission")


# -- the story in plain words -----------------------------------------------------------------------------
def test_story_is_told_in_plain_words_with_country_names():
    m = DashboardModel("kenya_2008", replicates=R, seed=0)
    m.run_to(120)
    lines = m.narrator.lines
    assert lines, "nothing told in 120 days of a crisis"
    text = "\n".join(map(str, lines))
    assert "Kenya" in text
    assert not re.search(r"[a-z]_[a-z]", text), "code names (with underscores) leaked into the story"
    assert any("early warning" in line.text for line in lines)
    assert [line.day for line in lines] == sorted(line.day for line in lines)
    # Every event of world 0 in the model's own log is told (consecutive duplicates merged).
    assert len(lines) <= len(m.events.for_world(0))
    assert len(lines) >= len({(e.day, e.kind, e.site) for e in m.events.for_world(0)}) - 5


def test_unknown_event_kinds_are_still_told():
    m = DashboardModel("generic", replicates=2)
    line = m.narrator.describe(5, "SOMETHING_NEW", 0, 1, 0.0)
    assert line.day == 5 and "A" in line.text and "_" not in line.text


# -- compare mode: same worlds, same random numbers ----------------------------------------------------------
def test_compare_with_equal_policies_is_identical_world_by_world():
    pair = ComparePair("generic", "flexibility", 0.5, 0.5, replicates=R, seed=1, horizon_days=150)
    pair.run_to_end()
    assert np.array_equal(pair.a.escalated(), pair.b.escalated())
    assert [str(x) for x in pair.a.narrator.lines] == [str(x) for x in pair.b.narrator.lines]
    assert pair.difference()["estimate"] == 0


def test_compare_paired_difference_matches_the_two_probabilities():
    pair = ComparePair("kenya_2008", "warning_to_action_lag_days", 0, 300, replicates=R, seed=2, horizon_days=240)
    pair.run_to_end()
    d = pair.difference()
    pa, pb = pair.a.escalation()["probability"], pair.b.escalation()["probability"]
    assert d["estimate"] == pytest.approx(pb - pa)
    assert d["ci_low"] <= d["estimate"] <= d["ci_high"]
    # Same triggers in both (common random numbers): world 0's shocks are the same days.
    shocks = [[x.day for x in m.narrator.lines if x.kind == "TRIGGER"] for m in (pair.a, pair.b)]
    assert shocks[0] == shocks[1]


# -- play mode ------------------------------------------------------------------------------------------------
def _to_warning(session: PlaySession):
    d = session.advance()
    while d is not None and d.kind != "warning":
        session.decide()
        d = session.advance()
    assert d is not None, "no warning in the world on screen"
    return d


@pytest.mark.parametrize("answer", ["Act now", "Wait three months"])
def test_play_warning_decision_moves_world_zero_first_step(answer):
    s = PlaySession("kenya_2008", replicates=R, seed=0)
    d = _to_warning(s)
    warned = d.day
    record = s.decide({"When do we act?": answer})
    assert s.model.policy.warning_to_action_lag_days == WAIT[answer]
    assert record["answers"]["When do we act?"] == answer
    expected = max(warned + 1, warned + WAIT[answer])
    s.model.run_to(expected)
    first = int(np.asarray(s.model.un.first_action)[d.site, 0])
    assert first == expected, f"world 0's first step on day {first}, expected {expected}"


def _to(session: PlaySession, kind: str):
    d = session.advance()
    while d is not None and d.kind != kind:
        session.decide()
        d = session.advance()
    return d


def test_play_envoy_decisions_act_on_world_zero():
    now = PlaySession("kenya_2008", replicates=R, seed=0)
    d = _to(now, "envoy")
    assert d is not None, "no envoy request in the world on screen"
    # The decision point is the model's own ENVOY_REQUEST event (the UN's, world 0), told in plain words.
    from sim.events import EventKind

    asked = [e for e in now.model.events.for_world(0) if e.kind == EventKind.ENVOY_REQUEST and e.actor == 1]
    assert asked and (asked[0].day, asked[0].site) == (d.day, d.site)
    assert any(x.kind == "ENVOY_REQUEST" and "asks for an envoy" in x.text for x in now.model.narrator.lines)
    now.decide({"An envoy?": "Send the standby team now", "Which approach?": "Indirect talks through go-betweens"})
    standby = int(np.asarray(now.model.dyn.standby_days).reshape(-1)[0])
    now.model.run_to(d.day + standby + 1)
    assert int(np.asarray(now.model.un.first_envoy)[d.site, 0]) <= d.day + max(standby, 1)
    posted = [med for med in now.model.un.mediators if int(med.site[0]) == d.site]
    assert posted and posted[0].approach[0] > 0.5  # opened with indirect talks (the schema's default is direct)
    # A stance chosen while an envoy is in place applies to that envoy at once (Mediator.set_approach).
    now._apply_envoy(d, {"An envoy?": "Wait for regular funding",
                         "Which approach?": "Direct talks between the leaders"})
    assert posted[0].approach[0] == 0.0
    none = PlaySession("kenya_2008", replicates=R, seed=0)
    d = _to(none, "envoy")
    none.decide({"An envoy?": "No envoy: stay with fact-finding"})
    none.model.run_to(d.day + 120)
    assert int(np.asarray(none.model.un.first_envoy)[d.site, 0]) > d.day + 120  # never came
    assert none.model.policy.tool == "fact_finding"


def test_play_fighting_decision_sets_the_ladder():
    s = PlaySession("madagascar_2009", replicates=R, seed=0)
    d = _to(s, "fighting")
    if d is None:
        pytest.skip("no fighting in the world on screen with this seed")
    s.decide({"How far up the ladder now?": "coercive measures"})
    assert s.model.policy.tool == "coercive" and s.room_policy()["tool"] == "coercive"


def test_play_rejects_an_answer_that_is_not_offered_and_needs_a_decision():
    s = PlaySession("kenya_2008", replicates=R, seed=0)
    with pytest.raises(ValueError, match="no decision"):
        s.decide()
    _to_warning(s)
    with pytest.raises(ValueError, match="not one of"):
        s.decide({"When do we act?": "Next year"})


def test_play_through_replay_and_export():
    s = PlaySession("kenya_2008", replicates=R, seed=0, horizon_days=200)
    for _ in range(20):
        d = s.advance()
        if d is None:
            break
        s.decide({"When do we act?": "Wait a month"} if d.kind == "warning" else None)
    assert s.finished and s.choices
    rows = s.replay()
    assert [r["label"] for r in rows] == ["Your choices", "Default policy", "No action (the twin)"]
    for r in rows:
        assert r["ci_low"] <= r["probability"] <= r["ci_high"] and r["worlds"] == R
    assert set(s.paired) == {"vs default policy", "vs no action"}
    assert s.room_policy()["warning_to_action_lag_days"] == 30
    out = json.loads(s.export_json())
    assert out["choices"][0]["answers"]["When do we act?"] == "Wait a month"
    assert out["config"]["scenario"]["name"] == "kenya_2008" and out["config"]["horizon_days"] == 200
    assert out["decision_rule"]["policy"]["warning_to_action_lag_days"] == 30
    assert out["replay"][0]["label"] == "Your choices"


def test_no_action_replay_row_is_the_twin():
    s = PlaySession("generic", replicates=R, seed=4, horizon_days=120)
    s.replay()
    twin = DashboardModel("generic", policy={**default_policy(), "intervene": False}, replicates=R, seed=4,
                          horizon_days=120)
    twin.run_to(120)
    assert s.replay_rows[2]["count"] == int(twin.escalated().sum())


# -- pictures ------------------------------------------------------------------------------------------------
def test_region_picture_colours_countries_by_phase_and_shows_engagement():
    m = DashboardModel("kenya_2008", replicates=5)
    m.run_to(60)
    svg = F.region_svg(m)
    phases = np.asarray(m.phase)[:, 0].astype(int)  # the model's phase (fighting persists through a lull)
    for name, p in zip(m.site_names, phases, strict=True):
        assert f'class="site phase-{p}" data-site="{name}"' in svg
        assert F.PHASE_COLOURS[p] in svg
    engaged = int((np.asarray(m.un.stage)[:, 0] > 0).sum() + (np.asarray(m.regional.stage)[:, 0] > 0).sum())
    assert svg.count('class="engaged"') == engaged
    assert svg.count('class="envoy"') == int(np.asarray(m.un.has_envoy)[:, 0].sum()
                                             + np.asarray(m.regional.has_envoy)[:, 0].sum())


def test_okabe_ito_palette_only():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(F.PHASE_COLOURS) <= okabe_ito and {F.A_COLOUR, F.B_COLOUR, F.UN_COLOUR, F.RO_COLOUR} <= okabe_ito


# -- the command line ------------------------------------------------------------------------------------------
def test_server_binds_loopback_by_default(capsys):
    args = parser().parse_args([])
    assert args.host == LOCAL == "127.0.0.1" and args.port == 8765
    main(["--dry-run"])
    out = capsys.readouterr()
    assert "--host 127.0.0.1" in out.out and "WARNING" not in out.err


def test_other_host_only_with_a_flag_and_a_warning(capsys):
    main(["--host", "0.0.0.0", "--dry-run"])
    out = capsys.readouterr()
    assert "--host 0.0.0.0" in out.out and "WARNING" in out.err
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and not is_loopback("0.0.0.0")


@pytest.mark.parametrize("argv, field", [(["--port", "70000"], "--port"), (["--worlds", "0"], "--worlds"),
                                         (["--scenario", "atlantis"], "--scenario")])
def test_bad_input_is_one_clear_message_and_exit_2(argv, field, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--dry-run"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err


# -- the pages, rendered by Solara (no browser) -----------------------------------------------------------------
@pytest.fixture
def built(monkeypatch):
    """Every DashboardModel the page builds, newest last (SolaraViz's Reset makes a new one)."""
    import functools

    models = []
    init = DashboardModel.__init__

    @functools.wraps(init)  # keeps the signature SolaraViz inspects
    def spy(self, *a, **k):
        init(self, *a, **k)
        models.append(self)

    monkeypatch.setattr(DashboardModel, "__init__", spy)
    return models


@pytest.fixture
def page(monkeypatch, built):
    import solara

    monkeypatch.setenv("PDSIM_APP_WORLDS", str(R))
    monkeypatch.setenv("PDSIM_APP_SCENARIO", "kenya_2008")
    from sim.app.pages import Page

    # In an app layout, as `solara run` serves it: SolaraViz puts its controls in the layout's sidebar.
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    yield rc
    rc.close()


def _html(rc, cls):
    import solara.widgets

    return [w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets
            if cls in (w.attributes or {}).get("class", "") or cls in (w.unsafe_innerHTML or "")]


def _click(rc, label):
    import ipyvuetify as v

    rc.find(v.Btn, children=[label]).widget.click()


def _tab(rc, label):
    import ipyvuetify as v

    tabs = rc.find(v.Tabs).widgets[0]  # as the browser does: the Tabs' v-model is the tab's index
    tabs.v_model = ["Explore", "Compare", "Play", "Info"].index(label)


def _day(rc) -> int:
    return int(re.search(r"Day (\d+) of", "".join(_html(rc, "the world on screen is world 0"))).group(1))


def test_explore_is_mesa_solaraviz_and_steps(page, built):
    import ipyvuetify as v

    # The Explore view is Mesa's SolaraViz: its controller and its model-parameter card.
    for label in ("Reset", "▶", "Step"):
        page.find(v.Btn, children=[label]).assert_single()
    page.find(v.CardTitle, children=["Model Parameters"]).assert_single()
    before_svg = _html(page, "Tension:")[0]
    _click(page, "Step")  # Mesa's own Step: one day
    assert _day(page) == 1 and built[-1].day == 1
    _click(page, "Step a week")  # ours, through mesa's force_update
    assert _day(page) == 8
    assert _html(page, "Tension:")[0] != before_svg
    story = _html(page, "pd-story")[0]
    assert "day" in story and "Nothing has happened yet" not in story


def test_explore_levers_and_preset_apply_on_mesa_reset(page, built):
    import ipyvuetify as v

    sliders = {w.label: w for w in page.find(v.Slider).widgets}
    lag = next(w for label, w in sliders.items() if label.startswith("Warning-to-action lag"))
    assert lag.v_model == PolicyConfig().warning_to_action_lag_days and lag.max == 730
    preset = next(w for w in page.find(v.Select).widgets if w.label == "Scenario preset")
    lag.v_model = 200
    preset.v_model = "madagascar_2009"
    _click(page, "Step")
    assert built[-1].policy.warning_to_action_lag_days != 200  # not before Reset
    _click(page, "Reset")  # SolaraViz re-creates the model from its parameters
    m = built[-1]
    assert (m.policy.warning_to_action_lag_days, m.scenario_name, m.day, m.replicates) == (200, "madagascar_2009",
                                                                                         0, R)
    assert _day(page) == 0 and any("Madagascar" in h for h in _html(page, "Madagascar"))
    assert any("Warning-to-action lag <b>200</b> days" in h for h in _html(page, "This run:"))


def test_explore_play_and_pause(page):
    import time

    _click(page, "▶")  # Mesa's play: a day every play interval, in a thread
    deadline = time.monotonic() + 20
    while _day(page) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    _click(page, "❚❚")
    time.sleep(0.5)
    paused = _day(page)
    assert paused >= 3
    time.sleep(0.6)
    assert _day(page) == paused


def test_play_page_decision_card_and_record(page):
    _tab(page, "Play")
    _click(page, "Run to the next decision")
    assert _html(page, "early warning") or _html(page, "envoy rung") or _html(page, "fallen back")
    _click(page, "Decide and go on")
    assert any("day" in h for h in _html(page, "pd-choice") if "<b>day" in h)


def test_compare_page_shows_paired_difference(page):
    _tab(page, "Compare")
    _click(page, "Step a week")
    assert any(re.search(r"[+-]\d+ points", h) for h in _html(page, "points"))
    assert any("World 0 under A" in h or "paired by world" in h for h in _html(page, "paired by world"))


def test_info_page_has_the_netlogo_sections_citing_the_report():
    from sim.app.pages import info_text

    text = info_text()
    heads = ["WHAT IS IT?", "HOW IT WORKS", "HOW TO USE IT", "THINGS TO NOTICE", "THINGS TO TRY",
             "EXTENDING THE MODEL", "CREDITS AND REFERENCES"]
    positions = [text.find(f"## {h}") for h in heads]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert len(re.findall("§", text)) >= 20
