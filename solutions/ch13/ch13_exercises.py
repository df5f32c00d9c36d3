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
# # Chapter 13 exercises: 1D and 3D convolutions
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch13/ch13_exercises.ipynb)
#
# Five exercises on Chapter 13, *Beyond 2D: 1D and 3D convolutions*: the output lengths of
# a stack of `Conv1d` layers (the lecture's 14 → 10 → 6), a 1D convolution from scratch
# (the lecture's ECG numbers and the 1D edge detector), the output shape, weights and
# mult-adds of a `Conv3d` layer (the 14 × 14 × 14 volume of the chapter), a small 1D CNN
# for signals of any length, and a hand-made motion feature that tells a square moving
# left from one moving right. 17 points in all.
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
#   `ch13_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch13_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
from torch import nn

from cvbook.checks import expect_error, refusing
from cvbook.signals import make_moving_squares

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: output lengths of a `Conv1d` stack (3 points)
#
# Along its one axis, a 1D convolution obeys the same size formula as a 2D one:
# a signal of length $n$, a filter of length $f$, padding $p$ and stride $s$ give
#
# $$n_\text{out} = \left\lfloor \frac{n + 2p - f}{s} \right\rfloor + 1,$$
#
# and a layer with $n_c'$ filters outputs $n_c'$ channels, whatever the number of input
# channels (each filter spans them all).
#
# `conv1d_shapes(length, layers)`
# : `length` is the input signal's length; `layers` is a list of tuples
#   `(n_filters, f, stride, padding)`, one per convolution layer, applied in order. Return
#   a list with one tuple `(n_out, n_filters)` of two Python `int`s per layer: the output
#   length and the number of channels after that layer. Raise `ValueError` if `length`,
#   a `n_filters`, `f` or `stride` is not a positive `int` (a `bool` is not one), if a
#   `padding` is not an `int` ≥ 0, or if a filter does not fit in its padded input
#   ($f > n + 2p$). Compute the formula; do not run a `Conv1d` layer to measure it.
#
# Worked example: the lecture's 14 × 1 signal, 16 filters of length 5, then 32 filters of
# length 5 (each 5 × 16):
#
# ```python
# >>> conv1d_shapes(14, [(16, 5, 1, 0), (32, 5, 1, 0)])
# [(10, 16), (6, 32)]
# >>> conv1d_shapes(14, [(1, 5, 1, 0)])           # one filter
# [(10, 1)]
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv1d_shapes(length, layers):
    """[(n_out, n_filters), ...] after each (n_filters, f, stride, padding) layer of a Conv1d stack."""

    ### BEGIN SOLUTION
    def positive(name, value, minimum=1):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")

    positive("length", length)
    shapes, n = [], length
    for k, (n_filters, f, stride, padding) in enumerate(layers):
        positive(f"layer {k} n_filters", n_filters)
        positive(f"layer {k} f", f)
        positive(f"layer {k} stride", stride)
        positive(f"layer {k} padding", padding, minimum=0)
        if f > n + 2 * padding:
            raise ValueError(f"layer {k}: a filter of {f} does not fit in {n} samples padded by {padding}")
        n = (n + 2 * padding - f) // stride + 1
        shapes.append((n, n_filters))
    return shapes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_conv1d_shapes_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1d_shapes: the shapes (2 points).
CONV1D = ("torch.nn.functional.conv1d", "torch.conv1d")
with refusing(*CONV1D):
    shapes = conv1d_shapes(14, [(16, 5, 1, 0), (32, 5, 1, 0)])  # the worked example
assert isinstance(shapes, list) and len(shapes) == 2, f"expected a list with one tuple per layer, got {shapes!r}"
assert all(isinstance(v, int) for shape in shapes for v in shape), f"expected tuples of Python ints, got {shapes!r}"
if shapes[1] == (6, 16):
    raise AssertionError("the second layer has 32 filters, so it outputs 32 channels, not 16")
if shapes[0] == (10, 1):
    raise AssertionError("16 filters give 16 output channels: the channels are the number of filters")
assert shapes == [(10, 16), (6, 32)], f"expected [(10, 16), (6, 32)], got {shapes}"
assert conv1d_shapes(14, [(1, 5, 1, 0)]) == [(10, 1)], "one filter of 5 on 14 samples: 10 x 1"
shapes = conv1d_shapes(512, [(16, 7, 1, 3), (32, 7, 2, 3)])
assert shapes == [(512, 16), (256, 32)], (
    f"'same' padding keeps 512, then stride 2 halves it: expected [(512, 16), (256, 32)], got {shapes}"
)
assert conv1d_shapes(7, []) == [], "no layers, no shapes"
assert conv1d_shapes(10, [(2, 3, 4, 0)]) == [(2, 2)], "stride 4: floor((10 - 3) / 4) + 1 = 2 (round down)"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(131)
for _ in range(12):
    _length = int(torch.randint(10, 80, (1,), generator=_gen))
    _layers, _modules, _c_in = [], [], 1
    for _k in range(int(torch.randint(1, 4, (1,), generator=_gen))):
        _c_out, _f, _s, _p = (
            int(torch.randint(1, 6, (1,), generator=_gen)),
            int(torch.randint(1, 6, (1,), generator=_gen)),
            int(torch.randint(1, 3, (1,), generator=_gen)),
            int(torch.randint(0, 3, (1,), generator=_gen)),
        )
        _layers.append((_c_out, _f, _s, _p))
        _modules.append(nn.Conv1d(_c_in, _c_out, _f, stride=_s, padding=_p))
        _c_in = _c_out
    _x, _want = torch.zeros(1, 1, _length), []
    for _m in _modules:
        _x = _m(_x)
        _want.append((_x.shape[2], _x.shape[1]))
    with refusing(*CONV1D):
        _got = conv1d_shapes(_length, _layers)
    assert _got == _want, f"conv1d_shapes({_length}, {_layers}): expected {_want}, got {_got}"
assert conv1d_shapes(5, [(3, 5, 1, 0)]) == [(1, 3)], "a filter as long as the signal fits exactly once"
assert conv1d_shapes(3, [(2, 5, 1, 1)]) == [(1, 2)], "padding 1 makes 3 samples 5 long"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1d_shapes: the errors it raises (1 point).
assert conv1d_shapes(5, [(1, 5, 1, 0)]) == [(1, 1)], "a filter as long as the signal is valid and must not raise"
with expect_error(ValueError, "a filter of 5 on 4 samples"):
    conv1d_shapes(4, [(8, 5, 1, 0)])
with expect_error(ValueError, "the third filter no longer fits (14 -> 10 -> 6, then a filter of 7)"):
    conv1d_shapes(14, [(16, 5, 1, 0), (32, 5, 1, 0), (8, 7, 1, 0)])
with expect_error(ValueError, "length=True (a bool is not an int)"):
    conv1d_shapes(True, [(1, 1, 1, 0)])
with expect_error(ValueError, "f=3.0, a float (sizes are ints)"):
    conv1d_shapes(8, [(2, 3.0, 1, 0)])
with expect_error(ValueError, "padding=-1 (padding must be >= 0)"):
    conv1d_shapes(8, [(2, 3, 1, -1)])
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _length, _layers in [
    (0, [(1, 1, 1, 0)]),
    (8.0, [(1, 1, 1, 0)]),
    (8, [(0, 3, 1, 0)]),
    (8, [(2, 3, 0, 0)]),
    (8, [(2, 3, 1, 0.5)]),
    (8, [(False, 3, 1, 0)]),
    (8, [(2, 3, 1, 0), (2, 9, 1, 0)]),
]:
    with expect_error(ValueError, f"conv1d_shapes({_length!r}, {_layers})"):
        conv1d_shapes(_length, _layers)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: a 1D convolution from scratch (4 points)
#
# A `Conv1d` layer with weights $w$ of shape `(C_out, C_in, f)` and bias $b$ computes, for
# every example $n$, filter $k$ and output position $i$,
#
# $$\text{out}[n, k, i] = b_k + \sum_{c=0}^{C_\text{in}-1} \sum_{u=0}^{f-1} x[n, c,\; i s + u]\; w[k, c, u]$$
#
# (a cross-correlation: the filter is not flipped), with no padding and stride $s$.
#
# `conv1d_scratch(x, weight, bias=None, stride=1)`
# : `x` is a float tensor `(N, C_in, L)`, `weight` `(C_out, C_in, f)`, `bias` `(C_out,)` or
#   `None`. Return the `(N, C_out, L_out)` tensor above, $L_\text{out} = \lfloor (L - f)/s \rfloor + 1$.
#   Raise `ValueError` if `x` or `weight` does not have 3 dimensions, if their numbers of
#   input channels differ, or if the filter is longer than the signal. Compute it yourself
#   with tensor operations (a loop over output positions is fine); do not call
#   `torch.nn.functional.conv1d`, `nn.Conv1d` or the book's `cvbook.signals` functions.
#   Values are compared with a tolerance of 1e-5 (relative) and 1e-6 (absolute).
#
# Worked examples: the lecture's ECG numbers smoothed by its filter `1 3 10 3 1`, and the
# edge detector `1 0 -1` on a step:
#
# ```python
# >>> x = torch.tensor([[[1., 20, 15, 3, 18, 12, 4, 17]]])     # (1, 1, 8)
# >>> conv1d_scratch(x, torch.tensor([[[1., 3, 10, 3, 1]]]))
# tensor([[[238., 161., 244., 206.]]])
# >>> conv1d_scratch(torch.tensor([[[10., 10, 10, 0, 0, 0]]]), torch.tensor([[[1., 0, -1]]]))
# tensor([[[ 0., 10., 10.,  0.]]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv1d_scratch(x, weight, bias=None, stride=1):
    """1D cross-correlation of x (N, C_in, L) with weight (C_out, C_in, f), no padding; returns (N, C_out, L_out)."""
    ### BEGIN SOLUTION
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, C_in, L), got {tuple(x.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"weight must have shape (C_out, C_in, f), got {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but the filters expect {weight.shape[1]}")
    f = weight.shape[2]
    if f > x.shape[2]:
        raise ValueError(f"a filter of {f} does not fit in a signal of {x.shape[2]}")
    l_out = (x.shape[2] - f) // stride + 1
    out = torch.stack(
        [torch.einsum("ncf,kcf->nk", x[:, :, i * stride : i * stride + f], weight) for i in range(l_out)], dim=2
    )
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_conv1d_scratch_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1d_scratch: the convolution (3 points).
CONV1D = ("torch.nn.functional.conv1d", "torch.conv1d", "cvbook.signals.conv1d_naive", "cvbook.signals.conv1d_unfold")
x = torch.tensor([[[1.0, 20, 15, 3, 18, 12, 4, 17]]])
with refusing(*CONV1D):
    out = conv1d_scratch(x, torch.tensor([[[1.0, 3, 10, 3, 1]]]))  # the worked example
assert isinstance(out, torch.Tensor), f"expected a tensor, got {type(out).__name__}"
assert tuple(out.shape) == (1, 1, 4), (
    f"8 samples and a filter of 5 give 4 outputs: expected shape (1, 1, 4), got {tuple(out.shape)}"
)
assert out.flatten().tolist() == [238, 161, 244, 206], f"expected [238, 161, 244, 206], got {out.flatten().tolist()}"
with refusing(*CONV1D):
    edge = conv1d_scratch(torch.tensor([[[10.0, 10, 10, 0, 0, 0]]]), torch.tensor([[[1.0, 0, -1]]]))
if edge.flatten().tolist() == [0, -10, -10, 0]:
    raise AssertionError(
        "got [0, -10, -10, 0]: you flipped the filter; deep-learning 'convolution' is a cross-correlation"
    )
assert edge.flatten().tolist() == [0, 10, 10, 0], (
    f"the edge detector on a step: expected [0, 10, 10, 0], got {edge.flatten().tolist()}"
)
gen = torch.Generator().manual_seed(0)
x, w, b = torch.randn(2, 3, 12, generator=gen), torch.randn(4, 3, 5, generator=gen), torch.randn(4, generator=gen)
with refusing(*CONV1D):
    out = conv1d_scratch(x, w, b)
assert tuple(out.shape) == (2, 4, 8), (
    f"(2, 3, 12) with four 3 x 5 filters: expected shape (2, 4, 8), got {tuple(out.shape)}"
)
expected = sum(x[1, c, 2:7] @ w[3, c] for c in range(3)) + b[3]
assert torch.allclose(out[1, 3, 2], expected, atol=1e-5), (
    f"out[1, 3, 2] should be sum over the 3 channels of x[1, c, 2:7] . w[3, c], plus b[3] = {float(expected):.4f}; got {float(out[1, 3, 2]):.4f}"
)
with refusing(*CONV1D):
    out = conv1d_scratch(x, w, stride=2)
assert tuple(out.shape) == (2, 4, 4), (
    f"(2, 3, 12) with four 3 x 5 filters, stride 2: expected shape (2, 4, 4), got {tuple(out.shape)}"
)
assert torch.allclose(out[0, 1, 3], sum(x[0, c, 6:11] @ w[1, c] for c in range(3)), atol=1e-5), (
    "stride 2: out[0, 1, 3] starts at sample 3 * 2 = 6, and without a bias nothing is added"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(132)
for _ in range(8):
    _n, _c_in, _c_out, _f, _s = (int(torch.randint(1, 5, (1,), generator=_gen)) for _ in range(5))
    _length = _f + int(torch.randint(0, 20, (1,), generator=_gen))
    _x = torch.randn(_n, _c_in, _length, generator=_gen, dtype=torch.float64)
    _w = torch.randn(_c_out, _c_in, _f, generator=_gen, dtype=torch.float64)
    _b = torch.randn(_c_out, generator=_gen, dtype=torch.float64)
    for _bias in (None, _b):
        _want = _F.conv1d(_x, _w, _bias, stride=_s)
        with refusing(*CONV1D):
            _got = conv1d_scratch(_x, _w, _bias, stride=_s)
        assert tuple(_got.shape) == tuple(_want.shape), (
            f"x {tuple(_x.shape)}, weight {tuple(_w.shape)}, stride {_s}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
        )
        assert torch.allclose(_got, _want, rtol=1e-5, atol=1e-6), (
            f"x {tuple(_x.shape)}, weight {tuple(_w.shape)}, stride {_s}, bias {_bias is not None}: values differ from F.conv1d"
        )
_x = torch.arange(6.0).view(1, 1, 6)
assert conv1d_scratch(_x, torch.ones(1, 1, 6)).flatten().tolist() == [15.0], (
    "a filter as long as the signal gives one output"
)
assert conv1d_scratch(_x, torch.tensor([[[1.0, 0]]]), stride=4).flatten().tolist() == [0.0, 4.0], (
    "stride 4 on 6 samples with f = 2: positions 0 and 4"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1d_scratch: the errors it raises (1 point).
assert tuple(conv1d_scratch(torch.zeros(1, 3, 5), torch.zeros(2, 3, 5)).shape) == (1, 2, 1), (
    "a filter as long as the signal is valid and must not raise"
)
with expect_error(ValueError, "x with 2 channels and filters expecting 3"):
    conv1d_scratch(torch.zeros(1, 2, 10), torch.zeros(4, 3, 5))
with expect_error(ValueError, "a filter of 5 on 4 samples"):
    conv1d_scratch(torch.zeros(1, 3, 4), torch.zeros(4, 3, 5))
with expect_error(ValueError, "x of shape (3, 10), without the batch axis (x must be 3-D)"):
    conv1d_scratch(torch.zeros(3, 10), torch.zeros(1, 3, 3))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad_x, _bad_w in [(torch.zeros(1, 3, 10), torch.zeros(3, 3)), (torch.zeros(1, 1, 3, 10), torch.zeros(1, 1, 3))]:
    with expect_error(ValueError, f"x {tuple(_bad_x.shape)}, weight {tuple(_bad_w.shape)}"):
        conv1d_scratch(_bad_x, _bad_w)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: a `Conv3d` layer's shape, parameters and cost (4 points)
#
# A 3D convolution slides an $f \times f \times f \times n_c$ filter along the depth, height and
# width of a volume (or the time, height and width of a clip). Each of the three axes
# follows the size formula independently; the layer has $f^3 n_c$ weights and one bias
# per filter; each output value costs one multiply-add per filter weight.
#
# `conv3d_layer(in_shape, f, n_filters, stride=1, padding=0)`
# : `in_shape` is a tuple `(D, H, W, C)` (channels last, as the lecture writes volumes),
#   the filters are $f \times f \times f \times C$, the same `stride` and `padding` on every
#   axis. Return a tuple `(out_shape, params, mult_adds)`: `out_shape` the tuple
#   `(D_out, H_out, W_out, n_filters)`, `params` the number of weights **and biases**
#   (what `nn.Conv3d` holds), `mult_adds` = (number of output values) × (weights per
#   filter), biases not counted. All Python `int`s. Raise `ValueError` if `in_shape` is
#   not a tuple of 4 positive `int`s, if `f`, `n_filters` or `stride` is not a positive
#   `int`, if `padding` is not an `int` ≥ 0, or if the filter does not fit along an axis
#   (a `bool` is not an `int` here; a list is not a tuple). Compute it; do not run a
#   `Conv3d` layer.
#
# Worked example: the 14 × 14 × 14 × 1 volume with 16 filters of 5 × 5 × 5, then 32 filters
# on the result:
#
# ```python
# >>> conv3d_layer((14, 14, 14, 1), 5, 16)
# ((10, 10, 10, 16), 2016, 2000000)
# >>> conv3d_layer((10, 10, 10, 16), 5, 32)
# ((6, 6, 6, 32), 64032, 13824000)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv3d_layer(in_shape, f, n_filters, stride=1, padding=0):
    """((D_out, H_out, W_out, n_filters), params with biases, mult-adds) of a Conv3d layer on a (D, H, W, C) input."""

    ### BEGIN SOLUTION
    def positive(name, value, minimum=1):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")

    if not isinstance(in_shape, tuple) or len(in_shape) != 4:
        raise ValueError(f"in_shape must be a tuple (D, H, W, C), got {in_shape!r}")
    for name, value in zip("DHWC", in_shape):
        positive(f"in_shape {name}", value)
    positive("f", f)
    positive("n_filters", n_filters)
    positive("stride", stride)
    positive("padding", padding, minimum=0)
    *sizes, c = in_shape
    out = []
    for n in sizes:
        if f > n + 2 * padding:
            raise ValueError(f"a filter of {f} does not fit in {n} padded by {padding}")
        out.append((n + 2 * padding - f) // stride + 1)
    weights_per_filter = f**3 * c
    mult_adds = out[0] * out[1] * out[2] * n_filters * weights_per_filter
    return (*out, n_filters), weights_per_filter * n_filters + n_filters, mult_adds
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_conv3d_layer_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of conv3d_layer: shape, parameters and cost (3 points).
CONV3D = ("torch.nn.functional.conv3d", "torch.conv3d")
with refusing(*CONV3D):
    result = conv3d_layer((14, 14, 14, 1), 5, 16)  # the worked example
assert isinstance(result, tuple) and len(result) == 3, (
    f"expected a tuple (out_shape, params, mult_adds), got {result!r}"
)
out_shape, params, mult_adds = result
assert isinstance(out_shape, tuple) and all(isinstance(v, int) for v in out_shape), (
    f"out_shape must be a tuple of ints, got {out_shape!r}"
)
assert isinstance(params, int) and isinstance(mult_adds, int), "params and mult_adds must be Python ints"
assert out_shape == (10, 10, 10, 16), f"expected out_shape (10, 10, 10, 16), got {out_shape}"
if params == 2000:
    raise AssertionError("got 2,000 parameters: add the 16 biases (nn.Conv3d holds 2,016)")
assert params == 2016, f"expected 5*5*5*1*16 + 16 = 2,016 parameters, got {params:,}"
if mult_adds == 10 * 10 * 16 * 125:
    raise AssertionError("got 200,000 mult-adds: a 3D output has 10 x 10 x 10 positions, not 10 x 10")
assert mult_adds == 2_000_000, f"expected 10*10*10 positions x 16 filters x 125 weights = 2,000,000, got {mult_adds:,}"
if conv3d_layer((10, 10, 10, 16), 5, 32)[1] == 5**3 * 32 + 32:
    raise AssertionError("each filter spans all 16 input channels: 5 x 5 x 5 x 16 weights")
assert conv3d_layer((10, 10, 10, 16), 5, 32) == ((6, 6, 6, 32), 64_032, 13_824_000), (
    f"second layer: expected ((6, 6, 6, 32), 64032, 13824000), got {conv3d_layer((10, 10, 10, 16), 5, 32)}"
)
assert conv3d_layer((8, 16, 16, 1), 3, 8, padding=1) == ((8, 16, 16, 8), 224, 8 * 16 * 16 * 8 * 27), (
    "'same' padding on an 8-frame 16 x 16 clip keeps (8, 16, 16)"
)
assert conv3d_layer((9, 9, 9, 2), 3, 4, stride=2)[0] == (4, 4, 4, 4), (
    "stride 2: floor((9 - 3) / 2) + 1 = 4 on every axis"
)
assert conv3d_layer((8, 12, 16, 1), 3, 2)[0] == (6, 10, 14, 2), (
    "each axis follows the formula on its own: (8, 12, 16) -> (6, 10, 14)"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.models import count_parameters as _count_parameters
from cvbook.signals import count_mult_adds_nd as _count_mult_adds_nd

_gen = torch.Generator().manual_seed(133)
for _ in range(10):
    _d, _h, _w = (int(torch.randint(4, 14, (1,), generator=_gen)) for _ in range(3))
    _c, _k = int(torch.randint(1, 5, (1,), generator=_gen)), int(torch.randint(1, 7, (1,), generator=_gen))
    _f, _s, _p = (
        int(torch.randint(1, 5, (1,), generator=_gen)),
        int(torch.randint(1, 3, (1,), generator=_gen)),
        int(torch.randint(0, 2, (1,), generator=_gen)),
    )
    with torch.device("meta"):
        _layer = nn.Conv3d(_c, _k, _f, stride=_s, padding=_p)
        _out = _layer(torch.zeros(1, _c, _d, _h, _w))
    _want = (
        (*_out.shape[2:], _k),
        _count_parameters(_layer),
        _count_mult_adds_nd(_layer, (_c, _d, _h, _w), device="meta"),
    )
    with refusing(*CONV3D):
        _got = conv3d_layer((_d, _h, _w, _c), _f, _k, stride=_s, padding=_p)
    assert _got == _want, (
        f"conv3d_layer({(_d, _h, _w, _c)}, {_f}, {_k}, stride={_s}, padding={_p}): expected {_want}, got {_got}"
    )
assert conv3d_layer((3, 3, 3, 2), 5, 1, padding=1) == ((1, 1, 1, 1), 251, 250), (
    "a 5^3 filter fits once in 3^3 padded by 1"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv3d_layer: the errors it raises (1 point).
assert conv3d_layer((5, 5, 5, 1), 5, 1)[0] == (1, 1, 1, 1), (
    "a filter as large as the volume is valid and must not raise"
)
with expect_error(ValueError, "a 5 x 5 x 5 filter on a 14 x 14 x 4 volume"):
    conv3d_layer((14, 14, 4, 1), 5, 16)
with expect_error(ValueError, "in_shape (14, 14, 14) without channels (it must be (D, H, W, C))"):
    conv3d_layer((14, 14, 14), 5, 16)
with expect_error(ValueError, "in_shape given as a list [4, 4, 4, 1] (it must be a tuple)"):
    conv3d_layer([4, 4, 4, 1], 3, 2)
with expect_error(ValueError, "f=True (a bool is not an int)"):
    conv3d_layer((4, 4, 4, 1), True, 2)
with expect_error(ValueError, "padding=-1 (padding must be >= 0)"):
    conv3d_layer((4, 4, 4, 1), 3, 2, padding=-1)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [
    (((0, 4, 4, 1), 3, 2), {}),
    (((4, 4, 4, 1), 0, 2), {}),
    (((4, 4, 4, 1), 3, 0), {}),
    (((4, 4, 4, 1), 3, 2), {"stride": 0}),
    (((4, 4, 4, 1.0), 3, 2), {}),
    (((4, 4, 4, 1, 1), 3, 2), {}),
    (((4, 4, 2, 1), 3, 2), {}),
    (((4, 4, 4, 1), 3, 2), {"stride": False}),
]:
    with expect_error(ValueError, f"conv3d_layer{_args} {_kwargs}"):
        conv3d_layer(*_args, **_kwargs)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: a small 1D CNN for signals of any length (3 points)
#
# Build the chapter's recipe in miniature, as an `nn.Sequential` with exactly these
# layers, in this order:
#
# 1. `nn.Conv1d(1, 16, 5, padding=2)`, `nn.ReLU()`, `nn.MaxPool1d(2)`;
# 2. `nn.Conv1d(16, 32, 5, padding=2)`, `nn.ReLU()`;
# 3. `nn.AdaptiveMaxPool1d(1)` (the largest value of each channel over time),
#    `nn.Flatten()`, `nn.Linear(32, n_classes)`.
#
# `make_signal_cnn(n_classes)`
# : return that network; raise `ValueError` if `n_classes` is not an `int` ≥ 2 (a `bool` is
#   not an `int` here). Outputs are compared with the specified network at a tolerance of 1e-5. For an input
#   `(N, 1, L)` it must return `(N, n_classes)` for **any** length $L \ge 2$: the global
#   pooling removes the time axis, so the linear layer always sees 32 numbers.
#
# Worked example:
#
# ```python
# >>> net = make_signal_cnn(4)
# >>> net(torch.zeros(3, 1, 512)).shape, net(torch.zeros(3, 1, 100)).shape
# (torch.Size([3, 4]), torch.Size([3, 4]))
# >>> sum(p.numel() for p in net.parameters())      # 96 + 2,592 + 132
# 2820
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_signal_cnn(n_classes):
    """A Conv1d-ReLU-MaxPool-Conv1d-ReLU-global max pool-Linear network: (N, 1, L) -> (N, n_classes)."""
    ### BEGIN SOLUTION
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    return nn.Sequential(
        nn.Conv1d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.AdaptiveMaxPool1d(1),
        nn.Flatten(),
        nn.Linear(32, n_classes),
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_signal_cnn_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of make_signal_cnn: the network (2 points).
net = make_signal_cnn(4)  # the worked example
assert isinstance(net, nn.Module), f"expected an nn.Module, got {type(net).__name__}"
for length in (512, 100, 14, 2):
    shape = tuple(net(torch.zeros(3, 1, length)).shape)
    assert shape == (3, 4), f"input (3, 1, {length}): expected output (3, 4), got {shape}"
n_params = sum(p.numel() for p in net.parameters())
assert n_params == 2820, f"expected 96 + 2,592 + 132 = 2,820 parameters, got {n_params:,}"
convs = [m for m in net.modules() if isinstance(m, nn.Conv1d)]
assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.padding[0]) for m in convs] == [
    (1, 16, 5, 2),
    (16, 32, 5, 2),
], "expected Conv1d(1, 16, 5, padding=2) and Conv1d(16, 32, 5, padding=2)"
assert tuple(make_signal_cnn(3)(torch.zeros(2, 1, 64)).shape) == (2, 3), "make_signal_cnn(3): expected (2, 3) outputs"
kinds = [type(m).__name__ for m in net if not isinstance(m, nn.Sequential)] if isinstance(net, nn.Sequential) else []
assert kinds == ["Conv1d", "ReLU", "MaxPool1d", "Conv1d", "ReLU", "AdaptiveMaxPool1d", "Flatten", "Linear"], (
    f"expected an nn.Sequential of [Conv1d, ReLU, MaxPool1d, Conv1d, ReLU, AdaptiveMaxPool1d, Flatten, Linear], got {kinds or type(net).__name__}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.checks import load_into_reference as _load_into_reference

_reference = nn.Sequential(
    nn.Conv1d(1, 16, 5, padding=2),
    nn.ReLU(),
    nn.MaxPool1d(2),
    nn.Conv1d(16, 32, 5, padding=2),
    nn.ReLU(),
    nn.AdaptiveMaxPool1d(1),
    nn.Flatten(),
    nn.Linear(32, 5),
)
_gen = torch.Generator().manual_seed(134)
_net = make_signal_cnn(5)
with torch.no_grad():
    for _p in _net.parameters():
        _p.copy_(torch.randn(_p.shape, generator=_gen))
_load_into_reference(_reference, _net, "make_signal_cnn(5)")
_net.eval()
for _length in (2, 3, 37, 200):
    _x = torch.randn(4, 1, _length, generator=_gen)
    with torch.no_grad():
        _got, _want = _net(_x), _reference(_x)
    assert torch.allclose(_got, _want, atol=1e-5), (
        f"length {_length}: outputs differ from the specified network (layer order, pooling or activation)"
    )
# global max pooling: a pattern placed later in a zero signal gives the same output (away from the borders)
_pattern = torch.randn(1, 1, 9, generator=_gen)
_a, _b = torch.zeros(1, 1, 64), torch.zeros(1, 1, 64)
_a[..., 10:19], _b[..., 40:49] = _pattern, _pattern
with torch.no_grad():
    assert torch.allclose(_net(_a), _net(_b), atol=1e-5), (
        "the network's output should not depend on where the pattern is"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of make_signal_cnn: the errors it raises (1 point).
assert isinstance(make_signal_cnn(2), nn.Module), "n_classes = 2 is valid and must not raise"
for bad in (1, 2.0, True):
    with expect_error(ValueError, f"n_classes = {bad!r} (it must be an int >= 2; a bool or a float is not one)"):
        make_signal_cnn(bad)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in (0, -3, "3", None, False):
    with expect_error(ValueError, f"make_signal_cnn({_bad!r})"):
        make_signal_cnn(_bad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: a motion feature (3 points)
#
# A 3D CNN tells a square moving left from one moving right because its filters span
# several frames. Here you compute such a feature by hand. In each frame $t$ of a clip, the
# bright pixels (value above `threshold`) have a mean column $\bar x_t$ (their horizontal
# centre). Their average **velocity** in pixels per frame is the mean of the differences
# between consecutive frames,
#
# $$v = \frac{1}{T - 1}\sum_{t=1}^{T-1} \left(\bar x_t - \bar x_{t-1}\right) = \frac{\bar x_{T-1} - \bar x_0}{T - 1}.$$
#
# `horizontal_velocity(clips, threshold=0.5)`
# : `clips` is a float tensor `(N, 1, T, H, W)` (the chapter's layout, time as depth).
#   Return a float tensor `(N,)` with $v$ for every clip (columns numbered $0 \ldots W-1$;
#   negative means moving left). Raise `ValueError` if `clips` does not have 5 dimensions
#   or fewer than 2 frames, or if some frame has no pixel above `threshold` (strictly above:
#   a pixel equal to `threshold` does not count). Values are compared with a tolerance of 1e-5.
#
# Worked example: one clip of 3 frames in which a single bright pixel moves from column 1 to
# column 3 to column 5:
#
# ```python
# >>> clip = torch.zeros(1, 1, 3, 4, 8)
# >>> clip[0, 0, 0, 2, 1] = clip[0, 0, 1, 2, 3] = clip[0, 0, 2, 2, 5] = 1.0
# >>> horizontal_velocity(clip)
# tensor([2.])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def horizontal_velocity(clips, threshold=0.5):
    """Mean horizontal velocity (pixels per frame) of the bright pixels of each (1, T, H, W) clip; returns (N,)."""
    ### BEGIN SOLUTION
    if clips.ndim != 5 or clips.shape[2] < 2:
        raise ValueError(f"clips must have shape (N, 1, T, H, W) with T >= 2, got {tuple(clips.shape)}")
    bright = (clips[:, 0] > threshold).float()  # (N, T, H, W)
    per_column = bright.sum(dim=2)  # (N, T, W)
    counts = per_column.sum(dim=-1)  # (N, T)
    if (counts == 0).any():
        raise ValueError("some frame has no pixel above the threshold")
    columns = torch.arange(clips.shape[-1], dtype=torch.float32)
    centre = (per_column * columns).sum(dim=-1) / counts  # (N, T)
    return (centre[:, -1] - centre[:, 0]) / (clips.shape[2] - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_motion_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of horizontal_velocity: the velocity (2 points).
clip = torch.zeros(1, 1, 3, 4, 8)
clip[0, 0, 0, 2, 1] = clip[0, 0, 1, 2, 3] = clip[0, 0, 2, 2, 5] = 1.0
v = horizontal_velocity(clip)  # the worked example
assert isinstance(v, torch.Tensor) and v.is_floating_point(), f"expected a float tensor, got {v!r}"
assert tuple(v.shape) == (1,), f"one clip: expected shape (1,), got {tuple(v.shape)}"
if torch.allclose(v, torch.tensor([-2.0])):
    raise AssertionError("got -2: the pixel moves to larger column numbers, to the right, so v = +2")
if torch.allclose(v, torch.tensor([4.0])):
    raise AssertionError("got 4: divide by the number of frame-to-frame steps, T - 1 = 2")
assert torch.allclose(v, torch.tensor([2.0])), f"expected tensor([2.]), got {v}"
clips, labels = make_moving_squares(30, seed=0, noise=0.0)
v = horizontal_velocity(clips)
expected = labels.float() - 1  # left -1, static 0, right +1
assert torch.allclose(v, expected, atol=1e-5), (
    f"noise-free moving squares: expected velocities {expected[:6].tolist()}..., got {v[:6].tolist()}..."
)
two = torch.zeros(1, 1, 2, 3, 6)
two[0, 0, 0, 0, 0] = two[0, 0, 0, 2, 2] = 1.0  # frame 0: columns 0 and 2, centre 1
two[0, 0, 1, 1, 4] = 0.9  # frame 1: column 4
two[0, 0, 1, 1, 0] = 0.5  # equal to the threshold: not bright
v = horizontal_velocity(two)
assert torch.allclose(v, torch.tensor([3.0]), atol=1e-5), (
    f"frame 0 bright in columns 0 and 2 (centre 1), frame 1 in column 4 (a 0.5 pixel is not above 0.5): expected [3.], got {v.tolist()}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_clips, _labels = make_moving_squares(60, frames=6, size=20, seed=135, speed=2, noise=0.05)
_v = horizontal_velocity(_clips)
assert tuple(_v.shape) == (60,), f"expected shape (60,), got {tuple(_v.shape)}"
assert torch.equal(torch.sign(torch.round(_v)).long() + 1, _labels), (
    "speed 2, noise 0.05: the sign of v should give the direction of every clip"
)
_clean, _clean_labels = make_moving_squares(12, frames=6, size=20, seed=136, speed=2, noise=0.0)
assert torch.allclose(horizontal_velocity(_clean), 2.0 * (_clean_labels.float() - 1), atol=1e-5), (
    "speed 2: expected velocities -2, 0, +2"
)
_two = torch.zeros(2, 1, 2, 5, 5)
_two[0, 0, 0, 1, 0] = _two[0, 0, 0, 3, 2] = 1.0  # clip 0, frame 0: columns 0 and 2, centre 1
_two[0, 0, 1, 0, 4] = 0.9  # frame 1: column 4
_two[1, 0, :, 2, 2] = 0.7
_two[1, 0, 1, 2, 0] = 0.4  # below the threshold: ignored
assert torch.allclose(horizontal_velocity(_two), torch.tensor([3.0, 0.0])), (
    f"expected [3., 0.], got {horizontal_velocity(_two)}"
)
assert torch.allclose(horizontal_velocity(_two, threshold=0.3), torch.tensor([3.0, -1.0])), (
    "with threshold 0.3 the 0.4 pixel counts"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex5_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of horizontal_velocity: the errors it raises (1 point).
assert tuple(horizontal_velocity(torch.ones(1, 1, 2, 2, 2)).shape) == (1,), "a valid clip of 2 frames must not raise"
with expect_error(ValueError, "a clip whose frames are all 0: no bright pixel"):
    horizontal_velocity(torch.zeros(1, 1, 3, 4, 8))
with expect_error(ValueError, "a (N, T, H, W) tensor without the channel axis"):
    horizontal_velocity(torch.ones(2, 3, 4, 8))
with expect_error(ValueError, "a clip of one frame (no velocity without 2 frames)"):
    horizontal_velocity(torch.ones(1, 1, 1, 4, 4))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_bad = torch.ones(2, 1, 4, 3, 3)
_bad[1, 0, 2] = 0.2
with expect_error(ValueError, "the third frame of the second clip has no pixel above 0.5"):
    horizontal_velocity(_bad)
### END HIDDEN TESTS

# %% [markdown]
# The hand-made feature on clips like the chapter's (8 frames of 16 × 16, noise 0.1):
# the velocity's sign, rounded, is the direction. The 3D CNN of the chapter
# learns a feature of this kind from the labels alone.

# %%
# NBVAL_CHECK_OUTPUT
clips, labels = make_moving_squares(300, seed=2)
v = horizontal_velocity(clips)
predicted = torch.sign(torch.round(v)).long() + 1
for k, name in enumerate(("left", "static", "right")):
    print(f"{name:6s}: mean velocity {float(v[labels == k].mean()):+.2f} pixels per frame")
print(f"accuracy of sign(round(v)): {float((predicted == labels).float().mean()):.2f}")

# %% [markdown]
# Convolutions are not only for images: any data laid out on a regular grid, along one,
# two or three axes, and whose patterns are local and can occur anywhere, suits them.
