"""``serviceAccountToken`` projected sources: the pod's ServiceAccount token as a file.

A real kubelet asks the API server for a short-lived, audience-bound JWT
(the TokenRequest API) and refreshes it before it expires. The sandbox's API
server authenticates the long-lived token Secrets that its serviceaccount
controller keeps for every account (type
``kubernetes.io/service-account-token``), so the kubelet projects the
``token`` of the account's Secret instead::

    pod.spec.serviceAccountName ──► ServiceAccount ──► its token Secret
                                                        (annotated with the account's name and uid,
                                                         listed in account.secrets first)
                                                     ──► <path> (default "token") in the volume

``audience`` and ``expirationSeconds`` are accepted but not acted on: the
token is the same opaque string for every pod of the account and never
expires (docs/explanation/fidelity.md). A missing account fails the mount as
Kubernetes' TokenRequest does (``failed to fetch token: serviceaccounts
"x" not found``); an account whose token Secret does not exist yet fails it
too, and the kubelet retries (``FailedMount``) until the controller made one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from sandbox.cluster.controllers.serviceaccount import SA_NAME, SA_UID, TOKEN_TYPE
from sandbox.cluster.kubelet.volumes.base import (
    MountError,
    ProjectedFile,
    VolumeContext,
    file_mode,
)

__all__ = ["service_account_token_files"]


async def service_account_token_files(
    ctx: VolumeContext, source: Mapping[str, Any]
) -> dict[str, ProjectedFile]:
    spec = ctx.pod.get("spec") or {}
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    account = await ctx.get("ServiceAccount", name, namespace=ctx.namespace)
    if account is None:
        raise MountError(f'failed to fetch token: serviceaccounts "{name}" not found')
    token = await _account_token(ctx, account)
    if token is None:
        raise MountError(
            f"failed to fetch token: service account {ctx.namespace}/{name} has no token "
            "Secret yet (the serviceaccount controller creates one)"
        )
    return {source.get("path") or "token": (token, file_mode({}, source))}


async def _account_token(ctx: VolumeContext, account: Mapping[str, Any]) -> bytes | None:
    """The token of the account's Secret: one it lists first, then by name."""
    metadata = account.get("metadata") or {}
    listed = await ctx.client.list("v1", "Secret", namespace=ctx.namespace)
    candidates = []
    for secret in listed.get("items") or ():
        notes = (secret.get("metadata") or {}).get("annotations") or {}
        if (
            secret.get("type") == TOKEN_TYPE
            and notes.get(SA_NAME) == metadata.get("name")
            and notes.get(SA_UID, metadata.get("uid")) == metadata.get("uid")
            and (secret.get("data") or {}).get("token")
        ):
            candidates.append(secret)
    order = [ref.get("name") for ref in account.get("secrets") or ()]

    def rank(secret: Mapping[str, Any]) -> tuple[int, str]:
        secret_name = secret["metadata"]["name"]
        return (order.index(secret_name) if secret_name in order else len(order), secret_name)

    if not candidates:
        return None
    return base64.b64decode(min(candidates, key=rank)["data"]["token"])
