"""Managed-field bookkeeping skips unchanged subtrees without changing what it records."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.patch.apply import _owned_values, _without_equal_entries
from sandbox.api.patch.fieldsets import compare

keys = st.sampled_from(["a", "b", "c", "d"])
leaves = st.one_of(st.integers(0, 3), st.sampled_from(["x", "y"]), st.just([1, 2]), st.just({}))
trees = st.recursive(leaves, lambda children: st.dictionaries(keys, children, max_size=4), max_leaves=12)
objects = st.dictionaries(keys, trees, max_size=4)


@settings(max_examples=400, deadline=None)
@given(objects, objects)
def test_pruned_objects_differ_in_exactly_the_same_fields(old, new):
    whole = compare(_owned_values(old, None, frozenset()), _owned_values(new, None, frozenset()))
    old_part, new_part = _without_equal_entries(old, new)
    pruned = compare(_owned_values(old_part, None, frozenset()), _owned_values(new_part, None, frozenset()))
    assert pruned == whole


def test_equal_entries_go_and_an_emptied_map_keeps_one_shared_entry():
    old = {"spec": {"big": {"n": 1}, "x": 1}, "metadata": {"labels": {"app": "web", "tier": "front"}}}
    new = {"spec": {"big": {"n": 1}, "x": 2}, "metadata": {"labels": {"app": "web"}}}
    old_part, new_part = _without_equal_entries(old, new)
    assert old_part == {"spec": {"x": 1}, "metadata": {"labels": {"app": "web", "tier": "front"}}}
    assert new_part == {"spec": {"x": 2}, "metadata": {"labels": {"app": "web"}}}


managers = st.sampled_from(["kubectl", "controller", "kubelet"])


@settings(max_examples=200, deadline=None)
@given(objects, st.lists(st.tuples(managers, objects), min_size=1, max_size=5))
def test_unchanged_managers_entries_are_handed_back_exactly_as_a_full_re_encoding_writes_them(first, updates):
    """Stored (canonical) entries are reused when their manager's fields did not move; entries a client
    sent that differ from the stored ones are always re-encoded. Both roads give the same managedFields."""
    from sandbox.api.objects import deep_copy
    from sandbox.api.patch.apply import record_update

    def write(old, body, manager, *, resend):
        new = deep_copy(body)
        if resend and old is not None and old["metadata"].get("managedFields"):
            # What a client sends back, with a key the API server drops: not the stored entries.
            new["metadata"]["managedFields"] = [{**e, "x-dropped": 1} for e in old["metadata"]["managedFields"]]
        record_update(old, new, manager=manager, now=f"t{len(updates)}", api_version="v1")
        return new

    reused = write(None, {"metadata": {}, **first}, "creator", resend=False)
    encoded = deep_copy(reused)
    for manager, body in updates:
        reused = write(reused, {"metadata": {}, **body}, manager, resend=False)
        encoded = write(encoded, {"metadata": {}, **body}, manager, resend=True)
        assert reused["metadata"].get("managedFields") == encoded["metadata"].get("managedFields")
