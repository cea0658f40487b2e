"""The event log of one world as prose: what happened, in plain words, headed by how the world ended.

    from sim.runner import configure, run
    from sim.story import story
    result = run(configure("replicates=200"))
    print(story(result.model, 3))                          # one world
    print(story(result.model, 3, twin=result.twin_model))  # beside its counterfactual twin

Human labels ("armed conflict", "a fact-finding mission", "the regional organisation"); one line per
distinct event (two actors marking the same moment give one line); brief flickers across a phase line
(tension crossing and re-crossing within a few days) folded into one line. Reads the model's EventLog
(sim/events.py) through ``events.for_world``; event kinds it does not know are told by their name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Phase changes of one site closer together than this (days) are told as one movement.
FLICKER_DAYS = 10

PHASE_WORDS = {"stable": "stable", "dispute": "dispute", "crisis": "crisis", "armed_conflict": "armed conflict",
               "war": "war"}
TOOL_WORDS = {"statement": "a statement of concern", "fact_finding": "a fact-finding mission",
              "envoy": "an envoy", "mission": "a political mission", "coercive": "coercive measures"}
ACTOR_WORDS = {"UN": "the UN", "regional organisation": "the regional organisation",
               "civil society": "civil society", "site": "the country"}


def _phases() -> tuple[str, ...]:
    from sim.config import PHASES

    return PHASES


def _tools() -> tuple[str, ...]:
    from sim.config import TOOLS

    return TOOLS


def phase_words(index: int) -> str:
    phases = _phases()
    return PHASE_WORDS.get(phases[index], phases[index].replace("_", " ")) if 0 <= index < len(phases) else str(index)


def tool_words(index: int) -> str:
    tools = _tools()
    return TOOL_WORDS.get(tools[index], tools[index].replace("_", " ")) if 0 <= index < len(tools) else str(index)


def actor_words(index: int) -> str:
    from sim.events import ACTORS

    name = ACTORS[index] if 0 <= index < len(ACTORS) else "an actor"
    return ACTOR_WORDS.get(name, name)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(event: Any, site: str) -> str:
    """One event in plain words (without the day)."""
    kind = getattr(event.kind, "name", str(event.kind))
    who = actor_words(event.actor)
    v = event.value
    talks = "indirect talks" if v >= 0.5 else "direct talks"
    texts = {
        "TRIGGER": lambda: f"a triggering event (an election or a coup) shakes {site}",
        "PHASE_UP": lambda: f"{site} escalates to {phase_words(int(v))}",
        "PHASE_DOWN": lambda: f"{site} calms to {phase_words(int(v))}",
        "WARNING": lambda: f"{who} raises an early warning on {site}",
        "FALSE_ALARM": lambda: f"{who} finds its warning on {site} was a false alarm and stands down",
        "FIRST_STEP": lambda: f"{who} takes its first step on {site}, {tool_words(0)}, "
        f"{event.day - int(v)} days after its warning",
        "RUNG": lambda: f"{who} steps up to {tool_words(int(v))} in {site}",
        "DEPLOYMENT": lambda: f"an envoy of {who} arrives in {site}",
        "APPROACH": lambda: f"{who}'s mediator in {site} shifts to {talks}",
        "RESOLVED": lambda: f"the critical moment passes in {site}",
        "RELAPSE": lambda: f"{site} relapses into crisis",
        "WIND_DOWN": lambda: f"{who} winds down its engagement in {site}",
        "PREFERENCE_SHIFT": lambda: f"the parties in {site} now prefer {talks}",
        "SETTLEMENT": lambda: f"the {phase_words(int(v))} in {site} ends (settlement, exhaustion or victory)",
        "FALLBACK": lambda: f"the war in {site} falls back to armed conflict",
    }
    if kind in texts:
        try:
            return texts[kind]()
        except (IndexError, ValueError):
            pass
    actor = f" ({who})" if event.actor else ""
    return f"{kind.lower().replace('_', ' ')} in {site}{actor}"


def site_words(model: Any, index: int) -> str:
    """'country A' for the generic one-letter sites, the preset's name otherwise."""
    names = [s.name for s in model.sites]
    name = names[index] if 0 <= index < len(names) else str(index)
    return f"country {name}" if len(name) <= 2 else name


#: Within a day: the cause first (trigger, shift in preferences), then the phase change, then the response.
ORDER = {"TRIGGER": 0, "PREFERENCE_SHIFT": 1, "PHASE_UP": 2, "PHASE_DOWN": 2, "RELAPSE": 3}


def _before(event: Any) -> int:
    up = getattr(event.kind, "name", "") == "PHASE_UP"
    return int(event.value) - 1 if up else int(event.value) + 1


def _describe_run(run: list, name: str) -> list[tuple[int, int, int, str]]:
    """One line for a run of close phase changes of one site; a run that does not come back where it
    started is split where its flicker begins (e.g. 'escalates to dispute', then 'briefly reaches crisis')."""
    first, last = run[0], run[-1]
    before, after = _before(first), int(last.value)
    if len(run) == 1:
        return [(first.day, first.day, 2, sentence(first, name))]
    path = [before] + [int(e.value) for e in run]
    steps = np.diff(path)
    if (steps > 0).all() or (steps < 0).all():
        verb = "escalates" if steps[0] > 0 else "calms"
        via = ", ".join(phase_words(p) for p in path[1:-1])
        return [(first.day, last.day, 2,
                 f"{name} {verb} to {phase_words(after)} within {last.day - first.day} days (through {via})")]
    if after != before:
        for i in range(1, len(run) - 1):  # the shortest head after which the rest returns where it began
            if int(run[i - 1].value) == after:
                return _describe_run(run[:i], name) + _describe_run(run[i:], name)
        return [(first.day, last.day, 2, f"{name} wavers between {phase_words(min(path))} and "
                 f"{phase_words(max(path))} ({len(run)} changes), ending at {phase_words(after)}")]
    away = [p for p in path[1:] if p != before]
    times = sum(1 for a, b in zip(path, path[1:], strict=False) if a == before and b != before)
    span = last.day - first.day
    times_text = ("" if times == 1 else f" {times} times") + (f" in {span} days" if span > FLICKER_DAYS else "")
    if min(away) > before:
        text = f"{name} briefly reaches {phase_words(max(away))}{times_text}, back to {phase_words(after)}"
    else:
        text = f"{name} briefly calms to {phase_words(min(away))}{times_text}, back to {phase_words(after)}"
    return [(first.day, last.day, 2, text)]


def _fold_phases(events: list, site_names: list[str]) -> list[tuple[int, int, int, str]]:
    """(first day, last day, text) for the phase changes of every site: runs of changes less than
    FLICKER_DAYS apart become one line."""
    by_site: dict[int, list] = {}
    for e in events:
        by_site.setdefault(e.site, []).append(e)
    lines = []
    for site, evs in by_site.items():
        name = site_names[site] if 0 <= site < len(site_names) else str(site)
        runs: list[list] = []
        for e in evs:
            if runs and e.day - runs[-1][-1].day <= FLICKER_DAYS:
                runs[-1].append(e)
            else:
                runs.append([e])
        for run in runs:
            lines += _describe_run(run, name)
    return lines


def lines(model: Any, world: int) -> list[str]:
    """The world's events as dated lines in plain words, duplicates removed, flickers folded."""
    site_names = [site_words(model, i) for i in range(len(model.sites))]
    events = model.events.for_world(world)
    phase = [e for e in events if getattr(e.kind, "name", "") in ("PHASE_UP", "PHASE_DOWN")]
    other = [e for e in events if getattr(e.kind, "name", "") not in ("PHASE_UP", "PHASE_DOWN")]
    dated = _fold_phases(phase, site_names)
    for e in other:
        name = site_names[e.site] if 0 <= e.site < len(site_names) else str(e.site)
        dated.append((e.day, e.day, ORDER.get(getattr(e.kind, "name", ""), 4), sentence(e, name)))
    dated.sort(key=lambda d: (d[0], d[2], d[1]))
    out, seen = [], set()
    for first, last, _, text in dated:
        if (first, last, text) in seen:
            continue
        seen.add((first, last, text))
        when = f"day {first:>4}" if first == last else f"days {first}–{last}"
        out.append(f"{when:>13}: {_cap(text)}")
    return out


def ending(model: Any, world: int) -> str:
    """How the world ended, in one sentence."""
    from sim.agents import NEVER

    site_names = [site_words(model, i) for i in range(len(model.sites))]
    horizon = getattr(model, "horizon", None)
    esc = int(model.first_escalation[world])
    war = int(getattr(model, "first_war", np.full(world + 1, NEVER))[world])
    final = getattr(model, "phase", None)
    state = ""
    if final is not None:
        phases = np.asarray(final)[:, world]
        worst = int(phases.max())
        where = ", ".join(site_names[i] for i in np.flatnonzero(phases == worst))
        state = f"; it ends with {where} in {phase_words(worst)}"
    if esc >= NEVER:
        return f"No escalation: no country reached armed conflict in {horizon} days{state}."
    where = ""
    escalated = getattr(model, "site_escalated", None)
    if escalated is not None:
        where = " in " + ", ".join(site_names[i] for i in np.flatnonzero(np.asarray(escalated)[:, world]))
    text = f"Escalated to armed conflict{where} on day {esc}"
    if war < NEVER:
        text += f", and to war on day {war}"
    return text + state + "."


def describe_twin(model: Any) -> str:
    from sim.analysis.labels import describe_policy
    from sim.config import twin_policy

    return describe_policy(twin_policy(model.config.counterfactual))


def story(model: Any, world: int = 0, *, twin: Any = None) -> str:
    """One world as prose: a header saying how it ended, then what happened, day by day. With ``twin``
    (the counterfactual twin's model), the twin's story follows, and a line says what the policy changed."""
    from sim.agents import NEVER

    if not 0 <= world < model.replicates:
        raise ValueError(f"world = {world} is out of range: allowed 0 <= world < {model.replicates}")
    name = getattr(model.config.scenario, "name", "scenario")
    head = f"World {world} of {model.replicates} ({name}, {model.horizon} days): {ending(model, world)}"
    body = lines(model, world) or ["         (nothing happened)"]
    text = "\n".join([head, *body])
    if twin is None:
        return text
    label = describe_twin(model)
    p_esc, t_esc = model.first_escalation[world] < NEVER, twin.first_escalation[world] < NEVER
    verdict = ("The policy prevented this escalation." if t_esc and not p_esc else
               "The policy induced this escalation." if p_esc and not t_esc else
               "Escalated with and without the policy." if p_esc else "Calm with and without the policy.")
    twin_head = f"Its twin ({label}; same random numbers): {ending(twin, world)}"
    return "\n".join([text, "", twin_head, *(lines(twin, world) or ["         (nothing happened)"]), "", verdict])
