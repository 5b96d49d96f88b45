# Mutable defaults and functional NamedTuples are what pipeline authors write (and what the IR records).
# ruff: noqa: B006, UP014
"""Our DSL and compiler write the IR the real kfp 2.15.2 SDK writes, for a corpus of pipelines.

Each ``build_*`` function defines one pipeline against a ``dsl`` module passed
in: called with ``kfp.dsl`` it is a kfp pipeline, called with
``sandbox.pipelines.dsl`` it is ours — the same source, as a user porting a
pipeline would have it. Both are compiled to YAML files and the parsed IR
must be equal (nothing is normalised: the component sources, the ``kfp==2.15.2``
pip bootstrap and ``sdkVersion`` are identical by design), the files equal
line for line (header defaults by value, see ``_by_value``), and our YAML must
load in kfp as a component.
"""


import ast
import difflib
import re
import warnings
from typing import Any, NamedTuple, Optional

import pytest
import yaml

kfp = pytest.importorskip("kfp")

from kfp import compiler as kfp_compiler  # noqa: E402
from kfp import components as kfp_components  # noqa: E402
from kfp import dsl as kfp_dsl  # noqa: E402

from sandbox.pipelines import compiler as our_compiler  # noqa: E402
from sandbox.pipelines import dsl as our_dsl  # noqa: E402

IMAGE = "python:3.11"


def build_parameters_of_every_type(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def typed(text: str, count: int, ratio: float, flag: bool, items: list, mapping: dict,
              ints: list[int], floats: dict[str, float], maybe: Optional[str] = None,  # noqa: UP045
              number: int = 7, scale: float = 0.5, on: bool = False, words: list = ["a", "b"],
              config: dict = {"k": 1, "nested": {"x": [1, 2.5]}}, empty: str = "") -> str:
        """Uses every parameter type.

        A longer description
        over two lines.

        Args:
            text: Some text.
            count: How many
                times to repeat.

        Returns:
            Output: The joined text.
        """
        return text * count

    @dsl.component(base_image=IMAGE)
    def echo(message: str) -> str:
        return message

    @dsl.pipeline(name="every-type", display_name="Every type")
    def pipeline(text: str = "hi", count: int = 3, ratio: float = 1.5, flag: bool = True,
                 items: list = [1, "x", True], mapping: dict = {"a": {"b": 2}}, ints: list[int] = [1, 2],
                 floats: dict[str, float] = {"pi": 3.14}, required: str = "r") -> str:
        """A pipeline with parameters of every type.

        Its description comes from this docstring.
        """
        first = typed(text=text, count=count, ratio=ratio, flag=flag, items=items, mapping=mapping, ints=ints,
                      floats=floats)
        second = typed(text=f"{text}-{first.output}!", count=2, ratio=0.25, flag=False, items=[1, [2, 3]],
                       mapping={"x": first.output, "y": [1, 2]}, ints=[3], floats={"e": 2.71}, maybe=required,
                       number=count, on=flag)
        echo(message=dsl.PIPELINE_JOB_NAME_PLACEHOLDER)
        echo(message=f"{dsl.PIPELINE_TASK_NAME_PLACEHOLDER}/{dsl.PIPELINE_ROOT_PLACEHOLDER}")
        return echo(message=second.output).output

    return pipeline


def build_artifacts_between_tasks(dsl: Any) -> Any:
    Input, Output = dsl.Input, dsl.Output

    @dsl.component(base_image=IMAGE, packages_to_install=["scikit-learn", "numpy>=1.2"])
    def produce(data: Output[dsl.Dataset], model: Output[dsl.Model], metrics: Output[dsl.Metrics],
                roc: Output[dsl.ClassificationMetrics], sliced: Output[dsl.SlicedClassificationMetrics],
                page: Output[dsl.HTML], notes: Output[dsl.Markdown], blob: Output[dsl.Artifact],
                raw: dsl.OutputPath("Dataset"), param: dsl.OutputPath(str), number: dsl.OutputPath(int)):
        pass

    @dsl.component(base_image=IMAGE)
    def consume(data: Input[dsl.Dataset], model: Input[dsl.Model], raw: dsl.InputPath("Dataset"),
                generic: Input[dsl.Artifact], param: str, number: int,
                optional: Input[dsl.Model] = None) -> dsl.Model:
        return model

    @dsl.component(base_image="python:3.12-slim", install_kfp_package=False)
    def bare(data: dsl.Dataset, page: Input[dsl.HTML]) -> dsl.Markdown:
        return ""

    @dsl.pipeline
    def artifacts_pipeline() -> dsl.Model:
        made = produce()
        used = consume(data=made.outputs["data"], model=made.outputs["model"], raw=made.outputs["raw"],
                       generic=made.outputs["metrics"], param=made.outputs["param"], number=made.outputs["number"])
        bare(data=made.outputs["raw"], page=made.outputs["page"])
        return used.output

    return artifacts_pipeline


def build_named_tuple(dsl: Any) -> Any:
    class Stats(NamedTuple):
        mean: float
        count: int
        label: str
        model: dsl.Model

    @dsl.component(base_image=IMAGE)
    def stats(values: list) -> Stats:
        return Stats(0.0, 0, "", None)

    @dsl.component(base_image=IMAGE)
    def report(mean: float, count: int, label: str, model: dsl.Input[dsl.Model]) -> NamedTuple(
            "Report", [("summary", str), ("ok", bool), ("extra", dict)]):
        return ("", True, {})

    @dsl.pipeline
    def named_tuple_pipeline(values: list = [1, 2, 3]) -> NamedTuple("Outputs", [("summary", str), ("model", dsl.Model)]):
        computed = stats(values=values)
        reported = report(mean=computed.outputs["mean"], count=computed.outputs["count"],
                          label=computed.outputs["label"], model=computed.outputs["model"])
        outputs = NamedTuple("Outputs", [("summary", str), ("model", dsl.Model)])
        return outputs(summary=reported.outputs["summary"], model=computed.outputs["model"])

    return named_tuple_pipeline


def build_nested_pipeline(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.component(base_image=IMAGE)
    def train(steps: int, model: dsl.Output[dsl.Model]):
        pass

    @dsl.component(base_image=IMAGE)
    def show(model: dsl.Input[dsl.Model], total: int):
        pass

    @dsl.pipeline
    def inner(x: int, y: int = 1) -> NamedTuple("InnerOut", [("total", int), ("model", dsl.Model)]):
        total = add(a=x, b=y)
        trained = train(steps=total.output)
        out = NamedTuple("InnerOut", [("total", int), ("model", dsl.Model)])
        return out(total=total.output, model=trained.outputs["model"])

    @dsl.pipeline
    def outer(start: int = 5):
        first = add(a=start, b=2)
        nested = inner(x=first.output)
        again = inner(x=nested.outputs["total"], y=3).set_display_name("inner again")
        show(model=again.outputs["model"], total=nested.outputs["total"])

    return outer


def build_conditions(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def flip() -> str:
        return "heads"

    @dsl.component(base_image=IMAGE)
    def number() -> int:
        return 3

    @dsl.component(base_image=IMAGE)
    def ratio() -> float:
        return 0.5

    @dsl.component(base_image=IMAGE)
    def say(text: str) -> str:
        return text

    @dsl.pipeline
    def conditions(threshold: int = 2, enabled: bool = True, name: str = "x") -> str:
        coin = flip()
        num = number()
        rat = ratio()
        with dsl.If(coin.output == "heads", name="heads!"):
            heads = say(text="heads")
            with dsl.If(num.output > threshold):
                say(text=f"big {num.output}")
        with dsl.Elif(num.output <= 2):
            elif_task = say(text="small")
        with dsl.Elif(rat.output >= 1):
            say(text="ratio")
        with dsl.Else():
            tails = say(text="tails")
        with dsl.Condition(enabled == True):  # noqa: E712 (a DSL comparison, not a Python one)
            say(text="legacy")
        with dsl.If(rat.output != num.output):
            say(text="mixed numbers")
        with dsl.If(name == 1.5):
            say(text="string and float")
        with dsl.If(enabled == False):  # noqa: E712
            say(text="disabled")
        with dsl.If(coin.output == "tails"):
            one = say(text="one")
        with dsl.Else():
            other = say(text="other")
        picked = dsl.OneOf(one.output, other.output)
        say(text=picked)
        return dsl.OneOf(heads.output, elif_task.output, tails.output)

    return conditions


def build_loops(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def make_list() -> list[dict[str, int]]:
        return []

    @dsl.component(base_image=IMAGE)
    def double(x: int) -> int:
        return 2 * x

    @dsl.component(base_image=IMAGE)
    def make_data(x: int, data: dsl.Output[dsl.Dataset]):
        pass

    @dsl.component(base_image=IMAGE)
    def total(values: list[int]) -> int:
        return sum(values)

    @dsl.component(base_image=IMAGE)
    def merge(datasets: dsl.Input[list[dsl.Dataset]]) -> str:
        return ""

    @dsl.component(base_image=IMAGE)
    def show(text: str, n: int = 0):
        pass

    @dsl.pipeline
    def loops(numbers: list[int] = [1, 2], configs: list = [{"a": 1, "b": [1, 2]}]) -> list:
        listed = make_list()
        with dsl.ParallelFor([{"a": 1, "b": 10}, {"a": 2, "b": 20}], parallelism=2) as item:
            doubled = double(x=item.a)
            show(text=f"b={item.b}", n=item.a)
            with dsl.ParallelFor(numbers, parallelism=1) as number:
                inner = double(x=number)
                make_data(x=number)
            show(text="after inner", n=doubled.output)
        with dsl.ParallelFor(listed.output, name="from-output") as row:
            show(text="row", n=row.a)
        with dsl.ParallelFor(configs) as config:
            with dsl.ParallelFor(config.b) as b_item:
                show(text="nested field", n=b_item)
            produced = make_data(x=config.a)
        with dsl.ParallelFor([1, 2, 3]) as plain:
            show(text="plain", n=plain)
        total(values=dsl.Collected(doubled.output))
        total(values=dsl.Collected(inner.output))
        merge(datasets=dsl.Collected(produced.outputs["data"]))
        return dsl.Collected(doubled.output)

    return loops


def build_exit_handler(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def cleanup(status: dsl.PipelineTaskFinalStatus, label: str = "done"):
        print(status.state)

    @dsl.component(base_image=IMAGE)
    def work(x: int) -> int:
        return x

    @dsl.component(base_image=IMAGE)
    def fail():
        raise RuntimeError("boom")

    @dsl.pipeline
    def exit_handler(x: int = 1, label: str = "final"):
        exit_task = cleanup(label=label)
        with dsl.ExitHandler(exit_task, name="guarded"):
            first = work(x=x)
            fail().after(first)
        work(x=2)

    return exit_handler


def build_retries_and_caching(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def flaky(x: int) -> int:
        return x

    @dsl.component(base_image=IMAGE)
    def after_failure(status: dsl.PipelineTaskFinalStatus, x: int = 0):
        pass

    @dsl.pipeline
    def retries():
        a = flaky(x=1).set_retry(3)
        b = flaky(x=2).set_retry(num_retries=2, backoff_duration="10s", backoff_factor=3,
                                  backoff_max_duration="2h")
        c = flaky(x=a.output).set_caching_options(False).after(b)
        flaky(x=4).set_caching_options(True, cache_key="my-key").set_retry(1, backoff_duration="1m")
        after_failure(x=c.output).ignore_upstream_failure()

    return retries


def build_resources(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def train(x: int):
        pass

    @dsl.pipeline
    def resources(cpu: str = "2", memory: str = "4Gi", gpus: str = "1", image: str = "python:3.12"):
        (train(x=1).set_cpu_request("250m").set_cpu_limit("1.5").set_memory_request("512Mi")
         .set_memory_limit("2G").set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(2)
         .set_env_variable("MODE", "fast").set_env_variable("LEVEL", "3"))
        train(x=2).set_cpu_limit(cpu).set_memory_limit(memory).set_accelerator_type("nvidia.com/gpu") \
            .set_accelerator_limit(gpus).set_container_image(image)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            train(x=3).add_node_selector_constraint("cloud-tpus.google.com/v3").set_gpu_limit("4")
        train(x=4).set_memory_request("100").set_memory_limit("1Ki").set_cpu_request("0.1") \
            .set_container_image("custom:latest")

    return resources


def build_container_components(dsl: Any) -> Any:
    @dsl.container_component
    def shell(text: str, count: int, data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model],
              result: dsl.OutputPath(str), optional: str = "default", flag: bool = False):
        return dsl.ContainerSpec(
            image="alpine:3.19",
            command=["sh", "-c", 'echo "$0" "$1" > "$2"', text, dsl.ConcatPlaceholder(["n=", count, "!"])],
            args=[model.path, "--uri", model.uri, "--in", data.path, data.uri, "--meta", data.metadata,
                  model.metadata, "--out", result,
                  dsl.IfPresentPlaceholder(input_name="optional", then=["--optional", optional],
                                           else_=["--none"]),
                  dsl.IfPresentPlaceholder(input_name="flag", then=flag),
                  dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER, f"--flag={flag}"])

    @dsl.container_component
    def no_args():
        return dsl.ContainerSpec(image="busybox")

    @dsl.container_component
    def many(datasets: dsl.Input[list[dsl.Dataset]], out: dsl.Output[dsl.Artifact]):
        return dsl.ContainerSpec(image="busybox", command=["ls", datasets], args=[out.path])

    @dsl.component(base_image=IMAGE)
    def make(data: dsl.Output[dsl.Dataset]):
        pass

    @dsl.pipeline
    def containers(text: str = "hello"):
        made = make()
        ran = shell(text=text, count=2, data=made.outputs["data"])
        shell(text=ran.outputs["result"], count=3, data=made.outputs["data"], optional="given", flag=True)
        no_args().after(ran)
        with dsl.ParallelFor([1, 2]):
            looped = make()
        many(datasets=dsl.Collected(looped.outputs["data"]))

    return containers


def build_importer(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def use(data: dsl.Input[dsl.Dataset], model: dsl.Input[dsl.Model]):
        pass

    @dsl.component(base_image=IMAGE)
    def name() -> str:
        return "n"

    @dsl.pipeline
    def importing(uri: str = "gs://bucket/model", version: int = 3):
        data = dsl.importer(artifact_uri="minio://mlpipeline/data.csv", artifact_class=dsl.Dataset,
                            reimport=True, metadata={"rows": 10, "source": "survey", "tags": ["a", 1]})
        named = name()
        model = dsl.importer(artifact_uri=uri, artifact_class=dsl.Model,
                             metadata={"version": version, "name": named.output, "label": f"v{version}",
                                       "again": version})
        use(data=data.output, model=model.output)

    return importing


def build_oneof_artifacts(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def decide() -> int:
        return 1

    @dsl.component(base_image=IMAGE)
    def make(kind: str, data: dsl.Output[dsl.Dataset]):
        pass

    @dsl.component(base_image=IMAGE)
    def read(data: dsl.Input[dsl.Dataset]):
        pass

    @dsl.pipeline
    def oneof_artifacts() -> dsl.Dataset:
        choice = decide()
        with dsl.If(choice.output == 1):
            first = make(kind="first")
        with dsl.Elif(choice.output == 2):
            second = make(kind="second")
        with dsl.Else():
            third = make(kind="third")
        picked = dsl.OneOf(first.outputs["data"], second.outputs["data"], third.outputs["data"])
        read(data=picked)
        return picked

    return oneof_artifacts


def build_loop_over_artifacts(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def make(i: int, data: dsl.Output[dsl.Dataset]):
        pass

    @dsl.component(base_image=IMAGE)
    def read(data: dsl.Input[dsl.Dataset]) -> int:
        return 1

    @dsl.pipeline
    def producer() -> list[dsl.Dataset]:
        with dsl.ParallelFor([1, 2, 3]) as i:
            made = make(i=i)
        return dsl.Collected(made.outputs["data"])

    @dsl.pipeline
    def artifact_loop() -> list:
        produced = producer()
        with dsl.ParallelFor(produced.output, parallelism=2) as data:
            counted = read(data=data)
        return dsl.Collected(counted.output)

    return artifact_loop


def build_overrides(dsl: Any) -> Any:
    @dsl.component(base_image=IMAGE)
    def echo(text: str, times: int):
        pass

    @dsl.pipeline(name="overridden", description="Decorator description\nover two lines.",
                  pipeline_root="s3://bucket/root")
    def overrides(text: str = "x", times: int = 1, ratio: float = 0.5, extra: dict = {}):
        echo(text=text, times=times)

    return overrides


CORPUS = {
    "parameters_of_every_type": (build_parameters_of_every_type, {}),
    "artifacts_between_tasks": (build_artifacts_between_tasks, {}),
    "named_tuple": (build_named_tuple, {}),
    "nested_pipeline": (build_nested_pipeline, {}),
    "conditions_if_elif_else_oneof": (build_conditions, {}),
    "nested_parallel_for_collected": (build_loops, {}),
    "exit_handler_final_status": (build_exit_handler, {}),
    "retries_and_caching": (build_retries_and_caching, {}),
    "resources_accelerators_env": (build_resources, {}),
    "container_components_placeholders": (build_container_components, {}),
    "importer": (build_importer, {}),
    "oneof_artifacts": (build_oneof_artifacts, {}),
    "parallel_for_over_artifacts": (build_loop_over_artifacts, {}),
    "compile_time_overrides": (build_overrides, {
        "pipeline_parameters": {"text": "y", "times": 4, "ratio": 2, "extra": {"k": [1]}},
        "pipeline_name": "renamed", "pipeline_display_name": "Renamed pipeline"}),
}


def compile_both(build: Any, tmp_path: Any, **options: Any) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kfp_compiler.Compiler().compile(build(kfp_dsl), str(tmp_path / "kfp.yaml"), **options)
        our_compiler.Compiler().compile(build(our_dsl), str(tmp_path / "ours.yaml"), **options)
    return (tmp_path / "kfp.yaml").read_text(), (tmp_path / "ours.yaml").read_text()


def _by_value(text: str) -> list[Any]:
    """The file with header defaults parsed: kfp prints a dict default's keys in the order of its
    protobuf Struct (upb's hash order, neither insertion nor sorted order), which we cannot and need
    not reproduce; the header is a comment, so its defaults are compared by value."""
    lines: list[Any] = []
    for line in text.splitlines():
        match = re.match(r"(#.*\[Default: )(.*)\]$", line)
        lines.append((match[1], ast.literal_eval(match[2])) if match else line)
    return lines


def _diff(expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "kfp", "ours", n=3))


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_our_ir_equals_the_ir_kfp_writes_for_the_same_pipeline(case, tmp_path):
    build, options = CORPUS[case]
    theirs, ours = compile_both(build, tmp_path, **options)
    theirs_ir, ours_ir = yaml.safe_load(theirs), yaml.safe_load(ours)
    assert ours_ir == theirs_ir, _diff(yaml.safe_dump(theirs_ir), yaml.safe_dump(ours_ir))
    assert _by_value(ours) == _by_value(theirs), _diff(theirs, ours)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_kfp_loads_our_ir_as_a_component(case, tmp_path):
    build, options = CORPUS[case]
    _, ours = compile_both(build, tmp_path, **options)
    loaded = kfp_components.load_component_from_text(ours)
    ir = yaml.safe_load(ours)
    assert loaded.name == ir["pipelineInfo"]["name"]
    assert set(loaded.component_spec.inputs or {}) == set(ir["root"].get("inputDefinitions", {}).get("parameters", {})) \
        | set(ir["root"].get("inputDefinitions", {}).get("artifacts", {}))
