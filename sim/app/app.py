"""The Solara entry point: ``solara run sim.app.app:Page`` (what ``pdsim-app`` runs)."""

import os

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")

from sim.app.pages import Page  # noqa: E402

__all__ = ["Page"]
