"""Every chapter's exercises, graded as an instructor grades them (issue 19: exercises that grade fairly).

For every chapter in solutions/ (found when the tests start, so new chapters are covered),
ONE run of the instructors' command (`python -m cvbook.grading`, the same as `make grade`
and `cvbook-grade`) grades a folder of submissions built here:

* ``solution``: the solution notebook itself. It scores full marks with no error in any
  cell, reproduces its `# NBVAL_CHECK_OUTPUT` outputs, and its autograding time counts
  against its budget (conftest.py, user property ``notebook_seconds``). This is the only
  place CI runs the solution notebooks (nbval does not run solutions/).
* ``untouched``: the students' copy as handed out. It scores 0, every test cell failing
  on NotImplementedError.
* the chapter's fairness fixtures, when ``tests/fairness/chNN.py`` exists: plausible
  submissions, each the students' copy with every answer cell filled in from the
  solution, then some answer cells replaced by the fixture's. A ``CORRECT`` one (a
  different right implementation) gets full marks and no problem. A ``WRONG`` one (a
  real student mistake) loses points in every exercise of its ``loses`` list and in no
  other (one mistake costs once), and in each of those exercises a *visible* test
  flagged it: some test cell of the exercise failed before printing
  "Visible tests passed." (the line between the visible and the hidden tests), so the
  student was warned before handing in.

The fixture format (``tests/fairness/chNN.py``, a plain module)::

    CORRECT = {name: {answer grade_id: full source of that answer cell}}
    WRONG = {name: dict(answers={grade_id: source}, loses=["ex1", ...], why="...")}

Check one chapter with `.venv/bin/python -m pytest -q tests/test_fairness.py -k ch03`.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from cvbook import grading

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fairness"
CHAPTERS = sorted(
    p.name
    for p in (ROOT / "solutions").iterdir()
    if p.is_dir() and re.fullmatch(r"ch\d{2}", p.name) and any(p.glob("*.ipynb"))
)
VISIBLE_PASSED = "Visible tests passed."
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
MIN_CORRECT, MIN_WRONG = 2, 4
#: Wall-clock limit of one chapter's grading run, per submission graded (seconds): a guard against a hang,
#: not a budget (a loaded machine needs minutes per submission; the solution's own time is budgeted in conftest.py).
RUN_TIMEOUT_PER_SUBMISSION_S = 300


# --------------------------------------------------------------------------- notebooks


def _nb(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _gid(cell) -> str | None:
    return _nb(cell).get("grade_id")


def solution_notebooks(chapter: str) -> list[Path]:
    return sorted((ROOT / "solutions" / chapter).glob("*.ipynb"))


def students_copy(chapter: str, name: str) -> nbformat.NotebookNode:
    path = ROOT / "exercises" / chapter / name
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make exercises`"
    return nbformat.read(path, as_version=4)


def solution_answers(source: nbformat.NotebookNode) -> dict[str, str]:
    """grade id -> the solution's answer cell without its `### BEGIN/END SOLUTION` lines."""
    return {
        _gid(c): "\n".join(ln for ln in c.source.split("\n") if not SOLUTION_MARKER.match(ln))
        for c in source.cells
        if _nb(c).get("solution")
    }


def submission(chapter: str, answers: dict[str, str] | None = None) -> dict[str, nbformat.NotebookNode]:
    """The students' copy of every notebook of ``chapter``, every answer cell filled in from the
    solution, then the cells named in ``answers`` (grade id -> full source) replaced."""
    answers = dict(answers or {})
    result = {}
    for path in solution_notebooks(chapter):
        nb = students_copy(chapter, path.name)
        filled = solution_answers(nbformat.read(path, as_version=4))
        for cell in nb.cells:
            gid = _gid(cell)
            if gid in answers:
                cell.source = answers.pop(gid)
            elif gid in filled:
                cell.source = filled[gid]
        result[path.name] = nb
    assert not answers, f"{chapter}: no answer cell with grade id {sorted(answers)} in the students' notebook"
    return result


def exercise_points(nb: nbformat.NotebookNode) -> dict[str, float]:
    """exercise (``ex1``, ...) -> its points, from the graded cells of a notebook."""
    cells = {_gid(c): float(_nb(c).get("points", 0) or 0) for c in nb.cells if _nb(c).get("grade")}
    per_exercise: dict[str, float] = {}
    for gid, ex in grading.exercise_of(list(cells)).items():
        per_exercise[ex] = per_exercise.get(ex, 0.0) + cells[gid]
    return per_exercise


# --------------------------------------------------------------------------- fixtures


def load_fixtures(chapter: str) -> ModuleType | None:
    path = FIXTURES / f"{chapter}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"fairness_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_problems(chapter: str, module: ModuleType) -> list[str]:
    """What is wrong with a fixture file, in words (empty when it is well formed)."""
    problems = []
    correct, wrong = getattr(module, "CORRECT", None), getattr(module, "WRONG", None)
    if not isinstance(correct, dict) or not isinstance(wrong, dict):
        return [f"tests/fairness/{chapter}.py must define the dicts CORRECT and WRONG"]
    if len(correct) < MIN_CORRECT:
        problems.append(f"CORRECT has {len(correct)} submissions, at least {MIN_CORRECT} are needed")
    if len(wrong) < MIN_WRONG:
        problems.append(f"WRONG has {len(wrong)} submissions, at least {MIN_WRONG} are needed")
    sources = [nbformat.read(p, as_version=4) for p in solution_notebooks(chapter)]
    answer_ids = {_gid(c) for nb in sources for c in nb.cells if _nb(c).get("solution")}
    solution = {gid: src for nb in sources for gid, src in solution_answers(nb).items()}
    exercises = {ex for nb in sources for ex in exercise_points(nb)}
    for name in set(correct) & set(wrong):
        problems.append(f"{name!r} is both in CORRECT and in WRONG")
    for name in [*correct, *wrong]:
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            problems.append(f"{name!r}: fixture names are letters, digits and _")
    for name, answers in correct.items():
        if not isinstance(answers, dict) or not answers:
            problems.append(f"CORRECT[{name!r}] must be a non-empty dict grade id -> source")
            continue
        for gid, src in answers.items():
            if gid not in answer_ids:
                problems.append(f"CORRECT[{name!r}]: {gid!r} is not an answer cell ({sorted(answer_ids)})")
            elif grading._norm(src) == grading._norm(solution[gid]):
                problems.append(f"CORRECT[{name!r}]: {gid!r} is the solution itself, not an alternative")
    for name, spec in wrong.items():
        if not isinstance(spec, dict) or set(spec) != {"answers", "loses", "why"}:
            problems.append(f"WRONG[{name!r}] must be dict(answers=..., loses=[...], why='...')")
            continue
        if not spec["answers"] or not spec["loses"] or not str(spec["why"]).strip():
            problems.append(f"WRONG[{name!r}]: answers, loses and why must not be empty")
        for gid in spec["answers"]:
            if gid not in answer_ids:
                problems.append(f"WRONG[{name!r}]: {gid!r} is not an answer cell ({sorted(answer_ids)})")
        for ex in spec["loses"]:
            if ex not in exercises:
                problems.append(f"WRONG[{name!r}]: loses {ex!r}, which is not an exercise ({sorted(exercises)})")
    return problems


# --------------------------------------------------------------------------- checked outputs


def _sanitizers():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    text = "".join(parts)
    for regex, replace in _sanitizers():
        text = regex.sub(replace, text)
    return text


def _checked_cells(nb):
    return [
        c for c in nb.cells if c.cell_type == "code" and c.source.split("\n", 1)[0].strip() == "# NBVAL_CHECK_OUTPUT"
    ]


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _failed(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def visibly_flagged(autograded: list[nbformat.NotebookNode], exercise: str) -> list[str]:
    """The test cells of ``exercise`` that failed before printing "Visible tests passed."."""
    flagged = []
    for nb in autograded:
        for cell in nb.cells:
            gid = _gid(cell)
            if (
                _nb(cell).get("grade")
                and gid
                and grading.exercise_of([gid])[gid] == exercise
                and _failed(cell)
                and VISIBLE_PASSED not in _stdout(cell)
            ):
                flagged.append(gid)
    return flagged


# --------------------------------------------------------------------------- one grading run per chapter


packs: dict[str, list[str]] = {}  # submission folder -> the fixtures packed into it


def build_folder(chapter: str, folder: Path, module: ModuleType | None) -> dict[str, str]:
    """Write every submission of ``chapter`` into ``folder``; return folder name -> kind.

    The fixtures' submissions are packs (see :func:`pack`); ``packs`` maps each to its fixtures.
    """
    kinds = {}
    packs.clear()

    def put(student: str, notebooks: dict[str, nbformat.NotebookNode], kind: str):
        (folder / student).mkdir(parents=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, folder / student / name)
        kinds[student] = kind

    for path in solution_notebooks(chapter):
        (folder / "solution").mkdir(parents=True, exist_ok=True)
        (folder / "solution" / path.name).write_bytes(path.read_bytes())
    kinds["solution"] = "solution"
    put("untouched", {p.name: students_copy(chapter, p.name) for p in solution_notebooks(chapter)}, "untouched")
    if module is not None:
        for k, names in enumerate(pack({n: (set(a), set()) for n, a in module.CORRECT.items()})):
            answers = {g: src for n in names for g, src in module.CORRECT[n].items()}
            put(f"correct{k + 1}", submission(chapter, answers), "correct")
            packs[f"correct{k + 1}"] = names
        wrong = {
            n: (set(spec["answers"]), set(spec["loses"]) | set(grading.exercise_of(list(spec["answers"])).values()))
            for n, spec in module.WRONG.items()
        }
        for k, names in enumerate(pack(wrong)):
            answers = {g: src for n in names for g, src in module.WRONG[n]["answers"].items()}
            put(f"wrong{k + 1}", submission(chapter, answers), "wrong")
            packs[f"wrong{k + 1}"] = names
    return kinds


def pack(fixtures: dict[str, tuple[set[str], set[str]]]) -> list[list[str]]:
    """Group fixtures into as few submissions as possible (greedy, in file order).

    Each fixture is (answer cells it replaces, exercises it touches); two fixtures share a
    submission only when both sets are disjoint. The exercises are independent (a test of one
    exercise never uses another exercise's answer, issue 19), so a submission that holds a
    wrong answer to ex1 and another to ex3 tells both stories at the cost of one grading: each
    kernel start, import and feedback page costs seconds, and a chapter has 6-14 fixtures.
    """
    groups: list[tuple[list[str], set[str], set[str]]] = []
    for name, (cells, exercises) in fixtures.items():
        for names, used_cells, used_ex in groups:
            if not (cells & used_cells) and not (exercises & used_ex):
                names.append(name)
                used_cells |= cells
                used_ex |= exercises
                break
        else:
            groups.append(([name], set(cells), set(exercises)))
    return [names for names, _, _ in groups]


def grade_fairly(chapter: str, tmp_path: Path, record_property) -> None:
    """One run of the instructors' command on the solution, the untouched copy and the fixtures."""
    module = load_fixtures(chapter)
    if module is not None:
        problems = fixture_problems(chapter, module)
        assert not problems, f"tests/fairness/{chapter}.py:\n" + "\n".join(problems)
    folder, out = tmp_path / "submissions", tmp_path / "out"
    kinds = build_folder(chapter, folder, module)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "cvbook.grading",
            chapter,
            str(folder),
            "--source",
            str(ROOT),
            "--out",
            str(out),
            "--jobs",
            "1",  # pytest already runs 2 workers
            "--no-feedback",  # the HTML feedback is tested in tests/test_grading*.py, here it costs ~4 s a submission
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT_PER_SUBMISSION_S * len(kinds),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    data = {s["submission"].rstrip("/"): s for s in json.loads((out / "results.json").read_text())["students"]}
    assert set(data) == set(kinds), f"graded {sorted(data)}, expected {sorted(kinds)}"
    for graded in data.values():  # --no-feedback: the summary's own page stands in for nbgrader's
        assert "<title>feedback</title>" in (out / "feedback" / f"{graded['student']}.html").read_text()

    def autograded(student: str) -> list[nbformat.NotebookNode]:
        return [
            nbformat.read(out / "autograded" / data[student]["student"] / p.name, as_version=4)
            for p in solution_notebooks(chapter)
        ]

    def per_exercise(student: str) -> dict[str, tuple[float, float]]:
        cells = data[student]["cells"]
        sums: dict[str, list[float]] = {}
        for gid, ex in grading.exercise_of(list(cells)).items():
            sums.setdefault(ex, [0.0, 0.0])
            sums[ex][0] += cells[gid][0]
            sums[ex][1] += cells[gid][1]
        return {ex: (s, m) for ex, (s, m) in sums.items()}

    # the solution: full marks, no error, its checked outputs, within its budget
    best = data["solution"]
    assert best["max"] > 0
    assert best["total"] == best["max"], f"{chapter}: the solution scores {best['total']}/{best['max']}: {best}"
    assert not best["problems"] and not best["other_errors"], f"{chapter}: {best['problems']} {best['other_errors']}"
    for source, fresh_nb in zip(solution_notebooks(chapter), autograded("solution")):
        stored, fresh = _checked_cells(nbformat.read(source, as_version=4)), _checked_cells(fresh_nb)
        assert len(stored) == len(fresh)
        for k, (a, b) in enumerate(zip(stored, fresh)):
            assert _text(a.outputs) == _text(b.outputs), (
                f"{chapter}/{source.name}: checked cell {k} prints\n{_text(b.outputs)}\nbut stores\n{_text(a.outputs)}"
            )
        # the solution notebook's run counts against its budget (conftest.py), as nbval's did
        record_property("notebook_seconds", {f"solutions/{chapter}/{source.name}": best["run_s"]})

    # the untouched students' copy: 0, every test cell failing on NotImplementedError
    blank = data["untouched"]
    assert blank["total"] == 0, f"{chapter}: the untouched exercise scores {blank['total']}: {blank['cells']}"
    assert not blank["problems"], blank["problems"]
    assert set(blank["failures"]) == set(blank["cells"])
    assert all("NotImplementedError" in why for why in blank["failures"].values()), blank["failures"]

    # the fixtures
    wrong = []
    for student, kind in kinds.items():
        res = data[student]
        if kind == "correct":
            if res["total"] != res["max"] or res["problems"] or res["other_errors"]:
                wrong.append(
                    f"{student} = correct alternative(s) {packs[student]}: scores {res['total']:g}/"
                    f"{res['max']:g} (failed: {res['failures']}; problems: {res['problems']}; "
                    f"errors in other cells: {res['other_errors']})"
                )
        elif kind == "wrong":
            specs = {n: module.WRONG[n] for n in packs[student]}
            losing = {ex for spec in specs.values() for ex in spec["loses"]}
            scores = per_exercise(student)
            if res["problems"]:
                wrong.append(f"{student} = {list(specs)}: problems with the submission: {res['problems']}")
            notebooks = autograded(student)
            for name, spec in specs.items():
                for ex in spec["loses"]:
                    score, maximum = scores.get(ex, (0.0, 0.0))
                    if score >= maximum:
                        wrong.append(f"wrong fixture {name!r} ({spec['why']}): keeps all {maximum:g} points of {ex}")
                    if not visibly_flagged(notebooks, ex):
                        wrong.append(
                            f"wrong fixture {name!r} ({spec['why']}): no visible test of {ex} flags it "
                            f"(every test cell of {ex} reached {VISIBLE_PASSED!r}); failed: {res['failures']}"
                        )
            for ex, (score, maximum) in scores.items():
                if ex not in losing and score < maximum:
                    wrong.append(
                        f"{student} = wrong fixture(s) {list(specs)}: loses points in {ex} too "
                        f"({score:g}/{maximum:g}; failed: "
                        f"{ {g: w for g, w in res['failures'].items() if g.startswith(ex + '_')} }): "
                        "one mistake must cost once, or list it in `loses`"
                    )
    assert not wrong, f"{chapter}:\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- the harness itself


# One test class per chapter: `make test` runs pytest with `--dist loadscope`, which keeps the
# cells of a notebook (nbval: one scope per notebook) and the tests of a class together on one
# worker, so the chapters' grading runs spread over the workers. `kernels`: the notebooks get
# the test-time gradient jitter, so a solution's checked cell cannot hold a trained number
# (conftest.py, TEST_JITTER). Select one chapter with `-k ch03`.
def _chapter_class(chapter: str) -> type:
    @pytest.mark.kernels
    def test_exercises_grade_fairly(self, tmp_path, record_property):
        grade_fairly(chapter, tmp_path, record_property)

    test_exercises_grade_fairly.__doc__ = f"{chapter}: the solution, the untouched copy and the fixtures, graded."
    name = f"TestFairness{chapter.capitalize()}"
    return type(name, (), {"test_exercises_grade_fairly": test_exercises_grade_fairly, "__module__": __name__})


for _chapter in CHAPTERS:
    _cls = _chapter_class(_chapter)
    globals()[_cls.__name__] = _cls
del _chapter, _cls


def test_checked_output_comparison_is_not_vacuous():
    """The solution check compares the text of `# NBVAL_CHECK_OUTPUT` cells, sanitised like nbval."""
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(x)"),
            v4.new_code_cell("print(y)"),
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT extra words\nprint(z)"),
        ]
    )
    assert [c.source for c in _checked_cells(nb)] == ["# NBVAL_CHECK_OUTPUT\nprint(x)"]
    a = [v4.new_output("stream", name="stdout", text="<Foo object at 0x7f00deadbeef> 42\n")]
    b = [v4.new_output("stream", name="stdout", text="<Foo object at 0x7fffcafe0000> 42\n")]
    c = [v4.new_output("execute_result", data={"text/plain": "<Foo object> 43\n"}, execution_count=1)]
    assert _text(a) == _text(b) != _text(c)
    solutions = sorted((ROOT / "solutions").glob("ch*/*.ipynb"))
    assert sum(len(_checked_cells(nbformat.read(p, as_version=4))) for p in solutions) > 0


def test_visible_flag_needs_a_failure_before_the_visible_line():
    """A test cell flags a mistake visibly only when it failed before printing the visible line."""
    v4 = nbformat.v4

    def graded(gid, text, error):
        cell = v4.new_code_cell("...", metadata={"nbgrader": {"grade": True, "grade_id": gid, "points": 1}})
        cell.outputs = [v4.new_output("stream", name="stdout", text=text)] if text else []
        if error:
            cell.outputs.append(v4.new_output("error", ename="AssertionError", evalue="x", traceback=[]))
        return cell

    nb = v4.new_notebook(
        cells=[
            graded("ex1_a_tests", "", True),
            graded("ex2_a_tests", VISIBLE_PASSED + "\n", True),
            graded("ex3_a_tests", "", False),
            graded("ex4_a_tests", VISIBLE_PASSED + "\n", False),
            graded("ex4_b_tests", "", True),
        ]
    )
    assert visibly_flagged([nb], "ex1") == ["ex1_a_tests"]
    assert visibly_flagged([nb], "ex2") == []  # only the hidden tests caught it
    assert visibly_flagged([nb], "ex3") == []  # passed
    assert visibly_flagged([nb], "ex4") == ["ex4_b_tests"]


def test_submissions_fill_every_answer_and_override_by_grade_id():
    chapter = CHAPTERS[0]
    name = solution_notebooks(chapter)[0].name
    full = submission(chapter)[name]
    answers = [c for c in full.cells if _nb(c).get("solution")]
    assert answers and all("NotImplementedError()" not in c.source and "### " not in c.source for c in answers)
    gid = _gid(answers[0])
    changed = submission(chapter, {gid: "def f():\n    return 1\n"})[name]
    assert next(c for c in changed.cells if _gid(c) == gid).source == "def f():\n    return 1\n"
    with pytest.raises(AssertionError, match="no answer cell"):
        submission(chapter, {"no_such_answer": "x = 1"})


def test_pack_shares_a_submission_only_between_disjoint_fixtures():
    fixtures = {
        "a": ({"ex1_answer"}, {"ex1"}),
        "b": ({"ex2_answer"}, {"ex2", "ex3"}),
        "c": ({"ex1_answer"}, {"ex1"}),
        "d": ({"ex4_answer"}, {"ex3"}),
        "e": ({"ex5_answer"}, {"ex5"}),
    }
    assert pack(fixtures) == [["a", "b", "e"], ["c", "d"]]
    assert pack({}) == []


def test_fixture_files_are_well_formed():
    """Every tests/fairness/chNN.py names a chapter, and its fixtures follow the format (cheap, no grading)."""
    files = sorted(FIXTURES.glob("ch*.py"))
    unknown = [p.name for p in files if p.stem not in CHAPTERS]
    assert not unknown, f"fixtures for chapters without solutions: {unknown}"
    problems = [f"{p.stem}: {msg}" for p in files for msg in fixture_problems(p.stem, load_fixtures(p.stem))]
    assert not problems, "\n".join(problems)
