"""The image catalog: lookup, precedence, and Kubernetes' command/args rules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from sandbox.cluster.images.catalog import (
    DEFAULT_CATALOG,
    CatalogFileError,
    ImageCatalog,
    ImageEntry,
    how_to_add_mapping,
    is_python_command,
)

PY = sys.executable


@pytest.fixture
def catalog() -> ImageCatalog:
    return ImageCatalog.load()


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        ("python:3.11", "python"),
        ("python", "python"),
        ("docker.io/library/python:3.12-slim", "python"),
        ("busybox", "host"),
        ("busybox:1.36", "host"),
        ("alpine:3.20", "host"),
        ("ubuntu:22.04", "host"),
        ("debian:bookworm", "host"),
        ("bash:5", "host"),
    ],
)
def test_the_default_catalog_covers_the_common_images(catalog, image, kind):
    entry = catalog.resolve(image)
    assert entry is not None
    assert entry.kind == kind


@pytest.mark.parametrize("image", ["nginx:1.27", "pythonic/app:1", "Python:3", "not an image"])
def test_an_unknown_or_malformed_image_resolves_to_none(catalog, image):
    assert catalog.resolve(image) is None


def test_the_user_file_takes_precedence_and_adds_images(tmp_path):
    user = tmp_path / "images.yaml"
    user.write_text(
        "images:\n"
        "  - image: python:3.11\n"
        "    kind: host\n"
        "    cmd: [echo, user]\n"
        "  - image: example.com/team/app:*\n"
        "    kind: python\n"
    )
    catalog = ImageCatalog.load(user_file=user)
    assert catalog.resolve("docker.io/library/python:3.11").cmd == ["echo", "user"]
    assert catalog.resolve("python:3.12").kind == "python"  # still the packaged entry
    assert catalog.resolve("example.com/team/app:v7").kind == "python"


def test_a_missing_user_file_is_no_error(tmp_path):
    catalog = ImageCatalog.load(user_file=tmp_path / "absent.yaml")
    assert catalog.resolve("busybox") is not None


def test_within_a_file_an_exact_entry_beats_an_earlier_pattern():
    catalog = ImageCatalog(
        [
            [
                ImageEntry(image="app:*", kind="host", cmd=["pattern"]),
                ImageEntry(image="app:1", kind="host", cmd=["exact"]),
                ImageEntry(image="app:1*", kind="host", cmd=["later pattern"]),
            ]
        ]
    )
    assert catalog.resolve("app:1").cmd == ["exact"]
    assert catalog.resolve("app:10").cmd == ["pattern"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("images:\n  - image: x\n    kind: docker\n", "images.0.kind"),
        ("images:\n  - image: x\n    kind: host\n    colour: red\n", "images.0.colour"),
        ("images:\n  - image: 'X:1'\n    kind: host\n", "repository name must be lowercase"),
        ("images:\n  - image: x\n    kind: program\n", "'module' is required"),
        ("images: [\n", "not valid YAML"),
    ],
)
def test_a_bad_catalog_file_names_the_file_and_the_field(tmp_path, content, message):
    bad = tmp_path / "images.yaml"
    bad.write_text(content)
    with pytest.raises(CatalogFileError, match=message) as caught:
        ImageCatalog.load(user_file=bad)
    assert str(bad) in str(caught.value)


def test_the_packaged_catalog_is_valid_and_documented():
    assert DEFAULT_CATALOG.exists()
    assert (DEFAULT_CATALOG.parent / "README.md").exists()
    ImageCatalog.load(default_file=DEFAULT_CATALOG)


HOST = ImageEntry(image="img", kind="host", entrypoint=["ep", "--x"], cmd=["default"])


@pytest.mark.parametrize(
    ("container", "argv"),
    [
        ({}, ["ep", "--x", "default"]),
        ({"command": ["run"]}, ["run"]),
        ({"args": ["a", "b"]}, ["ep", "--x", "a", "b"]),
        ({"command": ["run"], "args": ["a"]}, ["run", "a"]),
        ({"command": [], "args": []}, ["ep", "--x", "default"]),
    ],
)
def test_command_and_args_follow_kubernetes_rules(container, argv):
    assert HOST.command(container) == (argv, False)


def test_an_image_without_entrypoint_or_cmd_and_no_command_gives_an_empty_argv():
    assert ImageEntry(image="img", kind="host").command({}) == ([], False)


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({}, ([PY], True)),
        ({"command": ["python", "train.py"]}, ([PY, "train.py"], True)),
        ({"command": ["/usr/local/bin/python3.11", "-u", "x.py"]}, ([PY, "-u", "x.py"], True)),
        # No ENTRYPOINT in the python image: args replace its CMD, as in Kubernetes.
        ({"args": ["-c", "print(1)"]}, (["-c", "print(1)"], False)),
        ({"args": ["python3", "x.py"]}, ([PY, "x.py"], True)),
        ({"command": ["sh", "-c", "python x.py"]}, (["sh", "-c", "python x.py"], False)),
    ],
)
def test_python_images_run_python_commands_with_this_interpreter(catalog, container, expected):
    assert catalog.resolve("python:3.11").command(container) == expected


def test_host_images_run_commands_as_given(catalog):
    entry = catalog.resolve("busybox")
    assert entry.command({}) == (["sh"], False)
    assert entry.command({"command": ["python3", "x.py"]}) == (["python3", "x.py"], False)


PROGRAM = ImageEntry(
    image="kserve/sklearnserver:*",
    kind="program",
    entrypoint=["python", "-m", "sklearnserver"],
    module="sandbox.components.serving.sklearn",
)


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({"args": ["--model_name=m"]}, ([PY, "-m", PROGRAM.module, "--model_name=m"], True)),
        ({}, ([PY, "-m", PROGRAM.module], True)),
        (
            {"command": ["python", "-m", "sklearnserver"], "args": ["--http_port=8080"]},
            ([PY, "-m", PROGRAM.module, "--http_port=8080"], True),
        ),
        ({"command": ["python", "debug.py"]}, ([PY, "debug.py"], True)),
        ({"command": ["sh", "-c", "env"]}, (["sh", "-c", "env"], False)),
    ],
)
def test_program_images_run_the_sandbox_module_in_place_of_the_entrypoint(container, expected):
    assert PROGRAM.command(container) == expected


def test_image_env_puts_this_interpreter_first_on_the_path_of_python_images(catalog):
    env = catalog.resolve("python:3.11").image_env()
    assert env["PATH"].split(":")[0] == str(Path(PY).parent)
    assert env["LANG"] == "C.UTF-8"
    assert catalog.resolve("busybox").image_env()["PATH"].startswith("/usr/local/sbin:")


@pytest.mark.parametrize(
    ("program", "is_python"),
    [
        ("python", True),
        ("python3", True),
        ("python3.11", True),
        ("/opt/conda/bin/python", True),
        ("pythonw", False),
        ("python2", False),
        ("./python", False),
        ("ipython", False),
    ],
)
def test_python_commands_are_recognised(program, is_python):
    assert is_python_command(program) is is_python


def test_how_to_add_mapping_shows_the_file_and_a_yaml_entry(tmp_path):
    user = tmp_path / "images.yaml"
    advice = how_to_add_mapping("docker.io/acme/trainer:1.0", user)
    assert str(user) in advice
    assert 'image "docker.io/acme/trainer:1.0" is not in the sandbox\'s image catalog' in advice
    snippet = advice[advice.index("images:") : advice.index("See ")]
    data = yaml.safe_load(snippet)
    entry = ImageEntry.model_validate(data["images"][0])
    assert entry.image == "acme/trainer:1.0"
    user.write_text(snippet)
    assert ImageCatalog.load(user_file=user).resolve("acme/trainer:1.0") is not None
