"""apply and delete steps: templated manifests, CRDs first, kubectl's words."""

from __future__ import annotations

import pytest

from sandbox.api.errors import NotFound
from sandbox.scenario.executors import manifests
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Apply, Delete

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  namespace: "{{ namespace }}"
  replicas: "{{ replicas }}"
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: token}
  stringData: {token: abc}
"""

CRD_AND_OBJECT = """\
apiVersion: demo.example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.demo.example.com}
spec:
  group: demo.example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
"""


async def test_apply_renders_files_flattens_lists_and_says_what_changed(client, make_ctx, tmp_path):
    (tmp_path / "settings.yaml").write_text(CONFIGMAP)
    ctx, _ = make_ctx(variables={"namespace": "demo", "replicas": "3"})
    spec = Apply.model_validate({"files": ["settings.yaml"]})
    await manifests.apply(spec, ctx)
    command = ctx.step.entries[-1]
    assert command.text == "kubectl apply -f settings.yaml"
    assert command.output == "configmap/settings created\nsecret/token created"
    assert (await client.get("v1", "ConfigMap", "settings", namespace="demo"))["data"] == {
        "namespace": "demo", "replicas": "3"}
    await manifests.apply(spec, ctx)
    assert ctx.step.entries[-1].output == "configmap/settings unchanged\nsecret/token unchanged"
    ctx.variables = {"namespace": "demo", "replicas": "5"}
    await manifests.apply(spec, ctx)
    assert ctx.step.entries[-1].output.startswith("configmap/settings configured")


async def test_a_crd_is_applied_and_established_before_the_objects_of_its_kind(client, make_ctx, tmp_path):
    (tmp_path / "widgets.yaml").write_text(CRD_AND_OBJECT)
    ctx, _ = make_ctx()
    await manifests.apply(Apply.model_validate({"files": ["widgets.yaml"]}), ctx)
    assert ctx.step.entries[-1].output.splitlines() == [
        "customresourcedefinition.apiextensions.k8s.io/widgets.demo.example.com created",
        "widget.demo.example.com/w1 created"]
    assert (await client.get("demo.example.com/v1", "Widget", "w1", namespace="demo"))["spec"] == {"size": 3}


async def test_an_inline_manifest_shows_the_yaml_it_sends(make_ctx):
    ctx, _ = make_ctx()
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    await manifests.apply(Apply.model_validate({"manifest": manifest}), ctx)
    command = ctx.step.entries[-1]
    assert command.text.startswith("kubectl apply -f - <<'EOF'\napiVersion: v1\nkind: ConfigMap")
    assert command.text.endswith("\nEOF")


async def test_an_invalid_object_fails_with_the_field_path(make_ctx):
    ctx, _ = make_ctx()
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "python:3.11"}]}}}}
    with pytest.raises(StepFailed) as failed:
        await manifests.apply(Apply.model_validate({"manifest": bad}), ctx)
    assert failed.value.message.startswith("deployment.apps/web: ")
    assert "spec.replicas" in failed.value.message + failed.value.details


async def test_bad_files_fail_the_step_clearly(make_ctx, tmp_path):
    ctx, _ = make_ctx()
    with pytest.raises(StepFailed, match=r"cannot read manifest missing\.yaml"):
        await manifests.apply(Apply.model_validate({"files": ["missing.yaml"]}), ctx)
    (tmp_path / "broken.yaml").write_text("a: [\n")
    with pytest.raises(StepFailed, match=r"broken\.yaml is not valid YAML"):
        await manifests.apply(Apply.model_validate({"files": ["broken.yaml"]}), ctx)
    (tmp_path / "nokind.yaml").write_text("metadata: {name: x}\n")
    with pytest.raises(StepFailed, match="apiVersion and kind"):
        await manifests.apply(Apply.model_validate({"files": ["nokind.yaml"]}), ctx)


async def test_delete_removes_objects_waits_and_refuses_missing_ones_unless_told(client, make_ctx, tmp_path):
    (tmp_path / "settings.yaml").write_text(CONFIGMAP)
    ctx, _ = make_ctx(variables={"namespace": "demo", "replicas": "1"})
    await manifests.apply(Apply.model_validate({"files": ["settings.yaml"]}), ctx)
    await manifests.delete(Delete.model_validate({"files": ["settings.yaml"]}), ctx)
    assert ctx.step.entries[-1].output == 'secret "token" deleted\nconfigmap "settings" deleted'
    with pytest.raises(NotFound):
        await client.get("v1", "ConfigMap", "settings", namespace="demo")
    with pytest.raises(StepFailed, match='secret "token" not found'):
        await manifests.delete(Delete.model_validate({"files": ["settings.yaml"]}), ctx)
    await manifests.delete(Delete.model_validate({"files": ["settings.yaml"], "ignoreNotFound": True}), ctx)
    assert "not found (ignored)" in ctx.step.entries[-1].output
