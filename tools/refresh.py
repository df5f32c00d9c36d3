"""Re-execute notebooks to refresh their stored outputs.

Usage: python tools/refresh.py [NOTEBOOK_OR_PAIR ...]   (default: every chapter and solution)

Run it through `make refresh` (optionally NB=chapters/01_images_as_data.ipynb), which
sets the same environment as `make test` (one thread, CPU, no progress bars, offline),
so the stored outputs are exactly what nbval will reproduce.

For each notebook the py:percent pair, when there is one, is the source: its cells
replace the notebook's inputs first (jupytext --update keeps matching outputs and
metadata), then every cell is executed in the notebook's folder, in a fresh python3
kernel, and the notebook is written back. Afterwards the pair is re-written from the
notebook so both stay identical.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GLOBS = ("chapters/*.ipynb", "solutions/*/*.ipynb")


def notebooks(args: list[str]) -> list[Path]:
    if not args:
        return sorted(p for g in DEFAULT_GLOBS for p in ROOT.glob(g))
    found = []
    for arg in args:
        path = Path(arg).resolve()
        if path.suffix == ".py":
            path = path.with_suffix(".ipynb")
        if not path.exists() and not path.with_suffix(".py").exists():
            sys.exit(f"refresh: no such notebook: {arg}")
        found.append(path)
    return found


def refresh(path: Path) -> float:
    pair = path.with_suffix(".py")
    if pair.exists():
        text_nb = jupytext.read(pair)
        if path.exists():
            nb = jupytext.read(path)
            from jupytext.combine import combine_inputs_with_outputs

            nb = combine_inputs_with_outputs(text_nb, nb, fmt="py:percent")
        else:
            nb = text_nb
    else:
        nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=900, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    if pair.exists():
        jupytext.write(nb, pair, fmt="py:percent")
    return elapsed


def main(argv: list[str]) -> int:
    total = 0.0
    for path in notebooks(argv):
        print(f"refreshing {path.relative_to(ROOT)} ...", flush=True)
        elapsed = refresh(path)
        total += elapsed
        print(f"  done in {elapsed:.1f} s", flush=True)
    print(f"total {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
