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
# # Chapter 3 exercises: building and training a CNN
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch03/ch03_exercises.ipynb)
#
# Five exercises on Chapter 3, *Building and training a CNN*: one step of gradient
# descent and the gradients of a line's mean squared error, a numerically stable
# cross-entropy loss, the forward pass of batch normalisation, the parameter counts of
# the lectures' network, and the training step that every PyTorch loop repeats.
# 16 points in all. Each exercise grades the computation and the errors it must
# raise in separate test cells, so a missing check costs only its own points.
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
#   `ch03_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch03_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import torch
from torch import nn

from cvbook import data
from cvbook.checks import expect_error, refusing
from cvbook.measured import claim

# Library functions that exercises 2 and 3 re-implement: they raise while those tests run.
CROSS_ENTROPY_LIBRARY = (
    "torch.logsumexp",
    "torch.log_softmax",
    "torch.nn.functional.log_softmax",
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
)
BATCH_NORM_LIBRARY = ("torch.nn.functional.batch_norm", "torch.batch_norm")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: gradient descent on a line (4 points)
#
# Gradient descent changes the parameters $\theta$ against the gradient of the loss,
# with a learning rate $\eta$: $\theta_{t+1} = \theta_t - \eta\, \nabla_\theta L(\theta_t)$.
# For the line $\hat{y}_i = m x_i + b$ and the mean squared error
# $L(m, b) = \frac{1}{N}\sum_i (y_i - \hat{y}_i)^2$ over $N$ points, the chain rule gives
#
# $$\frac{\partial L}{\partial m} = -\frac{2}{N}\sum_i x_i (y_i - \hat{y}_i), \qquad
# \frac{\partial L}{\partial b} = -\frac{2}{N}\sum_i (y_i - \hat{y}_i).$$
#
# `gd_step(theta, grad, lr)`
# : `theta` and `grad` are NumPy arrays, or both torch tensors, of the same shape;
#   `lr` is a float. Return $\theta - \eta \cdot \text{grad}$ as a **new** array (or
#   tensor) of the same type and shape. Do not change `theta` (no `theta -= ...`).
#   Raise `ValueError` if the shapes of `theta` and `grad` differ (NumPy would
#   broadcast a gradient of shape (1,) silently).
#
# `line_gradients(x, y, m, b)`
# : `x` and `y` are 1-D NumPy arrays of the same length $N \ge 1$, `m` and `b` floats.
#   Return the tuple `(dL_dm, dL_db)` of the two partial derivatives above, as Python
#   `float`s. Raise `ValueError` if `x` and `y` have different shapes or are empty.
#
# Points: `gd_step` 1, `line_gradients` 2, the `ValueError`s of both 1.
#
# Worked examples: the lecture's step from $\theta_0 = (1, 0)$ with the gradient
# $(0.1, -0.1)$ and $\eta = 0.001$, and the line $\hat{y} = x$ on three points of
# $y = 2x + 1$ (residuals 1, 2, 3):
#
# ```python
# >>> gd_step(np.array([1.0, 0.0]), np.array([0.1, -0.1]), lr=0.001)
# array([9.999e-01, 1.000e-04])
# >>> line_gradients(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), m=1.0, b=0.0)
# (-5.333333333333333, -4.0)
# ```
#
# Both gradients are negative: increasing $m$ and $b$ lowers the loss, and the step
# $-\eta \nabla L$ does exactly that.


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gd_step(theta, grad, lr):
    """One gradient-descent step: a new array (or tensor) theta - lr * grad, same shape as theta."""
    ### BEGIN SOLUTION
    if tuple(theta.shape) != tuple(grad.shape):
        raise ValueError(f"theta and grad must have the same shape, got {tuple(theta.shape)} and {tuple(grad.shape)}")
    return theta - lr * grad
    ### END SOLUTION


def line_gradients(x, y, m, b):
    """(dL/dm, dL/db) as floats for L = mean((y - (m x + b))**2) over 1-D arrays x, y of length N."""
    ### BEGIN SOLUTION
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise ValueError(f"x and y must be 1-D arrays of the same length N >= 1, got shapes {x.shape} and {y.shape}")
    residual = y - (m * x + b)
    return float(-2 * np.mean(x * residual)), float(-2 * np.mean(residual))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_gd_step_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of gd_step (1 point).
theta0 = np.array([1.0, 0.0])  # the lecture's worked step
theta1 = gd_step(theta0, np.array([0.1, -0.1]), lr=0.001)
assert isinstance(theta1, np.ndarray), f"NumPy in must give NumPy out, got {type(theta1).__name__}"
assert theta1.shape == (2,), f"expected shape (2,), got {theta1.shape}"
assert np.allclose(theta1, [0.9999, 0.0001], atol=1e-12), f"expected [0.9999, 0.0001], got {theta1.tolist()}"
assert np.array_equal(theta0, [1.0, 0.0]), f"gd_step must not change theta, which is now {theta0.tolist()}"
if np.allclose(gd_step(theta0, np.array([0.1, -0.1]), lr=0.5), [1.05, -0.05]):
    raise AssertionError("the step went up the gradient: theta - lr * grad, not theta + lr * grad")

theta = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # a torch tensor, e.g. a weight matrix
step = gd_step(theta, torch.full((2, 2), 10.0), lr=0.1)
assert isinstance(step, torch.Tensor), f"torch in must give torch out, got {type(step).__name__}"
expected = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
assert torch.allclose(step, expected), f"expected\n{expected}\ngot\n{step}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(31)
for _shape, _lr in [((5,), 0.1), ((3, 4), 1e-3), ((2, 3, 4), 2.5), ((1,), 0.0)]:
    _theta, _grad = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _before = _theta.copy()
    _got = gd_step(_theta, _grad, _lr)
    assert isinstance(_got, np.ndarray) and _got.shape == _shape, (
        f"shape {_shape}: expected a NumPy array of that shape"
    )
    assert np.allclose(_got, _before - _lr * _grad, atol=1e-12), f"shape {_shape}, lr={_lr}: wrong step"
    assert np.array_equal(_theta, _before), f"shape {_shape}: theta must not change"
    assert _got is not _theta, "return a new array, not theta itself"
_gen = torch.Generator().manual_seed(32)
for _shape, _lr in [((6,), 0.01), ((2, 5), 0.3)]:
    _theta, _grad = torch.randn(_shape, generator=_gen), torch.randn(_shape, generator=_gen)
    _before = _theta.clone()
    _got = gd_step(_theta, _grad, _lr)
    assert isinstance(_got, torch.Tensor) and tuple(_got.shape) == _shape, f"shape {_shape}: expected a tensor"
    assert torch.allclose(_got, _before - _lr * _grad, atol=1e-6), f"tensor of shape {_shape}, lr={_lr}: wrong step"
    assert torch.equal(_theta, _before), f"tensor of shape {_shape}: theta must not change"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_line_gradients_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of line_gradients (2 points).
x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])  # the worked example
grads = line_gradients(x, y, m=1.0, b=0.0)
assert isinstance(grads, tuple) and len(grads) == 2, f"expected a tuple (dL_dm, dL_db), got {grads!r}"
dm, db = grads
assert isinstance(dm, float) and isinstance(db, float), (
    f"expected two Python floats, got {type(dm).__name__} and {type(db).__name__} (use float(...))"
)
if np.isclose(dm, 16 / 3) and np.isclose(db, 4.0):
    raise AssertionError("wrong sign: the derivative of (y - y_hat)^2 with respect to y_hat is -2 (y - y_hat)")
if np.isclose(dm, -8 / 3) and np.isclose(db, -2.0):
    raise AssertionError("the factor 2 of the derivative of a square is missing")
if np.isclose(dm, -16.0) and np.isclose(db, -12.0):
    raise AssertionError("that is the gradient of the sum of squares: the loss is the mean (divide by N)")
assert np.isclose(dm, -16 / 3) and np.isclose(db, -4.0), f"expected (-5.3333, -4.0), got ({dm:.4f}, {db:.4f})"
dm, db = line_gradients(x, y, m=2.0, b=1.0)
assert abs(dm) < 1e-12 and abs(db) < 1e-12, f"the line y = 2x + 1 fits exactly: expected (0, 0), got ({dm}, {db})"
dm, db = line_gradients(np.array([1.0, -1.0]), np.array([0.0, 0.0]), m=0.0, b=0.5)
assert np.isclose(dm, 0.0) and np.isclose(db, 1.0), (
    f"x = [1, -1], y = 0, y_hat = 0.5: expected (0, 1), got ({dm}, {db})"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(33)
for _n in (1, 2, 7, 50):
    _x, _y = _rng.uniform(-2, 2, size=_n), _rng.normal(size=_n) * 3
    _m0, _b0 = float(_rng.normal()), float(_rng.normal())
    _m = torch.tensor(_m0, dtype=torch.float64, requires_grad=True)
    _b = torch.tensor(_b0, dtype=torch.float64, requires_grad=True)
    torch.mean((torch.from_numpy(_y) - (_m * torch.from_numpy(_x) + _b)) ** 2).backward()
    _got = line_gradients(_x, _y, _m0, _b0)
    assert isinstance(_got[0], float) and isinstance(_got[1], float), "expected Python floats"
    assert np.allclose(_got, (_m.grad.item(), _b.grad.item()), rtol=1e-9, atol=1e-12), (
        f"N = {_n}: expected {(_m.grad.item(), _b.grad.item())} (autograd), got {_got}"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of gd_step and line_gradients (1 point).
with expect_error(ValueError, "gd_step with theta of shape (2,) and grad of shape (1,) (NumPy would broadcast it)"):
    gd_step(np.array([1.0, 0.0]), np.array([0.1]), lr=0.001)
with expect_error(ValueError, "gd_step with tensors of shapes (2, 3) and (3, 2)"):
    gd_step(torch.zeros(2, 3), torch.zeros(3, 2), 0.1)
with expect_error(ValueError, "line_gradients with x of length 3 and y of length 2"):
    line_gradients(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0]), 1.0, 0.0)
with expect_error(ValueError, "line_gradients with empty x and y (N = 0: the mean is undefined)"):
    line_gradients(np.array([]), np.array([]), 1.0, 0.0)
for call, case in [
    (lambda: gd_step(np.array([1.0]), np.array([0.5]), lr=0.1), "gd_step with theta and grad of shape (1,)"),
    (lambda: line_gradients(np.array([2.0]), np.array([1.0]), 0.0, 0.0), "line_gradients with N = 1 point"),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "gd_step with arrays of shapes (3,) and (3, 1)"):
    gd_step(np.zeros(3), np.zeros((3, 1)), 0.1)
with expect_error(ValueError, "gd_step with tensors of shapes (4,) and (1,)"):
    gd_step(torch.zeros(4), torch.zeros(1), 0.1)
with expect_error(ValueError, "line_gradients with x of length 1 and y of length 4"):
    line_gradients(np.array([1.0]), np.zeros(4), 0.0, 0.0)
### END HIDDEN TESTS

# %% [markdown]
# With both functions, gradient descent on the chapter's noisy line $y = 3x + 2$ is a
# three-line loop. It should land on the exact least-squares fit of `np.polyfit`:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=50)
y = 3 * x + 2 + rng.normal(0, 0.3, size=50)
theta = np.array([0.0, 0.0])  # (m, b)
for _ in range(500):
    theta = gd_step(theta, np.array(line_gradients(x, y, theta[0], theta[1])), lr=0.1)
slope, intercept = np.polyfit(x, y, 1)
print(f"gradient descent: m = {theta[0]:.4f}, b = {theta[1]:.4f}")
print(f"least squares:    m = {slope:.4f}, b = {intercept:.4f}")
assert np.allclose(theta, [slope, intercept], atol=1e-4)

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: a numerically stable cross-entropy (3 points)
#
# A classifier outputs one score (logit) $z_j$ per class; the softmax turns them into
# probabilities $p_j = e^{z_j} / \sum_k e^{z_k}$ and the cross-entropy of an example with
# correct class $y$ is $-\log p_y = \log \sum_k e^{z_k} - z_y$. Written literally, the
# softmax overflows: $e^{1000}$ is `inf` in any float type, and the loss becomes `nan`.
# The **log-sum-exp trick** subtracts the largest logit first, which changes nothing
# mathematically but keeps every exponent $\le 0$:
#
# $$\log \sum_k e^{z_k} = z_{\max} + \log \sum_k e^{z_k - z_{\max}}.$$
#
# `cross_entropy(logits, labels)`
# : `logits` is a float tensor of shape (N, C), `labels` an integer tensor of shape (N,)
#   with values in $0, \dots, C-1$. Return the **mean** cross-entropy over the N examples
#   as a 0-dimensional tensor of the dtype of `logits`. Use torch operations only
#   (autograd must be able to differentiate it), use the trick above, and do not call
#   `torch.logsumexp`, `torch.log_softmax`, `F.log_softmax`, `F.cross_entropy` or
#   `nn.CrossEntropyLoss` (they raise an error while the tests run). Do not change
#   `logits`. Raise `ValueError` if `logits` does not have 2 dimensions or `labels` does
#   not have shape (N,).
#
# Points: the loss, its dtype and its gradient 2, the `ValueError`s 1.
#
# Worked example (first example: $\log(e^2 + e^1 + e^0) - 2 = 0.4076$; second: $\log 3 = 1.0986$):
#
# ```python
# >>> cross_entropy(torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), torch.tensor([0, 2]))
# tensor(0.7531)
# >>> cross_entropy(torch.tensor([[1000.0, 0.0], [0.0, -1000.0]]), torch.tensor([1, 0]))
# tensor(500.)
# ```
#
# Hint: `logits.max(dim=1, keepdim=True).values`, and `logits[torch.arange(N), labels]`
# picks each example's logit of the correct class.


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (N, C) against integer labels (N,); a 0-dim tensor."""
    ### BEGIN SOLUTION
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {tuple(logits.shape)}")
    if tuple(labels.shape) != (logits.shape[0],):
        raise ValueError(f"labels must have shape ({logits.shape[0]},), got {tuple(labels.shape)}")
    z_max = logits.max(dim=1, keepdim=True).values.detach()
    log_sum_exp = z_max.squeeze(1) + torch.log(torch.exp(logits - z_max).sum(dim=1))
    correct = logits[torch.arange(logits.shape[0]), labels]
    return (log_sum_exp - correct).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_cross_entropy_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of cross_entropy (2 points).
logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)  # the worked example
labels = torch.tensor([0, 2])
with refusing(*CROSS_ENTROPY_LIBRARY):
    loss = cross_entropy(logits, labels)
assert isinstance(loss, torch.Tensor), f"expected a torch.Tensor, got {type(loss).__name__}"
assert loss.ndim == 0, f"expected a 0-dimensional tensor (one number), got shape {tuple(loss.shape)}"
if abs(loss.item() - 2 * 0.7531) < 1e-3:
    raise AssertionError("the worked example gave 1.5062, the sum over the examples: return the mean (0.7531)")
assert abs(loss.item() - 0.7531) < 1e-4, f"worked example: expected 0.7531, got {loss.item():.4f}"
assert loss.requires_grad, (
    "the loss must be differentiable: torch operations only, no .item(), NumPy or torch.tensor(...)"
)
loss.backward()
expected = (torch.softmax(logits.detach(), dim=1) - torch.eye(3)[labels]) / 2  # d(mean loss)/d logits
assert torch.allclose(logits.grad, expected, atol=1e-6), (
    f"worked example: the gradient must be (softmax - one_hot(labels)) / N =\n{expected}\ngot\n{logits.grad}"
)
big = torch.tensor([[1000.0, 0.0], [0.0, -1000.0]])
with refusing(*CROSS_ENTROPY_LIBRARY):
    loss = cross_entropy(big, torch.tensor([1, 0]))
assert torch.isfinite(loss), f"logits of 1000 gave {loss.item()}: subtract each row's largest logit before exp"
assert abs(loss.item() - 500.0) < 1e-3, (
    f"logits [[1000, 0], [0, -1000]]: expected 500.0 (= (1000 + 0) / 2), got {loss.item()}"
)
assert torch.equal(big, torch.tensor([[1000.0, 0.0], [0.0, -1000.0]])), "cross_entropy must not change logits"

logits = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))  # the chapter's example
with refusing(*CROSS_ENTROPY_LIBRARY):
    loss = cross_entropy(logits, torch.tensor([3, 0, 4, 1]))
    loss_zero_labels = cross_entropy(logits, torch.tensor([0, 0, 0, 0]))
    loss64 = cross_entropy(logits.double(), torch.tensor([3, 0, 4, 1]))
assert abs(loss.item() - 2.3215) < 1e-4, (
    f"the chapter's logits, labels [3, 0, 4, 1]: expected 2.3215, got {loss.item():.4f}"
)
assert abs(loss_zero_labels.item() - 2.8141) < 1e-4, (
    f"labels all 0: expected 2.8141, got {loss_zero_labels.item():.4f} (index each row with its own label)"
)
assert loss64.dtype == torch.float64, (
    f"float64 logits must give a float64 loss (the dtype of logits), got {loss64.dtype}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(34)
for _n, _c, _scale, _dtype in [
    (8, 10, 1.0, torch.float32),
    (1, 3, 5.0, torch.float32),
    (5, 1, 1.0, torch.float32),
    (16, 7, 1000.0, torch.float32),
    (6, 4, 3.0, torch.float64),
    (3, 6, 1000.0, torch.float64),
]:
    _logits = (torch.randn(_n, _c, generator=_gen) * _scale).to(_dtype)
    _labels = torch.randint(0, _c, (_n,), generator=_gen)
    _mine = _logits.clone().requires_grad_()
    _ref = _logits.clone().requires_grad_()
    with refusing(*CROSS_ENTROPY_LIBRARY):
        _got = cross_entropy(_mine, _labels)
    _want = _F.cross_entropy(_ref, _labels)
    assert _got.ndim == 0 and _got.dtype == _dtype, f"({_n}, {_c}) {_dtype}: expected a 0-dim {_dtype} tensor"
    assert torch.isfinite(_got), f"({_n}, {_c}) logits of scale {_scale}: got {_got.item()} (overflow?)"
    assert torch.allclose(_got, _want, rtol=1e-5, atol=1e-4), (
        f"({_n}, {_c}), scale {_scale}: expected {_want.item():.6f} (F.cross_entropy), got {_got.item():.6f}"
    )
    assert _got.requires_grad, (
        "the loss must be differentiable: torch operations only, no .item(), NumPy or torch.tensor(...)"
    )
    _got.backward()
    _want.backward()
    assert torch.allclose(_mine.grad, _ref.grad, atol=1e-5), f"({_n}, {_c}): gradient differs from F.cross_entropy's"
_logits = torch.randn(4, 3, generator=_gen) + 1e4  # all logits huge and close together
_labels = torch.tensor([2, 0, 1, 1])
with refusing(*CROSS_ENTROPY_LIBRARY):
    _got = cross_entropy(_logits, _labels)
assert torch.allclose(_got, _F.cross_entropy(_logits, _labels), atol=1e-2), (
    f"logits around 10,000: expected {_F.cross_entropy(_logits, _labels).item():.4f}, got {_got.item():.4f}"
)
_logits = torch.tensor([[-1000.0, -1001.0], [-1000.0, -1000.0]])  # all very negative: exp underflows to 0
with refusing(*CROSS_ENTROPY_LIBRARY):
    _got = cross_entropy(_logits, torch.tensor([0, 1]))
assert torch.allclose(_got, _F.cross_entropy(_logits, torch.tensor([0, 1]))), (
    f"logits around -1000: expected {_F.cross_entropy(_logits, torch.tensor([0, 1])).item():.4f}, got {_got.item()}"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of cross_entropy (1 point).
with expect_error(ValueError, "logits of shape (5,) (one example must be a row of shape (1, C))"):
    cross_entropy(torch.zeros(5), torch.tensor([0]))
with expect_error(ValueError, "4 rows of logits but 3 labels"):
    cross_entropy(torch.zeros(4, 5), torch.tensor([0, 1, 2]))
for call, case in [
    (
        lambda: cross_entropy(torch.zeros(1, 3), torch.tensor([2])),
        "cross_entropy of one example, logits (1, 3) and labels (1,)",
    ),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "labels of shape (2, 1) for 2 rows of logits"):
    cross_entropy(torch.zeros(2, 3), torch.tensor([[0], [1]]))
with expect_error(ValueError, "logits of shape (2, 3, 4)"):
    cross_entropy(torch.zeros(2, 3, 4), torch.tensor([0, 1]))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: batch normalisation, forward pass (3 points)
#
# In training mode, batch normalisation standardises each channel $c$ of a batch of
# feature maps $x$ of shape (N, C, H, W) over its $N \cdot H \cdot W$ values, then rescales
# and shifts it with the learnt $\gamma_c$ and $\beta_c$:
#
# $$\mu_c = \frac{1}{NHW}\sum_{n,h,w} x_{nchw}, \qquad \sigma_c^2 = \frac{1}{NHW}\sum_{n,h,w}(x_{nchw} - \mu_c)^2,
# \qquad y_{nchw} = \gamma_c \frac{x_{nchw} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c.$$
#
# `batchnorm_forward(x, gamma, beta, eps=1e-5)`
# : `x` is a float tensor of shape (N, C, H, W); `gamma` and `beta` are tensors of shape
#   (C,). Return the tuple `(y, mean, var)`: `y` has the shape and dtype of `x`; `mean`
#   and `var` have shape (C,), and `var` is the **biased** variance above (divide by
#   $NHW$, not $NHW - 1$). Note where $\epsilon$ goes: inside the square root. Use torch
#   operations only (autograd must be able to differentiate `y`), and do not call
#   `nn.BatchNorm2d` or `F.batch_norm` (they raise an error while the tests run). A
#   float64 `x` gives float64 results. A constant channel has variance 0: thanks to
#   $\epsilon$ its `y` is exactly $\beta_c$, not NaN. Do not change `x`. Raise `ValueError`
#   if `x` does not have 4 dimensions or `gamma` or `beta` does not have shape (C,).
#
# Points: the computation 2, the `ValueError`s 1.
#
# Worked example, one channel with the four values 1, 3, 5, 7 ($\mu = 4$, $\sigma^2 = 5$),
# $\gamma = 2$, $\beta = 1$ and, to keep the numbers simple, $\epsilon = 0$:
#
# ```python
# >>> x = torch.tensor([1.0, 3.0, 5.0, 7.0]).view(2, 1, 1, 2)   # N=2, C=1, H=1, W=2
# >>> y, mean, var = batchnorm_forward(x, torch.tensor([2.0]), torch.tensor([1.0]), eps=0.0)
# >>> mean, var
# (tensor([4.]), tensor([5.]))
# >>> y.flatten()                                  # 2 * (x - 4) / sqrt(5) + 1
# tensor([-1.6833,  0.1056,  1.8944,  3.6833])
# ```
#
# Hint: reduce over `dim=(0, 2, 3)` and reshape the per-channel vectors to (1, C, 1, 1)
# to broadcast them.


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, C, H, W); return (y, mean (C,), biased var (C,))."""
    ### BEGIN SOLUTION
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    channels = x.shape[1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if tuple(value.shape) != (channels,):
            raise ValueError(f"{name} must have shape ({channels},), got {tuple(value.shape)}")
    mean = x.mean(dim=(0, 2, 3))
    var = ((x - mean.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3))
    x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)
    return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1), mean, var
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_batchnorm_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of batchnorm_forward (2 points).
x = torch.tensor([1.0, 3.0, 5.0, 7.0]).view(2, 1, 1, 2)  # the worked example
with refusing(*BATCH_NORM_LIBRARY):
    result = batchnorm_forward(x, torch.tensor([2.0]), torch.tensor([1.0]), eps=0.0)
assert isinstance(result, tuple) and len(result) == 3, "expected a tuple (y, mean, var)"
y, mean, var = result
assert tuple(y.shape) == (2, 1, 1, 2), f"y must have the shape of x, (2, 1, 1, 2), got {tuple(y.shape)}"
assert tuple(mean.shape) == (1,) and tuple(var.shape) == (1,), (
    f"mean and var must have shape (C,) = (1,), got {tuple(mean.shape)} and {tuple(var.shape)}"
)
assert torch.allclose(mean, torch.tensor([4.0])), f"expected mean [4.], got {mean}"
if torch.allclose(var, torch.tensor([20 / 3])):
    raise AssertionError("var is the unbiased variance (divided by NHW - 1 = 3): batch norm divides by NHW = 4")
assert torch.allclose(var, torch.tensor([5.0])), f"expected var [5.], got {var}"
expected = torch.tensor([-1.6833, 0.1056, 1.8944, 3.6833])
assert torch.allclose(y.flatten(), expected, atol=1e-4), f"expected y.flatten() = {expected}, got {y.flatten()}"

x = torch.tensor([0.0, 0.0, 0.0, 2.0]).view(4, 1, 1, 1)  # mean 0.5, var 0.75
y, _, _ = batchnorm_forward(x, torch.ones(1), torch.zeros(1), eps=0.25)
assert torch.allclose(y.flatten(), torch.tensor([-0.5, -0.5, -0.5, 1.5])), (
    f"eps = 0.25 and var = 0.75 must give (x - 0.5) / sqrt(1.0), got {y.flatten()} (eps goes inside the square root)"
)

generator = torch.Generator().manual_seed(0)
x = torch.randn(6, 3, 4, 5, generator=generator) * torch.tensor([1.0, 10.0, 0.1]).view(1, 3, 1, 1) + 5.0
before = x.clone()
y, mean, var = batchnorm_forward(x, torch.ones(3), torch.zeros(3))
assert tuple(y.shape) == (6, 3, 4, 5), f"expected shape (6, 3, 4, 5), got {tuple(y.shape)}"
assert torch.allclose(mean, x.mean(dim=(0, 2, 3)), atol=1e-5), "mean must be taken per channel over N, H and W"
out_mean, out_var = y.mean(dim=(0, 2, 3)), y.var(dim=(0, 2, 3), unbiased=False)
assert torch.allclose(out_mean, torch.zeros(3), atol=1e-5), (
    f"with gamma = 1, beta = 0 every channel of y must have mean 0, got {out_mean}"
)
assert torch.allclose(out_var, torch.ones(3), atol=1e-2), (
    f"with gamma = 1, beta = 0 every channel of y must have variance 1, got {out_var}"
)
assert torch.equal(x, before), "batchnorm_forward must not change x"
y2, _, _ = batchnorm_forward(x, torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, -1.0, 4.0]))
assert torch.allclose(
    y2, y * torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1) + torch.tensor([0.0, -1.0, 4.0]).view(1, 3, 1, 1), atol=1e-5
), "gamma[c] must scale and beta[c] shift channel c of the normalised x"

x = torch.zeros(3, 2, 1, 2, dtype=torch.float64)
x[:, 0] = torch.tensor([1.0, 2.0]).view(1, 1, 2) * torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
x[:, 1] = 7.0  # a constant channel: variance 0
x.requires_grad_()
with refusing(*BATCH_NORM_LIBRARY):
    y, mean, var = batchnorm_forward(
        x, torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([0.0, -2.0], dtype=torch.float64)
    )
assert y.dtype == torch.float64, f"a float64 x must give a float64 y, got {y.dtype}"
assert torch.isfinite(y).all(), f"a constant channel gave {y[:, 1].flatten()}: eps inside the square root avoids 0 / 0"
assert torch.allclose(y[:, 1], torch.full_like(y[:, 1], -2.0)), (
    f"a constant channel must give y = beta = -2 everywhere, got {y[:, 1].flatten()}"
)
assert y.requires_grad, "y must be differentiable with respect to x: torch operations only (no NumPy, no .item())"
(y[:, 0] ** 2).sum().backward()
assert x.grad is not None and torch.isfinite(x.grad).all(), "y must be differentiable with respect to x"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(35)
for _shape, _eps, _dtype in [
    ((4, 2, 3, 3), 1e-5, torch.float32),
    ((1, 5, 2, 3), 1e-5, torch.float32),
    ((3, 1, 1, 4), 1e-3, torch.float64),
    ((2, 4, 5, 1), 0.5, torch.float64),
]:
    _c = _shape[1]
    _x = (torch.randn(_shape, generator=_gen) * 3 + 2).to(_dtype)
    _gamma = torch.randn(_c, generator=_gen).to(_dtype)
    _beta = torch.randn(_c, generator=_gen).to(_dtype)
    _bn = torch.nn.BatchNorm2d(_c, eps=_eps).to(_dtype).train()
    with torch.no_grad():
        _bn.weight.copy_(_gamma)
        _bn.bias.copy_(_beta)
    _x_mine, _x_ref = _x.clone().requires_grad_(), _x.clone().requires_grad_()
    with refusing(*BATCH_NORM_LIBRARY):
        _y, _mean, _var = batchnorm_forward(_x_mine, _gamma, _beta, eps=_eps)
    _want = _bn(_x_ref)
    assert _y.dtype == _dtype and tuple(_y.shape) == _shape, f"{_shape} {_dtype}: y must keep the shape and dtype of x"
    assert torch.allclose(_y, _want, atol=1e-4), f"x of shape {_shape}, eps={_eps}: y differs from nn.BatchNorm2d"
    assert torch.allclose(_mean, _x.mean(dim=(0, 2, 3)), atol=1e-5), f"{_shape}: wrong mean"
    assert torch.allclose(_var, _x.var(dim=(0, 2, 3), unbiased=False), atol=1e-4), f"{_shape}: wrong (biased) var"
    _weights = torch.randn(_shape, generator=_gen).to(_dtype)
    (_y * _weights).sum().backward()
    (_want * _weights).sum().backward()
    assert _x_mine.grad is not None, "y must be differentiable with respect to x (torch operations only)"
    assert torch.allclose(_x_mine.grad, _x_ref.grad, atol=1e-4), f"{_shape}: the gradient differs from nn.BatchNorm2d's"
_x = torch.zeros(3, 2, 2, 2)
_x[:, 1] = 7.0  # constant channels: var 0, y = beta
_y, _mean, _var = batchnorm_forward(_x, torch.tensor([3.0, 3.0]), torch.tensor([0.5, -2.0]))
assert torch.isfinite(_y).all(), "a constant channel must not give NaN (eps keeps the denominator positive)"
assert torch.allclose(_y[:, 0], torch.full_like(_y[:, 0], 0.5)) and torch.allclose(
    _y[:, 1], torch.full_like(_y[:, 1], -2.0)
), "a constant channel must give y = beta"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of batchnorm_forward (1 point).
x = torch.zeros(6, 3, 4, 5)
with expect_error(ValueError, "x of shape (6, 3, 20) (batch norm needs (N, C, H, W))"):
    batchnorm_forward(x.view(6, 3, 20), torch.ones(3), torch.zeros(3))
with expect_error(ValueError, "gamma of shape (4,) for x with 3 channels"):
    batchnorm_forward(x, torch.ones(4), torch.zeros(3))
with expect_error(ValueError, "beta of shape (2,) for x with 3 channels"):
    batchnorm_forward(x, torch.ones(3), torch.zeros(2))
for call, case in [
    (
        lambda: batchnorm_forward(torch.randn(2, 3, 1, 1), torch.ones(3), torch.zeros(3)),
        "batchnorm_forward of x (2, 3, 1, 1), gamma and beta (3,)",
    ),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "beta of shape (1, 2)"):
    batchnorm_forward(torch.zeros(3, 2, 2, 2), torch.ones(2), torch.zeros(1, 2))
with expect_error(ValueError, "gamma of shape () for x with 1 channel"):
    batchnorm_forward(torch.zeros(3, 1, 2, 2), torch.tensor(1.0), torch.zeros(1))
with expect_error(ValueError, "x of shape (2, 3, 4, 5, 6)"):
    batchnorm_forward(torch.zeros(2, 3, 4, 5, 6), torch.ones(3), torch.zeros(3))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: counting the parameters of a CNN (3 points)
#
# A convolutional layer with `n_filters` filters of size $f \times f$ over `n_c` input
# channels learns $f \cdot f \cdot n_c$ weights plus one bias per filter; a fully connected
# layer from $n_{in}$ to $n_{out}$ units learns an $n_{out} \times n_{in}$ weight matrix
# plus $n_{out}$ biases. Pooling, activation and flatten layers learn nothing.
#
# `conv_params(f, n_c, n_filters)` and `fc_params(n_in, n_out)`
# : Return, as Python `int`s, the number of learnable parameters (weights and biases)
#   of such a layer. Raise `ValueError` if an argument is not a positive `int`: `0`,
#   `-1`, `5.0`, `"5"` and also `True` (a `bool` is an `int` in Python, but not a size)
#   are all refused.
#
# `lecture_network_params()`
# : The lectures' network for 32 × 32 × 3 images is CONV 5 × 5 with 8 filters,
#   max-POOL 2 × 2, CONV 5 × 5 with 16 filters, POOL 2 × 2, FLATTEN, FC 120, FC 84 and
#   FC 10 (the softmax layer). Return the list of the parameter counts of its five
#   layers with parameters, in order, **computed by calling `conv_params` and
#   `fc_params`** (the first FC layer's input size is what the flatten layer produces:
#   work it out from the sizes of the feature maps, stride 1 and no padding). Its
#   tests run it with the book's own `conv_params` and `fc_params` in place of yours,
#   so a slip in those costs their points only.
#
# Points: the counts 1, the `ValueError`s 1, `lecture_network_params` 1.
#
# Worked example:
#
# ```python
# >>> conv_params(5, 3, 8)      # (5 * 5 * 3 + 1) * 8
# 608
# >>> fc_params(120, 84)        # 120 * 84 + 84
# 10164
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_params(f, n_c, n_filters):
    """Parameters of a conv layer with n_filters filters of size f x f over n_c channels, biases included."""
    ### BEGIN SOLUTION
    for name, value in (("f", f), ("n_c", n_c), ("n_filters", n_filters)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return (f * f * n_c + 1) * n_filters
    ### END SOLUTION


def fc_params(n_in, n_out):
    """Parameters of a fully connected layer from n_in to n_out units, biases included."""
    ### BEGIN SOLUTION
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return n_in * n_out + n_out
    ### END SOLUTION


def lecture_network_params():
    """Parameter counts of the 5 layers with parameters of the lectures' 32 x 32 x 3 network."""
    ### BEGIN SOLUTION
    size = 32
    size = (size - 5 + 1) // 2  # CONV 5x5, POOL 2: 32 -> 28 -> 14
    size = (size - 5 + 1) // 2  # CONV 5x5, POOL 2: 14 -> 10 -> 5
    flat = size * size * 16
    return [conv_params(5, 3, 8), conv_params(5, 8, 16), fc_params(flat, 120), fc_params(120, 84), fc_params(84, 10)]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_counts_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_params and fc_params (1 point).
count = conv_params(5, 3, 8)  # the worked example
assert isinstance(count, int), f"expected a Python int, got {type(count).__name__}"
if count == 600:
    raise AssertionError("conv_params(5, 3, 8) gave 600: the 8 biases (one per filter) are missing")
assert count == 608, f"conv_params(5, 3, 8): expected 608 = (5*5*3 + 1) * 8, got {count}"
count = fc_params(120, 84)
assert isinstance(count, int), f"expected a Python int, got {type(count).__name__}"
if count == 120 * 84 + 120:
    raise AssertionError("fc_params(120, 84): one bias per output unit (84), not per input")
assert count == 10_164, f"fc_params(120, 84): expected 10,164 = 120*84 + 84, got {count}"
count = conv_params(3, 64, 128)
assert count == 73_856, f"conv_params(3, 64, 128): expected 73,856, got {count} (do all filters see all n_c channels?)"
assert conv_params(1, 1, 1) == 2, f"a 1 x 1 filter on one channel has 1 weight and 1 bias, got {conv_params(1, 1, 1)}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

_rng = np.random.default_rng(36)
for _ in range(6):
    _f, _n_c, _n_filters = (int(_v) for _v in _rng.integers(1, 12, size=3))
    _n_c, _n_filters = _n_c * 7, _n_filters * 5  # channel counts that differ from f
    _want = sum(_p.numel() for _p in _nn.Conv2d(_n_c, _n_filters, _f, device="meta").parameters())
    _got = conv_params(_f, _n_c, _n_filters)
    assert isinstance(_got, int) and _got == _want, (
        f"conv_params({_f}, {_n_c}, {_n_filters}): expected {_want} (nn.Conv2d), got {_got}"
    )
    _n_in, _n_out = (int(_v) for _v in _rng.integers(1, 5000, size=2))
    _want = sum(_p.numel() for _p in _nn.Linear(_n_in, _n_out, device="meta").parameters())
    _got = fc_params(_n_in, _n_out)
    assert isinstance(_got, int) and _got == _want, (
        f"fc_params({_n_in}, {_n_out}): expected {_want} (nn.Linear), got {_got}"
    )
assert fc_params(1, 1) == 2 and fc_params(9216, 4096) == 37_752_832, "fc_params of AlexNet's first FC layer is wrong"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of conv_params and fc_params (1 point).
for args in [(0, 3, 8), (5, -1, 8), (5.0, 3, 8), (True, 3, 8)]:
    with expect_error(ValueError, f"conv_params{args} (every size must be a positive int, and not a bool)"):
        conv_params(*args)
for args in [(120, 2.5), (0, 84), (120, True)]:
    with expect_error(ValueError, f"fc_params{args} (every size must be a positive int, and not a bool)"):
        fc_params(*args)
for call, case in [
    (lambda: conv_params(1, 1, 1), "conv_params(1, 1, 1)"),
    (lambda: fc_params(1, 1), "fc_params(1, 1)"),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input (sizes of 1 are positive ints), but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in [(-1, 3, 8), (5, 0, 8), (5, 3, -2), (5, 3, 8.0), (5, False, 8), ("5", 3, 8)]:
    with expect_error(ValueError, f"conv_params{_args}"):
        conv_params(*_args)
for _args in [(10, 0), (-3, 4), ("10", 4), (10, 4.0), (False, 4)]:
    with expect_error(ValueError, f"fc_params{_args}"):
        fc_params(*_args)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_lecture_network_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of lecture_network_params (1 point). It runs with the book's counts in place of your
# conv_params and fc_params, shifted by 1,000,000 (conv) and 2,000,000 (FC) so that the test
# sees that every count was computed by calling them, not typed in.
LECTURE_LAYERS = {
    "conv_params": {(5, 3, 8): 608, (5, 8, 16): 3216},
    "fc_params": {(400, 120): 48_120, (120, 84): 10_164, (84, 10): 850},
}


def lecture_probe(name, parameters, shift):
    """A stand-in for conv_params or fc_params that knows the lecture network's layers only."""
    import inspect

    signature = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in parameters])

    def probe(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        key = tuple(bound.arguments[p] for p in parameters)
        if key not in LECTURE_LAYERS[name]:
            raise AssertionError(
                f"lecture_network_params called {name}{key}, which is not a layer of the lectures' "
                f"network; its layers are {name}{list(LECTURE_LAYERS[name])} (32 -> 28 -> 14 -> 10 -> 5: "
                "the flatten layer gives 5 * 5 * 16 = 400 inputs)"
            )
        return LECTURE_LAYERS[name][key] + shift

    return probe


yours = conv_params, fc_params
conv_params = lecture_probe("conv_params", ("f", "n_c", "n_filters"), 1_000_000)
fc_params = lecture_probe("fc_params", ("n_in", "n_out"), 2_000_000)
try:
    counts = lecture_network_params()
finally:
    conv_params, fc_params = yours
expected = [608, 3216, 48_120, 10_164, 850]
shifted = [c + 1_000_000 for c in expected[:2]] + [c + 2_000_000 for c in expected[2:]]
assert isinstance(counts, list), f"expected a list, got {type(counts).__name__}"
assert len(counts) == 5, f"expected 5 counts (CONV1, CONV2, FC3, FC4, softmax), got {len(counts)}: {counts}"
if counts == expected:
    raise AssertionError(
        "the counts are right but were not computed by calling conv_params and fc_params "
        "(the test's stand-ins, which return them shifted by 1,000,000 and 2,000,000, were not used)"
    )
assert counts == shifted, (
    f"expected {shifted}: the stand-ins' counts of the five layers, in order (CONV1, CONV2, "
    f"FC3, FC4, softmax), got {counts}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.models import summary as _summary

_net = _nn.Sequential(
    _nn.Conv2d(3, 8, 5),
    _nn.ReLU(),
    _nn.MaxPool2d(2),
    _nn.Conv2d(8, 16, 5),
    _nn.ReLU(),
    _nn.MaxPool2d(2),
    _nn.Flatten(),
    _nn.Linear(400, 120),
    _nn.ReLU(),
    _nn.Linear(120, 84),
    _nn.ReLU(),
    _nn.Linear(84, 10),
)
_want = [_row.parameters for _row in _summary(_net, (3, 32, 32)).rows if _row.parameters]
assert _want == expected, f"the lecture network's counts are {_want} (models.summary)"
### END HIDDEN TESTS

# %% [markdown]
# The whole network, with the totals (62,958 parameters, most of them in the first
# fully connected layer):

# %%
# NBVAL_CHECK_OUTPUT
counts = lecture_network_params()
for name, count in zip(["CONV1", "CONV2", "FC3", "FC4", "softmax"], counts):
    print(f"{name:8s} {count:7,}  {count / sum(counts):6.1%}")
print(f"{'total':8s} {sum(counts):7,}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: one training step (3 points)
#
# Every PyTorch training loop repeats the same five lines for each mini-batch. Write
# them once:
#
# `train_step(model, x, y, optimizer, loss_fn)`
# : `model` is an `nn.Module`, `x` a batch of inputs and `y` their targets, `optimizer`
#   a `torch.optim` optimiser over the model's parameters, `loss_fn` a loss such as
#   `nn.CrossEntropyLoss()`, called as `loss_fn(outputs, y)`. Put the model in training
#   mode (`model.train()`: a model may come back from an evaluation in `eval` mode, and
#   dropout and batch norm behave differently in the two), clear the old gradients,
#   compute the outputs and the loss, back-propagate, and let the optimiser take its
#   step. Return the loss of this batch (computed before the step) as a Python `float`.
#   Do not change `x` or `y`.
#
# The order matters: PyTorch **adds** every new gradient to the `.grad` the parameters
# already hold, so the gradients must be cleared (`optimizer.zero_grad()`) *before*
# `loss.backward()`, on every call. Forget it and each step uses the sum of all past
# gradients (the lecture's snippet has exactly that bug).
#
# Worked example:
#
# ```python
# >>> torch.manual_seed(0)
# >>> model = nn.Linear(2, 1)
# >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
# >>> x, y = torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]])
# >>> train_step(model, x, y, optimizer, nn.MSELoss())     # (model(x) - 1)^2 before the step
# 0.6866...
# >>> train_step(model, x, y, optimizer, nn.MSELoss())     # lower after one step
# 0.0274...
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_step(model, x, y, optimizer, loss_fn):
    """One optimisation step of model on the batch (x, y); return the batch's loss as a float."""
    ### BEGIN SOLUTION
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_train_step_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of train_step (3 points).
def sgd_prediction(model, x, y, loss_fn, lr):
    """What one plain SGD step should do: (loss, new parameters), without touching the model."""
    params = list(model.parameters())
    loss = loss_fn(model(x), y)
    grads = torch.autograd.grad(loss, params)
    return loss.item(), [(p - lr * g).detach() for p, g in zip(params, grads)]


torch.manual_seed(0)  # the worked example
model = nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses = [
    train_step(model, torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]]), optimizer, nn.MSELoss()) for _ in range(2)
]
assert all(isinstance(loss, float) for loss in losses), (
    f"expected Python floats (use loss.item()), got {[type(loss).__name__ for loss in losses]}"
)
if np.isclose(losses[0], losses[1]):
    raise AssertionError(
        f"worked example: both calls gave the loss {losses[0]:.4f}, so the step changed nothing "
        "(is optimizer.step() missing, or optimizer.zero_grad() called between backward() and step()?)"
    )
assert np.allclose(losses, [0.6866, 0.0275], atol=1e-4), (
    f"worked example: expected losses [0.6866, 0.0275], got {losses}"
)

torch.manual_seed(0)
model = nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(5, 3), torch.randn(5, 2)
loss_fn = nn.MSELoss()
for step in (1, 2, 3):
    expected_loss, expected_params = sgd_prediction(model, x, y, loss_fn, lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    loss = train_step(model, x, y, optimizer, loss_fn)
    assert isinstance(loss, float), f"expected a Python float (use loss.item()), got {type(loss).__name__}"
    assert abs(loss - expected_loss) < 1e-5, (
        f"step {step}: expected the loss before the step, {expected_loss:.5f}, got {loss:.5f}"
    )
    for (name, p), p0, want in zip(model.named_parameters(), before, expected_params):
        assert not torch.equal(p.detach(), p0), f"step {step}: {name} did not change (did you call optimizer.step()?)"
        assert torch.allclose(p.detach(), want, atol=1e-6), (
            f"step {step}: {name} is not p - lr * grad of this batch"
            + (" (the gradients accumulated across calls: call optimizer.zero_grad() first)" if step > 1 else "")
        )

model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
model.eval()  # as after an evaluation
train_step(model, x, y, torch.optim.SGD(model.parameters(), lr=0.1), loss_fn)
assert model.training, "train_step must put the model in training mode (model.train())"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import copy as _copy


def _reference_step(_model, _x, _y, _optimizer, _loss_fn):
    _model.train()
    _optimizer.zero_grad()
    _loss = _loss_fn(_model(_x), _y)
    _loss.backward()
    _optimizer.step()
    return _loss.item()


# A small CNN, cross-entropy and Adam: the student's step must use the given loss and optimiser.
torch.manual_seed(37)
_mine = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
_ref = _copy.deepcopy(_mine)
_opt_mine, _opt_ref = torch.optim.Adam(_mine.parameters(), lr=0.01), torch.optim.Adam(_ref.parameters(), lr=0.01)
_x, _y = torch.randn(6, 1, 6, 6), torch.randint(0, 4, (6,))
_x_before = _x.clone()
for _k in range(4):
    _loss_fn = nn.CrossEntropyLoss()
    _got, _want = train_step(_mine, _x, _y, _opt_mine, _loss_fn), _reference_step(_ref, _x, _y, _opt_ref, _loss_fn)
    assert isinstance(_got, float), f"expected a float, got {type(_got).__name__}"
    assert abs(_got - _want) < 1e-5, f"Adam, step {_k + 1}: expected loss {_want:.5f}, got {_got:.5f}"
    for (_name, _p), _q in zip(_mine.named_parameters(), _ref.parameters()):
        assert torch.allclose(_p, _q, atol=1e-6), f"Adam, step {_k + 1}: {_name} differs from the expected step"
assert torch.equal(_x, _x_before), "train_step must not change x"

# Stale gradients from an earlier backward() must not leak into the step (zero_grad before backward).
torch.manual_seed(38)
_mine = nn.Linear(4, 3)
_ref = _copy.deepcopy(_mine)
_x, _y = torch.randn(8, 4), torch.randn(8, 3)
(_mine(_x) ** 2).sum().backward()  # leaves .grad filled
_opt_mine, _opt_ref = torch.optim.SGD(_mine.parameters(), lr=0.05), torch.optim.SGD(_ref.parameters(), lr=0.05)
train_step(_mine, _x, _y, _opt_mine, nn.MSELoss())
_reference_step(_ref, _x, _y, _opt_ref, nn.MSELoss())
for _p, _q in zip(_mine.parameters(), _ref.parameters()):
    assert torch.allclose(_p, _q, atol=1e-6), (
        "gradients left over from before the call were used: call optimizer.zero_grad() before loss.backward()"
    )

# A model with batch norm, in eval mode before the call: the step must use batch statistics.
torch.manual_seed(39)
_mine = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 2)).eval()
_ref = _copy.deepcopy(_mine)
_x, _y = torch.randn(5, 1, 5, 5), torch.randint(0, 2, (5,))
_got = train_step(_mine, _x, _y, torch.optim.SGD(_mine.parameters(), lr=0.1), nn.CrossEntropyLoss())
_want = _reference_step(_ref, _x, _y, torch.optim.SGD(_ref.parameters(), lr=0.1), nn.CrossEntropyLoss())
assert abs(_got - _want) < 1e-5, f"batch-norm model: expected loss {_want:.5f} (training mode), got {_got:.5f}"
assert _mine.training and all(_m.training for _m in _mine.modules()), "every layer must be in training mode"
### END HIDDEN TESTS

# %% [markdown]
# `train_step` is the heart of every training loop (the package's `train.fit` wraps the
# same lines with evaluation, metrics and a progress bar). Here it trains a small CNN on
# the 8 × 8 digits of Chapter 1 for 5 epochs:

# %%
torch.manual_seed(0)
digits_train, digits_test = data.load_digits("train"), data.load_digits("test")
cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 2 * 2, 10),
)
optimizer = torch.optim.Adam(cnn.parameters(), lr=3e-3)
for epoch in range(1, 6):
    losses = [
        train_step(cnn, images, labels, optimizer, nn.CrossEntropyLoss())
        for images, labels in data.make_loader(digits_train, 32, shuffle=True, seed=epoch)
    ]
    cnn.eval()
    with torch.no_grad():
        accuracy = (cnn(digits_test.images).argmax(dim=1) == digits_test.targets).float().mean().item()
    print(f"epoch {epoch}: mean training loss {np.mean(losses):.2f}, test accuracy {accuracy:.2f}")
_ = claim("ch03ex.train_step_cnn.test_accuracy", accuracy, low=0.9)

# %% [markdown]
# Chapter 4 puts such layers together into the classic architectures, from LeNet-5 to
# ResNet, and the training loop stays the same.
