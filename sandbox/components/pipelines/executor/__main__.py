"""``python -m sandbox.components.pipelines.executor``: run one component in a task's pod (see the package docstring)."""

import sys

from sandbox.components.pipelines.executor.main import main

sys.exit(main())
