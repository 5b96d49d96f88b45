"""IR dict → the YAML file kfp writes: a ``# PIPELINE DEFINITION`` comment header, then sorted YAML.

The header names the pipeline, its description, and its inputs and outputs
with their Python types and defaults (``#    n: int [Default: 3.0]``); the
body is ``yaml.dump`` with sorted keys, as kfp does, so files compiled by
either SDK diff cleanly.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import yaml

from sandbox.components.pipelines.dsl.types import IR_TYPE_TO_COMMENT_TYPE_STRING

__all__ = ["header_comments", "to_yaml", "write_pipeline_spec"]

_HEADINGS = {"inputDefinitions": "# Inputs:", "outputDefinitions": "# Outputs:"}


def _signature_lines(root: dict[str, Any], kind: str) -> list[str]:
    if kind not in root:
        return []
    signature = root[kind]
    entries = []
    for name, body in signature.get("parameters", {}).items():
        entry = {"name": name, "parameterType": IR_TYPE_TO_COMMENT_TYPE_STRING[body["parameterType"]]}
        if "defaultValue" in body:
            default = body["defaultValue"]
            entry["defaultValue"] = f"'{default}'" if isinstance(default, str) else default
        entries.append(entry)
    for name, body in signature.get("artifacts", {}).items():
        entries.append({"name": name, "parameterType": body["artifactType"]["schemaTitle"]})
    lines = [_HEADINGS[kind]]
    for entry in sorted(entries, key=lambda e: e["name"]):
        line = f"#    {entry['name']}: {entry['parameterType']}"
        if "defaultValue" in entry:
            line += f" [Default: {entry['defaultValue']}]"
        lines.append(line)
    return lines


def header_comments(pipeline_spec: dict[str, Any], description: str | None) -> str:
    """The comment block kfp puts on top of a compiled pipeline."""
    sections = ["# PIPELINE DEFINITION", "# Name: " + pipeline_spec["pipelineInfo"]["name"]]
    if description:
        sections.append("# Description: " + "\n#              ".join(description.splitlines()))
    sections += _signature_lines(pipeline_spec["root"], "inputDefinitions")
    sections += _signature_lines(pipeline_spec["root"], "outputDefinitions")
    return "\n".join(sections) + "\n"


def to_yaml(pipeline_spec: dict[str, Any], description: str | None = None) -> str:
    """The text of a compiled pipeline file."""
    return header_comments(pipeline_spec, description) + yaml.safe_dump(pipeline_spec, sort_keys=True)


def write_pipeline_spec(pipeline_spec: dict[str, Any], package_path: str | Path, description: str | None) -> None:
    """Writes ``.yaml``/``.yml`` (or, deprecated as in kfp, ``.json``)."""
    path = str(package_path)
    if path.endswith(".json"):
        warnings.warn("Compiling to JSON is deprecated and will be removed in a future version. Please compile to "
                      "a YAML file by providing a file path with a .yaml extension instead.",
                      category=DeprecationWarning, stacklevel=3)
        Path(path).write_text(json.dumps(pipeline_spec, indent=2, sort_keys=True))
    elif path.endswith((".yaml", ".yml")):
        Path(path).write_text(to_yaml(pipeline_spec, description))
    else:
        raise ValueError(f'The output path {path} should end with ".yaml".')
