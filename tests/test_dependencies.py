"""The lock file is what runs: it pins everything votewire needs, within pyproject's ranges,
and the environment the tests run in holds exactly those versions (`make` installs it)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def locked() -> dict[str, Version]:
    return {canonicalize_name(n): Version(v) for n, v in PIN.findall(LOCK.read_text())}


def declared() -> list[Requirement]:
    """pyproject's runtime dependencies and its test extra, for this platform."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    raw = project["dependencies"] + project["optional-dependencies"]["test"]
    reqs = [Requirement(r) for r in raw]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": "test"})]


def needed() -> set[str]:
    """Every distribution the installed votewire (with its test extra) pulls in."""
    seen: set[str] = set()
    todo = declared()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        extras = req.extras or {""}
        for raw in metadata.distribution(name).requires or []:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return seen


def test_every_pin_lies_within_pyprojects_ranges():
    pins = locked()
    for req in declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req}"
        )


def test_the_lock_pins_everything_votewire_needs():
    missing = sorted(needed() - locked().keys())
    assert not missing, f"installed and needed but not pinned in requirements.lock: {missing}"


def test_installed_versions_are_the_locked_ones():
    wrong = {}
    for name, version in locked().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = f"locked {version}, installed {installed}"
    assert not wrong, f"run `make` to install requirements.lock: {wrong}"


def test_the_lane_minimum_is_declared():
    """Below uvicorn 0.52.1 the fan-out lane is off (its protocol has no `disconnected`);
    below websockets 15 the tests' client has no `close_code`."""
    floors = {canonicalize_name(r.name): r.specifier for r in declared()}
    assert not floors["uvicorn"].contains("0.52.0") and floors["uvicorn"].contains("0.52.1")
    assert not floors["websockets"].contains("14.2")
