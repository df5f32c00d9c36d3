"""Run notebooks as plain Python on another machine (a GPU box) and report what broke.

The GPU machines this project is sometimes lent have PyTorch but no Jupyter stack and no
package registry, so nbval cannot run there. This script executes each notebook's code
cells in one namespace, in a fresh process per notebook, with only the standard library,
the packages the book needs and ``cvbook`` on ``PYTHONPATH``. For every notebook it
reports:

- the first cell that raised (an ``assert`` or a claim outside its band, or a crash);
- every ``# NBVAL_CHECK_OUTPUT`` cell whose printed text differs from the stored output
  (exact numbers must not depend on the device; a difference is a finding to read, since
  the comparison here is plainer than nbval's);
- every measured claim with its value and band (``CVBOOK_MEASURE_ONLY=1``, so that one
  claim out of band does not hide the others: out-of-band claims are listed as failures);
- the time per notebook.

Usage (the device's python, from the repo root)::

    CVBOOK_DEVICE=cuda PYTHONPATH=utils python3 tools/device_check.py chapters/*.ipynb -j 6 --out DIR

Writes ``DIR/device_check.json`` and prints a summary; exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

MARK = "# NBVAL_CHECK_OUTPUT"
#: The spread configurations of tools/measure_spread.py (RUNS there), by name.
RUN_ENVS = {
    "seed0": {},
    "seed1": {"CVBOOK_SEED_OFFSET": "1"},
    "seed2": {"CVBOOK_SEED_OFFSET": "2"},
    "jitter": {"CVBOOK_JITTER": "1e-2"},
    "default": {"ATEN_CPU_CAPABILITY": "default"},
}


def _stored_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        elif out.get("output_type") == "execute_result":
            text = out.get("data", {}).get("text/plain", "")
            parts.append(("".join(text) if isinstance(text, list) else text) + "\n")
    return "".join(parts)


def _normalise(text: str) -> str:
    # nbval-like: ignore trailing spaces, object addresses and figure reprs
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    text = re.sub(r"<Figure size [^>]*>", "<Figure>", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _run_cell(source: str, namespace: dict) -> str:
    tree = ast.parse(source)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(last, "<cell>", "eval"), namespace)
            if value is not None:
                print(repr(value))
    return buffer.getvalue()


def run_one(path: str) -> dict:
    """Execute one notebook in this process; return the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    builtins.display = lambda *objs, **_: [print(repr(o)) for o in objs]  # IPython's display
    nb = json.loads(Path(path).read_text())
    os.chdir(Path(path).parent)
    namespace: dict = {"__name__": "__main__"}
    report = {"notebook": path, "error": None, "error_cell": None, "differs": [], "cells": 0, "cell_seconds": {}}
    start = time.perf_counter()
    index = -1
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if source.lstrip().startswith(("%", "!")):
            continue
        cell_start = time.perf_counter()
        try:
            got = _run_cell(source, namespace)
        except BaseException:  # noqa: BLE001 - report every failure, SystemExit included
            report["error"] = traceback.format_exc(limit=6)[-3000:]
            report["error_cell"] = index
            break
        finally:
            plt.close("all")
        report["cells"] += 1
        report["cell_seconds"][index] = round(time.perf_counter() - cell_start, 2)
        first_line = source.strip().splitlines()[0] if source.strip() else ""
        if first_line.strip() == MARK:
            stored, now = _normalise(_stored_text(cell)), _normalise(got)
            if stored != now:
                report["differs"].append({"cell": index, "stored": stored[-1500:], "got": now[-1500:]})
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def _child(path: str, out: Path, timeout: float, run: str = "seed0") -> dict:
    stem = Path(path).parent.name + "-" + Path(path).stem + ("" if run == "seed0" else f"-{run}")
    log = out / f"claims-{stem}.csv"
    log.unlink(missing_ok=True)
    env = dict(os.environ, CVBOOK_MEASURE_LOG=str(log.resolve()), CVBOOK_MEASURE_ONLY="1", MPLBACKEND="Agg")
    env.update(RUN_ENVS[run], CVBOOK_MEASURE_RUN=run)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path("utils").resolve())] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    result_file = out / f"report-{stem}.json"
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--one", path, "--result", str(result_file.resolve())],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        rc, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as err:
        rc, stderr = f"timed out after {timeout} s", str(err.stderr or "")
    if result_file.exists():
        report = json.loads(result_file.read_text())
    else:
        report = {"notebook": path, "error": f"process died ({rc})", "differs": []}
    report["run"] = run
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    report["stderr_tail"] = stderr[-2000:]
    report["claims"] = []
    if log.exists():
        with log.open() as f:
            for row in csv.DictReader(f):
                value = float(row["value"])
                low = float(row["low"]) if row["low"] not in ("", "None") else None
                high = float(row["high"]) if row["high"] not in ("", "None") else None
                inside = (low is None or value >= low) and (high is None or value <= high)
                report["claims"].append({"name": row["name"], "value": value, "low": low, "high": high, "ok": inside})
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("-j", "--jobs", type=int, default=4)
    parser.add_argument("--out", default="device_check")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per notebook")
    parser.add_argument(
        "--runs",
        default="seed0",
        help=f"comma-separated configurations to run each notebook under ({', '.join(RUN_ENVS)}); "
        "a stored output is compared in every one, the claims are logged with the run's name",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        report = run_one(args.one)
        Path(args.result).write_text(json.dumps(report, indent=1))
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = args.runs.split(",")
    unknown = [r for r in runs if r not in RUN_ENVS]
    if unknown:
        parser.error(f"unknown run(s) {unknown}; choose from {', '.join(RUN_ENVS)}")
    jobs = [(p, r) for p in args.notebooks for r in runs]  # the notebooks in the order given
    reports = []
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_child, p, out, args.timeout, r) for p, r in jobs]
        for future in as_completed(futures):  # written as they come: a cut-off run keeps its results
            reports.append(future.result())
            (out / "device_check.json").write_text(json.dumps(reports, indent=1))
    bad = 0
    for r in reports:
        out_of_band = [c for c in r["claims"] if not c["ok"]]
        status = "ok" if not (r["error"] or r["differs"] or out_of_band) else "FAIL"
        bad += status != "ok"
        print(f"{status:4} {r['run']:7s} {r.get('wall_seconds', 0):7.1f} s  {r['notebook']}  claims={len(r['claims'])}")
        if r["error"]:
            lines = "\n".join("       " + x for x in r["error"].splitlines())
            print(f"     error in cell {r.get('error_cell')}:\n{lines}")
        for d in r["differs"]:
            print(f"     checked cell {d['cell']} differs:")
            print(f"       stored: {d['stored'][-400:]!r}\n       got:    {d['got'][-400:]!r}")
        for c in out_of_band:
            print(f"     claim out of band: {c['name']} = {c['value']:.4g} not in [{c['low']}, {c['high']}]")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
