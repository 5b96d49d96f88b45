"""{{ variables }} in step strings."""

from __future__ import annotations

import pytest

from sandbox.scenario.templating import UnknownVariable, render


def test_every_string_in_a_value_is_rendered_and_other_values_pass_through():
    value = {"metadata": {"name": "{{ app }}-{{app}}", "labels": {"{{ key }}": "x"}},
             "spec": {"replicas": 3, "args": ["--ns={{ namespace }}", True, None]}}
    rendered = render(value, {"app": "web", "key": "tier", "namespace": "demo"})
    assert rendered == {"metadata": {"name": "web-web", "labels": {"tier": "x"}},
                        "spec": {"replicas": 3, "args": ["--ns=demo", True, None]}}


def test_text_without_markers_and_single_braces_is_left_alone():
    assert render("{.status.phase} {x}", {}) == "{.status.phase} {x}"


def test_an_unknown_variable_is_an_error_that_names_it_and_the_known_ones():
    with pytest.raises(UnknownVariable, match=r"unknown variable \{\{ nmespace \}\} \(known: namespace\)"):
        render({"a": ["{{ nmespace }}"]}, {"namespace": "demo"})
