"""Exercise notebooks: the students' versions, generated from the solutions by nbgrader.

    python tools/exercises.py generate [ASSIGNMENT ...]   regenerate exercises/ (all, or e.g. ch01)
    python tools/exercises.py check                       is exercises/ up to date? (exit 1 if not)
    python tools/exercises.py lint [NOTEBOOK ...]         check solution notebooks' nbgrader metadata
    python tools/exercises.py new CHAPTER [--title T]     start solutions/chNN/chNN_exercises.{py,ipynb}
    python tools/exercises.py grade CHAPTER SUBMISSIONS   grade a class (= make grade, cvbook-grade)

`solutions/chNN/` is an nbgrader assignment (nbgrader_config.py: source_directory
"solutions", release_directory "exercises"). nbgrader never runs on the repository
itself here: every command copies what it needs into a temporary course directory,
with its own copy of nbgrader_config.py (which computes its root from its location)
and its own gradebook, runs nbgrader there, then normalises the student notebooks
(outputs, volatile metadata, cell ids, nbval markers) so that regenerating twice
gives the same bytes. `check` regenerates into a temporary folder and compares;
nothing in the repository is written except by `generate` and `new`.

The functions (make_course, generate_assignment, submit, autograde, scores, lint_notebook,
...) are the building blocks of the tests. Grading a folder of student submissions is
the package's `cvbook.grading` (it must work without this repository); `grade` here
only calls it with this repository as the source.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import difflib
import io
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"  # must match nbgrader_config.py (checked when a course is made)
RELEASE_DIR = "exercises"
CHAPTER_RE = re.compile(r"ch\d{2}")
GRADE_ID_RE = re.compile(r"[A-Za-z0-9_-]+")

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
NBVAL_MARKER = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$")
NBGRADER_KEYS = ("grade", "grade_id", "locked", "schema_version", "solution", "task")

# Cell metadata that records how a notebook was last viewed or run, not what it is.
VOLATILE_CELL_METADATA = (
    "execution",
    "ExecuteTime",
    "collapsed",
    "scrolled",
    "trusted",
    "jupyter",
    "vscode",
    "pycharm",
    "colab",
    "id",
    "outputId",
    "lines_to_next_cell",
)
# Notebook metadata kept in a student notebook (language_info carries the Python version).
KEPT_NOTEBOOK_METADATA = ("kernelspec",)


class ExerciseError(RuntimeError):
    """nbgrader failed, or a notebook is not fit to be generated."""


# --------------------------------------------------------------------------- finding things


def assignments(repo: Path = ROOT) -> list[str]:
    """The assignments: folders of solutions/ that hold at least one notebook."""
    source = Path(repo) / SOURCE_DIR
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def solution_notebooks(repo: Path = ROOT) -> list[Path]:
    return sorted((Path(repo) / SOURCE_DIR).glob("*/*.ipynb"))


def _rel(path: Path, repo: Path = ROOT) -> str:
    try:
        return Path(path).resolve().relative_to(Path(repo).resolve()).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- nbgrader


def load_config(course_root: Path):
    """The traitlets Config of the nbgrader_config.py in ``course_root`` (root = that folder)."""
    from traitlets.config.loader import PyFileConfigLoader

    course_root = Path(course_root).resolve()
    if not (course_root / CONFIG_FILE).exists():
        raise ExerciseError(f"no {CONFIG_FILE} in {course_root}")
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()
    if Path(config.CourseDirectory.root).resolve() != course_root:
        raise ExerciseError(f"{CONFIG_FILE} must set CourseDirectory.root to its own folder")
    for key, want in (("source_directory", SOURCE_DIR), ("release_directory", RELEASE_DIR)):
        if config.CourseDirectory[key] != want:
            raise ExerciseError(
                f"{CONFIG_FILE}: CourseDirectory.{key} is {config.CourseDirectory[key]!r}, "
                f"tools/exercises.py expects {want!r}"
            )
    return config


def make_course(course_root: Path, assignment_ids: Iterable[str], repo: Path = ROOT) -> Path:
    """A fresh nbgrader course directory: a copy of the config and of the given solutions/ folders.

    The gradebook, submissions and autograded notebooks of the copy live in its own
    ``.nbgrader/``; nothing is written into ``repo``.
    """
    repo, course_root = Path(repo), Path(course_root)
    course_root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(repo / CONFIG_FILE, course_root / CONFIG_FILE)
    for assignment in assignment_ids:
        source = repo / SOURCE_DIR / assignment
        if not any(source.glob("*.ipynb")):
            raise ExerciseError(f"no notebooks in {_rel(source, repo)}")
        shutil.copytree(
            source,
            course_root / SOURCE_DIR / assignment,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
    load_config(course_root)  # fails early on a config the tools do not understand
    return course_root


@contextlib.contextmanager
def _nbgrader_environment() -> Iterator[None]:
    """What nbgrader needs around it.

    Its Gradebook runs the `alembic` command for the schema revision of a new gradebook: the
    revision is read from nbgrader's migration files instead (cvbook.grading._alembic_head),
    and, should that fail, this Python's scripts folder goes on PATH (it is not there when the
    virtualenv's python is called without activating it, as make does). Its SQLAlchemy
    warnings are silenced.
    """
    scripts = Path(sys.executable).parent
    old_path = os.environ.get("PATH", "")
    if (scripts / "alembic").exists() or (scripts / "alembic.exe").exists():
        os.environ["PATH"] = str(scripts) + os.pathsep + old_path
    try:
        from cvbook.grading import use_alembic_head_from_files

        use_alembic_head_from_files()  # the same answer as the `alembic heads` command, ~6 s sooner
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            # nbgrader 0.9's gradebook code trips SQLAlchemy's autoflush warnings; they are harmless
            warnings.filterwarnings("ignore", module=r"nbgrader\..*")
            warnings.filterwarnings("ignore", message=r".*not in session.*")
            yield
    finally:
        os.environ["PATH"] = old_path


def _run_converter(
    converter_class, course_root: Path, assignment: str, student: str | None = None, verbose: bool = False
) -> str:
    """Run one nbgrader converter in-process on ``course_root``; return its log, raise on failure."""
    from nbgrader.coursedir import CourseDirectory

    config = load_config(course_root)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    if student is not None:
        coursedir.student_id = student
    converter = converter_class(coursedir=coursedir, config=config)
    converter.force = True
    log = converter.log
    buffer = io.StringIO()
    handler = logging.StreamHandler(sys.stderr if verbose else buffer)
    handler.setFormatter(logging.Formatter("[nbgrader %(levelname)s] %(message)s"))
    old_level, old_propagate = log.level, getattr(log, "propagate", True)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with _nbgrader_environment():
            converter.start()
    except Exception as err:  # noqa: BLE001 - nbgrader raises several kinds; all end here
        raise ExerciseError(
            f"nbgrader {converter_class.__name__} failed for {assignment}: {err}\n{buffer.getvalue()}"
        ) from err
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate
    return buffer.getvalue()


def generate_assignment(course_root: Path, assignment: str, verbose: bool = False) -> Path:
    """``nbgrader generate_assignment --force`` in ``course_root``; returns the release folder.

    Also records the assignment (with its hidden tests) in the course's gradebook,
    which autograding needs. The release is nbgrader's raw output: see normalise_folder.
    """
    from nbgrader.converters import GenerateAssignment

    _run_converter(GenerateAssignment, course_root, assignment, verbose=verbose)
    release = Path(course_root) / RELEASE_DIR / assignment
    if not any(release.glob("*.ipynb")):
        raise ExerciseError(f"nbgrader wrote no notebook into {release}")
    return release


def submit(course_root: Path, assignment: str, student: str, notebooks: Iterable[Path]) -> Path:
    """Place a student's notebooks where ``nbgrader autograde`` looks for them; returns that folder."""
    config = load_config(course_root)
    folder = Path(course_root) / config.CourseDirectory.submitted_directory / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copyfile(notebook, folder / Path(notebook).name)
    return folder


def autograde(course_root: Path, assignment: str, student: str = "*", verbose: bool = False) -> Path:
    """``nbgrader autograde --force`` (all students by default); returns the autograded folder."""
    from nbgrader.converters import Autograde

    _run_converter(Autograde, course_root, assignment, student=student, verbose=verbose)
    return Path(course_root) / load_config(course_root).CourseDirectory.autograded_directory


@dataclass
class Score:
    score: float
    max_score: float
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id -> (score, max)


def scores(course_root: Path, assignment: str) -> dict[str, Score]:
    """Autograded scores of every student of ``assignment`` in the course's gradebook."""
    from nbgrader.api import Gradebook

    config = load_config(course_root)
    result = {}
    with _nbgrader_environment(), Gradebook(config.CourseDirectory.db_url) as gradebook:
        for submission in gradebook.find_assignment(assignment).submissions:
            cells = {
                grade.name: (grade.score, grade.max_score)
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
            result[submission.student.id] = Score(submission.score, submission.max_score, cells)
    return result


# --------------------------------------------------------------------------- normalising


def _cell_id(wanted: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", wanted)[:56] or "cell"
    candidate, k = base, 1
    while candidate in used:
        k += 1
        candidate = f"{base}-{k}"
    used.add(candidate)
    return candidate


def normalise_release(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student notebook as it is committed: no outputs, no volatile metadata, stable ids.

    Cells that nbgrader tracks (those with ``nbgrader`` metadata, whose checksums
    cover their source) are never changed beyond outputs and volatile metadata; in
    other code cells nbval marker lines (``# NBVAL_CHECK_OUTPUT``), which only
    matter for testing the solutions, are dropped.
    """
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata})
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if "nbgrader" not in cell.metadata:
                cell.source = "\n".join(ln for ln in cell.source.split("\n") if not NBVAL_MARKER.match(ln))
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = _cell_id(grade_id or f"cell-{index:03d}", used)
    return nb


def normalise_folder(folder: Path) -> None:
    for path in sorted(Path(folder).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        _write_notebook(normalise_release(nb), path)


def _write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- generate and check


@contextlib.contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
    else:
        with tempfile.TemporaryDirectory(prefix="cvbook-exercises-") as tmp:
            yield Path(tmp)


def build_release(assignment_ids: Iterable[str], workdir: Path, repo: Path = ROOT, verbose: bool = False) -> Path:
    """Generate and normalise the student versions in ``workdir``; returns its exercises/ folder.

    ``workdir`` becomes a course directory (workdir/solutions, workdir/exercises,
    workdir/.nbgrader/gradebook.db), so the result can be autograded right away.
    """
    assignment_ids = list(assignment_ids)
    course = make_course(workdir, assignment_ids, repo)
    for assignment in assignment_ids:
        normalise_folder(generate_assignment(course, assignment, verbose=verbose))
    return Path(course) / RELEASE_DIR


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def generate(
    assignment_ids: Iterable[str] | None = None, repo: Path = ROOT, verbose: bool = False, lint_first: bool = True
) -> list[str]:
    """Regenerate exercises/<assignment>/ from solutions/<assignment>/; returns what changed.

    With no assignments given, every assignment is regenerated and exercises/ folders
    without a solutions/ folder are removed.
    """
    repo = Path(repo)
    known = assignments(repo)
    everything = not assignment_ids
    wanted = known if everything else list(dict.fromkeys(assignment_ids))
    unknown = [a for a in wanted if a not in known]
    if unknown:
        raise ExerciseError(f"no such assignment in {SOURCE_DIR}/: {', '.join(unknown)} (have: {', '.join(known)})")
    if lint_first:
        problems = [
            p for a in wanted for nb in sorted((repo / SOURCE_DIR / a).glob("*.ipynb")) for p in lint_notebook(nb, repo)
        ]
        if problems:
            raise ExerciseError("lint found problems; fix them before generating:\n  " + "\n  ".join(problems))
    changes = []
    with _workdir(None) as tmp:
        release = build_release(wanted, tmp / "course", repo, verbose)
        for assignment in wanted:
            target = repo / RELEASE_DIR / assignment
            new, old = _files(release / assignment), _files(target)
            for name in sorted(set(old) - set(new)):
                old[name].unlink()
                changes.append(f"removed {_rel(old[name], repo)}")
            for name, path in new.items():
                dest = target / name
                data = path.read_bytes()
                if name in old and old[name].read_bytes() == data:
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                changes.append(f"{'updated' if name in old else 'created'} {_rel(dest, repo)}")
    if everything:
        for orphan in _orphans(repo, known):
            shutil.rmtree(orphan)
            changes.append(f"removed {_rel(orphan, repo)}/ (no {SOURCE_DIR}/{orphan.name}/)")
    return changes


def _orphans(repo: Path, known: list[str]) -> list[Path]:
    release = Path(repo) / RELEASE_DIR
    if not release.is_dir():
        return []
    return sorted(p for p in release.iterdir() if p.is_dir() and p.name not in known)


def _cell_view(cell) -> dict:
    """What a generated cell is made of; the parts `check` compares."""
    meta = cell.get("metadata", {})
    return {
        "cell_type": cell.cell_type,
        "source": cell.source,
        "nbgrader": meta.get("nbgrader"),
        "editable": meta.get("editable"),
        "deletable": meta.get("deletable"),
        "tags": meta.get("tags"),
    }


def compare_notebooks(expected: nbformat.NotebookNode, actual: nbformat.NotebookNode, label: str) -> list[str]:
    """Differences between a freshly generated notebook and the committed one, in words."""
    problems = []
    dirty = [
        k
        for k, c in enumerate(actual.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    if dirty:
        problems.append(f"{label}: cells {dirty[:5]} hold outputs or execution counts (it must stay clean)")
    kernel = lambda nb: nb.metadata.get("kernelspec", {}).get("name")  # noqa: E731
    if kernel(expected) != kernel(actual):
        problems.append(f"{label}: kernelspec {kernel(actual)!r}, expected {kernel(expected)!r}")
    want, have = [_cell_view(c) for c in expected.cells], [_cell_view(c) for c in actual.cells]
    if len(want) != len(have):
        problems.append(f"{label}: {len(have)} cells, a fresh generation has {len(want)}")
    shown = 0
    for k, (w, h) in enumerate(zip(want, have)):
        if w == h:
            continue
        fields = [key for key in w if w[key] != h[key]]
        text = f"{label}: cell {k} differs in {', '.join(fields)}"
        if "source" in fields:
            diff = difflib.unified_diff(
                h["source"].splitlines(), w["source"].splitlines(), "committed", "generated", n=1, lineterm=""
            )
            text += "\n      " + "\n      ".join(list(diff)[2:12])
        problems.append(text)
        shown += 1
        if shown == 5:
            problems.append(f"{label}: (more differences not shown)")
            break
    return problems


def compare_trees(expected: Path, actual: Path, repo: Path = ROOT) -> list[str]:
    """Compare a fresh release folder (exercises/ of a temporary course) with the committed one."""
    problems = []
    for assignment in sorted(p.name for p in Path(expected).iterdir() if p.is_dir()):
        want, have = _files(Path(expected) / assignment), _files(Path(actual) / assignment)
        for name in sorted(set(want) - set(have)):
            problems.append(f"{RELEASE_DIR}/{assignment}/{name} is missing")
        for name in sorted(set(have) - set(want)):
            problems.append(f"{RELEASE_DIR}/{assignment}/{name} is not generated from {SOURCE_DIR}/ (stale)")
        for name in sorted(set(want) & set(have)):
            label = f"{RELEASE_DIR}/{assignment}/{name}"
            if name.endswith(".ipynb"):
                try:
                    committed = nbformat.read(have[name], as_version=4)
                except Exception as err:  # noqa: BLE001 - any unreadable file is a finding
                    problems.append(f"{label}: cannot be read as a notebook ({err})")
                    continue
                problems += compare_notebooks(nbformat.read(want[name], as_version=4), committed, label)
                solution = Path(repo) / SOURCE_DIR / assignment / name
                if solution.exists():
                    problems += [f"{label}: {leak}" for leak in leaks(solution, have[name])]
            elif want[name].read_bytes() != have[name].read_bytes():
                problems.append(f"{label} differs from its source")
    return problems


def check(repo: Path = ROOT, workdir: Path | None = None, verbose: bool = False) -> list[str]:
    """Regenerate every assignment into ``workdir`` (a temporary folder by default) and compare.

    Returns the problems (empty when exercises/ is up to date). Never writes into ``repo``.
    """
    repo = Path(repo)
    known = assignments(repo)
    problems = [f"{_rel(p, repo)}/ has no {SOURCE_DIR}/{p.name}/ (stale)" for p in _orphans(repo, known)]
    if not known:
        return problems
    with _workdir(workdir) as tmp:
        release = build_release(known, Path(tmp) / "course", repo, verbose)
        problems += compare_trees(release, repo / RELEASE_DIR, repo)
    return problems


# --------------------------------------------------------------------------- leaks


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """Lines inside and outside ``begin``/``end`` regions of one cell (marker lines in neither)."""
    inside, outside, inner = [], [], False
    for line in source.split("\n"):
        if begin in line:
            inner = True
        elif end in line:
            inner = False
        elif inner:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _secret_and_public(source: str) -> tuple[list[str], list[str]]:
    """Lines of a solution cell inside solution or hidden-test regions, and the other lines."""
    solution_in, solution_out = _regions(source, BEGIN_SOLUTION, END_SOLUTION)
    hidden_in, public = _regions("\n".join(solution_out), BEGIN_HIDDEN, END_HIDDEN)
    return solution_in + hidden_in, public


def leaks(solution_path: Path, exercise_path: Path) -> list[str]:
    """Solution code, hidden tests or markers of ``solution_path`` found in ``exercise_path``.

    A line counts as leaked when it is inside a solution or hidden-test region of
    the solution notebook, appears nowhere else in it, and appears in the exercise.
    """
    solution = nbformat.read(solution_path, as_version=4)
    text = Path(exercise_path).read_text(encoding="utf-8")
    exercise = nbformat.reads(text, as_version=4)
    found = [
        f"contains {marker!r}" for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN) if marker in text
    ]
    secret, public = set(), set()
    for cell in solution.cells:
        inside, outside = _secret_and_public(cell.source)
        secret |= {ln.strip() for ln in inside}
        public |= {ln.strip() for ln in outside}
    secret = {ln for ln in secret - public if ln and not ln.startswith("#") and len(ln) > 3}
    exercise_lines = {ln.strip() for cell in exercise.cells for ln in cell.source.split("\n")}
    for line in sorted(secret & exercise_lines):
        found.append(f"shows a line of a solution or hidden test: {line[:70]!r}")
    return found


# --------------------------------------------------------------------------- lint


def _visible_asserts(source: str) -> tuple[int, int]:
    """Number of assert statements in the whole cell and in its visible part."""

    def count(code: str) -> int:
        try:
            return sum(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(code)))
        except SyntaxError:  # IPython magics and the like: fall back to a line match
            return sum(bool(re.match(r"\s*assert\b", ln)) for ln in code.split("\n"))

    _, visible = _regions(source, BEGIN_HIDDEN, END_HIDDEN)
    return count(source), count("\n".join(visible))


def _marker_problems(source: str, begin: str, end: str) -> str | None:
    depth, seen = 0, 0
    for line in source.split("\n"):
        if begin in line:
            if depth:
                return f"nested {begin!r}"
            depth, seen = 1, seen + 1
        elif end in line:
            if not depth:
                return f"{end!r} without {begin!r}"
            depth = 0
    if depth:
        return f"{begin!r} without {end!r}"
    return None if seen else f"no {begin!r} ... {end!r} region"


def lint_notebook(path: Path, repo: Path = ROOT) -> list[str]:
    """Problems of one solution notebook (an empty list when it is fine).

    Checks nbgrader's own metadata validation, plus the book's rules: schema version
    3 and all keys on every nbgrader cell; unique, simple grade ids; points > 0 on
    graded cells and none elsewhere; every code answer cell has a solution region
    and is followed by a test cell; every test cell is locked, is code, and has an
    assert that students can see; solution and hidden-test markers only where
    nbgrader expects them; the Colab install cell first; the py:percent pair in sync.
    """
    path = Path(path)
    name = _rel(path, repo)
    problems: list[str] = []
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001
        return [f"{name}: cannot be read ({err})"]

    def bad(index: int | None, message: str) -> None:
        problems.append(f"{name}: " + (f"cell {index}: " if index is not None else "") + message)

    from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError

    try:
        MetadataValidator().validate_nb(nb)
    except (ValidationError, SchemaTooOldError, SchemaTooNewError) as err:
        bad(None, f"nbgrader rejects the metadata: {str(err).splitlines()[0]}")

    if not nb.cells or nb.cells[0].cell_type != "code" or "google.colab" not in nb.cells[0].source:
        bad(0, "the first cell must be the Colab install cell")

    ids: dict[str, int] = {}
    total_points = 0.0
    pending_answer: int | None = None  # a code answer cell still waiting for its tests
    for k, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        source = cell.source
        if meta is None:
            for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
                if marker in source:
                    bad(k, f"{marker!r} in a cell without nbgrader metadata")
            continue
        if not isinstance(meta, dict):
            bad(k, "nbgrader metadata must be a mapping")
            continue
        missing = [key for key in NBGRADER_KEYS if key not in meta]
        if missing:
            bad(k, f"nbgrader metadata lacks {', '.join(missing)}")
        if meta.get("schema_version") != 3:
            bad(k, f"schema_version must be 3, got {meta.get('schema_version')!r}")
        for key in ("grade", "locked", "solution", "task"):
            if key in meta and not isinstance(meta[key], bool):
                bad(k, f"nbgrader {key} must be true or false, got {meta[key]!r}")
        grade, solution, locked = bool(meta.get("grade")), bool(meta.get("solution")), bool(meta.get("locked"))
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str) or not GRADE_ID_RE.fullmatch(grade_id):
            bad(k, f"grade_id must be letters, digits, '_' or '-', got {grade_id!r}")
        elif grade_id in ids:
            bad(k, f"grade_id {grade_id!r} is also used by cell {ids[grade_id]}")
        else:
            ids[grade_id] = k
        points = meta.get("points")
        if grade:
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
                bad(k, f"a graded cell needs points > 0, got {points!r}")
            else:
                total_points += points
        elif points not in (None, 0):
            bad(k, f"points {points!r} on a cell that is not graded (grade: false)")
        if solution and locked:
            bad(k, "a solution cell cannot be locked (students must edit it)")
        if not solution:
            for marker in (BEGIN_SOLUTION, END_SOLUTION):
                if marker in source:
                    bad(k, f"{marker!r} in a cell that is not a solution cell")
        if not grade:
            for marker in (BEGIN_HIDDEN, END_HIDDEN):
                if marker in source:
                    bad(k, f"{marker!r} in a cell that is not graded")
        if cell.cell_type == "code" and solution:
            problem = _marker_problems(source, BEGIN_SOLUTION, END_SOLUTION)
            if problem:
                bad(k, f"solution cell {grade_id!r}: {problem}")
            if pending_answer is not None:
                bad(pending_answer, "answer cell has no test cell after it (before the next answer)")
            pending_answer = k
        if grade and not solution:
            if cell.cell_type != "code":
                bad(k, f"test cell {grade_id!r} must be a code cell")
                continue
            if not locked:
                bad(k, f"test cell {grade_id!r} must be locked")
            if BEGIN_HIDDEN in source or END_HIDDEN in source:
                problem = _marker_problems(source, BEGIN_HIDDEN, END_HIDDEN)
                if problem:
                    bad(k, f"test cell {grade_id!r}: {problem}")
            every, visible = _visible_asserts(source)
            if not every:
                bad(k, f"test cell {grade_id!r} has no assert")
            elif not visible:
                bad(k, f"test cell {grade_id!r} has no visible assert (all its tests are hidden)")
            pending_answer = None
    if pending_answer is not None:
        bad(pending_answer, "answer cell has no test cell after it")
    if total_points <= 0:
        bad(None, "no graded test cell (nothing to autograde)")

    pair = path.with_suffix(".py")
    if not pair.exists():
        bad(None, f"no py:percent pair {pair.name} (run `jupytext --sync {name}`)")
    else:
        problems += _pair_problems(nb, pair, name)
    return problems


def _pair_problems(nb: nbformat.NotebookNode, pair: Path, name: str) -> list[str]:
    import jupytext

    try:
        text = jupytext.read(pair)
    except Exception as err:  # noqa: BLE001
        return [f"{name}: its pair {pair.name} cannot be read ({err})"]
    hint = f"(edit the .py, then `make refresh NB={name}`)"
    if len(text.cells) != len(nb.cells):
        return [f"{name}: {len(nb.cells)} cells, its pair {pair.name} {len(text.cells)} {hint}"]
    for k, (a, b) in enumerate(zip(nb.cells, text.cells)):
        if (a.cell_type, a.source.strip()) != (b.cell_type, b.source.strip()):
            return [f"{name}: cell {k} differs from {pair.name} {hint}"]
        if a.metadata.get("nbgrader") != b.metadata.get("nbgrader"):
            return [f"{name}: cell {k}'s nbgrader metadata differs from {pair.name} {hint}"]
    return []


def lint(paths: Iterable[Path] | None = None, repo: Path = ROOT) -> list[str]:
    paths = list(paths) if paths else solution_notebooks(repo)
    return [problem for path in paths for problem in lint_notebook(path, repo)]


# --------------------------------------------------------------------------- new chapter


def _repository(repo: Path) -> tuple[str, str, str]:
    """(GitHub URL, branch, cvbook package ref) from _config.yml, with the book's defaults."""
    url, branch, ref = "https://github.com/cnn-cv-book/cnn-cv-book", "main", "v0.1.0"
    config = Path(repo) / "_config.yml"
    if config.exists():
        import yaml

        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        url = str(data.get("repository", {}).get("url", url)).rstrip("/")
        branch = str(data.get("repository", {}).get("branch", branch))
        ref = str(data.get("cvbook_package_ref", ref))
    return url, branch, ref


def _meta(
    grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points: float | None = None
) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": dict(sorted(meta.items()))}


def skeleton(chapter: str, title: str, repo: Path = ROOT) -> nbformat.NotebookNode:
    """A solution notebook with the book's first cells and one example exercise."""
    url, branch, ref = _repository(repo)
    slug = url.removeprefix("https://github.com/")
    number = int(chapter[2:])
    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    install = (
        "# Colab only: install the book's package (Colab's own torch and torchvision are kept).\n"
        "import subprocess\nimport sys\n\n"
        'if "google.colab" in sys.modules:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                    "cvbook @ git+{url}@{ref}"], check=True)'
    )
    intro = f"""# Chapter {number} exercises: {title}

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{slug}/blob/{branch}/{RELEASE_DIR}/{chapter}/{chapter}_exercises.ipynb)

TODO: one paragraph on what these exercises practise, and the total of points.

**How to work**

- Run the cells from the top, in order (in Colab the first cell installs the book's
  package, `cvbook`; elsewhere it does nothing).
- Each exercise says what to implement, gives the function's signature and one
  worked example. Write your code in the cell below it, in place of the lines
  `# YOUR CODE HERE` and `raise NotImplementedError()`. Keep the function's name and
  arguments. Use NumPy and PyTorch; do not call the library function that an
  exercise imitates.
- The cell after your answer holds **tests**: run it. A failing test says what it
  expected and what it got; when all pass it prints `Visible tests passed.`. When
  your notebook is graded, more tests with other inputs (hidden tests) run as well,
  so write code that works for any valid input, not just for the examples.
- **Do not delete, edit, move or copy the test cells** (or any other read-only cell),
  and do not rename the notebook: the grader finds the tests by their place in it.
  You may add cells of your own to try things out.
- Before you hand in, restart and run everything (Colab: *Runtime > Restart session
  and run all*; Jupyter: *Kernel > Restart Kernel and Run All Cells*) and check that
  every test cell passes.

**Handing in**

- **Colab**: *File > Download > Download .ipynb*, then upload the downloaded
  `{chapter}_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
  your work in Colab between sessions; the upload to the LMS is what counts.)
- **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
  `{chapter}_exercises.ipynb` to the course's LMS."""
    imports = """import numpy as np
import torch

from cvbook.checks import expect_error"""
    text = """## Exercise 1: the output size of a convolution (2 points)

TODO: replace this example exercise. Say what to implement, give its signature and
one worked example.

`conv_output_size(size, kernel, stride=1, padding=0)`
: Return, as an `int`, the height (or width) of the output of a convolution with a
  `kernel` × `kernel` kernel, `stride` and `padding` applied to a `size` × `size`
  input: $\\lfloor (size + 2 \\cdot padding - kernel) / stride \\rfloor + 1$. Raise
  `ValueError` if the kernel does not fit in the padded input.

Worked example:

```python
>>> conv_output_size(32, 5)
28
```"""
    answer = '''def conv_output_size(size, kernel, stride=1, padding=0):
    """Output height of a convolution on a size x size input."""
    ### BEGIN SOLUTION
    if kernel > size + 2 * padding:
        raise ValueError(f"a {kernel} x {kernel} kernel does not fit in a padded input of {size + 2 * padding}")
    return (size + 2 * padding - kernel) // stride + 1
    ### END SOLUTION'''
    tests = """# Tests of conv_output_size (2 points).
out = conv_output_size(32, 5)  # the worked example
assert isinstance(out, int), f"expected an int, got {type(out).__name__}"
assert out == 28, f"conv_output_size(32, 5): expected 28, got {out}"
out = conv_output_size(32, 3, padding=1)
assert out == 32, f"a 3 x 3 kernel with padding 1 keeps the size: expected 32, got {out}"
with expect_error(ValueError, "a kernel larger than the input"):
    conv_output_size(4, 7)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

for _size, _kernel, _stride, _padding in [(28, 5, 1, 2), (227, 11, 4, 0), (7, 3, 2, 1), (5, 5, 3, 0)]:
    _conv = _nn.Conv2d(1, 1, _kernel, stride=_stride, padding=_padding, device="meta")
    _want = _conv(torch.empty(1, 1, _size, _size, device="meta")).shape[-1]
    _got = conv_output_size(_size, _kernel, stride=_stride, padding=_padding)
    assert _got == _want, f"conv_output_size({_size}, {_kernel}, {_stride}, {_padding}): expected {_want}, got {_got}"
### END HIDDEN TESTS"""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.cells = [
        new_code(install),
        new_md(intro, metadata=_meta("intro", locked=True)),
        new_code(imports, metadata=_meta("imports", locked=True)),
        new_md(text, metadata=_meta("ex1_text", locked=True)),
        new_code(answer, metadata=_meta("ex1_answer", solution=True)),
        new_code(tests, metadata=_meta("ex1_conv_tests", grade=True, locked=True, points=2)),
        new_md("TODO: a closing remark that links the exercises to the next chapter."),
    ]
    return nb


def new_chapter(chapter: str, title: str = "TODO title", repo: Path = ROOT, force: bool = False) -> list[Path]:
    """Write solutions/<chapter>/<chapter>_exercises.py and .ipynb (not executed); returns them."""
    import jupytext

    if not CHAPTER_RE.fullmatch(chapter):
        raise ExerciseError(f"CHAPTER must look like ch02, got {chapter!r}")
    folder = Path(repo) / SOURCE_DIR / chapter
    py, ipynb = folder / f"{chapter}_exercises.py", folder / f"{chapter}_exercises.ipynb"
    existing = [p for p in (py, ipynb) if p.exists()]
    if existing and not force:
        raise ExerciseError(f"{_rel(existing[0], repo)} exists (use --force to overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    nb = skeleton(chapter, title, repo)
    _write_notebook(nb, ipynb)
    jupytext.write(nb, py, fmt="py:percent")
    return [py, ipynb]


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:8]),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate", help="regenerate exercises/ from solutions/ (all or the given assignments)")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="e.g. ch01 (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    p = sub.add_parser("check", help="exit 1 if exercises/ is not what generate would write")
    p.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    p = sub.add_parser("lint", help="check the nbgrader metadata of solution notebooks")
    p.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK", help="default: solutions/*/*.ipynb")
    p = sub.add_parser("new", help="start the exercises of a chapter: solutions/chNN/chNN_exercises.{py,ipynb}")
    p.add_argument("chapter", metavar="CHAPTER", help="e.g. ch02")
    p.add_argument("--title", default="TODO title", help="the chapter's title, e.g. 'convolutions'")
    p.add_argument("--force", action="store_true", help="overwrite an existing notebook")
    p = sub.add_parser(
        "grade", help="grade a folder or zip of submissions (cvbook.grading; see --help there)", add_help=False
    )
    p.add_argument("grade_args", nargs=argparse.REMAINDER, metavar="CHAPTER SUBMISSIONS [OPTIONS]")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["grade"]:  # everything after `grade` belongs to cvbook.grading
        sys.path.insert(0, str(ROOT / "utils"))
        from cvbook import grading

        rest = argv[1:]
        has_source = any(a == "--source" or a.startswith("--source=") for a in rest)
        return grading.main(rest + ([] if has_source else ["--source", str(ROOT)]))
    args = parser.parse_args(argv)

    try:
        if args.command == "generate":
            changes = generate(args.assignments or None, verbose=args.verbose)
            print("\n".join(changes) if changes else f"{RELEASE_DIR}/ is already up to date")
            return 0
        if args.command == "check":
            problems = check(verbose=args.verbose)
            if problems:
                print("\n".join(problems))
                print(f"{RELEASE_DIR}/ is stale: run `make exercises` (python tools/exercises.py generate)")
                return 1
            print(f"{RELEASE_DIR}/ is up to date with {SOURCE_DIR}/")
            return 0
        if args.command == "lint":
            problems = lint(args.notebooks or None)
            print("\n".join(problems) if problems else "lint: no problems")
            return 1 if problems else 0
        if args.command == "new":
            written = new_chapter(args.chapter, args.title, force=args.force)
            nb = _rel(written[1])
            print("wrote " + ", ".join(_rel(p) for p in written))
            print(
                f"next: edit {_rel(written[0])}, then\n"
                f"  make refresh NB={nb}                  # rebuild the .ipynb from the .py and run it\n"
                f"  python tools/exercises.py lint {nb}\n"
                f"  python tools/exercises.py generate {args.chapter}   # writes {RELEASE_DIR}/{args.chapter}/"
            )
            return 0
    except ExerciseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
