"""Kubernetes RBAC: who may do what, decided exactly as kube-apiserver decides it.

The API server asks :meth:`Authorizer.authorize` about every request it has
authenticated: a :class:`UserInfo` (name and groups) and the request's
:class:`Attributes` (verb, namespace, API group, resource, subresource, name,
or a non-resource path). The answer is ``(allowed, reason)``; a refusal
becomes a 403 whose text is :func:`forbidden_message` (or the whole error,
:func:`forbidden`). ``kubectl auth can-i`` asks the same questions through
SelfSubjectAccessReview (:meth:`Authorizer.access_review`) and, with
``--list``, SelfSubjectRulesReview (:meth:`Authorizer.rules_for`).

Semantics follow ``plugin/pkg/auth/authorizer/rbac`` and
``pkg/registry/rbac/validation`` of Kubernetes 1.31:

- Members of ``system:masters`` are always allowed, before RBAC is consulted
  (kube-apiserver's privileged-group authorizer), with an empty reason.
- ClusterRoleBindings grant their role's rules everywhere; RoleBindings grant
  them in their own namespace only, whether they reference a Role of that
  namespace or a ClusterRole. A cluster-scoped request (no namespace, e.g.
  ``kubectl get pods -A``) is decided by ClusterRoleBindings alone.
- Subjects: ``User`` by name, ``Group`` by membership, ``ServiceAccount``
  as the user ``system:serviceaccount:<namespace>:<name>`` (a subject
  without a namespace means the RoleBinding's own namespace). The groups
  ``system:serviceaccounts``, ``system:serviceaccounts:<ns>``,
  ``system:authenticated`` and ``system:unauthenticated`` are ordinary
  groups that authentication puts on a user (:func:`service_account_user`).
- A rule matches when verb, API group, resource and name all match:
  ``*`` matches any verb, group or resource (subresources included);
  a subresource must be named as ``pods/log`` or as ``*/scale``; an empty
  ``resourceNames`` matches every name; a non-resource path matches a
  ``nonResourceURLs`` entry exactly, ``*``, or a prefix ending in ``*``.
- Nothing ever denies: without an allowing rule the decision is "no
  opinion", which the API server answers with 403. The reason is empty,
  unless a binding that applies to the user references a missing role:
  then it is ``RBAC: clusterrole.rbac.authorization.k8s.io "x" not found``
  (several errors as a bracketed list), as the real server appends to its
  Forbidden message.
- ClusterRoles with an ``aggregationRule`` get their rules from the
  ClusterRoles its label selectors match (:func:`aggregate_cluster_roles`,
  the clusterrole-aggregation controller's computation). The authorizer
  aggregates the roles it reads, so it decides right whether or not a
  controller has already written the aggregated rules back.

Data flow and cost: ``Authorizer(objects, version=...)`` reads the four RBAC
kinds through ``objects()`` only when ``version()`` changes, aggregates and
indexes them into a snapshot, compiles each role's rules once into sets, and
then lazily, per user, the bindings that apply to that user (cluster-wide
once, each namespace on first use). Decisions are memoised per user and
request until the version changes, so a repeated decision costs a dict
lookup. Without ``version`` every call re-reads the objects: correct, slow.

The default bootstrap objects (``cluster-admin``, ``admin``, ``edit``,
``view`` and the roles aggregated into them, ``system:basic-user``,
``system:discovery``, ``system:public-info-viewer`` and their bindings) are
data: ``data/default-rbac.yaml``, returned by :func:`default_rbac_objects`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final, NamedTuple

import yaml

from sandbox.api.errors import BadRequest, FieldError, Forbidden, Invalid
from sandbox.api.objects import deep_copy
from sandbox.api.selectors import LabelSelector

__all__ = [
    "ALL_AUTHENTICATED",
    "ALL_UNAUTHENTICATED",
    "ANONYMOUS",
    "DATA_FILE",
    "SERVICE_ACCOUNTS_GROUP",
    "SYSTEM_MASTERS",
    "Attributes",
    "Authorizer",
    "RBACObjects",
    "UserInfo",
    "aggregate_cluster_roles",
    "attributes_from_review",
    "default_rbac_objects",
    "forbidden",
    "forbidden_message",
    "service_account_user",
]

SYSTEM_MASTERS: Final = "system:masters"
ALL_AUTHENTICATED: Final = "system:authenticated"
ALL_UNAUTHENTICATED: Final = "system:unauthenticated"
ANONYMOUS: Final = "system:anonymous"
SERVICE_ACCOUNTS_GROUP: Final = "system:serviceaccounts"
_SERVICE_ACCOUNT_PREFIX: Final = "system:serviceaccount:"
_RBAC_GROUP: Final = "rbac.authorization.k8s.io"
DATA_FILE: Final = "default-rbac.yaml"

# Decisions memoised per snapshot; a bound keeps many distinct object names
# (every `get pods/<name>`) from growing the cache without end.
_MAX_DECISIONS: Final = 16384


# Identities and requests -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated identity (``user.Info``). RBAC reads name and groups."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)


def service_account_user(namespace: str, name: str, *, uid: str = "") -> UserInfo:
    """The identity a ServiceAccount token authenticates as.

    ``system:serviceaccount:<ns>:<name>`` in the groups
    ``system:serviceaccounts``, ``system:serviceaccounts:<ns>`` and
    ``system:authenticated``.
    """
    return UserInfo(
        f"{_SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
        (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}", ALL_AUTHENTICATED),
        uid=uid,
    )


@dataclass(frozen=True, slots=True)
class Attributes:
    """One request as the authorizer sees it (``authorizer.AttributesRecord``).

    Resource requests use ``namespace`` (empty at the cluster scope),
    ``api_group`` (``""`` for the core group), ``resource`` (plural),
    ``subresource`` and ``name``; non-resource requests
    (``resource_request=False``) use ``path``.
    """

    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


class RBACObjects(NamedTuple):
    """The current Roles, ClusterRoles, RoleBindings and ClusterRoleBindings."""

    roles: Sequence[Mapping[str, Any]] = ()
    cluster_roles: Sequence[Mapping[str, Any]] = ()
    role_bindings: Sequence[Mapping[str, Any]] = ()
    cluster_role_bindings: Sequence[Mapping[str, Any]] = ()


# Messages ------------------------------------------------------------------------


def _quote(text: str) -> str:
    """Go's ``%q`` for the names that appear in RBAC messages."""
    return json.dumps(text, ensure_ascii=False)


def _aggregate(messages: Sequence[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: one message, or a deduplicated list."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _sanitize(text: str) -> str:
    """The HTML escaping kube-apiserver applies to the forbidden message."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _denial(user: UserInfo, attrs: Attributes) -> str:
    """``forbiddenMessage``: what the user cannot do, without the resource prefix."""
    who = _quote(user.name)
    if not attrs.resource_request:
        return f"User {who} cannot {attrs.verb} path {_quote(attrs.path)}"
    resource = attrs.resource
    if attrs.subresource:
        resource = f"{resource}/{attrs.subresource}"
    where = (
        f"in the namespace {_quote(attrs.namespace)}" if attrs.namespace else "at the cluster scope"
    )
    return (
        f"User {who} cannot {attrs.verb} resource {_quote(resource)} "
        f"in API group {_quote(attrs.api_group)} {where}"
    )


def forbidden_message(user: UserInfo, attrs: Attributes, *, reason: str = "") -> str:
    """kube-apiserver's 403 message for a request the authorizer did not allow.

    ``pods is forbidden: User "alice" cannot create resource "pods" in API
    group "" in the namespace "default"``; with a name ``pods "web" is
    forbidden: ...``; non-resource requests ``forbidden: User "alice" cannot
    get path "/metrics"``. A non-empty ``reason`` (the authorizer's) is
    appended after a colon, as the real server does.
    """
    message = _sanitize(_denial(user, attrs))
    if reason:
        message = f"{message}: {reason}"
    resource = attrs.resource if attrs.resource_request else ""
    group = attrs.api_group if attrs.resource_request else ""
    if not resource and not group:
        return f"forbidden: {message}"
    qualified = f"{resource}.{group}" if group else resource
    if attrs.name:
        return f"{qualified} {_quote(attrs.name)} is forbidden: {message}"
    return f"{qualified} is forbidden: {message}"


def forbidden(user: UserInfo, attrs: Attributes, *, reason: str = "") -> Forbidden:
    """The 403 error (``apierrors.NewForbidden``) with Kubernetes' message and details."""
    details: dict[str, Any] = {}
    if attrs.resource_request:
        if attrs.name:
            details["name"] = attrs.name
        if attrs.api_group:
            details["group"] = attrs.api_group
        if attrs.resource:
            details["kind"] = attrs.resource
    return Forbidden(forbidden_message(user, attrs, reason=reason), details=details)


# Rules -------------------------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _rule_key(rule: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    """A rule's identity for deduplication (nil and empty lists are equal, as in Go)."""
    return (
        _strings(rule.get("verbs")),
        _strings(rule.get("apiGroups")),
        _strings(rule.get("resources")),
        _strings(rule.get("resourceNames")),
        _strings(rule.get("nonResourceURLs")),
    )


class _Rule:
    """One PolicyRule compiled into sets (``rbacv1helpers`` matching)."""

    __slots__ = (
        "any_group",
        "any_resource",
        "any_url",
        "any_verb",
        "groups",
        "names",
        "policy",
        "resources",
        "star_subresources",
        "url_prefixes",
        "urls",
        "verbs",
    )

    def __init__(self, policy: Mapping[str, Any]) -> None:
        verbs, groups, resource_list, names, urls = _rule_key(policy)
        self.policy = policy
        self.verbs = frozenset(verbs)
        self.any_verb = "*" in self.verbs
        self.groups = frozenset(groups)
        self.any_group = "*" in self.groups
        self.resources = frozenset(resource_list)
        self.any_resource = "*" in self.resources
        # "*/scale" matches the subresource "scale" of every resource.
        self.star_subresources = frozenset(r[2:] for r in resource_list if r.startswith("*/"))
        self.names = frozenset(names)
        self.urls = frozenset(urls)
        self.any_url = "*" in self.urls
        self.url_prefixes = tuple(u.rstrip("*") for u in urls if u.endswith("*"))

    def allows(self, attrs: Attributes) -> bool:
        """``RuleAllows``."""
        if not (self.any_verb or attrs.verb in self.verbs):
            return False
        if attrs.resource_request:
            if not (self.any_group or attrs.api_group in self.groups):
                return False
            if not self.any_resource:
                sub = attrs.subresource
                combined = f"{attrs.resource}/{sub}" if sub else attrs.resource
                if combined not in self.resources and not (sub and sub in self.star_subresources):
                    return False
            return not self.names or attrs.name in self.names
        path = attrs.path
        if self.any_url or path in self.urls:
            return True
        return any(path.startswith(prefix) for prefix in self.url_prefixes)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _rules_of(role: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = role.get("rules")
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []


# Aggregation ---------------------------------------------------------------------


def aggregate_cluster_roles(
    cluster_roles: Iterable[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    """Fill the rules of ClusterRoles that have an ``aggregationRule``.

    As the clusterrole-aggregation controller does: for each selector of
    ``aggregationRule.clusterRoleSelectors``, the matching ClusterRoles
    (sorted by name, never the role itself) contribute their rules in order,
    each rule once. Aggregated roles may aggregate others (``admin`` takes
    ``edit``, which takes ``view``); the result is the controller's fixed
    point. A role in an aggregation cycle contributes the rules it has, and
    a role with an invalid selector keeps its rules, as the controller leaves
    it untouched.

    Returns the roles in input order: the same objects for roles without an
    ``aggregationRule``, shallow copies with new ``rules`` for the others.
    The inputs are not modified; rule dicts are shared with them.
    """
    roles = list(cluster_roles)
    by_name = {_meta(r).get("name", ""): r for r in roles}
    sorted_names = sorted(by_name)
    resolved: dict[str, list[Mapping[str, Any]]] = {}
    in_progress: set[str] = set()

    def rules_of(name: str) -> list[Mapping[str, Any]]:
        done = resolved.get(name)
        if done is not None:
            return done
        role = by_name[name]
        aggregation = role.get("aggregationRule")
        if not isinstance(aggregation, Mapping) or name in in_progress:
            return _rules_of(role)
        in_progress.add(name)
        try:
            rules = _aggregated_rules(name, aggregation, by_name, sorted_names, rules_of)
        finally:
            in_progress.discard(name)
        if rules is None:
            rules = _rules_of(role)
        resolved[name] = rules
        return rules

    out: list[Mapping[str, Any]] = []
    for role in roles:
        if isinstance(role.get("aggregationRule"), Mapping):
            copy = dict(role)
            copy["rules"] = list(rules_of(_meta(role).get("name", "")))
            out.append(copy)
        else:
            out.append(role)
    return out


def _aggregated_rules(
    name: str,
    aggregation: Mapping[str, Any],
    by_name: Mapping[str, Mapping[str, Any]],
    sorted_names: Sequence[str],
    rules_of: Callable[[str], list[Mapping[str, Any]]],
) -> list[Mapping[str, Any]] | None:
    """One role's aggregated rules, or None when a selector is invalid."""
    rules: list[Mapping[str, Any]] = []
    seen: set[tuple[tuple[str, ...], ...]] = set()
    for raw in aggregation.get("clusterRoleSelectors") or ():
        try:
            selector = LabelSelector.from_dict(raw)
        except BadRequest:
            return None
        for other in sorted_names:
            if other == name or not selector.matches(_meta(by_name[other]).get("labels")):
                continue
            for rule in rules_of(other):
                key = _rule_key(rule)
                if key not in seen:
                    seen.add(key)
                    rules.append(rule)
    return rules


# Default objects -----------------------------------------------------------------


@cache
def _default_documents() -> tuple[dict[str, Any], ...]:
    text = resources.files(__package__).joinpath("data").joinpath(DATA_FILE).read_text("utf-8")
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def default_rbac_objects() -> list[dict[str, Any]]:
    """Kubernetes' bootstrap ClusterRoles and ClusterRoleBindings, fresh copies.

    ClusterRoles first (``admin``, ``edit`` and ``view`` with their
    aggregated rules filled in, as a running cluster shows them), then the
    ClusterRoleBindings, in the data file's order.
    """
    documents = _default_documents()
    cluster_roles = [d for d in documents if d.get("kind") == "ClusterRole"]
    others = [d for d in documents if d.get("kind") != "ClusterRole"]
    # Copies throughout: aggregated roles share rule dicts with their sources,
    # and the parsed file is cached.
    return [deep_copy(d) for d in [*aggregate_cluster_roles(cluster_roles), *others]]


# Reviews -------------------------------------------------------------------------


def attributes_from_review(
    spec: Mapping[str, Any], *, kind: str = "SelfSubjectAccessReview"
) -> Attributes:
    """The request an access review's ``spec`` asks about.

    ``spec.resourceAttributes`` (``namespace``, ``verb``, ``group``,
    ``resource``, ``subresource``, ``name``; ``version`` is ignored, as
    RBAC ignores it) or ``spec.nonResourceAttributes`` (``path``, ``verb``).
    Raises :class:`Invalid` when neither or both are given, with Kubernetes'
    message naming ``kind`` (``SubjectAccessReview`` validates the same way).
    """
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    errors: list[FieldError] = []
    if resource is not None and non_resource is not None:
        errors.append(
            FieldError(
                "Invalid",
                "spec.nonResourceAttributes",
                value=non_resource,
                detail="cannot be specified in combination with resourceAttributes",
            )
        )
    if resource is None and non_resource is None:
        errors.append(
            FieldError(
                "Invalid",
                "spec.resourceAttributes",
                value="null",
                detail="exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )
        )
    if errors:
        summary = errors[0].message if len(errors) == 1 else _aggregate([e.message for e in errors])
        raise Invalid(
            f'{kind}.authorization.k8s.io "" is invalid: {summary}',
            details={
                "name": "",
                "group": "authorization.k8s.io",
                "kind": kind,
                "causes": [e.cause for e in errors],
            },
            errors=errors,
        )
    if resource is not None:
        return Attributes(
            verb=str(resource.get("verb") or ""),
            namespace=str(resource.get("namespace") or ""),
            api_group=str(resource.get("group") or ""),
            resource=str(resource.get("resource") or ""),
            subresource=str(resource.get("subresource") or ""),
            name=str(resource.get("name") or ""),
        )
    return Attributes(
        verb=str(non_resource.get("verb") or ""),
        path=str(non_resource.get("path") or ""),
        resource_request=False,
    )


def _review_rules(rules: Iterable[_Rule]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SelfSubjectRulesReview's ``resourceRules`` and ``nonResourceRules``."""
    resource_rules: list[dict[str, Any]] = []
    non_resource_rules: list[dict[str, Any]] = []
    for rule in rules:
        verbs, groups, resource_list, names, urls = _rule_key(rule.policy)
        if resource_list:
            entry: dict[str, Any] = {"verbs": list(verbs)}
            if groups:
                entry["apiGroups"] = list(groups)
            entry["resources"] = list(resource_list)
            if names:
                entry["resourceNames"] = list(names)
            resource_rules.append(entry)
        if urls:
            non_resource_rules.append({"verbs": list(verbs), "nonResourceURLs": list(urls)})
    return resource_rules, non_resource_rules


# The authorizer ------------------------------------------------------------------

# (description of the binding and subject, the role's compiled rules)
_Grant = tuple[str, tuple[_Rule, ...]]


class _Grants(NamedTuple):
    """What the bindings that apply to one user grant in one scope."""

    grants: tuple[_Grant, ...]
    errors: tuple[str, ...]


def _describe_subject(subject: Mapping[str, Any], binding_namespace: str) -> str:
    kind = subject.get("kind", "")
    name = subject.get("name", "")
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return f"{kind} {_quote(name + '/' + namespace)}"
    return f"{kind} {_quote(name)}"


def _applies(user: UserInfo, groups: frozenset[str], subject: Mapping[str, Any], ns: str) -> bool:
    """``appliesToUser``: whether a binding subject names this user."""
    kind = subject.get("kind")
    name = subject.get("name", "")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or ns
        return bool(sa_namespace) and user.name == f"{_SERVICE_ACCOUNT_PREFIX}{sa_namespace}:{name}"
    return False


class _Snapshot:
    """The RBAC objects at one version, indexed, with per-user caches."""

    def __init__(self, objects: RBACObjects, version: Hashable) -> None:
        self.version = version
        self.cluster_roles = {
            _meta(r).get("name", ""): _rules_of(r)
            for r in aggregate_cluster_roles(objects.cluster_roles)
        }
        self.roles = {
            (_meta(r).get("namespace", ""), _meta(r).get("name", "")): _rules_of(r)
            for r in objects.roles
        }
        self.cluster_role_bindings = list(objects.cluster_role_bindings)
        self.role_bindings: dict[str, list[Mapping[str, Any]]] = {}
        for binding in objects.role_bindings:
            ns = _meta(binding).get("namespace", "")
            self.role_bindings.setdefault(ns, []).append(binding)
        self._compiled: dict[tuple[str, str, str], tuple[_Rule, ...]] = {}
        self._users: dict[tuple[str, tuple[str, ...]], _UserGrants] = {}
        self.decisions: dict[tuple[str, tuple[str, ...], Attributes], tuple[bool, str]] = {}

    def role_rules(self, role_ref: Mapping[str, Any], namespace: str) -> tuple[_Rule, ...]:
        """``GetRoleReferenceRules``, compiled; raises LookupError with Kubernetes' message."""
        kind = role_ref.get("kind", "")
        name = role_ref.get("name", "")
        key = (kind, namespace if kind == "Role" else "", name)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        if kind == "Role":
            rules = self.roles.get((namespace, name))
            if rules is None:
                raise LookupError(f"role.{_RBAC_GROUP} {_quote(name)} not found")
        elif kind == "ClusterRole":
            rules = self.cluster_roles.get(name)
            if rules is None:
                raise LookupError(f"clusterrole.{_RBAC_GROUP} {_quote(name)} not found")
        else:
            raise LookupError(f"unsupported role reference kind: {_quote(kind)}")
        compiled = tuple(_Rule(r) for r in rules)
        self._compiled[key] = compiled
        return compiled

    def grants(
        self, user: UserInfo, groups: frozenset[str], bindings: Iterable[Mapping[str, Any]], ns: str
    ) -> _Grants:
        """``VisitRulesFor`` over one list of bindings, for one user."""
        grants: list[_Grant] = []
        errors: list[str] = []
        for binding in bindings:
            subjects = binding.get("subjects") or ()
            subject = next((s for s in subjects if _applies(user, groups, s, ns)), None)
            if subject is None:
                continue
            role_ref = binding.get("roleRef") or {}
            try:
                rules = self.role_rules(role_ref, ns)
            except LookupError as err:
                errors.append(str(err))
                continue
            name = _meta(binding).get("name", "")
            kind, role_name = role_ref.get("kind", ""), role_ref.get("name", "")
            if ns:
                source = f"RoleBinding {_quote(name + '/' + ns)}"
            else:
                source = f"ClusterRoleBinding {_quote(name)}"
            source += f" of {kind} {_quote(role_name)} to {_describe_subject(subject, ns)}"
            grants.append((source, rules))
        return _Grants(tuple(grants), tuple(errors))

    def for_user(self, user: UserInfo) -> _UserGrants:
        key = (user.name, user.groups)
        found = self._users.get(key)
        if found is None:
            found = self._users[key] = _UserGrants(self, user)
        return found


class _UserGrants:
    """One user's grants: cluster-wide at once, each namespace on first use."""

    def __init__(self, snapshot: _Snapshot, user: UserInfo) -> None:
        self._snapshot = snapshot
        self._user = user
        self._groups = frozenset(user.groups)
        self.cluster = snapshot.grants(user, self._groups, snapshot.cluster_role_bindings, "")
        self._namespaces: dict[str, _Grants] = {}

    def namespace(self, ns: str) -> _Grants:
        found = self._namespaces.get(ns)
        if found is None:
            snapshot = self._snapshot
            bindings = snapshot.role_bindings.get(ns, ())
            found = self._namespaces[ns] = snapshot.grants(self._user, self._groups, bindings, ns)
        return found

    def scopes(self, ns: str) -> tuple[_Grants, ...]:
        return (self.cluster, self.namespace(ns)) if ns else (self.cluster,)


class Authorizer:
    """RBAC decisions over the objects ``objects()`` returns.

    ``version`` (e.g. a counter the API server bumps whenever a Role,
    ClusterRole or binding changes, or the store's resourceVersion) tells
    when to re-read them; every cache is dropped when it changes. Without
    it the objects are re-read on every call.
    """

    def __init__(
        self,
        objects: Callable[[], RBACObjects],
        *,
        version: Callable[[], Hashable] | None = None,
    ) -> None:
        self._objects = objects
        self._version = version
        self._snapshot: _Snapshot | None = None

    def _current(self) -> _Snapshot:
        if self._version is None:
            return _Snapshot(self._objects(), None)
        # Read the version first: objects that change meanwhile carry a newer
        # version, so the next call rebuilds rather than trusting stale data.
        version = self._version()
        snapshot = self._snapshot
        if snapshot is None or snapshot.version != version:
            snapshot = self._snapshot = _Snapshot(self._objects(), version)
        return snapshot

    def authorize(self, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        """``(allowed, reason)`` for one request; see the module docstring."""
        if SYSTEM_MASTERS in user.groups:
            return True, ""
        snapshot = self._current()
        key = (user.name, user.groups, attrs)
        decision = snapshot.decisions.get(key)
        if decision is None:
            decision = self._decide(snapshot, user, attrs)
            if len(snapshot.decisions) >= _MAX_DECISIONS:
                snapshot.decisions.clear()
            snapshot.decisions[key] = decision
        return decision

    @staticmethod
    def _decide(snapshot: _Snapshot, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        errors: list[str] = []
        for scope in snapshot.for_user(user).scopes(attrs.namespace):
            for source, rules in scope.grants:
                for rule in rules:
                    if rule.allows(attrs):
                        return True, f"RBAC: allowed by {source}"
            errors.extend(scope.errors)
        return False, f"RBAC: {_aggregate(errors)}" if errors else ""

    def access_review(
        self, user: UserInfo, spec: Mapping[str, Any], *, kind: str = "SelfSubjectAccessReview"
    ) -> dict[str, Any]:
        """The ``status`` of a SelfSubjectAccessReview (or ``kind``) with this ``spec``.

        ``{"allowed": true, "reason": "RBAC: allowed by ..."}``; ``reason``
        is left out when empty and ``denied`` is never set (RBAC has no
        opinion rather than denying), as the real server's JSON reads.
        Raises :class:`Invalid` for a malformed spec.
        """
        allowed, reason = self.authorize(user, attributes_from_review(spec, kind=kind))
        status: dict[str, Any] = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        return status

    def rules_for(self, user: UserInfo, namespace: str) -> dict[str, Any]:
        """The ``status`` of a SelfSubjectRulesReview: the user's rules in ``namespace``.

        Rules of ClusterRoleBindings, then of the namespace's RoleBindings,
        in binding order; ``incomplete`` is false (RBAC knows every rule) and
        ``evaluationError`` names roles that bindings reference but that do
        not exist. As in Kubernetes, membership of ``system:masters`` adds
        nothing here beyond what bindings grant. Raises :class:`BadRequest`
        (``no namespace on request``) without a namespace.
        """
        if not namespace:
            raise BadRequest("no namespace on request")
        scopes = self._current().for_user(user).scopes(namespace)
        rules = [rule for scope in scopes for _, grant in scope.grants for rule in grant]
        errors = [error for scope in scopes for error in scope.errors]
        resource_rules, non_resource_rules = _review_rules(rules)
        status: dict[str, Any] = {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": False,
        }
        if errors:
            status["evaluationError"] = _aggregate(errors)
        return status
