"""The artifact store: where a run's task outputs live, laid out as KFP lays them out.

KFP names every output artifact by a URI under the pipeline root (default
``minio://mlpipeline/v2/artifacts``; a pipeline's ``defaultPipelineRoot`` or
a run's ``runtime_config.pipeline_root`` override it). Its driver builds the
URI as::

    <pipeline root>/<pipeline name>/<run id>/<task name>/<salt>/<output name>

where the task name is the task's ``taskInfo.name`` and the salt a fresh
UUID per execution, so retries and loop iterations never overwrite each
other (``metadata.GenerateOutputURI``; a query string on the root is dropped
from output URIs). The newest KFP also puts the executor output file in that
task root (``<task root>/output_metadata.json``) so ``dsl.get_uri`` can turn
local paths back into URIs; the sandbox does the same.

In the sandbox every URI is a local path under one root directory
(:mod:`.uris`: ``minio://b/k`` → ``<root>/minio/b/k``; ``s3://`` and ``gs://``
roots map the same way, with a warning). Data flow for one execution:

1. the workflow controller asks :meth:`ArtifactStore.task_outputs` for the
   execution's :class:`TaskOutputs` and :meth:`ArtifactStore.prepare` makes
   the directories;
2. it puts the artifact URIs and the parameter/executor-output file paths
   into the executor input; the task's pod (same filesystem, no upload)
   writes artifacts at ``uri_to_path(uri)``, parameters to their files;
3. the controller reads them back: :meth:`ArtifactStore.read_executor_output`
   and :meth:`ArtifactStore.read_parameter` (by declared type);
4. the API lists, sizes and deletes a run's outputs by pipeline name and run
   id (:meth:`ArtifactStore.list_run`, :meth:`ArtifactStore.run_size`,
   :meth:`ArtifactStore.delete_run`).

Output parameter files sit beside the artifacts in ``<task root>/.parameters/``
(KFP uses ``/tmp/kfp/outputs/<name>`` inside the pod; sandbox pods share one
filesystem, so each execution needs its own). Output names come from Python
identifiers, so neither ``.parameters`` nor ``output_metadata.json`` can
clash with an artifact.

Nothing escapes the root: every name that becomes a path segment (pipeline,
run, task, execution, output) must be one segment (no ``/``, ``\\``, ``..``,
NUL, ``?``, ``#``), URIs go through :func:`.uris.uri_to_path`, and a path
that would leave the root through a symbolic link is refused — all with
:class:`~.uris.UnsafeURI`. Standard library only, like the rest of storage.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .parameters import format_parameter_text, parse_parameter_text
from .uris import UnsafeURI, path_to_uri, uri_to_path

__all__ = [
    "DEFAULT_PIPELINE_ROOT",
    "EXECUTOR_OUTPUT_FILE",
    "PARAMETERS_DIR",
    "ArtifactStore",
    "StoredArtifact",
    "TaskOutputs",
]

#: KFP's default pipeline root (the MinIO bucket its installation creates).
DEFAULT_PIPELINE_ROOT = "minio://mlpipeline/v2/artifacts"
#: The executor output file in a task root, as the newest KFP driver places it.
EXECUTOR_OUTPUT_FILE = "output_metadata.json"
#: The directory of a task root that holds output parameter files.
PARAMETERS_DIR = ".parameters"

_FORBIDDEN = ("/", "\\", "\x00", "?", "#")


def _segment(value: object, what: str) -> str:
    """``value`` as one safe path segment, else :class:`UnsafeURI`."""
    text = str(value)
    if not text or text in (".", "..") or any(c in text for c in _FORBIDDEN) \
            or text != text.strip():
        raise UnsafeURI(f"{what} {text!r} cannot be part of an artifact path")
    return text


def _tree_size(path: Path) -> int:
    """Bytes under ``path`` (a file, or a directory walked without following links)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0
    if not path.is_dir() or path.is_symlink():
        return info.st_size
    total = 0
    for directory, _, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except FileNotFoundError:
                continue
    return total


@dataclass(frozen=True)
class TaskOutputs:
    """The outputs of one task execution: its task root as URI and as local path."""

    uri: str
    path: Path

    def artifact_uri(self, name: str) -> str:
        """The URI of output artifact ``name`` (KFP's ``<task root>/<name>``)."""
        return f"{self.uri}/{_segment(name, 'output name')}"

    def artifact_path(self, name: str) -> Path:
        """The local path behind :meth:`artifact_uri`."""
        return self.path / _segment(name, "output name")

    def parameter_path(self, name: str) -> Path:
        """The file output parameter ``name`` is written to."""
        return self.path / PARAMETERS_DIR / _segment(name, "output name")

    @property
    def executor_output_path(self) -> Path:
        """The executor output file (``outputs.outputFile`` of the executor input)."""
        return self.path / EXECUTOR_OUTPUT_FILE


@dataclass(frozen=True)
class StoredArtifact:
    """One output artifact found in the store (a file, or a directory of files)."""

    uri: str
    path: Path
    task: str
    execution: str
    name: str
    size: int
    is_dir: bool


class ArtifactStore:
    """Task outputs of pipeline runs under one local ``root`` (see the module docstring)."""

    def __init__(self, root: Path | str, *,
                 default_pipeline_root: str = DEFAULT_PIPELINE_ROOT) -> None:
        self.root = Path(root)
        self.default_pipeline_root = self._normalized_root(default_pipeline_root)

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    # ------------------------------------------------------------------ URIs and paths

    def pipeline_root(self, pipeline_root: str | None = None) -> str:
        """The pipeline root a run uses: ``pipeline_root`` (a run's or a
        pipeline's) or the store's default, without query string or trailing
        slash. ``s3://``/``gs://`` roots are kept locally, with a warning."""
        return self._normalized_root(pipeline_root or self.default_pipeline_root)

    def _normalized_root(self, value: str) -> str:
        value = value.split("?", 1)[0].rstrip("/")
        uri_to_path(value, self.root)
        return value

    def path(self, uri: str) -> Path:
        """The local path of ``uri``; :class:`UnsafeURI` if it is not in the store."""
        path = uri_to_path(uri, self.root)
        if not self._inside(path):
            raise UnsafeURI(f"artifact URI {uri!r} leads out of the store through a "
                            "symbolic link")
        return path

    @functools.cached_property
    def _real_root(self) -> str:
        return os.path.realpath(self.root)

    def _inside(self, path: Path) -> bool:
        """Whether ``path``, symbolic links followed, is in the store (the store's own root is resolved once)."""
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def uri(self, path: Path | str) -> str:
        """The URI of a local path in the store (the inverse of :meth:`path`)."""
        return path_to_uri(Path(path), self.root)

    def run_root(self, pipeline_name: str, run_id: str, *,
                 pipeline_root: str | None = None) -> str:
        """``<pipeline root>/<pipeline name>/<run id>``: where a run's outputs go."""
        return (f"{self.pipeline_root(pipeline_root)}/{_segment(pipeline_name, 'pipeline name')}"
                f"/{_segment(run_id, 'run id')}")

    def task_outputs(self, pipeline_name: str, run_id: str, task_name: str, *,
                     execution_id: str | int | None = None,
                     pipeline_root: str | None = None) -> TaskOutputs:
        """The outputs of one execution of task ``task_name`` (its ``taskInfo.name``);
        the salt is ``execution_id`` when given, else a new UUID, as in KFP."""
        salt = _segment(execution_id if execution_id is not None else uuid.uuid4(),
                        "execution id")
        uri = (f"{self.run_root(pipeline_name, run_id, pipeline_root=pipeline_root)}"
               f"/{_segment(task_name, 'task name')}/{salt}")
        return TaskOutputs(uri=uri, path=self.path(uri))

    def output_uri(self, pipeline_name: str, run_id: str, task_name: str, output_name: str, *,
                   execution_id: str | int | None = None,
                   pipeline_root: str | None = None) -> str:
        """The URI of one output artifact (KFP's ``generateOutputURI``)."""
        outputs = self.task_outputs(pipeline_name, run_id, task_name, execution_id=execution_id,
                                    pipeline_root=pipeline_root)
        return outputs.artifact_uri(output_name)

    # ------------------------------------------------------------------ one execution

    def prepare(self, outputs: TaskOutputs, *, artifacts: Iterable[str] = (),
                parameters: Iterable[str] = (), create: bool = True) -> None:
        """Create the directories an execution writes into: the task root (the
        parent of every artifact path, as KFP's launcher does) and, when it has
        output parameters, their directory. Names are checked on the way;
        ``create=False`` only checks them (for an executor that makes its own)."""
        for name in artifacts:
            outputs.artifact_path(name)
        names = [outputs.parameter_path(name) for name in parameters]
        self._check(outputs.path)
        if not create:
            return
        os.makedirs(outputs.path, exist_ok=True)
        if names:
            (outputs.path / PARAMETERS_DIR).mkdir(exist_ok=True)

    def write_parameter(self, outputs: TaskOutputs, name: str, value: Any) -> Path:
        """Write output parameter ``name`` as KFP's text form; returns the file."""
        path = outputs.parameter_path(name)
        self._check(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(format_parameter_text(value), encoding="utf-8")
        return path

    def read_parameter(self, outputs: TaskOutputs, name: str, parameter_type: str) -> Any:
        """Output parameter ``name`` read back by its declared ``parameterType``;
        ``FileNotFoundError`` when the task did not write it."""
        path = outputs.parameter_path(name)
        self._check(path)
        return parse_parameter_text(path.read_text(encoding="utf-8"), parameter_type)

    def read_parameters(self, outputs: TaskOutputs, types: Mapping[str, str]) -> dict[str, Any]:
        """Every output parameter of ``types`` (name → parameterType) that was written."""
        values = {}
        for name, parameter_type in types.items():
            try:
                values[name] = self.read_parameter(outputs, name, parameter_type)
            except FileNotFoundError:
                continue
        return values

    def write_executor_output(self, outputs: TaskOutputs, data: Mapping[str, Any]) -> Path:
        """Write the executor output JSON (``parameterValues``, ``artifacts``)."""
        path = outputs.executor_output_path
        self._check(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    def read_executor_output(self, outputs: TaskOutputs) -> dict[str, Any]:
        """The executor output JSON, or ``{}`` when the task wrote none (as KFP's
        launcher treats a missing file)."""
        path = outputs.executor_output_path
        self._check(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"executor output {path} is not a JSON object")
        return data

    def _check(self, path: Path) -> None:
        if not self._inside(path):
            raise UnsafeURI(f"{path} leads out of the store through a symbolic link")

    # ------------------------------------------------------------------ whole runs

    def _run_dir(self, pipeline_name: str, run_id: str, pipeline_root: str | None) -> Path:
        return self.path(self.run_root(pipeline_name, run_id, pipeline_root=pipeline_root))

    def list_run(self, pipeline_name: str, run_id: str, *,
                 pipeline_root: str | None = None) -> list[StoredArtifact]:
        """The output artifacts of a run, by task name, execution and output name."""
        run_dir = self._run_dir(pipeline_name, run_id, pipeline_root)
        run_uri = self.run_root(pipeline_name, run_id, pipeline_root=pipeline_root)
        found = []
        if not run_dir.is_dir() or run_dir.is_symlink():
            return found
        for task_dir in sorted(run_dir.iterdir()):
            if not task_dir.is_dir() or task_dir.is_symlink():
                continue
            for execution_dir in sorted(task_dir.iterdir()):
                if not execution_dir.is_dir() or execution_dir.is_symlink():
                    continue
                for entry in sorted(execution_dir.iterdir()):
                    if entry.name in (EXECUTOR_OUTPUT_FILE, PARAMETERS_DIR):
                        continue
                    found.append(StoredArtifact(
                        uri=f"{run_uri}/{task_dir.name}/{execution_dir.name}/{entry.name}",
                        path=entry, task=task_dir.name, execution=execution_dir.name,
                        name=entry.name, size=_tree_size(entry),
                        is_dir=entry.is_dir() and not entry.is_symlink()))
        return found

    def run_size(self, pipeline_name: str, run_id: str, *,
                 pipeline_root: str | None = None) -> int:
        """Bytes a run takes in the store: artifacts, parameter files, executor outputs."""
        return _tree_size(self._run_dir(pipeline_name, run_id, pipeline_root))

    def run_ids(self, pipeline_name: str, *, pipeline_root: str | None = None) -> list[str]:
        """The runs of a pipeline that have outputs in the store."""
        pipeline_dir = self.path(f"{self.pipeline_root(pipeline_root)}/"
                                 f"{_segment(pipeline_name, 'pipeline name')}")
        if not pipeline_dir.is_dir() or pipeline_dir.is_symlink():
            return []
        return sorted(p.name for p in pipeline_dir.iterdir() if p.is_dir() and not p.is_symlink())

    def delete_run(self, pipeline_name: str, run_id: str, *,
                   pipeline_root: str | None = None) -> int:
        """Delete everything a run stored; returns the bytes freed (0 if nothing).
        Symbolic links inside are removed, never followed."""
        run_dir = self._run_dir(pipeline_name, run_id, pipeline_root)
        if not run_dir.exists() and not run_dir.is_symlink():
            return 0
        freed = _tree_size(run_dir)
        if run_dir.is_symlink() or not run_dir.is_dir():
            run_dir.unlink()
        else:
            shutil.rmtree(run_dir)
        try:
            run_dir.parent.rmdir()
        except OSError:
            pass
        return freed
