"""Stamp the repository address from _config.yml into the notebooks.

The address appears in every notebook's Colab badge, in its install cell and in
links to exercises. It is written in one place, `repository.url` (with
`repository.branch` and `cvbook_package_ref`) in _config.yml; this script copies it
into chapters/, solutions/ (and their py:percent pairs) and book/. A fork changes
those lines and runs `make stamp` (then `make exercises`).

    python tools/stamp.py            rewrite files in place
    python tools/stamp.py --check    list files that are not stamped; exit 1 if any

It also checks that each notebook's own Colab badge points at the notebook itself
(solution notebooks point at their student copy in exercises/).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GLOBS = (
    "chapters/*.ipynb",
    "chapters/*.py",
    "solutions/*/*.ipynb",
    "solutions/*/*.py",
    "book/*.md",
    "README.md",
    "CONTRIBUTING.md",
)

_NAME = r"[A-Za-z0-9_.-]+"
COLAB = re.compile(rf"colab\.research\.google\.com/github/{_NAME}/{_NAME}/blob/{_NAME}/")
INSTALL = re.compile(rf"git\+https://github\.com/{_NAME}/{_NAME}@{_NAME}")
GITHUB = re.compile(rf"(?<![\w.])github\.com/{_NAME}/{_NAME}/(blob|tree)/{_NAME}/")
BADGE_TARGET = re.compile(rf"colab\.research\.google\.com/github/{_NAME}/{_NAME}/blob/{_NAME}/([^)\s\"']+\.ipynb)")


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str
    branch: str
    ref: str

    @classmethod
    def from_config(cls, path: Path = ROOT / "_config.yml") -> Repo:
        config = yaml.safe_load(path.read_text())
        url = config["repository"]["url"].rstrip("/")
        match = re.fullmatch(rf"https://github\.com/({_NAME})/({_NAME})", url)
        if not match:
            raise ValueError(f"_config.yml repository.url must be https://github.com/OWNER/NAME, got {url!r}")
        return cls(
            match[1],
            match[2],
            str(config["repository"].get("branch", "main")),
            str(config.get("cvbook_package_ref", "main")),
        )


def stamp_text(text: str, repo: Repo) -> str:
    """Rewrite every Colab, install and GitHub link in ``text`` to ``repo``."""
    slug = f"{repo.owner}/{repo.name}"
    text = COLAB.sub(f"colab.research.google.com/github/{slug}/blob/{repo.branch}/", text)
    text = INSTALL.sub(f"git+https://github.com/{slug}@{repo.ref}", text)
    text = GITHUB.sub(lambda m: f"github.com/{slug}/{m[1]}/{repo.branch}/", text)
    return text


def expected_badge_target(path: Path) -> str:
    """Where the Colab badge of the notebook at ``path`` (relative to the repo) must point."""
    rel = path.with_suffix(".ipynb").as_posix()
    if rel.startswith("solutions/"):
        rel = "exercises/" + rel[len("solutions/") :]
    return rel


def badge_problems(path: Path, text: str) -> list[str]:
    if path.suffix not in (".ipynb", ".py") or path.parts[0] not in ("chapters", "solutions"):
        return []
    targets = BADGE_TARGET.findall(text)
    want = expected_badge_target(path)
    if want not in targets:
        return [f"{path}: no Colab badge pointing at {want}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report, change nothing")
    args = parser.parse_args(argv)
    repo = Repo.from_config()
    stale, problems = [], []
    for pattern in GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            rel = path.relative_to(ROOT)
            if rel.name == "jupytext.toml":
                continue
            text = path.read_text(encoding="utf-8")
            new = stamp_text(text, repo)
            problems += badge_problems(rel, new)
            if new != text:
                stale.append(rel)
                if not args.check:
                    path.write_text(new, encoding="utf-8")
    verb = "not stamped" if args.check else "stamped"
    for rel in stale:
        print(f"{verb}: {rel}")
    for problem in problems:
        print(problem)
    if args.check and (stale or problems):
        print(f"run `make stamp` to write {repo.owner}/{repo.name}@{repo.branch} into them")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
