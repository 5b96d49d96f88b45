"""The decorators: ``@component``, ``@container_component``, ``@pipeline``, and ``importer``.

``@component`` reads the function's signature into a component interface
(inputs with types, defaults and docstring descriptions; outputs from
``Output[...]``/``OutputPath`` parameters and the return annotation) and
builds the container kfp would: ``python:3.11``, and the command
``sh -c <pip bootstrap of 'kfp==2.15.2' and packages_to_install>``
``sh -ec <launcher>`` ``<prelude + dedented function source>`` with args
``--executor_input {{$}} --function_to_execute <name>``. The command is
kfp's byte for byte, so the IR also runs on real Kubeflow; the sandbox's
workflow controller recognises the launcher and runs the function with
:mod:`sandbox.components.pipelines.executor` instead (no pip, no network).

``@container_component`` calls the function once with placeholders and keeps
the ``ContainerSpec`` it returns; ``@pipeline`` builds a
:class:`~.components.GraphComponent`; ``importer`` makes an importer task.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

from sandbox.components.pipelines.dsl import annotations as ann
from sandbox.components.pipelines.dsl import channels, placeholders, structures, types
from sandbox.components.pipelines.dsl.artifacts import Artifact
from sandbox.components.pipelines.dsl.components import (
    ContainerComponent,
    ContainerComponentArtifactChannel,
    GraphComponent,
    ImporterComponent,
    PythonComponent,
)
from sandbox.components.pipelines.dsl.tasks import PipelineTask

__all__ = ["component", "container_component", "importer", "pipeline"]

#: The kfp SDK version the IR claims (sdkVersion, and the kfp pin in the pip bootstrap).
KFP_SDK_VERSION = "2.15.2"
DEFAULT_BASE_IMAGE = "python:3.11"
SINGLE_OUTPUT_NAME = "Output"
EXECUTOR_MODULE = "kfp.dsl.executor_main"
EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"

_PIP_SCRIPT_TEMPLATE = '''
if ! [ -x "$(command -v pip)" ]; then
    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip
fi

PIP_DISABLE_PIP_VERSION_CHECK=1 {pip_install_commands} && "$0" "$@"
'''

_VENV_SCRIPT = '''
export PIP_DISABLE_PIP_VERSION_CHECK=1
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv" --system-site-packages
. "$tmp/venv/bin/activate"
'''

_DEFAULT_IMAGE_WARNING = (
    "The default base_image used by the @dsl.component decorator will switch from 'python:3.11' to "
    "'python:3.12' on Oct 1, 2027. To ensure your existing components work with versions of the KFP SDK released "
    "after that date, you should provide an explicit base_image argument and ensure your component works as "
    "intended on Python 3.12.")


# --- docstrings -------------------------------------------------------------------------------------

_GOOGLE_SECTIONS = {"args", "arguments", "parameters", "params", "returns", "return", "raises", "yields",
                    "yield", "attributes", "example", "examples", "note", "notes", "todo", "warning",
                    "warnings", "see also", "other parameters", "keyword args", "keyword arguments"}
_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "attributes", "keyword args",
                   "keyword arguments", "other parameters"}


def _is_section_header(lines: list[str], index: int) -> bool:
    stripped = lines[index].strip()
    if stripped.rstrip(":").lower() in _GOOGLE_SECTIONS and (
            stripped.endswith(":") or (index + 1 < len(lines) and set(lines[index + 1].strip()) == {"-"})):
        return True
    return stripped.startswith((":param", ":parameter", ":arg", ":argument", ":key", ":keyword", ":return",
                                ":raises", ":type", ":rtype"))


def parse_docstring(docstring: str | None) -> tuple[str | None, str | None, dict[str, str]]:
    """(short description, long description, {parameter: description}) of a Google/ReST/NumPy docstring."""
    if not docstring:
        return None, None, {}
    lines = inspect.cleandoc(docstring).splitlines()
    end = next((i for i in range(len(lines)) if _is_section_header(lines, i)), len(lines))
    short = lines[0].strip() if end > 0 and lines[0].strip() else None
    long = "\n".join(lines[1:end]).strip() or None if end > 1 else None
    # A section title given twice keeps only its last occurrence (docstring_parser's rule, which kfp uses).
    sections: dict[str, dict[str, str]] = {"": {}}
    index = end
    while index < len(lines):
        stripped = lines[index].strip()
        field = re.match(r":(?:param|parameter|arg|argument|key|keyword)\s+(?:\S+\s+)?(\w+)\s*:(.*)", stripped)
        if field:
            body = [field.group(2).strip()]
            index += 1
            while index < len(lines) and lines[index].strip() and not lines[index].strip().startswith(":"):
                body.append(lines[index].strip())
                index += 1
            sections[""][field.group(1)] = "\n".join(body).strip()
            continue
        title = stripped.rstrip(":")
        if _is_section_header(lines, index) and title.lower() in _PARAM_SECTIONS:
            numpy_style = not stripped.endswith(":")
            index += 2 if numpy_style else 1
            sections[title] = {}
            index = _parse_param_section(lines, index, sections[title], numpy_style=numpy_style)
            continue
        index += 1
    params = {name: text for section in sections.values() for name, text in section.items()}
    return short, long, params


def _parse_param_section(lines: list[str], index: int, params: dict[str, str], *, numpy_style: bool) -> int:
    indent: int | None = None
    name: str | None = None
    body: list[str] = []

    def flush() -> None:
        if name is not None:
            params[name] = inspect.cleandoc("\n".join(body)).strip()

    while index < len(lines):
        line = lines[index]
        if not line.strip():
            if numpy_style and index + 1 < len(lines) and _is_section_header(lines, index + 1):
                break
            body.append("")
            index += 1
            continue
        current = len(line) - len(line.lstrip())
        if not numpy_style and current == 0:
            break
        if numpy_style and _is_section_header(lines, index):
            break
        if indent is None:
            indent = current
        if current == indent:
            flush()
            if numpy_style:
                name, body = line.split(":")[0].strip(), []
            else:
                match = re.match(r"\s*(\*{0,2}\w+)\s*(?:\(.*?\))?\s*:(.*)", line)
                if match is None:
                    name, body = None, []
                else:
                    name, body = match.group(1).lstrip("*"), [match.group(2).strip()]
        else:
            body.append(line)
        index += 1
    flush()
    return index


def _description(decorator_description: str | None, short: str | None, long: str | None) -> str | None:
    if decorator_description:
        return decorator_description
    text = f"{short}\n{long}" if short and long else short
    return text.strip() if text else None


def _docstring_params_with_returns_as_args(docstring: str | None) -> dict[str, str]:
    """kfp describes outputs from the ``Returns:`` section, read as if it were ``Args:``."""
    if docstring is None:
        return {}
    for keyword in ("Returns:\n", "Returns\n", "Return:\n", "Return\n"):
        if keyword in docstring:
            return parse_docstring(docstring.replace(keyword.strip(), "Args:"))[2]
    return {}


# --- interfaces -------------------------------------------------------------------------------------

def _component_name(function_name: str) -> str:
    spaced = re.sub(" +", " ", function_name.replace("_", " ")).strip(" ")
    return spaced[0].upper() + spaced[1:]


def _unique(name: str, names: Any) -> str:
    if name not in names:
        return name
    for i in range(2, 100):
        if f"{name}_{i}" not in names:
            return f"{name}_{i}"
    raise RuntimeError(f"Too many arguments with the name {name}")


def _canonicalize(annotation: Any) -> Any:
    if ann.is_input_output_annotation(annotation):
        annotation = ann.strip_input_output_marker(annotation)
    if isinstance(annotation, ann.InputPath | ann.OutputPath):
        annotation = annotation.type
    return annotation


def _spec_args(annotation: Any) -> dict[str, Any]:
    is_artifact_list = ann.is_list_of_artifacts(annotation)
    if is_artifact_list:
        annotation = ann.inner_type(annotation)
    if ann.issubclass_of_artifact(annotation):
        type_ = types.create_bundled_artifact_type(annotation.schema_title, annotation.schema_version)
    else:
        type_ = types.annotation_to_type_struct(annotation)
    return {"type": type_, "is_artifact_list": is_artifact_list}


def _output_spec(annotation: Any) -> structures.OutputSpec:
    return structures.OutputSpec(**_spec_args(_canonicalize(annotation)))


def _input_spec(annotation: Any, param: inspect.Parameter) -> structures.InputSpec:
    annotation = _canonicalize(annotation)
    args = _spec_args(annotation)
    is_artifact = ann.issubclass_of_artifact(annotation) or args["is_artifact_list"]
    if is_artifact and param.default not in {None, inspect.Parameter.empty}:
        raise ValueError(f"Optional Input artifacts may only have default value None. Got: {param.default}.")
    default = None if param.default is inspect.Parameter.empty or ann.issubclass_of_artifact(annotation) \
        else param.default
    annotation_name = getattr(param.annotation, "__name__", "")
    optional = (param.default is not inspect.Parameter.empty
                or types.is_task_final_status_type(annotation_name) or types.is_task_config_type(annotation_name))
    return structures.InputSpec(**args, default=default, optional=optional)


def _is_parameter_annotation(annotation: Any) -> bool:
    return isinstance(annotation, str | dict) and types.is_parameter_type(annotation)


def _signature_specs(signature: inspect.Signature, *, containerized: bool = False,
                     ) -> tuple[dict[str, structures.InputSpec], dict[str, structures.OutputSpec]]:
    inputs: dict[str, structures.InputSpec] = {}
    outputs: dict[str, structures.OutputSpec] = {}
    for param in signature.parameters.values():
        name = param.name
        if name == SINGLE_OUTPUT_NAME:
            raise ValueError(f'"{SINGLE_OUTPUT_NAME}" is an invalid parameter name.')
        annotation = types.maybe_strip_optional(param.annotation)
        if annotation is inspect.Parameter.empty:
            raise TypeError(f"Missing type annotation for argument: {name}")
        if ann.is_input_artifact(annotation) or isinstance(annotation, ann.InputPath) \
                or _is_parameter_annotation(annotation):
            inputs[_unique(name, inputs)] = _input_spec(annotation, param)
        elif ann.issubclass_of_artifact(annotation) or ann.is_list_of_artifacts(annotation):
            if containerized:
                raise TypeError(
                    "Container Components must wrap input and output artifact annotations with Input/Output type "
                    f"markers (Input[<artifact>] or Output[<artifact>]). Got function input '{name}' with "
                    f"annotation {annotation}.")
            inputs[_unique(name, inputs)] = _input_spec(annotation, param)
        elif ann.is_output_artifact(annotation) or isinstance(annotation, ann.OutputPath):
            outputs[_unique(name, outputs)] = _output_spec(annotation)
        else:
            inputs[_unique(name, inputs)] = _input_spec(types.annotation_to_type_struct(annotation), param)

    returns = signature.return_annotation
    if containerized:
        if returns not in (inspect.Parameter.empty, structures.ContainerSpec):
            raise TypeError("Return annotation should be either ContainerSpec or omitted for container components.")
    elif returns is None or returns is inspect.Parameter.empty:
        pass
    elif hasattr(returns, "_fields"):
        field_annotations = getattr(returns, "__annotations__", None) or returns._field_types
        for field in returns._fields:
            field_annotation = field_annotations[field]
            if not ann.is_list_of_artifacts(field_annotation) and not types.is_artifact_class(field_annotation):
                field_annotation = types.annotation_to_type_struct(field_annotation)
            outputs[_unique(field, outputs)] = _output_spec(field_annotation)
    elif isinstance(returns, dict):
        warnings.warn("The ability to specify multiple outputs using the dict syntax has been deprecated. Please "
                      "use typing.NamedTuple to declare multiple outputs.", DeprecationWarning, stacklevel=3)
        for output_name, output_annotation in returns.items():
            outputs[_unique(output_name, outputs)] = types.annotation_to_type_struct(output_annotation)
    else:
        outputs[_unique(SINGLE_OUTPUT_NAME, outputs)] = _output_spec(returns)
    return inputs, outputs


def extract_component_interface(func: Callable[..., Any], *, containerized: bool = False,
                                description: str | None = None, name: str | None = None,
                                ) -> structures.ComponentSpec:
    """The component interface of a function: typed inputs and outputs with docstring descriptions."""
    inputs, outputs = _signature_specs(inspect.signature(func), containerized=containerized)
    docstring = inspect.getdoc(func)
    short, long, params = parse_docstring(docstring)
    for input_name, spec in inputs.items():
        if input_name in params:
            spec.description = params[input_name]
    return_params = _docstring_params_with_returns_as_args(docstring)
    for output_name, output_spec in outputs.items():
        if output_name in return_params:
            output_spec.description = return_params[output_name]
    return structures.ComponentSpec(
        name=name or _component_name(func.__name__), description=_description(description, short, long),
        inputs=inputs or None, outputs=outputs or None, implementation=structures.Implementation())


# --- lightweight Python components ------------------------------------------------------------------

def _index_url_options(pip_index_urls: list[str] | None, pip_trusted_hosts: list[str] | None) -> str:
    if not pip_index_urls:
        return ""
    options = [f"--index-url {pip_index_urls[0]}"]
    options += [f"--extra-index-url {url}" for url in pip_index_urls[1:]]
    if pip_trusted_hosts is None:
        options += [f"--trusted-host {url}" for url in pip_index_urls]
    else:
        options += [f"--trusted-host {host}" for host in pip_trusted_hosts]
    return " ".join(options) + " "


def _pip_install_command(install_parts: list[str], index_url_options: str) -> str:
    packages = " ".join(repr(str(package)) for package in install_parts)
    return f"python3 -m pip install --quiet --no-warn-script-location {index_url_options}{packages}"


def packages_to_install_command(*, packages_to_install: list[str] | None = None,
                                pip_index_urls: list[str] | None = None, install_kfp_package: bool = True,
                                kfp_package_path: str | None = None, target_image: str | None = None,
                                pip_trusted_hosts: list[str] | None = None, use_venv: bool = False) -> list[str]:
    """kfp's ``sh -c`` pip bootstrap (empty when nothing is installed)."""
    packages = packages_to_install or []
    inject_kfp = (install_kfp_package and target_image is None
                  and not any(package.startswith("kfp") for package in packages))
    if not inject_kfp and not packages:
        return []
    options = _index_url_options(pip_index_urls, pip_trusted_hosts)
    commands: list[str] = []
    if packages:
        commands.append(_pip_install_command(packages, options))
        if inject_kfp:
            commands.append(" && ")
    if inject_kfp:
        if use_venv:
            commands.append(_VENV_SCRIPT)
        parts = [kfp_package_path] if kfp_package_path else [
            f"kfp=={KFP_SDK_VERSION}", "--no-deps", 'typing-extensions>=3.7.4,<5; python_version<"3.9"']
        commands.append(_pip_install_command(parts, options))
    return ["sh", "-c", _PIP_SCRIPT_TEMPLATE.format(pip_install_commands=" ".join(commands))]


def function_source(func: Callable[..., Any]) -> str:
    """The function's source, dedented, decorators removed."""
    lines = textwrap.dedent(inspect.getsource(func)).split("\n")
    return "\n".join(itertools.dropwhile(lambda line: not line.startswith("def"), lines))


def lightweight_command_and_args(func: Callable[..., Any], additional_funcs: list[Callable[..., Any]] | None = None,
                                 ) -> tuple[list[str], list[str]]:
    """The ``sh -ec`` launcher with the component module source, and the executor args."""
    imports = ["import kfp", "from kfp import dsl", "from kfp.dsl import *", "from typing import *"]
    extra = ""
    if additional_funcs:
        extra = "\n\n" + "\n\n".join(function_source(f) for f in additional_funcs)
    source = textwrap.dedent("""
        {imports_source}{additional_funcs_source}{helper_block}

        {func_source}\n""").format(imports_source="\n".join(imports), additional_funcs_source=extra,
                                   helper_block="", func_source=function_source(func))
    launcher = textwrap.dedent(f'''\
                    program_path=$(mktemp -d)

                    printf "%s" "$0" > "$program_path/ephemeral_component.py"
                    _KFP_RUNTIME=true python3 -m {EXECUTOR_MODULE} \
                        --component_module_path \
                        "$program_path/ephemeral_component.py" \
                        "$@"
                ''')
    args = ["--executor_input", EXECUTOR_INPUT_PLACEHOLDER, "--function_to_execute", func.__name__]
    return ["sh", "-ec", launcher, source], args


def create_component_from_func(func: Callable[..., Any], *, base_image: str | None = None,
                               target_image: str | None = None, packages_to_install: list[str] | None = None,
                               pip_index_urls: list[str] | None = None, output_component_file: str | None = None,
                               install_kfp_package: bool = True, kfp_package_path: str | None = None,
                               pip_trusted_hosts: list[str] | None = None, use_venv: bool = False,
                               additional_funcs: list[Callable[..., Any]] | None = None) -> PythonComponent:
    """The implementation of ``@component``."""
    pip_command = packages_to_install_command(
        packages_to_install=packages_to_install, pip_index_urls=pip_index_urls,
        install_kfp_package=install_kfp_package, kfp_package_path=kfp_package_path, target_image=target_image,
        pip_trusted_hosts=pip_trusted_hosts, use_venv=use_venv)
    if base_image is None:
        base_image = DEFAULT_BASE_IMAGE
        warnings.warn(_DEFAULT_IMAGE_WARNING, FutureWarning, stacklevel=3)
    if target_image:
        image = target_image
        command = ["python3", "-m", EXECUTOR_MODULE]
        args = ["--executor_input", EXECUTOR_INPUT_PLACEHOLDER, "--function_to_execute", func.__name__]
    else:
        image = base_image
        command, args = lightweight_command_and_args(func, additional_funcs)
    component_spec = extract_component_interface(func)
    component_spec.implementation = structures.Implementation(container=structures.ContainerSpecImplementation(
        image=image, command=pip_command + command, args=args))
    component = PythonComponent(component_spec=component_spec, python_func=func, base_image=base_image,
                                packages_to_install=packages_to_install)
    if output_component_file:
        warnings.warn("output_component_file parameter is deprecated and will eventually be removed. Please use "
                      "`Compiler().compile()` to compile a component instead.", DeprecationWarning, stacklevel=3)
        from sandbox.components.pipelines.compiler import Compiler

        Compiler().compile(component, output_component_file)
    return component


def component(func: Callable[..., Any] | None = None, *, base_image: str | None = None,
              target_image: str | None = None, packages_to_install: list[str] | None = None,
              pip_index_urls: list[str] | None = None, output_component_file: str | None = None,
              install_kfp_package: bool = True, kfp_package_path: str | None = None,
              pip_trusted_hosts: list[str] | None = None, use_venv: bool = False,
              additional_funcs: list[Callable[..., Any]] | None = None,
              embedded_artifact_path: str | None = None, task_config_passthroughs: list[Any] | None = None,
              ) -> Any:
    """Makes a lightweight Python component of a function (kfp's ``@dsl.component``).

    ``packages_to_install`` is recorded in the IR exactly as kfp records it; in
    the sandbox the packages must already be installed (the executor checks,
    and never calls pip).
    """
    if embedded_artifact_path is not None or task_config_passthroughs is not None:
        raise NotImplementedError("embedded_artifact_path and task_config_passthroughs are not supported by "
                                  "kf-sandbox's DSL.")
    if func is None:
        return functools.partial(
            component, base_image=base_image, target_image=target_image, packages_to_install=packages_to_install,
            pip_index_urls=pip_index_urls, output_component_file=output_component_file,
            install_kfp_package=install_kfp_package, kfp_package_path=kfp_package_path,
            pip_trusted_hosts=pip_trusted_hosts, use_venv=use_venv, additional_funcs=additional_funcs)
    return create_component_from_func(
        func, base_image=base_image, target_image=target_image, packages_to_install=packages_to_install,
        pip_index_urls=pip_index_urls, output_component_file=output_component_file,
        install_kfp_package=install_kfp_package, kfp_package_path=kfp_package_path,
        pip_trusted_hosts=pip_trusted_hosts, use_venv=use_venv, additional_funcs=additional_funcs)


# --- container components ---------------------------------------------------------------------------

def _container_argument(name: str, annotation: Any) -> Any:
    if ann.is_input_artifact(annotation):
        if ann.is_list_of_artifacts(annotation.__origin__):
            return placeholders.InputListOfArtifactsPlaceholder(name)
        return ContainerComponentArtifactChannel(io_type="input", var_name=name)
    if ann.is_output_artifact(annotation):
        if ann.is_list_of_artifacts(annotation.__origin__):
            return placeholders.OutputListOfArtifactsPlaceholder(name)
        return ContainerComponentArtifactChannel(io_type="output", var_name=name)
    if isinstance(annotation, ann.OutputAnnotation | ann.OutputPath):
        return placeholders.OutputParameterPlaceholder(name)
    return placeholders.InputValuePlaceholder(name)


def container_component(func: Callable[..., structures.ContainerSpec]) -> ContainerComponent:
    """Makes a container component of a function returning a ``ContainerSpec`` (kfp's ``@dsl.container_component``)."""
    component_spec = extract_component_interface(func, containerized=True)
    arguments = [_container_argument(param.name, types.maybe_strip_optional(param.annotation))
                 for param in inspect.signature(func).parameters.values()]
    container_spec = func(*arguments)
    component_spec.implementation = structures.Implementation(
        container=structures.ContainerSpecImplementation.from_container_spec(container_spec))
    component_spec.validate_placeholders()
    return ContainerComponent(component_spec, func)


# --- pipelines ----------------------------------------------------------------------------------------

def pipeline(func: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None,
             pipeline_root: str | None = None, display_name: str | None = None,
             pipeline_config: Any = None) -> Any:
    """Makes a pipeline of a function (kfp's ``@dsl.pipeline``); the function runs now, to record its tasks."""
    if pipeline_config is not None:
        raise NotImplementedError("pipeline_config (workspaces) is not supported by kf-sandbox's DSL.")
    if func is None:
        return functools.partial(pipeline, name=name, description=description, pipeline_root=pipeline_root,
                                 display_name=display_name)
    if pipeline_root:
        func.pipeline_root = pipeline_root  # type: ignore[attr-defined]
    component_spec = extract_component_interface(func, description=description, name=name)
    return GraphComponent(component_spec=component_spec, pipeline_func=func, display_name=display_name)


# --- importer -----------------------------------------------------------------------------------------

def importer(artifact_uri: Any, artifact_class: type[Artifact], reimport: bool = False,
             metadata: dict[str, Any] | None = None, download_to_workspace: bool = False) -> PipelineTask:
    """A task that brings an existing artifact (by URI) into the pipeline; its ``.output`` is the artifact."""
    component_inputs: dict[str, structures.InputSpec] = {}
    call_inputs: dict[str, Any] = {}

    def with_placeholders(value: Any) -> Any:
        if isinstance(value, channels.PipelineParameterChannel):
            # The same channel used twice in the metadata becomes one input.
            existing = {channel: input_name for input_name, channel in call_inputs.items()}
            unique_name = existing.get(value, structures.make_name_unique_by_adding_index(
                "metadata", list(call_inputs), "-"))
            call_inputs[unique_name] = value
            component_inputs[unique_name] = structures.InputSpec(type=value.channel_type)
            return placeholders.InputValuePlaceholder(input_name=unique_name)._to_string()
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                new_key = with_placeholders(key)
                result[new_key] = with_placeholders(item)
            return result
        if isinstance(value, list):
            return [with_placeholders(item) for item in value]
        if isinstance(value, str):
            for channel in channels.extract_pipeline_channels_from_any(value):
                value = value.replace(channel.pattern, with_placeholders(channel))
            return value
        return value

    metadata_with_placeholders = with_placeholders(metadata)
    bundled_type = types.create_bundled_artifact_type(artifact_class.schema_title, artifact_class.schema_version)
    component_spec = structures.ComponentSpec(
        name="importer",
        implementation=structures.Implementation(importer=structures.ImporterSpec(
            artifact_uri=placeholders.InputValuePlaceholder("uri")._to_string(), schema_title=bundled_type,
            schema_version=artifact_class.schema_version, reimport=reimport, metadata=metadata_with_placeholders,
            download_to_workspace=download_to_workspace)),
        inputs={"uri": structures.InputSpec(type="String"), **component_inputs},
        outputs={"artifact": structures.OutputSpec(type=bundled_type)})
    return ImporterComponent(component_spec=component_spec)(uri=artifact_uri, **call_inputs)
