"""Exact numbers are checked to the digit, measured numbers within bands (issue 14).

* ``cvbook.measured.claim``: bands, NaN, bad arguments, the log of the spread runs;
* the test-time jitter: it changes trained numbers, never the same training computed twice,
  never float64 demonstrations; and it is what makes a trained number in a checked cell fail
  `make test` on the author's own machine (a real nbval run under the project's conftest);
* the spread file ``tests/measured_spread.csv``: every claim in a notebook has its row, with
  the same band, values from every run configuration, and a margin at least the observed range;
* no checked cell runs a claim, a training step or a timer.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import math
import os
import re
from pathlib import Path

import pytest
import torch

from cvbook import measured
from cvbook.measured import claim

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# NBVAL_CHECK_OUTPUT"
PAIRS = sorted(ROOT.glob("chapters/*.py")) + sorted(ROOT.glob("solutions/*/*.py"))


def _spread_tool():
    spec = importlib.util.spec_from_file_location("measure_spread", ROOT / "tools" / "measure_spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SPREAD = _spread_tool()


# --------------------------------------------------------------------------- claim


def test_claim_returns_the_value_inside_its_band(monkeypatch):
    monkeypatch.delenv(measured.LOG_ENV, raising=False)
    assert claim("ch00.demo.accuracy", 0.93, low=0.9) == 0.93
    assert claim("ch00.demo.loss", torch.tensor(0.2), high=0.5) == pytest.approx(0.2)
    assert claim("ch00.demo.gap", 0.05, low=0.0, high=0.1) == 0.05
    assert claim("ch00.demo.edge", 0.9, low=0.9, high=0.9) == 0.9  # the band is closed


@pytest.mark.parametrize(
    "value, low, high",
    [(0.84, 0.85, None), (0.6, None, 0.5), (float("nan"), 0.0, 1.0), (float("nan"), None, 1.0), (-0.1, 0.0, 0.1)],
)
def test_claim_outside_its_band_says_which_and_where_bands_come_from(monkeypatch, value, low, high):
    monkeypatch.delenv(measured.ONLY_ENV, raising=False)
    with pytest.raises(AssertionError, match=r"ch00\.demo\.x.*outside its band.*measured_spread\.csv"):
        claim("ch00.demo.x", value, low=low, high=high)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="Accuracy", value=0.9, low=0.5), "name must look like"),
        (dict(name="ch00", value=0.9, low=0.5), "name must look like"),
        (dict(name="ch00.demo.x", value=0.9), "needs low= or high="),
        (dict(name="ch00.demo.x", value="0.9", low=0.5), "value must be a real number"),
        (dict(name="ch00.demo.x", value=True, low=0.5), "value must be a real number"),
        (dict(name="ch00.demo.x", value=torch.ones(2), low=0.5), r"single number.*\(2,\)"),
        (dict(name="ch00.demo.x", value=0.9, low=0.95, high=0.5), "low=0.95 is above high=0.5"),
    ],
)
def test_claim_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        claim(kwargs.pop("name"), kwargs.pop("value"), **kwargs)


def test_claim_logs_every_value_and_measure_only_does_not_raise(tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    monkeypatch.setenv(measured.LOG_ENV, str(log))
    monkeypatch.setenv(measured.RUN_ENV, "seed1")
    claim("ch00.demo.a", 0.5, low=0.1)
    monkeypatch.setenv(measured.ONLY_ENV, "1")
    assert claim("ch00.demo.b", 0.05, low=0.1, high=0.2) == 0.05  # outside, recorded, not raised
    rows = list(csv.DictReader(log.open()))
    assert [(r["run"], r["name"], float(r["value"])) for r in rows] == [
        ("seed1", "ch00.demo.a", 0.5),
        ("seed1", "ch00.demo.b", 0.05),
    ]
    assert rows[1]["low"] == "0.1" and rows[1]["high"] == "0.2"


# --------------------------------------------------------------------------- the jitter


def _train(dtype=torch.float32, steps=150):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3)).to(dtype)
    x = torch.randn(256, 10, dtype=dtype)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.fixture
def jitter():
    measured.install_jitter(1e-3)
    yield
    measured.remove_jitter()


def test_without_jitter_training_is_repeatable():
    assert measured.jitter_size() == 0.0
    assert torch.equal(_train(), _train())


def test_jitter_changes_trained_numbers_but_not_the_same_training_twice(jitter):
    plain_reference = None
    jittered = _train()
    assert torch.equal(jittered, _train()), "the jitter must be a fixed function of step and parameter"
    measured.remove_jitter()
    plain_reference = _train()
    diff = (jittered - plain_reference).abs().max().item()
    assert 1e-5 < diff, f"the jitter changed the trained weights by only {diff:g}"


def test_jitter_leaves_float64_demonstrations_alone(jitter):
    with_jitter = _train(torch.float64)
    measured.remove_jitter()
    assert torch.equal(with_jitter, _train(torch.float64))


def test_install_jitter_checks_its_size_and_can_be_removed():
    for bad in (0, -1e-3, 0.5, float("nan")):
        with pytest.raises(ValueError, match="size must be in"):
            measured.install_jitter(bad)
    measured.install_jitter(1e-4)
    measured.install_jitter(1e-3)  # replaces the size, one hook
    assert measured.jitter_size() == 1e-3
    measured.remove_jitter()
    measured.remove_jitter()
    assert measured.jitter_size() == 0.0


def test_jitter_from_the_environment_is_a_number(monkeypatch):
    monkeypatch.setenv(measured.JITTER_ENV, "lots")
    with pytest.raises(ValueError, match=r"CVBOOK_JITTER must be a number"):
        measured._install_from_env()
    monkeypatch.setenv(measured.JITTER_ENV, "0")
    measured._install_from_env()
    assert measured.jitter_size() == 0.0


def test_a_trained_number_in_a_checked_cell_fails_make_test_on_this_machine(pytester):
    """The mechanism of issue 14, end to end: a notebook stored by an un-jittered run (as
    `make refresh` does) passes nbval for its exact cells and fails for the trained one, under
    the project's own conftest.py and nbval options."""
    import nbformat
    from nbclient import NotebookClient

    v4 = nbformat.v4
    train = (
        "torch.manual_seed(0)\n"
        "m = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))\n"
        "x = torch.randn(256, 10)\ny = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()\n"
        "opt = torch.optim.SGD(m.parameters(), lr=0.2, momentum=0.9)\nfor _ in range(100):\n"
        "    opt.zero_grad()\n    loss = torch.nn.functional.cross_entropy(m(x), y)\n"
        "    loss.backward()\n    opt.step()\n"
    )
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("import torch\nimport cvbook  # installs the jitter when CVBOOK_JITTER is set"),
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(sum(p.numel() for p in torch.nn.Linear(4, 1).parameters()))"),
            v4.new_code_cell(train),
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(f'{loss.item():.6f}')"),  # trained: must fail
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(x.shape, f'{x.abs().max().item():.6f}')"),  # exact
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    saved = os.environ.pop("CVBOOK_JITTER", None)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()  # the stored, un-jittered run
    finally:
        if saved is not None:
            os.environ["CVBOOK_JITTER"] = saved
    (pytester.path / "chapters").mkdir()
    nbformat.write(nb, pytester.path / "chapters" / "trained.ipynb")
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "chapters/trained.ipynb"
    )
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*trained.ipynb::Cell 3*"])


# --------------------------------------------------------------------------- the spread file


def _claims() -> list[dict]:
    found = []
    for pair in PAIRS:
        found += SPREAD.claims_in_source(pair)
    return found


def _table() -> dict[str, dict]:
    with SPREAD.TABLE.open() as f:
        return {r["name"]: r for r in csv.DictReader(line for line in f if not line.startswith("#"))}


def test_claims_have_literal_names_and_bands_and_sit_in_notebooks():
    claims = _claims()
    assert claims, "no notebook makes a measured claim"
    for c in claims:
        assert re.fullmatch(r"(ch\d\d|a\d)(ex)?\.[a-z0-9_.]+", c["name"]), f"{c['where']}: bad claim name {c['name']!r}"
        assert c["low"] is not None or c["high"] is not None, f"{c['where']}: {c['name']} has no band"
    prefixes = {}
    for c in claims:
        prefixes.setdefault(c["name"], set()).add(c["notebook"])
    shared = {n: sorted(p) for n, p in prefixes.items() if len(p) > 1}
    assert not shared, f"one claim name used in several notebooks: {shared}"


def test_every_claim_has_its_spread_with_the_same_band():
    table = _table()
    claims = {c["name"]: c for c in _claims()}
    missing = sorted(set(claims) - set(table))
    assert not missing, (
        f"claims without a measured spread: {missing}; run "
        "`python tools/measure_spread.py run <notebook>` then `... table`"
    )
    stale = sorted(set(table) - set(claims))
    assert not stale, f"tests/measured_spread.csv has rows for claims no notebook makes: {stale}"
    for name, c in claims.items():
        row = table[name]
        for edge in ("low", "high"):
            stored = float(row[edge]) if row[edge] else None
            assert (stored is None) == (c[edge] is None) and (stored is None or math.isclose(stored, c[edge])), (
                f"{c['where']}: {name} {edge}={c[edge]} in the notebook but {row[edge] or None} in "
                "tests/measured_spread.csv: re-run `python tools/measure_spread.py table`"
            )


def test_every_band_has_margin_beyond_the_worst_measured_value():
    for name, row in _table().items():
        missing = [r for r in SPREAD.REQUIRED_RUNS if not row[r].strip()]
        pending = row["notebook"] in SPREAD.PENDING
        assert pending or not missing, f"{name}: no measured value for run(s) {missing}"
        values = [float(v) for r in SPREAD.REQUIRED_RUNS for v in row[r].split()]
        if not values:
            assert pending, f"{name}: never measured"
            continue
        low = float(row["low"]) if row["low"] else None
        high = float(row["high"]) if row["high"] else None
        assert SPREAD.band_ok(low, high, values, name), (
            f"{name}: band [{low}, {high}] is too close to the measured values "
            f"[{min(values):.6g}, {max(values):.6g}]: the margin must be at least the spread"
        )


def test_pending_spreads_are_really_pending():
    """A notebook leaves PENDING as soon as its spread is complete (the list only shrinks)."""
    table = _table()
    for notebook in SPREAD.PENDING:
        rows = [r for r in table.values() if r["notebook"] == notebook]
        assert rows, f"{notebook} is PENDING but makes no claim"
        assert any(not r[run].strip() for r in rows for run in SPREAD.REQUIRED_RUNS), (
            f"{notebook}: its spread is complete; remove it from PENDING in tools/measure_spread.py"
        )


@pytest.mark.parametrize(
    "low, high, values, name, ok",
    [
        (0.90, None, [0.95, 0.96], "a.acc", True),  # margin 0.05 >= range 0.01
        (0.945, None, [0.95, 0.96], "a.acc", False),  # margin 0.005 < range 0.01
        (None, 0.5, [0.3, 0.4], "a.loss", True),
        (None, 0.45, [0.3, 0.4], "a.loss", False),
        (0.95, None, [0.95, 0.95], "a.acc", False),  # on the edge
        (0.9, 1.0, [0.95, 0.95], "a.acc", True),  # no spread: any strict margin
        (100, None, [3356, 10510], "a.naive_over_im2col", True),  # a time ratio: 100 <= 3356 / (10510 / 3356)
        (100, None, [3356, 10510], "a.naive_minus_im2col", False),  # not a ratio: additive only
        (2000, None, [3356, 10510], "a.naive_over_im2col", False),
        (None, 20, [2.8, 4.5], "a.speedup", True),  # 20 >= 4.5 * 4.5 / 2.8
        (-0.03, 0.03, [0.0, 0.00222], "a.gap", True),
        (0.0, None, [0.024, 0.053], "a.gain", False),  # a gain between 0.024 and 0.053 is not surely > 0
    ],
)
def test_the_margin_rule(low, high, values, name, ok):
    assert SPREAD.band_ok(low, high, values, name) is ok


# --------------------------------------------------------------------------- checked cells


_MEASURING = re.compile(r"\bclaim\(|perf_counter|process_time|\btime\.time\(|timeit")


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_checked_cell_trains_times_or_claims(pair):
    """A checked cell holds no claim and no clock. Training in a checked cell is allowed when
    what it prints is exact on every machine (one DDP step equals one big-batch step; resumed
    weights equal uninterrupted ones: True everywhere); a trained *number* printed there is
    what the jitter catches, since it comes out different under `make test`."""
    cells = re.split(r"^# %%.*$", pair.read_text(), flags=re.M)
    for k, body in enumerate(cells):
        if body.lstrip("\n").startswith(MARKER + "\n"):
            code = "\n".join(ln for ln in body.split("\n") if not ln.lstrip().startswith("#"))
            found = _MEASURING.search(code)
            assert not found, f"{pair.name} cell {k}: a checked cell runs {found.group(0)!r}"
    ast.parse(pair.read_text())
