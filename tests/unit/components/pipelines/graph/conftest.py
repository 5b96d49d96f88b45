"""Compile pipelines with the real kfp SDK into IR dicts, as users' YAML files hold them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from kfp import compiler


@pytest.fixture(scope="session")
def compile_ir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any], dict[str, Any]]:
    directory = tmp_path_factory.mktemp("ir")

    def compile_(pipeline: Any) -> dict[str, Any]:
        path = directory / f"{pipeline.name}.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        return yaml.safe_load(path.read_text())

    return compile_
