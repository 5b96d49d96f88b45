"""The demo is real: run it and check that what it narrates happened."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "toy_controller.py"


@pytest.mark.slow
async def test_demo_converges_retries_and_reports_terminal_errors(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("toy_controller", DEMO)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.main()
    out = capsys.readouterr().out
    assert "Established=True (InitialNamesAccepted)" in out
    assert 'Mirror.sandbox.local "bad" is invalid: spec.copies: Invalid value: 9' in out
    assert "Ready=False (SourceMissing)" in out
    assert "reconciles: {'error': " in out  # retried with backoff before the source existed
    assert "ConfigMap settings-1: data={'learning_rate': '0.01'} owner=Mirror/settings" in out
    assert "settings-1 data is now {'learning_rate': '0.001'}" in out
    assert "Failed=True (SourceLocked)" in out
    assert "Event Warning SourceLocked from mirror" in out
    assert "timed out after 0.3s waiting for condition Ready=True on Mirror locked" in out
