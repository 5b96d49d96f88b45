"""``packages_to_install`` in the sandbox: check they are installed, never install them.

On Kubeflow a lightweight component's command pip-installs its packages at
start. The sandbox makes no network calls, so the executor only checks that
each requirement (``numpy``, ``scikit-learn>=1.4``, ``pandas[parquet]``) names
an installed distribution; a missing one fails the task with a message that
says how to fix it. A version that does not satisfy the specifier is warned
about, not fatal (the installed one is what the sandbox has). Requirements
pip could only fetch (URLs, paths) count as missing. ``kfp`` itself is always
satisfied: the executor provides ``kfp.dsl``.

Standard library only (``packaging`` is used when present, for specifiers).
"""

from __future__ import annotations

import re

__all__ = ["MissingPackages", "check_packages", "missing_message"]

_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
                          r"(?P<spec>[^;]*?)\s*(?:;(?P<marker>.*))?$")
_PROVIDED_BY_SANDBOX = {"kfp", "kfp-pipeline-spec"}


class MissingPackages(Exception):
    """Requirements of a component that are not installed in the sandbox."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        super().__init__(missing_message(packages))
        self.packages = packages


def missing_message(packages: tuple[str, ...] | list[str]) -> str:
    return "\n".join(
        f"package {package} is not installed in the sandbox; the sandbox makes no network calls — install it "
        "into kf-sandbox's environment" for package in packages)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_applies(marker: str | None) -> bool:
    if not marker or not marker.strip():
        return True
    try:
        from packaging.markers import Marker
    except ImportError:  # without packaging, assume it applies
        return True
    return Marker(marker.strip()).evaluate()


def _version_warning(requirement: str, name: str, spec: str) -> str | None:
    import importlib.metadata

    if not spec:
        return None
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return None
    installed = importlib.metadata.version(name)
    if SpecifierSet(spec).contains(installed, prereleases=True):
        return None
    return f"package {requirement}: the sandbox has {name} {installed} installed and uses it"


def check_packages(packages: list[str]) -> list[str]:
    """Raises :class:`MissingPackages` for requirements not installed; returns warnings for version mismatches."""
    if not packages:
        return []
    import importlib.metadata  # only when there is something to check: it costs a pod ~10 ms to import

    missing: list[str] = []
    warnings: list[str] = []
    for requirement in packages:
        match = _REQUIREMENT.match(requirement)
        if match is None or "://" in requirement or requirement.strip().startswith((".", "/", "-")):
            missing.append(requirement)
            continue
        if not _marker_applies(match["marker"]):
            continue
        name = match["name"]
        if _normalise(name) in _PROVIDED_BY_SANDBOX:
            continue
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
            continue
        warning = _version_warning(requirement, name, match["spec"])
        if warning:
            warnings.append(warning)
    if missing:
        raise MissingPackages(tuple(missing))
    return warnings
