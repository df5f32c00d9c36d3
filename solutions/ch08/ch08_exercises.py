# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %%
# Colab only: install the book's package (Colab's own torch and torchvision are kept).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "cvbook @ git+https://github.com/cnn-cv-book/cnn-cv-book@v0.1.0",
        ],
        check=True,
    )

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Chapter 8 exercises: evaluating classifiers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch08/ch08_exercises.ipynb)
#
# Five exercises on Chapter 8, *Evaluating classifiers*: precision, recall and $F_1$ from a
# binary confusion matrix, the area under a curve by the trapezoid rule, average precision
# from a ranked list (the lecture's $\text{AP} = \sum (r_{i+1} - r_i) P_{i+1}$), macro and
# micro $F_1$ for many classes, and the ROC AUC as a ranking probability. 16 points in all.
#
# **How to work**
#
# - Run the cells from the top, in order (in Colab the first cell installs the book's
#   package, `cvbook`; elsewhere it does nothing).
# - Each exercise says what to implement, gives the function's signature and one
#   worked example. Write your code in the cell below it, in place of the lines
#   `# YOUR CODE HERE` and `raise NotImplementedError()`. Keep the function's name and
#   arguments. Use NumPy and PyTorch; do not call the library function that an
#   exercise imitates.
# - The cell after your answer holds **tests**: run it. A failing test says what it
#   expected and what it got; when all pass it prints `Visible tests passed.`. When
#   your notebook is graded, more tests with other inputs (hidden tests) run as well,
#   so write code that works for any valid input, not just for the examples.
# - **Do not delete, edit, move or copy the test cells** (or any other read-only cell),
#   and do not rename the notebook: the grader finds the tests by their place in it.
#   You may add cells of your own to try things out.
# - Before you hand in, restart and run everything (Colab: *Runtime > Restart session
#   and run all*; Jupyter: *Kernel > Restart Kernel and Run All Cells*) and check that
#   every test cell passes.
#
# **Handing in**
#
# - **Colab**: *File > Download > Download .ipynb*, then upload the downloaded
#   `ch08_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch08_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

from cvbook.checks import expect_error, refusing

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: precision, recall and F1 from a confusion matrix (3 points)
#
# A binary confusion matrix in the book's (and scikit-learn's) orientation has the true
# class in the rows and the predicted class in the columns, class 0 (negative) first:
#
# $$\text{cm} = \begin{pmatrix} TN & FP \\ FN & TP \end{pmatrix}.$$
#
# `precision_recall_f1(cm)`
# : `cm` is a 2 × 2 NumPy array (or nested list) of non-negative counts. Return the tuple
#   `(precision, recall, f1)` of three Python `float`s, with precision $= TP/(TP+FP)$,
#   recall $= TP/(TP+FN)$ and $F_1 = 2TP/(2TP+FP+FN)$ (the harmonic mean of the two). A
#   ratio whose denominator is 0 is reported as `0.0` (not `nan`, and without a warning).
#   Raise `ValueError` if `cm` does not have shape (2, 2) (a flat list of 4 numbers or a
#   (1, 2, 2) array is not one) or holds a negative count.
#
#   Graded in two parts: the three ratios (2 points), the `ValueError`s (1 point).
#
# Worked example: the chapter's screening test (85 healthy people correctly cleared, 5
# false alarms, 6 missed, 4 found):
#
# ```python
# >>> precision_recall_f1(np.array([[85, 5], [6, 4]]))
# (0.4444444444444444, 0.4, 0.42105263157894735)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def precision_recall_f1(cm):
    """(precision, recall, f1) of the positive class from a 2 x 2 matrix [[TN, FP], [FN, TP]]."""
    ### BEGIN SOLUTION
    cm = np.asarray(cm)
    if cm.shape != (2, 2):
        raise ValueError(f"cm must have shape (2, 2), got {cm.shape}")
    if np.any(cm < 0):
        raise ValueError("cm must hold non-negative counts")
    (tn, fp), (fn, tp) = cm.astype(float)
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else 0.0
    return float(precision), float(recall), float(f1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_prf_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of precision_recall_f1: the three ratios (2 points).
result = precision_recall_f1(np.array([[85, 5], [6, 4]]))  # the worked example
assert isinstance(result, tuple) and len(result) == 3, f"expected a tuple (precision, recall, f1), got {result!r}"
assert all(isinstance(v, float) for v in result), (
    f"expected three Python floats, got {[type(v).__name__ for v in result]}"
)
p, r, f = result
if np.isclose(p, 0.4) and np.isclose(r, 4 / 9):
    raise AssertionError("precision and recall are swapped: did you read the matrix transposed? Rows are the truth")
assert np.isclose(p, 4 / 9), f"precision = TP / (TP + FP) = 4 / 9 = 0.444, got {p}"
assert np.isclose(r, 0.4), f"recall = TP / (TP + FN) = 4 / 10 = 0.4, got {r}"
assert np.isclose(f, 8 / 19), f"F1 = 2 TP / (2 TP + FP + FN) = 8 / 19 = 0.421, got {f}"
assert precision_recall_f1([[3, 0], [0, 7]]) == (1.0, 1.0, 1.0), "a perfect classifier: (1.0, 1.0, 1.0)"
result = precision_recall_f1([[90, 0], [10, 0]])
assert result == (0.0, 0.0, 0.0), (
    f"cm [[90, 0], [10, 0]] ('always negative' flags nothing): precision is 0/0, reported as 0.0, recall 0/10 = 0.0, "
    f"F1 0/10 = 0.0; expected (0.0, 0.0, 0.0), got {result}"
)
result = precision_recall_f1([[0, 4], [0, 0]])
assert result == (0.0, 0.0, 0.0), (
    f"cm [[0, 4], [0, 0]] (no positives): recall is 0/0, reported as 0.0; expected (0.0, 0.0, 0.0), got {result}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import precision_recall_fscore_support as _prfs

_rng = np.random.default_rng(81)
for _ in range(20):
    _cm = _rng.integers(0, 30, size=(2, 2))
    _y_true = np.repeat([0, 0, 1, 1], _cm.ravel())
    _y_pred = np.repeat([0, 1, 0, 1], _cm.ravel())
    if _y_true.size == 0:
        continue
    _want = _prfs(_y_true, _y_pred, labels=[0, 1], average="binary", zero_division=0.0)[:3]
    _got = precision_recall_f1(_cm)
    assert all(isinstance(_v, float) for _v in _got), (
        f"precision_recall_f1({_cm.tolist()}): expected three Python floats"
    )
    assert np.allclose(_got, _want), (
        f"precision_recall_f1({_cm.tolist()}): expected {tuple(map(float, _want))}, got {_got}"
    )
assert np.allclose(precision_recall_f1(np.array([[0, 0], [0, 5]])), (1.0, 1.0, 1.0)), (
    "cm [[0, 0], [0, 5]] (only positives, all found): expected (1.0, 1.0, 1.0)"
)
assert np.allclose(precision_recall_f1(np.array([[1, 3], [1, 1]])), (0.25, 0.5, 2 / 6)), (
    "cm [[1, 3], [1, 1]]: expected precision 1/4, recall 1/2, F1 2/6"
)
assert np.allclose(precision_recall_f1(np.array([[5.0, 1.0], [2.0, 3.0]])), (0.75, 0.6, 6 / 9)), (
    "a float matrix of counts [[5., 1.], [2., 3.]]: expected (0.75, 0.6, 0.667)"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex1_prf_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of precision_recall_f1: the ValueErrors (1 point).
with expect_error(ValueError, "cm = np.ones((3, 3)), a 3 x 3 matrix (the shape must be (2, 2))"):
    precision_recall_f1(np.ones((3, 3)))
with expect_error(ValueError, "cm = [[1, -1], [0, 2]], a negative count"):
    precision_recall_f1([[1, -1], [0, 2]])
with expect_error(ValueError, "cm = [1, 2, 3, 4], a flat list (the shape must be (2, 2))"):
    precision_recall_f1([1, 2, 3, 4])
for valid in ([[0, 0], [0, 0]], np.array([[5.0, 1.0], [2.0, 3.0]])):
    try:
        precision_recall_f1(valid)
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, (
        f"cm = {np.asarray(valid).tolist()} is a valid 2 x 2 matrix of counts (zeros and float "
        f"counts are allowed), but it raised ValueError: {refused}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in (np.ones((2, 3)), np.ones(4), [[-3, 1], [0, 2]], np.ones((1, 2, 2))):
    with expect_error(ValueError, f"cm = {np.asarray(_bad).tolist()}"):
        precision_recall_f1(_bad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: the area under a curve by the trapezoid rule (3 points)
#
# Between two consecutive points $(x_i, y_i)$ and $(x_{i+1}, y_{i+1})$ of a curve, the
# trapezoid rule adds the area $(x_{i+1} - x_i)\,(y_i + y_{i+1})/2$:
#
# $$\text{AUC} = \sum_{i=0}^{T-2} (x_{i+1} - x_i)\,\frac{y_i + y_{i+1}}{2}.$$
#
# `auc_trapezoid(x, y)`
# : `x` and `y` are 1-D arrays (or lists) of the same length $T \ge 2$, with `x` sorted in
#   increasing order (equal neighbours allowed, as in an ROC curve's vertical steps).
#   Return the area as a Python `float`. Raise `ValueError` if the lengths differ, if
#   there are fewer than 2 points, or if `x` ever decreases. Compute it yourself: the
#   tests make `np.trapezoid` and scikit-learn's `auc` raise while your function runs.
#
#   Graded in two parts: the area (2 points), the `ValueError`s (1 point).
#
# Worked example: an ROC curve through (0, 0), (0.5, 1) and (1, 1), and the diagonal of a
# random classifier:
#
# ```python
# >>> auc_trapezoid([0, 0.5, 1], [0, 1, 1])
# 0.75
# >>> auc_trapezoid([0, 1], [0, 1])
# 0.5
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def auc_trapezoid(x, y):
    """Area under the curve through the points (x[i], y[i]), x increasing, by the trapezoid rule."""
    ### BEGIN SOLUTION
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D with the same length, got shapes {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"at least 2 points are needed, got {x.size}")
    dx = x[1:] - x[:-1]
    if np.any(dx < 0):
        raise ValueError("x must be sorted in increasing order")
    return float(np.sum(dx * (y[1:] + y[:-1]) / 2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_auc_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of auc_trapezoid: the area (2 points).
with refusing("numpy.trapezoid", "sklearn.metrics.auc"):
    area = auc_trapezoid([0, 0.5, 1], [0, 1, 1])  # the worked example
    assert isinstance(area, float), f"expected a Python float, got {type(area).__name__}"
    if np.isclose(area, 0.5):
        raise AssertionError(
            "x = [0, 0.5, 1], y = [0, 1, 1]: got 0.5, the rectangles under the left points; "
            "a trapezoid uses the mean (y_i + y_i+1) / 2 of both ends"
        )
    assert np.isclose(area, 0.75), (
        f"x = [0, 0.5, 1], y = [0, 1, 1]: trapezoids 0.5 * (0 + 1) / 2 + 0.5 * (1 + 1) / 2 = 0.75, got {area}"
    )
    area = auc_trapezoid([0, 1], [0, 1])
    assert np.isclose(area, 0.5), f"the diagonal x = y = [0, 1]: expected AUC 0.5, got {area}"
    area = auc_trapezoid([0, 0, 1], [0, 1, 1])
    assert np.isclose(area, 1.0), (
        f"x = [0, 0, 1], y = [0, 1, 1]: a vertical step adds no area, the perfect ROC curve has AUC 1.0, got {area}"
    )
    area = auc_trapezoid(np.array([0.0, 0.2, 0.6, 1.0]), np.array([0.0, 0.5, 0.8, 1.0]))
    assert np.isclose(area, 0.67), (
        f"x = [0, 0.2, 0.6, 1], y = [0, 0.5, 0.8, 1]: expected 0.2 * 0.25 + 0.4 * 0.65 + 0.4 * 0.9 = 0.67, got {area}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import auc as _sk_auc, roc_auc_score as _roc_auc_score, roc_curve as _roc_curve

_rng = np.random.default_rng(82)
for _t in (2, 3, 10, 100):
    _x = np.sort(_rng.random(_t))
    _y = _rng.random(_t)
    with refusing("numpy.trapezoid", "sklearn.metrics.auc"):
        _got = auc_trapezoid(_x, _y)
    assert np.isclose(_got, _sk_auc(_x, _y)), f"{_t} random points: expected {_sk_auc(_x, _y)}, got {_got}"
    assert np.isclose(auc_trapezoid(list(_x), list(_y)), _got), "lists must work like arrays"
for _ in range(3):
    _labels = _rng.integers(0, 2, 80)
    _labels[:2] = [0, 1]
    _scores = np.round(_rng.normal(size=80) + _labels, 1)  # with ties
    _fpr, _tpr, _ = _roc_curve(_labels, _scores)
    assert np.isclose(auc_trapezoid(_fpr, _tpr), _roc_auc_score(_labels, _scores)), "the ROC AUC of a random ranking"
assert np.isclose(auc_trapezoid([0, 1, 1, 2], [1, 1, 3, 3]), 4.0), (
    "x = [0, 1, 1, 2], y = [1, 1, 3, 3] (a vertical step at x = 1): expected 1 + 0 + 3 = 4.0"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex2_auc_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of auc_trapezoid: the ValueErrors (1 point).
with expect_error(ValueError, "x = [0, 1, 0.5], an x that decreases"):
    auc_trapezoid([0, 1, 0.5], [0, 1, 1])
with expect_error(ValueError, "x with 2 values and y with 3 (the lengths differ)"):
    auc_trapezoid([0, 1], [0, 1, 2])
with expect_error(ValueError, "a single point (at least 2 are needed)"):
    auc_trapezoid([0.5], [1.0])
try:
    auc_trapezoid([0, 0, 1], [0, 1, 1])
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"x = [0, 0, 1] is sorted (equal neighbours are allowed, a vertical step of an ROC curve), "
    f"but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in (([0, 1, 2], [0, 1]), ([0], [0]), ([1, 0], [0, 1]), ([], []), ([0, 0.5, 0.4, 1], [0, 1, 1, 1])):
    with expect_error(ValueError, f"auc_trapezoid{_bad}"):
        auc_trapezoid(*_bad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: average precision from a ranked list (4 points)
#
# A classifier (or a detector) has sorted its outputs by confidence, best first; each is
# either right (1) or wrong (0). Walking down the list, after the first $k$ items the
# precision is $P_k = TP_k / k$ and the recall is $r_k = TP_k / P$, where $TP_k$ counts the 1s
# among the first $k$ and $P$ is the total number of positives. The lecture's average
# precision sums the precision at each step up in recall ($r_0 = 0$):
#
# $$\text{AP} = \sum_{k=1}^{n} (r_k - r_{k-1})\, P_k .$$
#
# `average_precision_ranked(ranked, num_positives=None)`
# : `ranked` is a 1-D sequence of 0s and 1s (no ties: one item per rank). `num_positives`
#   is $P$; by default the number of 1s in `ranked`, but it may be larger: in detection,
#   objects that were never detected count as positives that the list never reaches.
#   Return AP as a Python `float`. An empty list with `num_positives > 0` has AP `0.0`.
#   Raise `ValueError` if an entry is not 0 or 1, if $P = 0$ (recall is undefined: a list
#   without 1s and no `num_positives`, or `num_positives=0`), or if `num_positives` is
#   smaller than the number of 1s. Compute it yourself: the tests make scikit-learn's
#   `average_precision_score` and `cvbook.metrics.average_precision` raise while your
#   function runs.
#
#   Graded in two parts: AP (3 points), the `ValueError`s (1 point).
#
# Worked example: the chapter's list, whose precisions at the five hits are 1, 2/3, 3/4,
# 4/7 and 5/10:
#
# ```python
# >>> average_precision_ranked([1, 0, 1, 1, 0, 0, 1, 0, 0, 1])
# 0.6976190476190477
# >>> average_precision_ranked([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], num_positives=7)  # two objects never detected
# 0.49829931972789115
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def average_precision_ranked(ranked, num_positives=None):
    """AP = sum_k (r_k - r_{k-1}) P_k of a ranked list of hits (1) and misses (0), best first."""
    ### BEGIN SOLUTION
    ranked = np.asarray(ranked, dtype=float).ravel()
    if ranked.size and not np.all((ranked == 0) | (ranked == 1)):
        raise ValueError("ranked must hold only 0s and 1s")
    hits = int(ranked.sum())
    total = hits if num_positives is None else num_positives
    if total < hits:
        raise ValueError(f"num_positives={total} is smaller than the {hits} hits in the list")
    if total == 0:
        raise ValueError("there are no positives: recall is undefined")
    if ranked.size == 0:
        return 0.0
    tp = np.cumsum(ranked)
    precision = tp / np.arange(1, ranked.size + 1)
    recall = tp / total
    steps = np.diff(recall, prepend=0.0)
    return float(np.sum(steps * precision))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_ap_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of average_precision_ranked: AP (3 points).
with refusing("sklearn.metrics.average_precision_score", "cvbook.metrics.average_precision"):
    ap = average_precision_ranked([1, 0, 1, 1, 0, 0, 1, 0, 0, 1])  # the worked example
    assert isinstance(ap, float), f"expected a Python float, got {type(ap).__name__}"
    if np.isclose(ap, np.mean([1, 0.5, 2 / 3, 3 / 4, 0.6, 0.5, 4 / 7, 0.5, 4 / 9, 0.5])):
        raise AssertionError(
            "[1, 0, 1, 1, 0, 0, 1, 0, 0, 1]: you averaged the precision at every rank; only the ranks "
            "where recall rises (the 1s) count"
        )
    assert np.isclose(ap, (1 + 2 / 3 + 3 / 4 + 4 / 7 + 5 / 10) / 5), (
        f"[1, 0, 1, 1, 0, 0, 1, 0, 0, 1]: expected (1 + 2/3 + 3/4 + 4/7 + 5/10) / 5 = 0.6976, got {ap}"
    )
    ap7 = average_precision_ranked([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], num_positives=7)
    assert np.isclose(ap7, (1 + 2 / 3 + 3 / 4 + 4 / 7 + 5 / 10) / 7), (
        f"the same list with num_positives=7: each recall step is 1/7, expected 0.4983, got {ap7}"
    )
    ap = average_precision_ranked([1, 1, 0, 0])
    assert ap == 1.0, f"[1, 1, 0, 0] (all hits first): expected AP 1.0, got {ap}"
    ap = average_precision_ranked([0, 0, 0, 1])
    assert np.isclose(ap, 0.25), f"[0, 0, 0, 1] (one hit at rank 4): expected AP = 1/4, got {ap}"
    ap = average_precision_ranked([], num_positives=3)
    assert ap == 0.0, f"[] with num_positives=3 (nothing detected, 3 objects): expected AP 0.0, got {ap!r}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import average_precision_score as _ap_score

from cvbook.metrics import average_precision as _cvbook_ap

_rng = np.random.default_rng(83)
for _n in (1, 2, 5, 20, 200):
    _ranked = (_rng.random(_n) < 0.4).astype(int)
    _ranked[0] = 1 if _n == 1 else _ranked[0]
    if _ranked.sum() == 0:
        _ranked[-1] = 1
    _scores = np.arange(_n, 0, -1, dtype=float)
    with refusing("sklearn.metrics.average_precision_score", "cvbook.metrics.average_precision"):
        _got = average_precision_ranked(_ranked)
    assert np.isclose(_got, _ap_score(_ranked, _scores)), (
        f"a random list of {_n}: expected {_ap_score(_ranked, _scores)}, got {_got}"
    )
    assert np.isclose(average_precision_ranked(list(_ranked)), _got), "a Python list must work like an array"
    _extra = int(_rng.integers(1, 5))
    _want = _cvbook_ap(_scores, _ranked, num_positives=int(_ranked.sum()) + _extra)
    _got = average_precision_ranked(_ranked, num_positives=int(_ranked.sum()) + _extra)
    assert np.isclose(_got, _want), f"with {_extra} positives never ranked: expected {_want}, got {_got}"
assert average_precision_ranked([0, 0], num_positives=2) == 0.0, (
    "[0, 0] with num_positives=2 (only false detections): AP 0"
)
assert np.isclose(average_precision_ranked([0, 1, 0, 1]), (1 / 2 + 2 / 4) / 2), "[0, 1, 0, 1]: expected (1/2 + 2/4) / 2"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex3_ap_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of average_precision_ranked: the ValueErrors (1 point).
with expect_error(ValueError, "[0, 0, 0], a list with no positives (P = 0: recall is undefined)"):
    average_precision_ranked([0, 0, 0])
with expect_error(ValueError, "[1, 2, 0], an entry that is not 0 or 1"):
    average_precision_ranked([1, 2, 0])
with expect_error(ValueError, "[1, 1, 0] with num_positives=1, fewer positives than the 2 hits in the list"):
    average_precision_ranked([1, 1, 0], num_positives=1)
for args in (([], 3), ([0, 0], 2), ([1, 1, 0], 2)):
    try:
        average_precision_ranked(*args)
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, (
        f"average_precision_ranked{args} is valid (num_positives >= the hits and > 0), "
        f"but it raised ValueError: {refused}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in (([0, 2, 1],), ([0, 0],), ([1, 1], 1), ([], None), ([], 0), ([1, 0, 1], 0), ([0.5, 1],)):
    with expect_error(ValueError, f"average_precision_ranked{_args}"):
        average_precision_ranked(*_args)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: macro and micro F1 (3 points)
#
# With $K$ classes, class $k$ has its own counts: $TP_k$ (class $k$ predicted as $k$), $FP_k$
# (another class predicted as $k$) and $FN_k$ (class $k$ predicted as another class), and its
# own $F_{1,k} = 2TP_k / (2TP_k + FP_k + FN_k)$ (0 when the denominator is 0). The **macro**
# $F_1$ is the plain mean of the $K$ values $F_{1,k}$; the **micro** $F_1$ applies the same
# formula to the summed counts $\sum_k TP_k$, $\sum_k FP_k$, $\sum_k FN_k$.
#
# `macro_micro_f1(y_true, y_pred, num_classes)`
# : `y_true` and `y_pred` are 1-D integer arrays (or lists) of the same length $N \ge 1$
#   with labels in $0 \ldots K-1$, `num_classes` is $K$; every class counts in the macro
#   mean, even one that appears in neither array. Return `(macro, micro)` as two Python
#   `float`s. Raise `ValueError` if the lengths differ, if the arrays are empty, or if a
#   label (in either array) is outside $0 \ldots K-1$. Compute it yourself: the tests make
#   scikit-learn's `f1_score` and `precision_recall_fscore_support` raise while your
#   function runs.
#
#   Graded in two parts: the two means (2 points), the `ValueError`s (1 point).
#
# Worked example: the chapter's three classes with supports 90, 9 and 1:
#
# ```python
# >>> y_true = [0] * 90 + [1] * 9 + [2]
# >>> y_pred = [0] * 90 + [1] * 5 + [0] * 4 + [0]
# >>> macro_micro_f1(y_true, y_pred, 3)
# (0.5624195624195624, 0.95)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def macro_micro_f1(y_true, y_pred, num_classes):
    """(macro F1, micro F1) of single-label predictions over num_classes classes."""
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must be 1-D with the same length, got {y_true.shape} and {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("y_true is empty")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.min() < 0 or y.max() >= num_classes:
            raise ValueError(f"{name} has labels outside 0..{num_classes - 1}")
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    den = 2 * tp + fp + fn
    per_class = np.divide(2 * tp, den, out=np.zeros(num_classes), where=den > 0)
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    return float(per_class.mean()), float(micro)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_f1_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of macro_micro_f1: the two means (2 points).
y_true = [0] * 90 + [1] * 9 + [2]  # the worked example
y_pred = [0] * 90 + [1] * 5 + [0] * 4 + [0]
with refusing("sklearn.metrics.f1_score", "sklearn.metrics.precision_recall_fscore_support"):
    result = macro_micro_f1(y_true, y_pred, 3)
    assert isinstance(result, tuple) and len(result) == 2, f"expected a tuple (macro, micro), got {result!r}"
    assert all(isinstance(v, float) for v in result), (
        f"expected two Python floats, got {[type(v).__name__ for v in result]}"
    )
    macro, micro = result
    assert np.isclose(micro, 0.95), f"the worked example: micro F1 equals the accuracy, 95 / 100 = 0.95, got {micro}"
    if np.isclose(macro, 2 * 0.649 * 0.519 / (0.649 + 0.519), atol=1e-3):
        raise AssertionError(
            "the worked example: you took the harmonic mean of macro precision and macro recall; "
            "macro F1 is the mean of the per-class F1"
        )
    assert np.isclose(macro, (180 / 185 + 10 / 14 + 0) / 3), (
        f"the worked example: mean of the per-class F1 (0.973, 0.714, 0): expected 0.5622, got {macro}"
    )
    result = macro_micro_f1([0, 1, 2], [0, 1, 2], 3)
    assert result == (1.0, 1.0), f"y_true = y_pred = [0, 1, 2] (all correct): expected (1.0, 1.0), got {result}"
    result = macro_micro_f1([0, 1, 1], [0, 1, 1], 4)
    assert np.allclose(result, (0.5, 1.0)), (
        f"y_true = y_pred = [0, 1, 1] with num_classes=4: classes 2 and 3 never appear and count with F1 0 in the "
        f"macro mean, (1 + 1 + 0 + 0) / 4 = 0.5; expected (0.5, 1.0), got {result}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import f1_score as _f1_score

_rng = np.random.default_rng(84)
for _n, _k in ((10, 2), (50, 3), (300, 10), (7, 6)):
    _t = _rng.integers(0, _k, _n)
    _p = np.where(_rng.random(_n) < 0.5, _t, _rng.integers(0, _k, _n))
    with refusing("sklearn.metrics.f1_score", "sklearn.metrics.precision_recall_fscore_support"):
        _got = macro_micro_f1(_t, _p, _k)
    _want = (
        _f1_score(_t, _p, labels=list(range(_k)), average="macro", zero_division=0.0),
        _f1_score(_t, _p, labels=list(range(_k)), average="micro", zero_division=0.0),
    )
    assert np.allclose(_got, _want), f"{_n} random labels over {_k} classes: expected {_want}, got {_got}"
    assert np.allclose(macro_micro_f1(list(_t), list(_p), _k), _got), "lists must work like arrays"
assert np.allclose(macro_micro_f1([2, 2], [2, 0], 5), (2 / 3 / 5, 0.5)), (
    "y_true [2, 2], y_pred [2, 0], 5 classes: class 2 has F1 2/3, the other four 0; expected (0.1333, 0.5)"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex4_f1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of macro_micro_f1: the ValueErrors (1 point).
with expect_error(ValueError, "y_true = [0, 1, 3] with num_classes=3, a label outside 0..2"):
    macro_micro_f1([0, 1, 3], [0, 1, 2], 3)
with expect_error(ValueError, "y_pred = [0, 1, 3] with num_classes=3, a label outside 0..2"):
    macro_micro_f1([0, 1, 2], [0, 1, 3], 3)
with expect_error(ValueError, "y_true of length 2 and y_pred of length 1"):
    macro_micro_f1([0, 1], [0], 2)
with expect_error(ValueError, "empty arrays"):
    macro_micro_f1([], [], 2)
try:
    macro_micro_f1([0, 0], [0, 0], 3)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"macro_micro_f1([0, 0], [0, 0], 3) is valid (a class may appear in neither array), "
    f"but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in (([0, 1], [0, 1, 1], 2), ([0, -1], [0, 1], 2), ([0, 1], [0, -2], 2), ([0, 1], [0, 2], 2)):
    with expect_error(ValueError, f"macro_micro_f1{_args}"):
        macro_micro_f1(*_args)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: the ROC AUC as a ranking probability (3 points)
#
# The area under the ROC curve equals the probability that a randomly chosen positive gets
# a higher score than a randomly chosen negative, where a tie counts one half:
#
# $$\text{AUC} = \frac{1}{N_+ N_-} \sum_{i:\,y_i = 1} \; \sum_{j:\,y_j = 0}
#   \Big( [s_i > s_j] + \tfrac{1}{2} [s_i = s_j] \Big).$$
#
# `auc_by_pairs(scores, labels)`
# : `scores` is a 1-D float array, `labels` a 1-D array of 0s and 1s of the same length
#   (Python lists work too). Return the AUC above as a Python `float`, by comparing all
#   positive-negative pairs (broadcasting does it without a loop; a loop is allowed but
#   slow). Raise `ValueError` if the lengths differ or if `labels` lacks one of the two
#   classes (then there is no pair). Compute it yourself: the tests make scikit-learn's
#   `roc_auc_score` raise while your function runs.
#
#   Graded in two parts: the AUC (2 points), the `ValueError`s (1 point).
#
# Worked example: three positives and two negatives; of the six pairs, the positive wins
# three, ties one and loses two:
#
# ```python
# >>> auc_by_pairs(np.array([0.9, 0.7, 0.4, 0.4, 0.8]), np.array([1, 1, 1, 0, 0]))
# 0.5833333333333334
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def auc_by_pairs(scores, labels):
    """ROC AUC as P(score of a positive > score of a negative), ties counting 1/2."""
    ### BEGIN SOLUTION
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if scores.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(f"scores and labels must be 1-D with the same length, got {scores.shape} and {labels.shape}")
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if positives.size == 0 or negatives.size == 0:
        raise ValueError("labels must contain both classes")
    difference = positives[:, None] - negatives[None, :]
    return float(np.mean((difference > 0) + 0.5 * (difference == 0)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_pairs_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of auc_by_pairs: the AUC (2 points).
with refusing("sklearn.metrics.roc_auc_score"):
    auc = auc_by_pairs(np.array([0.9, 0.7, 0.4, 0.4, 0.8]), np.array([1, 1, 1, 0, 0]))  # the worked example
    assert isinstance(auc, float), f"expected a Python float, got {type(auc).__name__}"
    if np.isclose(auc, 3 / 6):
        raise AssertionError("the worked example: got 3/6; the tie 0.4 = 0.4 counts one half, not zero")
    if np.isclose(auc, 4 / 6):
        raise AssertionError("the worked example: got 4/6; the tie 0.4 = 0.4 counts one half, not one")
    assert np.isclose(auc, 3.5 / 6), (
        f"the worked example: expected (3 wins + 0.5 x 1 tie) / 6 pairs = 0.5833, got {auc}"
    )
    auc = auc_by_pairs(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0]))
    assert auc == 1.0, f"scores [0.9, 0.8, 0.1], labels [1, 1, 0] (a perfect ranking): expected AUC 1.0, got {auc}"
    auc = auc_by_pairs(np.array([0.1, 0.8, 0.9]), np.array([1, 1, 0]))
    assert auc == 0.0, f"scores [0.1, 0.8, 0.9], labels [1, 1, 0] (a reversed ranking): expected AUC 0.0, got {auc}"
    auc = auc_by_pairs([0.2, 0.9, 0.4], [0, 1, 1])
    assert np.isclose(auc, 1.0), f"lists [0.2, 0.9, 0.4] and [0, 1, 1] must work like arrays: expected 1.0, got {auc}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import roc_auc_score as _roc_auc_score

_rng = np.random.default_rng(85)
for _n in (2, 10, 100, 500):
    _labels = _rng.integers(0, 2, _n)
    _labels[:2] = [1, 0]
    _scores = np.round(_rng.normal(size=_n) + _labels, 1)  # many ties
    with refusing("sklearn.metrics.roc_auc_score"):
        _got = auc_by_pairs(_scores, _labels)
    assert np.isclose(_got, _roc_auc_score(_labels, _scores)), (
        f"{_n} samples: expected {_roc_auc_score(_labels, _scores)}, got {_got}"
    )
assert auc_by_pairs(np.full(4, 0.5), np.array([1, 0, 1, 0])) == 0.5, (
    "scores all 0.5, labels [1, 0, 1, 0] (all tied): AUC 0.5"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex5_pairs_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of auc_by_pairs: the ValueErrors (1 point).
with expect_error(ValueError, "labels [1, 1], with no negatives (there is no pair)"):
    auc_by_pairs(np.array([0.3, 0.2]), np.array([1, 1]))
with expect_error(ValueError, "3 scores and 2 labels (the lengths differ)"):
    auc_by_pairs(np.array([0.1, 0.2, 0.3]), np.array([0, 1]))
try:
    auc_by_pairs(np.full(4, 0.5), np.array([1, 0, 1, 0]))
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"scores all 0.5 with labels [1, 0, 1, 0] are valid (ties are allowed), but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in (
    (np.array([0.1, 0.2]), np.array([0, 0])),
    (np.array([0.1, 0.2]), np.array([0, 1, 1])),
    ([0.5, 0.4, 0.3], [1, 1, 1]),
):
    with expect_error(ValueError, f"auc_by_pairs{_args}"):
        auc_by_pairs(*_args)
### END HIDDEN TESTS

# %% [markdown]
# These are the pieces of every detection benchmark: Chapter 9 ranks the detections of one
# class by confidence, marks each as a hit or a miss by its overlap with the ground truth,
# and computes exactly the average precision of Exercise 3, with the objects that no
# detection found counted in `num_positives`; the mean over classes is the mAP.
