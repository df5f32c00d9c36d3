"""The release: package version, Colab pin and every notebook agree (tools/release.py).

``make release VERSION=x.y.z`` writes one version everywhere and runs this file; the
release workflow runs it again on the tag. It needs only PyYAML and pytest.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _tools import ROOT, load_tool

release = load_tool("cvbook_tools_release", ROOT / "tools" / "release.py")

# What a copy of the repository needs for the agreement check: the versions, the docs and
# every notebook that carries the pin (not the package itself, nor the notebooks' outputs).
_COPIED = (release.PYPROJECT, release.INIT, release.CONFIG, *release.DOCS)


def _copy_repo(dst: Path) -> Path:
    for rel in _COPIED:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst / rel)
    for rel in release.notebooks(ROOT):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.suffix == ".ipynb":  # only the cells' sources matter: keep the copy small
            nb = json.loads((ROOT / rel).read_text(encoding="utf-8"))
            for cell in nb.get("cells", []):
                cell.pop("outputs", None)
            (dst / rel).write_text(json.dumps(nb, indent=1), encoding="utf-8")
        else:
            shutil.copy2(ROOT / rel, dst / rel)
    return dst


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    return _copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def repo(repo_copy, tmp_path) -> Path:
    """A fresh, writable copy of the files the release touches."""
    return Path(shutil.copytree(repo_copy, tmp_path / "repo"))


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- this repository


def test_version_pin_and_every_notebook_agree():
    """pyproject.toml's version == __version__ == cvbook_package_ref without "v" == every pin."""
    assert release.problems(ROOT) == []
    version = release.project_version(ROOT)
    assert release.VERSION_RE.fullmatch(version), version
    assert release.package_ref(ROOT) == f"v{version}"


def test_the_check_covers_every_notebook_and_the_docs():
    found = {p.as_posix() for p in release.notebooks(ROOT)}
    chapters = {p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb")}
    solutions = {p.relative_to(ROOT).as_posix() for p in (ROOT / "solutions").glob("*/*.ipynb")}
    exercises = {p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises").glob("*/*.ipynb")}
    assert chapters and solutions and exercises
    assert chapters | solutions | exercises <= found
    assert {p.with_suffix(".py") for p in map(Path, chapters | solutions)} <= set(map(Path, found))
    ref = release.package_ref(ROOT)
    readme = (ROOT / "README.md").read_text()
    assert release.PIN_RE.search(readme) and f"@{ref}" in readme


def test_the_release_workflow_checks_the_tag():
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert re.search(r"tags:\s*\[\s*\"v\*\"\s*\]", workflow)
    assert 'tools/release.py check --tag "$TAG"' in workflow
    assert "tests/test_release.py" in workflow


# --------------------------------------------------------------------------- edited by hand


def test_a_copy_agrees_before_anything_is_edited(repo):
    assert release.problems(repo) == []
    assert release.problems(repo, tag=release.package_ref(repo)) == []


def _one(pattern: str) -> str:
    """The first file of the repository matching ``pattern`` (so the tests outlive a renamed chapter)."""
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern))[0]


@pytest.mark.parametrize(
    "where, old, new, named",
    [
        ("pyproject.toml", 'version = "{v}"', 'version = "9.9.9"', "pyproject.toml"),
        ("utils/cvbook/__init__.py", '__version__ = "{v}"', '__version__ = "9.9.9"', "__init__.py"),
        ("_config.yml", "cvbook_package_ref: v{v}", "cvbook_package_ref: v9.9.9", "cvbook_package_ref"),
        ("_config.yml", "cvbook_package_ref: v{v}", "cvbook_package_ref: main", "cvbook_package_ref"),
        (_one("chapters/*.ipynb"), "@v{v}", "@v9.9.9", _one("chapters/*.ipynb")),
        (_one("chapters/*.py"), "@v{v}", "@v9.9.9", _one("chapters/*.py")),
        (_one("solutions/*/*.ipynb"), "@v{v}", "@main", _one("solutions/*/*.ipynb")),
        (_one("solutions/*/*.py"), "@v{v}", "@main", _one("solutions/*/*.py")),
        (_one("exercises/*/*.ipynb"), "@v{v}", "@v0.0.9", _one("exercises/*/*.ipynb")),
        ("README.md", "@v{v}", "@v9.9.9", "README.md"),
        ("CONTRIBUTING.md", "@v{v}", "@v9.9.9", "CONTRIBUTING.md"),
    ],
)
def test_one_hand_edit_fails_the_check_and_names_the_file(repo, where, old, new, named):
    version = release.project_version(repo)
    _replace_once(repo / where, old.format(v=version), new)
    found = release.problems(repo)
    assert found, f"editing {where} by hand went unnoticed"
    assert any(named in problem for problem in found), found


def test_a_notebook_without_its_install_pin_fails(repo):
    rel = _one("chapters/*.ipynb")
    nb = json.loads((repo / rel).read_text(encoding="utf-8"))
    first_code = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
    first_code["source"] = "print('no install cell')\n"
    (repo / rel).write_text(json.dumps(nb), encoding="utf-8")
    found = release.problems(repo)
    assert any(rel in p and "installs no" in p for p in found), found


def test_a_tag_other_than_the_pin_fails(repo):
    version = release.project_version(repo)
    assert release.problems(repo, tag=f"v{version}") == []
    wrong = [f"v{version}.1", version, "v9.9.9"]
    for tag in wrong:
        found = release.problems(repo, tag=tag)
        assert len(found) == 1 and repr(tag) in found[0], (tag, found)


# --------------------------------------------------------------------------- setting a version


@pytest.mark.parametrize("bad", ["1.2", "v1.2.3", "1.2.3rc1", "01.2.3", "1.2.3.4", "1.2.x", "", " 1.2.3"])
def test_set_version_refuses_what_is_not_x_y_z(repo, bad):
    before = {rel: (repo / rel).read_text() for rel in (release.PYPROJECT, release.INIT, release.CONFIG)}
    with pytest.raises(ValueError, match=r"VERSION must be x\.y\.z"):
        release.set_version(bad, repo)
    assert before == {rel: (repo / rel).read_text() for rel in before}


def test_set_version_writes_only_the_three_lines(repo):
    old = release.project_version(repo)
    before = {rel: (repo / rel).read_text() for rel in (release.PYPROJECT, release.INIT, release.CONFIG)}
    assert release.set_version("7.8.9", repo) == [release.PYPROJECT, release.INIT, release.CONFIG]
    assert release.project_version(repo) == release.package_version(repo) == "7.8.9"
    assert release.package_ref(repo) == "v7.8.9"
    for rel, text in before.items():
        after = (repo / rel).read_text()
        changed = [(a, b) for a, b in zip(text.splitlines(), after.splitlines(), strict=True) if a != b]
        assert len(changed) == 1 and old in changed[0][0] and "7.8.9" in changed[0][1], (rel, changed)
    # Other tables' version keys are not the project's version (e.g. a tool's minimum version).
    assert "7.8.9" not in (repo / release.PYPROJECT).read_text().split("[project.optional-dependencies]")[1]


def test_set_then_stamp_leaves_only_the_generated_exercises_to_regenerate(repo):
    """After `set` the notebooks still pin the old tag; stamping mends chapters, solutions and
    docs; exercises/ stays stale until `make exercises` regenerates it from solutions/."""
    release.set_version("7.8.9", repo)
    stale = release.problems(repo)
    assert any(p.startswith("chapters/") for p in stale) and any(p.startswith("exercises/") for p in stale)

    stamp = load_tool("cvbook_tools_stamp_release", ROOT / "tools" / "stamp.py")
    config = stamp.Repo.from_config(repo / "_config.yml")
    for pattern in stamp.GLOBS:  # what `make stamp` does, on the copy
        for path in repo.glob(pattern):
            path.write_text(stamp.stamp_text(path.read_text(encoding="utf-8"), config), encoding="utf-8")
    left = release.problems(repo)
    assert left and all(p.startswith("exercises/") for p in left), left


def test_git_lines_tag_and_push_but_the_tool_never_runs_them():
    lines = release.git_lines("0.1.1")
    assert 'git tag -a v0.1.1 -m "cvbook 0.1.1"' in lines and "git push origin v0.1.1" in lines
    source = (ROOT / "tools" / "release.py").read_text()
    assert not re.search(r"""_run\(\s*["']git""", source)


def test_cli_check_and_refusal(capsys, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a refused VERSION must change nothing")

    monkeypatch.setattr(release, "set_version", must_not_run)
    monkeypatch.setattr(release, "_run", must_not_run)
    assert release.main(["check"]) == 0
    assert release.main(["check", "--tag", "v999.0.0"]) == 1
    assert "v999.0.0" in capsys.readouterr().out
    assert release.main(["set", "1.2"]) == 2
    assert "VERSION must be x.y.z" in capsys.readouterr().err
    assert release.main(["v1.2.3"]) == 2  # make release VERSION=v1.2.3


# --------------------------------------------------------------------------- the workflows

WORKFLOWS = ROOT / ".github" / "workflows"


def _tool(name: str) -> str:
    """The venv's copy of a workflow checker (make lint runs the same); skip where absent."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def test_the_test_workflow_runs_make_test_as_the_readme_says():
    import yaml

    workflow = yaml.safe_load((WORKFLOWS / "test.yml").read_text())
    job = workflow["jobs"]["test"]
    steps = job["steps"]
    assert job["runs-on"].startswith("ubuntu") and job["timeout-minutes"] == 90
    assert workflow["concurrency"]["cancel-in-progress"] is True
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11" and "Python 3.11" in (ROOT / "README.md").read_text()
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    assert ".venv" in cache["with"]["path"] and "hashFiles('constraints.txt', 'pyproject.toml')" in cache["with"]["key"]
    assert any(s.get("uses", "").startswith("actions/cache/save@") for s in steps)
    assert steps[-1].get("run") == "bash .ci/run"
    assert "exec make test" in (ROOT / ".ci" / "run").read_text()


def test_every_action_is_pinned_by_commit_with_its_version():
    uses = re.findall(r"uses:\s*(\S+)(.*)", "".join(p.read_text() for p in sorted(WORKFLOWS.glob("*.yml"))))
    assert len(uses) >= 8
    for ref, comment in uses:
        assert re.fullmatch(r"actions/[a-z-]+(/[a-z]+)?@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), (ref, comment)


def test_the_workflows_pass_actionlint_and_zizmor():
    for cmd in (
        [_tool("actionlint"), *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        [_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
    ):
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


BAD_WORKFLOW = """\
name: bad
on: pull_request
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_checkers_fail_a_broken_or_unsafe_workflow(tmp_path):
    """The lint gate can fail: actionlint on a wrong key, zizmor on an unpinned action, a
    checkout that keeps its credentials and a pull request title pasted into a script."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "bad.yml").write_text(BAD_WORKFLOW.replace("runs-on:", "runs-onn:"))
    result = subprocess.run([_tool("actionlint"), str(folder / "bad.yml")], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "runs-onn" in result.stdout, result.stdout + result.stderr

    (folder / "bad.yml").write_text(BAD_WORKFLOW)
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(folder)], capture_output=True, text=True, timeout=120
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    for audit in ("template-injection", "artipacked", "unpinned-uses", "excessive-permissions"):
        assert audit in out, (audit, out)
