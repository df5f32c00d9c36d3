"""Measure the spread of the book's trained numbers, and check exact ones on other CPU kernels.

Usage (from the repository root, with the venv's python; `make spread` runs the lot):

    python tools/measure_spread.py run [NOTEBOOK ...] [--runs seed0,seed1,...] [-j 2]
    python tools/measure_spread.py table          # log -> tests/measured_spread.csv
    python tools/measure_spread.py suggest        # bands that would satisfy the margin rule

`run` executes each notebook (default: every chapter and solution that calls `claim`) once
per *run configuration*, in a fresh kernel, under the conditions of `make test` (one thread,
CPU, offline), with `CVBOOK_MEASURE_ONLY=1` so that a claim outside its band is recorded
instead of stopping the notebook. Every `cvbook.measured.claim` appends its value to
`reports/spread/log-<folder>-<notebook>.csv`. The configurations:

| run      | what changes                                   | checked outputs compared |
|----------|------------------------------------------------|--------------------------|
| seed0    | nothing (the conditions of `make refresh`)     | yes                      |
| seed1/2  | `CVBOOK_SEED_OFFSET` = 1 / 2 (initialisation, data order) | no (seeded data differ) |
| jitter   | `CVBOOK_JITTER=1e-2`, as under `make test`     | yes                      |
| avx2     | `ATEN_CPU_CAPABILITY=avx2` (PyTorch's AVX2 kernels)    | yes              |
| default  | `ATEN_CPU_CAPABILITY=default` (no vector kernels; 3-7x slower) | yes      |

For the runs marked "yes" the text of every `# NBVAL_CHECK_OUTPUT` cell is compared with the
stored output (sanitised as nbval does): an exact number must not depend on the CPU kernels.
Mismatches go to `reports/spread/mismatch-<run>.txt` and make the command fail.

On a CPU whose native PyTorch kernels *are* AVX2 (`torch.backends.cpu.get_cpu_capability()`
says "AVX2", e.g. an AMD EPYC or an Intel chip without AVX-512), the avx2 run would execute
exactly the same kernels as seed0, so the tool does not run it again: it records seed0's
values under avx2 and says so (`--force-avx2` runs it anyway). On an AVX-512 machine it is a
real second kernel configuration.

`table` writes `tests/measured_spread.csv`: one row per claim with its band, the value of
every run, the worst case and the margin. `tests/test_measured.py` checks the rule
(`band_ok`): every band edge lies beyond the worst value by at least the observed range
(max - min) or, for positive quantities such as speed-ups, by the observed factor
(max / min); and every claim in the notebooks has its row, with the same band.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import csv
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports" / "spread"


def log_for(notebook: Path) -> Path:
    """The claims log of one notebook: runs of different notebooks never write the same file."""
    return REPORTS / f"log-{notebook.parent.name}-{notebook.stem}.csv"


TABLE = ROOT / "tests" / "measured_spread.csv"
MARKER = "# NBVAL_CHECK_OUTPUT"

#: The conditions of `make test` / `make refresh` (Makefile NB_ENV).
BASE_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "CVBOOK_PROGRESS": "0",
    "CVBOOK_ONLINE": "0",
    "CVBOOK_DEVICE": "cpu",
    "PYTHONHASHSEED": "0",
    "PYTHONWARNINGS": "ignore",
}
RUNS = {
    "seed0": ({}, True),
    "seed1": ({"CVBOOK_SEED_OFFSET": "1"}, False),
    "seed2": ({"CVBOOK_SEED_OFFSET": "2"}, False),
    "jitter": ({"CVBOOK_JITTER": "1e-2"}, True),
    "avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, True),
    "default": ({"ATEN_CPU_CAPABILITY": "default"}, True),
}
REQUIRED_RUNS = tuple(RUNS)
#: Notebooks whose spread is not complete yet: their claims have rows, bands that hold over
#: every value measured so far, but not yet all six runs. A notebook added or changed goes here
#: until `make spread NB=...` has run it under every configuration (the test
#: tests/test_measured.py then asks for its removal). Empty since 2026-11-30: every notebook
#: with a claim has all six runs.
PENDING: set[str] = set()


# --------------------------------------------------------------------------- claims in the sources


def claims_in_source(path: Path) -> list[dict]:
    """The `claim(...)` calls of a notebook's py:percent pair: name, low, high, line.

    Name and band must be literals (numbers, or simple arithmetic on numbers), so that the
    band can be compared with tests/measured_spread.csv without running anything.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if fname != "claim":
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            raise ValueError(f"{where}: the claim's name must be a string literal")
        bands = {}
        for kw in node.keywords:
            if kw.arg in ("low", "high"):
                try:
                    bands[kw.arg] = (
                        float(ast.literal_eval(kw.value))
                        if not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
                        else None
                    )
                except ValueError:
                    try:
                        bands[kw.arg] = float(
                            eval(compile(ast.Expression(kw.value), where, "eval"), {"__builtins__": {}})
                        )
                    except Exception as err:  # noqa: BLE001 - any non-literal is the error
                        raise ValueError(f"{where}: low=/high= must be numbers, not expressions") from err
        found.append(
            {
                "name": node.args[0].value,
                "low": bands.get("low"),
                "high": bands.get("high"),
                "where": where,
                "notebook": str(path.relative_to(ROOT).with_suffix(".ipynb")),
            }
        )
    return found


def notebooks_with_claims() -> list[Path]:
    pairs = sorted(ROOT.glob("chapters/*.py")) + sorted(ROOT.glob("solutions/*/*.py"))
    return [p.with_suffix(".ipynb") for p in pairs if claims_in_source(p)]


# --------------------------------------------------------------------------- checked outputs


def _sanitizers():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def output_text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "stream":
            parts.append("[stderr] " + out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"[error] {out.get('ename')}: {out.get('evalue')}")
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    text = "".join(parts)
    for regex, replace in _sanitizers():
        text = regex.sub(replace, text)
    return text


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and cell.source.split("\n", 1)[0].strip() == MARKER


# --------------------------------------------------------------------------- one execution


def execute(notebook: Path, run: str) -> tuple[float, list[str]]:
    """Execute ``notebook`` in this process's environment; return (seconds, mismatches)."""
    import nbformat
    from nbclient import NotebookClient

    stored = nbformat.read(notebook, as_version=4)
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=3600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    problems = []
    for i, (old, new) in enumerate(zip(stored.cells, nb.cells)):
        errors = [o for o in new.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            problems.append(
                f"{notebook.relative_to(ROOT)} cell {i}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
            )
        if RUNS[run][1] and is_checked(old) and output_text(old.outputs) != output_text(new.outputs):
            problems.append(
                f"{notebook.relative_to(ROOT)} cell {i} ({run}): checked output differs\n"
                f"--- stored\n{output_text(old.outputs)}\n--- {run}\n{output_text(new.outputs)}"
            )
    return seconds, problems


def run_one(notebook: Path, run: str) -> tuple[Path, str, float, list[str]]:
    env = dict(
        os.environ,
        **BASE_ENV,
        **RUNS[run][0],
        CVBOOK_MEASURE_ONLY="1",
        CVBOOK_MEASURE_LOG=str(log_for(notebook)),
        CVBOOK_MEASURE_RUN=run,
    )
    env.pop("CVBOOK_JITTER", None) if run != "jitter" else None
    if "CVBOOK_SEED_OFFSET" not in RUNS[run][0]:
        env.pop("CVBOOK_SEED_OFFSET", None)
    proc = subprocess.run(
        [sys.executable, __file__, "_execute", str(notebook), run], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode not in (0, 3):
        return (
            notebook,
            run,
            float("nan"),
            [f"{notebook.relative_to(ROOT)} ({run}): runner failed\n{proc.stderr[-3000:]}"],
        )
    lines = proc.stdout.strip().split("\n")
    seconds = float(lines[0])
    problems = "\n".join(lines[1:]).split("\n\x1e\n") if len(lines) > 1 else []
    return notebook, run, seconds, [p for p in problems if p.strip()]


def cmd_run(args) -> int:
    REPORTS.mkdir(parents=True, exist_ok=True)
    notebooks = [Path(n).resolve().with_suffix(".ipynb") for n in args.notebooks] or notebooks_with_claims()
    runs = args.runs.split(",")
    for run in runs:
        if run not in RUNS:
            sys.exit(f"unknown run {run!r}; choose from {', '.join(RUNS)}")
    # Forget earlier values of these (notebook, run) pairs: the log keeps one value set per pair.
    for nb in notebooks:
        log = log_for(nb)
        if log.exists():
            with log.open() as f:
                rows = [r for r in csv.DictReader(f) if r["run"] != "run" and r["run"] not in runs]
            with log.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=["run", "name", "value", "low", "high"])
                writer.writeheader()
                writer.writerows(rows)
    alias_avx2 = "avx2" in runs and not args.force_avx2 and native_capability() == "AVX2"
    if alias_avx2:
        runs = [r for r in runs if r != "avx2"] + ([] if "seed0" in runs else ["seed0"])
        print("native kernels are AVX2: the avx2 run is the seed0 run; its values are recorded twice", flush=True)
    jobs = [(nb, run) for run in runs for nb in notebooks]
    failed = False
    with ThreadPoolExecutor(max_workers=args.jobs) as pool, (REPORTS / "times.csv").open("a") as times:
        for notebook, run, seconds, problems in pool.map(lambda job: run_one(*job), jobs):
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"{run:8s} {seconds:8.1f} s  {notebook.relative_to(ROOT)}  {status}", flush=True)
            times.write(f"{run},{notebook.relative_to(ROOT)},{seconds:.1f}\n")
            if problems:
                failed = True
                with (REPORTS / f"mismatch-{run}.txt").open("a") as f:
                    f.write("\n\n".join(problems) + "\n\n")
                for p in problems:
                    print("   " + p.replace("\n", "\n   "), flush=True)
    if alias_avx2:
        for nb in notebooks:
            log = log_for(nb)
            if not log.exists():
                continue
            with log.open() as f:
                rows = [r for r in csv.DictReader(f) if r["run"] == "seed0"]
            with log.open("a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=["run", "name", "value", "low", "high"])
                writer.writerows([dict(r, run="avx2") for r in rows])
    return 1 if failed else 0


def native_capability() -> str:
    """PyTorch's native CPU kernel family here: 'AVX512', 'AVX2', 'DEFAULT', ... (in a clean env)."""
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    proc = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


# --------------------------------------------------------------------------- the table


def read_log() -> dict[str, dict[str, list[float]]]:
    values: dict[str, dict[str, list[float]]] = {}
    for log in sorted(REPORTS.glob("log-*.csv")):
        with log.open() as f:
            for row in csv.DictReader(f):
                if row["run"] == "run":  # a header written twice by two first writers
                    continue
                values.setdefault(row["name"], {}).setdefault(row["run"], []).append(float(row["value"]))
    return values


def band_ok(low: float | None, high: float | None, values: list[float], name: str = "") -> bool:
    """The margin rule: each band edge lies beyond the worst value by at least the spread.

    The spread is the observed range (max - min). For a *ratio* (a claim whose name says so:
    ``_over_``, ``ratio`` or ``speedup``, e.g. a time ratio that varies by a factor from one
    machine to the next) the observed factor (max / min) may be used instead: a positive low
    edge at most min / (max / min), a high edge at least max * (max / min). Values on the edge
    itself never pass. Differences (gains, gaps) are additive: a gain seen between 0.02 and
    0.05 does not justify "the gain is positive" (low=0 needs a minimum of at least 0.03).
    """
    ratio = any(word in name for word in ("_over_", "ratio", "speedup"))
    lo, hi = min(values), max(values)
    slack = 1e-9 * max(abs(lo), abs(hi), 1e-12)  # rounding in the subtractions, not a margin
    ok = True
    if low is not None:
        additive = lo - low >= hi - lo - slack
        multiplicative = ratio and lo > 0 and low > 0 and low <= lo * lo / hi + slack
        ok = ok and lo > low and (additive or multiplicative)
    if high is not None:
        additive = high - hi >= hi - lo - slack
        multiplicative = ratio and lo > 0 and high >= hi * hi / lo - slack
        ok = ok and hi < high and (additive or multiplicative)
    return bool(ok)


def limits(values: list[float]) -> tuple[float, float, float, float]:
    """(lowest additive low edge, lowest multiplicative low edge, highest ...): what band_ok allows."""
    lo, hi = min(values), max(values)
    return (
        lo - (hi - lo),
        lo * lo / hi if lo > 0 else float("nan"),
        hi + (hi - lo),
        hi * hi / lo if lo > 0 else float("nan"),
    )


def cmd_table(args) -> int:
    values = read_log()
    claims = {}
    for pair in sorted(ROOT.glob("chapters/*.py")) + sorted(ROOT.glob("solutions/*/*.py")):
        for c in claims_in_source(pair):
            claims.setdefault(c["name"], c)
    rows, missing = [], []
    for name, c in sorted(claims.items()):
        runs = values.get(name, {})
        if not all(r in runs for r in REQUIRED_RUNS):
            missing.append(f"{name}: no value for run(s) {', '.join(r for r in REQUIRED_RUNS if r not in runs)}")
        every = [v for r in REQUIRED_RUNS for v in runs.get(r, [])]
        lo_obs, hi_obs = (min(every), max(every)) if every else (float("nan"), float("nan"))
        margins = []
        if c["low"] is not None:
            margins.append(lo_obs - c["low"])
        if c["high"] is not None:
            margins.append(c["high"] - hi_obs)
        row = {
            "name": name,
            "notebook": c["notebook"],
            "low": "" if c["low"] is None else f"{c['low']:g}",
            "high": "" if c["high"] is None else f"{c['high']:g}",
            "min": f"{lo_obs:.6g}",
            "max": f"{hi_obs:.6g}",
            "range": f"{hi_obs - lo_obs:.6g}",
            "margin": f"{min(margins):.6g}",
        }
        for r in REQUIRED_RUNS:
            row[r] = " ".join(f"{v:.6g}" for v in runs.get(r, []))
        rows.append(row)
    fields = ["name", "notebook", "low", "high", "min", "max", "range", "margin", *REQUIRED_RUNS]
    with TABLE.open("w", newline="") as f:
        f.write(
            "# Spread of every measured claim (cvbook.measured.claim) over seeds and CPU kernels.\n"
            "# Made by `python tools/measure_spread.py table` from the runs of `... run`; checked by\n"
            "# tests/test_measured.py: margin (distance from the worst value to the band edge) >= range.\n"
        )
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {TABLE.relative_to(ROOT)}: {len(rows)} claims")
    bad = []
    for r in rows:
        every = [float(v) for run in REQUIRED_RUNS for v in r[run].split()]
        if every and not band_ok(
            float(r["low"]) if r["low"] else None, float(r["high"]) if r["high"] else None, every, r["name"]
        ):
            bad.append(r)
            print(
                f"  margin too small: {r['name']} band [{r['low']}, {r['high']}] observed "
                f"[{r['min']}, {r['max']}] (range {r['range']})"
            )
    for m in missing:
        print("  missing: " + m)
    return 1 if bad or missing else 0


def cmd_suggest(args) -> int:
    values = read_log()
    for pair in sorted(ROOT.glob("chapters/*.py")) + sorted(ROOT.glob("solutions/*/*.py")):
        for c in claims_in_source(pair):
            every = [v for vs in values.get(c["name"], {}).values() for v in vs]
            if not every:
                print(f"{c['where']}: {c['name']}: no values")
                continue
            a_lo, m_lo, a_hi, m_hi = limits(every)
            ok = band_ok(c["low"], c["high"], every, c["name"])
            print(
                f"{c['where']}: {c['name']}: observed [{min(every):.4g}, {max(every):.4g}] over "
                f"{len(every)} values, band [{c['low']}, {c['high']}] {'ok' if ok else 'TOO TIGHT'}; "
                f"low <= {a_lo:.4g} (or {m_lo:.4g} as a factor), high >= {a_hi:.4g} (or {m_hi:.4g})"
            )
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["_execute"]:  # internal: run inside the configured environment
        seconds, problems = execute(Path(argv[1]), argv[2])
        print(f"{seconds:.3f}")
        if problems:
            print("\n\x1e\n".join(problems))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute notebooks under run configurations, log claims")
    p_run.add_argument("notebooks", nargs="*")
    p_run.add_argument("--runs", default=",".join(RUNS))
    p_run.add_argument("-j", "--jobs", type=int, default=2)
    p_run.add_argument(
        "--force-avx2", action="store_true", help="run the avx2 configuration even where it is the native one"
    )
    sub.add_parser("table", help="write tests/measured_spread.csv from the log")
    sub.add_parser("suggest", help="print the bands the margin rule allows")
    args = parser.parse_args(argv)
    return {"run": cmd_run, "table": cmd_table, "suggest": cmd_suggest}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
