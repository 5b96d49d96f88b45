"""What Kubernetes checks and defaults in Go code for built-in kinds.

A built-in kind's OpenAPI schema says little: which fields exist and their
types. The rest lives in Go: ``ValidatePod``, ``ValidateDeployment``,
``SetDefaults_Pod`` ... This module holds the part of it learners run
into, with Kubernetes' field paths and words, as plain functions over dicts:

- :func:`validate_metadata` (``ValidateObjectMeta``): name rules per kind
  (:func:`name_rule_for`), labels, annotations;
- :func:`validate_builtin`: one small function per kind, found through the
  :data:`VALIDATORS` registry, returning :class:`~sandbox.api.errors.FieldError`
  lists (``spec.replicas: Invalid value: -1: must be greater than or equal to 0``);
- :func:`default_metadata` and :func:`default_builtin` (registry
  :data:`DEFAULTERS`): the defaults users see in ``kubectl get -o yaml``.

Data flow inside the store, for a create (Kubernetes' order)::

    default_metadata -> default_builtin -> schema.validate -> validate_metadata
        -> validate_builtin -> Invalid.of(kind, name, errors) if any

The functions tolerate values of the wrong type (the schema check reports
those) and never raise on odd input. Updates: run the same functions with
``create=False`` for defaults; update-only rules (immutable fields) are not
here.

Fidelity notes: values Go prints with ``%#v`` use
:mod:`sandbox.api.schema.gofmt`; struct values (a whole selector, a
version list) are shown in a shortened Go form. The Pod admission plugins'
effects (service account, priority) are folded into Pod defaults;
not-ready/unreachable tolerations, IP allocation and a Service's
``clusterIP`` are not set here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox.api import cron
from sandbox.api.errors import FieldError
from sandbox.api.kinds import split_api_version
from sandbox.api.qos import qos_class
from sandbox.api.schema.gofmt import GoValue, go_string_map
from sandbox.api.schema.structural import validate_structural
from sandbox.api.selectors import LabelSelector, label_key_errors, label_value_errors

__all__ = [
    "DEFAULTERS",
    "NAME_RULES",
    "VALIDATORS",
    "dedupe",
    "default_builtin",
    "default_metadata",
    "name_errors",
    "name_rule_for",
    "validate_builtin",
    "validate_metadata",
]

Obj = dict[str, Any]
Validator = Callable[[Obj], list[FieldError]]
Defaulter = Callable[[Obj, bool], None]

# Small readers that never fail on wrong types ------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _group_kind(obj: Mapping[str, Any]) -> tuple[str, str]:
    group, _ = split_api_version(_str(obj.get("apiVersion")))
    return group, _str(obj.get("kind"))


def dedupe(errors: Iterable[FieldError]) -> list[FieldError]:
    """Drop errors whose message repeats an earlier one (``ErrorList.ToAggregate`` does)."""
    seen: set[str] = set()
    out: list[FieldError] = []
    for error in errors:
        if error.message not in seen:
            seen.add(error.message)
            out.append(error)
    return out


# Names (k8s.io/apimachinery/pkg/util/validation) ----------------------------------

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(_DNS1035_LABEL_FMT)
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(_CONFIG_KEY_FMT)
_PORT_NAME_CHARS = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile("[a-z]")
_PERCENT_FMT = "[0-9]+%"
_PERCENT = re.compile(_PERCENT_FMT)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``validation.RegexError``, including Go's double space between examples."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_label_errors(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1123_LABEL.fullmatch(value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character",
                _DNS1123_LABEL_FMT,
                "my-name",
                "123-abc",
            )
        )
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
                _DNS1123_SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1035_LABEL.fullmatch(value):
        errs.append(
            _regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character",
                _DNS1035_LABEL_FMT,
                "my-name",
                "abc-123",
            )
        )
    return errs


def path_segment_errors(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


_NAME_CHECKS: dict[str, Callable[[str], list[str]]] = {
    "subdomain": dns1123_subdomain_errors,
    "label": dns1123_label_errors,
    "dns1035": dns1035_label_errors,
    "path": path_segment_errors,
}

_RBAC = "rbac.authorization.k8s.io"
#: (group, kind) -> name rule; kinds not listed use "subdomain". "none": no name needed.
NAME_RULES: dict[tuple[str, str], str] = {
    ("", "Namespace"): "label",
    ("", "Service"): "dns1035",
    (_RBAC, "Role"): "path",
    (_RBAC, "ClusterRole"): "path",
    (_RBAC, "RoleBinding"): "path",
    (_RBAC, "ClusterRoleBinding"): "path",
    ("authorization.k8s.io", "SelfSubjectAccessReview"): "none",
    ("authorization.k8s.io", "SelfSubjectRulesReview"): "none",
    ("authorization.k8s.io", "SubjectAccessReview"): "none",
    ("authentication.k8s.io", "TokenReview"): "none",
}


def name_rule_for(group: str, kind: str) -> str:
    """Which rule a kind's ``metadata.name`` follows: subdomain, label, dns1035, path or none."""
    return NAME_RULES.get((group, kind), "subdomain")


def name_errors(name: str, rule: str, *, prefix: bool = False) -> list[str]:
    """Why ``name`` breaks ``rule``; ``prefix`` checks a ``generateName`` (trailing '-' allowed)."""
    check = _NAME_CHECKS.get(rule)
    if check is None:
        return []
    if prefix and rule != "path" and name.endswith("-"):
        name = name[:-1]
    return check(name)


# Metadata ----------------------------------------------------------------------

_TOTAL_ANNOTATION_SIZE = 256 * 1024


def _labels_errors(labels: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for raw_key, value in _dict(labels).items():
        key = str(raw_key)  # YAML may hand over a number as a key
        errors.extend(
            FieldError("Invalid", path, value=key, detail=m) for m in label_key_errors(key)
        )
        if isinstance(value, str):
            errors.extend(
                FieldError("Invalid", path, value=value, detail=m)
                for m in label_value_errors(value)
            )
    return errors


def _annotations_errors(annotations: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    size = 0
    for raw_key, value in _dict(annotations).items():
        key = str(raw_key)
        # Annotation keys are qualified names in which case does not matter.
        errors.extend(
            FieldError("Invalid", path, value=key, detail=m) for m in label_key_errors(key.lower())
        )
        size += len(key) + len(_str(value))
    if size > _TOTAL_ANNOTATION_SIZE:
        errors.append(
            FieldError(
                "TooLong",
                path,
                value="",
                detail=f"must have at most {_TOTAL_ANNOTATION_SIZE} bytes",
            )
        )
    return errors


def validate_metadata(
    obj: Mapping[str, Any], *, namespaced: bool, name_rule: str = "subdomain"
) -> list[FieldError]:
    """``ValidateObjectMeta``: name or generateName, namespace, labels, annotations."""
    meta = _dict(obj.get("metadata"))
    errors: list[FieldError] = []
    if name_rule != "none":
        generate = _str(meta.get("generateName"))
        if generate:
            errors.extend(
                FieldError("Invalid", "metadata.generateName", value=generate, detail=m)
                for m in name_errors(generate, name_rule, prefix=True)
            )
        name = _str(meta.get("name"))
        if not name:
            if not generate:
                errors.append(
                    FieldError(
                        "Required", "metadata.name", detail="name or generateName is required"
                    )
                )
        else:
            errors.extend(
                FieldError("Invalid", "metadata.name", value=name, detail=m)
                for m in name_errors(name, name_rule)
            )
    namespace = _str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            errors.append(FieldError("Required", "metadata.namespace"))
        else:
            errors.extend(
                FieldError("Invalid", "metadata.namespace", value=namespace, detail=m)
                for m in dns1123_label_errors(namespace)
            )
    elif namespace:
        errors.append(
            FieldError("Forbidden", "metadata.namespace", detail="not allowed on this type")
        )
    errors.extend(_labels_errors(meta.get("labels"), "metadata.labels"))
    errors.extend(_annotations_errors(meta.get("annotations"), "metadata.annotations"))
    return errors


def default_metadata(obj: Obj, *, namespaced: bool) -> None:
    """Clear ``metadata.namespace`` on cluster-scoped kinds, as the API server does.

    Kubernetes ignores a namespace sent with a cluster-scoped object (the
    request path has none, and ``BeforeCreate`` clears it) rather than
    rejecting it; :func:`validate_metadata` would otherwise say Forbidden.
    """
    meta = obj.get("metadata")
    if not namespaced and isinstance(meta, dict) and "namespace" in meta:
        del meta["namespace"]


# Shared field checks ---------------------------------------------------------------

_NEGATIVE = "must be greater than or equal to 0"


def _nonnegative(value: Any, path: str) -> list[FieldError]:
    number = _int(value)
    if number is not None and number < 0:
        return [FieldError("Invalid", path, value=number, detail=_NEGATIVE)]
    return []


def _port_number(value: Any, path: str) -> list[FieldError]:
    number = _int(value)
    if number is not None and not 1 <= number <= 65535:
        return [
            FieldError(
                "Invalid", path, value=number, detail="must be between 1 and 65535, inclusive"
            )
        ]
    return []


def port_name_errors(name: str) -> list[str]:
    """``IsValidPortName``."""
    errs = [_max_len(15)] if len(name) > 15 else []
    if not _PORT_NAME_CHARS.fullmatch(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _enum(
    value: Any, path: str, allowed: tuple[str, ...], *, required: bool = True
) -> list[FieldError]:
    if value in (None, ""):
        return [FieldError("Required", path)] if required else []
    if value not in allowed:
        return [FieldError("NotSupported", path, value=value, supported=allowed)]
    return []


def _protocol(value: Any, path: str) -> list[FieldError]:
    return _enum(value, path, ("SCTP", "TCP", "UDP"))


# Pods ----------------------------------------------------------------------------

_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _container_ports(ports: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(_list(ports)):
        p = f"{path}[{i}]"
        port = _dict(port)
        name = _str(port.get("name"))
        if name:
            msgs = port_name_errors(name)
            if msgs:
                errors.extend(
                    FieldError("Invalid", f"{p}.name", value=name, detail=m) for m in msgs
                )
            elif name in names:
                errors.append(FieldError("Duplicate", f"{p}.name", value=name))
            names.add(name)
        if _int(port.get("containerPort")) in (None, 0):
            errors.append(FieldError("Required", f"{p}.containerPort"))
        else:
            errors.extend(_port_number(port.get("containerPort"), f"{p}.containerPort"))
        if _int(port.get("hostPort")):
            errors.extend(_port_number(port.get("hostPort"), f"{p}.hostPort"))
        errors.extend(_protocol(port.get("protocol"), f"{p}.protocol"))
    return errors


def _quantity_tools() -> tuple[Callable[[Any], Any], Callable[[Any], str]] | None:
    try:
        from sandbox.api.quantity import canonicalize, parse_quantity
    except ImportError:
        return None
    return parse_quantity, canonicalize


def _overcommit_allowed(resource: str) -> bool:
    """Native resources (no domain, or ``kubernetes.io/``) other than hugepages."""
    native = "/" not in resource or "kubernetes.io/" in resource
    return native and not resource.startswith("hugepages-")


def _resources(resources: Any, path: str) -> list[FieldError]:
    resources = _dict(resources)
    limits = _dict(resources.get("limits"))
    requests = _dict(resources.get("requests"))
    tools = _quantity_tools()
    if tools is None or not limits or not requests:
        return []
    parse, canonical = tools
    errors: list[FieldError] = []
    for name, request in requests.items():
        if name not in limits:
            continue
        try:
            want, cap = parse(request), parse(limits[name])
        except (ValueError, TypeError):
            continue  # the schema check reports unparseable quantities
        if want != cap and not _overcommit_allowed(name):
            word = "equal to"
        elif want > cap:
            word = "less than or equal to"
        else:
            continue
        detail = f"must be {word} {name} limit of {canonical(limits[name])}"
        errors.append(
            FieldError("Invalid", f"{path}.requests", value=canonical(request), detail=detail)
        )
    return errors


def _container(ctr: Any, path: str, volumes: set[str], names: set[str]) -> list[FieldError]:
    ctr = _dict(ctr)
    errors: list[FieldError] = []
    name = _str(ctr.get("name"))
    if not name:
        errors.append(FieldError("Required", f"{path}.name"))
    else:
        msgs = dns1123_label_errors(name)
        errors.extend(FieldError("Invalid", f"{path}.name", value=name, detail=m) for m in msgs)
        if not msgs and name in names:
            errors.append(FieldError("Duplicate", f"{path}.name", value=name))
        names.add(name)
    if not _str(ctr.get("image")):
        errors.append(FieldError("Required", f"{path}.image"))
    if "ports" in ctr:
        errors.extend(_container_ports(ctr["ports"], f"{path}.ports"))
    mount_paths: set[str] = set()
    for i, mount in enumerate(_list(ctr.get("volumeMounts"))):
        mount = _dict(mount)
        p = f"{path}.volumeMounts[{i}]"
        mount_name = _str(mount.get("name"))
        if not mount_name:
            errors.append(FieldError("Required", f"{p}.name"))
        elif mount_name not in volumes:
            errors.append(FieldError("NotFound", f"{p}.name", value=mount_name))
        mount_path = _str(mount.get("mountPath"))
        if not mount_path:
            errors.append(FieldError("Required", f"{p}.mountPath"))
        elif mount_path in mount_paths:
            errors.append(
                FieldError("Invalid", f"{p}.mountPath", value=mount_path, detail="must be unique")
            )
        mount_paths.add(mount_path)
    if "resources" in ctr:
        errors.extend(_resources(ctr["resources"], f"{path}.resources"))
    return errors


def _tolerations(tolerations: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, tol in enumerate(_list(tolerations)):
        tol = _dict(tol)
        p = f"{path}[{i}]"
        key, operator = _str(tol.get("key")), _str(tol.get("operator"))
        if key:
            errors.extend(
                FieldError("Invalid", f"{p}.key", value=key, detail=m)
                for m in label_key_errors(key)
            )
        elif operator != "Exists":
            errors.append(
                FieldError(
                    "Invalid",
                    f"{p}.operator",
                    value=operator,
                    detail='operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if operator not in ("", "Equal", "Exists"):
            errors.append(
                FieldError(
                    "NotSupported", f"{p}.operator", value=operator, supported=("Equal", "Exists")
                )
            )
        effect = _str(tol.get("effect"))
        if effect and effect not in _TAINT_EFFECTS:
            errors.append(
                FieldError("NotSupported", f"{p}.effect", value=effect, supported=_TAINT_EFFECTS)
            )
    return errors


def _pod_spec(spec: Any, path: str) -> list[FieldError]:
    """``ValidatePodSpec``, the parts learners hit."""
    spec = _dict(spec)
    errors: list[FieldError] = []
    volumes: set[str] = set()
    for i, volume in enumerate(_list(spec.get("volumes"))):
        p = f"{path}.volumes[{i}].name"
        name = _str(_dict(volume).get("name"))
        if not name:
            errors.append(FieldError("Required", p))
            continue
        msgs = dns1123_label_errors(name)
        errors.extend(FieldError("Invalid", p, value=name, detail=m) for m in msgs)
        if not msgs and name in volumes:
            errors.append(FieldError("Duplicate", p, value=name))
        volumes.add(name)
    containers = _list(spec.get("containers"))
    names: set[str] = set()
    if not containers:
        errors.append(FieldError("Required", f"{path}.containers"))
    for i, ctr in enumerate(containers):
        errors.extend(_container(ctr, f"{path}.containers[{i}]", volumes, names))
    for i, ctr in enumerate(_list(spec.get("initContainers"))):
        errors.extend(_container(ctr, f"{path}.initContainers[{i}]", volumes, names))
    policy = spec.get("restartPolicy")
    if policy not in (None, ""):
        errors.extend(_enum(policy, f"{path}.restartPolicy", _RESTART_POLICIES))
    errors.extend(_enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy", _DNS_POLICIES, required=False))
    errors.extend(_labels_errors(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    errors.extend(_tolerations(spec.get("tolerations"), f"{path}.tolerations"))
    errors.extend(_nonnegative(spec.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds"))
    return errors


def _pod_template(template: Any, path: str) -> list[FieldError]:
    """``ValidatePodTemplateSpec``: template labels and annotations, then the pod spec."""
    template = _dict(template)
    meta = _dict(template.get("metadata"))
    errors = _labels_errors(meta.get("labels"), f"{path}.metadata.labels")
    errors.extend(_annotations_errors(meta.get("annotations"), f"{path}.metadata.annotations"))
    errors.extend(_pod_spec(template.get("spec"), f"{path}.spec"))
    return errors


def _validate_pod(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors = _pod_spec(spec, "spec")
    if not spec.get("restartPolicy"):
        errors.append(FieldError("Required", "spec.restartPolicy"))
    return errors


# Workloads ---------------------------------------------------------------------------


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    match_labels = _dict(selector.get("matchLabels"))
    if not selector.get("matchExpressions"):
        # The common case, without building a selector object.
        return all(labels.get(k) == v for k, v in match_labels.items())
    try:
        return LabelSelector.from_dict(selector).matches(
            {k: v for k, v in labels.items() if isinstance(v, str)}
        )
    except Exception:
        return True  # an invalid selector is reported by LabelSelector.validate


def _selector_text(selector: Mapping[str, Any]) -> GoValue:
    """A selector as Go prints the struct (its expressions abbreviated)."""
    labels = selector.get("matchLabels")
    shown_labels = (
        go_string_map(labels).text if isinstance(labels, dict) else "map[string]string(nil)"
    )
    exprs = "{...}" if _list(selector.get("matchExpressions")) else "(nil)"
    return GoValue(
        f"&v1.LabelSelector{{MatchLabels:{shown_labels}, MatchExpressions:[]v1.LabelSelectorRequirement{exprs}}}"
    )


def _selector_and_template(
    spec: Mapping[str, Any], noun: str, *, required: bool = True
) -> list[FieldError]:
    """Selector present and non-empty, and matching the template's labels."""
    errors: list[FieldError] = []
    selector = spec.get("selector")
    template_labels = _dict(_dict(_dict(spec.get("template")).get("metadata")).get("labels"))
    if selector is None:
        if required:
            errors.append(FieldError("Required", "spec.selector"))
        return errors
    if not isinstance(selector, dict):
        return errors
    errors.extend(LabelSelector.validate(selector, path="spec.selector"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errors.append(
            FieldError(
                "Invalid",
                "spec.selector",
                value=_selector_text(selector),
                detail=f"empty selector is invalid for {noun}",
            )
        )
    elif not _selector_matches(selector, template_labels):
        errors.append(
            FieldError(
                "Invalid",
                "spec.template.metadata.labels",
                value=go_string_map(template_labels),
                detail="`selector` does not match template `labels`",
            )
        )
    return errors


def _always_restarts(spec: Mapping[str, Any]) -> list[FieldError]:
    policy = _str(_dict(_dict(spec.get("template")).get("spec")).get("restartPolicy"))
    if policy and policy != "Always":
        return [
            FieldError(
                "NotSupported",
                "spec.template.spec.restartPolicy",
                value=policy,
                supported=("Always",),
            )
        ]
    return []


def _replicated(obj: Obj, noun: str) -> list[FieldError]:
    """What Deployment, ReplicaSet and StatefulSet share."""
    spec = _dict(obj.get("spec"))
    errors = _nonnegative(spec.get("replicas"), "spec.replicas")
    errors.extend(_selector_and_template(spec, noun))
    errors.extend(_pod_template(spec.get("template"), "spec.template"))
    errors.extend(_always_restarts(spec))
    errors.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errors.extend(_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    return errors


def _int_or_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        if not _PERCENT.fullmatch(value):
            detail = _regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'",
                _PERCENT_FMT,
                "1%",
                "93%",
            )
            return [FieldError("Invalid", path, value=value, detail=detail)]
        return []
    return _nonnegative(value, path)


def _is_zero(value: Any) -> bool:
    return value in (0, "0%")


def _validate_deployment(obj: Obj) -> list[FieldError]:
    errors = _replicated(obj, "deployment")
    spec = _dict(obj.get("spec"))
    strategy = _dict(spec.get("strategy"))
    kind = _str(strategy.get("type"))
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate" and rolling is not None:
        errors.append(
            FieldError(
                "Forbidden",
                "spec.strategy.rollingUpdate",
                detail="may not be specified when strategy `type` is 'Recreate'",
            )
        )
    elif kind == "RollingUpdate" and isinstance(rolling, dict):
        base = "spec.strategy.rollingUpdate"
        surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
        errors.extend(_int_or_percent(unavailable, f"{base}.maxUnavailable"))
        errors.extend(_int_or_percent(surge, f"{base}.maxSurge"))
        if _is_zero(surge) and _is_zero(unavailable):
            errors.append(
                FieldError(
                    "Invalid",
                    f"{base}.maxUnavailable",
                    value=unavailable,
                    detail="may not be 0 when `maxSurge` is 0",
                )
            )
    elif kind not in ("", "RollingUpdate", "Recreate"):
        errors.append(
            FieldError(
                "NotSupported",
                "spec.strategy.type",
                value=kind,
                supported=("Recreate", "RollingUpdate"),
            )
        )
    deadline = _int(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        errors.extend(_nonnegative(deadline, "spec.progressDeadlineSeconds"))
        if deadline <= (_int(spec.get("minReadySeconds")) or 0):
            errors.append(
                FieldError(
                    "Invalid",
                    "spec.progressDeadlineSeconds",
                    value=deadline,
                    detail="must be greater than minReadySeconds",
                )
            )
    return errors


def _validate_replicaset(obj: Obj) -> list[FieldError]:
    # Kubernetes' own message says "deployment" here too.
    return _replicated(obj, "deployment")


def _validate_statefulset(obj: Obj) -> list[FieldError]:
    errors = _replicated(obj, "statefulset")
    spec = _dict(obj.get("spec"))
    errors.extend(
        _enum(
            spec.get("podManagementPolicy"),
            "spec.podManagementPolicy",
            ("OrderedReady", "Parallel"),
            required=False,
        )
    )
    kind = _dict(spec.get("updateStrategy")).get("type")
    errors.extend(
        _enum(kind, "spec.updateStrategy.type", ("OnDelete", "RollingUpdate"), required=False)
    )
    return errors


def _validate_daemonset(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors = _selector_and_template(spec, "daemonset")
    errors.extend(_pod_template(spec.get("template"), "spec.template"))
    errors.extend(_always_restarts(spec))
    kind = _dict(spec.get("updateStrategy")).get("type")
    errors.extend(
        _enum(kind, "spec.updateStrategy.type", ("OnDelete", "RollingUpdate"), required=False)
    )
    errors.extend(_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errors.extend(_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    return errors


# Jobs and CronJobs ----------------------------------------------------------------------


def _job_spec(spec: Any, path: str) -> list[FieldError]:
    """``ValidateJobSpec`` at ``path`` (``spec``, or ``spec.jobTemplate.spec`` of a CronJob)."""
    spec = _dict(spec)
    errors: list[FieldError] = []
    for name in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        errors.extend(_nonnegative(spec.get(name), f"{path}.{name}"))
    mode = spec.get("completionMode")
    errors.extend(_enum(mode, f"{path}.completionMode", ("NonIndexed", "Indexed"), required=False))
    if mode == "Indexed" and spec.get("completions") is None:
        errors.append(
            FieldError("Required", f"{path}.completions", detail="when completion mode is Indexed")
        )
    template = _dict(spec.get("template"))
    if spec.get("manualSelector") is True or spec.get("selector") is not None:
        labels = _dict(_dict(template.get("metadata")).get("labels"))
        selector = spec.get("selector")
        if selector is None:
            errors.append(FieldError("Required", f"{path}.selector"))
        elif isinstance(selector, dict) and not _selector_matches(selector, labels):
            errors.append(
                FieldError(
                    "Invalid",
                    f"{path}.template.metadata.labels",
                    value=go_string_map(labels),
                    detail="`selector` does not match template `labels`",
                )
            )
    errors.extend(_pod_template(template, f"{path}.template"))
    policy = _dict(template.get("spec")).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errors.append(
            FieldError(
                "Required",
                f"{path}.template.spec.restartPolicy",
                detail='valid values: "OnFailure", "Never"',
            )
        )
    return errors


def _validate_job(obj: Obj) -> list[FieldError]:
    return _job_spec(obj.get("spec"), "spec")


def _validate_cronjob(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors: list[FieldError] = []
    name = _str(_dict(obj.get("metadata")).get("name"))
    if len(name) > 52:
        errors.append(FieldError("Invalid", "metadata.name", value=name, detail=_max_len(52)))
    schedule = _str(spec.get("schedule"))
    if not schedule:
        errors.append(FieldError("Required", "spec.schedule"))
    elif "TZ=" in schedule:
        errors.append(
            FieldError(
                "Invalid",
                "spec.schedule",
                value=schedule,
                detail="cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            )
        )
    else:
        try:
            cron.parse(schedule)  # as Kubernetes' cron.ParseStandard
        except ValueError as exc:
            errors.append(FieldError("Invalid", "spec.schedule", value=schedule, detail=str(exc)))
    errors.extend(_nonnegative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds"))
    errors.extend(
        _enum(
            spec.get("concurrencyPolicy"), "spec.concurrencyPolicy", ("Allow", "Forbid", "Replace")
        )
    )
    errors.extend(_job_spec(_dict(spec.get("jobTemplate")).get("spec"), "spec.jobTemplate.spec"))
    errors.extend(
        _nonnegative(spec.get("successfulJobsHistoryLimit"), "spec.successfulJobsHistoryLimit")
    )
    errors.extend(_nonnegative(spec.get("failedJobsHistoryLimit"), "spec.failedJobsHistoryLimit"))
    return errors


# Services, config, namespaces, nodes --------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_NODE_PORTS = (30000, 32767)


def _validate_service(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors: list[FieldError] = []
    kind = spec.get("type") or "ClusterIP"
    errors.extend(_enum(kind, "spec.type", _SERVICE_TYPES))
    ports = _list(spec.get("ports"))
    headless = spec.get("clusterIP") == "None"
    if kind == "ExternalName":
        if not _str(spec.get("externalName")):
            errors.append(FieldError("Required", "spec.externalName"))
    elif not ports and not headless:
        errors.append(FieldError("Required", "spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        port = _dict(port)
        p = f"spec.ports[{i}]"
        name = _str(port.get("name"))
        if len(ports) > 1 and not name:
            errors.append(FieldError("Required", f"{p}.name"))
        elif name:
            errors.extend(
                FieldError("Invalid", f"{p}.name", value=name, detail=m)
                for m in dns1123_label_errors(name)
            )
            if name in names:
                errors.append(FieldError("Duplicate", f"{p}.name", value=name))
            names.add(name)
        errors.extend(_port_number(port.get("port"), f"{p}.port"))
        errors.extend(_protocol(port.get("protocol"), f"{p}.protocol"))
        target = port.get("targetPort")
        if isinstance(target, str) and target:
            errors.extend(
                FieldError("Invalid", f"{p}.targetPort", value=target, detail=m)
                for m in port_name_errors(target)
            )
        elif target is not None:
            errors.extend(_port_number(target, f"{p}.targetPort"))
        node_port = _int(port.get("nodePort"))
        if node_port:
            if kind == "ClusterIP":
                errors.append(
                    FieldError(
                        "Forbidden",
                        f"{p}.nodePort",
                        detail="may not be used when `type` is 'ClusterIP'",
                    )
                )
            elif not _NODE_PORTS[0] <= node_port <= _NODE_PORTS[1]:
                errors.append(
                    FieldError(
                        "Invalid",
                        f"{p}.nodePort",
                        value=node_port,
                        detail="provided port is not in the valid range. The range of valid ports is 30000-32767",
                    )
                )
    errors.extend(
        _enum(
            spec.get("sessionAffinity"),
            "spec.sessionAffinity",
            ("ClientIP", "None"),
            required=False,
        )
    )
    errors.extend(_labels_errors(spec.get("selector"), "spec.selector"))
    return errors


_MAX_CONFIG_SIZE = 1024 * 1024


def config_key_errors(key: str) -> list[str]:
    """``IsConfigMapKey``: what a ConfigMap or Secret data key may be."""
    errs = [_max_len(253)] if len(key) > 253 else []
    if not _CONFIG_KEY.fullmatch(key):
        errs.append(
            _regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                _CONFIG_KEY_FMT,
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key in (".", ".."):
        errs.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _data_keys(obj: Obj, fields: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    for field in fields:
        for key in map(str, _dict(obj.get(field))):
            errors.extend(
                FieldError("Invalid", f"{field}[{key}]", value=key, detail=m)
                for m in config_key_errors(key)
            )
    return errors


def _validate_configmap(obj: Obj) -> list[FieldError]:
    errors = _data_keys(obj, ("data", "binaryData"))
    data, binary = _dict(obj.get("data")), _dict(obj.get("binaryData"))
    for key in data:
        if key in binary:
            errors.append(
                FieldError(
                    "Invalid",
                    f"data[{key}]",
                    value=key,
                    detail="duplicate of key present in binaryData",
                )
            )
    size = sum(len(_str(v)) for v in data.values()) + sum(
        len(_str(v)) * 3 // 4 for v in binary.values()
    )
    if size > _MAX_CONFIG_SIZE:
        errors.append(
            FieldError(
                "TooLong", "", value="", detail=f"must have at most {_MAX_CONFIG_SIZE} bytes"
            )
        )
    return errors


_SECRET_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def _validate_secret(obj: Obj) -> list[FieldError]:
    errors = _data_keys(obj, ("data",))
    data = _dict(obj.get("data"))
    kind = _str(obj.get("type"))
    for key in _SECRET_REQUIRED_KEYS.get(kind, ()):
        if key not in data:
            errors.append(FieldError("Required", f"data[{key}]"))
    if kind == "kubernetes.io/service-account-token":
        annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errors.append(
                FieldError("Required", "metadata.annotations[kubernetes.io/service-account.name]")
            )
    size = sum(len(_str(v)) * 3 // 4 for v in data.values())
    if size > _MAX_CONFIG_SIZE:
        errors.append(
            FieldError(
                "TooLong", "data", value="", detail=f"must have at most {_MAX_CONFIG_SIZE} bytes"
            )
        )
    return errors


def _validate_namespace(obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, finalizer in enumerate(_list(_dict(obj.get("spec")).get("finalizers"))):
        if isinstance(finalizer, str) and "/" not in finalizer and finalizer != "kubernetes":
            errors.append(
                FieldError(
                    "Invalid",
                    f"spec.finalizers[{i}]",
                    value=finalizer,
                    detail="name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errors


def _validate_node(obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, taint in enumerate(_list(_dict(obj.get("spec")).get("taints"))):
        taint = _dict(taint)
        p = f"spec.taints[{i}]"
        key = _str(taint.get("key"))
        errors.extend(
            FieldError("Invalid", f"{p}.key", value=key, detail=m) for m in label_key_errors(key)
        )
        value = _str(taint.get("value"))
        if value:
            errors.extend(
                FieldError("Invalid", f"{p}.value", value=value, detail=m)
                for m in label_value_errors(value)
            )
        errors.extend(_enum(taint.get("effect"), f"{p}.effect", _TAINT_EFFECTS))
    return errors


_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")


def _validate_pvc(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors: list[FieldError] = []
    modes = _list(spec.get("accessModes"))
    if not modes:
        errors.append(
            FieldError("Required", "spec.accessModes", detail="at least 1 access mode is required")
        )
    for mode in modes:
        if mode not in _ACCESS_MODES:
            errors.append(
                FieldError("NotSupported", "spec.accessModes", value=mode, supported=_ACCESS_MODES)
            )
    if "storage" not in _dict(_dict(spec.get("resources")).get("requests")):
        errors.append(FieldError("Required", "spec.resources[storage]"))
    return errors


# RBAC --------------------------------------------------------------------------------


def _rules(obj: Obj, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, rule in enumerate(_list(obj.get("rules"))):
        rule = _dict(rule)
        p = f"rules[{i}]"
        if not _list(rule.get("verbs")):
            errors.append(
                FieldError("Required", f"{p}.verbs", detail="verbs must contain at least one value")
            )
        urls = _list(rule.get("nonResourceURLs"))
        if urls:
            if namespaced:
                errors.append(
                    FieldError(
                        "Invalid",
                        f"{p}.nonResourceURLs",
                        value=GoValue("[]string{" + ", ".join(f'"{u}"' for u in urls) + "}"),
                        detail="namespaced rules cannot apply to non-resource URLs",
                    )
                )
            continue
        if not _list(rule.get("apiGroups")):
            errors.append(
                FieldError(
                    "Required",
                    f"{p}.apiGroups",
                    detail="resource rules must supply at least one api group",
                )
            )
        if not _list(rule.get("resources")):
            errors.append(
                FieldError(
                    "Required",
                    f"{p}.resources",
                    detail="resource rules must supply at least one resource",
                )
            )
    return errors


def _validate_role(obj: Obj) -> list[FieldError]:
    return _rules(obj, namespaced=True)


def _validate_clusterrole(obj: Obj) -> list[FieldError]:
    return _rules(obj, namespaced=False)


def _binding(obj: Obj, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    ref = _dict(obj.get("roleRef"))
    name = _str(ref.get("name"))
    if not name:
        errors.append(FieldError("Required", "roleRef.name"))
    else:
        errors.extend(
            FieldError("Invalid", "roleRef.name", value=name, detail=m)
            for m in path_segment_errors(name)
        )
    if ref.get("apiGroup") != _RBAC:
        errors.append(
            FieldError(
                "NotSupported",
                "roleRef.apiGroup",
                value=_str(ref.get("apiGroup")),
                supported=(_RBAC,),
            )
        )
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind") not in kinds:
        errors.append(
            FieldError("NotSupported", "roleRef.kind", value=_str(ref.get("kind")), supported=kinds)
        )
    for i, subject in enumerate(_list(obj.get("subjects"))):
        subject = _dict(subject)
        p = f"subjects[{i}]"
        subject_name = _str(subject.get("name"))
        if not subject_name:
            errors.append(FieldError("Required", f"{p}.name"))
        kind, group = _str(subject.get("kind")), _str(subject.get("apiGroup"))
        if kind == "ServiceAccount":
            if subject_name:
                errors.extend(
                    FieldError("Invalid", f"{p}.name", value=subject_name, detail=m)
                    for m in dns1123_subdomain_errors(subject_name)
                )
            if group:
                errors.append(
                    FieldError("NotSupported", f"{p}.apiGroup", value=group, supported=("",))
                )
            if not namespaced and not _str(subject.get("namespace")):
                errors.append(FieldError("Required", f"{p}.namespace"))
        elif kind in ("User", "Group"):
            if group != _RBAC:
                errors.append(
                    FieldError("NotSupported", f"{p}.apiGroup", value=group, supported=(_RBAC,))
                )
        else:
            errors.append(
                FieldError(
                    "NotSupported",
                    f"{p}.kind",
                    value=kind,
                    supported=("ServiceAccount", "User", "Group"),
                )
            )
    return errors


def _validate_rolebinding(obj: Obj) -> list[FieldError]:
    return _binding(obj, namespaced=True)


def _validate_clusterrolebinding(obj: Obj) -> list[FieldError]:
    return _binding(obj, namespaced=False)


# CustomResourceDefinitions ---------------------------------------------------------------


def _versions_value(versions: list[Any]) -> GoValue:
    names = ", ".join(f'{{Name:"{_str(_dict(v).get("name"))}", ...}}' for v in versions)
    return GoValue(f"[]apiextensions.CustomResourceDefinitionVersion{{{names}}}")


def _crd_names(names: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    base = "spec.names"
    for field in ("plural", "singular", "kind", "listKind"):
        if not _str(names.get(field)):
            errors.append(FieldError("Required", f"{base}.{field}"))
    for field in ("plural", "singular"):
        value = _str(names.get(field))
        msgs = dns1035_label_errors(value) if value else []
        if msgs:
            errors.append(
                FieldError("Invalid", f"{base}.{field}", value=value, detail=",".join(msgs))
            )
    for field in ("kind", "listKind"):
        value = _str(names.get(field))
        msgs = dns1035_label_errors(value.lower()) if value else []
        if msgs:
            detail = "may have mixed case, but should otherwise match: " + ",".join(msgs)
            errors.append(FieldError("Invalid", f"{base}.{field}", value=value, detail=detail))
    for i, short in enumerate(_list(names.get("shortNames"))):
        msgs = dns1035_label_errors(_str(short))
        if msgs:
            errors.append(
                FieldError("Invalid", f"{base}.shortNames[{i}]", value=short, detail=",".join(msgs))
            )
    kind = _str(names.get("kind"))
    if kind and kind == names.get("listKind"):
        errors.append(
            FieldError(
                "Invalid",
                f"{base}.listKind",
                value=kind,
                detail="kind and listKind may not be the same",
            )
        )
    return errors


def _validate_crd(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    names = _dict(spec.get("names"))
    group = _str(spec.get("group"))
    errors: list[FieldError] = []
    name = _str(_dict(obj.get("metadata")).get("name"))
    plural = _str(names.get("plural"))
    if name and name != f"{plural}.{group}":
        errors.append(
            FieldError(
                "Invalid",
                "metadata.name",
                value=name,
                detail='must be spec.names.plural+"."+spec.group',
            )
        )
    if not group:
        errors.append(FieldError("Required", "spec.group"))
    else:
        errors.extend(
            FieldError("Invalid", "spec.group", value=group, detail=m)
            for m in dns1123_subdomain_errors(group)
        )
        if "." not in group:
            errors.append(
                FieldError(
                    "Invalid",
                    "spec.group",
                    value=group,
                    detail="should be a domain with at least one dot",
                )
            )
    errors.extend(_enum(spec.get("scope"), "spec.scope", ("Cluster", "Namespaced")))
    errors.extend(_crd_names(names))
    versions = _list(spec.get("versions"))
    if not versions:
        errors.append(
            FieldError("Required", "spec.versions", detail="must have at least one version")
        )
    seen: set[str] = set()
    unique = True
    for i, version in enumerate(versions):
        version = _dict(version)
        p = f"spec.versions[{i}]"
        version_name = _str(version.get("name"))
        unique = unique and version_name not in seen
        seen.add(version_name)
        msgs = dns1035_label_errors(version_name)
        if msgs:
            errors.append(
                FieldError("Invalid", f"{p}.name", value=version_name, detail=",".join(msgs))
            )
        schema = _dict(version.get("schema")).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            errors.append(
                FieldError("Required", f"{p}.schema.openAPIV3Schema", detail="schemas are required")
            )
        else:
            errors.extend(validate_structural(schema, path=f"{p}.schema.openAPIV3Schema"))
    if not unique:
        errors.append(
            FieldError(
                "Invalid",
                "spec.versions",
                value=_versions_value(versions),
                detail="must contain unique version names",
            )
        )
    if versions and sum(1 for v in versions if _dict(v).get("storage") is True) != 1:
        errors.append(
            FieldError(
                "Invalid",
                "spec.versions",
                value=_versions_value(versions),
                detail="must have exactly one version marked as storage version",
            )
        )
    return errors


# Leases and PodGroups ----------------------------------------------------------------------


def _validate_lease(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errors: list[FieldError] = []
    duration = _int(spec.get("leaseDurationSeconds"))
    if duration is not None and duration <= 0:
        errors.append(
            FieldError(
                "Invalid",
                "spec.leaseDurationSeconds",
                value=duration,
                detail="must be greater than 0",
            )
        )
    errors.extend(_nonnegative(spec.get("leaseTransitions"), "spec.leaseTransitions"))
    return errors


def _validate_podgroup(obj: Obj) -> list[FieldError]:
    return _nonnegative(_dict(obj.get("spec")).get("minMember"), "spec.minMember")


#: (group, kind) -> the Go-coded checks of that built-in kind.
VALIDATORS: dict[tuple[str, str], Validator] = {
    ("", "Pod"): _validate_pod,
    ("", "Service"): _validate_service,
    ("", "ConfigMap"): _validate_configmap,
    ("", "Secret"): _validate_secret,
    ("", "Namespace"): _validate_namespace,
    ("", "Node"): _validate_node,
    ("", "PersistentVolumeClaim"): _validate_pvc,
    ("apps", "Deployment"): _validate_deployment,
    ("apps", "ReplicaSet"): _validate_replicaset,
    ("apps", "StatefulSet"): _validate_statefulset,
    ("apps", "DaemonSet"): _validate_daemonset,
    ("batch", "Job"): _validate_job,
    ("batch", "CronJob"): _validate_cronjob,
    (_RBAC, "Role"): _validate_role,
    (_RBAC, "ClusterRole"): _validate_clusterrole,
    (_RBAC, "RoleBinding"): _validate_rolebinding,
    (_RBAC, "ClusterRoleBinding"): _validate_clusterrolebinding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _validate_crd,
    ("coordination.k8s.io", "Lease"): _validate_lease,
    ("scheduling.x-k8s.io", "PodGroup"): _validate_podgroup,
}


def validate_builtin(obj: Mapping[str, Any]) -> list[FieldError]:
    """The Go-coded checks of ``obj``'s kind (metadata aside: see :func:`validate_metadata`)."""
    check = VALIDATORS.get(_group_kind(obj))
    if check is None:
        return []
    return check(obj)  # type: ignore[arg-type]


# Defaults -------------------------------------------------------------------------------------


def _image_tag(image: str) -> str:
    """The tag of an image reference; ``latest`` when it has neither tag nor digest."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "" if digest else "latest"


_PROBE_DEFAULTS = (
    ("timeoutSeconds", 1),
    ("periodSeconds", 10),
    ("successThreshold", 1),
    ("failureThreshold", 3),
)


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in _PROBE_DEFAULTS:
        probe.setdefault(key, value)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def _default_container(ctr: Any) -> None:
    if not isinstance(ctr, dict):
        return
    if not ctr.get("imagePullPolicy"):
        ctr["imagePullPolicy"] = (
            "Always" if _image_tag(_str(ctr.get("image"))) == "latest" else "IfNotPresent"
        )
    ctr.setdefault("terminationMessagePath", "/dev/termination-log")
    ctr.setdefault("terminationMessagePolicy", "File")
    ctr.setdefault("resources", {})
    for port in _list(ctr.get("ports")):
        if isinstance(port, dict) and not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in _list(ctr.get("env")):
        field_ref = _dict(_dict(env).get("valueFrom")).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(ctr.get(probe))


_VOLUME_SOURCES_WITH_MODE = ("configMap", "secret", "projected", "downwardAPI")


def _default_volume(volume: Any) -> None:
    if not isinstance(volume, dict):
        return
    sources = [k for k in volume if k != "name"]
    if not sources:
        volume["emptyDir"] = {}
    for key in _VOLUME_SOURCES_WITH_MODE:
        source = volume.get(key)
        if isinstance(source, dict):
            source.setdefault("defaultMode", 420)
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")


def _default_pod_spec(spec: Any, *, job: bool = False) -> None:
    """``SetDefaults_PodSpec`` and its containers; Jobs keep restartPolicy unset (it is required)."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("dnsPolicy", "ClusterFirst")
    if not job:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for key in ("containers", "initContainers"):
        for ctr in _list(spec.get(key)):
            _default_container(ctr)
    for volume in _list(spec.get("volumes")):
        _default_volume(volume)


def _default_template(template: Any, *, job: bool = False) -> None:
    if isinstance(template, dict):
        _default_pod_spec(template.get("spec"), job=job)


def _default_pod(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    _default_pod_spec(spec)
    # SetDefaults_Pod: a container with limits but no requests requests its limits.
    for key in ("containers", "initContainers"):
        for ctr in _list(spec.get(key)):
            resources = _dict(_dict(ctr).get("resources"))
            limits = resources.get("limits")
            if isinstance(limits, dict) and limits:
                requests = resources.setdefault("requests", {})
                if isinstance(requests, dict):
                    for name, value in limits.items():
                        requests.setdefault(name, value)
    spec.setdefault("enableServiceLinks", True)
    if create:
        # What the ServiceAccount and Priority admission plugins add on create.
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = account
        spec["serviceAccount"] = account
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        # The pod strategy's PrepareForCreate: a new pod is Pending with its QoS class.
        status = obj.setdefault("status", {})
        if isinstance(status, dict):
            status.setdefault("phase", "Pending")
            status.setdefault("qosClass", qos_class(obj))


def _default_deployment(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(spec.get("template"))


def _default_replicaset(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _default_template(spec.get("template"))


def _default_pvc_spec(spec: Any) -> None:
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")


def _default_statefulset(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            strategy.setdefault("rollingUpdate", {})
        rolling = strategy.get("rollingUpdate")
        if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
            rolling.setdefault("partition", 0)
    policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    if isinstance(policy, dict):
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(spec.get("template"))
    for claim in _list(spec.get("volumeClaimTemplates")):
        _default_pvc_spec(_dict(claim).get("spec"))


def _default_daemonset(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(spec.get("template"))


_JOB_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
_JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def _default_job_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault(
        "backoffLimit", 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    )
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault(
        "podReplacementPolicy",
        "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed",
    )
    _default_template(spec.get("template"), job=True)


def _default_job(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    meta = obj.setdefault("metadata", {})
    if not isinstance(spec, dict) or not isinstance(meta, dict):
        return
    _default_job_spec(spec)
    uid, name = _str(meta.get("uid")), _str(meta.get("name"))
    if create and uid and spec.get("manualSelector") is not True:
        # The Job strategy labels the template with the Job's uid and name and selects on the uid.
        template = spec.setdefault("template", {})
        if isinstance(template, dict):
            labels = template.setdefault("metadata", {}).setdefault("labels", {})
            for key in _JOB_UID_LABELS:
                labels.setdefault(key, uid)
            for key in _JOB_NAME_LABELS:
                labels.setdefault(key, name)
        selector = spec.setdefault("selector", {})
        if isinstance(selector, dict):
            selector.setdefault("matchLabels", {}).setdefault(_JOB_UID_LABELS[0], uid)
    # A Job without labels takes its template's (generated ones included, as users see it).
    template_labels = _dict(_dict(_dict(spec.get("template")).get("metadata")).get("labels"))
    if template_labels and not meta.get("labels"):
        meta["labels"] = dict(template_labels)


def _default_cronjob(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_spec = _dict(spec.get("jobTemplate")).get("spec")
    if isinstance(job_spec, dict):
        _default_template(job_spec.get("template"), job=True)


def _default_service(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    for port in _list(spec.get("ports")):
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    kind = spec["type"]
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if create and kind != "ExternalName":
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])


def _default_secret(obj: Obj, create: bool) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        # The API never stores stringData: it is merged into data, base64-encoded.
        data = obj.setdefault("data", {})
        if isinstance(data, dict):
            for key, value in string_data.items():
                data[key] = base64.b64encode(_str(value).encode()).decode()


def _default_namespace(obj: Obj, create: bool) -> None:
    meta = obj.setdefault("metadata", {})
    name = _str(_dict(meta).get("name"))
    if isinstance(meta, dict) and name:
        labels = meta.setdefault("labels", {})
        if isinstance(labels, dict):
            labels["kubernetes.io/metadata.name"] = name
    if create:
        # Only on create: the namespace controller removes it during deletion.
        spec = obj.setdefault("spec", {})
        finalizers = spec.setdefault("finalizers", []) if isinstance(spec, dict) else None
        if isinstance(finalizers, list) and "kubernetes" not in finalizers:
            finalizers.append("kubernetes")


def _default_node(obj: Obj, create: bool) -> None:
    status = obj.get("status")
    if (
        isinstance(status, dict)
        and "allocatable" not in status
        and isinstance(status.get("capacity"), dict)
    ):
        status["allocatable"] = dict(status["capacity"])


def _default_pvc(obj: Obj, create: bool) -> None:
    _default_pvc_spec(obj.get("spec"))
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def _default_pv(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def _default_endpoints(obj: Obj, create: bool) -> None:
    for subset in _list(obj.get("subsets")):
        for port in _list(_dict(subset).get("ports")):
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"


def _default_storageclass(obj: Obj, create: bool) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def _default_binding(obj: Obj, create: bool) -> None:
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = _RBAC
    for subject in _list(obj.get("subjects")):
        if isinstance(subject, dict) and not subject.get("apiGroup"):
            if subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = _RBAC
            elif subject.get("kind") == "ServiceAccount":
                subject["apiGroup"] = ""


def _default_crd(obj: Obj, create: bool) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict):
        kind = _str(names.get("kind"))
        if kind:
            if not names.get("singular"):
                names["singular"] = kind.lower()
            if not names.get("listKind"):
                names["listKind"] = kind + "List"
    spec.setdefault("conversion", {"strategy": "None"})


#: (group, kind) -> the Go defaults of that built-in kind; called as ``fn(obj, create)``.
DEFAULTERS: dict[tuple[str, str], Defaulter] = {
    ("", "Pod"): _default_pod,
    ("", "Service"): _default_service,
    ("", "Secret"): _default_secret,
    ("", "Namespace"): _default_namespace,
    ("", "Node"): _default_node,
    ("", "PersistentVolumeClaim"): _default_pvc,
    ("", "PersistentVolume"): _default_pv,
    ("", "Endpoints"): _default_endpoints,
    ("apps", "Deployment"): _default_deployment,
    ("apps", "ReplicaSet"): _default_replicaset,
    ("apps", "StatefulSet"): _default_statefulset,
    ("apps", "DaemonSet"): _default_daemonset,
    ("batch", "Job"): _default_job,
    ("batch", "CronJob"): _default_cronjob,
    ("storage.k8s.io", "StorageClass"): _default_storageclass,
    (_RBAC, "RoleBinding"): _default_binding,
    (_RBAC, "ClusterRoleBinding"): _default_binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _default_crd,
}


def default_builtin(obj: Obj, *, create: bool = True) -> None:
    """Apply the Go defaults of ``obj``'s kind in place.

    ``create=False`` (updates) skips what Kubernetes sets only when an object
    is created: admission's service account and priority on Pods, a
    Namespace's ``kubernetes`` finalizer, a Job's generated selector, a
    Service's IP family fields.
    """
    defaulter = DEFAULTERS.get(_group_kind(obj))
    if defaulter is not None:
        defaulter(obj, create)
