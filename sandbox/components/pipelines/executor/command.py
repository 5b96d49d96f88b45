"""Recognising kfp's lightweight-component command in IR, and the sandbox executor command that replaces it.

The IR of a ``@dsl.component`` runs ``sh -c <pip bootstrap>`` then
``sh -ec <launcher> <module source>`` with args ``--executor_input {{$}}
--function_to_execute NAME``. The workflow controller runs such a task as
``python -m sandbox.components.pipelines.executor`` instead (no pip, no temp
file, forked from the warm zygote). :func:`parse_lightweight_command` finds
the module source, the function and the user's ``packages_to_install`` in the
command (whichever SDK compiled it: kfp or ours write the same bytes), and
:func:`executor_argv` builds the replacement arguments.

A containerized Python component (``target_image``: ``python3 -m
kfp.dsl.executor_main`` with the code baked into the image) and container
components are not lightweight: the parser returns None for them. One
ambiguity is kfp's: a custom ``kfp_package_path`` with no other packages
reads as a user package (the bootstrap has only that one ``pip install``).
"""

from __future__ import annotations

import ast
import functools
import shlex
import sys
from dataclasses import dataclass, field

__all__ = ["EXECUTOR_MODULE", "LightweightCall", "executor_argv", "imports_only_stdlib", "parse_lightweight_command"]

#: The module the sandbox runs a lightweight component with.
EXECUTOR_MODULE = "sandbox.components.pipelines.executor"

_PIP_INSTALL = "python3 -m pip install --quiet --no-warn-script-location "
_OPTIONS_WITH_VALUES = {"--index-url", "--extra-index-url", "--trusted-host"}


@dataclass(frozen=True)
class LightweightCall:
    """What a lightweight component's command runs: the module source, the function, its packages."""

    source: str
    function_to_execute: str
    packages_to_install: list[str] = field(default_factory=list)


def _pip_commands(script: str) -> list[list[str]]:
    """The package lists of each ``pip install`` in kfp's bootstrap script, in order."""
    commands = []
    for chunk in script.split(_PIP_INSTALL)[1:]:
        chunk = chunk.split(" && ")[0].split("\n")[0]
        words = shlex.split(chunk)
        packages, skip = [], False
        for word in words:
            if skip:
                skip = False
            elif word in _OPTIONS_WITH_VALUES:
                skip = True
            elif not word.startswith("--"):
                packages.append(word)
        commands.append(packages)
    return commands


def _is_kfp_install(packages: list[str]) -> bool:
    """kfp's own install: ``'kfp==<version>' '--no-deps' 'typing-extensions…'`` (options dropped)."""
    return len(packages) == 2 and packages[0].startswith("kfp==") and packages[1].startswith("typing-extensions")


def parse_lightweight_command(command: list[str], args: list[str]) -> LightweightCall | None:
    """The lightweight call in an IR container's command and args, or None if it is not one."""
    try:
        launcher_index = next(i for i in range(len(command) - 2)
                              if command[i] == "sh" and command[i + 1] == "-ec"
                              and "kfp.dsl.executor_main" in command[i + 2]
                              and "--component_module_path" in command[i + 2])
    except StopIteration:
        return None
    if launcher_index + 3 >= len(command) or "--function_to_execute" not in args:
        return None
    source = command[launcher_index + 3]
    function = args[args.index("--function_to_execute") + 1]
    pip_lists: list[list[str]] = []
    if launcher_index >= 3 and command[:2] == ["sh", "-c"]:
        pip_lists = _pip_commands(command[2])
    # kfp installs the user's packages first, then kfp itself (unless told not to).
    if len(pip_lists) == 2 or (len(pip_lists) == 1 and _is_kfp_install(pip_lists[0])):
        pip_lists = pip_lists[:-1]
    packages = pip_lists[0] if pip_lists else []
    return LightweightCall(source=source, function_to_execute=function, packages_to_install=packages)


@functools.lru_cache(maxsize=256)
def imports_only_stdlib(source: str) -> bool:
    """Whether a component's module imports nothing but the standard library (and kfp, which the executor is).

    False for source that does not parse and for relative imports: only a
    sure answer lets its task fork from the minimal zygote.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    allowed = sys.stdlib_module_names | {"kfp"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                return False
            names = [node.module]
        else:
            continue
        if any(name.partition(".")[0] not in allowed for name in names):
            return False
    return True


def executor_argv(call: LightweightCall, executor_input: str) -> list[str]:
    """The arguments after ``python -m sandbox.components.pipelines.executor`` for ``call``."""
    argv = ["--component_source", call.source, "--executor_input", executor_input,
            "--function_to_execute", call.function_to_execute]
    for package in call.packages_to_install:
        argv += ["--packages_to_install", package]
    return argv
