"""kf-sandbox's pipelines DSL: kfp 2.15's ``kfp.dsl`` surface, so a pipeline ports by changing one import.

Write ``from sandbox.pipelines import dsl`` (or keep ``from kfp import dsl``
inside component bodies: in task pods the executor maps ``kfp.dsl`` here).
Decorators (:func:`component`, :func:`container_component`,
:func:`pipeline`) turn functions into components; calling a component inside
a pipeline function makes a :class:`PipelineTask`; control flow
(:class:`If`/:class:`Elif`/:class:`Else`, :class:`ParallelFor`,
:class:`ExitHandler`, :class:`OneOf`, :class:`Collected`) groups tasks; the
compiler (:mod:`sandbox.components.pipelines.compiler`) writes the IR the
real kfp SDK would.

Data flow: decorator → ComponentSpec → (pipeline function runs) tasks and
groups in a :class:`~.context.Pipeline` → compiler → IR dict/YAML. In a pod,
only the artifact classes and annotations are used, by the executor.

Light by contract (import-linter): no cluster, servers, networkx or kfp.
"""

from sandbox.components.pipelines.dsl.annotations import (
    Input,
    InputPath,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
    TaskConfig,
)
from sandbox.components.pipelines.dsl.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Markdown,
    Metrics,
    Model,
    SlicedClassificationMetrics,
    get_uri,
)
from sandbox.components.pipelines.dsl.channels import OneOf
from sandbox.components.pipelines.dsl.components import LocalExecutionNotSupported
from sandbox.components.pipelines.dsl.factory import (
    component,
    container_component,
    importer,
    pipeline,
)
from sandbox.components.pipelines.dsl.groups import (
    Condition,
    Elif,
    Else,
    ExitHandler,
    If,
    ParallelFor,
)
from sandbox.components.pipelines.dsl.loops import Collected
from sandbox.components.pipelines.dsl.placeholders import ConcatPlaceholder, IfPresentPlaceholder
from sandbox.components.pipelines.dsl.structures import ContainerSpec
from sandbox.components.pipelines.dsl.tasks import PipelineTask

#: The pipeline run's display name (kfp: the run name).
PIPELINE_JOB_NAME_PLACEHOLDER = "{{$.pipeline_job_name}}"
#: The run's name in the workflow engine (the Argo Workflow's name).
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = "{{$.pipeline_job_resource_name}}"
#: The run's UUID.
PIPELINE_JOB_ID_PLACEHOLDER = "{{$.pipeline_job_uuid}}"
#: The task's name.
PIPELINE_TASK_NAME_PLACEHOLDER = "{{$.pipeline_task_name}}"
#: The task's ID (its ML Metadata execution ID).
PIPELINE_TASK_ID_PLACEHOLDER = "{{$.pipeline_task_uuid}}"
#: The path of the task's executor output file.
PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER = "{{$.outputs.output_file}}"
#: The task's whole executor input (JSON).
PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
#: The pipeline root (``minio://mlpipeline/v2/artifacts`` by default).
PIPELINE_ROOT_PLACEHOLDER = "{{$.pipeline_root}}"
#: When the run was created (UTC).
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_create_time_utc}}"
#: When the run was scheduled (UTC).
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_schedule_time_utc}}"
#: The path of the pipeline's shared workspace.
WORKSPACE_PATH_PLACEHOLDER = "{{$.workspace_path}}"

__all__ = [
    "HTML",
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER",
    "PIPELINE_TASK_ID_PLACEHOLDER",
    "PIPELINE_TASK_NAME_PLACEHOLDER",
    "WORKSPACE_PATH_PLACEHOLDER",
    "Artifact",
    "ClassificationMetrics",
    "Collected",
    "ConcatPlaceholder",
    "Condition",
    "ContainerSpec",
    "Dataset",
    "Elif",
    "Else",
    "ExitHandler",
    "If",
    "IfPresentPlaceholder",
    "Input",
    "InputPath",
    "LocalExecutionNotSupported",
    "Markdown",
    "Metrics",
    "Model",
    "OneOf",
    "Output",
    "OutputPath",
    "ParallelFor",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "SlicedClassificationMetrics",
    "TaskConfig",
    "component",
    "container_component",
    "get_uri",
    "importer",
    "pipeline",
]
