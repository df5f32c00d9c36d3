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
# # Chapter 10 exercises: semantic segmentation and U-Net
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch10/ch10_exercises.ipynb)
#
# Four exercises on Chapter 10, *Semantic segmentation and U-Net*: the matrix of a
# convolution (the lecture's 4 × 16 matrix that turns its 4 × 4 input into
# [[122, 148], [126, 134]]), the output size of a transposed convolution, a U-Net
# up-block with its skip concatenation, and the per-class and mean IoU of a
# segmentation. 16 points in all.
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
#   `ch10_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch10_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cvbook.checks import expect_error, refusing

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: the matrix of a convolution (4 points)
#
# A convolution (cross-correlation, as in PyTorch: the kernel is not flipped) of an
# $n \times n$ input with an $f \times f$ kernel and stride $s$, without padding, gives an
# $m \times m$ output with $m = \lfloor (n - f) / s \rfloor + 1$. Flatten the input row by row
# into a vector of length $n^2$ and the output into one of length $m^2$: the convolution
# is then a matrix $C$ of shape $(m^2, n^2)$, and output pixel $(i, j)$ is row $i m + j$.
# That row holds the kernel weight $k_{u,v}$ in the column of the input pixel
# $(i s + u,\ j s + v)$ that it multiplies, for $0 \le u, v < f$, and zeros elsewhere.
#
# `conv_matrix(kernel, n, stride=1)`
# : `kernel` is a float tensor of shape (f, f) and `n` an `int`. Return $C$, a tensor of
#   shape $(m^2, n^2)$ with the kernel's dtype, such that `C @ x.flatten()` equals the
#   flattened convolution of any (n, n) input `x`. Raise `ValueError` if `kernel` is not
#   a square 2-D tensor, or if $f > n$. Do not call `F.conv2d`, `F.unfold` or
#   `cvbook.segment.conv_matrix`: build the matrix yourself. Values are compared with a
#   tolerance of 1e-5 (relative) and 1e-6 (absolute); the dtype must be the kernel's (a float64
#   kernel gives a float64 matrix).
#
# Worked example, the lecture's kernel and 4 × 4 input:
#
# ```python
# >>> k = torch.tensor([[1., 4, 1], [1, 4, 3], [3, 3, 1]])
# >>> C = conv_matrix(k, 4)
# >>> C.shape
# torch.Size([4, 16])
# >>> C[0]
# tensor([1., 4., 1., 0., 1., 4., 3., 0., 3., 3., 1., 0., 0., 0., 0., 0.])
# >>> x = torch.tensor([[4., 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]])
# >>> (C @ x.flatten()).view(2, 2)
# tensor([[122., 148.],
#         [126., 134.]])
# ```
#
# Its transpose $C^\top$, of shape $(n^2, m^2)$, is the transposed convolution: it maps an
# $m \times m$ map back to $n \times n$.


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_matrix(kernel, n, stride=1):
    """The (m*m, n*n) matrix of an f x f convolution with stride `stride` on an n x n input."""
    ### BEGIN SOLUTION
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must have shape (f, f), got {tuple(kernel.shape)}")
    f = kernel.shape[0]
    if f > n:
        raise ValueError(f"a {f} x {f} kernel does not fit in a {n} x {n} input")
    m = (n - f) // stride + 1
    C = torch.zeros(m * m, n * n, dtype=kernel.dtype)
    for i in range(m):
        for j in range(m):
            for u in range(f):
                for v in range(f):
                    C[i * m + j, (i * stride + u) * n + (j * stride + v)] = kernel[u, v]
    return C
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_conv_matrix_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_matrix: the matrix (3 points).
CONV = ("torch.nn.functional.conv2d", "torch.nn.functional.unfold", "cvbook.segment.conv_matrix")
k = torch.tensor([[1.0, 4, 1], [1, 4, 3], [3, 3, 1]])
x = torch.tensor([[4.0, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]])
with refusing(*CONV):
    C = conv_matrix(k, 4)  # the worked example
assert isinstance(C, torch.Tensor), f"expected a tensor, got {type(C).__name__}"
assert tuple(C.shape) == (4, 16), (
    f"a 4 x 4 input gives 2 x 2 = 4 outputs from 16 inputs: expected shape (4, 16), got {tuple(C.shape)}"
)
assert C[0].tolist() == [1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0], (
    f"row 0 (output pixel (0, 0)): expected the lecture's [1 4 1 0 1 4 3 0 3 3 1 0 0 0 0 0], got {C[0].tolist()}"
)
assert C[3].tolist() == [0, 0, 0, 0, 0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1], (
    f"row 3 (output pixel (1, 1)): expected [0 0 0 0 0 1 4 1 0 1 4 3 0 3 3 1], got {C[3].tolist()}"
)
y = (C @ x.flatten()).view(2, 2)
assert y.tolist() == [[122, 148], [126, 134]], f"C @ x: expected [[122, 148], [126, 134]], got {y.tolist()}"
with refusing(*CONV):
    C2 = conv_matrix(torch.ones(2, 2), 5, stride=2)
assert tuple(C2.shape) == (4, 25), (
    f"a 2 x 2 kernel with stride 2 on 5 x 5 gives 2 x 2 outputs: expected shape (4, 25), got {tuple(C2.shape)}"
)
assert C2[1].nonzero().flatten().tolist() == [2, 3, 7, 8], (
    f"stride 2: output (0, 1) sees input pixels (0, 2), (0, 3), (1, 2), (1, 3), columns [2, 3, 7, 8]; got {C2[1].nonzero().flatten().tolist()}"
)
with refusing(*CONV):
    C64 = conv_matrix(torch.ones(2, 2, dtype=torch.float64), 3)
assert C64.dtype == torch.float64, (
    f"a float64 2 x 2 kernel: the matrix must have the kernel's dtype, float64, got {C64.dtype}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(101)
for _n, _f, _s in [(5, 3, 1), (6, 2, 2), (7, 3, 2), (8, 5, 3), (4, 4, 1), (3, 1, 1), (9, 3, 3), (6, 1, 2)]:
    _k = torch.randn(_f, _f, generator=_gen, dtype=torch.float64)
    _x = torch.randn(_n, _n, generator=_gen, dtype=torch.float64)
    with refusing(*CONV):
        _C = conv_matrix(_k, _n, stride=_s)
    _want = F.conv2d(_x[None, None], _k[None, None], stride=_s)[0, 0]
    assert tuple(_C.shape) == (_want.numel(), _n * _n), (
        f"conv_matrix(f={_f}, n={_n}, stride={_s}): expected shape {(_want.numel(), _n * _n)}, got {tuple(_C.shape)}"
    )
    assert _C.dtype == torch.float64, f"the matrix must have the kernel's dtype (float64 here), got {_C.dtype}"
    assert torch.allclose(_C @ _x.flatten(), _want.flatten(), rtol=1e-5, atol=1e-6), (
        f"conv_matrix(f={_f}, n={_n}, stride={_s}) @ x differs from the convolution: largest difference {float((_C @ _x.flatten() - _want.flatten()).abs().max()):.2e}"
    )
    _y = torch.randn(_want.shape, generator=_gen, dtype=torch.float64)
    _op = (_n - _f) % _s
    _tr = F.conv_transpose2d(_y[None, None], _k[None, None], stride=_s, output_padding=_op)[0, 0]
    assert torch.allclose(_C.T @ _y.flatten(), _tr.flatten(), rtol=1e-5, atol=1e-6), (
        f"conv_matrix(f={_f}, n={_n}, stride={_s}): C^T @ y must equal the transposed convolution (each kernel weight in its place)"
    )
assert torch.equal(conv_matrix(torch.tensor([[2.0]]), 2), 2 * torch.eye(4)), (
    "a 1 x 1 kernel w on a 2 x 2 input: expected w times the 4 x 4 identity"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_matrix: the errors it raises (1 point).
assert tuple(conv_matrix(torch.ones(3, 3), 3).shape) == (1, 9), (
    "a valid kernel as large as the input must not raise: expected shape (1, 9)"
)
with expect_error(ValueError, "a 5 x 5 kernel on a 3 x 3 input (f > n)"):
    conv_matrix(torch.ones(5, 5), 3)
with expect_error(ValueError, "a kernel of shape (2, 3), not square"):
    conv_matrix(torch.ones(2, 3), 6)
with expect_error(ValueError, "a 1-D kernel of shape (3,), not 2-D"):
    conv_matrix(torch.ones(3), 4)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _shape, _n in [((4, 4), 3), ((1, 2), 4), ((2, 2, 2), 4)]:
    with expect_error(ValueError, f"a kernel of shape {_shape} on a {_n} x {_n} input"):
        conv_matrix(torch.ones(_shape), _n)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: the output size of a transposed convolution (3 points)
#
# A transposed convolution pastes a copy of its $f \times f$ kernel for each of its $n$
# input pixels per row, $s$ pixels apart; then it cuts $p$ pixels (`padding`) from each
# side, and keeps `output_padding` extra rows and columns at the bottom and right. Its
# output size along one axis is
#
# $$n_{out} = (n - 1)\,s - 2p + f + \text{output\_padding}.$$
#
# `conv_transpose_output_size(n, f, stride=1, padding=0, output_padding=0)`
# : return $n_{out}$ as an `int`, as `nn.ConvTranspose2d` computes it (dilation 1). Raise
#   `ValueError` if `n`, `f` or `stride` is not an `int` ≥ 1 (a `bool` is not one), if
#   `padding` or `output_padding` is not an `int` ≥ 0, if `output_padding >= stride` (PyTorch
#   refuses it), or if the result would be smaller than 1. Do not build a PyTorch layer to
#   measure it: compute the formula.
#
# Worked examples: U-Net's up-convolution ($f = s = 2$) doubles the size; with the lecture's
# $3 \times 3$ kernel, stride 2 and padding 1, a $2 \times 2$ input gives $3 \times 3$, or
# $4 \times 4$ with `output_padding=1`:
#
# ```python
# >>> conv_transpose_output_size(16, 2, stride=2)
# 32
# >>> conv_transpose_output_size(2, 3, stride=2, padding=1)
# 3
# >>> conv_transpose_output_size(2, 3, stride=2, padding=1, output_padding=1)
# 4
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_transpose_output_size(n, f, stride=1, padding=0, output_padding=0):
    """Output size along one axis of a transposed convolution (dilation 1)."""
    ### BEGIN SOLUTION
    for name, value, low in [
        ("n", n, 1),
        ("f", f, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("output_padding", output_padding, 0),
    ]:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if output_padding >= stride:
        raise ValueError(f"output_padding must be smaller than stride, got {output_padding} and {stride}")
    size = (n - 1) * stride - 2 * padding + f + output_padding
    if size < 1:
        raise ValueError(f"padding {padding} leaves no output (size {size})")
    return size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_transposed_size_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_transpose_output_size: the formula (2 points).
TRANSPOSED = ("torch.nn.functional.conv_transpose2d", "cvbook.segment.conv_transpose_output_size")
with refusing(*TRANSPOSED):
    size = conv_transpose_output_size(16, 2, stride=2)  # the worked examples
assert isinstance(size, int), f"expected an int, got {type(size).__name__}"
assert size == 32, f"f = s = 2 doubles the size: expected 32, got {size}"
if conv_transpose_output_size(2, 3, stride=2, padding=1) == 5:
    raise AssertionError("got 5: padding cuts p pixels from *each* side (subtract 2p)")
assert conv_transpose_output_size(2, 3, stride=2, padding=1) == 3, (
    f"n=2, f=3, s=2, p=1: expected (2-1)*2 - 2 + 3 = 3, got {conv_transpose_output_size(2, 3, stride=2, padding=1)}"
)
assert conv_transpose_output_size(2, 3, stride=2, padding=1, output_padding=1) == 4, "output_padding=1 adds one row"
assert conv_transpose_output_size(2, 3) == 4, "n=2, f=3, stride 1, no padding: the lecture's 2 x 2 -> 4 x 4"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_checked = 0
for _n in range(1, 6):
    for _f in (1, 2, 3, 4, 5):
        for _s in (1, 2, 3):
            for _p in (0, 1, 2):
                for _op in range(_s):
                    _layer = nn.ConvTranspose2d(1, 1, _f, stride=_s, padding=_p, output_padding=_op, device="meta")
                    try:
                        _want = _layer(torch.empty(1, 1, _n, _n, device="meta")).shape[-1]
                    except RuntimeError:  # PyTorch refuses a negative size
                        _want = 0
                    if _want >= 1:
                        with refusing(*TRANSPOSED):
                            _got = conv_transpose_output_size(_n, _f, stride=_s, padding=_p, output_padding=_op)
                        assert _got == _want, (
                            f"conv_transpose_output_size({_n}, {_f}, stride={_s}, padding={_p}, output_padding={_op}): expected {_want}, got {_got}"
                        )
                        _checked += 1
assert _checked > 200
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv_transpose_output_size: the errors it raises (1 point).
assert conv_transpose_output_size(1, 1) == 1, "n = f = 1 is valid and must not raise: expected 1"
with expect_error(ValueError, "output_padding=2 with stride 2 (output_padding must be < stride)"):
    conv_transpose_output_size(4, 3, stride=2, output_padding=2)
with expect_error(ValueError, "n=1, f=1, padding=1: a size of -1, smaller than 1"):
    conv_transpose_output_size(1, 1, padding=1)
with expect_error(ValueError, "n=True: a bool is not an int size"):
    conv_transpose_output_size(True, 3)
with expect_error(ValueError, "n=4.0: a float is not an int"):
    conv_transpose_output_size(4.0, 3)
with expect_error(ValueError, "padding=-1: padding must be >= 0"):
    conv_transpose_output_size(4, 3, padding=-1)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [
    ((0, 3), {}),
    ((4, 0), {}),
    ((4, 3), {"stride": 0}),
    ((4, 3), {"output_padding": -1}),
    ((4, False), {}),
    ((4, 3), {"stride": 2.0}),
    ((4, 3), {"output_padding": 1}),
    ((1, 2), {"padding": 1}),
    ((2, 3), {"stride": 3, "padding": 3}),
]:
    with expect_error(ValueError, f"conv_transpose_output_size{_args} {_kwargs}"):
        conv_transpose_output_size(*_args, **_kwargs)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: a U-Net up-block with its skip connection (5 points)
#
# One step of U-Net's expanding path takes the feature map coming up from below,
# (N, `in_channels`, h, w), and the contracting path's map of twice that size, the
# **skip**, (N, `out_channels`, 2h, 2w). It
#
# 1. upsamples with `self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)`,
#    giving (N, `out_channels`, 2h, 2w);
# 2. concatenates the skip **in front** of it along the channels:
#    `torch.cat([skip, up], dim=1)`, (N, 2 `out_channels`, 2h, 2w);
# 3. applies `self.conv`, an `nn.Sequential` of exactly these six layers:
#    `nn.Conv2d(2 * out_channels, out_channels, 3, padding=1, bias=False)`,
#    `nn.BatchNorm2d(out_channels)`, `nn.ReLU()`,
#    `nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)`,
#    `nn.BatchNorm2d(out_channels)`, `nn.ReLU()`.
#
# `UpBlock(in_channels, out_channels)`
# : an `nn.Module` with the attributes `up` and `conv` above (the grader loads your block's
#   weights into the book's `cvbook.segment.UpBlock`, so the names and order matter).
#   `forward(x, skip)` returns (N, `out_channels`, 2h, 2w). Raise `ValueError` in `forward`
#   if `skip`'s shape is not (N, `out_channels`, 2h, 2w), the upsampled map's shape (check
#   it yourself before `torch.cat`, so that the message names the shapes). Outputs are
#   compared with the book's block at a tolerance of 1e-5.
#
# Worked example:
#
# ```python
# >>> block = UpBlock(16, 8)
# >>> block(torch.rand(2, 16, 6, 6), torch.rand(2, 8, 12, 12)).shape
# torch.Size([2, 8, 12, 12])
# >>> sum(p.numel() for p in block.parameters())  # 520 + 1,152 + 16 + 576 + 16
# 2280
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
class UpBlock(nn.Module):
    """U-Net up-block: 2x2 up-convolution, concatenation [skip, up], two 3x3 conv-BN-ReLU."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        ### BEGIN SOLUTION
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = nn.Sequential(
            nn.Conv2d(2 * out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        ### END SOLUTION

    def forward(self, x, skip):
        ### BEGIN SOLUTION
        up = self.up(x)
        if skip.shape != up.shape:
            raise ValueError(f"skip must have shape {tuple(up.shape)}, got {tuple(skip.shape)}")
        return self.conv(torch.cat([skip, up], dim=1))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_up_block_tests", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Tests of UpBlock: the layers and the forward pass (4 points).
torch.manual_seed(0)
block = UpBlock(16, 8)  # the worked example
assert isinstance(getattr(block, "up", None), nn.ConvTranspose2d), "set self.up to an nn.ConvTranspose2d"
assert isinstance(getattr(block, "conv", None), nn.Sequential), "set self.conv to an nn.Sequential of the six layers"
assert (block.up.kernel_size, block.up.stride) == ((2, 2), (2, 2)), (
    f"the up-convolution is 2 x 2 with stride 2, got kernel {block.up.kernel_size}, stride {block.up.stride}"
)
kinds = [type(layer).__name__ for layer in block.conv]
assert kinds == ["Conv2d", "BatchNorm2d", "ReLU"] * 2, (
    f"expected conv layers [Conv2d, BatchNorm2d, ReLU] x 2, got {kinds}"
)
if block.conv[0].in_channels == 8:
    raise AssertionError(
        "the first 3 x 3 convolution sees the concatenation: 2 * out_channels = 16 input channels, not 8"
    )
count = sum(p.numel() for p in block.parameters())
assert count == 2_280, f"UpBlock(16, 8): expected 2,280 parameters, got {count:,}"
out = block(torch.rand(2, 16, 6, 6), torch.rand(2, 8, 12, 12))
assert tuple(out.shape) == (2, 8, 12, 12), f"expected output shape (2, 8, 12, 12), got {tuple(out.shape)}"
assert (out >= 0).all(), "the block ends with a ReLU: its output cannot be negative"
block.eval()
x, skip = torch.rand(1, 16, 3, 5), torch.rand(1, 8, 6, 10)
first = block.conv[0]
with torch.no_grad():
    first.weight[:, 8:] = 0  # the second half of the input channels (the upsampled map) is now ignored
    out1 = block(x, skip)
    out2 = block(torch.rand(1, 16, 3, 5), skip)
assert torch.allclose(out1, out2), "concatenate the skip *first*: torch.cat([skip, up], dim=1)"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.checks import load_into_reference as _load_into_reference, randomize_parameters as _randomize_parameters
from cvbook.segment import UpBlock as _Reference

_gen = torch.Generator().manual_seed(103)
for _cin, _cout, _h, _w in [(8, 4, 3, 3), (6, 3, 2, 5), (4, 4, 1, 1), (10, 5, 4, 2)]:
    _block = _randomize_parameters(UpBlock(_cin, _cout), _gen, conv_scale=0.5).eval()
    with torch.no_grad():
        _block.up.weight.copy_(torch.randn(_block.up.weight.shape, generator=_gen))
        _block.up.bias.copy_(torch.randn(_block.up.bias.shape, generator=_gen))
    _ref = _load_into_reference(_Reference(_cin, _cout), _block, f"UpBlock({_cin}, {_cout})").eval()
    _x = torch.randn(2, _cin, _h, _w, generator=_gen)
    _skip = torch.randn(2, _cout, 2 * _h, 2 * _w, generator=_gen)
    with torch.no_grad():
        _got, _want = _block(_x, _skip), _ref(_x, _skip)
    assert _got.shape == _want.shape and torch.allclose(_got, _want, atol=1e-5), (
        f"UpBlock({_cin}, {_cout}) on {(2, _cin, _h, _w)}: the output differs from the book's up-block (largest difference {float((_got - _want).abs().max()):.2e})"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of UpBlock: a skip of the wrong shape (1 point).


def expect_value_error(call, why):
    """The call must raise ValueError; any other error is reported with what was expected."""
    try:
        call()
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as err:
        raise AssertionError(
            f"{why}: expected a ValueError from your own shape check, got {type(err).__name__}: {err}"
        ) from None
    raise AssertionError(f"{why}: expected a ValueError, but nothing was raised")


torch.manual_seed(0)
block = UpBlock(16, 8).eval()
assert tuple(block(torch.rand(1, 16, 3, 5), torch.rand(1, 8, 6, 10)).shape) == (1, 8, 6, 10), (
    "a skip of the right shape (1, 8, 6, 10) must not raise"
)
expect_value_error(
    lambda: block(torch.rand(1, 16, 3, 3), torch.rand(1, 8, 7, 7)),
    "UpBlock(16, 8): a skip of shape (1, 8, 7, 7) for an upsampled map of shape (1, 8, 6, 6)",
)
expect_value_error(
    lambda: block(torch.rand(1, 16, 3, 3), torch.rand(1, 4, 6, 6)),
    "UpBlock(16, 8): a skip with 4 channels instead of out_channels = 8",
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in [(2, 4, 6, 6), (2, 8, 6, 7), (1, 8, 6, 6), (2, 8, 3, 3)]:
    expect_value_error(
        lambda: UpBlock(4, 8)(torch.zeros(2, 4, 3, 3), torch.zeros(_bad)),
        f"UpBlock(4, 8): a skip of shape {_bad} for an upsampled map of shape (2, 8, 6, 6)",
    )
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: per-class IoU and mean IoU (4 points)
#
# For a predicted segmentation `pred` and the truth `target` (integer masks of the same
# shape with class indices $0, \dots, K-1$), class $k$'s intersection over union is
#
# $$\text{IoU}_k = \frac{|\{\text{pred} = k\} \cap \{\text{target} = k\}|}{|\{\text{pred} = k\} \cup \{\text{target} = k\}|},$$
#
# and the mean IoU is the mean of the $\text{IoU}_k$ over the classes whose union is not
# empty (a class in neither mask says nothing and is left out).
#
# `iou_scores(pred, target, num_classes)`
# : return a tuple `(iou, mean_iou)`: `iou` a float64 tensor of shape (`num_classes`,)
#   holding $\text{IoU}_k$, or `nan` (`float("nan")`) for a class absent from both masks,
#   and `mean_iou` a Python `float`. Raise `ValueError` if `pred` and `target` differ in
#   shape. Do not use scikit-learn or the book's package. Values are compared with a tolerance
#   of 1e-6, so computing in float32 before converting is fine.
#
# Worked example:
#
# ```python
# >>> target = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])
# >>> pred   = torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1]])
# >>> iou_scores(pred, target, 3)
# (tensor([0.7500, 0.8000,    nan], dtype=torch.float64), 0.775)
# ```
#
# (Class 0: 3 pixels in both, 4 in either; class 1: 4 in both, 5 in either; class 2:
# nowhere.)


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def iou_scores(pred, target, num_classes):
    """(per-class IoU as a (num_classes,) float64 tensor with nan for absent classes, mean IoU as a float)."""
    ### BEGIN SOLUTION
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    iou = torch.full((num_classes,), float("nan"), dtype=torch.float64)
    for k in range(num_classes):
        p, t = pred == k, target == k
        union = (p | t).sum().item()
        if union:
            iou[k] = (p & t).sum().item() / union
    return iou, float(iou[~iou.isnan()].mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_iou_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of iou_scores: the scores (3 points).
SEGMENT = ("sklearn.metrics.jaccard_score", "cvbook.segment.segmentation_scores", "cvbook.segment.confusion_matrix")


def near(got, want):
    """Float comparison fit for float32 arithmetic."""
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6)


target = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])
pred = torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1]])
with refusing(*SEGMENT):
    result = iou_scores(pred, target, 3)  # the worked example
assert isinstance(result, tuple) and len(result) == 2, f"expected a tuple (iou, mean_iou), got {result!r}"
iou, miou = result
assert isinstance(iou, torch.Tensor) and iou.dtype == torch.float64, "iou must be a float64 tensor"
assert tuple(iou.shape) == (3,), f"one IoU per class: expected shape (3,), got {tuple(iou.shape)}"
assert isinstance(miou, float), f"mean_iou must be a Python float, got {type(miou).__name__}"
assert near(iou[0].item(), 0.75), f"class 0: 3 pixels in both masks, 4 in either: expected 0.75, got {iou[0].item()}"
assert near(iou[1].item(), 0.8), f"class 1: 4 pixels in both masks, 5 in either: expected 0.8, got {iou[1].item()}"
assert math.isnan(iou[2].item()), f"class 2 is in neither mask: expected nan, got {iou[2].item()}"
if near(miou, (0.75 + 0.8) / 3):
    raise AssertionError("leave the absent class out of the mean: (0.75 + 0.8) / 2, not / 3")
assert near(miou, 0.775), f"expected the mean IoU (0.75 + 0.8) / 2 = 0.775, got {miou}"
with refusing(*SEGMENT):
    iou, miou = iou_scores(torch.zeros(5, 5, dtype=torch.long), (torch.arange(25).view(5, 5) % 5 == 0).long(), 2)
assert near(iou[0].item(), 0.8) and iou[1].item() == 0.0, (
    f"all-background prediction: expected IoUs [0.8, 0.0] (class 1 missed entirely), got {iou.tolist()}"
)
with refusing(*SEGMENT):
    iou, miou = iou_scores(torch.tensor([2, 0, 0, 0]), torch.tensor([0, 0, 0, 0]), 4)
assert iou[2].item() == 0.0 and math.isnan(iou[1].item()), (
    f"pred [2, 0, 0, 0], target [0, 0, 0, 0]: class 2 is only in the prediction (IoU 0), class 1 in neither (nan); got {iou.tolist()}"
)
assert near(miou, 0.375), (
    f"pred [2, 0, 0, 0], target [0, 0, 0, 0]: expected mean IoU (0.75 + 0) / 2 = 0.375 (class 2 counts), got {miou}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import jaccard_score as _jaccard_score

_gen = torch.Generator().manual_seed(104)
for _k, _shape in [(4, (3, 16, 16)), (2, (10, 10)), (6, (2, 9, 7)), (3, (50,))]:
    _target = torch.randint(0, _k, _shape, generator=_gen)
    _pred = torch.where(torch.rand(_shape, generator=_gen) < 0.6, _target, torch.randint(0, _k, _shape, generator=_gen))
    with refusing(*SEGMENT):
        _iou, _miou = iou_scores(_pred, _target, _k)
    _want = _jaccard_score(_target.flatten().numpy(), _pred.flatten().numpy(), labels=list(range(_k)), average=None)
    assert np.allclose(_iou.double().numpy(), _want, rtol=1e-6, atol=1e-6), (
        f"{_k} classes on masks of shape {_shape}: expected IoUs {np.round(_want, 4)}, got {_iou}"
    )
    assert near(_miou, float(_want.mean())), (
        f"{_k} classes on masks of shape {_shape}: expected mean IoU {_want.mean():.4f}, got {_miou}"
    )
_iou, _miou = iou_scores(torch.ones(3, 3, dtype=torch.long), torch.ones(3, 3, dtype=torch.long), 2)
assert math.isnan(_iou[0].item()) and _iou[1].item() == 1.0 and near(_miou, 1.0), (
    "a perfect single-class prediction: [nan, 1.0], mean 1.0"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of iou_scores: masks of different shapes (1 point).
assert len(iou_scores(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), 2)) == 2, (
    "masks of the same shape must not raise"
)
with expect_error(ValueError, "pred of shape (2, 3) and target of shape (3, 2)"):
    iou_scores(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long), 2)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "pred of shape (6,) and target of shape (2, 3), the same number of pixels"):
    iou_scores(torch.zeros(6, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), 2)
### END HIDDEN TESTS

# %% [markdown]
# These are the pieces of Chapter 10: the package's `cvbook.segment` has them all
# (`conv_matrix`, `conv_transpose_output_size`, `UpBlock`, `segmentation_scores`). Chapter 11
# turns from labelling pixels to comparing faces: verification and one-shot learning.
