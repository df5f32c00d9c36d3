"""Static checks of the notebooks: pairs, checked cells, install cell, badges.

Nothing here rewrites a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# NBVAL_CHECK_OUTPUT"
CHAPTERS = sorted(ROOT.glob("chapters/*.ipynb"))
SOLUTIONS = sorted(ROOT.glob("solutions/*/*.ipynb"))
EXERCISES = sorted(ROOT.glob("exercises/*/*.ipynb"))
TESTED = CHAPTERS + SOLUTIONS


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def comparable(nb):
    """Cell types and sources, the part of a notebook its text pair holds."""
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert CHAPTERS, "no chapter notebooks found"
    assert SOLUTIONS, "no solution notebooks found"


@pytest.mark.parametrize("path", TESTED, ids=ids(TESTED))
def test_notebook_is_valid(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: kernelspec must be python3 (nbval and refresh start that kernel)"
    )


@pytest.mark.parametrize("path", TESTED, ids=ids(TESTED))
def test_text_pair_matches_notebook(path):
    pair = path.with_suffix(".py")
    assert pair.exists(), f"{path.name} has no py:percent pair {pair.name} (run `jupytext --sync`)"
    nb, text = nbformat.read(path, as_version=4), jupytext.read(pair)
    mine, theirs = comparable(nb), comparable(text)
    for k, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, (
            f"{path.name} and {pair.name} differ at cell {k}: "
            f"{a[1][:60]!r} vs {b[1][:60]!r} (edit the .py, then `make refresh NB={path}`)"
        )
    assert len(mine) == len(theirs), f"{path.name} has {len(mine)} cells, {pair.name} {len(theirs)}"


@pytest.mark.parametrize("path", TESTED, ids=ids(TESTED))
def test_checked_cells_have_stored_outputs(path):
    """nbval silently skips a cell whose execution_count is null: every checked cell must have one."""
    nb = nbformat.read(path, as_version=4)
    for k, cell in enumerate(code_cells(nb)):
        lines = cell.source.splitlines()
        loose = [ln for ln in lines if "NBVAL_CHECK_OUTPUT" in ln and ln.strip() != MARKER]
        assert not loose, (
            f"{path.name} code cell {k}: nbval ignores the marker line {loose[0]!r}; "
            f"write exactly {MARKER!r} on its own line"
        )
        if MARKER in (ln.strip() for ln in lines):
            assert cell.execution_count is not None, f"{path.name} code cell {k} is checked but was never executed"
            assert cell.outputs, f"{path.name} code cell {k} is checked but has no stored output"
            streams = [o.get("name") for o in cell.outputs if o.output_type == "stream"]
            assert "stderr" not in streams, f"{path.name} code cell {k}: a checked cell writes to stderr"
            text = json.dumps(cell.outputs)
            assert not re.search(r"0x[0-9a-f]{8,}", text), f"{path.name} code cell {k}: memory address in output"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_is_executed_and_checked(path):
    nb = nbformat.read(path, as_version=4)
    cells = code_cells(nb)
    assert all(c.execution_count is not None for c in cells), f"{path.name} has unexecuted cells"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name} was not run top to bottom in one go"
    assert sum(MARKER in c.source for c in cells) >= 3, f"{path.name} has too few checked cells"
    assert all(o.get("name") != "stderr" for c in cells for o in c.outputs), f"{path.name} writes to stderr"


@pytest.mark.parametrize("path", TESTED + EXERCISES, ids=ids(TESTED + EXERCISES))
def test_first_cell_installs_only_in_colab(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code", f"{path.name}: the first cell must be the Colab install cell"
    src = first.source
    assert 'if "google.colab" in sys.modules:' in src, f"{path.name}: install must be guarded by Colab"
    assert re.search(r'"cvbook @ git\+https://github\.com/[\w.-]+/[\w.-]+@[\w.-]+"', src), (
        f"{path.name}: install cell must pin the cvbook package to a tag or commit"
    )
    assert "torch" not in src.replace("torchvision are kept", "").replace("torch and", ""), (
        f"{path.name}: the install cell must not (re)install torch or torchvision"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_template_sections(path):
    nb = nbformat.read(path, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "colab-badge.svg" in md, f"{path.name}: no Open in Colab badge"
    for heading in ("Learning objectives", "Key takeaways", "Exercises"):
        assert re.search(rf"^#+ .*{heading}", md, re.M | re.I), f"{path.name}: no '{heading}' section"
    assert "{cite" in md, f"{path.name}: cites nothing from the bibliography"
    links = set(re.findall(r"/blob/[\w.-]+/(exercises/[\w.-]+/[\w.-]+\.ipynb)", md))
    assert links, f"{path.name}: no link to its exercise notebook"
    for link in links:
        assert (ROOT / link).exists(), f"{path.name} links to {link}, which does not exist"


def test_repository_address_is_stamped():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "stamp.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
