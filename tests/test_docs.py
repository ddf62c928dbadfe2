"""Every ```python block of README.md and of each page in docs/ runs against a real server.

README.md is self-contained (it starts its own embedded server). Each docs page runs its
blocks in order in one namespace that starts with ``engine``: an Engine in a namespace of its
own, connected to the session's test server — the pages say so once, in "Getting started".
Tables a page creates through ``engine`` are dropped afterwards by the ``engine`` fixture.
A block right after a line ``<!-- not run -->`` is skipped (e.g. it needs real AWS).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("**/*.md"))
BLOCK = re.compile(r"(<!-- not run -->\n)?^```python\n(.*?)^```", flags=re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return [code for skip, code in BLOCK.findall(path.read_text()) if not skip]


def run_blocks(path: Path, namespace: dict[str, Any]) -> None:
    for number, block in enumerate(python_blocks(path), 1):
        code = compile(block, f"{path.relative_to(ROOT)} python block {number}", "exec")
        exec(code, namespace)


def test_readme_tour_runs() -> None:
    assert len(python_blocks(ROOT / "README.md")) >= 5
    run_blocks(ROOT / "README.md", {"__name__": "readme"})


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT / "docs")) for p in PAGES])
def test_docs_page_runs(page: Path, engine: Any) -> None:
    run_blocks(page, {"__name__": "docs", "engine": engine})
