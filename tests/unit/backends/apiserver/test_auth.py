"""Authentication (tokens, ServiceAccounts), RBAC on every request, and the review kinds."""

from __future__ import annotations

import base64
from pathlib import Path

from apiserver_helpers import api_client, auth_app, config_map

from sandbox.backends.inprocess.apiserver.auth import Authenticator, TokenFile
from sandbox.store import Store

PODS = "/api/v1/namespaces/default/pods"


def test_token_file_reads_kubernetes_format_and_appends_users(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('t1,alice,uid-1,"devs,ops"\n# comment,x,y\nt2,bob,uid-2\n')
    tokens = TokenFile(path)
    assert tokens.lookup("t1").groups == ("devs", "ops")
    assert tokens.lookup("t2").user == "bob"
    new = tokens.add_user("carol", groups=("a", "b"))
    assert TokenFile(path).lookup(new).groups == ("a", "b")
    fresh = TokenFile(tmp_path / "new.csv")
    fresh.add_user("dave")
    assert fresh.path.stat().st_mode & 0o777 == 0o600


def test_authenticated_users_join_system_authenticated(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "tokens.csv")
    token = tokens.add_user("alice", groups=("devs",))
    auth = Authenticator(tokens=tokens)
    assert auth.authenticate(f"Bearer {token}").groups == ("devs", "system:authenticated")
    assert auth.authenticate(token).name == "alice"  # the Python client 36 sends the bare token
    assert auth.authenticate(None).name == "system:anonymous"


async def test_a_bad_token_is_401_unauthorized(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    async with api_client(setup.app, token="nope") as c:
        r = await c.get(PODS)
    assert r.status_code == 401
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


async def test_anonymous_requests_may_read_version_and_health_only(store: Store, tmp_path) -> None:
    setup = auth_app(store, tmp_path)
    async with api_client(setup.app) as c:
        version = await c.get("/version")
        healthz = await c.get("/healthz")
        pods = await c.get(PODS)
    assert version.status_code == 200 and healthz.text == "ok"
    assert pods.status_code == 401


async def test_forbidden_is_403_with_kubernetes_message(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    async with api_client(setup.app, token=setup.alice) as c:
        listing = await c.get(PODS)
        one = await c.get(f"{PODS}/web")
        discovery = await c.get("/api/v1")
    assert listing.status_code == 403
    assert listing.json()["message"] == (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        'in the namespace "default"'
    )
    assert one.json()["message"].startswith('pods "web" is forbidden: User "alice" cannot get')
    assert discovery.status_code == 200  # system:discovery


async def test_a_new_role_binding_takes_effect_on_the_next_request(store: Store, tmp_path) -> None:
    setup = auth_app(store, tmp_path)
    async with api_client(setup.app, token=setup.alice) as c:
        assert (await c.get(PODS)).status_code == 403
        store.create("rbac.authorization.k8s.io/v1", "RoleBinding", {
            "metadata": {"name": "devs-view", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"},
            "subjects": [{"kind": "Group", "name": "devs"}],
        })
        allowed = await c.get(PODS)
        elsewhere = await c.get("/api/v1/namespaces/kube-system/pods")
        write = await c.post("/api/v1/namespaces/default/configmaps", json=config_map("a"))
    assert allowed.status_code == 200
    assert elsewhere.status_code == 403
    assert write.status_code == 403


async def test_service_account_token_secrets_authenticate(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    store.create("v1", "ServiceAccount", {"metadata": {"name": "robot", "namespace": "default"}})
    store.create("v1", "Secret", {
        "metadata": {"name": "robot-token", "namespace": "default",
                     "annotations": {"kubernetes.io/service-account.name": "robot"}},
        "type": "kubernetes.io/service-account-token",
        "data": {"token": base64.b64encode(b"sa-secret-token").decode()},
    })
    async with api_client(setup.app, token="sa-secret-token") as c:
        r = await c.get(PODS)
        whoami = await c.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              json={"apiVersion": "authentication.k8s.io/v1",
                                    "kind": "SelfSubjectReview"})
    assert r.json()["message"].startswith(
        'pods is forbidden: User "system:serviceaccount:default:robot" cannot list')
    assert whoami.status_code == 201
    assert whoami.json()["status"]["userInfo"]["groups"] == [
        "system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    store.delete("v1", "Secret", "robot-token", namespace="default")
    async with api_client(setup.app, token="sa-secret-token") as c:
        assert (await c.get(PODS)).status_code == 401


async def test_self_subject_access_review_answers_can_i(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                                              "resource": "pods"}}}
    url = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    async with api_client(setup.app, token=setup.admin) as c:
        admin = await c.post(url, json=review)
    async with api_client(setup.app, token=setup.alice) as c:
        alice = await c.post(url, json=review)
    assert admin.status_code == 201 and admin.json()["status"]["allowed"] is True
    assert alice.json()["status"]["allowed"] is False


async def test_self_subject_rules_review_lists_the_users_rules(store: Store, tmp_path) -> None:
    setup = auth_app(store, tmp_path)
    async with api_client(setup.app, token=setup.alice) as c:
        r = await c.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                         json={"kind": "SelfSubjectRulesReview",
                               "apiVersion": "authorization.k8s.io/v1",
                               "spec": {"namespace": "default"}})
    status = r.json()["status"]
    assert r.status_code == 201 and status["incomplete"] is False
    assert any("selfsubjectaccessreviews" in rule.get("resources", [])
               for rule in status["resourceRules"])


async def test_subject_access_review_and_token_review_are_for_privileged_users(store: Store,
                                                                              tmp_path) -> None:
    setup = auth_app(store, tmp_path)
    sar = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
           "spec": {"user": "alice", "groups": ["devs"],
                    "resourceAttributes": {"verb": "get", "resource": "pods",
                                           "namespace": "default"}}}
    token_review = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                    "spec": {"token": setup.alice}}
    async with api_client(setup.app, token=setup.admin) as c:
        decided = await c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)
        who = await c.post("/apis/authentication.k8s.io/v1/tokenreviews", json=token_review)
    async with api_client(setup.app, token=setup.alice) as c:
        denied = await c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)
    assert decided.json()["status"]["allowed"] is False
    assert who.json()["status"]["user"]["username"] == "alice"
    assert denied.status_code == 403


async def test_impersonation_acts_as_another_user_when_allowed(store: Store, tmp_path) -> None:
    setup = auth_app(store, tmp_path)
    as_alice = {"Impersonate-User": "alice", "Impersonate-Group": "devs"}
    async with api_client(setup.app, token=setup.admin) as c:
        r = await c.get(PODS, headers=as_alice)
        whoami = await c.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={},
                              headers=as_alice)
    async with api_client(setup.app, token=setup.alice) as c:
        refused = await c.get(PODS, headers={"Impersonate-User": "kubernetes-admin"})
    assert r.status_code == 403 and 'User "alice" cannot list' in r.json()["message"]
    assert whoami.json()["status"]["userInfo"]["groups"] == ["devs", "system:authenticated"]
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'users "kubernetes-admin" is forbidden: User "alice" cannot impersonate resource "users" '
        'in API group "" at the cluster scope'
    )
