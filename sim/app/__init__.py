"""The workshop dashboard (issue 8): ``pdsim-app`` serves it on 127.0.0.1:8765, offline.

Modes: Explore (Mesa's SolaraViz: a preset, the levers, the crisis as it unfolds in the world on screen and in
the ensemble),
Compare (two policies on the same worlds), Play (the room is the responder), Info (for facilitators).
The page is sim/app/pages.py; the rest (world, narrate, figures, compare, play, levers) is plain Python on the
model, testable without a browser. Everything here needs the `viz` extra (Mesa's visualisation imports Solara).
"""
