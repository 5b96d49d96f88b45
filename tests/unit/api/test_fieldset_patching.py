"""patch_fields moves an encoded fieldsV1 tree by a few paths exactly as re-encoding the new set would."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.patch.fieldsets import encode_fields, patch_fields

elements = st.sampled_from(["f:spec", "f:status", "f:a", "f:b", 'k:{"name":"x"}', 'k:{"name":"y"}', 'v:"p"', "i:0"])
paths = st.lists(elements, min_size=1, max_size=4).map(tuple)
sets = st.sets(paths, max_size=12)


def ordered(tree: dict) -> str:
    """The tree with its key order (what the API server writes, and what clients diff)."""
    return json.dumps(tree)


@settings(max_examples=500, deadline=None)
@given(sets, sets)
def test_patching_one_set_into_another_equals_encoding_the_other(before, after):
    tree = encode_fields(before)
    frozen = ordered(tree)
    patched = patch_fields(tree, after - before, before - after)
    assert ordered(patched) == ordered(encode_fields(after))
    assert ordered(tree) == frozen  # the tree it started from is left as it was


def test_an_owned_leaf_that_gains_a_child_keeps_its_dot_first_and_loses_it_with_its_last_child():
    tree = encode_fields({("f:spec",)})
    grown = patch_fields(tree, [("f:spec", "f:a")], [])
    assert ordered(grown) == ordered({"f:spec": {".": {}, "f:a": {}}})
    assert patch_fields(grown, [], [("f:spec", "f:a")]) == {"f:spec": {}}
