"""Docs that cannot drift: every setting and every command is in the README, and the
README's quick start is what CI runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from server.cli import parser
from server.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_default():
    for name, (default, _desc) in SETTINGS.items():
        row = re.search(rf"^\| `{name}` \| (.+?) \|", README, re.M)
        assert row, f"{name} is missing from the README's configuration table"
        assert (f"`{default}`" if default else "(unset)") == row.group(1), name


def test_the_quick_start_has_the_two_commands_ci_runs():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^    (make \w+)", quick, re.M)
    assert commands == ["make run", "make test"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_cli_command_is_documented():
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in sub.choices:
        assert f"`votewire {command}" in README, f"votewire {command} is not in the README"
