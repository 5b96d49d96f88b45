"""Reviews: create-only kinds the API server answers instead of storing.

``kubectl auth can-i`` creates a ``SelfSubjectAccessReview`` (``--list``: a
``SelfSubjectRulesReview``); webhooks and proxies use ``SubjectAccessReview``
and ``TokenReview``. Like kube-apiserver, the server fills ``status`` from the
authorizer (:class:`sandbox.api.rbac.Authorizer`) or the authenticator and
returns the object with 201; nothing is written to the store.

- SelfSubjectAccessReview: may the requesting user do ``spec.resourceAttributes``
  (or ``spec.nonResourceAttributes``)?
- SelfSubjectRulesReview: the user's rules in ``spec.namespace``.
- SubjectAccessReview: the same question for ``spec.user``/``spec.groups``.
- TokenReview: who ``spec.token`` authenticates as.
- SelfSubjectReview (``kubectl auth whoami``): who the requester is. The
  kinds registry does not list it (so discovery does not either); kubectl
  posts it without asking discovery.
"""

from __future__ import annotations

from typing import Any

from sandbox.api import rbac
from sandbox.api.errors import ApiError, BadRequest
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.requestinfo import RequestInfo

__all__ = ["REVIEW_KINDS", "answer", "is_review", "is_self_subject_review", "self_subject_review"]

REVIEW_KINDS = frozenset({
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("authentication.k8s.io", "TokenReview"),
})


def is_review(rt: ResourceType) -> bool:
    return (rt.group, rt.kind) in REVIEW_KINDS


def is_self_subject_review(info: RequestInfo) -> bool:
    return (info.api_group, info.resource) == ("authentication.k8s.io", "selfsubjectreviews") \
        and info.api_version in ("v1", "v1beta1", "v1alpha1")


def self_subject_review(call: Call) -> dict[str, Any]:
    user = call.user
    info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    if user.extra:
        info["extra"] = {k: list(v) for k, v in user.extra.items()}
    return {"kind": "SelfSubjectReview",
            "apiVersion": f"authentication.k8s.io/{call.info.api_version}",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": info}}


def answer(state: ServerState, call: Call, rt: ResourceType, review: dict[str, Any]) -> dict[str, Any]:
    """The review with its ``status`` filled in."""
    spec = review.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    kind = rt.kind
    if kind == "SelfSubjectAccessReview":
        status = state.authorizer.access_review(call.user, spec)
    elif kind == "SelfSubjectRulesReview":
        status = state.authorizer.rules_for(call.user, str(spec.get("namespace") or ""))
    elif kind == "SubjectAccessReview":
        user = rbac.UserInfo(
            name=str(spec.get("user") or ""), groups=tuple(spec.get("groups") or ()),
            uid=str(spec.get("uid") or ""),
        )
        if not user.name and not user.groups:
            raise BadRequest("spec.user or spec.groups must be specified")
        status = state.authorizer.access_review(user, spec)
    else:
        status = _token_review(state, str(spec.get("token") or ""))
    meta = review.get("metadata") if isinstance(review.get("metadata"), dict) else {}
    meta = {**meta, "creationTimestamp": None}
    return {"kind": kind, "apiVersion": rt.api_version, "metadata": meta, "spec": spec,
            "status": status}


def _token_review(state: ServerState, token: str) -> dict[str, Any]:
    authenticator = state.authenticator
    user = None
    if token and authenticator is not None:
        try:
            user = authenticator.user_for_token(token)
        except ApiError:
            user = None
    if user is None:
        return {"authenticated": False, "user": {}, "error": "invalid bearer token"}
    return {"authenticated": True,
            "user": {"username": user.name, "uid": user.uid, "groups": list(user.groups)}}
