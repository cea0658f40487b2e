"""The workshop dashboard: four tabs (Explore, Compare, Play, Info).

Explore is Mesa's ``SolaraViz``: its model parameters are the preset and the headline levers as
``mesa.visualization.Slider`` s built from sim/config.py (sim/app/levers.py), its Reset re-creates
:class:`~sim.app.world.DashboardModel` from them, and the views below are its components. Compare and
Play drive two models, or one with pauses for the room's decisions, which SolaraViz's single controller
does not; they are Solara pages beside it, drawn with the same views. Served by ``pdsim-app``
(sim/app/cli.py); entirely offline.
"""

from __future__ import annotations

import os
import threading
from html import escape
from pathlib import Path

import solara
import solara.lab

from sim.app import figures as F
from sim.app.compare import PRESETS, ComparePair
from sim.app.levers import TOOL_LABELS, headline_levers, lever, model_params
from sim.app.play import PlaySession
from sim.app.world import DEFAULT_WORLDS, DashboardModel
from sim.config import load_scenario, scenario_names

CSS = """
.v-application, .v-application .body-1, .v-application .body-2 { font-size: 19px !important; }
.v-application .v-btn { font-size: 18px !important; text-transform: none !important; }
.v-application .v-label, .v-application .v-select__selection { font-size: 18px !important; }
.v-application .v-tab { font-size: 20px !important; text-transform: none !important; font-weight: 600; }
.pd-title { font-size: 26px; font-weight: 700; padding: 6px 12px; }
.pd-big { font-size: 44px; font-weight: 700; line-height: 1.1; }
.pd-sub { font-size: 18px; color: #333; }
.pd-story { font-size: 19px; line-height: 1.45; max-height: 520px; overflow-y: auto; }
.pd-story .pd-tone-bad { color: #B34700; font-weight: 600; }
.pd-story .pd-tone-good { color: #00704F; }
.pd-story .pd-tone-act { color: #0060A0; }
.pd-decision { border: 4px solid #E69F00; border-radius: 8px; padding: 10px; background: #FFF8E6; }
.pd-decision .v-btn-toggle { flex-wrap: wrap; }
.pd-note { font-size: 16px; color: #444; }
.pd-markdown { font-size: 21px; line-height: 1.5; max-width: 1250px; }
.pd-markdown h2 { font-size: 28px; margin: 18px 0 6px 0; }
.pd-markdown li { margin-bottom: 4px; }
.pd-lever-label { font-size: 17px; margin-top: 6px; }
.pd-explore > .v-tabs, .pd-explore .v-tabs:first-child { display: none; }  /* SolaraViz's lone "Page 0" tab */
.pd-explore .vue-grid-item { overflow-y: auto; overflow-x: hidden; }
.pd-explore .pd-story { max-height: 330px; }
.pd-explore .pd-big { font-size: 36px; }
.v-navigation-drawer .v-label, .v-navigation-drawer .v-input { font-size: 17px !important; }
/* SolaraViz's sliders in the sidebar: the label (unit, range, §) above a full-width track, the value always on
   the thumb, so a room can read every setting. */
.v-navigation-drawer .v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-navigation-drawer .v-input__slider .v-input__slot > .v-label { flex: 0 0 100%; max-width: 100% !important;
  margin: 0 0 34px 0 !important; white-space: normal; }
.v-navigation-drawer .v-input__slider .v-slider { flex: 1 0 100%; margin: 0 10px; }
.v-navigation-drawer .v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-slider__thumb-label { transform: translateY(-20%) translateY(-12px) translateX(-50%)
  rotate(45deg) !important; }
.pd-prob-line { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; padding: 0 8px; }
"""

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "docs" / "WORKSHOP.md"
INFO_MARKER = "<!-- info -->"


def _setting(name: str, default, cast):
    try:
        return cast(os.environ.get(name, default))
    except (TypeError, ValueError):
        return default


def worlds() -> int:
    return _setting("PDSIM_APP_WORLDS", DEFAULT_WORLDS, int)


def seed() -> int:
    return _setting("PDSIM_APP_SEED", 0, int)


def first_scenario() -> str:
    name = os.environ.get("PDSIM_APP_SCENARIO", "generic")
    return name if name in scenario_names() else scenario_names()[0]


def info_text() -> str:
    """The Info page: the NetLogo-shaped half of docs/WORKSHOP.md (after the ``<!-- info -->`` marker)."""
    try:
        text = WORKSHOP.read_text(encoding="utf-8")
    except OSError:
        return "The Info page lives in docs/WORKSHOP.md of the pdsim repository (not found here)."
    return text.split(INFO_MARKER, 1)[1] if INFO_MARKER in text else text


# -- small shared pieces ---------------------------------------------------------------------------------
@solara.component
def Markdown(text: str):
    """Markdown rendered on the server (solara.Markdown would fetch KaTeX through Solara's CDN proxy)."""
    import markdown

    solara.HTML(tag="div", classes=["pd-markdown"],
                unsafe_innerHTML=markdown.markdown(text, extensions=["tables", "sane_lists"]))


@solara.component
def Svg(svg: str, classes: list[str] | None = None):
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=classes or [], style="width: 100%;")


@solara.component
def ScenarioStory(name: str):
    """The preset's one-paragraph story with its §, and its assumptions."""
    try:
        sc = load_scenario(name)
    except ValueError as err:
        solara.Error(str(err))
        return
    title = name.replace("_", " ").title()
    solara.HTML(tag="div", classes=["pd-scenario"],
                unsafe_innerHTML=f"<b>{escape(title)}</b>: {escape(sc.description)}")
    with solara.Details("Assumptions of this preset"):
        Markdown("\n".join(f"- {a}" for a in sc.assumptions) or "-")


@solara.component
def Probability(model: DashboardModel, version: int, label: str = "Escalation to armed conflict so far"):
    p = model.escalation()
    with solara.Card(label, classes=["pd-probability"]):
        solara.HTML(tag="div", unsafe_innerHTML=f"{100 * p['probability']:.0f} %", classes=["pd-big"])
        solara.HTML(tag="div", classes=["pd-sub"], unsafe_innerHTML=(
            f"of {model.replicates} worlds by day {model.day} (95 % interval "
            f"{100 * p['ci_low']:.0f}-{100 * p['ci_high']:.0f} %, Wilson)"))


def story_html(model: DashboardModel, limit: int = 16, newest_first: bool = True) -> str:
    lines = model.narrator.lines
    shown = list(reversed(lines[-limit:])) if newest_first else lines[-limit:]
    if not shown:
        return "<div class='pd-story'><i>Nothing has happened yet. Step the crisis forward.</i></div>"
    items = "".join(f"<div class='pd-tone-{line.tone}'><b>day {line.day}</b>: {line.text}</div>" for line in shown)
    return f"<div class='pd-story'>{items}</div>"


@solara.component
def Story(model: DashboardModel, version: int, title: str = "The story of the world on screen"):
    with solara.Card(title, classes=["pd-story-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=story_html(model))


@solara.component
def LeverSlider(lv, value, on_value, name: str = ""):
    """A slider from the lever's Mesa ``Slider`` (label with unit, range and §; default from the schema).
    It reports on release ("change"), not while dragging: each new value re-runs the worlds to today."""
    s = lv.slider(value)
    cast = float if s.is_float_slider else int

    def changed(widget, event, data):
        if data is not None:
            on_value(lv.clamp(cast(data)))

    with solara.Column(gap="0px", classes=["pd-lever"]):
        solara.HTML(tag="div", classes=["pd-lever-label"], unsafe_innerHTML=f"{name}{s.label}: <b>{s.value:g}</b>")
        slider = solara.v.Slider(v_model=s.value, min=s.min, max=s.max, step=s.step, hide_details=True,
                                 thumb_label=True)
        solara.v.use_event(slider, "change", changed)


@solara.component
def LiveView(m: DashboardModel, version: int):
    """The crisis as it unfolds: the region and the tension fan on top; the probability and the story below."""
    with solara.Columns([1, 1]):
        Svg(F.region_svg(m), ["pd-region"])
        Svg(F.tension_svg(m), ["pd-tension"])
    with solara.Columns([1, 1]):
        with solara.Column():
            Probability(m, version)
            Svg(F.probability_svg([(m, F.VERMILLION, "all worlds")]), ["pd-probability-plot"])
        Story(m, version)


# -- Explore: Mesa's SolaraViz -------------------------------------------------------------------------
# Each view is a plain function of the model: SolaraViz wraps it so that it redraws whenever its controls
# (Step, Play, Reset) or ours ("Step a week", "Run to the end", through mesa's force_update) move the model.
def RegionView(model: DashboardModel):
    """The region as the model's Mesa network: countries by phase, the UN, the regional organisation, envoys."""
    return Svg(F.region_svg(model), ["pd-region"])


def TensionView(model: DashboardModel):
    """Tension in the world on screen over the ensemble's quantile fan."""
    return Svg(F.tension_svg(model), ["pd-tension"])


def ProbabilityView(model: DashboardModel):
    """The escalation probability so far with its Wilson interval, and its course."""
    p = model.escalation()
    with solara.Column(gap="0px") as view:
        solara.HTML(tag="div", classes=["pd-probability", "pd-prob-line"], unsafe_innerHTML=(
            f"<span class='pd-big'>{100 * p['probability']:.0f} %</span><span class='pd-sub'>of "
            f"{model.replicates} worlds escalated to armed conflict by day {model.day} (95 % interval "
            f"{100 * p['ci_low']:.0f}-{100 * p['ci_high']:.0f} %, Wilson)</span>"))
        Svg(F.probability_svg([(model, F.VERMILLION, "all worlds")], height=330), ["pd-probability-plot"])
    return view


def StoryView(model: DashboardModel):
    """The story of the world on screen, newest first."""
    return Story(model, model.day)


def RunView(model: DashboardModel):
    """The preset's story, where the run stands, and steps longer than Mesa's one-day Step."""
    from mesa.visualization.utils import force_update

    def step(days: int):
        model.run_to(model.day + days)
        force_update()

    with solara.Card("The run", classes=["pd-run"]) as view:
        solara.HTML(tag="div", classes=["pd-sub", "pd-day"], unsafe_innerHTML=(
            f"Day {model.day} of {model.horizon}; the world on screen is world 0 of {model.replicates}."))
        solara.HTML(tag="div", classes=["pd-sub", "pd-policy"], unsafe_innerHTML=policy_html(model))
        with solara.Row():
            solara.Button("Step a week", on_click=lambda: step(7), color="primary", disabled=not model.running)
            solara.Button("Run to the end", on_click=lambda: step(model.horizon), disabled=not model.running)
        solara.HTML(tag="div", classes=["pd-note"], unsafe_innerHTML=(
            "Set the preset and the levers in the sidebar, then press <b>Reset</b>: the same worlds (the "
            "same random numbers) start again under the new settings. Step and &#9654; run the crisis a day "
            "at a time."))
        ScenarioStory(model.scenario_name)
    return view


def policy_html(model: DashboardModel) -> str:
    """The levers this run uses, in words and units (the sidebar may be closed on a projector)."""
    parts = []
    for lv in headline_levers():
        value = getattr(model.policy, lv.name, lv.default)
        unit = lv.unit if lv.integer else ""
        parts.append(f"{escape(lv.label)} <b>{value:g}</b> {escape(unit)}".strip())
    tool = getattr(model.policy, "tool", "")
    parts.append(f"tools up to <b>{escape(TOOL_LABELS.get(tool, tool))}</b>")
    if not getattr(model.policy, "intervene", True):
        parts.append("<b>nobody acts</b> (the no-action twin)")
    return "This run: " + " &middot; ".join(parts)


#: The Explore page's SolaraViz components, in grid order (two to a row).
EXPLORE_VIEWS = [RegionView, TensionView, ProbabilityView, StoryView, RunView]


@solara.component
def Explore():
    """Mesa's SolaraViz: its controls (Step, Play, Reset) and model parameters (the preset and the headline
    levers, from sim/config.py) in the sidebar; the crisis as it unfolds in the main area."""
    from mesa.visualization import SolaraViz

    model = solara.use_memo(lambda: DashboardModel(first_scenario(), replicates=worlds(), seed=seed()), [])
    params = solara.use_memo(lambda: model_params(first_scenario(), worlds(), seed(), scenario_names()), [])
    with solara.Column(classes=["pd-explore"]):
        SolaraViz(model, components=list(EXPLORE_VIEWS), model_params=params,
                  name="pdsim: explore the crisis as it unfolds", play_interval=100)


# -- Compare ---------------------------------------------------------------------------------------------
@solara.component
def Compare():
    scenario, set_scenario = solara.use_state(first_scenario())
    choice, set_choice = solara.use_state(PRESETS[0][0])
    _, lever_name, a0, b0 = next(p for p in PRESETS if p[0] == choice)
    a_value, set_a = solara.use_state(a0)
    b_value, set_b = solara.use_state(b0)
    version, set_version = solara.use_state(0)
    holder = solara.use_ref(None)

    def rebuild(sc=None, name=None, a=None, b=None):
        name = name or lever_name
        pair = ComparePair(sc or scenario, name, a_value if a is None else a, b_value if b is None else b,
                           replicates=worlds(), seed=seed())
        day = holder.current.day if holder.current is not None else 0
        pair.step(day)
        holder.current = pair
        set_version(lambda v: v + 1)

    if holder.current is None:
        holder.current = ComparePair(scenario, lever_name, a_value, b_value, replicates=worlds(), seed=seed())

    def on_choice(title):
        _, name, a, b = next(p for p in PRESETS if p[0] == title)
        set_choice(title)
        set_a(a)
        set_b(b)
        rebuild(name=name, a=a, b=b)

    def step(days):
        holder.current.step(days)
        set_version(lambda v: v + 1)

    pair = holder.current
    lv = lever(lever_name)
    diff = pair.difference()
    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Two policies, the same worlds"):
                solara.Select("Scenario preset", values=scenario_names(), value=scenario,
                              on_value=lambda s: (set_scenario(s), rebuild(sc=s)))
                solara.Select("Comparison", values=[p[0] for p in PRESETS], value=choice, on_value=on_choice)
                LeverSlider(lv, a_value, lambda v: (set_a(v), rebuild(a=v)), "A: ")
                LeverSlider(lv, b_value, lambda v: (set_b(v), rebuild(b=v)), "B: ")
                solara.HTML(tag="div", classes=["pd-note"], unsafe_innerHTML=(
                    "A is drawn in blue, B in orange. Both run the same "
                    f"{pair.a.replicates} worlds with the same random numbers (§59-60)."))
            with solara.Card("Run"):
                with solara.Row():
                    solara.Button("Step a week", on_click=lambda: step(7), color="primary",
                                  disabled=pair.finished)
                    solara.Button("Run to the end", on_click=lambda: step(10**6), disabled=pair.finished)
                solara.Button("Reset", on_click=lambda: (setattr(holder, "current", None), rebuild()))
                solara.HTML(tag="div", classes=["pd-sub"], unsafe_innerHTML=f"Day {pair.day} of {pair.a.horizon}")
        with solara.Column():
            with solara.Columns([1, 1]):
                Svg(F.tension_svg(pair.a, "Tension: A and B in the same worlds", F.A_COLOUR,
                                  "A", [(pair.b, F.B_COLOUR, "B")]),
                    ["pd-compare-tension"])
                Svg(F.probability_svg([(pair.a, F.A_COLOUR, f"A: {pair.label('A')}"),
                                       (pair.b, F.B_COLOUR, f"B: {pair.label('B')}")]), ["pd-compare-prob"])
            pa, pb = pair.a.escalation(), pair.b.escalation()
            with solara.Card("The difference B makes, world by world", classes=["pd-difference"]):
                solara.HTML(tag="div", classes=["pd-big"], unsafe_innerHTML=(
                    f"{100 * diff['estimate']:+.0f} points"))
                solara.HTML(tag="div", classes=["pd-sub"], unsafe_innerHTML=(
                    f"Escalation so far: A {100 * pa['probability']:.0f} %, B {100 * pb['probability']:.0f} %. "
                    f"B minus A, paired by world: 95 % interval {100 * diff['ci_low']:+.0f} to "
                    f"{100 * diff['ci_high']:+.0f} points (Newcombe). {diff['x_only']} worlds escalate only "
                    f"under B, {diff['y_only']} only under A; all others end the same way."))
            with solara.Columns([1, 1]):
                Story(pair.a, version, f"World 0 under A: {pair.label('A')}")
                Story(pair.b, version, f"World 0 under B: {pair.label('B')}")


# -- Play ------------------------------------------------------------------------------------------------
@solara.component
def Play():
    scenario, set_scenario = solara.use_state(first_scenario())
    version, set_version = solara.use_state(0)
    answers, set_answers = solara.use_state({})
    holder = solara.use_ref(None)
    if holder.current is None:
        holder.current = PlaySession(scenario, replicates=worlds(), seed=seed())
    session: PlaySession = holder.current
    lock = solara.use_memo(threading.Lock, [])

    def new_game(sc=None):
        holder.current = PlaySession(sc or scenario, replicates=worlds(), seed=seed())
        set_answers({})
        set_version(lambda v: v + 1)

    def run_on():
        with lock:
            session.advance()
            if session.finished and session.replay_rows is None:
                session.replay()
        set_answers({})
        set_version(lambda v: v + 1)

    def decide():
        with lock:
            if session.pending is None:  # a second click on the same decision
                return
            session.decide(answers)
        set_answers({})
        set_version(lambda v: v + 1)

    d = session.pending
    m = session.model
    with solara.Columns([1, 2]):
        with solara.Column():
            with solara.Card("You are the responder"):
                solara.Select("Scenario preset", values=scenario_names(), value=scenario,
                              on_value=lambda s: (set_scenario(s), new_game(s)))
                ScenarioStory(scenario)
                with solara.Row():
                    solara.Button("Run to the next decision", on_click=run_on, color="primary",
                                  disabled=d is not None or session.finished)
                    solara.Button("New play-through", on_click=lambda: new_game())
                solara.HTML(tag="div", classes=["pd-sub"], unsafe_innerHTML=(
                    f"Day {m.day} of {m.horizon}. The crisis runs until a warning, a request for an envoy, "
                    "fighting or a relapse in the world on screen; then the room decides."))
            if d is not None:
                with solara.Card(classes=["pd-decision"], style="border: 4px solid #E69F00; background: #FFF8E6;"):
                    solara.HTML(tag="div", classes=["pd-title"], unsafe_innerHTML=d.title)
                    for q, options in d.questions.items():
                        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{q}</b>")
                        solara.ToggleButtonsSingle(
                            value=answers.get(q, options[0]), values=options,
                            on_value=lambda a, q=q: set_answers(lambda old: {**old, q: a}))
                    solara.Button("Decide and go on", on_click=decide, color="warning", classes=["pd-decide"])
            with solara.Card("The room's choices"):
                if not session.choices:
                    solara.HTML(tag="div", classes=["pd-note"], unsafe_innerHTML="No decision taken yet.")
                for c in session.choices:
                    answers_text = "; ".join(c["answers"].values())
                    solara.HTML(tag="div", classes=["pd-choice"], unsafe_innerHTML=(
                        f"<b>day {c['day']}</b>, {c['decision']} in {c['country']}: {answers_text}"))
                solara.FileDownload(session.export_json, filename=f"pdsim_play_{session.scenario}.json",
                                    label="Export choices and config (JSON)")
        with solara.Column():
            if session.replay_rows:
                with solara.Card("What your choices did, over all worlds", classes=["pd-replay"]):
                    Svg(F.replay_svg(session.replay_rows))
                    for name, diff in session.paired.items():
                        solara.HTML(tag="div", classes=["pd-sub"], unsafe_innerHTML=(
                            f"Your choices {name}: {100 * diff['estimate']:+.0f} points "
                            f"(95 % interval {100 * diff['ci_low']:+.0f} to {100 * diff['ci_high']:+.0f}), "
                            "the same worlds and random numbers."))
            LiveView(m, version)


# -- Info ------------------------------------------------------------------------------------------------
@solara.component
def Info():
    with solara.Card(classes=["pd-info"]):
        Markdown(info_text())


# -- the page --------------------------------------------------------------------------------------------
TABS = (("Explore", Explore), ("Compare", Compare), ("Play", Play), ("Info", Info))


@solara.component
def Page():
    solara.Style(CSS)
    tab, set_tab = solara.use_state(0)
    solara.Title("pdsim: preventive diplomacy workshop")
    solara.HTML(tag="div", classes=["pd-title"], unsafe_innerHTML=(
        "pdsim: preventive diplomacy, a teaching model of the UN report S/2011/552 (not a forecast)"))
    with solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True):
        for label, component in TABS:
            with solara.lab.Tab(label):
                component()


__all__ = ["Page", "TOOL_LABELS"]
