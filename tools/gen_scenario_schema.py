"""Write the scenario format's JSON Schema into ``docs/reference/scenario-format.md``.

The schema is generated from the pydantic models
(:func:`sandbox.scenario.format.scenario_json_schema`, the registered step
types as ``oneOf``) and replaces whatever lies between the
``<!-- schema:start -->`` and ``<!-- schema:end -->`` markers; the prose
above them is written by hand. ``tests/unit/scenario/test_format.py`` fails
when the published schema is not what the models say, so a model change
comes with a rerun::

    .venv/bin/python tools/gen_scenario_schema.py          # rewrite the doc
    .venv/bin/python tools/gen_scenario_schema.py --check  # exit 1 if stale

The output is deterministic (sorted ``$defs``, fixed indentation).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sandbox.scenario.format import scenario_json_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "scenario-format.md"
START, END = "<!-- schema:start -->", "<!-- schema:end -->"


def render(doc: str) -> str:
    """``doc`` with the current schema between the markers."""
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    schema = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False)
    return f"{head}{START}\n```json\n{schema}\n```\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the doc is out of date")
    args = parser.parse_args()
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{DOC} is out of date: run tools/gen_scenario_schema.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
