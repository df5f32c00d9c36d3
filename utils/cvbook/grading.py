"""Grade a class: one command autogrades a folder (or an LMS zip) of exercise submissions.

    cvbook-grade ch03 path/to/submissions [--source REPO_OR_NOTEBOOK] [--out grading/ch03]
    python -m cvbook.grading ch03 submissions.zip          # the same, without the console script
    make grade CHAPTER=ch03 SUBMISSIONS=path               # the same, inside the repository

``submissions`` is a folder holding one sub-folder or one ``.ipynb`` file per student
(the sub-folder's or the file's name becomes the student's id), a zip of such a folder
as an LMS downloads it, or a single notebook. The source of the assignment (the notebook
with solutions and hidden tests) is ``--source``: a notebook, its folder, or a
repository root with ``solutions/<chapter>/``; by default the ``solutions/`` of the
repository around the current folder (or around this package, in an editable install).

What it writes into ``--out`` (default ``grading/<chapter>``):

* ``grades.csv``: one row per student: points per graded cell (grade id), total, max,
  and ``problems``, every problem found with the submission, in words;
* ``feedback/<student>.md``: a short summary (failed checks and why, problems) and
  ``feedback/<student>.html``: nbgrader's feedback (the graded notebook, with the hidden
  tests and the traceback lines taken out: these files can go to the students);
* ``autograded/<student>/``: the executed notebooks, hidden tests included (for the
  instructor only); ``results.json``: everything above.

How a submission is graded. The grader itself never runs student code: it only reads
the notebook JSON. Each submission is first *validated and repaired*: an empty or
corrupt file, or one that is not a notebook, is reported and scores 0 without running;
nbgrader's cell metadata is replaced by the source's (cells whose metadata was stripped,
as some editors do, are matched back to the source by content); duplicated cells keep
their metadata on the first copy only; deleted locked cells (tests, imports) are put
back from the source; edited locked cells are reported (nbgrader restores them and adds
the hidden tests). Then, per student, a separate process runs ``nbgrader autograde``
in a temporary course with its own gradebook. The notebook runs in its own kernel with
a time limit per cell (``--timeout``; the locked set-up cells get ``--setup-timeout``),
a memory limit (``--memory``, RLIMIT_DATA of the kernel) and a cap on each cell's
output; a cell that times out is interrupted, and a kernel that dies (crash,
``os._exit``, memory) is restarted and the cells above re-run, so that only the cells
concerned lose their points. Output on stderr (warnings) costs no points. A last-resort
time limit per student (``--student-timeout``) stops a runaway grading process; that
student is then reported, every other student is still graded.

Taught in the README's section "For instructors".
"""

from __future__ import annotations

import argparse
import copy
import csv
import difflib
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# jsonschema checks the "iri" format with rfc3987_syntax when it is installed, which builds a
# parser as it is imported: about 3 s in every process that imports nbformat (this one, the
# forkserver, nbgrader). nbformat's notebook schema uses no such format; without the module,
# jsonschema skips that one check. Only here, in the grading processes, and only if no one
# imported it already.
if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment] # `import` now raises ImportError

KERNEL_NAME = "cvbook-grading"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
STUDENT_ID_RE = re.compile(r"[^A-Za-z0-9_.-]+")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SKIPPED_NAMES = ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db")

#: Environment of every student kernel: the book's test conditions (one thread, CPU,
#: no progress bars, no downloads, no windows).
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "CVBOOK_PROGRESS": "0",
    "CVBOOK_ONLINE": "0",
    "CVBOOK_DEVICE": "cpu",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "PYTHONWARNINGS": "default",
}

# The "kernel" that jupyter_client starts for a student. With a kernel zygote (argv[4], the
# address of cvbook/_kernel_zygote.py's socket) it asks the zygote for a forked, preloaded kernel
# and stands in for it: passes on signals, exits with its exit code (the zygote notes the
# kernel's CPU time in PIDFILE.cpu). Without one (or when the zygote cannot be reached): limits, then exec (same pid).
_KERNEL_LAUNCHER = """\
import os, resource, sys
memory, cpu, pidfile, zygote, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
conn = None
if zygote:
    import json, signal, socket
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(zygote)
        body = dict(cwd=os.getcwd(), env=dict(os.environ), argv=args, memory=memory, cpu=cpu, pidfile=pidfile)
        body = json.dumps(body).encode()
        socket.send_fds(conn, [len(body).to_bytes(8, "big") + body], [0, 1, 2])
        reply = conn.makefile("rb")
        kernel = int(reply.readline().split()[1])
    except (OSError, ValueError, IndexError):
        conn = None
if conn is not None:
    with open(pidfile, "a") as f:
        f.write(f"{os.getpid()}\\n")

    def forward(signum, frame):
        try:
            os.kill(kernel, signum)
        except OSError:
            pass

    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
        signal.signal(getattr(signal, name), forward)
    end = reply.readline().split()
    if len(end) == 3 and end[0] == b"exit":
        os._exit(int(end[1]))
    try:
        os.kill(kernel, signal.SIGKILL)
    except OSError:
        pass
    os._exit(1)
for name, value in (("RLIMIT_DATA", memory), ("RLIMIT_CPU", cpu)):
    if value > 0 and hasattr(resource, name):
        try:
            resource.setrlimit(getattr(resource, name), (value, value + (5 if name == "RLIMIT_CPU" else 0)))
        except (ValueError, OSError):
            pass
with open(pidfile, "a") as f:
    f.write(f"{os.getpid()}\\n")
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])
"""


# Grading processes running now (pid -> the pid file of their kernels), so that an
# interrupted run (Ctrl-C, SIGTERM) leaves nothing behind.
_LIVE: dict[int, Path] = {}
_LIVE_LOCK = threading.Lock()
_CANCELLED = threading.Event()


class GradingError(RuntimeError):
    """The grading run cannot start (no source, no submissions, nbgrader missing)."""


# --------------------------------------------------------------------------- options


@dataclass
class Options:
    timeout: int = 30  # seconds per cell that runs student code
    setup_timeout: int = 120  # seconds per locked set-up cell (imports: torch is slow to import)
    memory_mb: int = 4096  # RLIMIT_DATA of the kernel
    student_timeout: int = 900  # last resort: the whole grading process of one student
    max_output_chars: int = 100_000  # per cell; the rest is dropped
    jobs: int = 2
    keep_work: bool = False
    verbose: bool = False
    feedback: bool = True  # nbgrader's HTML feedback (the graded notebook); False: the summary's page only


def _parse_size(text: str) -> int:
    """'4G', '512M', '2048' (MiB) -> MiB."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([GgMm]?)i?[Bb]?\s*", str(text))
    if not match:
        raise argparse.ArgumentTypeError(f"memory must look like 4G or 512M, got {text!r}")
    value, unit = float(match.group(1)), match.group(2).upper()
    return int(value * 1024) if unit == "G" else int(value)


# --------------------------------------------------------------------------- source


def find_source(assignment: str, source: str | Path | None = None) -> list[Path]:
    """The source notebooks (solutions and hidden tests) of ``assignment``.

    ``source`` is a notebook, a folder of notebooks, or a folder holding
    ``solutions/<assignment>/`` (a repository root). Without it: the ``solutions/``
    of the current folder or one above it, then of the repository this module lives in.
    """

    def from_folder(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))

    if source is not None:
        path = Path(source).expanduser()
        if path.is_file():
            if path.suffix != ".ipynb":
                raise GradingError(f"--source {path} is not a notebook (.ipynb)")
            return [path]
        for folder in (path / "solutions" / assignment, path / assignment, path):
            if folder.is_dir() and from_folder(folder):
                return from_folder(folder)
        raise GradingError(
            f"--source {path}: no notebook in {path}, {path / assignment} or {path / 'solutions' / assignment}"
        )
    here = Path.cwd().resolve()
    roots = [here, *here.parents, Path(__file__).resolve().parents[2]]
    for root in roots:
        folder = root / "solutions" / assignment
        if folder.is_dir() and from_folder(folder):
            return from_folder(folder)
    raise GradingError(
        f"no solutions/{assignment}/ found from {here}: pass --source "
        f"path/to/solutions/{assignment}/{assignment}_exercises.ipynb (or the repository root)"
    )


# --------------------------------------------------------------------------- nbgrader course


#: The name prefix of a grading run's temporary folder: its gradebooks are scratch files.
_WORK_PREFIX = "cvbook-grade-"
_SCRATCH_LISTENER = False


def _is_scratch_gradebook(path: str) -> bool:
    """Whether ``path`` is a gradebook inside a grading run's temporary folder."""
    p = Path(path)
    return p.name == "gradebook.db" and any(parent.name.startswith(_WORK_PREFIX) for parent in p.parents)


def _scratch_gradebooks_skip_fsync() -> None:
    """Let SQLite skip its disk flushes (``fdatasync``) for the gradebooks of a grading run.

    nbgrader commits to its gradebook dozens of times per student; each commit waits for the
    disk twice (about 900 waits for five students: seconds of idle time per run). The gradebooks
    of a run live in its temporary folder and are deleted at its end (the grades are written to
    grades.csv and results.json from memory), so a crash can lose nothing that a re-run does not
    rebuild. Any other SQLite database is left alone.
    """
    global _SCRATCH_LISTENER
    if _SCRATCH_LISTENER:
        return
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _no_fsync(dbapi_connection, _record):  # noqa: ANN001 - SQLAlchemy's hook signature
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"]
        if files and files[0] and _is_scratch_gradebook(files[0]):
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    _SCRATCH_LISTENER = True


def _config(root: Path, options: Options | None = None):
    """nbgrader's settings for a temporary course in ``root`` (no nbgrader_config.py needed)."""
    from traitlets.config import Config

    _scratch_gradebooks_skip_fsync()
    root = Path(root)
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = "source"
    c.CourseDirectory.release_directory = "release"
    c.CourseDirectory.submitted_directory = "submitted"
    c.CourseDirectory.autograded_directory = "autograded"
    c.CourseDirectory.feedback_directory = "feedback"
    c.CourseDirectory.db_url = "sqlite:///" + str(root / "gradebook.db")
    c.CourseDirectory.ignore = [
        ".ipynb_checkpoints",
        "*.pyc",
        "__pycache__",
        "feedback",
        "*.py",
        "jupytext.toml",
        ".jupyter_cache",
        ".nbgrader",
        "*.db",
    ]
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    if options is not None:
        c.Execute.timeout = options.timeout
        c.Execute.kernel_name = KERNEL_NAME
        c.Execute.interrupt_on_timeout = True
        c.Execute.raise_on_iopub_timeout = False
        c.Execute.iopub_timeout = 10
        c.Execute.shutdown_kernel = "immediate"
        c.Execute.error_on_timeout = {
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than the time limit ({options.timeout} s) and was stopped "
            "(an infinite loop?)",
            "traceback": [
                f"CellTimeoutError: the cell ran longer than the time limit ({options.timeout} s) "
                "and was stopped (an infinite loop?)"
            ],
        }
        c.LimitOutput.max_lines = 1000
        c.LimitOutput.max_traceback = 100
    return c


class _Quiet:
    """nbgrader's logging and warnings routed away (or to stderr with verbose)."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose

    def __enter__(self):
        import warnings

        self._path = os.environ.get("PATH", "")
        scripts = Path(sys.executable).parent  # the gradebook's migrations call `alembic`
        os.environ["PATH"] = str(scripts) + os.pathsep + self._path
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        os.environ["PATH"] = self._path
        return False


def _run_converter(
    converter_class,
    root: Path,
    assignment: str,
    student: str | None = None,
    options: Options | None = None,
    verbose: bool = False,
    preprocessors=None,
    feedback_preprocessors=None,
) -> str:
    import io
    import logging

    from nbgrader.coursedir import CourseDirectory

    config = _config(root, options)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    if student is not None:
        coursedir.student_id = student
    converter = converter_class(coursedir=coursedir, config=config)
    converter.force = True
    if preprocessors is not None:
        converter.autograde_preprocessors = preprocessors
    if feedback_preprocessors is not None:
        converter.preprocessors = feedback_preprocessors
    buffer = io.StringIO()
    handler = logging.StreamHandler(sys.stderr if verbose else buffer)
    handler.setFormatter(logging.Formatter("[nbgrader %(levelname)s] %(message)s"))
    log = converter.log
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with _Quiet(verbose):
            converter.start()
    except BaseException as err:  # noqa: BLE001 - nbgrader raises many kinds, and SystemExit
        raise GradingError(f"nbgrader {converter_class.__name__} failed: {err}\n{buffer.getvalue()}") from err
    finally:
        log.removeHandler(handler)
    return buffer.getvalue()


def _alembic_head() -> str | None:
    """The revision that nbgrader stamps a new gradebook with, read from its migration files.

    nbgrader asks the ``alembic heads`` command for it, a subprocess that costs about 6 s of CPU
    per grading run; the answer is the one revision that no other revision names as its
    ``down_revision``. None when the files do not give exactly one (nbgrader then asks alembic).
    """
    import nbgrader

    revisions, parents = set(), set()
    for path in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"^revision\s*=\s*['\"]([0-9A-Za-z_]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if found:
            revisions.add(found.group(1))
        if down:
            parents.update(re.findall(r"['\"]([0-9A-Za-z_]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def use_alembic_head_from_files() -> None:
    """Make nbgrader take a new gradebook's revision from :func:`_alembic_head` (no subprocess)."""
    import nbgrader.api

    head = _alembic_head()
    if head is not None and getattr(nbgrader.api.get_alembic_version, "__module__", "") == "nbgrader.api":
        nbgrader.api.get_alembic_version = lambda: head  # the same answer, without the subprocess


def prepare_course(root: Path, assignment: str, notebooks: list[Path], verbose: bool = False) -> Path:
    """A course in ``root``: the source notebooks, the generated release and the gradebook."""
    from nbgrader.converters import GenerateAssignment

    use_alembic_head_from_files()
    scripts = str(Path(sys.executable).parent)  # else nbgrader runs `alembic`: from this Python's scripts
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")

    source = Path(root) / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    folders = {nb.parent for nb in notebooks}
    for folder in folders:  # data files next to the notebooks travel with them (not .py pairs)
        for item in folder.iterdir():
            if item.is_file() and item.suffix not in (".ipynb", ".py") and not item.name.startswith("."):
                shutil.copyfile(item, source / item.name)
    for nb in notebooks:
        shutil.copyfile(nb, source / nb.name)
    _run_converter(GenerateAssignment, Path(root), assignment, verbose=verbose)
    return Path(root)


# --------------------------------------------------------------------------- what is expected


@dataclass
class ExpectedCell:
    grade_id: str
    cell_type: str
    metadata: dict  # the release cell's nbgrader metadata (with checksum)
    release_source: str  # what students see
    source_source: str  # with solutions and hidden tests
    locked: bool
    grade: bool
    solution: bool
    points: float


@dataclass
class Expected:
    name: str  # notebook file name
    cells: list[ExpectedCell]
    release: object  # the release notebook (NotebookNode)

    @property
    def graded(self) -> list[ExpectedCell]:
        return [c for c in self.cells if c.grade]


def expected_notebooks(course: Path, assignment: str) -> list[Expected]:
    import nbformat

    result = []
    for path in sorted((Path(course) / "release" / assignment).glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        source = nbformat.read(Path(course) / "source" / assignment / path.name, as_version=4)
        source_by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
        cells = []
        for cell in release.cells:
            meta = cell.metadata.get("nbgrader")
            if not meta or not meta.get("grade_id"):
                continue
            src = source_by_id.get(meta["grade_id"])
            cells.append(
                ExpectedCell(
                    grade_id=meta["grade_id"],
                    cell_type=cell.cell_type,
                    metadata=dict(meta),
                    release_source=cell.source,
                    source_source=src.source if src is not None else cell.source,
                    locked=bool(meta.get("locked")),
                    grade=bool(meta.get("grade")),
                    solution=bool(meta.get("solution")),
                    points=float(meta.get("points", 0) or 0),
                )
            )
        result.append(Expected(path.name, cells, release))
    if not result:
        raise GradingError(f"nbgrader generated no notebook for {assignment}")
    return result


# --------------------------------------------------------------------------- submissions


@dataclass
class Submission:
    student: str  # nbgrader student id (safe characters)
    label: str  # the name in the submissions folder
    files: dict[str, Path] = field(default_factory=dict)  # expected notebook name -> file
    problems: list[str] = field(default_factory=list)


def _student_id(name: str, used: set[str]) -> str:
    base = STUDENT_ID_RE.sub("_", name).strip("._-") or "student"
    candidate, k = base, 1
    while candidate.lower() in used:
        k += 1
        candidate = f"{base}-{k}"
    used.add(candidate.lower())
    return candidate


def _skipped(path: Path) -> bool:
    return path.name.startswith(".") or path.name in SKIPPED_NAMES


def _safe_extract(archive: Path, dest: Path) -> Path:
    """Unzip ``archive`` into ``dest``, refusing paths that leave it; returns the folder to read."""
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = Path(info.filename).parts
            if info.is_dir() or not parts or Path(info.filename).is_absolute() or ".." in parts:
                continue
            if any(p in SKIPPED_NAMES or p.startswith(".") for p in parts):
                continue
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    folder = dest
    while True:  # an LMS zip often wraps everything in one folder
        entries = [p for p in folder.iterdir() if not _skipped(p)]
        inner = (
            [p for p in entries[0].iterdir() if not _skipped(p)] if len(entries) == 1 and entries[0].is_dir() else []
        )
        if len(inner) > 1 or (len(inner) == 1 and inner[0].is_dir()):  # a wrapper, not one student's folder
            folder = entries[0]
        else:
            return folder


def discover(path: Path, notebook_names: list[str], workdir: Path) -> list[Submission]:
    """One Submission per student in ``path`` (folder, zip or one notebook)."""
    path = Path(path)
    if not path.exists():
        raise GradingError(f"{path} does not exist")
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            path = _safe_extract(path, Path(workdir) / "unzipped")
        except (zipfile.BadZipFile, OSError) as err:
            raise GradingError(f"{path}: cannot unzip ({err})") from err
        entries = sorted(p for p in path.iterdir() if not _skipped(p))
    elif path.is_file():
        entries = [path]
    else:
        entries = sorted(p for p in path.iterdir() if not _skipped(p))
    used: set[str] = set()
    result = []
    for entry in entries:
        label = entry.name
        if entry.is_dir():
            sub = Submission(_student_id(entry.name, used), label + "/")
            found = sorted(
                p
                for p in entry.rglob("*.ipynb")
                if not any(part in SKIPPED_NAMES or part.startswith(".") for part in p.relative_to(entry).parts)
            )
            by_name = {p.name: p for p in found}
            for name in notebook_names:
                if name in by_name:
                    sub.files[name] = by_name[name]
            missing = [n for n in notebook_names if n not in sub.files]
            spare = [p for p in found if p not in sub.files.values()]
            if len(missing) == 1 and len(spare) == 1:
                sub.files[missing[0]] = spare[0]
                sub.problems.append(f"the notebook is named {spare[0].name}, not {missing[0]}: graded as {missing[0]}")
            else:
                for name in missing:
                    sub.problems.append(
                        f"no notebook {name} in the folder"
                        + (f" (found {', '.join(p.name for p in spare)})" if spare else "")
                    )
        else:
            stem = entry.name[: -len(".ipynb")] if entry.name.endswith(".ipynb") else entry.stem
            sub = Submission(_student_id(stem, used), label)
            if len(notebook_names) == 1:
                sub.files[notebook_names[0]] = entry
                if not entry.name.endswith(".ipynb"):
                    sub.problems.append(f"{entry.name} is not an .ipynb file; read as a notebook anyway")
            else:
                sub.problems.append(
                    f"a single file, but the assignment has {len(notebook_names)} notebooks: hand in a folder"
                )
        result.append(sub)
    if not result:
        raise GradingError(f"no submissions in {path}")
    return result


# --------------------------------------------------------------------------- validation and repair


def _norm(source: str) -> str:
    lines = [ln.rstrip() for ln in str(source).replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def _defined_names(source: str) -> list[str]:
    return re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, flags=re.M)


def _first_line(source: str) -> str:
    return next((ln.strip() for ln in str(source).split("\n") if ln.strip()), "")


def _source_text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


@dataclass
class Prepared:
    notebook: object | None  # the repaired notebook, or None when it cannot run
    problems: list[str] = field(default_factory=list)
    restored: int = 0  # cells whose metadata was restored by content


def read_submission(path: Path) -> tuple[object | None, str | None]:
    """The notebook in ``path`` as nbformat v4 (cells rebuilt cleanly), or a problem in words."""
    import nbformat

    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        return None, f"cannot read the file ({err.strerror})"
    if not raw.strip():
        return None, "the file is empty (0 bytes)" if not raw else "the file is empty (only whitespace)"
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not text (UTF-8)"
    except json.JSONDecodeError as err:
        return None, (
            f"not a valid notebook: the JSON is broken at line {err.lineno}, column {err.colno} "
            f"({err.msg}); was the download interrupted or the file edited by hand?"
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        return None, "not a Jupyter notebook: valid JSON, but without a list of cells"
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as err:  # noqa: BLE001 - any reading failure is reported
        return None, f"not a readable notebook ({str(err).splitlines()[0][:150]})"
    clean = nbformat.v4.new_notebook()
    clean.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        meta = {k: v for k, v in meta.items() if k in ("nbgrader", "tags")}
        if kind == "code":
            clean.cells.append(nbformat.v4.new_code_cell(_source_text(cell), metadata=meta))
        elif kind == "markdown":
            clean.cells.append(nbformat.v4.new_markdown_cell(_source_text(cell), metadata=meta))
        elif kind == "raw":
            clean.cells.append(nbformat.v4.new_raw_cell(_source_text(cell), metadata=meta))
    if not clean.cells:
        return None, "the notebook has no cells"
    return clean, None


def _match_stripped(nb, exp: Expected, found: dict[str, list[int]]) -> dict[str, int]:
    """Cells without nbgrader metadata matched to missing expected cells by content."""
    free = [k for k, c in enumerate(nb.cells) if not c.metadata.get("nbgrader", {}).get("grade_id")]
    matched: dict[str, int] = {}
    claimed: set[int] = set()
    # 1. exact content of locked cells (release or source version)
    for e in exp.cells:
        if e.grade_id in found or not e.locked:
            continue
        wanted = {_norm(e.release_source), _norm(e.source_source)}
        for k in free:
            if k not in claimed and nb.cells[k].cell_type == e.cell_type and _norm(nb.cells[k].source) in wanted:
                matched[e.grade_id] = k
                claimed.add(k)
                break
    # 2. edited locked code cells: same first line and mostly the same text
    for e in exp.cells:
        if e.grade_id in found or e.grade_id in matched or not e.locked or e.cell_type != "code":
            continue
        first = _first_line(e.release_source)
        best, best_ratio = None, 0.6
        for k in free:
            if k in claimed or nb.cells[k].cell_type != "code" or _first_line(nb.cells[k].source) != first:
                continue
            ratio = difflib.SequenceMatcher(None, _norm(nb.cells[k].source), _norm(e.release_source)).ratio()
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if best is not None:
            matched[e.grade_id] = best
            claimed.add(best)
    # 3. answer cells: the code cell that defines the same names, between its neighbours
    positions = {gid: ks[0] for gid, ks in found.items()}
    positions.update(matched)
    order = [e.grade_id for e in exp.cells]
    for i, e in enumerate(exp.cells):
        if e.grade_id in found or e.grade_id in matched or e.locked:
            continue
        before = max((positions[g] for g in order[:i] if g in positions), default=-1)
        after = min((positions[g] for g in order[i + 1 :] if g in positions), default=len(nb.cells))
        names = _defined_names(e.release_source)
        window = [k for k in free if before < k < after and k not in claimed and nb.cells[k].cell_type == e.cell_type]
        pick = None
        if names:
            pick = next(
                (
                    k
                    for k in window
                    if all(re.search(rf"^(?:def|class)\s+{n}\b", nb.cells[k].source, re.M) for n in names)
                ),
                None,
            )
        elif window and e.cell_type == "code":
            pick = window[0]
        if pick is not None:
            matched[e.grade_id] = pick
            positions[e.grade_id] = pick
            claimed.add(pick)
    return matched


def validate_and_repair(nb, exp: Expected) -> Prepared:
    """Check a submitted notebook against the expected cells and repair what can be repaired.

    Returns the notebook ready for ``nbgrader autograde`` (metadata from the release,
    stripped cells matched by content, copies without metadata, deleted locked cells
    put back) and every problem in words.
    """
    import nbformat

    nb = copy.deepcopy(nb)
    problems: list[str] = []
    known = {e.grade_id: e for e in exp.cells}
    found: dict[str, list[int]] = {}
    for k, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in known:
            found.setdefault(gid, []).append(k)
        elif "nbgrader" in cell.metadata:
            del cell.metadata["nbgrader"]  # unknown id or broken metadata: an ordinary cell
    # duplicates: the first copy keeps its role
    for gid, ks in found.items():
        if len(ks) > 1:
            problems.append(
                f"cell '{gid}' appears {len(ks)} times (copied?): the first copy is graded, "
                "the others run as ordinary cells"
            )
            for k in ks[1:]:
                del nb.cells[k].metadata["nbgrader"]
            found[gid] = ks[:1]
    # stripped metadata: match by content
    missing = [e for e in exp.cells if e.grade_id not in found]
    restored = 0
    if missing:
        matched = _match_stripped(nb, exp, found)
        for gid, k in matched.items():
            found[gid] = [k]
        restored = len(matched)
        if restored:
            problems.append(
                f"the grading metadata of {restored} cell(s) was missing (stripped by the editor?): "
                "matched back to the source by content"
            )
    locked = [e for e in exp.cells if e.locked]
    same = [
        g
        for g in found
        if known[g].locked
        and _norm(nb.cells[found[g][0]].source) in (_norm(known[g].release_source), _norm(known[g].source_source))
    ]
    if locked and not same:
        return Prepared(
            None,
            problems
            + [f"this is not {exp.name}: none of its read-only cells matches the source (another chapter's notebook?)"],
            restored,
        )
    if not found or not any(known[g].grade or known[g].solution for g in found):
        return Prepared(
            None,
            problems + [f"none of the exercise's cells were found: is this the right notebook ({exp.name})?"],
            restored,
        )
    # metadata from the release (authoritative); edits and type changes reported
    for gid, (k,) in found.items():
        e, cell = known[gid], nb.cells[found[gid][0]]
        cell.metadata["nbgrader"] = copy.deepcopy(e.metadata)
        if cell.cell_type != e.cell_type:
            problems.append(f"cell '{gid}' was changed from {e.cell_type} to {cell.cell_type}: changed back")
            new = (nbformat.v4.new_code_cell if e.cell_type == "code" else nbformat.v4.new_markdown_cell)(
                e.release_source if e.locked else cell.source, metadata=cell.metadata
            )
            nb.cells[k] = new
            cell = new
        if e.locked and _norm(cell.source) not in (_norm(e.release_source), _norm(e.source_source)):
            what = "test cell" if e.grade else "read-only cell"
            problems.append(f"{what} '{gid}' was edited: the original is graded instead")
    # deleted locked cells go back after the cell that precedes them in the source
    for i, e in enumerate(exp.cells):
        if e.grade_id in found:
            continue
        if not e.locked:
            problems.append(f"answer cell '{e.grade_id}' is missing (deleted?): the tests that need it fail")
            continue
        previous = [found[g.grade_id][0] for g in exp.cells[:i] if g.grade_id in found]
        at = max(previous) + 1 if previous else 0
        maker = nbformat.v4.new_code_cell if e.cell_type == "code" else nbformat.v4.new_markdown_cell
        nb.cells.insert(at, maker(e.release_source, metadata={"nbgrader": copy.deepcopy(e.metadata)}))
        for ks in found.values():
            if ks[0] >= at:
                ks[0] += 1
        found[e.grade_id] = [at]
        if e.grade:
            problems.append(f"test cell '{e.grade_id}' is missing (deleted?): the original was put back and graded")
        elif e.cell_type == "code":
            problems.append(f"read-only cell '{e.grade_id}' is missing (deleted?): the original was put back")
    return Prepared(nb, problems, restored)


# --------------------------------------------------------------------------- the per-student worker


def _guarded_execute_class():
    """nbgrader's Execute that survives student code: timeouts, dead kernels, huge outputs."""
    import nbformat
    from nbclient.client import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbgrader.preprocessors import Execute
    from traitlets import Integer

    class GuardedExecute(Execute):
        setup_timeout = Integer(120, help="seconds for locked cells that are not graded (imports)").tag(config=True)
        max_output_chars = Integer(100_000, help="characters of output kept per cell").tag(config=True)
        max_restarts = Integer(6, help="kernel restarts before the rest is given up").tag(config=True)

        def _cell_timeout(self, cell):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("locked") and not meta.get("grade") and not meta.get("solution"):
                return max(self.setup_timeout, self.timeout or 0)
            return self.timeout

        async def _async_handle_timeout(self, timeout, cell=None):
            self._timeouts += 1
            return await super()._async_handle_timeout(timeout, cell)

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
            used = self._out_chars.get(cell_index, 0)
            self._out_chars[cell_index] = used + size
            if msg.get("msg_type") != "error" and used + size > self.max_output_chars:
                if used <= self.max_output_chars:
                    outs.append(
                        nbformat.v4.new_output(
                            "stream",
                            name="stdout",
                            text=f"\n[output cut by the grader after {self.max_output_chars} characters]\n",
                        )
                    )
                return None
            return super().output(outs, msg, display_id, cell_index)

        @staticmethod
        def _fail(cell, ename, evalue):
            cell.outputs.append(
                nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
            )

        def _run(self, cell, index, resources, store_history=True):
            """'ok', 'timeout' or 'dead'."""
            before = self._timeouts
            try:
                self.execute_cell(cell, index, store_history=store_history)
            except DeadKernelError:
                return "dead"
            except CellTimeoutError:
                return "timeout"
            return "timeout" if self._timeouts != before else "ok"

        def preprocess(self, nb, resources=None, km=None):
            NotebookClient.__init__(self, nb, km)
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            self.timeout_func = self._cell_timeout
            self._timeouts, self._out_chars = 0, {}
            ran: list[int] = []  # code cells to re-run after a restart
            tries: dict[int, int] = {}
            restarts, index, cells = 0, 0, self.nb.cells
            while index < len(cells):
                broken = False
                with self.setup_kernel():
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for j in list(ran):  # after a restart: rebuild the state of the cells above
                        replay = copy.deepcopy(cells[j])
                        status = self._run(replay, j, resources, store_history=False)
                        if status != "ok":
                            ran.remove(j)
                            self._fail(
                                cells[j],
                                "KernelDied" if status == "dead" else "CellTimeoutError",
                                "this cell stopped the kernel when it was re-run after a restart "
                                "(exit(), a crash or the memory limit?)",
                            )
                            broken = True
                            break
                    while not broken and index < len(cells):
                        cell = cells[index]
                        self._out_chars[index] = 0
                        status = self._run(cell, index, resources)
                        if status == "dead":
                            tries[index] = tries.get(index, 0) + 1
                            if tries[index] == 1:  # maybe a cell above ended the kernel (exit()): retry once
                                broken = True
                                break
                            self._fail(
                                cell,
                                "KernelDied",
                                "the kernel died while running this cell (a crash, "
                                "os._exit or the memory limit); the grader restarted it and went on",
                            )
                        index += 1
                        if status != "ok":
                            broken = True
                            break
                        if cell.cell_type == "code" and cell.source.strip():
                            ran.append(index - 1)
                if broken:
                    restarts += 1
                    if restarts > self.max_restarts:
                        for cell in cells[index:]:
                            if cell.cell_type == "code":
                                self._fail(cell, "NotRun", "not run: the kernel had to be restarted too often")
                        break
            self.set_widgets_metadata()
            return self.nb, self.resources

    return GuardedExecute


def _lenient_save_autogrades_class():
    """SaveAutoGrades that ignores stderr: a warning is not a failed test (only errors are)."""
    from nbgrader.preprocessors import SaveAutoGrades

    class LenientSaveAutoGrades(SaveAutoGrades):
        def _add_score(self, cell, resources):
            outputs = cell.get("outputs")
            if outputs is None:
                return super()._add_score(cell, resources)
            cell.outputs = [o for o in outputs if not (o.output_type == "stream" and o.get("name") == "stderr")]
            try:
                return super()._add_score(cell, resources)
            finally:
                cell.outputs = outputs

    return LenientSaveAutoGrades


def _hide_hidden_tests_class():
    """For the students' feedback: hidden tests out of the test cells, tracebacks cut to their last line.

    The autograded notebook holds the hidden tests (nbgrader restores them from the
    source), and a traceback shows the lines around the failing assert; the feedback
    that goes to students shows neither, only the error and its message.
    """
    from nbconvert.preprocessors import Preprocessor
    from traitlets import Bool

    class HideHiddenTests(Preprocessor):
        enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
                return cell, resources
            kept, hidden = [], False
            for line in cell.source.split("\n"):
                if "BEGIN HIDDEN TESTS" in line:
                    hidden = True
                    kept.append(line.split("#")[0] + "# (hidden tests: not shown)")
                elif "END HIDDEN TESTS" in line:
                    hidden = False
                elif not hidden:
                    kept.append(line)
            cell.source = "\n".join(kept)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [
                        f"\x1b[0;31m{output.get('ename', 'Error')}\x1b[0m: {output.get('evalue', '')}"
                    ]
            return cell, resources

    return HideHiddenTests


def _write_kernelspec(folder: Path, options: Options, pidfile: Path, zygote: str | None = None) -> Path:
    spec = Path(folder) / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-c",
        _KERNEL_LAUNCHER,
        str(options.memory_mb * 2**20),
        str(max(options.student_timeout, 60)),
        str(pidfile),
        zygote or "",
        "-f",
        "{connection_file}",
        # no input history on disk: it is never read back, and its SQLite file waits for the
        # disk at every cell (two flushes each)
        "--HistoryManager.hist_file=:memory:",
    ]
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": argv, "display_name": "cvbook grading (limited)", "language": "python", "env": KERNEL_ENV},
            indent=1,
        )
    )
    return Path(folder)


class _NoFeedback(Exception):
    """Internal: feedback switched off (``--no-feedback``)."""


def _worker_main(spec_path: str) -> int:
    """Autograde one student in the course described by ``spec_path`` (runs in its own process)."""
    spec = json.loads(Path(spec_path).read_text())
    root, assignment, student = Path(spec["root"]), spec["assignment"], spec["student"]
    options = Options(**spec["options"])
    result: dict = {"student": student, "ok": False}
    started = time.monotonic()
    try:
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader.converters import Autograde, GenerateFeedback
        from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput

        guarded = _guarded_execute_class()
        guarded.setup_timeout.default_value = options.setup_timeout
        guarded.max_output_chars.default_value = options.max_output_chars
        preprocessors = [
            guarded,
            IgnorePattern,
            ClearMetadataPreprocessor,
            LimitOutput,
            _lenient_save_autogrades_class(),
            AssignLatePenalties,
            CheckCellMetadata,
        ]
        _run_converter(Autograde, root, assignment, student, options, options.verbose, preprocessors)
        result["run_s"] = round(time.monotonic() - started, 2)
        try:
            if not options.feedback:
                raise _NoFeedback
            from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
            from nbgrader.preprocessors import GetGrades

            _run_converter(
                GenerateFeedback,
                root,
                assignment,
                student,
                options,
                options.verbose,
                feedback_preprocessors=[GetGrades, _hide_hidden_tests_class(), CSSHTMLHeaderPreprocessor],
            )
        except _NoFeedback:
            pass  # --no-feedback: the summary's HTML page stands in (written by the parent)
        except GradingError as err:
            result["feedback_error"] = str(err).splitlines()[0]
        from nbgrader.api import Gradebook

        with _Quiet(), Gradebook(_config(root).CourseDirectory.db_url) as gb:
            submission = gb.find_submission(assignment, student)
            result["cells"] = {g.name: [g.score, g.max_score] for n in submission.notebooks for g in n.grades}
        result["ok"] = True
    except BaseException as err:  # noqa: BLE001 - reported to the grader, which goes on
        result["error"] = " ".join(str(err).split())[:600]
    result["worker_s"] = round(time.monotonic() - started, 2)
    result["cpu_s"] = round(_rusage_cpu_s(), 2)
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


#: What every grading process imports before it grades (about 5 s on a 2026 laptop core): with
#: the ``forkserver`` start method, one server process imports it once per run and forks a
#: ready grading process per student, instead of each student's process importing it again.
_WORKER_PRELOAD = [
    "cvbook.grading",
    "nbconvert.preprocessors",
    "nbgrader.converters",
    "nbgrader.preprocessors",
    "nbgrader.api",
    "nbgrader.coursedir",
    "jupyter_client",
    "nbclient",
]
_FORK_CONTEXT = None
_FORK_LOCK = threading.Lock()


def _fork_context():
    """The ``forkserver`` multiprocessing context with nbgrader preloaded, or None where there is none.

    None also when ``cvbook.grading`` cannot be imported by that name (the forked process finds
    :func:`_forked_worker` there), and when the environment variable
    ``CVBOOK_GRADING_FORKSERVER=0`` switches it off: each student's process then starts from
    scratch (``python -c ...``), as before.
    """
    global _FORK_CONTEXT
    if not _forks_allowed():
        return None
    import multiprocessing

    try:
        import cvbook.grading  # noqa: F401 - the forked processes' entry point lives there
    except ImportError:
        return None

    with _FORK_LOCK:
        if _FORK_CONTEXT is None:
            if "forkserver" not in multiprocessing.get_all_start_methods():
                return None
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_WORKER_PRELOAD)
            _FORK_CONTEXT = ctx
        return _FORK_CONTEXT


def _forks_allowed() -> bool:
    """False when ``CVBOOK_GRADING_FORKSERVER=0``: every grading process and every kernel then
    starts from scratch (slower, and the way to rule the forking out when something looks odd)."""
    return os.environ.get("CVBOOK_GRADING_FORKSERVER", "1").strip() != "0" and hasattr(os, "fork")


#: What the kernel zygote imports once per run, so that no student's kernel imports it again
#: (about 4 s of CPU per kernel with torch, 6-8 s with torchvision). Not cvbook: each kernel
#: imports it itself, so that cvbook.measured sees the kernel's own environment.
_ZYGOTE_PRELOAD = ["numpy", "torch", "torchvision", "ipykernel_launcher", "ipykernel.kernelapp", "ipykernel.ipkernel"]


class _KernelZygote:
    """``cvbook/_kernel_zygote.py`` running for one grading run: it imports :data:`_ZYGOTE_PRELOAD`
    and forks a ready kernel for each student (see that file for the protocol).

    Anything that goes wrong (no Unix sockets, a path too long for one, an import that starts a
    thread, a crash) only means that kernels start from scratch, as they always did."""

    def __init__(self, proc: subprocess.Popen, address: str, log_path: Path, verbose: bool):
        self.proc, self.address, self.log_path, self.verbose = proc, address, log_path, verbose
        self._ready: str | None = None
        self._waited = False

    @classmethod
    def start(cls, work: Path, verbose: bool = False) -> _KernelZygote | None:
        script = Path(__file__).with_name("_kernel_zygote.py")
        address = str(Path(work) / "kernels.sock")
        if not script.exists() or not hasattr(socket, "AF_UNIX") or len(address.encode()) > 100:
            return None
        env = dict(os.environ, **KERNEL_ENV)  # what is read at start-up (hash seed, warnings) as in a kernel
        env.pop("JPY_PARENT_PID", None)
        log_path = Path(work) / "zygote.log"
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, str(script), address, ",".join(_ZYGOTE_PRELOAD)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=env,
                    cwd=work,
                    start_new_session=True,  # Ctrl-C is ours to handle; we close its stdin
                )
        except OSError:
            return None
        return cls(proc, address, log_path, verbose)

    def wait_ready(self, timeout: float = 300.0) -> str | None:
        """The socket address once the imports are done; None if the zygote is not usable."""
        if self._waited:
            return self._ready
        self._waited = True
        import select

        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(self.proc.stdout.fileno(), 256)
            if not chunk:
                break
            line += chunk
        if line.strip() == b"ready":
            self._ready = self.address
        else:
            if self.verbose:
                said = line.decode("utf-8", "replace").strip() or "no answer"
                sys.stderr.write(f"kernel zygote not used ({said}); kernels start from scratch\n")
            self.stop()
        return self._ready

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # its signal to kill what is left and leave
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.verbose and self.log_path.exists() and self.log_path.stat().st_size:
            sys.stderr.write(self.log_path.read_text(errors="replace"))


def _zygote_kernels_cpu_s(pidfile: Path) -> float:
    """CPU seconds of the kernels the zygote forked for one student (their launchers note them)."""
    path = Path(str(pidfile) + ".cpu")
    if not path.exists():
        return 0.0
    total = 0.0
    for word in path.read_text().split():
        try:
            total += float(word)
        except ValueError:
            pass
    return total


def _forked_worker(spec_path: str, cwd: str, env: dict, log_path: str) -> None:
    """Entry of a grading process forked by the forkserver: the same set-up as the ``Popen`` path
    (own session, so its kernels can be killed as a group; the student's folder as working
    directory; the student's environment; stdout and stderr into the log), then :func:`_worker_main`."""
    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    try:
        code = _worker_main(spec_path)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)


def _rusage_cpu_s() -> float:
    """CPU seconds of this process and of the children it waited for (its kernels)."""
    import resource

    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


_WORKER_BOOT = (
    "import importlib.util, sys; "
    "s = importlib.util.spec_from_file_location('cvbook_grading_worker', sys.argv[1]); "
    "m = importlib.util.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); "
    "sys.exit(m._worker_main(sys.argv[2]))"
)


def _wait(proc: subprocess.Popen, timeout: float):
    """Wait for ``proc`` (killing its process group after ``timeout`` s): (exit status or None, rusage).

    The resource usage covers the process and the kernels it waited for: the CPU time of
    grading this student, whatever else runs on the machine.
    """
    deadline = time.monotonic() + timeout
    status = None
    while True:
        pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(raw)
            break
        if time.monotonic() > deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, raw, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = status if status is not None else -signal.SIGKILL
    return status, usage


def _join(proc, timeout: float):
    """Wait for a forked grading process (killing its process group after ``timeout`` s): its exit status, or None."""
    proc.join(timeout)
    if proc.exitcode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.join()
        return None
    return proc.exitcode


def _stop_everything() -> None:
    """Kill the grading processes still running, and their kernels (after an interruption)."""
    with _LIVE_LOCK:
        _CANCELLED.set()
        live = dict(_LIVE)
    for pid, pidfile in live.items():
        for kill in (os.killpg, os.kill):  # the group; the process itself, if it had no group of its own yet
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _kill_pids(pidfile)


def _kill_pids(pidfile: Path) -> None:
    """End the kernels this student's grading started (by the pids their launcher wrote)."""
    if not pidfile.exists():
        return
    for line in pidfile.read_text().split():
        try:
            os.kill(int(line), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


# --------------------------------------------------------------------------- grading one student


@dataclass
class StudentResult:
    student: str
    label: str
    cells: dict[str, tuple[float, float]]  # grade id -> (score, max)
    problems: list[str]
    failures: dict[str, str] = field(default_factory=dict)  # grade id -> why (one line)
    other_errors: list[str] = field(default_factory=list)  # errors outside test cells
    seconds: float = 0.0
    run_s: float | None = None
    cpu_s: float | None = None  # CPU time of the grading process and its kernels
    feedback_html: list[Path] = field(default_factory=list)
    autograded: list[Path] = field(default_factory=list)
    ran: bool = False

    @property
    def total(self) -> float:
        return sum(s for s, _ in self.cells.values())

    @property
    def max(self) -> float:
        return sum(m for _, m in self.cells.values())


def _last_error_line(output) -> str:
    tb = [ANSI_RE.sub("", str(line)) for line in output.get("traceback", [])]
    evalue = ANSI_RE.sub("", str(output.get("evalue", ""))).strip()
    ename = output.get("ename", "Error")
    if ename == "NotImplementedError" and not evalue:
        return "NotImplementedError: no answer yet (the exercise still raises NotImplementedError)"
    text = f"{ename}: {evalue}" if evalue else (tb[-1].strip() if tb else ename)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _exit_calls(path: Path) -> list[str]:
    """One problem line per cell of the graded notebook that ended with ``sys.exit``/``exit``.

    IPython turns ``sys.exit()`` into a ``SystemExit`` error output and goes on with the
    next cell, so the grade only suffers through the checks it breaks; the instructor is
    told anyway (the same code would stop a script). Best effort: an unreadable notebook
    gives no line.
    """
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - explaining is best effort
        return []
    lines = []
    for k, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "SystemExit":
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                where = f"cell '{gid}'" if gid else f"cell {k + 1} ({_first_line(cell.source)[:40]!r})"
                code = ANSI_RE.sub("", str(out.get("evalue", ""))).strip()
                lines.append(
                    f"{where} called sys.exit({code}): the grader went on with the next cell "
                    "(remove the call; it would stop a script)"
                )
                break
    return lines


def _explain(autograded_nb, exp: Expected) -> tuple[dict[str, str], list[str]]:
    known = {e.grade_id: e for e in exp.cells}
    failures, others = {}, []
    for k, cell in enumerate(autograded_nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in known and known[gid].grade:
            failures[gid] = _last_error_line(errors[-1])
        else:
            where = f"cell '{gid}'" if gid else f"cell {k + 1} ({_first_line(cell.source)[:40]!r})"
            others.append(f"{where}: {_last_error_line(errors[-1])}")
    return failures, others


def grade_one(
    sub: Submission,
    course: Path,
    assignment: str,
    expected: list[Expected],
    workdir: Path,
    options: Options,
    zygote: str | None = None,
) -> StudentResult:
    """Validate, repair and autograde one student's submission; never raises for a bad submission.

    ``zygote``: the address of a running kernel zygote (:class:`_KernelZygote`), whose forked
    kernels start with their imports done; None: every kernel starts from scratch."""
    import nbformat

    started = time.monotonic()
    cells = {e.grade_id: (0.0, e.points) for exp in expected for e in exp.graded}
    res = StudentResult(sub.student, sub.label, dict(cells), list(sub.problems))
    root = Path(workdir) / "students" / sub.student
    folder = root / "submitted" / sub.student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    runnable = 0
    for exp in expected:
        path = sub.files.get(exp.name)
        if path is None:
            continue
        nb, problem = read_submission(path)
        if problem:
            res.problems.append(f"{exp.name}: {problem}" if len(expected) > 1 else problem)
            continue
        prepared = validate_and_repair(nb, exp)
        prefix = f"{exp.name}: " if len(expected) > 1 else ""
        res.problems += [prefix + p for p in prepared.problems]
        if prepared.notebook is not None:
            nbformat.write(prepared.notebook, folder / exp.name)
            runnable += 1
    if not runnable:
        if not res.problems:
            res.problems.append("nothing to grade")
        res.problems.append("not run: scored 0")
        res.seconds = round(time.monotonic() - started, 2)
        return res

    shutil.copytree(course / "source", root / "source", dirs_exist_ok=True)
    shutil.copyfile(course / "gradebook.db", root / "gradebook.db")
    pidfile = root / "kernel.pids"
    jupyter = _write_kernelspec(root / "jupyter", options, pidfile, zygote)
    spec = {
        "root": str(root),
        "assignment": assignment,
        "student": sub.student,
        "result": str(root / "result.json"),
        "options": options.__dict__,
    }
    (root / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(jupyter) + os.pathsep + env.get("JUPYTER_PATH", "")
    env["IPYTHONDIR"] = str(root / "ipython")
    env["MPLCONFIGDIR"] = str(root / "matplotlib")
    env["PYTHONWARNINGS"] = "ignore"
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("JPY_PARENT_PID", None)
    ctx = _fork_context()
    usage = None
    if ctx is not None:  # forked from the server that has nbgrader imported already
        with _LIVE_LOCK:
            if _CANCELLED.is_set():
                raise GradingError("the run was interrupted")
            from cvbook.grading import _forked_worker as target  # by that name, even when run as __main__

            proc = ctx.Process(
                target=target,
                args=(str(root / "spec.json"), str(root), env, str(root / "worker.log")),
                name=f"cvbook-grade-{sub.student}",
                daemon=False,
            )
            proc.start()
            _LIVE[proc.pid] = pidfile
        try:
            status = _join(proc, options.student_timeout)
        finally:
            with _LIVE_LOCK:
                _LIVE.pop(proc.pid, None)
            _kill_pids(pidfile)
    else:
        with open(root / "worker.log", "wb") as logfile, _LIVE_LOCK:
            if _CANCELLED.is_set():
                raise GradingError("the run was interrupted")
            proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER_BOOT, str(Path(__file__).resolve()), str(root / "spec.json")],
                cwd=root,
                env=env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _LIVE[proc.pid] = pidfile
        try:
            status, usage = _wait(proc, options.student_timeout)
        finally:
            with _LIVE_LOCK:
                _LIVE.pop(proc.pid, None)
            _kill_pids(pidfile)
    if status is None:
        res.problems.append(
            f"grading stopped after {options.student_timeout} s (--student-timeout): "
            "scored 0; grade this notebook by hand"
        )
    res.cpu_s = round(usage.ru_utime + usage.ru_stime, 2) if usage is not None else None
    kernel_cpu_s = _zygote_kernels_cpu_s(pidfile)  # kernels forked by the zygote are not our children
    log = (root / "worker.log").read_bytes() if (root / "worker.log").exists() else b""
    if options.verbose and log:
        sys.stderr.write(log.decode("utf-8", "replace"))
    result = json.loads((root / "result.json").read_text()) if (root / "result.json").exists() else None
    if result is None:
        if status is not None:
            tail = log.decode("utf-8", "replace").strip().splitlines()[-1:] if log else []
            res.problems.append(f"the grading process failed ({'; '.join(tail) or status}): scored 0")
    elif not result.get("ok"):
        res.problems.append(f"nbgrader could not grade this notebook ({result.get('error', '?')[:300]}): scored 0")
    else:
        res.ran = True
        res.run_s = result.get("run_s")
        if res.cpu_s is None and result.get("cpu_s") is not None:  # forked: the process measured itself
            res.cpu_s = result["cpu_s"]
        if res.cpu_s is not None:
            res.cpu_s = round(res.cpu_s + kernel_cpu_s, 2)
        for gid, (score, maximum) in result.get("cells", {}).items():
            if gid in res.cells:
                res.cells[gid] = (float(score or 0), float(maximum))
        if result.get("feedback_error"):
            res.problems.append("nbgrader wrote no HTML feedback: " + result["feedback_error"][:200])
    graded_folder = root / "autograded" / sub.student / assignment

    def prefix_of(exp: Expected) -> str:
        return f"{exp.name}: " if len(expected) > 1 else ""

    for exp in expected:
        path = graded_folder / exp.name
        if path.exists():
            res.autograded.append(path)
            try:
                failures, others = _explain(nbformat.read(path, as_version=4), exp)
            except Exception:  # noqa: BLE001 - explaining is best effort
                failures, others = {}, []
            res.failures.update(failures)
            res.other_errors += others
            res.problems += [prefix_of(exp) + exit_call for exit_call in _exit_calls(path)]
        html_path = root / "feedback" / sub.student / assignment / (Path(exp.name).stem + ".html")
        if html_path.exists():
            res.feedback_html.append(html_path)
    for gid, (score, maximum) in res.cells.items():
        if score < maximum and gid not in res.failures and res.ran:
            res.failures[gid] = "failed (no error message)"
    res.seconds = round(time.monotonic() - started, 2)
    return res


# --------------------------------------------------------------------------- reports


def _fmt(x: float) -> str:
    return f"{x:g}"


def feedback_markdown(res: StudentResult, assignment: str, expected: list[Expected]) -> str:
    lines = [
        f"# {assignment}: feedback for {res.student}",
        "",
        f"Score: **{_fmt(res.total)} / {_fmt(res.max)}** (submission `{res.label}`)",
        "",
    ]
    if res.problems:
        lines += ["## Problems with the submission", ""] + [f"- {p}" for p in res.problems] + [""]
    lines += ["## Checks", "", "| check | points | result |", "|---|---|---|"]
    for exp in expected:
        for e in exp.graded:
            score, maximum = res.cells[e.grade_id]
            if not res.ran:
                why = "not run"
            elif score >= maximum:
                why = "passed"
            else:
                why = "failed: " + res.failures.get(e.grade_id, "?").replace("|", "\\|")
            lines.append(f"| `{e.grade_id}` | {_fmt(score)} / {_fmt(maximum)} | {why} |")
    if res.other_errors:
        lines += ["", "## Errors in other cells", ""] + [f"- {o}" for o in res.other_errors]
    return "\n".join(lines) + "\n"


def exercise_of(grade_ids: list[str]) -> dict[str, str]:
    """grade id -> its exercise: ``ex2`` for ``ex2_standardize_tests`` (the book's naming), else the id."""
    return {g: (m.group(1) if (m := re.match(r"(ex\d+)_", g)) else g) for g in grade_ids}


def _fallback_html(markdown: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>feedback</title></head>"
        f"<body><pre>{html.escape(markdown)}</pre></body></html>\n"
    )


def write_reports(results: list[StudentResult], expected: list[Expected], assignment: str, out: Path) -> Path:
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    grade_ids = [e.grade_id for exp in expected for e in exp.graded]
    exercises = exercise_of(grade_ids)
    groups = list(dict.fromkeys(exercises.values()))
    per_exercise = groups if len(groups) < len(grade_ids) else []  # only when an exercise has several checks
    csv_path = out / "grades.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "student",
                "submission",
                *grade_ids,
                *per_exercise,
                "total",
                "max",
                "problems",
                "failed",
                "seconds",
                "cpu_seconds",
            ]
        )
        for res in results:
            failed = "; ".join(f"{gid}: {why}" for gid, why in res.failures.items())
            sums = [_fmt(sum(res.cells[g][0] for g in grade_ids if exercises[g] == ex)) for ex in per_exercise]
            writer.writerow(
                [
                    res.student,
                    res.label,
                    *[_fmt(res.cells[g][0]) for g in grade_ids],
                    *sums,
                    _fmt(res.total),
                    _fmt(res.max),
                    "; ".join(res.problems),
                    failed,
                    f"{res.seconds:.1f}",
                    "" if res.cpu_s is None else f"{res.cpu_s:.1f}",
                ]
            )
    records = []
    for res in results:
        md = feedback_markdown(res, assignment, expected)
        (out / "feedback" / f"{res.student}.md").write_text(md, encoding="utf-8")
        htmls = []
        if not res.feedback_html:
            target = out / "feedback" / f"{res.student}.html"
            target.write_text(_fallback_html(md), encoding="utf-8")
            htmls.append(target)
        for path in res.feedback_html:
            name = f"{res.student}.html" if len(res.feedback_html) == 1 else f"{res.student}--{path.name}"
            shutil.copyfile(path, out / "feedback" / name)
            htmls.append(out / "feedback" / name)
        for path in res.autograded:
            target = out / "autograded" / res.student / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        records.append(
            {
                "student": res.student,
                "submission": res.label,
                "total": res.total,
                "max": res.max,
                "cells": {g: list(v) for g, v in res.cells.items()},
                "problems": res.problems,
                "failures": res.failures,
                "other_errors": res.other_errors,
                "ran": res.ran,
                "seconds": res.seconds,
                "run_s": res.run_s,
                "cpu_s": res.cpu_s,
                "feedback": [str(p.relative_to(out)) for p in htmls],
            }
        )
    (out / "results.json").write_text(json.dumps({"assignment": assignment, "students": records}, indent=1))
    return csv_path


# --------------------------------------------------------------------------- the whole class


def grade(
    assignment: str,
    submissions: Path,
    out: Path | None = None,
    source: str | Path | None = None,
    options: Options | None = None,
    log=print,
) -> list[StudentResult]:
    """Grade every submission of ``assignment`` in ``submissions``; write the reports into ``out``."""
    try:
        import nbgrader  # noqa: F401
    except ImportError as err:
        raise GradingError("nbgrader is not installed: pip install 'cvbook[grading]'") from err
    options = options or Options()
    out = Path(out) if out is not None else Path("grading") / assignment
    notebooks = find_source(assignment, source)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{assignment}-"))
    zygote = None
    try:
        # the kernel zygote imports the students' libraries while the course is prepared
        zygote = _KernelZygote.start(work, options.verbose) if _forks_allowed() else None
        course = prepare_course(work / "course", assignment, notebooks, options.verbose)
        expected = expected_notebooks(course, assignment)
        subs = discover(Path(submissions), [e.name for e in expected], work)
        address = zygote.wait_ready() if zygote is not None else None
        log(
            f"grading {len(subs)} submission(s) of {assignment} against "
            f"{', '.join(str(n) for n in notebooks)} with {options.jobs} job(s)"
        )
        # one column as wide as the longest student id, so the table stays aligned
        width = max([28, *(len(sub.student) for sub in subs)])
        log_lock = threading.Lock()

        def log_line(text: str) -> None:
            """Parallel jobs write whole lines, one at a time: never two halves interleaved."""
            with log_lock:
                log(text)

        def one(sub: Submission) -> StudentResult:
            try:
                res = grade_one(sub, course, assignment, expected, work, options, address)
            except Exception as err:  # noqa: BLE001 - one bad submission never stops the class
                cells = {e.grade_id: (0.0, e.points) for exp in expected for e in exp.graded}
                res = StudentResult(
                    sub.student,
                    sub.label,
                    cells,
                    sub.problems + [f"the grader failed on this submission ({err}): scored 0"],
                )
            flag = f"  [{'; '.join(res.problems)[:100]}]" if res.problems else ""
            cpu = f" {res.cpu_s:5.1f} CPU-s" if res.cpu_s is not None else " " * 10
            log_line(
                f"  {res.student:<{width}} {_fmt(res.total):>5} / {_fmt(res.max):<5} {res.seconds:6.1f} s{cpu}{flag}"
            )
            return res

        _CANCELLED.clear()
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            futures = [pool.submit(one, sub) for sub in subs]
            try:
                results = [f.result() for f in futures]
            except BaseException:  # Ctrl-C or SIGTERM: stop the students' processes, then leave
                pool.shutdown(wait=False, cancel_futures=True)
                _stop_everything()
                raise
        csv_path = write_reports(results, expected, assignment, out)
        elapsed = time.monotonic() - started
        log(
            f"graded {len(results)} submission(s) in {elapsed:.1f} s; wrote {csv_path}, "
            f"{out / 'feedback'}/, {out / 'results.json'}"
        )
        return results
    finally:
        if zygote is not None:
            zygote.stop()
        if options.keep_work:
            log(f"kept the grading folder {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    doc = __doc__.split("\n\n")
    parser = argparse.ArgumentParser(
        prog="cvbook-grade",
        description=doc[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(doc[1:3]),
    )
    parser.add_argument("assignment", metavar="CHAPTER", help="the assignment, e.g. ch03")
    parser.add_argument(
        "submissions",
        type=Path,
        metavar="SUBMISSIONS",
        help="folder (one sub-folder or .ipynb per student), zip, or one notebook",
    )
    parser.add_argument(
        "--source",
        help="source notebook, its folder, or the repository root "
        "(default: solutions/CHAPTER of the repository around here)",
    )
    parser.add_argument("--out", type=Path, help="where to write grades.csv and feedback/ (default grading/CHAPTER)")
    defaults = Options()
    parser.add_argument("--jobs", "-j", type=int, default=defaults.jobs, help="students graded at once (default 2)")
    parser.add_argument(
        "--timeout", type=int, default=defaults.timeout, help="seconds per cell that runs student code (default 30)"
    )
    parser.add_argument(
        "--setup-timeout",
        type=int,
        default=defaults.setup_timeout,
        help="seconds per read-only set-up cell, e.g. imports (default 120)",
    )
    parser.add_argument(
        "--memory",
        type=_parse_size,
        default=defaults.memory_mb,
        metavar="SIZE",
        help="memory limit of each student's kernel, e.g. 4G or 512M (default 4G)",
    )
    parser.add_argument(
        "--student-timeout",
        type=int,
        default=defaults.student_timeout,
        help="last resort: seconds for one student's whole grading (default 900)",
    )
    parser.add_argument(
        "--max-output",
        type=int,
        default=defaults.max_output_chars,
        help="characters of output kept per cell (default 100000)",
    )
    parser.add_argument(
        "--no-feedback",
        action="store_true",
        help="skip nbgrader's HTML feedback (the graded notebook with hidden tests removed); the Markdown "
        "summary and an HTML page of it are still written (about 4 s less per student)",
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temporary nbgrader courses")
    parser.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log")
    args = parser.parse_args(argv)
    options = Options(
        timeout=args.timeout,
        setup_timeout=args.setup_timeout,
        memory_mb=args.memory,
        student_timeout=args.student_timeout,
        max_output_chars=args.max_output,
        jobs=args.jobs,
        keep_work=args.keep_work,
        verbose=args.verbose,
        feedback=not args.no_feedback,
    )

    def terminate(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)
    try:
        grade(args.assignment, args.submissions, args.out, args.source, options)
    except GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the students' grading processes were stopped; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
