"""Build the HTML book with Jupyter Book 1.x, strictly.

The build uses the outputs stored in the notebooks (no re-execution), turns every
Sphinx warning into an error (-W) and must finish within its budget. Afterwards it
checks the result: every page of the table of contents was written and no page
shows a solution. Usage: python tools/build_book.py [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", [])]
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=180.0, help="seconds allowed (default 180)")
    args = parser.parse_args(argv)
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if jb is None:
        print("error: jupyter-book is not installed (pip install -e '.[book]')", file=sys.stderr)
        return 2
    start = time.perf_counter()
    cmd = [jb, "build", str(ROOT), "--all", "--warningiserror", "--keep-going"]
    print(" ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        print(
            f"book build FAILED (exit {result.returncode}) after {elapsed:.0f} s; see the warnings above",
            file=sys.stderr,
        )
        return result.returncode
    problems = []
    for page in toc_files():
        html = HTML / f"{page}.html"
        if not html.exists():
            problems.append(f"missing page {html.relative_to(ROOT)}")
        elif "BEGIN SOLUTION" in html.read_text(encoding="utf-8"):
            problems.append(f"{html.relative_to(ROOT)} shows a solution")
    if any(HTML.rglob("*solutions*")):
        problems.append("the built book contains files from solutions/")
    if elapsed > args.budget:
        problems.append(f"the build took {elapsed:.0f} s, over its {args.budget:.0f} s budget")
    for problem in problems:
        print(f"book check FAILED: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"book built in {elapsed:.0f} s: open {HTML / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
