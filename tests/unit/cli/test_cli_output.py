"""Output rules: colour only when allowed, timestamps under CI, aligned tables."""

from __future__ import annotations

import pytest

from sandbox.cli.output import Printer, table


def test_no_color_turns_styling_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert Printer().style("ready", fg="green") == "ready"


def test_an_empty_no_color_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert Printer().style("ready", fg="green") == "\x1b[32mready\x1b[0m"


def test_results_are_never_timestamped(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI", "true")
    Printer().result("export KUBECONFIG=/x")
    assert capsys.readouterr().out == "export KUBECONFIG=/x\n"


def test_table_aligns_columns_like_kubectl() -> None:
    assert table(("NODE", "READY"), [("control-plane", "True"), ("w", "False")]) == [
        "NODE            READY",
        "control-plane   True",
        "w               False",
    ]
