"""The project's own tools: stamping the repository address, notebook budgets."""

from __future__ import annotations

from pathlib import Path

from _tools import ROOT, load_tool

stamp = load_tool("cvbook_tools_stamp", ROOT / "tools" / "stamp.py")
budgets = load_tool("cvbook_root_conftest", ROOT / "conftest.py")


def test_stamp_rewrites_every_kind_of_link():
    repo = stamp.Repo("new-owner", "new-book", "trunk", "v9.9")
    text = (
        "[![Open](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/old/repo/blob/main/chapters/01_x.ipynb)\n"
        '"cvbook @ git+https://github.com/old/repo@v0.1.0"\n'
        "see https://github.com/old/repo/blob/main/exercises/ch01/ch01_exercises.ipynb\n"
        "and https://github.com/old/repo/tree/main/utils\n"
        "but not https://docs.github.com/en/pages nor https://pytorch.org/\n"
    )
    out = stamp.stamp_text(text, repo)
    assert "colab.research.google.com/github/new-owner/new-book/blob/trunk/chapters/01_x.ipynb" in out
    assert '"cvbook @ git+https://github.com/new-owner/new-book@v9.9"' in out
    assert "https://github.com/new-owner/new-book/blob/trunk/exercises/ch01/ch01_exercises.ipynb" in out
    assert "https://github.com/new-owner/new-book/tree/trunk/utils" in out
    assert "https://docs.github.com/en/pages" in out and "old/repo" not in out
    assert stamp.stamp_text(out, repo) == out  # idempotent


def test_stamp_reads_the_one_address_in_config():
    repo = stamp.Repo.from_config()
    config = (ROOT / "_config.yml").read_text()
    assert f"https://github.com/{repo.owner}/{repo.name}" in config


def test_badges_must_point_at_their_own_notebook():
    good = "colab.research.google.com/github/o/r/blob/main/chapters/02_conv.ipynb"
    assert stamp.badge_problems(Path("chapters/02_conv.ipynb"), good) == []
    assert stamp.badge_problems(Path("chapters/03_cnn.ipynb"), good)
    sol = "colab.research.google.com/github/o/r/blob/main/exercises/ch02/ch02_exercises.ipynb"
    assert stamp.badge_problems(Path("solutions/ch02/ch02_exercises.ipynb"), sol) == []


def test_budgets(monkeypatch):
    monkeypatch.setattr(
        budgets, "_times", {"chapters/01_a.ipynb": 200.0, "solutions/ch01/x.ipynb": 30.0, "chapters/02_b.ipynb": 100.0}
    )
    assert budgets.budget_for("chapters/01_a.ipynb") == 180
    assert budgets.budget_for("solutions/ch01/x.ipynb") == 60
    assert budgets.budget_for("tests/test_x.py") is None
    assert budgets._over_budget() == [("chapters/01_a.ipynb", 200.0, 180.0)]
    monkeypatch.setitem(budgets.NOTEBOOK_BUDGET_S, "chapters/01_a.ipynb", 240.0)
    assert budgets._over_budget() == []


def test_longest_scopes_run_first_and_a_notebooks_cells_stay_together():
    from types import SimpleNamespace

    ids = [
        "tests/test_a.py::test_one",
        "tests/test_fairness.py::TestFairnessCh99::test_exercises_grade_fairly",
        "chapters/01_light.ipynb::Cell 0",
        "chapters/01_light.ipynb::Cell 1",
        "chapters/10_semantic_segmentation.ipynb::Cell 0",
        "chapters/10_semantic_segmentation.ipynb::Cell 1",
        "tests/test_a.py::test_two",
        "chapters/10_semantic_segmentation.ipynb::Cell 2",
    ]
    items = [SimpleNamespace(nodeid=i) for i in ids]
    budgets.pytest_collection_modifyitems(None, None, items)
    order = [i.nodeid for i in items]
    assert order[:3] == [f"chapters/10_semantic_segmentation.ipynb::Cell {k}" for k in range(3)]
    # an unlisted notebook (DEFAULT_SCOPE_S 50 s) before an unlisted chapter's grading run (30 s)
    assert order[3:5] == ["chapters/01_light.ipynb::Cell 0", "chapters/01_light.ipynb::Cell 1"]
    assert order[5] == "tests/test_fairness.py::TestFairnessCh99::test_exercises_grade_fairly"
    assert order[6:] == ["tests/test_a.py::test_one", "tests/test_a.py::test_two"]
    assert (
        budgets._scope("tests/test_fairness.py::TestFairnessCh01::test_x") == "tests/test_fairness.py::TestFairnessCh01"
    )
    assert budgets._scope("tests/test_a.py::test_one[1-2]") == "tests/test_a.py"


def test_budget_overrun_fails_a_real_nbval_run(pytester):
    """A notebook over its budget turns a green nbval run red, naming the notebook and its time."""
    import nbformat

    pytester.makeconftest(
        (ROOT / "conftest.py")
        .read_text()
        .replace(
            'DEFAULT_BUDGET_S = {"chapters": 180.0, "solutions": 60.0}',
            'DEFAULT_BUDGET_S = {"chapters": 0.5, "solutions": 60.0}',
        )
    )
    (pytester.path / "chapters").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(1.0)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, pytester.path / "chapters" / "slow.ipynb")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "chapters")
    result.stdout.fnmatch_lines(["*FAILED budget: chapters/slow.ipynb took *s, over its 0.5 s budget*", "*1 passed*"])
    assert result.ret == 1


def test_nbval_with_our_options_catches_a_wrong_checked_number(pytester):
    """The harness can fail: a checked cell whose stored output is wrong fails nbval,
    an unchecked one does not (--nbval-lax), and the sanitizer hides memory addresses."""
    import nbformat

    v4 = nbformat.v4

    def cell(source, text, count):
        c = v4.new_code_cell(source, execution_count=count)
        c.outputs = [v4.new_output("stream", name="stdout", text=text)]
        return c

    nb = v4.new_notebook(
        cells=[
            cell("# NBVAL_CHECK_OUTPUT\nprint(6 * 7)", "42\n", 1),  # right
            cell("print(1 + 1)", "3\n", 2),  # wrong, unchecked
            cell(
                "# NBVAL_CHECK_OUTPUT\nprint(object.__repr__(object()).split()[-1][:-1])", "0x7f00deadbeef\n", 3
            ),  # address, sanitized
            cell("# NBVAL_CHECK_OUTPUT\nprint(2 ** 10)", "1000\n", 4),  # wrong, checked
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, pytester.path / "check.ipynb")
    (pytester.path / "sanitize.cfg").write_text((ROOT / "tests" / "sanitize.cfg").read_text())
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        "sanitize.cfg",
        "check.ipynb",
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*check.ipynb::Cell 3*"])


def test_device_check_reports_a_changed_checked_output_a_claim_and_a_crash(tmp_path):
    """tools/device_check.py (notebooks as scripts on a GPU box): every kind of finding is reported."""
    import json
    import subprocess
    import sys

    import nbformat

    def notebook(name, cells):
        nb = nbformat.v4.new_notebook()
        for source, output in cells:
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)] if output else []
            nb.cells.append(cell)
        path = tmp_path / name
        nbformat.write(nb, path)
        return str(path)

    good = notebook("good.ipynb", [("# NBVAL_CHECK_OUTPUT\nprint(6 * 7)", "42\n"), ("x = 1\nx + 1", "")])
    changed = notebook("changed.ipynb", [("# NBVAL_CHECK_OUTPUT\nprint(6 * 8)", "42\n")])
    claimed = notebook(
        "claimed.ipynb",
        [("from cvbook.measured import claim\nclaim('t.value', 0.5, low=0.9)\nprint('after')", "")],
    )
    crashed = notebook("crashed.ipynb", [("print('a')", ""), ("1 / 0", ""), ("print('never')", "")])
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "device_check.py"), good, changed, claimed, crashed, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reports = {Path(r["notebook"]).name: r for r in json.loads((out / "device_check.json").read_text())}
    assert reports["good.ipynb"]["error"] is None and not reports["good.ipynb"]["differs"]
    assert reports["changed.ipynb"]["differs"][0]["got"] == "48"
    (value,) = reports["claimed.ipynb"]["claims"]
    assert value["name"] == "t.value" and not value["ok"]  # recorded, not raised: the cell ran on
    assert reports["claimed.ipynb"]["error"] is None and reports["claimed.ipynb"]["cells"] == 1
    assert reports["crashed.ipynb"]["error_cell"] == 1 and "ZeroDivisionError" in reports["crashed.ipynb"]["error"]
    assert "claim out of band: t.value" in proc.stdout
