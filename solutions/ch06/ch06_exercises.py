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
# # Chapter 6 exercises: efficient networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch06/ch06_exercises.ipynb)
#
# Six exercises on Chapter 6, *Efficient networks: MobileNet cost arithmetic and
# EfficientNet*: the cost of a standard convolution (the lecture's 2,160), the cost of
# its depthwise-separable replacement (432 + 240 = 672), a MobileNet layer with the
# width and resolution multipliers (the paper's 462 / 52.3 / 29.6 / 15.1 million
# mult-adds), MobileNet v2's inverted residual block, EfficientNet's compound scaling,
# and a mult-add counter for whole models built with forward hooks. 18 points in all.
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
#   `ch06_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch06_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
from torch import nn

from cvbook.checks import expect_error, zero_parameters
from cvbook.models import count_parameters

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: the cost of a standard convolution (2 points)
#
# The lecture counts the multiplications of a convolution layer as
#
# $$\text{cost} = \#\,\text{filter params} \times \#\,\text{filter positions} \times \#\,\text{filters}
#   = (f \cdot f \cdot n_c) \times (n_\text{out} \cdot n_\text{out}) \times n_c',$$
#
# where $n_\text{out} = \lfloor (n_\text{in} + 2p - f) / s \rfloor + 1$ is the output's
# height and width, $n_c$ the input channels and $n_c'$ the number of filters. Each
# multiplication comes with one addition, so this is also the number of
# *multiply-adds* (mult-adds), the unit of the MobileNet paper.
#
# `conv_cost(n_in, f, c_in, n_filters, stride=1, padding=0)`
# : a convolution with `n_filters` filters of size `f` × `f` × `c_in` applied with
#   `stride` and `padding` to an `n_in` × `n_in` × `c_in` input. Return the tuple
#   `(mult_adds, params)` of two Python `int`s: the mult-adds above and the number of
#   weights $f \cdot f \cdot n_c \cdot n_c'$ (weights only: biases are not counted, as
#   in the papers). Raise `ValueError` if `n_in`, `f`, `c_in`, `n_filters` or `stride`
#   is not a positive `int` (a `bool` is not one), if `padding` is not an `int` ≥ 0,
#   or if the filter does not fit in the padded input ($f > n_\text{in} + 2p$; a filter
#   exactly as large as the padded input fits once).
#
#   Graded in two parts: the two counts (1 point), the `ValueError`s (1 point).
#
# Worked example: the lecture's 6 × 6 × 3 input and five 3 × 3 × 3 filters, 4 × 4
# positions each:
#
# ```python
# >>> conv_cost(6, 3, 3, 5)                 # 3*3*3 x 4*4 x 5
# (2160, 135)
# >>> conv_cost(14, 3, 512, 512, padding=1)  # a MobileNet-sized layer: 462 million mult-adds
# (462422016, 2359296)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_cost(n_in, f, c_in, n_filters, stride=1, padding=0):
    """(mult_adds, params) of a standard f x f convolution with n_filters filters on an n_in x n_in x c_in input."""
    ### BEGIN SOLUTION
    for name, value in dict(n_in=n_in, f=f, c_in=c_in, n_filters=n_filters, stride=stride).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    if f > n_in + 2 * padding:
        raise ValueError(f"a {f} x {f} filter does not fit in a padded input of {n_in + 2 * padding}")
    n_out = (n_in + 2 * padding - f) // stride + 1
    params = f * f * c_in * n_filters
    return f * f * c_in * n_out * n_out * n_filters, params
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_conv_cost_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_cost: the two counts (1 point).
cost = conv_cost(6, 3, 3, 5)  # the worked example
assert isinstance(cost, tuple) and len(cost) == 2, (
    f"conv_cost(6, 3, 3, 5): expected a tuple (mult_adds, params), got {cost!r}"
)
mult_adds, params = cost
assert isinstance(mult_adds, int) and isinstance(params, int), (
    f"conv_cost(6, 3, 3, 5): expected two Python ints, got {type(mult_adds).__name__} and {type(params).__name__}"
)
if mult_adds == 3 * 3 * 3 * 6 * 6 * 5:
    raise AssertionError(
        "conv_cost(6, 3, 3, 5): got 4,860; the filter fits in 4 x 4 positions of a 6 x 6 input, not 6 x 6"
    )
if mult_adds == 3 * 3 * 4 * 4 * 5:
    raise AssertionError("conv_cost(6, 3, 3, 5): got 720; each filter has f * f * c_in = 27 parameters, not f * f = 9")
assert mult_adds == 2_160, f"conv_cost(6, 3, 3, 5): expected 2,160 = (3*3*3) x (4*4) x 5 mult-adds, got {mult_adds:,}"
if params == 140:
    raise AssertionError("conv_cost(6, 3, 3, 5): got 140 parameters; count the weights only, not the 5 biases")
assert params == 135, f"conv_cost(6, 3, 3, 5): expected 135 = 3*3*3 * 5 weights, got {params:,}"
cost = conv_cost(14, 3, 512, 512, padding=1)
assert cost == (462_422_016, 2_359_296), (
    f"conv_cost(14, 3, 512, 512, padding=1): expected (462422016, 2359296), got {cost}"
)
cost = conv_cost(7, 3, 2, 4, stride=2)
assert cost == (3 * 3 * 2 * 3 * 3 * 4, 72), (
    f"conv_cost(7, 3, 2, 4, stride=2): floor((7 - 3) / 2) + 1 = 3, so 3 x 3 positions; expected (648, 72), got {cost}"
)
cost = conv_cost(8, 3, 1, 1, stride=3)
assert cost == (9 * 2 * 2, 9), (
    f"conv_cost(8, 3, 1, 1, stride=3): floor((8 - 3) / 3) + 1 = 2 (round down); expected (36, 9), got {cost}"
)
cost = conv_cost(3, 5, 2, 2, padding=1)
assert cost == (5 * 5 * 2 * 1 * 2, 100), (
    f"conv_cost(3, 5, 2, 2, padding=1): a 5 x 5 filter fits once in a 3 x 3 input "
    f"padded by 1; expected (100, 100), got {cost}"
)
assert conv_cost(1, 1, 1, 1) == (1, 1), (
    "conv_cost(1, 1, 1, 1): one 1 x 1 filter on one pixel of one channel, expected (1, 1)"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.cost import count_mult_adds as _count_mult_adds

_gen = torch.Generator().manual_seed(61)
for _ in range(10):
    _n, _c_in, _c_out = (int(_v) for _v in torch.randint(1, 60, (3,), generator=_gen))
    _f = int(torch.randint(1, 8, (1,), generator=_gen))
    _stride = int(torch.randint(1, 4, (1,), generator=_gen))
    _padding = int(torch.randint(0, 3, (1,), generator=_gen))
    if _f > _n + 2 * _padding:
        _n = _f
    with torch.device("meta"):
        _conv = nn.Conv2d(_c_in, _c_out, _f, stride=_stride, padding=_padding)
    _want = (_count_mult_adds(_conv, (_c_in, _n, _n), device="meta"), _conv.weight.numel())
    _got = conv_cost(_n, _f, _c_in, _c_out, stride=_stride, padding=_padding)
    assert _got == _want and all(isinstance(_v, int) for _v in _got), (
        f"conv_cost({_n}, {_f}, {_c_in}, {_c_out}, stride={_stride}, padding={_padding}): expected {_want}, got {_got!r}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex1_conv_cost_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_cost: the ValueErrors (1 point).
with expect_error(ValueError, "conv_cost(5, 7, 3, 8): a 7 x 7 filter does not fit in a 5 x 5 input without padding"):
    conv_cost(5, 7, 3, 8)
with expect_error(ValueError, "conv_cost(6, 3, 3, 0): n_filters = 0 is not a positive int"):
    conv_cost(6, 3, 3, 0)
with expect_error(ValueError, "conv_cost(6, 3, True, 5): c_in = True (a bool is not an int here)"):
    conv_cost(6, 3, True, 5)
with expect_error(ValueError, "conv_cost(6, 3.0, 3, 5): f = 3.0 is not an int"):
    conv_cost(6, 3.0, 3, 5)
with expect_error(ValueError, "conv_cost(6, 3, 3, 5, padding=-1): padding must be >= 0"):
    conv_cost(6, 3, 3, 5, padding=-1)
for args, kwargs in [((5, 7, 3, 8), {"padding": 1}), ((6, 3, 3, 5), {"padding": 0})]:
    try:
        conv_cost(*args, **kwargs)
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, (
        f"conv_cost{args} with {kwargs} is valid (the filter fits in the padded input), "
        f"but it raised ValueError: {refused}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [
    ((0, 3, 3, 5), {}),
    ((6, 3, 3, 5), {"stride": 0}),
    ((6, 3, 3, 5), {"padding": -2}),
    ((6, 2.5, 3, 5), {}),
    ((6, 3, 3, True), {}),
    ((6, 3, 3, "5"), {}),
    ((6, 3, 3, 5), {"padding": 0.5}),
    ((4, 7, 3, 5), {"padding": 1}),
    ((6, 3, 3, 5), {"stride": True}),
    ((6.0, 3, 3, 5), {}),
]:
    with expect_error(ValueError, f"conv_cost{_args} {_kwargs}"):
        conv_cost(*_args, **_kwargs)
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: the cost of a depthwise-separable convolution (3 points)
#
# A depthwise-separable convolution replaces the standard one by two steps:
#
# 1. **depthwise**: one $f \times f$ filter per input channel, each applied to its own
#    channel only (`c_in` filters of size $f \times f \times 1$), giving
#    $n_\text{out} \times n_\text{out} \times n_c$;
# 2. **pointwise**: `n_filters` 1 × 1 × $n_c$ filters on that result, which mix the
#    channels and give the same $n_\text{out} \times n_\text{out} \times n_c'$ output as
#    the standard convolution.
#
# `separable_conv_cost(n_in, f, c_in, n_filters, padding=0)`
# : the mult-adds of both steps (stride 1) on an `n_in` × `n_in` × `c_in` input, as
#   the tuple `(depthwise, pointwise, total)` of three Python `int`s, with
#   `total = depthwise + pointwise`. Raise `ValueError` for the same invalid
#   arguments as `conv_cost` (`n_in`, `f`, `c_in`, `n_filters` positive `int`s, not
#   `bool`s; `padding` an `int` ≥ 0; the filter must fit in the padded input).
#
#   Graded in two parts: the three counts (2 points), the `ValueError`s (1 point).
#
# Worked examples: the lecture's 6 × 6 × 3 input with five filters, and its
# 128 × 128 × 4 input with ten 3 × 3 filters and "same" padding, where the depthwise
# part is the same 589,824 mult-adds whatever the number of filters:
#
# ```python
# >>> separable_conv_cost(6, 3, 3, 5)
# (432, 240, 672)
# >>> 672 / conv_cost(6, 3, 3, 5)[0]
# 0.3111111111111111
# >>> separable_conv_cost(128, 3, 4, 10, padding=1)
# (589824, 655360, 1245184)
# ```
#
# The ratio is always $\frac{1}{n_c'} + \frac{1}{f^2}$ ($\frac{1}{5} + \frac{1}{9} = 0.311$
# here): with many filters a 3 × 3 separable convolution costs about 9 times less.
# Hint: each step is a convolution whose cost the formula of Exercise 1 gives. (The
# tests of this exercise do not need your `conv_cost`; if you call it here, a mistake
# in it costs points here too.)


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def separable_conv_cost(n_in, f, c_in, n_filters, padding=0):
    """(depthwise, pointwise, total) mult-adds of a depthwise-separable convolution, stride 1."""
    ### BEGIN SOLUTION
    for name, value in dict(n_in=n_in, f=f, c_in=c_in, n_filters=n_filters).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    if f > n_in + 2 * padding:
        raise ValueError(f"a {f} x {f} filter does not fit in a padded input of {n_in + 2 * padding}")
    n_out = n_in + 2 * padding - f + 1
    depthwise = (f * f * 1) * (n_out * n_out) * c_in  # c_in filters of f x f x 1
    pointwise = (1 * 1 * c_in) * (n_out * n_out) * n_filters
    return depthwise, pointwise, depthwise + pointwise
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_separable_cost_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of separable_conv_cost: the three counts (2 points).
cost = separable_conv_cost(6, 3, 3, 5)  # the worked example
assert isinstance(cost, tuple) and len(cost) == 3, (
    f"separable_conv_cost(6, 3, 3, 5): expected a tuple (depthwise, pointwise, total), got {cost!r}"
)
assert all(isinstance(v, int) for v in cost), (
    f"separable_conv_cost(6, 3, 3, 5): expected three Python ints, got {[type(v).__name__ for v in cost]}"
)
depthwise, pointwise, total = cost
if depthwise == 3 * 3 * 3 * 4 * 4 * 3:
    raise AssertionError(
        "separable_conv_cost(6, 3, 3, 5): got 1,296 for the depthwise step; each depthwise filter is "
        "f x f x 1 (it sees one channel), not f x f x c_in"
    )
assert depthwise == 432, (
    f"separable_conv_cost(6, 3, 3, 5): depthwise expected 432 = (3*3) x (4*4) x 3, got {depthwise:,}"
)
if pointwise == 3 * 6 * 6 * 5:
    raise AssertionError(
        "separable_conv_cost(6, 3, 3, 5): got 540 for the pointwise step; it runs on the depthwise "
        "output (4 x 4), not on the 6 x 6 input"
    )
assert pointwise == 240, (
    f"separable_conv_cost(6, 3, 3, 5): pointwise expected 240 = (1*1*3) x (4*4) x 5, got {pointwise:,}"
)
assert total == depthwise + pointwise, f"total must be depthwise + pointwise = {depthwise + pointwise:,}, got {total:,}"
assert math.isclose(total / 2_160, 1 / 5 + 1 / 9, rel_tol=1e-9), (
    f"the ratio to the standard convolution's 2,160 mult-adds must be 1/5 + 1/9 = 0.311, got {total / 2_160:.3f}"
)
cost = separable_conv_cost(128, 3, 4, 10, padding=1)
assert cost == (589_824, 655_360, 1_245_184), (
    f"separable_conv_cost(128, 3, 4, 10, padding=1): expected (589824, 655360, 1245184), got {cost}"
)
cost = separable_conv_cost(128, 3, 4, 1, padding=1)
assert cost[0] == 589_824, (
    f"separable_conv_cost(128, 3, 4, 1, padding=1): the depthwise cost does not depend on "
    f"n_filters, expected 589,824, got {cost[0]:,}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.cost import conv_mult_adds as _conv_mult_adds, count_mult_adds as _count_mult_adds

_gen = torch.Generator().manual_seed(62)
for _ in range(10):
    _n, _c_in, _c_out = (int(_v) for _v in torch.randint(1, 70, (3,), generator=_gen))
    _f = int(torch.randint(1, 8, (1,), generator=_gen))
    _padding = int(torch.randint(0, 4, (1,), generator=_gen))
    if _f > _n + 2 * _padding:
        _n = _f
    with torch.device("meta"):
        _dw = nn.Conv2d(_c_in, _c_in, _f, padding=_padding, groups=_c_in)
        _pw = nn.Conv2d(_c_in, _c_out, 1)
    _want_dw = _count_mult_adds(_dw, (_c_in, _n, _n), device="meta")
    _n_out = _n + 2 * _padding - _f + 1
    _want_pw = _count_mult_adds(_pw, (_c_in, _n_out, _n_out), device="meta")
    _want = (_want_dw, _want_pw, _want_dw + _want_pw)
    _got = separable_conv_cost(_n, _f, _c_in, _c_out, padding=_padding)
    assert _got == _want and all(isinstance(_v, int) for _v in _got), (
        f"separable_conv_cost({_n}, {_f}, {_c_in}, {_c_out}, padding={_padding}): expected {_want}, got {_got!r}"
    )
    _ratio = _got[2] / _conv_mult_adds(_n_out, _n_out, _c_out, _f, _c_in)
    assert math.isclose(_ratio, 1 / _c_out + 1 / _f**2, rel_tol=1e-9), (
        f"separable_conv_cost({_n}, {_f}, {_c_in}, {_c_out}, padding={_padding}): the ratio to a standard convolution "
        f"must be 1/n_c' + 1/f^2"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex2_separable_cost_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of separable_conv_cost: the ValueErrors (1 point).
with expect_error(ValueError, "separable_conv_cost(3, 5, 4, 10): a 5 x 5 filter does not fit in a 3 x 3 input"):
    separable_conv_cost(3, 5, 4, 10)
with expect_error(ValueError, "separable_conv_cost(6, 3, 0, 5): c_in = 0 is not a positive int"):
    separable_conv_cost(6, 3, 0, 5)
with expect_error(ValueError, "separable_conv_cost(6, 3, 3, True): n_filters = True (a bool is not an int here)"):
    separable_conv_cost(6, 3, 3, True)
try:
    separable_conv_cost(3, 5, 4, 10, padding=1)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"separable_conv_cost(3, 5, 4, 10, padding=1) is valid (the 5 x 5 filter fits once in the "
    f"padded 5 x 5 input), but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [
    ((0, 3, 3, 5), {}),
    ((6, 3, 0, 5), {}),
    ((6, 3, 3, 5), {"padding": -2}),
    ((6, 3, 3, 5.0), {}),
    ((6, 9, 3, 5), {"padding": 1}),
    ((6, True, 3, 5), {}),
    ((6, 3, 3, 5), {"padding": 1.0}),
]:
    with expect_error(ValueError, f"separable_conv_cost{_args} {_kwargs}"):
        separable_conv_cost(*_args, **_kwargs)
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: a MobileNet layer with width and resolution multipliers (3 points)
#
# In Howard et al.'s notation a MobileNet layer takes $M$ channels to $N$ channels on
# a $D_F \times D_F$ feature map ("same" padding, stride 1) with $D_K \times D_K$
# depthwise filters. Two hyperparameters shrink it further: the **width multiplier**
# $\alpha \in (0, 1]$ thins every layer ($M \to \alpha M$, $N \to \alpha N$) and the
# **resolution multiplier** $\rho \in (0, 1]$ shrinks the image, hence every feature
# map ($D_F \to \rho D_F$):
#
# $$\text{mult-adds} = \underbrace{D_K^2 \cdot \alpha M \cdot (\rho D_F)^2}_\text{depthwise}
#   + \underbrace{\alpha M \cdot \alpha N \cdot (\rho D_F)^2}_\text{pointwise}, \qquad
#   \text{params} = D_K^2 \cdot \alpha M + \alpha M \cdot \alpha N.$$
#
# `mobilenet_layer_cost(d_k, m, n, d_f, alpha=1.0, rho=1.0)`
# : the tuple `(mult_adds, params)` of Python `int`s of such a depthwise-separable
#   layer (weights only, no biases or batch norm). Channels and feature maps are whole
#   numbers: use `round(alpha * m)`, `round(alpha * n)` and `round(rho * d_f)`
#   (Python's `round`, not `int`, which cuts 9.996 down to 9), each at least 1 (a size
#   that rounds to 0 becomes 1), in the formulas. Raise `ValueError` if `alpha` or `rho`
#   is not in $(0, 1]$ (1 itself is allowed).
#
#   Graded in two parts: the two counts (2 points), the `ValueError`s (1 point).
#
# Worked example: the paper's Table 3 layer ($D_K = 3$, $M = N = 512$, $D_F = 14$);
# $\rho = 0.714$ is the resolution 160 of a 224 network, $D_F = 10$:
#
# ```python
# >>> mobilenet_layer_cost(3, 512, 512, 14)                        # 52.3 M mult-adds, 0.27 M params
# (52283392, 266752)
# >>> mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75)            # 29.6 M, 0.15 M
# (29578752, 150912)
# >>> mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75, rho=0.714)  # 15.1 M, 0.15 M
# (15091200, 150912)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mobilenet_layer_cost(d_k, m, n, d_f, alpha=1.0, rho=1.0):
    """(mult_adds, params) of a depthwise-separable layer with width multiplier alpha and resolution multiplier rho."""
    ### BEGIN SOLUTION
    for name, value in dict(alpha=alpha, rho=rho).items():
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    m, n, d_f = max(1, round(alpha * m)), max(1, round(alpha * n)), max(1, round(rho * d_f))
    mult_adds = d_k * d_k * m * d_f * d_f + m * n * d_f * d_f
    return mult_adds, d_k * d_k * m + m * n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_mobilenet_layer_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of mobilenet_layer_cost: the two counts (2 points).
cost = mobilenet_layer_cost(3, 512, 512, 14)  # the worked example
assert isinstance(cost, tuple) and len(cost) == 2, (
    f"mobilenet_layer_cost(3, 512, 512, 14): expected a tuple (mult_adds, params), got {cost!r}"
)
assert all(isinstance(v, int) for v in cost), (
    f"mobilenet_layer_cost(3, 512, 512, 14): expected two Python ints, got {[type(v).__name__ for v in cost]}"
)
assert cost == (52_283_392, 266_752), (
    f"mobilenet_layer_cost(3, 512, 512, 14) (Table 3, separable row): expected (52283392, 266752), got {cost}"
)
cost = mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75)
if cost[0] == 3 * 3 * 384 * 196 + 384 * 512 * 196:
    raise AssertionError(
        "mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75): alpha thins both the input channels M "
        "and the output channels N"
    )
assert cost == (29_578_752, 150_912), (
    f"mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75): expected (29578752, 150912), got {cost}"
)
cost = mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75, rho=0.714)
assert all(isinstance(v, int) for v in cost), (
    f"alpha = 0.75, rho = 0.714: expected two Python ints, got {[type(v).__name__ for v in cost]} (round the scaled sizes)"
)
if cost[0] == 15_076_139:
    raise AssertionError(
        "alpha = 0.75, rho = 0.714: round rho * D_F to a whole feature map size (10) before squaring it"
    )
if cost[0] == 3 * 3 * 384 * 81 + 384 * 384 * 81:
    raise AssertionError(
        "alpha = 0.75, rho = 0.714: rho * D_F = 9.996 must round to 10 (Python's round), int() cuts it down to 9"
    )
assert cost == (15_091_200, 150_912), (
    f"mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75, rho=0.714): expected (15091200, 150912), got {cost}"
)
cost = mobilenet_layer_cost(3, 512, 512, 14, rho=0.5)
assert cost[1] == 266_752, (
    f"rho = 0.5 changes the mult-adds, not the parameters: expected 266,752 params, got {cost[1]:,}"
)
cost = mobilenet_layer_cost(5, 32, 64, 7)
assert cost == (5 * 5 * 32 * 49 + 32 * 64 * 49, 25 * 32 + 32 * 64), (
    f"mobilenet_layer_cost(5, 32, 64, 7): expected (139,552, 2,848), got {cost}"
)
cost = mobilenet_layer_cost(3, 2, 2, 2, alpha=0.1, rho=0.1)
assert cost == (9 + 1, 9 + 1), (
    f"mobilenet_layer_cost(3, 2, 2, 2, alpha=0.1, rho=0.1): every scaled size rounds to 0 "
    f"and becomes 1, expected (10, 10), got {cost}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.cost import count_mult_adds as _count_mult_adds, separable_cost as _separable_cost

_gen = torch.Generator().manual_seed(63)
_checked = 0
while _checked < 12:
    _m, _n = (int(_v) for _v in torch.randint(1, 600, (2,), generator=_gen))
    _d_f = int(torch.randint(1, 60, (1,), generator=_gen))
    _d_k = int(torch.randint(0, 3, (1,), generator=_gen)) * 2 + 1
    _alpha = [1.0, 0.75, 0.5, 0.25, 0.6, 0.9][int(torch.randint(0, 6, (1,), generator=_gen))]
    _rho = [1.0, 0.857, 0.714, 0.571, 0.3][int(torch.randint(0, 5, (1,), generator=_gen))]
    if any(abs((_a * _b) % 1 - 0.5) < 1e-9 for _a, _b in [(_alpha, _m), (_alpha, _n), (_rho, _d_f)]):
        continue  # halfway cases: Python's round and "round half up" differ, don't test them
    _checked += 1
    _want = _separable_cost(_d_k, _m, _n, _d_f, alpha=_alpha, rho=_rho)
    _got = mobilenet_layer_cost(_d_k, _m, _n, _d_f, alpha=_alpha, rho=_rho)
    assert _got == (_want.mult_adds, _want.params) and all(isinstance(_v, int) for _v in _got), (
        f"mobilenet_layer_cost({_d_k}, {_m}, {_n}, {_d_f}, alpha={_alpha}, rho={_rho}): "
        f"expected {(_want.mult_adds, _want.params)}, got {_got!r}"
    )
for _d_k, _m, _n, _d_f in [(3, 32, 64, 112), (3, 1024, 1024, 7), (1, 5, 3, 2), (7, 17, 9, 5)]:
    with torch.device("meta"):
        _layer = nn.Sequential(
            nn.Conv2d(_m, _m, _d_k, padding=_d_k // 2, groups=_m, bias=False), nn.Conv2d(_m, _n, 1, bias=False)
        )
    _want = (_count_mult_adds(_layer, (_m, _d_f, _d_f), device="meta"), count_parameters(_layer))
    _got = mobilenet_layer_cost(_d_k, _m, _n, _d_f)
    assert _got == _want, (
        f"mobilenet_layer_cost({_d_k}, {_m}, {_n}, {_d_f}): expected {_want} (built layer), got {_got}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex3_mobilenet_layer_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of mobilenet_layer_cost: the ValueErrors (1 point).
with expect_error(ValueError, "mobilenet_layer_cost(3, 512, 512, 14, alpha=1.5): alpha must be in (0, 1]"):
    mobilenet_layer_cost(3, 512, 512, 14, alpha=1.5)
with expect_error(ValueError, "mobilenet_layer_cost(3, 512, 512, 14, rho=0): rho must be in (0, 1], 0 is not"):
    mobilenet_layer_cost(3, 512, 512, 14, rho=0)
try:
    mobilenet_layer_cost(3, 512, 512, 14, alpha=1, rho=1.0)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"alpha = 1 and rho = 1.0 are in (0, 1], but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _kwargs in [{"alpha": 0.0}, {"alpha": -0.5}, {"rho": 1.01}, {"rho": -1.0}, {"alpha": 2}]:
    with expect_error(ValueError, f"mobilenet_layer_cost(3, 512, 512, 14, **{_kwargs})"):
        mobilenet_layer_cost(3, 512, 512, 14, **_kwargs)
### END HIDDEN TESTS


# %% [markdown]
# The paper's Table 3, row by row, from your two functions: each row adds its change
# to the one before.

# %%
# NBVAL_CHECK_OUTPUT
rows = [
    ("Convolution", conv_cost(14, 3, 512, 512, padding=1)),
    ("Depthwise separable conv", mobilenet_layer_cost(3, 512, 512, 14)),
    ("alpha = 0.75", mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75)),
    ("rho = 0.714", mobilenet_layer_cost(3, 512, 512, 14, alpha=0.75, rho=0.714)),
]
print(f"{'layer / modification':26s} {'M mult-adds':>11s} {'M params':>9s}")
for name, (mult_adds, params) in rows:
    print(f"{name:26s} {mult_adds / 1e6:11.1f} {params / 1e6:9.2f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: MobileNet v2's inverted residual block (4 points)
#
# MobileNet v2's bottleneck block turns $h \times w \times k$ into
# $\frac{h}{s} \times \frac{w}{s} \times k'$ in three steps (the paper's Table 1):
#
# | input | operator | output |
# |---|---|---|
# | $h \times w \times k$ | 1 × 1 conv, ReLU6 | $h \times w \times tk$ |
# | $h \times w \times tk$ | 3 × 3 depthwise, stride $s$, ReLU6 | $\frac{h}{s} \times \frac{w}{s} \times tk$ |
# | $\frac{h}{s} \times \frac{w}{s} \times tk$ | *linear* 1 × 1 conv | $\frac{h}{s} \times \frac{w}{s} \times k'$ |
#
# It *expands* the channels by the factor $t$, filters them cheaply per channel, and
# projects back to a thin tensor without an activation (a ReLU there would destroy
# information in so few channels). When the shapes allow it ($s = 1$ and $k = k'$)
# the input is added to the output: the residual connects the thin ends, the
# opposite of ResNet's bottleneck, hence *inverted* residual.
#
# `InvertedResidual(c_in, c_out, stride, t)`
# : an `nn.Module` for inputs of shape (N, `c_in`, H, W), with `hidden = t * c_in`.
#   Set `self.body` to an `nn.Sequential` of these layers, in this order (every
#   convolution with `bias=False`, as batch norm follows it):
#
#   1. only if `t != 1`: `nn.Conv2d(c_in, hidden, 1)`, `nn.BatchNorm2d(hidden)`, `nn.ReLU6()`;
#   2. the depthwise convolution `nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden)`,
#      `nn.BatchNorm2d(hidden)`, `nn.ReLU6()`;
#   3. the projection `nn.Conv2d(hidden, c_out, 1)`, `nn.BatchNorm2d(c_out)` (no activation).
#
#   `forward(x)` returns `x + self.body(x)` when `stride == 1` and `c_in == c_out`,
#   else `self.body(x)`, and does not change `x`. Raise `ValueError` if `stride` is
#   not 1 or 2. (The grader copies weights into your block in the order of its layers.)
#
#   Graded in three parts: the layers and their sizes (2 points), the forward pass
#   (1 point), the `ValueError` (1 point).
#
# Worked example: a block of the table's 24-channel stage ($t = 6$: 24 → 144 → 24), and
# its first block ($t = 1$, no expansion):
#
# ```python
# >>> count_parameters(InvertedResidual(24, 24, 1, 6))  # 3,456 + 288 + 1,296 + 288 + 3,456 + 48
# 8832
# >>> count_parameters(InvertedResidual(32, 16, 1, 1))  # 288 + 64 + 512 + 32
# 896
# >>> InvertedResidual(16, 24, 2, 6)(torch.rand(1, 16, 112, 112)).shape
# torch.Size([1, 24, 56, 56])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
class InvertedResidual(nn.Module):
    """MobileNet v2 block: 1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection, residual if shapes match."""

    def __init__(self, c_in, c_out, stride, t):
        super().__init__()
        ### BEGIN SOLUTION
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        hidden = t * c_in
        layers = [] if t == 1 else [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.body = nn.Sequential(*layers)
        self.use_residual = stride == 1 and c_in == c_out
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        out = self.body(x)
        return x + out if self.use_residual else out
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_inverted_residual_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of InvertedResidual: the layers and their sizes (2 points).
block = InvertedResidual(24, 24, 1, 6)  # the worked example
assert isinstance(getattr(block, "body", None), nn.Sequential), (
    "InvertedResidual(24, 24, 1, 6): set self.body to an nn.Sequential of the layers"
)
kinds = [type(layer).__name__ for layer in block.body]
want = ["Conv2d", "BatchNorm2d", "ReLU6"] * 2 + ["Conv2d", "BatchNorm2d"]
assert kinds == want, f"InvertedResidual(24, 24, 1, 6), t = 6: expected body layers {want}, got {kinds}"
count = count_parameters(block)
if count == 8_832 + 144 + 144 + 24:
    raise AssertionError(
        "InvertedResidual(24, 24, 1, 6): the convolutions have biases; use bias=False (batch norm follows each of them)"
    )
if count == 8_832 - 1_296 + 144 * 144 * 9:
    raise AssertionError(
        "InvertedResidual(24, 24, 1, 6): the 3 x 3 convolution must be depthwise, groups=hidden, "
        "one 3 x 3 filter per channel"
    )
assert count == 8_832, f"InvertedResidual(24, 24, 1, 6): expected 8,832 parameters, got {count:,}"
block = InvertedResidual(32, 16, 1, 1)
kinds = [type(layer).__name__ for layer in block.body]
assert kinds == want[3:], (
    f"InvertedResidual(32, 16, 1, 1): t = 1 has no expansion layer, expected body layers {want[3:]}, got {kinds}"
)
count = count_parameters(block)
assert count == 896, f"InvertedResidual(32, 16, 1, 1): expected 896 parameters, got {count:,}"
strides = [layer.stride for layer in InvertedResidual(16, 24, 2, 6).body if isinstance(layer, nn.Conv2d)]
assert strides == [(1, 1), (2, 2), (1, 1)], (
    f"InvertedResidual(16, 24, 2, 6): the stride belongs to the depthwise "
    f"3 x 3 convolution only; expected strides [1, 2, 1], got {strides}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.models import InvertedResidual as _Reference, MobileNetV2 as _MobileNetV2

for _c_in, _c_out, _stride, _t in [
    (8, 8, 1, 6),
    (4, 6, 2, 6),
    (6, 6, 2, 1),
    (5, 5, 1, 1),
    (3, 7, 1, 3),
    (16, 16, 1, 2),
]:
    _what = f"InvertedResidual({_c_in}, {_c_out}, {_stride}, {_t})"
    _got = [tuple(_v.shape) for _v in InvertedResidual(_c_in, _c_out, _stride, _t).state_dict().values()]
    _want = [tuple(_v.shape) for _v in _Reference(_c_in, _c_out, _stride, _t).state_dict().values()]
    assert _got == _want, f"{_what}: expected parameter shapes {_want}, got {_got}"
# The whole MobileNet v2 (the paper's Table 2) from your blocks has torchvision's 3,504,872 parameters.
with torch.device("meta"):
    _v2 = _MobileNetV2()
    _layers, _c = [_v2.features[0]], 32
    for _t, _out, _n, _s in _MobileNetV2.TABLE:
        for _i in range(_n):
            _layers.append(InvertedResidual(_c, _out, _s if _i == 0 else 1, _t))
            _c = _out
    _v2.features = nn.Sequential(*_layers, _v2.features[-1])
assert count_parameters(_v2) == 3_504_872, (
    f"MobileNet v2 from your blocks: expected 3,504,872 parameters, got {count_parameters(_v2):,}"
)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex4_inverted_residual_forward_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of InvertedResidual: the forward pass (1 point).
torch.manual_seed(0)
out = InvertedResidual(16, 24, 2, 6)(torch.rand(2, 16, 14, 14))
assert tuple(out.shape) == (2, 24, 7, 7), (
    f"InvertedResidual(16, 24, 2, 6) on (2, 16, 14, 14): stride 2 halves H and W, "
    f"expected (2, 24, 7, 7), got {tuple(out.shape)}"
)
assert (out < 0).any(), (
    "InvertedResidual(16, 24, 2, 6): the projection is linear (no ReLU6 after it), so the block's "
    "output can be negative; yours never is"
)
block = zero_parameters(InvertedResidual(8, 8, 1, 4))
x = torch.randn(2, 8, 5, 5)
x_before = x.clone()
out = block(x)
assert torch.equal(x, x_before), "forward must not change its input x (no in-place operations on x)"
assert torch.equal(out, x), (
    "InvertedResidual(8, 8, 1, 4) with all weights zero: stride 1 and c_in == c_out, so the "
    "residual x + body(x) is x itself"
)
try:
    out = zero_parameters(InvertedResidual(8, 8, 2, 4))(x)
except RuntimeError as error:
    raise AssertionError(
        f"InvertedResidual(8, 8, 2, 4): stride 2 changes the shape, so there is no residual to add: {error}"
    ) from None
assert tuple(out.shape) == (2, 8, 3, 3) and not out.any(), (
    "InvertedResidual(8, 8, 2, 4) with all weights zero: stride 2, no residual, so the output is zero of shape (2, 8, 3, 3)"
)
out = zero_parameters(InvertedResidual(8, 12, 1, 4))(x)
assert not out.any(), (
    "InvertedResidual(8, 12, 1, 4) with all weights zero: c_in != c_out, no residual, so the output is zero"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.checks import randomize_parameters as _randomize_parameters
from cvbook.models import InvertedResidual as _Reference


def _randomise(_module, _gen):
    """Large random weights and batch-norm statistics, so that a misplaced layer or a wrong activation shows."""
    return _randomize_parameters(_module, _gen, conv_scale=1.0, gamma_scale=3.0, beta_scale=3.0)


def _copy_into(_ref, _block, _what):
    """Copy _block's parameters and buffers into _ref, in order."""
    _src, _dst = list(_block.state_dict().values()), list(_ref.state_dict().items())
    _shapes = [tuple(_v.shape) for _v in _src]
    _want = [tuple(_v.shape) for _, _v in _dst]
    assert _shapes == _want, (
        f"{_what}: its layers do not have the sizes and order the exercise asks for:\n"
        f"expected parameter shapes {_want},\ngot {_shapes}"
    )
    _ref.load_state_dict({_k: _v for (_k, _), _v in zip(_dst, _src)})
    return _ref


_gen = torch.Generator().manual_seed(64)
for _c_in, _c_out, _stride, _t, _shape in [
    (8, 8, 1, 6, (2, 8, 9, 7)),
    (4, 6, 2, 6, (3, 4, 11, 8)),
    (6, 6, 2, 1, (2, 6, 5, 5)),
    (5, 5, 1, 1, (1, 5, 4, 6)),
    (3, 7, 1, 3, (2, 3, 6, 6)),
    (16, 16, 1, 2, (1, 16, 1, 1)),
]:
    _what = f"InvertedResidual({_c_in}, {_c_out}, {_stride}, {_t})"
    _block = _randomise(InvertedResidual(_c_in, _c_out, _stride, _t), _gen)
    _ref = _copy_into(_Reference(_c_in, _c_out, _stride, _t), _block, _what)
    _x = torch.randn(_shape, generator=_gen) * 5
    _before = _x.clone()
    for _mode in ("eval", "train"):
        if _mode == "train" and _shape[0] * _shape[2] * _shape[3] == 1:
            continue
        _block.train(_mode == "train")
        _ref.train(_mode == "train")
        with torch.no_grad():
            _got, _want = _block(_x), _ref(_x.clone())
        assert _got.shape == _want.shape, (
            f"{_what} on {_shape}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
        )
        assert torch.allclose(_got, _want, rtol=1e-4, atol=1e-4), (
            f"{_what} on {_shape}, {_mode} mode: wrong output "
            f"(max difference {(_got - _want).abs().max().item():.3g}); check ReLU6, the stride's place and the residual"
        )
        assert torch.equal(_x, _before), f"{_what}: forward must not change its input"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex4_inverted_residual_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of InvertedResidual: the ValueError (1 point).
with expect_error(ValueError, "InvertedResidual(8, 8, 3, 6): stride 3 (it must be 1 or 2)"):
    InvertedResidual(8, 8, 3, 6)
for stride in (1, 2):
    try:
        InvertedResidual(8, 8, stride, 6)
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, (
        f"InvertedResidual(8, 8, {stride}, 6): stride {stride} is allowed, but it raised ValueError: {refused}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _stride in (0, 3, -1):
    with expect_error(ValueError, f"InvertedResidual(8, 8, {_stride}, 6): stride {_stride}"):
        InvertedResidual(8, 8, _stride, 6)
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: EfficientNet's compound scaling (2 points)
#
# A network can be made bigger in three ways: more layers (depth $d$), more channels
# (width $w$), larger images (resolution $r$). EfficientNet scales all three together
# with one *compound coefficient* $\varphi$:
#
# $$d = \alpha^\varphi, \quad w = \beta^\varphi, \quad r = \gamma^\varphi, \qquad
#   \alpha = 1.2,\ \beta = 1.1,\ \gamma = 1.15,$$
#
# chosen so that $\alpha \cdot \beta^2 \cdot \gamma^2 \approx 2$. The FLOPs of a
# convolutional network grow like $d \cdot w^2 \cdot r^2$ (twice the channels: four
# times the mult-adds per layer, as in Exercise 3), so each step of $\varphi$ about
# doubles them: $(\alpha \beta^2 \gamma^2)^\varphi \approx 2^\varphi$.
#
# `efficientnet_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15)`
# : return the tuple `(depth, width, resolution, flops_factor)` of Python `float`s,
#   $\alpha^\varphi$, $\beta^\varphi$, $\gamma^\varphi$ and
#   $(\alpha \beta^2 \gamma^2)^\varphi$. `phi` is a number ≥ 0 (not necessarily a whole
#   one). Raise `ValueError` if `phi` is negative or if `alpha`, `beta` or `gamma` is
#   smaller than 1 (the paper's constraint: scaling never shrinks the network; 1 itself
#   is allowed). The values are compared with a relative tolerance of $10^{-6}$.
#
#   Graded in two parts: the four factors (1 point), the `ValueError`s (1 point).
#
# Worked example:
#
# ```python
# >>> efficientnet_multipliers(1)
# (1.2, 1.1, 1.15, 1.92027)
# >>> efficientnet_multipliers(0)    # the baseline, B0
# (1.0, 1.0, 1.0, 1.0)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def efficientnet_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """(depth, width, resolution, flops_factor) of EfficientNet's compound scaling with coefficient phi."""
    ### BEGIN SOLUTION
    if phi < 0:
        raise ValueError(f"phi must be >= 0, got {phi!r}")
    for name, value in dict(alpha=alpha, beta=beta, gamma=gamma).items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}")
    return (float(alpha**phi), float(beta**phi), float(gamma**phi), float((alpha * beta**2 * gamma**2) ** phi))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_efficientnet_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of efficientnet_multipliers: the four factors (1 point).
got = efficientnet_multipliers(1)  # the worked example
assert isinstance(got, tuple) and len(got) == 4, (
    f"efficientnet_multipliers(1): expected a tuple (depth, width, resolution, flops_factor), got {got!r}"
)
assert all(isinstance(v, float) for v in got), (
    f"efficientnet_multipliers(1): expected four Python floats, got {[type(v).__name__ for v in got]}"
)
assert all(math.isclose(g, w, rel_tol=1e-6) for g, w in zip(got[:3], (1.2, 1.1, 1.15))), (
    f"efficientnet_multipliers(1): expected (1.2, 1.1, 1.15, ...), got {got}"
)
if math.isclose(got[3], 1.2 * 1.1 * 1.15, rel_tol=1e-6):
    raise AssertionError(
        "efficientnet_multipliers(1): the FLOPs grow with the square of the width and of the "
        "resolution, alpha * beta**2 * gamma**2, not alpha * beta * gamma"
    )
assert math.isclose(got[3], 1.92027, rel_tol=1e-6), (
    f"efficientnet_multipliers(1): expected flops_factor 1.2 * 1.1**2 * 1.15**2 = 1.92027, got {got[3]}"
)
got = efficientnet_multipliers(0)
assert got == (1.0, 1.0, 1.0, 1.0), (
    f"efficientnet_multipliers(0) is the baseline: expected (1.0, 1.0, 1.0, 1.0), got {got}"
)
got = efficientnet_multipliers(2)
assert math.isclose(got[0], 1.44, rel_tol=1e-6) and math.isclose(got[3], 1.92027**2, rel_tol=1e-6), (
    f"efficientnet_multipliers(2): expected depth 1.44 and flops_factor 1.92027**2 = 3.687, got {got}"
)
got = efficientnet_multipliers(0.5, alpha=1.0, beta=1.44, gamma=1.21)
assert all(math.isclose(g, w, rel_tol=1e-6) for g, w in zip(got, (1.0, 1.2, 1.1, 1.44 * 1.21))), (
    f"efficientnet_multipliers(0.5, alpha=1.0, beta=1.44, gamma=1.21): phi need not be whole; expected "
    f"(1.0, 1.2, 1.1, 1.7424), got {got}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _phi in (0.5, 3, 4.5, 7):
    _got = efficientnet_multipliers(_phi)
    _want = (1.2**_phi, 1.1**_phi, 1.15**_phi, (1.2 * 1.1**2 * 1.15**2) ** _phi)
    assert all(isinstance(_v, float) for _v in _got), (
        f"efficientnet_multipliers({_phi}): expected four floats, got {_got!r}"
    )
    assert all(math.isclose(_g, _w, rel_tol=1e-6) for _g, _w in zip(_got, _want)), (
        f"efficientnet_multipliers({_phi}): expected {_want}, got {_got}"
    )
for _phi, _a, _b, _g in [(2, 1.0, 1.0, 1.0), (3, 1.4, 1.2, 1.0), (1.5, 1.05, 1.3, 1.25)]:
    _got = efficientnet_multipliers(_phi, alpha=_a, beta=_b, gamma=_g)
    _want = (_a**_phi, _b**_phi, _g**_phi, (_a * _b**2 * _g**2) ** _phi)
    assert all(math.isclose(_x, _y, rel_tol=1e-6) for _x, _y in zip(_got, _want)), (
        f"efficientnet_multipliers({_phi}, alpha={_a}, beta={_b}, gamma={_g}): expected {_want}, got {_got}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex5_efficientnet_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of efficientnet_multipliers: the ValueErrors (1 point).
with expect_error(ValueError, "efficientnet_multipliers(-1): phi must be >= 0"):
    efficientnet_multipliers(-1)
with expect_error(ValueError, "efficientnet_multipliers(1, beta=0.9): beta must be >= 1 (scaling never shrinks)"):
    efficientnet_multipliers(1, beta=0.9)
try:
    efficientnet_multipliers(2, alpha=1.0, beta=1.0, gamma=1.0)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"efficientnet_multipliers(2, alpha=1.0, beta=1.0, gamma=1.0) is valid (1 is allowed), "
    f"but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [((-0.5,), {}), ((1,), {"alpha": 0.9}), ((1,), {"beta": 0.5}), ((2,), {"gamma": 0.99})]:
    with expect_error(ValueError, f"efficientnet_multipliers{_args} {_kwargs}"):
        efficientnet_multipliers(*_args, **_kwargs)
### END HIDDEN TESTS


# %% [markdown]
# The pure formula for $\varphi = 0, \dots, 7$ on the 224 × 224 baseline, next to the
# resolution of the released EfficientNet-B0 to B7 (224, 240, 260, 300, 380, 456, 528,
# 600): the released models were tuned by hand; their images grow more slowly than
# $224 \cdot 1.15^\varphi$ up to B4 and meet the formula again from B5 on.

# %%
# NBVAL_CHECK_OUTPUT
released = [224, 240, 260, 300, 380, 456, 528, 600]
print(" phi  depth  width  resolution  released  FLOPs x  2**phi")
for phi, res in enumerate(released):
    depth, width, resolution, flops = efficientnet_multipliers(phi)
    print(f"{phi:4d} {depth:6.2f} {width:6.2f} {round(224 * resolution):11d} {res:9d} {flops:8.1f} {2**phi:7d}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex6_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 6: counting a whole model's mult-adds (4 points)
#
# A formula per layer is fine for one layer; for a whole network it is easier to let
# the network run once and count each layer as it goes. A *forward hook*,
# `module.register_forward_hook(hook)`, calls `hook(module, inputs, output)` after
# every forward pass of `module`, and returns a handle whose `.remove()` takes the
# hook off again.
#
# `count_flops(model, input_shape, device="cpu")`
# : the mult-adds, as a Python `int`, of one forward pass of `model` on one example
#   `torch.zeros(1, *input_shape, device=device)`, counting
#
#   - every `nn.Conv2d` as `output.numel() * kh * kw * in_channels // groups`
#     (a `(kh, kw)` kernel; `groups` makes a depthwise convolution cheap);
#   - every `nn.Linear` as `output.numel() * in_features`;
#
#   and nothing else (batch norm, activations, pooling, biases count 0). A layer called
#   twice in one forward pass counts twice. Run the pass in eval mode under
#   `torch.no_grad()`, then put the model back in the mode it was in, and remove every
#   hook you added, even if the forward pass raises (`try` / `finally`). With
#   `device="meta"` nothing is computed, only shapes, so that large models count fast.
#
# Worked examples: the Table 3 convolution, and MobileNet v1 (the paper says 569
# million mult-adds):
#
# ```python
# >>> count_flops(nn.Conv2d(512, 512, 3, padding=1), (512, 14, 14))
# 462422016
# >>> count_flops(nn.Conv2d(512, 512, 3, padding=1, groups=512), (512, 14, 14))   # depthwise
# 903168
# >>> from cvbook.models import MobileNetV1
# >>> count_flops(MobileNetV1().to("meta"), (3, 224, 224), device="meta")
# 568740352
# ```
#
# `torch.utils.flop_counter.FlopCounterMode` counts the same thing at the level of
# PyTorch's operations, as FLOPs: 2 per mult-add, and the book's
# `cvbook.cost.count_mult_adds` is this very function. The point is to write the hooks
# yourself: while your function runs, the tests make both of them raise.
#
# Graded in two parts: the count (3 points), and the model left as it was, in its
# mode and without your hooks, even when its forward pass raises (1 point).


# %% nbgrader={"grade": false, "grade_id": "ex6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def count_flops(model, input_shape, device="cpu"):
    """Mult-adds of the Conv2d and Linear layers of one forward pass of model on one example of shape input_shape."""
    ### BEGIN SOLUTION
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * kh * kw * (module.in_channels // module.groups)
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_count_flops_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of count_flops: the count (3 points).
from contextlib import contextmanager

import torch.utils.flop_counter

import cvbook.cost


@contextmanager
def own_hooks_only():
    """While the block runs, FlopCounterMode and cvbook.cost.count_mult_adds raise (however they were imported)."""

    def refused(*args, **kwargs):
        raise AssertionError(
            "count_flops called torch.utils.flop_counter.FlopCounterMode or "
            "cvbook.cost.count_mult_adds: count with your own forward hooks"
        )

    counter, counter_init = torch.utils.flop_counter.FlopCounterMode, torch.utils.flop_counter.FlopCounterMode.__init__
    library, library_code = cvbook.cost.count_mult_adds, cvbook.cost.count_mult_adds.__code__
    counter.__init__, library.__code__ = refused, refused.__code__
    try:
        yield
    finally:
        counter.__init__, library.__code__ = counter_init, library_code


class Twice(nn.Module):
    """A conv layer used twice, then a Linear on the last axis of a 4-D tensor."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        return self.fc(self.conv(self.conv(x)))


with own_hooks_only():
    count = count_flops(nn.Conv2d(512, 512, 3, padding=1), (512, 14, 14))  # the worked example
    assert isinstance(count, int), f"expected a Python int, got {type(count).__name__}"
    assert count == 462_422_016, (
        f"nn.Conv2d(512, 512, 3, padding=1) on (512, 14, 14), the Table 3 convolution: "
        f"expected 462,422,016, got {count:,}"
    )
    count = count_flops(nn.Conv2d(512, 512, 3, padding=1, groups=512), (512, 14, 14))
    if count == 462_422_016:
        raise AssertionError(
            "nn.Conv2d(512, 512, 3, padding=1, groups=512): a depthwise convolution has filters of "
            "3 x 3 x 1, divide in_channels by groups"
        )
    assert count == 903_168, f"depthwise 3 x 3 on 14 x 14 x 512: expected 903,168, got {count:,}"
    count = count_flops(nn.Linear(1024, 1000), (1024,))
    assert count == 1_024_000, f"nn.Linear(1024, 1000) on (1024,): expected 1,024,000 mult-adds, got {count:,}"
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 8, (1, 3), padding=(0, 1), groups=4),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )
    count = count_flops(model, (3, 16, 16))
    want = 8 * 8 * 8 * 27 + 8 * 8 * 8 * 1 * 3 * 2 + 10 * 8
    assert count == want, (
        f"conv (27 x 8 x 8 x 8) + grouped 1 x 3 conv (6 x 8 x 8 x 8) + linear (8 x 10), the rest 0: "
        f"expected {want:,}, got {count:,}"
    )
    count = count_flops(Twice(), (4, 6, 6))
    want = 2 * (4 * 6 * 6 * 9 * 4) + 4 * 6 * 5 * 6
    assert count == want, (
        f"a 3 x 3 conv called twice (2 x 5,184) and a Linear(6, 5) on a (1, 4, 6, 6) tensor "
        f"(output.numel() * in_features = 120 * 6): a layer called twice counts twice; "
        f"expected {want:,}, got {count:,}"
    )
    from cvbook.models import MobileNetV1

    with torch.device("meta"):
        mobilenet = MobileNetV1()
    count = count_flops(mobilenet, (3, 224, 224), device="meta")
    assert count == 568_740_352, f"MobileNet v1: expected 568,740,352 (the paper's 569 million), got {count:,}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch.utils.flop_counter import FlopCounterMode as _FlopCounterMode

from cvbook.models import MobileNetV2 as _MobileNetV2


def _flop_counter(_model, _shape, _device="cpu"):
    _counter = _FlopCounterMode(display=False)
    _model.eval()
    with _counter, torch.no_grad():
        _model(torch.zeros((1, *_shape), device=_device))
    return _counter.get_total_flops() // 2


_gen = torch.Generator().manual_seed(65)
for _ in range(6):
    _c_in, _g = int(torch.randint(1, 5, (1,), generator=_gen)), int(torch.randint(1, 4, (1,), generator=_gen))
    _c_in, _c_mid = _c_in * _g, int(torch.randint(1, 5, (1,), generator=_gen)) * _g
    _kh, _kw = (int(_v) for _v in torch.randint(1, 6, (2,), generator=_gen))
    _stride = int(torch.randint(1, 3, (1,), generator=_gen))
    _h, _w = (int(_v) for _v in torch.randint(6, 20, (2,), generator=_gen))
    _model = nn.Sequential(
        nn.Conv2d(_c_in, _c_mid, (_kh, _kw), stride=_stride, groups=_g, dilation=1 + _stride % 2),
        nn.BatchNorm2d(_c_mid),
        nn.ReLU(),
        nn.Conv2d(_c_mid, _c_mid, 3, padding=1, groups=_c_mid),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * _c_mid, 7),
        nn.ReLU(),
        nn.Linear(7, 3),
    )
    _want = _flop_counter(_model, (_c_in, _h, _w))
    _model.train()
    with own_hooks_only():
        _got = count_flops(_model, (_c_in, _h, _w))
    assert isinstance(_got, int) and _got == _want, (
        f"count_flops on\n{_model}\nwith input {(_c_in, _h, _w)}: "
        f"expected {_want:,} (FlopCounterMode / 2), got {_got!r}"
    )
with torch.device("meta"):
    _v2 = _MobileNetV2()
_want = _flop_counter(_v2, (3, 224, 224), "meta")
with own_hooks_only():
    _got = count_flops(_v2, (3, 224, 224), device="meta")
assert _got == _want, f"MobileNet v2 on (3, 224, 224): expected {_want:,} (FlopCounterMode / 2), got {_got!r}"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex6_count_flops_cleanup_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of count_flops: the model is left as it was (1 point).
class Broken(nn.Module):
    """A model whose forward pass raises after its conv layer ran."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        self.conv(x)
        raise RuntimeError("broken on purpose")


model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))
model.train()
with own_hooks_only():
    count_flops(model, (3, 6, 6))
assert model.training, "count_flops(model) on a model in training mode: put the model back in the mode it was in"
assert all(not m._forward_hooks for m in model.modules()), (
    "count_flops(model): remove your hooks after counting (handle.remove())"
)
model.eval()
with own_hooks_only():
    count_flops(model, (3, 6, 6))
assert not model.training, "count_flops(model) on a model in eval mode: put the model back in the mode it was in"
model = Broken()
try:
    with own_hooks_only():
        count_flops(model, (3, 4, 4))
except RuntimeError:
    pass
assert not model.conv._forward_hooks, (
    "count_flops on a model whose forward pass raises: remove the hooks even then (try / finally)"
)
assert model.training, "count_flops on a model whose forward pass raises: restore its mode even then (try / finally)"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Dropout(0.5), nn.Flatten(), nn.Linear(2 * 3 * 3, 4))
for _mode in (True, False, True):
    _model.train(_mode)
    count_flops(_model, (2, 3, 3))
    assert _model.training == _mode, f"count_flops on a model with training={_mode}: restore the mode"
    assert all(not _m._forward_hooks for _m in _model.modules()), "remove every hook after counting"
### END HIDDEN TESTS


# %% [markdown]
# MobileNet v1's width and resolution multipliers on the whole network, counted with
# your function and next to the paper's Tables 6 and 7 (569 / 325 / 149 / 41 million
# mult-adds and 4.2 / 2.6 / 1.3 / 0.5 million parameters; 569 / 418 / 290 / 186 million
# at the resolutions 224 / 192 / 160 / 128):

# %%
# NBVAL_CHECK_OUTPUT
from cvbook.models import MobileNetV1

for width in (1.0, 0.75, 0.5, 0.25):
    with torch.device("meta"):
        model = MobileNetV1(width=width)
    mult_adds = count_flops(model, (3, 224, 224), device="meta")
    print(
        f"width {width:4.2f}, 224 x 224: {mult_adds / 1e6:6.1f} M mult-adds, {count_parameters(model) / 1e6:.1f} M params"
    )
with torch.device("meta"):
    model = MobileNetV1()
for size in (192, 160, 128):
    print(f"width 1.00, {size} x {size}: {count_flops(model, (3, size, size), device='meta') / 1e6:6.1f} M mult-adds")

# %% [markdown]
# Cost arithmetic tells you what a network computes, not how fast it runs: depthwise
# convolutions do little work per byte they read, so on a GPU they rarely reach the
# speed-up their mult-adds promise. Chapter 7 turns from building networks to training
# them with little data: data augmentation and transfer learning.
