"""Analysis of pdsim's results tables: figures (PNG + PDF), a short Markdown report and a workshop handout.

Reads what runs and sweeps wrote (results.parquet of a sweep; summary.json, outcomes.parquet,
twin_outcomes.parquet, timeseries.parquet of a run); never runs Hydra. Only :mod:`sim.analysis.compare`
simulates (through :func:`sim.runner.run`), to put several policies or scenarios on the same seed.

- :mod:`sim.analysis.style`           palette (Okabe-Ito), line styles, footer, PNG + PDF
- :mod:`sim.analysis.labels`          plain names and units of levers and policies, from the schema
- :mod:`sim.analysis.load`            run and sweep directories -> tables
- :mod:`sim.analysis.curves`          outcome curves and two-lever heatmaps of a sweep
- :mod:`sim.analysis.counterfactual`  prevented / induced per 100 crises; cost per escalation prevented
- :mod:`sim.analysis.survival`        Kaplan-Meier time to escalation, restricted mean time (lifelines)
- :mod:`sim.analysis.sensitivity`     Sobol S1/ST and Morris mu*/sigma of a design sweep (SALib)
- :mod:`sim.analysis.discovery`       scenario discovery with PRIM (EMA Workbench), boxes in words
- :mod:`sim.analysis.compare`         ``pdsim-compare``: N policies or scenarios on the same seed
- :mod:`sim.analysis.report`          ``pdsim-report DIR``: every figure that applies, report.md, handout.pdf
- :mod:`sim.analysis.handout`         the workshop handout (PDF)

See docs/ANALYSIS.md.
"""
