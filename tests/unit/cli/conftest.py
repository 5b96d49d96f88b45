"""CLI tests see a plain environment: no CI timestamps, no NO_COLOR, no sandbox home.

CI itself sets ``CI=true``, which turns on timestamped stderr lines; tests
that check those set it themselves.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CI", "NO_COLOR", "SANDBOX_HOME", "SANDBOX_PORT", "SANDBOX_WEB_PORT"):
        monkeypatch.delenv(var, raising=False)
