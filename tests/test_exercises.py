"""The exercise system: exercises/ is generated from solutions/, leaks nothing, and lints clean.

Grading (solution full marks, untouched copy zero) is tested in tests/test_grading.py.

Everything nbgrader does here happens in temporary course directories (tmp_path);
nothing is written into the repository.
"""

from __future__ import annotations

import shutil

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from _tools import ROOT, load_tool

ex = load_tool("cvbook_tools_exercises", ROOT / "tools" / "exercises.py")
SOLUTIONS = ex.solution_notebooks()
EXERCISES = sorted(ROOT.glob("exercises/*/*.ipynb"))


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def execute(nb, folder):
    NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """`check` run once into a temporary folder: its problems and the course it generated."""
    work = tmp_path_factory.mktemp("exercises-check")
    return ex.check(workdir=work), work / "course"


def test_there_are_exercises():
    assert SOLUTIONS, "no solution notebooks in solutions/*/"
    assert EXERCISES, "no exercise notebooks in exercises/*/ (run `make exercises`)"
    have = {p.relative_to(ROOT / "exercises") for p in EXERCISES}
    want = {p.relative_to(ROOT / "solutions") for p in SOLUTIONS}
    assert have == want, f"exercises/ and solutions/ hold different notebooks: {sorted(map(str, have ^ want))}"


# (a) -------------------------------------------------------------------- up to date


def test_exercises_are_up_to_date(checked):
    problems, _ = checked
    assert not problems, "exercises/ is stale; run `make exercises`:\n" + "\n".join(problems)


def test_check_reports_edits_outputs_and_missing_files(checked, tmp_path):
    """The comparison is not vacuous: a hand edit, stored outputs, extra and missing files show."""
    _, course = checked
    fresh = course / "exercises"
    committed = tmp_path / "exercises"
    shutil.copytree(fresh, committed)
    assert ex.compare_trees(fresh, committed) == []

    path = next(committed.glob("*/*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    test_cell = grade_cells(nb)[0]
    test_cell.source += "\nassert True"
    test_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    test_cell.execution_count = 3
    nbformat.write(nb, path)
    (path.parent / "notes.txt").write_text("stray")
    problems = "\n".join(ex.compare_trees(fresh, committed))
    assert "differs in source" in problems and "-assert True" in problems  # diff: committed -> generated
    assert "outputs or execution counts" in problems
    assert "notes.txt is not generated" in problems

    path.unlink()
    assert any("is missing" in p for p in ex.compare_trees(fresh, committed))


# (b) -------------------------------------------------------------------- no leaks


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_exercise_leaks_no_solution_or_hidden_test(path):
    text = path.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.name} contains {marker!r}"
    solution = ROOT / "solutions" / path.relative_to(ROOT / "exercises")
    assert ex.leaks(solution, path) == []
    nb, source = nbformat.read(path, as_version=4), nbformat.read(solution, as_version=4)
    regions = sum(c.source.count("BEGIN SOLUTION") for c in source.cells)
    first, second = ex.CODE_STUB.split("\n")  # indented like the region it replaces
    stubs = sum(
        a.strip() == first and b.strip() == second
        for c in nb.cells
        for a, b in zip(c.source.split("\n"), c.source.split("\n")[1:])
    )
    assert stubs == regions, f"{path.name}: {stubs} code stubs for {regions} solution regions"
    for k, cell in enumerate(nb.cells):
        assert not cell.get("outputs") and cell.get("execution_count") is None, (
            f"{path.name} cell {k} holds outputs (the students' notebook must be clean)"
        )


# (c) -------------------------------------------------------------------- lint


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_notebook_passes_lint(path):
    problems = ex.lint_notebook(path)
    assert not problems, "\n".join(problems)


def _write_pair(nb, folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    jupytext.write(nb, folder / f"{name}.py", fmt="py:percent")
    return folder / f"{name}.ipynb"


def test_lint_finds_broken_metadata(tmp_path):
    nb = ex.skeleton("ch99", "lint test", ROOT)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cells["ex1_text"].metadata.nbgrader.grade_id = "intro"  # duplicate id
    cells["ex1_answer"].source = cells["ex1_answer"].source.replace("### END SOLUTION", "")
    tests = cells["ex1_conv_tests"]
    tests.metadata.nbgrader.points = 0  # graded, no points
    tests.source = "\n".join(ln for ln in tests.source.split("\n") if "assert" not in ln)
    cells["imports"].metadata.nbgrader.schema_version = 2
    nb.cells[-1].source += "\n### BEGIN HIDDEN TESTS"  # marker in a plain cell
    path = _write_pair(nb, tmp_path / "solutions" / "ch99", "ch99_exercises")
    problems = "\n".join(ex.lint_notebook(path, tmp_path))
    for expected in (
        "'intro' is also used by cell 1",
        "'BEGIN SOLUTION' without 'END SOLUTION'",
        "needs points > 0",
        "has no assert",
        "schema_version must be 3",
        "'BEGIN HIDDEN TESTS' in a cell without nbgrader metadata",
    ):
        assert expected in problems, f"lint missed {expected!r}; it said:\n{problems}"

    (path.with_suffix(".py")).write_text(path.with_suffix(".py").read_text().replace("lint test", "edited"))
    assert any("differs from ch99_exercises.py" in p for p in ex.lint_notebook(path, tmp_path))


# (d) -------------------------------------------------------------------- grading
# "The solution scores full marks and the untouched exercise 0" is checked for every
# chapter by the instructors' grading command itself: tests/test_grading.py.


# `new` ------------------------------------------------------------------ a new chapter


def test_new_chapter_skeleton_lints_generates_and_runs(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("nbgrader_config.py", "_config.yml"):
        shutil.copyfile(ROOT / name, repo / name)
    py, ipynb = ex.new_chapter("ch02", "convolutions", repo=repo)
    assert py.exists() and ipynb.exists()
    with pytest.raises(ex.ExerciseError, match="exists"):
        ex.new_chapter("ch02", repo=repo)
    with pytest.raises(ex.ExerciseError, match="ch02"):
        ex.new_chapter("chapter2", repo=repo)
    assert ex.lint_notebook(ipynb, repo) == []
    assert "# Chapter 2 exercises: convolutions" in ipynb.read_text()
    assert "exercises/ch02/ch02_exercises.ipynb" in ipynb.read_text()

    release = ex.build_release(["ch02"], tmp_path / "course", repo) / "ch02" / "ch02_exercises.ipynb"
    assert ex.leaks(ipynb, release) == []

    solved = execute(nbformat.read(ipynb, as_version=4), tmp_path)
    assert not [c.source[:40] for c in solved.cells if errors(c)], "the skeleton's solution fails its own tests"
    blank = execute(nbformat.read(release, as_version=4), tmp_path)
    for cell in grade_cells(blank):
        assert [e.ename for e in errors(cell)] == ["NotImplementedError"]
