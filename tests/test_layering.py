"""The house's shape, declared and checked: the import-linter contracts of pyproject.toml
(server → dashboards → ingest; nothing in server imports the wiring or the CLI; the
layers inside server; no cycles), and no import hidden inside a function to dodge a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

LAZY_IMPORTS: set[tuple[str, str]] = set()
"""(module path, imported module) of imports deliberately made inside a function because
they are costly and rarely needed. None today: say why in a comment beside one if added."""


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    """`lint-imports` of this environment (no cache files left in the tree)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold():
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert f"Contracts: {len(contracts['contracts'])} kept, 0 broken." in done.stdout


def test_the_contracts_catch_a_route_importing_the_app(tmp_path):
    """A contract that cannot fail proves nothing: point one at a module that does import
    the wiring and it must be broken."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["server"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "demo"\ntype = "forbidden"\n'
        'source_modules = ["server.cli.serve"]\nforbidden_modules = ["server.app"]\n'
    )
    done = lint_imports(str(config))
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout + done.stderr


def test_no_import_hides_inside_a_function():
    hidden = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    name = getattr(node, "module", None) or node.names[0].name
                    where = str(path.relative_to(ROOT))
                    if (where, name) not in LAZY_IMPORTS:
                        hidden.append(f"{where}:{node.lineno} {name}")
    assert not hidden, hidden
