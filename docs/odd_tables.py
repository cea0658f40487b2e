"""Regenerate the parameter tables of docs/ODD.md from the schema (sim/config.py), the one source of truth.

    python docs/odd_tables.py          # rewrite the blocks between <!-- params:X --> and <!-- /params:X -->

The prose around each table is written by hand; only the tables are generated. tests/test_odd.py checks that
the tables and the schema agree, so run this after adding or changing a parameter.
"""

from __future__ import annotations

import re
import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.config import RegionConfig, RunConfig, SiteConfig, walk_params  # noqa: E402
from sim.runner import resolve  # noqa: E402

ODD = Path(__file__).resolve().parent / "ODD.md"
HEADER = "| parameter | default | unit | range | source |\n|---|---|---|---|---|"


def number(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if abs(v) >= 1e10:
        return f"{v:.0e}".replace("e+", "e")
    if v >= 1000 and float(v).is_integer():
        return f"{v:,.0f}"
    return repr(float(v))


def cell_default(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(cell_default(x) for x in v) + "]"
    return str(v)


def cell_range(meta: dict, value) -> str:
    if "choices" in meta:
        return "one of: " + ", ".join(meta["choices"])
    lo, hi = meta.get("range", (None, None))
    if isinstance(value, bool) or (lo is None and hi is None):
        return "—"
    return f"{number(lo)} … {number(hi)}"


def groups() -> dict[str, list[tuple[str, object, dict]]]:
    out: dict[str, list] = {}
    for name, value, meta in walk_params(resolve(RunConfig())):
        if "unit" not in meta or name.startswith("scenario.sites."):
            continue
        group = name.split(".")[0] if "." in name else "run"
        out.setdefault(group, []).append((name, value, meta))
    site = SiteConfig()
    out["site"] = [(f"site.{f.name}", getattr(site, f.name), dict(f.metadata)) for f in fields(SiteConfig)
                   if "unit" in f.metadata]
    region = RegionConfig()
    out["region"] = [(f"region.{f.name}", getattr(region, f.name), dict(f.metadata)) for f in fields(RegionConfig)
                     if "unit" in f.metadata]
    return out


def table(rows) -> str:
    lines = [HEADER]
    for name, value, meta in rows:
        lines.append(f"| `{name}` | {cell_default(value)} | {meta['unit']} | {cell_range(meta, value)} | "
                     f"{meta['source']} |")
    return "\n".join(lines)


def main() -> int:
    text = ODD.read_text(encoding="utf-8")
    for group, rows in groups().items():
        pattern = re.compile(rf"(<!-- params:{group} -->\n).*?(\n<!-- /params:{group} -->)", re.S)
        if not pattern.search(text):
            print(f"docs/ODD.md has no <!-- params:{group} --> block: add one", file=sys.stderr)
            return 1
        text = pattern.sub(lambda m, rows=rows: m.group(1) + table(rows) + m.group(2), text)
    ODD.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
