"""The in-pod component executor: ``python -m sandbox.components.pipelines.executor``, kfp's ``executor_main``.

The workflow controller runs a lightweight Python component's pod as::

    python -m sandbox.components.pipelines.executor --component_source <module source> \
        --executor_input <json> --function_to_execute NAME [--packages_to_install P ...]

with ``SANDBOX_ARTIFACT_ROOT`` set (forked from the warm zygote, so it starts
in milliseconds). Data flow: check ``packages_to_install`` are installed (exit
1 with a clear message if not; never pip, never the network) → map ``kfp`` /
``kfp.dsl`` to the sandbox DSL (:mod:`.loader`) → execute the component source
→ run the function like kfp's ``Executor`` (:mod:`.executor`) → the executor
output JSON lands in ``outputs.outputFile``. ``--component_module_path`` (a
file, as kfp's launcher passes) works too. :mod:`.command` recognises kfp's
lightweight-component command in IR and builds these arguments from it.

:func:`execute` does the same in-process (tests, the SDK), restoring what it
changed in the interpreter (``sys.modules``, the task root) afterwards.
Light by contract: no cluster, servers or kfp.
"""

from sandbox.components.pipelines.executor.command import (
    LightweightCall,
    executor_argv,
    parse_lightweight_command,
)
from sandbox.components.pipelines.executor.executor import Executor
from sandbox.components.pipelines.executor.main import execute, main, parse_args
from sandbox.components.pipelines.executor.packages import MissingPackages, check_packages

__all__ = [
    "Executor",
    "LightweightCall",
    "MissingPackages",
    "check_packages",
    "execute",
    "executor_argv",
    "main",
    "parse_args",
    "parse_lightweight_command",
]
