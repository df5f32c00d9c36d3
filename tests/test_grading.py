"""The instructors' grading command (cvbook.grading): one folder of submissions in, a CSV out.

Two parts:

* a fixture set of submissions of Chapter 1, built here from the solution and the
  students' notebook (correct, partially correct, raising, syntax error, infinite loop,
  crash, memory hog, noisy stderr/sys.exit/huge output, deleted test cell, deleted answer,
  duplicated cell, edited test cell, stripped metadata, corrupt JSON, empty file, the wrong
  notebook), graded in one run, each with its expected points and message;
* small pieces (discovering submissions, reading bad files, finding the source, errors).

Every chapter's solution, untouched students' copy and fairness fixtures are graded in
tests/test_fairness.py (one run per chapter); that is where CI runs the solution notebooks.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from cvbook import grading

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CHAPTER = "ch01"
NAME = f"{FIXTURE_CHAPTER}_exercises.ipynb"
CELL_TIMEOUT = 20  # seconds: short, so that the infinite loop costs little (10 was too tight on a busy machine)


# --------------------------------------------------------------------------- building submissions


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _load(folder: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / folder / FIXTURE_CHAPTER / NAME, as_version=4)


def solved() -> nbformat.NotebookNode:
    """The students' notebook with every answer filled in from the solution (no hidden tests)."""
    nb, source = _load("exercises"), _load("solutions")
    answers = {_gid(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        if _gid(cell) in answers:
            cell.source = "\n".join(ln for ln in answers[_gid(cell)].split("\n") if "### " not in ln)
    return nb


def cell(nb, gid):
    return next(c for c in nb.cells if _gid(c) == gid)


def points(nb, prefix: str = "") -> float:
    return sum(
        float(c.metadata.nbgrader.points)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and (_gid(c) or "").startswith(prefix)
    )


def override(nb, gid: str, body: str):
    """Redefine the first function of answer cell ``gid`` with ``body`` (appended to the cell)."""
    answer = cell(nb, gid)
    name = re.search(r"^def (\w+)", answer.source, re.M).group(1)
    answer.source += f"\n\n\ndef {name}(*args, **kwargs):\n" + "\n".join("    " + ln for ln in body.split("\n"))
    return nb


def build_fixtures(folder: Path) -> dict[str, tuple[float, list[str]]]:
    """Write the submissions; return student -> (expected points, words expected in problems/failures)."""
    full = solved()
    total = points(full)
    expected: dict[str, tuple[float, list[str]]] = {}

    def put(student, nb, score, words, name=None):
        path = folder / (name or f"{student}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        expected[student] = (score, words)

    # correct, handed in as a sub-folder with a renamed file
    put("correct", copy.deepcopy(full), total, ["is named My copy of"], name="correct/My copy of ch01.ipynb")
    # warnings on stderr, sys.exit in a cell, a huge output: no points lost, but the
    # sys.exit is reported (the grader goes on with the next cell; the student should know)
    nb = copy.deepcopy(full)
    cell(nb, "ex2_answer").source = cell(nb, "ex2_answer").source.replace(
        '    """',
        '    import sys, warnings\n    warnings.warn("this API is deprecated", UserWarning)\n'
        '    print("a torch-like warning on stderr", file=sys.stderr)\n    """',
        1,
    )
    nb.cells.insert(6, nbformat.v4.new_code_cell("import sys\nprint('x' * 5_000_000)\nsys.exit(1)"))
    put("noisy", nb, total, ["called sys.exit(1)"])
    # partially correct: exercise 3 left untouched
    nb = copy.deepcopy(full)
    cell(nb, "ex3_answer").source = _gid_source(_load("exercises"), "ex3_answer")
    put("partial", nb, total - points(nb, "ex3_"), ["ex3_gray_tests: NotImplementedError"])
    # an answer that raises
    put(
        "raising",
        override(copy.deepcopy(full), "ex2_answer", 'raise ValueError("boom")'),
        total - points(full, "ex2_"),
        ["ex2_standardize_tests: ValueError: boom"],
    )
    # a syntax error in an answer cell
    nb = copy.deepcopy(full)
    cell(nb, "ex4_answer").source += "\n\ndef oops(:\n    pass\n"
    put("syntax_error", nb, total - points(full, "ex4_"), ["ex4_fc_tests: NameError"])
    # an infinite loop: the test cell is stopped after CELL_TIMEOUT s (in exercise 2, whose
    # function only one cell calls: each cell that calls it would cost a timeout)
    put(
        "infinite_loop",
        override(copy.deepcopy(full), "ex2_answer", "while True:\n    pass"),
        total - points(full, "ex2_"),
        ["ex2_standardize_tests: CellTimeoutError"],
    )
    # a crash of the kernel (os._exit) while the tests run
    put(
        "crash",
        override(copy.deepcopy(full), "ex3_answer", "import os\nos._exit(1)"),
        total - points(full, "ex3_"),
        ["ex3_gray_tests: KernelDied"],
    )
    # a memory hog (2 GiB, over the 1.5 GiB limit used here)
    put(
        "memory_hog",
        override(copy.deepcopy(full), "ex3_answer", "import numpy\nreturn numpy.ones(2**28)"),
        total - points(full, "ex3_"),
        ["ex3_gray_tests: MemoryError"],
    )
    # a deleted test cell: put back from the source and graded
    nb = copy.deepcopy(full)
    nb.cells.remove(cell(nb, "ex2_standardize_tests"))
    put("deleted_test_cell", nb, total, ["test cell 'ex2_standardize_tests' is missing"])
    # a deleted answer cell: only its exercise is lost
    nb = copy.deepcopy(full)
    nb.cells.remove(cell(nb, "ex5_answer"))
    put(
        "deleted_answer_cell",
        nb,
        total - points(full, "ex5_"),
        ["answer cell 'ex5_answer' is missing", "ex5_shift_tests: NameError"],
    )
    # a duplicated test cell
    nb = copy.deepcopy(full)
    k = nb.cells.index(cell(nb, "ex1_to_chw_tests"))
    nb.cells.insert(k + 1, copy.deepcopy(nb.cells[k]))
    nb.cells[k + 1].id = "a-copy-of-the-tests"
    put("duplicated_cell", nb, total, ["'ex1_to_chw_tests' appears 2 times"])
    # a wrong answer whose test cell was edited to pass: the original tests are graded
    nb = override(copy.deepcopy(full), "ex4_answer", "return 0")
    cell(nb, "ex4_fc_tests").source = "# Tests of fc_parameters (2 points).\nassert True\n"
    put(
        "edited_test_cell",
        nb,
        total - points(full, "ex4_"),
        ["test cell 'ex4_fc_tests' was edited", "ex4_fc_tests: AssertionError"],
    )
    # metadata stripped (as some editors do): matched back by content, full marks
    nb = copy.deepcopy(full)
    for c in nb.cells:
        c.metadata = {}
    put("stripped_metadata", nb, total, ["metadata of", "matched back to the source by content"])
    # files that cannot run
    text = nbformat.writes(full)
    (folder / "corrupt_json.ipynb").write_text(text[: len(text) // 2])
    expected["corrupt_json"] = (0, ["not a valid notebook: the JSON is broken at line", "not run"])
    (folder / "empty_file.ipynb").write_text("")
    expected["empty_file"] = (0, ["the file is empty", "not run"])
    other = nbformat.read(ROOT / "exercises" / "ch02" / "ch02_exercises.ipynb", as_version=4)
    put("wrong_notebook", other, 0, ["this is not ch01_exercises.ipynb", "not run"])
    (folder / ".DS_Store").write_text("ignored")
    return expected


def _gid_source(nb, gid):
    return cell(nb, gid).source


# --------------------------------------------------------------------------- the fixture set


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("grading")
    expected = build_fixtures(work / "submissions")
    options = grading.Options(timeout=CELL_TIMEOUT, memory_mb=1536, student_timeout=300, jobs=2)
    results = grading.grade(FIXTURE_CHAPTER, work / "submissions", work / "out", ROOT, options, log=print)
    rows = {row["student"]: row for row in csv.DictReader(open(work / "out" / "grades.csv", encoding="utf-8"))}
    return expected, {r.student: r for r in results}, rows, work / "out"


def test_every_submission_is_a_row_with_its_expected_points_and_message(graded):
    expected, results, rows, _ = graded
    assert set(rows) == set(expected), f"students: {sorted(rows)} != {sorted(expected)}"
    wrong = []
    for student, (score, words) in expected.items():
        row = rows[student]
        said = row["problems"] + " | " + row["failed"]
        if float(row["total"]) != score:
            wrong.append(f"{student}: {row['total']} points, expected {score:g} ({said})")
        for word in words:
            if word not in said:
                wrong.append(f"{student}: {word!r} not in {said!r}")
        assert float(row["max"]) == points(solved())
    assert not wrong, "\n".join(wrong)


def test_clean_submissions_report_no_problem(graded):
    _, _, rows, _ = graded
    for student in ("raising", "partial", "syntax_error", "infinite_loop", "crash", "memory_hog"):
        assert rows[student]["problems"] == "", f"{student}: {rows[student]['problems']}"


def test_points_per_exercise_sum_to_the_total(graded):
    _, results, rows, _ = graded
    ids = [c.metadata.nbgrader.grade_id for c in solved().cells if c.metadata.get("nbgrader", {}).get("grade")]
    for student, row in rows.items():
        assert sum(float(row[g]) for g in ids) == float(row["total"]), student
    assert rows["raising"]["ex2_standardize_tests"] == "0" and rows["raising"]["ex1_to_chw_tests"] == "2"
    # and per exercise (ex1 has two test cells)
    assert rows["correct"]["ex1"] == "4" and rows["raising"]["ex2"] == "0" and "ex5" in rows["raising"]


def test_feedback_per_student_says_what_failed_and_why(graded):
    _, _, rows, out = graded
    for student in rows:
        md = (out / "feedback" / f"{student}.md").read_text()
        assert f"feedback for {student}" in md and "| check | points | result |" in md
        assert (out / "feedback" / f"{student}.html").stat().st_size > 0
    md = (out / "feedback" / "raising.md").read_text()
    assert "| `ex2_standardize_tests` | 0 / 3 | failed: ValueError: boom |" in md
    assert "SyntaxError" in (out / "feedback" / "syntax_error.md").read_text()
    assert "the file is empty" in (out / "feedback" / "empty_file.md").read_text()
    html = (out / "feedback" / "raising.html").read_text()
    assert "ValueError" in html and "<html" in html.lower()  # nbgrader's feedback page


def test_feedback_keeps_the_hidden_tests_private(graded):
    """Students get feedback/: no hidden test code, no traceback lines (autograded/ is the instructors')."""
    _, _, rows, out = graded
    assert "_reference" in (out / "autograded" / "raising" / NAME).read_text()  # a hidden test's name
    for student in rows:
        for path in (out / "feedback" / f"{student}.html", out / "feedback" / f"{student}.md"):
            text = path.read_text()
            assert "_reference" not in text and "HIDDEN TESTS" not in text, f"{path.name} shows hidden tests"
    assert "(hidden tests: not shown)" in (out / "feedback" / "raising.html").read_text()
    data = json.loads((out / "results.json").read_text())
    assert {s["student"] for s in data["students"]} == set(rows)


def test_huge_output_is_cut_and_nothing_leaks_into_the_grader(graded):
    _, results, _, out = graded
    nb = out / "autograded" / "noisy" / NAME
    assert nb.stat().st_size < 2_000_000, "the 5 MB output must be cut"
    assert "output cut by the grader" in nb.read_text()


def test_grading_one_student_takes_less_than_a_minute_of_cpu(graded):
    _, results, _, _ = graded
    for res in results.values():
        if res.ran and res.student not in ("infinite_loop", "crash"):
            assert res.cpu_s is not None and res.cpu_s < 60, f"{res.student}: {res.cpu_s} CPU-s"


# --------------------------------------------------------------------------- small pieces


def test_submissions_from_a_zip_folders_and_files(tmp_path):
    folder = tmp_path / "lms"
    (folder / "Jane Doe_123_assignsubmission_file_").mkdir(parents=True)
    (folder / "Jane Doe_123_assignsubmission_file_" / NAME).write_text("{}")
    (folder / "bob.ipynb").write_text("{}")
    (folder / "notes.pdf").write_text("%PDF")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*"):
            zf.write(path, Path("ch01 submissions") / path.relative_to(folder))
        zf.writestr("../evil.ipynb", "{}")
        zf.writestr("__MACOSX/._bob.ipynb", "junk")
    subs = grading.discover(archive, [NAME], tmp_path / "work")
    assert [s.student for s in subs] == ["Jane_Doe_123_assignsubmission_file", "bob", "notes"]
    assert subs[0].files[NAME].name == NAME and not subs[0].problems
    assert "not an .ipynb file" in subs[2].problems[0]
    assert not (tmp_path / "evil.ipynb").exists()


def test_read_submission_reports_bad_files_in_words(tmp_path):
    cases = {
        "empty.ipynb": ("", "empty"),
        "broken.ipynb": ('{"cells": [', "JSON is broken at line 1"),
        "list.ipynb": ("[1, 2]", "without a list of cells"),
        "binary.ipynb": (b"\xff\xfe\x00", "not text"),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        nb, problem = grading.read_submission(path)
        assert nb is None and words in problem, (name, problem)


def test_find_source_accepts_a_notebook_a_folder_or_the_repository(tmp_path, monkeypatch):
    nb = ROOT / "solutions" / "ch01" / NAME
    assert grading.find_source("ch01", nb) == [nb]
    assert grading.find_source("ch01", nb.parent) == [nb]
    assert grading.find_source("ch01", ROOT) == [nb]
    monkeypatch.chdir(ROOT / "tests")
    assert grading.find_source("ch01") == [nb]
    with pytest.raises(grading.GradingError, match="no notebook"):
        grading.find_source("ch01", tmp_path)


def test_command_line_errors_are_words_not_tracebacks(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "cvbook.grading", "ch01", str(tmp_path / "nothing"), "--source", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "does not exist" in run.stderr and "Traceback" not in run.stderr


# --------------------------------------------------------------------------- grading processes


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_a_runaway_grading_process_is_stopped_with_its_kernel(tmp_path):
    """--student-timeout ends the student's grading process (forked from the server that has
    nbgrader imported) and its kernel; the student is reported and nothing keeps running."""
    assert grading._fork_context() is not None, "the forkserver should be used on Linux"
    nb = override(solved(), "ex3_answer", "while True:\n    pass")
    (tmp_path / "in").mkdir()
    nbformat.write(nb, tmp_path / "in" / "runaway.ipynb")
    options = grading.Options(timeout=600, student_timeout=15, jobs=1, keep_work=True, feedback=False)
    lines: list[str] = []
    results = grading.grade(FIXTURE_CHAPTER, tmp_path / "in", tmp_path / "out", ROOT, options, log=lines.append)
    (res,) = results
    assert res.total == 0 and any("grading stopped after 15 s" in p for p in res.problems), res.problems
    work = Path(next(ln for ln in lines if ln.startswith("kept the grading folder")).split()[-1])
    try:
        pids = [int(x) for x in (work / "students" / "runaway" / "kernel.pids").read_text().split()]
        assert pids, "the kernel never started"
        time.sleep(1)
        assert not [pid for pid in pids if _alive(pid)], f"kernels {pids} still run after the student timeout"
    finally:  # keep_work leaves the folder (in the system's temp folder) to the caller
        shutil.rmtree(work, ignore_errors=True)


def test_grading_without_the_forkserver_gives_the_same_result(tmp_path, monkeypatch):
    """CVBOOK_GRADING_FORKSERVER=0 (or a platform without forkserver): one fresh process per student."""
    monkeypatch.setenv("CVBOOK_GRADING_FORKSERVER", "0")
    assert grading._fork_context() is None
    (tmp_path / "in").mkdir()
    nbformat.write(solved(), tmp_path / "in" / "full.ipynb")
    options = grading.Options(jobs=1, feedback=False)
    (res,) = grading.grade(FIXTURE_CHAPTER, tmp_path / "in", tmp_path / "out", ROOT, options, log=lambda _: None)
    assert res.total == res.max == points(solved()) and not res.problems, (res.total, res.problems)
    assert res.cpu_s is not None and res.cpu_s > 0


def _kernel(work: Path, zygote: str | None, name: str):
    """A kernel started by jupyter_client from the grading kernelspec (through the zygote when given)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    pidfile = work / f"{name}.pids"
    folder = grading._write_kernelspec(work / name, grading.Options(memory_mb=1536), pidfile, zygote)
    (work / name / "cwd").mkdir()
    km = KernelManager(
        kernel_name=grading.KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    )
    km.start_kernel(cwd=str(work / name / "cwd"), env={**grading.KERNEL_ENV, "CVBOOK_TEST_WORD": name})
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc, pidfile


def _run(kc, code: str, timeout: float = 60) -> tuple[str, str]:
    """(status, text of the streams and errors) of one cell."""
    out: list[str] = []

    def hook(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            out.append(content["text"])
        elif msg["msg_type"] == "error":
            out.append(f"{content['ename']}: {content['evalue']}")

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return reply["content"]["status"], "".join(out)


@pytest.mark.skipif(not hasattr(grading.os, "fork"), reason="kernels are forked only where there is fork()")
def test_kernels_forked_by_the_zygote_behave_as_fresh_ones(tmp_path):
    """The kernel zygote (cvbook/_kernel_zygote.py): each kernel gets its own folder, environment,
    session and random state, has torch loaded already, can be interrupted, and dies with its
    launcher; its CPU time is noted for the grader."""
    zygote = grading._KernelZygote.start(tmp_path)
    assert zygote is not None
    address = zygote.wait_ready()
    assert address, (tmp_path / "zygote.log").read_text()
    probe = (
        "import os, sys, numpy\n"
        "print(os.getcwd().endswith('cwd'), os.environ['CVBOOK_TEST_WORD'], repr(sys.path[0]), "
        "os.getsid(0) == os.getpid(), 'torch' in sys.modules, 'cvbook' in sys.modules, numpy.random.randint(10**9))"
    )
    try:
        runs = []
        for name in ("first", "second"):
            km, kc, pidfile = _kernel(tmp_path, address, name)
            try:
                status, text = _run(kc, probe)
                assert status == "ok", text
                words = text.split()
                assert words[:6] == ["True", name, "''", "True", "True", "False"], text
                runs.append(words[6])
                pids = [int(p) for p in pidfile.read_text().split()]
                assert len(pids) == 2, pids  # the launcher and the forked kernel
                if name == "first":  # a cell that never ends is interrupted like any kernel's
                    kc.execute("while True:\n    pass", stop_on_error=False)  # no abort of the next request
                    time.sleep(1)
                    km.interrupt_kernel()
                    reply = kc.get_shell_msg(timeout=30)
                    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
                    assert _run(kc, "print(6 * 7)") == ("ok", "42\n")
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=name == "second")  # graceful, then killed with its launcher
            time.sleep(1)
            assert not [pid for pid in pids if _alive(pid)], f"{name}: {pids} still run"
            assert grading._zygote_kernels_cpu_s(pidfile) > 0, f"{name}: no CPU time noted"
        assert runs[0] != runs[1], "both kernels drew the same NumPy random numbers"
    finally:
        zygote.stop()
    assert zygote.proc.returncode == 0


def test_only_a_runs_scratch_gradebooks_skip_the_disk_flushes(tmp_path):
    """SQLite waits for the disk at every commit; a run's own gradebooks (in its temporary folder,
    deleted at its end) skip that wait, any other database keeps it."""
    from sqlalchemy import create_engine, text

    grading._config(tmp_path)  # installs the hook, as every grading process does
    scratch = tmp_path / f"{grading._WORK_PREFIX}ch01-abc" / "students" / "ann" / "gradebook.db"
    scratch.parent.mkdir(parents=True)
    others = [tmp_path / "course" / "gradebook.db", tmp_path / f"{grading._WORK_PREFIX}x" / "other.db"]
    assert grading._is_scratch_gradebook(str(scratch))
    assert not any(grading._is_scratch_gradebook(str(p)) for p in others)

    def synchronous(path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            level = conn.execute(text("PRAGMA synchronous")).scalar()
        engine.dispose()
        return level

    assert synchronous(scratch) == 0  # OFF
    assert [synchronous(p) for p in others] == [2, 2]  # FULL, SQLite's default


def test_the_alembic_head_is_what_alembic_says():
    """The gradebook's schema revision, read from nbgrader's migration files (instead of a 6 s
    `alembic heads` subprocess per run), is the one alembic computes."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        heads = ScriptDirectory.from_config(Config(ini)).get_heads()
    assert heads == [grading._alembic_head()]


# --------------------------------------------------------------------------- budgets


def test_a_solution_over_its_budget_fails_the_run(pytester):
    """The time the grading test reports for a solution notebook counts against its budget."""
    pytester.makeconftest(
        (ROOT / "conftest.py")
        .read_text()
        .replace(
            'DEFAULT_BUDGET_S = {"chapters": 180.0, "solutions": 60.0}',
            'DEFAULT_BUDGET_S = {"chapters": 180.0, "solutions": 0.5}',
        )
    )
    pytester.makepyfile(
        test_slow="""
def test_graded(record_property):
    record_property("notebook_seconds", {"solutions/ch99/ch99_exercises.ipynb": 2.0})
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*2.0 s  (  0.5 s)  solutions/ch99/ch99_exercises.ipynb  OVER BUDGET*",
            "*FAILED budget: solutions/ch99/ch99_exercises.ipynb took 2.0 s*",
        ]
    )
    assert result.ret == 1
