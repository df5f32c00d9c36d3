"""Project-wide pytest hooks: notebook time budgets.

Every notebook that the tests run has a time budget: chapters/ run by nbval, measured
as the sum of its cells' set-up, run and tear-down times (kernel start included);
solutions/ run once by the grading command (tests/test_grading.py, which reports the
notebook's autograding time, kernel start included, as the user property
``notebook_seconds``), both under the conditions of `make test` (OMP_NUM_THREADS=1).
A notebook over its budget fails the run, naming the notebook and its time. The
per-notebook times and their total are printed at the end of every run.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

pytest_plugins = ["pytester"]  # tests/test_tools.py runs pytest inside pytest

#: Default budget in seconds by top folder; a notebook can get its own below.
DEFAULT_BUDGET_S = {"chapters": 180.0, "solutions": 60.0}
#: Budgets of individual notebooks (path relative to the repo root), when they differ.
NOTEBOOK_BUDGET_S: dict[str, float] = {
    "chapters/09_object_detection.ipynb": 240.0,  # issue 7 allows 4 minutes
}

_times: dict[str, float] = defaultdict(float)


def budget_for(path: str) -> float | None:
    if path in NOTEBOOK_BUDGET_S:
        return NOTEBOOK_BUDGET_S[path]
    return DEFAULT_BUDGET_S.get(path.split("/", 1)[0])


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _times[path] += report.duration
    if report.when == "call":
        for name, value in getattr(report, "user_properties", ()):
            if name == "notebook_seconds":  # {path: seconds} from a test that ran the notebook itself
                for notebook, seconds in value.items():
                    _times[notebook] += float(seconds or 0)


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def _over_budget() -> list[tuple[str, float, float]]:
    over = []
    for path, seconds in sorted(_times.items()):
        budget = budget_for(path)
        if budget is not None and seconds > budget:
            over.append((path, seconds, budget))
    return over


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if _is_controller(session.config) and _over_budget() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _is_controller(config) or not _times:
        return
    tr = terminalreporter
    tr.section("notebook times (budget)")
    for path, seconds in sorted(_times.items()):
        budget = budget_for(path)
        flag = "  OVER BUDGET" if budget is not None and seconds > budget else ""
        tr.write_line(f"{seconds:8.1f} s  ({budget or 0:5g} s)  {path}{flag}")
    tr.write_line(f"{sum(_times.values()):8.1f} s  total over {len(_times)} notebooks")
    for path, seconds, budget in _over_budget():
        tr.write_line(f"FAILED budget: {path} took {seconds:.1f} s, over its {budget:g} s budget",
                      red=True, bold=True)
