"""docs/ODD.md agrees with the code: its parameter tables with the schema, its submodels with the schedule.

The parameter tables are the Markdown tables headed ``| parameter | default | unit | range | source |``. Every
parameter the schema declares (a field with ``unit`` metadata, found by ``sim.config.walk_params`` on the resolved
defaults) must have one row, with the same default (numbers compared numerically; lists, booleans and words as
text), the same unit and the same range; every row must name a real parameter. Sites' fields are listed once as
``site.<field>`` with the defaults of ``SiteConfig``. Every submodel that ``PreventiveDiplomacyModel.step()`` calls
must be a heading of section 7 of the ODD.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest

from sim.config import RegionConfig, RunConfig, SiteConfig, walk_params
from sim.model import PreventiveDiplomacyModel
from sim.runner import resolve

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
HEADER = ["parameter", "default", "unit", "range", "source"]


# -- what the ODD says ------------------------------------------------------------------------------------
def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _plain(text: str) -> str:
    return text.replace("`", "").strip()


def odd_text() -> str:
    assert ODD.exists(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


def odd_rows() -> tuple[dict[str, dict[str, str]], list[str]]:
    """Rows of every parameter table, by parameter name; and the names given more than once."""
    rows: dict[str, dict[str, str]] = {}
    duplicates: list[str] = []
    in_table = False
    for line in odd_text().splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = [_plain(c).lower() for c in _cells(line)]
        if cells == HEADER:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        values = [_plain(c) for c in _cells(line)]
        assert len(values) == len(HEADER), f"docs/ODD.md: parameter table row has {len(values)} cells: {line}"
        row = dict(zip(HEADER, values, strict=True))
        name = row["parameter"]
        if name in rows:
            duplicates.append(name)
        rows[name] = row
    return rows, duplicates


def odd_section(number: int) -> str:
    """The text of ``## <number>.`` up to the next level-2 heading."""
    match = re.search(rf"^## {number}\.(.*?)(?=^## )", odd_text() + "\n## end", re.S | re.M)
    assert match, f"docs/ODD.md has no section '## {number}.'"
    return match.group(1)


# -- what the code says ------------------------------------------------------------------------------------
def schema_params() -> dict[str, tuple[object, dict]]:
    """Every declared parameter: dotted name -> (resolved default, metadata); sites as ``site.<field>``."""
    params: dict[str, tuple[object, dict]] = {}
    for name, value, meta in walk_params(resolve(RunConfig())):
        if "unit" in meta and not name.startswith("scenario.sites."):
            params[name] = (value, meta)
    for prefix, schema in (("site", SiteConfig), ("region", RegionConfig)):
        default = schema()
        for f in fields(schema):
            if "unit" in f.metadata:
                params[f"{prefix}.{f.name}"] = (getattr(default, f.name), dict(f.metadata))
    return params


def step_submodels() -> list[str]:
    """The methods ``PreventiveDiplomacyModel.step()`` calls on ``self``, in order."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(PreventiveDiplomacyModel.step)))
    names = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            names.append((node.lineno, node.col_offset, node.func.attr))
    return [name for *_, name in sorted(names)]  # source order (ast.walk goes breadth-first)


# -- comparisons -------------------------------------------------------------------------------------------
def _number(text: str) -> float | None:
    t = text.replace(",", "").replace("_", "").replace("−", "-").replace(" ", "")
    try:
        return float(t)
    except ValueError:
        return None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_text(v) for v in value) + "]"
    return str(value).lower()


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("'", "").replace('"', "").replace("−", "-").lower()


def same_value(cell: str, value: object) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = _number(cell)
        return n is not None and math.isclose(n, float(value), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        parts = _norm(cell).strip("[]").split(",") if _norm(cell).strip("[]") else []
        nums = [_number(p) for p in parts]
        return len(nums) == len(value) and all(
            n is not None and math.isclose(n, float(v), rel_tol=1e-9, abs_tol=1e-12)
            for n, v in zip(nums, value, strict=True)
        )
    return _norm(cell) == _norm(_text(value))


def same_range(cell: str, meta: dict) -> bool:
    """The range cell: ``lo … hi``, ``≥ lo``, ``≤ hi``, ``—`` (none) or ``one of: a, b``."""
    c = cell.strip()
    if "choices" in meta:
        if not c.lower().startswith("one of:"):
            return False
        return [_norm(x) for x in c.split(":", 1)[1].split(",")] == [_norm(x) for x in meta["choices"]]
    lo, hi = meta.get("range", (None, None))
    if c in ("—", "-", ""):
        return lo is None and hi is None
    if c.startswith("≥"):
        n = _number(c[1:])
        return hi is None and lo is not None and n is not None and math.isclose(n, lo, abs_tol=1e-12)
    if c.startswith("≤"):
        n = _number(c[1:])
        return lo is None and hi is not None and n is not None and math.isclose(n, hi, abs_tol=1e-12)
    if "…" in c:
        a, b = (_number(x) for x in c.split("…", 1))
        return (
            lo is not None and hi is not None and a is not None and b is not None
            and math.isclose(a, lo, rel_tol=1e-12, abs_tol=1e-12)
            and math.isclose(b, hi, rel_tol=1e-12, abs_tol=1e-12)
        )
    return False


PARAMS = schema_params()


# -- tests -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_documented(name):
    value, meta = PARAMS[name]
    rows, _ = odd_rows()
    if name not in rows:
        pytest.fail(
            f"parameter {name} (default {value!r}, unit {meta['unit']!r}) is in sim/config.py but in no "
            f"parameter table of docs/ODD.md section 8",
            pytrace=False,
        )
    row = rows[name]
    problems = []
    if not same_value(row["default"], value):
        problems.append(f"default: docs/ODD.md {row['default']!r}, sim/config.py {value!r}")
    if row["unit"] != meta["unit"]:
        problems.append(f"unit: docs/ODD.md {row['unit']!r}, sim/config.py {meta['unit']!r}")
    if not same_range(row["range"], meta):
        expected = meta.get("choices", meta.get("range"))
        problems.append(f"range: docs/ODD.md {row['range']!r}, sim/config.py {expected!r}")
    if problems:
        pytest.fail(f"parameter {name} disagrees: " + "; ".join(problems), pytrace=False)


def test_every_row_is_a_parameter():
    rows, duplicates = odd_rows()
    assert rows, "docs/ODD.md has no parameter table (| parameter | default | unit | range | source |)"
    unknown = sorted(set(rows) - set(PARAMS))
    assert not unknown, f"docs/ODD.md lists parameters that sim/config.py does not declare: {', '.join(unknown)}"
    assert not duplicates, f"docs/ODD.md lists these parameters more than once: {', '.join(duplicates)}"


def test_every_row_has_a_source():
    rows, _ = odd_rows()
    empty = sorted(name for name, row in rows.items() if not row["source"])
    assert not empty, f"docs/ODD.md gives no source for: {', '.join(empty)}"


def test_submodels_are_headings_of_section_7():
    submodels = step_submodels()
    assert submodels, "found no self.<method>() calls in PreventiveDiplomacyModel.step()"
    headings = [line for line in odd_section(7).splitlines() if line.startswith("###")]
    missing = [
        name for name in submodels
        if not any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", h) for h in headings)
    ]
    assert not missing, (
        "submodels called in PreventiveDiplomacyModel.step() without a heading in docs/ODD.md section 7: "
        + ", ".join(missing)
    )


def test_schedule_of_section_3_matches_step():
    """Section 3's schedule table names the submodels in the order step() calls them."""
    section = odd_section(3)
    listed = [
        _plain(_cells(line)[1]) for line in section.splitlines()
        if re.match(r"^\|\s*\d+\s*\|", line)
    ]
    assert listed == step_submodels(), (
        f"docs/ODD.md section 3 lists {listed}, PreventiveDiplomacyModel.step() calls {step_submodels()}"
    )
