"""Label and field selectors: Kubernetes' syntax, matching rules and messages."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.errors import BadRequest
from sandbox.api.selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Operator,
    Requirement,
    escape_value,
    field_value,
    label_key_errors,
    label_value_errors,
    supported_fields,
    unescape_value,
)

PROPERTY = settings(max_examples=200, deadline=None)

# Label selector text -------------------------------------------------------------

# The examples of the Kubernetes "Labels and Selectors" page and of
# apimachinery's selector_test.go.
MATCHES = [
    ("environment = production", {"environment": "production"}, True),
    ("environment = production", {"environment": "qa"}, False),
    ("tier != frontend", {"tier": "backend"}, True),
    ("tier != frontend", {}, True),
    ("tier != frontend", {"tier": "frontend"}, False),
    ("environment=production,tier!=frontend", {"environment": "production"}, True),
    (
        "environment=production,tier!=frontend",
        {"environment": "production", "tier": "frontend"},
        False,
    ),
    ("environment in (production, qa)", {"environment": "qa"}, True),
    ("environment in (production, qa)", {"environment": "dev"}, False),
    ("environment in (production, qa)", {}, False),
    ("tier notin (frontend, backend)", {"tier": "cache"}, True),
    ("tier notin (frontend, backend)", {}, True),
    ("tier notin (frontend, backend)", {"tier": "backend"}, False),
    ("partition", {"partition": ""}, True),
    ("partition", {"other": "x"}, False),
    ("!partition", {"other": "x"}, True),
    ("!partition", {"partition": "a"}, False),
    ("x=y", {"x": "y"}, True),
    ("x=y,z=w", {"x": "y", "z": "w"}, True),
    ("x=y,z=w", {"x": "w", "z": "w"}, False),
    ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
    ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
    ("notin=in", {"notin": "in"}, True),
    ("x=z", {}, False),
    ("x>1", {"x": "2"}, True),
    ("x>1", {"x": "0"}, False),
    ("x>1", {"x": "a"}, False),
    ("x>1", {}, False),
    ("x<1", {"x": "0"}, True),
    ("x<1", {"x": "2"}, False),
    ("x in (foo,,baz),y,z notin ()", {"x": "", "y": "1"}, True),
    ("x in (foo,,baz),y,z notin ()", {"x": "foo", "y": "1", "z": ""}, False),
    ("", {"anything": "goes"}, True),
    (" a = b , c ", {"a": "b", "c": "d"}, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHES)
def test_label_selector_text_matches_like_kubernetes(
    text: str, labels: dict[str, str], expected: bool
) -> None:
    assert LabelSelector.parse(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("z=c,x=a", "x=a,z=c"),
        ("x==a", "x==a"),
        ("x!=a,y=b", "x!=a,y=b"),
        ("x=", "x="),
        ("x= ,z= ", "x=,z="),
        ("!x", "!x"),
        ("x>1,z<5", "x>1,z<5"),
        ("x in (def, abc)", "x in (abc,def)"),
        ("x notin (abc, abc)", "x notin (abc)"),
        ("x in ()", "x in ()"),
        ("x in (,a)", "x in (,a)"),
        ("in in (in, notin)", "in in (in,notin)"),
        ("example.com/tier,!canary", "!canary,example.com/tier"),
    ],
)
def test_label_selector_str_is_kubernetes_canonical_string(text: str, canonical: str) -> None:
    assert str(LabelSelector.parse(text)) == canonical


def test_parsed_requirements_are_sorted_by_key_with_sorted_values() -> None:
    selector = LabelSelector.parse("tier notin (b, a),env in (qa, prod),!canary")
    assert selector.requirements == (
        Requirement("canary", Operator.DOES_NOT_EXIST),
        Requirement("env", Operator.IN, ("prod", "qa")),
        Requirement("tier", Operator.NOT_IN, ("a", "b")),
    )


KEY_REGEX_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("x in b", "unable to parse requirement: found 'b' expected: '('"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("x in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
        ("x a", "unable to parse requirement: found 'a', expected: in, notin, =, ==, !=, gt, lt"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("x,", "found '', expected: identifier after ','"),
        (",x", "found ',', expected: !, identifier, or 'end of string'"),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        (
            "x<a",
            'unable to parse requirement: values[0]: Invalid value: "a": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "x=a||y=b",
            'unable to parse requirement: values[0][x]: Invalid value: "a||y": ' + VALUE_REGEX_MSG,
        ),
        (
            "_x",
            'unable to parse requirement: <nil>: Invalid value: "_x": name part ' + KEY_REGEX_MSG,
        ),
        (
            "a/b/c",
            'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name '
            + KEY_REGEX_MSG
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
        (
            "x=" + "v" * 64,
            f'unable to parse requirement: values[0][x]: Invalid value: "{"v" * 64}": '
            "must be no more than 63 characters",
        ),
    ],
)
def test_malformed_label_selectors_raise_bad_request_with_kubernetes_message(
    text: str, message: str
) -> None:
    with pytest.raises(BadRequest) as err:
        LabelSelector.parse(text)
    assert err.value.message == message
    assert err.value.code == 400


def test_label_key_and_value_validation_follows_kubernetes_rules() -> None:
    assert label_key_errors("app") == []
    assert label_key_errors("example.com/app.name_x-1") == []
    assert label_key_errors("a" * 63) == []
    assert label_key_errors("a" * 64) == ["name part must be no more than 63 characters"]
    assert label_key_errors("/a") == ["prefix part must be non-empty"]
    assert label_key_errors("Example.com/a")[0].startswith(
        "prefix part a lowercase RFC 1123 subdomain"
    )
    assert label_key_errors("") == ["name part must be non-empty", "name part " + KEY_REGEX_MSG]
    assert label_value_errors("") == []
    assert label_value_errors("A.b-c_9") == []
    assert label_value_errors("-a") == [VALUE_REGEX_MSG]


def test_parse_is_cached_by_text() -> None:
    assert LabelSelector.parse("app=web,tier") is LabelSelector.parse("app=web,tier")


def test_selectors_are_immutable_and_picklable() -> None:
    selector = LabelSelector.parse("a in (x,y),!b")
    with pytest.raises(AttributeError):
        selector._requirements = ()  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(selector)) == selector
    assert pickle.loads(pickle.dumps(LabelSelector.nothing())).matches_nothing()
    assert hash(LabelSelector.parse("a=b,c")) == hash(LabelSelector.parse("c, a=b"))
    assert repr(selector) == "LabelSelector.parse('a in (x,y),!b')"


def test_equality_labels_are_the_exact_key_value_requirements() -> None:
    selector = LabelSelector.parse("app=web,env==prod,tier in (fe),zone in (a,b),x!=y,z")
    assert selector.equality_labels() == {"app": "web", "env": "prod", "tier": "fe"}
    assert LabelSelector.everything().equality_labels() == {}


def test_add_and_from_labels_build_selectors() -> None:
    selector = LabelSelector.from_labels({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert str(selector.add(Requirement("a0", Operator.EXISTS))) == "a=1,a0,b=2"
    assert LabelSelector.from_labels({}).is_empty()
    assert LabelSelector.nothing().add(Requirement("a", Operator.EXISTS)).matches_nothing()


# metav1.LabelSelector -----------------------------------------------------------------


def test_nil_selector_matches_nothing_and_empty_selector_matches_everything() -> None:
    nothing = LabelSelector.from_dict(None)
    assert not nothing.matches({})
    assert not nothing.matches({"a": "b"})
    assert not nothing.is_empty()
    assert nothing.matches_nothing()
    for empty in ({}, {"matchLabels": {}}, {"matchLabels": None, "matchExpressions": []}):
        selector = LabelSelector.from_dict(empty)
        assert selector.is_empty()
        assert selector.matches({})
        assert selector.matches({"a": "b"})
        assert not selector.matches_nothing()
    assert LabelSelector.parse("") is LabelSelector.everything()
    assert LabelSelector.everything().matches(None)


def test_from_dict_reads_match_labels_and_match_expressions() -> None:
    selector = LabelSelector.from_dict(
        {
            "matchLabels": {"app": "web", "tier": "fe"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["qa", "prod"]},
                {"key": "track", "operator": "NotIn", "values": ["canary"]},
                {"key": "gpu", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist", "values": []},
            ],
        }
    )
    assert str(selector) == "app=web,env in (prod,qa),gpu,!legacy,tier=fe,track notin (canary)"
    assert selector.matches({"app": "web", "tier": "fe", "env": "qa", "gpu": "1"})
    assert not selector.matches({"app": "web", "tier": "fe", "env": "qa"})
    assert selector.equality_labels() == {"app": "web", "tier": "fe"}


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]},
            'values: Invalid value: []string{"x", "y"}: '
            "values set must be empty for exists and does not exist",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
        ),
        ({"matchLabels": {"a b": "c"}}, 'key: Invalid value: "a b": name part ' + KEY_REGEX_MSG),
        ({"matchLabels": {"a": "-c"}}, 'values[0][a]: Invalid value: "-c": ' + VALUE_REGEX_MSG),
        ("app=web", "a label selector must be an object, not string"),
        ({"matchLabels": ["a"]}, "matchLabels must be an object, not array"),
    ],
)
def test_from_dict_raises_bad_request_like_label_selector_as_selector(
    selector: Any, message: str
) -> None:
    with pytest.raises(BadRequest) as err:
        LabelSelector.from_dict(selector)
    assert err.value.message == message


def test_validate_reports_field_errors_like_validate_label_selector() -> None:
    errors = LabelSelector.validate(
        {
            "matchLabels": {"app": "-web"},
            "matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Gt", "values": ["1"]},
                {"key": "_d", "operator": "NotIn", "values": ["ok", "-bad"]},
            ],
        },
        path="spec.selector",
    )
    assert [e.message for e in errors] == [
        'spec.selector.matchLabels: Invalid value: "-web": ' + VALUE_REGEX_MSG,
        "spec.selector.matchExpressions[0].values: Required value: "
        "must be specified when `operator` is 'In' or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: "
        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.selector.matchExpressions[2].operator: Invalid value: "Gt": '
        "not a valid selector operator",
        'spec.selector.matchExpressions[3].key: Invalid value: "_d": name part ' + KEY_REGEX_MSG,
        'spec.selector.matchExpressions[3].values[1]: Invalid value: "-bad": ' + VALUE_REGEX_MSG,
    ]
    assert LabelSelector.validate(None) == []
    assert LabelSelector.validate({"matchLabels": {"app": "web"}}) == []
    assert [e.message for e in LabelSelector.validate({"matchExpressions": "x"})] == [
        'matchExpressions: Invalid value: "x": must be a list'
    ]


# Field selectors ---------------------------------------------------------------------

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "trainer-0", "namespace": "team-a"},
    "spec": {"restartPolicy": "Never", "schedulerName": "default-scheduler"},
    "status": {"phase": "Pending"},
}
BOUND_POD = {
    **POD,
    "spec": {**POD["spec"], "nodeName": "node-1", "hostNetwork": True},
    "status": {"phase": "Running", "podIPs": [{"ip": "127.0.1.5"}], "podIP": "127.0.1.5"},
}


@pytest.mark.parametrize(
    ("text", "obj", "expected"),
    [
        ("spec.nodeName=", POD, True),
        ("spec.nodeName=", BOUND_POD, False),
        ("spec.nodeName!=", BOUND_POD, True),
        ("spec.nodeName==node-1", BOUND_POD, True),
        ("status.phase!=Succeeded,status.phase!=Failed", POD, True),
        ("metadata.name=trainer-0,metadata.namespace=team-a", POD, True),
        ("metadata.namespace=team-b", POD, False),
        ("spec.hostNetwork=false", POD, True),
        ("spec.hostNetwork=true", BOUND_POD, True),
        ("status.podIP=127.0.1.5", BOUND_POD, True),
        ("status.podIP=", POD, True),
        ("spec.restartPolicy=Never", POD, True),
        ("", POD, True),
    ],
)
def test_field_selector_matches_pods_like_kubernetes(
    text: str, obj: dict[str, Any], expected: bool
) -> None:
    assert FieldSelector.parse(text).matches(obj) is expected


def test_field_selector_reads_the_computed_fields_of_other_kinds() -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns"},
        "reason": "Scheduled",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
    }
    assert FieldSelector.parse(
        "involvedObject.kind=Pod,involvedObject.name=p,reason=Scheduled,type=Normal"
    ).matches(event)
    assert FieldSelector.parse("source=default-scheduler").matches(event)
    event2 = {**event, "source": {}, "reportingComponent": "kubelet"}
    assert field_value(event2, "source") == "kubelet"

    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {}}
    assert FieldSelector.parse("spec.unschedulable=false").matches(node)
    job = {"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 3}}
    assert FieldSelector.parse("status.successful=3").matches(job)
    assert field_value({"apiVersion": "batch/v1", "kind": "Job"}, "status.successful") == "0"
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "status": {"replicas": 2}}
    assert FieldSelector.parse("status.replicas=2").matches(rs)
    assert field_value({"apiVersion": "apps/v1", "kind": "ReplicaSet"}, "status.replicas") == "0"
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque"}
    assert FieldSelector.parse("type=Opaque").matches(secret)


def test_field_values_render_scalars_and_treat_missing_as_empty() -> None:
    obj = {"kind": "Thing", "spec": {"on": True, "n": 3, "f": 2.0, "half": 0.5, "list": [1]}}
    assert field_value(obj, "spec.on") == "true"
    assert field_value(obj, "spec.n") == "3"
    assert field_value(obj, "spec.f") == "2"
    assert field_value(obj, "spec.half") == "0.5"
    assert field_value(obj, "spec.list") == ""
    assert field_value(obj, "spec.missing") == ""
    assert field_value(obj, "spec.n.deeper") == ""
    assert field_value(obj, "status.phase") == ""


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("metadata.name=foo", "metadata.name=foo"),
        ("a==b", "a=b"),
        (
            "status.phase!=Running,spec.restartPolicy=Always",
            "spec.restartPolicy=Always,status.phase!=Running",
        ),
        ("a=b,", "a=b"),
        (r"a=x\,y\=z\\", r"a=x\,y\=z\\"),
        ("", ""),
    ],
)
def test_field_selector_str_is_sorted_and_escaped(text: str, canonical: str) -> None:
    assert str(FieldSelector.parse(text)) == canonical


def test_field_selector_unescapes_values() -> None:
    (requirement,) = FieldSelector.parse(r"metadata.name=x\,y\=z\\").requirements
    assert requirement == FieldRequirement("metadata.name", Operator.EQUALS, "x,y=z\\")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "invalid selector: 'a'; can't understand 'a'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a=b,c=d,e", "invalid selector: 'a=b,c=d,e'; can't understand 'e'"),
        (r"a=b\x", r"invalid field selector: invalid escape sequence: \x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_malformed_field_selectors_raise_bad_request_with_kubernetes_message(
    text: str, message: str
) -> None:
    with pytest.raises(BadRequest) as err:
        FieldSelector.parse(text)
    assert err.value.message == message


def test_field_selector_helpers() -> None:
    selector = FieldSelector.parse("spec.nodeName=n1,status.phase!=Failed,spec.nodeName=n2")
    assert selector.equality_fields() == {"spec.nodeName": "n1"}
    assert selector.fields() == frozenset({"spec.nodeName", "status.phase"})
    assert FieldSelector.parse("") is FieldSelector.everything()
    assert FieldSelector.everything().is_empty()
    assert FieldSelector.parse("a=b") is FieldSelector.parse("a=b")
    assert selector.matches_fields({"spec.nodeName": "n1", "status.phase": "Running"}) is False
    assert FieldSelector.parse("status.phase!=Failed").matches_fields({})
    assert pickle.loads(pickle.dumps(selector)) == selector
    with pytest.raises(ValueError, match="only = and !="):
        FieldRequirement("a", Operator.IN, "b")


def test_supported_fields_follow_kubernetes_tables() -> None:
    pod = supported_fields("", "Pod")
    assert {"metadata.name", "metadata.namespace", "spec.nodeName", "spec.hostNetwork"} <= pod
    assert {"status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"} <= pod
    assert supported_fields("", "Node") == {"metadata.name", "spec.unschedulable"}
    assert supported_fields("", "Namespace") == {"metadata.name", "status.phase"}
    assert "involvedObject.uid" in supported_fields("", "Event")
    assert "source" in supported_fields("", "Event")
    assert supported_fields("", "Secret") == {"metadata.name", "metadata.namespace", "type"}
    assert "status.replicas" in supported_fields("apps", "ReplicaSet")
    assert "status.successful" in supported_fields("batch", "Job")
    assert supported_fields("", "ConfigMap") == {"metadata.name", "metadata.namespace"}
    assert supported_fields(
        "kubeflow.org", "TFJob", (".spec.runPolicy.suspend",), builtin=False
    ) == {"metadata.name", "metadata.namespace", "spec.runPolicy.suspend"}
    assert supported_fields(
        "kubeflow.org", "ClusterThing", (), builtin=False, namespaced=False
    ) == {"metadata.name"}


def test_check_supported_rejects_unknown_fields_with_kubernetes_message() -> None:
    FieldSelector.parse("spec.nodeName=,status.phase=Running").check_supported(
        supported_fields("", "Pod")
    )
    with pytest.raises(BadRequest) as err:
        FieldSelector.parse("metadata.name=a,spec.containers=x").check_supported(
            supported_fields("", "Pod")
        )
    assert err.value.message == "field label not supported: spec.containers"
    with pytest.raises(BadRequest) as err:
        FieldSelector.parse("metadata.namespace=x").check_supported(supported_fields("", "Node"))
    assert err.value.message == "field label not supported: metadata.namespace"


# Properties ------------------------------------------------------------------------------

KEYS = ["a", "b", "app", "in", "notin", "example.com/tier", "x-y_z.w"]
VALUES = ["", "a", "b", "in", "notin", "1", "10"]
NUMBERS = ["0", "1", "10", "007"]

keys = st.sampled_from(KEYS)
label_sets = st.dictionaries(keys, st.sampled_from([*VALUES, "x", "-3"]), max_size=len(KEYS))


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key = draw(keys)
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        values: tuple[str, ...] = ()
    elif op in (Operator.IN, Operator.NOT_IN):
        values = tuple(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3)))
    elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        values = (draw(st.sampled_from(NUMBERS)),)
    else:
        values = (draw(st.sampled_from(VALUES)),)
    return Requirement(key, op, values)


selectors = st.lists(requirements(), max_size=4).map(LabelSelector)


@PROPERTY
@given(selectors, st.lists(label_sets, min_size=1, max_size=5))
def test_parsing_the_string_form_gives_a_selector_that_matches_the_same(
    selector: LabelSelector, label_dicts: list[dict[str, str]]
) -> None:
    again = LabelSelector.parse(str(selector))
    assert again == selector
    for labels in label_dicts:
        assert again.matches(labels) == selector.matches(labels)


_EXPRESSION_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "", "DoesNotExist": "!"}


@st.composite
def metav1_selectors(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A metav1.LabelSelector dict and the equivalent selector text."""
    match_labels = draw(st.dictionaries(keys, st.sampled_from(VALUES), max_size=3))
    terms = [f"{k}={v}" for k, v in match_labels.items()]
    expressions = []
    for _ in range(draw(st.integers(0, 3))):
        key = draw(keys)
        operator = draw(st.sampled_from(sorted(_EXPRESSION_OPERATORS)))
        if operator in ("In", "NotIn"):
            values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3))
            expressions.append({"key": key, "operator": operator, "values": values})
            # Written once each: like Kubernetes, the parser rejects "(,,)".
            listed = ", ".join(sorted(set(values)))
            terms.append(f"{key} {_EXPRESSION_OPERATORS[operator]} ({listed})")
        else:
            expressions.append({"key": key, "operator": operator})
            terms.append(f"{_EXPRESSION_OPERATORS[operator]}{key}")
    return {"matchLabels": match_labels, "matchExpressions": expressions}, ",".join(terms)


@PROPERTY
@given(metav1_selectors(), st.lists(label_sets, min_size=1, max_size=5))
def test_from_dict_and_the_equivalent_string_agree(
    pair: tuple[dict[str, Any], str], label_dicts: list[dict[str, str]]
) -> None:
    as_dict, as_text = pair
    structured, parsed = LabelSelector.from_dict(as_dict), LabelSelector.parse(as_text)
    assert structured == parsed
    assert LabelSelector.validate(as_dict) == []
    for labels in label_dicts:
        assert structured.matches(labels) == parsed.matches(labels)


@PROPERTY
@given(
    keys,
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=3),
    label_sets,
    st.sampled_from(VALUES),
)
def test_not_in_and_not_equals_negate_in_and_equals_when_the_key_is_present(
    key: str, values: list[str], labels: dict[str, str], value: str
) -> None:
    labels = {**labels, key: value}
    is_in = Requirement(key, Operator.IN, tuple(values))
    not_in = Requirement(key, Operator.NOT_IN, tuple(values))
    assert not_in.matches(labels) is not is_in.matches(labels)
    equals = Requirement(key, Operator.EQUALS, (values[0],))
    not_equals = Requirement(key, Operator.NOT_EQUALS, (values[0],))
    assert not_equals.matches(labels) is not equals.matches(labels)
    # Without the key, the negative operators match and the positive ones do not.
    del labels[key]
    assert not_in.matches(labels) and not_equals.matches(labels)
    assert not is_in.matches(labels) and not equals.matches(labels)


@PROPERTY
@given(selectors, label_sets)
def test_matched_label_sets_carry_the_equality_labels(
    selector: LabelSelector, labels: dict[str, str]
) -> None:
    if selector.matches(labels):
        assert selector.equality_labels().items() <= labels.items()


@PROPERTY
@given(st.text(), st.sampled_from([Operator.EQUALS, Operator.NOT_EQUALS]))
def test_field_selector_values_round_trip_through_escaping(value: str, op: Operator) -> None:
    assert unescape_value(escape_value(value)) == value
    selector = FieldSelector([FieldRequirement("metadata.name", op, value)])
    again = FieldSelector.parse(str(selector))
    assert again == selector
    assert again.requirements[0].value == value
    obj = {"metadata": {"name": value}}
    assert again.matches(obj) is (op is Operator.EQUALS)
