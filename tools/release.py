"""Release the book's package: one version, written everywhere Colab students depend on it.

Students in Colab install the package from the git tag that every notebook's install
cell pins (``cvbook @ git+https://github.com/OWNER/NAME@vX.Y.Z``). That tag, the package
version and the pins must agree, or a notebook sends students to a missing tag or to
another version of the code. They are written in these places:

* ``pyproject.toml``: ``[project] version = "X.Y.Z"``;
* ``utils/cvbook/__init__.py``: ``__version__ = "X.Y.Z"``;
* ``_config.yml``: ``cvbook_package_ref: vX.Y.Z`` (the one place the pin is written);
* the install cell of every notebook (chapters/, solutions/ and their ``.py`` pairs,
  exercises/), and the ``pip install`` lines of README.md and CONTRIBUTING.md, which
  ``tools/stamp.py`` writes from ``_config.yml`` (exercises/ is generated from solutions/).

    python tools/release.py X.Y.Z              all of it (= make release VERSION=X.Y.Z): set the
                                               version and the pin, stamp, regenerate exercises/,
                                               run tests/test_release.py, print the git lines
    python tools/release.py set X.Y.Z          only write the version and the pin
    python tools/release.py check [--tag vX.Y.Z]
                                               do they all agree (and with the tag)? exit 1 if not

It never commits, tags or pushes: it prints the ``git`` lines to run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: x.y.z, three non-negative integers without leading zeros (no "v", no pre-release suffix).
VERSION_RE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")

PYPROJECT = "pyproject.toml"
INIT = "utils/cvbook/__init__.py"
CONFIG = "_config.yml"
#: Text files whose ``pip install`` lines carry the pin.
DOCS = ("README.md", "CONTRIBUTING.md")
#: Notebooks (and their py:percent pairs) whose install cell carries the pin.
NOTEBOOK_GLOBS = ("chapters/*.ipynb", "chapters/*.py", "solutions/*/*.ipynb", "solutions/*/*.py", "exercises/*/*.ipynb")

_NAME = r"[A-Za-z0-9_.-]+"
PIN_RE = re.compile(rf"git\+https://github\.com/{_NAME}/{_NAME}@({_NAME})")
# [project] table of pyproject.toml: from its header to the next table header.
PROJECT_TABLE_RE = re.compile(r"(?ms)^\[project\][ \t]*\n(.*?)(?=^\[|\Z)")
PROJECT_VERSION_RE = re.compile(r'(?m)^(version[ \t]*=[ \t]*)"([^"\n]*)"')
INIT_VERSION_RE = re.compile(r'(?m)^(__version__[ \t]*=[ \t]*)"([^"\n]*)"')
CONFIG_REF_RE = re.compile(r"(?m)^(cvbook_package_ref:[ \t]*)(\S+?)([ \t]*(?:#.*)?)$")


def validate_version(version: str) -> str:
    """Return ``version`` if it is ``x.y.z`` (e.g. "0.1.1"); raise ValueError otherwise."""
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
        raise ValueError(
            f"VERSION must be x.y.z with three non-negative integers and no 'v' (e.g. 0.1.1), got {version!r}"
        )
    return version


# --------------------------------------------------------------------------- reading


def _read(root: Path, rel: str) -> str:
    return (Path(root) / rel).read_text(encoding="utf-8")


def project_version(root: Path = ROOT) -> str:
    """``[project].version`` of ``root/pyproject.toml``."""
    table = PROJECT_TABLE_RE.search(_read(root, PYPROJECT))
    match = PROJECT_VERSION_RE.search(table[1]) if table else None
    if not match:
        raise ValueError(f'{PYPROJECT}: no version = "..." line in its [project] table')
    return match[2]


def package_version(root: Path = ROOT) -> str:
    """``__version__`` of the package (``utils/cvbook/__init__.py``)."""
    match = INIT_VERSION_RE.search(_read(root, INIT))
    if not match:
        raise ValueError(f'{INIT}: no __version__ = "..." line')
    return match[2]


def package_ref(root: Path = ROOT) -> str:
    """``cvbook_package_ref`` of ``_config.yml`` (the tag Colab installs the package from)."""
    match = CONFIG_REF_RE.search(_read(root, CONFIG))
    if not match:
        raise ValueError(f"{CONFIG}: no cvbook_package_ref: line")
    return match[2].strip("'\"")


def install_cell(path: Path) -> str:
    """The source of the first code cell of a notebook (``.ipynb``) or py:percent pair (``.py``)."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix == ".ipynb":
        for cell in json.loads(text).get("cells", []):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                return "".join(source) if isinstance(source, list) else source
        return ""
    cells = re.split(r"(?m)^# %%", text)[1:]
    for cell in cells:
        header = cell.split("\n", 1)[0]
        if "[markdown]" not in header and "[md]" not in header and "[raw]" not in header:
            return cell.split("\n", 1)[1] if "\n" in cell else ""
    return ""


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook and py:percent pair that must carry the pin, relative to ``root``."""
    root = Path(root)
    found = {p.relative_to(root) for pattern in NOTEBOOK_GLOBS for p in root.glob(pattern)}
    return sorted(p for p in found if p.name != "jupytext.toml" and ".ipynb_checkpoints" not in p.parts)


# --------------------------------------------------------------------------- checking


def problems(root: Path = ROOT, tag: str | None = None) -> list[str]:
    """Every disagreement between version, pin, notebooks, docs (and ``tag`` when given).

    Empty when ``[project].version == __version__ == cvbook_package_ref without its "v"``,
    that ref is ``v`` + an ``x.y.z`` version, every notebook's install cell and every pin
    in README.md and CONTRIBUTING.md installs that ref, and ``tag`` (if given) is that ref.
    """
    root = Path(root)
    found: list[str] = []
    version = project_version(root)
    ref = package_ref(root)
    if not VERSION_RE.fullmatch(version):
        found.append(f"{PYPROJECT}: version {version!r} is not x.y.z")
    if package_version(root) != version:
        found.append(f"{INIT}: __version__ is {package_version(root)!r}, {PYPROJECT} says {version!r}")
    if ref != f"v{version}":
        found.append(
            f"{CONFIG}: cvbook_package_ref is {ref!r}, expected 'v{version}' (the version in {PYPROJECT} with a 'v')"
        )
    if tag is not None and tag != ref:
        found.append(
            f"git tag {tag!r} is not {CONFIG}'s cvbook_package_ref {ref!r} (and {PYPROJECT}'s version {version!r})"
        )
    for rel in notebooks(root):
        pins = PIN_RE.findall(install_cell(root / rel))
        if not pins:
            found.append(f"{rel}: its install cell (the first code cell) installs no git+https://github.com/...@{ref}")
        elif any(pin != ref for pin in pins):
            found.append(f"{rel}: its install cell installs @{', @'.join(sorted(set(pins)))}, expected @{ref}")
    for rel in DOCS:
        if not (root / rel).exists():
            continue
        pins = PIN_RE.findall(_read(root, rel))
        wrong = sorted({pin for pin in pins if pin != ref})
        if wrong:
            found.append(f"{rel}: pip install lines pin @{', @'.join(wrong)}, expected @{ref}")
    return found


# --------------------------------------------------------------------------- writing


def set_version(version: str, root: Path = ROOT) -> list[str]:
    """Write ``version`` into pyproject.toml, ``__version__`` and ``v``+version into _config.yml.

    Only those three lines change (comments, order and the rest of each file are kept).
    Returns the files written, relative to ``root``.
    """
    validate_version(version)
    root = Path(root)

    text = _read(root, PYPROJECT)
    table = PROJECT_TABLE_RE.search(text)
    if not table or not PROJECT_VERSION_RE.search(table[1]):
        raise ValueError(f'{PYPROJECT}: no version = "..." line in its [project] table')
    body = PROJECT_VERSION_RE.sub(lambda m: f'{m[1]}"{version}"', table[1], count=1)
    (root / PYPROJECT).write_text(text[: table.start(1)] + body + text[table.end(1) :], encoding="utf-8")

    text = _read(root, INIT)
    if not INIT_VERSION_RE.search(text):
        raise ValueError(f'{INIT}: no __version__ = "..." line')
    (root / INIT).write_text(INIT_VERSION_RE.sub(lambda m: f'{m[1]}"{version}"', text, count=1), encoding="utf-8")

    text = _read(root, CONFIG)
    if not CONFIG_REF_RE.search(text):
        raise ValueError(f"{CONFIG}: no cvbook_package_ref: line")
    (root / CONFIG).write_text(CONFIG_REF_RE.sub(lambda m: f"{m[1]}v{version}{m[3]}", text, count=1), encoding="utf-8")
    return [PYPROJECT, INIT, CONFIG]


def git_lines(version: str) -> list[str]:
    """The commands that commit, tag and publish a release (this tool never runs them)."""
    tag = f"v{version}"
    return [
        "git add pyproject.toml utils/cvbook/__init__.py _config.yml README.md CONTRIBUTING.md "
        "book chapters solutions exercises",
        f'git commit -m "Release {tag}"',
        f'git tag -a {tag} -m "cvbook {version}"',
        "git push origin HEAD",
        f"git push origin {tag}",
    ]


def _run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def release(version: str) -> int:
    """``make release``: set, stamp, regenerate exercises, check, print the git lines."""
    validate_version(version)
    for rel in set_version(version):
        print(f"set {version}: {rel}")
    _run(sys.executable, "tools/stamp.py")
    _run(sys.executable, "tools/exercises.py", "generate")
    _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_release.py")
    print(f"\nVersion {version}, pin v{version} and every notebook agree. Review `git diff`, then run:\n")
    for line in git_lines(version):
        print(f"    {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `release.py X.Y.Z` is short for `release.py release X.Y.Z` (what make release runs).
    if argv and argv[0] not in ("release", "set", "check") and not argv[0].startswith("-"):
        argv.insert(0, "release")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("release", "set, stamp, regenerate exercises/, check, print the git lines"),
        ("set", "only write the version into pyproject.toml, __init__.py and _config.yml"),
    ):
        sub.add_parser(name, help=text).add_argument("version", metavar="X.Y.Z")
    check = sub.add_parser("check", help="do version, pin, notebooks (and the tag) agree? exit 1 if not")
    check.add_argument("--tag", help="the git tag being released, e.g. v0.1.1")
    args = parser.parse_args(argv)
    try:
        if args.command in ("release", "set"):
            validate_version(args.version)  # before anything is written
        if args.command == "release":
            return release(args.version)
        if args.command == "set":
            for rel in set_version(args.version):
                print(f"set {args.version}: {rel}")
            return 0
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(
            f"error: `{' '.join(map(str, error.cmd))}` failed (exit {error.returncode}); "
            "nothing was committed, `git diff` shows what changed",
            file=sys.stderr,
        )
        return error.returncode or 1
    found = problems(tag=args.tag)
    for problem in found:
        print(problem)
    if found:
        print("run `make release VERSION=x.y.z` to write one version everywhere", file=sys.stderr)
        return 1
    print(
        f"version {project_version()}, pin {package_ref()}"
        + (f", tag {args.tag}" if args.tag else "")
        + " and every notebook agree"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
