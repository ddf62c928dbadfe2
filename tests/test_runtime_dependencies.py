"""flywheel imports with nothing installed but botocore (and what botocore requires).

A child process hides every other installed package (an import hook refuses them, as if they
were not installed) and imports each module a user may use without the optional extras.
Optional speed-ups (orjson) and botocore's own optional imports must fall back quietly.
"""
from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires

# Everything a user may import without the optional extras (local, demo, test, docs, bench).
CORE_MODULES = [
    "flywheel", "flywheel.cli", "flywheel.query", "flywheel.engine", "flywheel.models",
    "flywheel.fields.types", "flywheel.connection", "flywheel.connection.fast",
    "flywheel.local", "flywheel.tests", "flywheel.transfer", "flywheel.schema_update",
]

PROBE = """
import importlib, importlib.abc, sys
allowed = set({allowed!r}) | set(sys.stdlib_module_names)

class OnlyTheRuntimeDependencies(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition('.')[0]
        if top not in allowed and not top.startswith('_'):
            raise ModuleNotFoundError(f"No module named {{name!r}} (hidden)", name=name)
        return None

sys.meta_path.insert(0, OnlyTheRuntimeDependencies())
for module in {modules!r}:
    importlib.import_module(module)
"""


def runtime_distributions(root: str) -> set[str]:
    """``root`` and every distribution it requires (extras excluded), recursively."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = requires(name) or []
        except PackageNotFoundError:
            continue
        for requirement in requirements:
            if "extra ==" not in requirement:
                todo.append(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))  # type: ignore[union-attr]
    return seen


def test_flywheel_imports_with_only_botocore_installed() -> None:
    distributions = runtime_distributions("botocore")
    allowed = {"flywheel"} | {
        module
        for module, owners in packages_distributions().items()
        if any(owner.lower().replace("_", "-") in distributions for owner in owners)
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(allowed=sorted(allowed), modules=CORE_MODULES)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
