"""Kubeflow Pipelines: the KFP REST API v2beta1, served under ``/pipeline`` on the web port.

``kfp.Client(host="http://127.0.0.1:<web port>/pipeline")`` talks to this
package exactly as it talks to Kubeflow. Everything it serves lives in the
cluster, where KFP keeps it, so kubectl and the API always agree:

- pipelines and their versions are ``Pipeline``/``PipelineVersion`` objects
  (:mod:`.pipelines`; packages read by :mod:`.upload`);
- a run is its ``Workflow`` (:mod:`.runs`; retry rules in :mod:`.retry`);
- a recurring run is a ``ScheduledWorkflow`` (:mod:`.recurring`), run by the
  scheduled-workflow controller (:mod:`..workflow.scheduled`);
- experiments, which have no Kubernetes kind in KFP either, are rows of a
  small SQLite table in the sandbox home (:mod:`.experiments`).

:mod:`.app` builds the Starlette app (:func:`create_app`); :mod:`.listing`
implements filter/sort/paging, :mod:`.messages` proto3-JSON conventions,
:mod:`.errors` KFP's error body.
"""

from sandbox.components.pipelines.api.app import API_PREFIX, KfpApi, create_app

__all__ = ["API_PREFIX", "KfpApi", "create_app"]
