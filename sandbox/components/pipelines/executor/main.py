"""The executor's entry points: the command line (:func:`main`) and the in-process call (:func:`execute`).

Both take kfp's ``executor_main`` arguments (``--executor_input``,
``--function_to_execute``, ``--component_module_path``) plus the sandbox's
``--component_source`` (the module text, so the pod needs no temp file) and
``--packages_to_install`` (repeated). The command line logs in kfp's format
(``[KFP Executor <time> INFO]: …``) to stdout, which becomes the task's log;
a missing package exits 1 with its message on stderr; a failing component
exits 1 with its traceback, as with kfp.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from sandbox.components.pipelines.dsl import artifacts
from sandbox.components.pipelines.executor import loader
from sandbox.components.pipelines.executor.executor import Executor
from sandbox.components.pipelines.executor.packages import MissingPackages, check_packages

__all__ = ["execute", "main", "parse_args"]

logger = logging.getLogger("sandbox.pipelines.executor")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.components.pipelines.executor",
                                     description="kf-sandbox component executor (kfp.dsl.executor_main).")
    parser.add_argument("--component_source", type=str, help="The component module's source text.")
    parser.add_argument("--component_module_path", type=str, help="Path to a module containing the component.")
    parser.add_argument("--function_to_execute", type=str, required=True,
                        help="The name of the component function in the module.")
    parser.add_argument("--executor_input", type=str, required=True, help="JSON-serialized ExecutorInput.")
    parser.add_argument("--packages_to_install", action="append", default=[],
                        help="A package the component needs (must already be installed; repeatable).")
    return parser


#: Built once, at import: task pods fork from a zygote that imported this module, and building a parser
#: costs a millisecond in each (argparse translates every help text through gettext, which searches the
#: filesystem for message catalogs each time).
_PARSER = _parser()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args, _ = _PARSER.parse_known_args(argv)
    if (args.component_source is None) == (args.component_module_path is None):
        _PARSER.error("give exactly one of --component_source and --component_module_path")
    return args


def execute(executor_input: dict[str, Any] | str, *, function_to_execute: str, component_source: str | None = None,
            component_module_path: str | None = None, packages_to_install: list[str] | tuple[str, ...] = ()
            ) -> str | None:
    """Runs a component function on an executor input; returns the executor output file's path.

    Raises :class:`MissingPackages` (before running anything) when a package is missing.
    """
    for warning in check_packages(list(packages_to_install)):
        logger.warning(warning)
    if isinstance(executor_input, str):
        executor_input = json.loads(executor_input)
    assert isinstance(executor_input, dict)
    previous_module = sys.modules.get(loader.MODULE_NAME)
    previous_task_root = artifacts.CONTAINER_TASK_ROOT
    with loader.kfp_aliases():
        try:
            module = loader.load_component_module(source=component_source, module_path=component_module_path)
            function = getattr(module, function_to_execute)
            logger.info("Got executor_input:\n%s", json.dumps(executor_input, indent=4))
            output_file = Executor(executor_input=executor_input, function_to_execute=function).execute()
        finally:
            artifacts.CONTAINER_TASK_ROOT = previous_task_root
            if previous_module is None:
                sys.modules.pop(loader.MODULE_NAME, None)
            else:
                sys.modules[loader.MODULE_NAME] = previous_module
    if output_file is None:
        logger.info("Did not write output file.")
    else:
        logger.info("Wrote executor output file to %s.", output_file)
    return output_file


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (1 when a package is missing)."""
    logging.basicConfig(stream=sys.stdout, format="[KFP Executor %(asctime)s %(levelname)s]: %(message)s",
                        level=logging.INFO)
    args = parse_args(argv)
    logger.info("Loading KFP component %r", args.function_to_execute)
    try:
        execute(args.executor_input, function_to_execute=args.function_to_execute,
                component_source=args.component_source, component_module_path=args.component_module_path,
                packages_to_install=args.packages_to_install)
    except MissingPackages as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0
