"""What the grading command reports (cvbook.grading), without running nbgrader.

* a submission that calls ``sys.exit`` is reported in ``problems`` (IPython turns it into a
  ``SystemExit`` error and the grader goes on, so it used to be graded silently);
* the console table stays aligned for long student names;
* parallel jobs write whole lines: their output never interleaves.

The full grading run (nbgrader, kernels, feedback) is tested in tests/test_grading.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat

from cvbook import grading


def _graded_notebook(path: Path, exit_code: str = "1") -> Path:
    nb = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("x = 1")
    quits = nbformat.v4.new_code_cell("import sys\nsys.exit(1)")
    quits.outputs = [nbformat.v4.new_output("error", ename="SystemExit", evalue=exit_code, traceback=["SystemExit: 1"])]
    answer = nbformat.v4.new_code_cell("def f():\n    exit()")
    answer.metadata["nbgrader"] = {"grade_id": "ex1_answer", "solution": True}
    answer.outputs = [nbformat.v4.new_output("error", ename="SystemExit", evalue="", traceback=[])]
    nb.cells = [ok, quits, answer]
    nbformat.write(nb, path)
    return path


def test_sys_exit_is_reported_with_the_cell(tmp_path):
    lines = grading._exit_calls(_graded_notebook(tmp_path / "nb.ipynb"))
    assert len(lines) == 2
    assert lines[0].startswith("cell 2 ('import sys') called sys.exit(1)")
    assert lines[1].startswith("cell 'ex1_answer' called sys.exit()")
    assert all("the grader went on" in line for line in lines)


def test_no_exit_no_problem_and_unreadable_notebook_is_no_crash(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])]
    nbformat.write(nb, tmp_path / "ok.ipynb")
    assert grading._exit_calls(tmp_path / "ok.ipynb") == []
    (tmp_path / "broken.ipynb").write_text("{")
    assert grading._exit_calls(tmp_path / "broken.ipynb") == []


def _fake_class(monkeypatch, students):
    """grade() with nbgrader's parts replaced: each student takes a few ms, in parallel."""
    expected = [grading.Expected("ch01_exercises.ipynb", [], None)]
    monkeypatch.setattr(grading, "find_source", lambda assignment, source: [Path("source.ipynb")])
    monkeypatch.setattr(grading, "prepare_course", lambda root, assignment, notebooks, verbose=False: root)
    monkeypatch.setattr(grading, "expected_notebooks", lambda course, assignment: expected)
    monkeypatch.setattr(grading, "_forks_allowed", lambda: False)  # no kernel zygote: no kernels here
    monkeypatch.setattr(
        grading, "discover", lambda path, names, workdir: [grading.Submission(s, s + ".ipynb") for s in students]
    )

    def grade_one(sub, course, assignment, expected, workdir, options, zygote=None):
        time.sleep(0.01)
        return grading.StudentResult(sub.student, sub.label, {"ex1": (1.0, 2.0)}, [], seconds=0.5, cpu_s=0.4)

    monkeypatch.setattr(grading, "grade_one", grade_one)
    monkeypatch.setattr(grading, "write_reports", lambda results, expected, assignment, out: Path(out) / "grades.csv")


def test_console_table_is_aligned_for_long_names_and_lines_never_interleave(monkeypatch, tmp_path):
    students = ["ann", "a_student_with_a_very_long_name_from_the_lms_export_2024", "bob", "c" * 40] * 3
    _fake_class(monkeypatch, students)
    written: list[str] = []
    in_log = threading.Lock()

    def slow_log(text):
        # a log that writes character by character: without the grader's lock, two jobs interleave
        busy = not in_log.acquire(blocking=False)
        try:
            for ch in text:
                written.append(ch)
                time.sleep(0.0001)
            written.append("\n")
        finally:
            if not busy:
                in_log.release()

    grading.grade("ch01", tmp_path, tmp_path / "out", None, grading.Options(jobs=4), log=slow_log)
    lines = "".join(written).splitlines()
    rows = [line for line in lines if line.startswith("  ")]
    assert len(rows) == len(students), lines
    for row in rows:
        assert row.split()[0] in students, f"interleaved output: {row!r}"
    # the score column starts at the same place in every row
    assert len({row.index(" 1 / 2") for row in rows}) == 1, rows
