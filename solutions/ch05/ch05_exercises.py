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
# # Chapter 5 exercises: going deeper
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch05/ch05_exercises.ipynb)
#
# Five exercises on Chapter 5, *Going deeper: ResNets, 1 × 1 convolutions, Inception*:
# the residual block with its identity shortcut, the block with a projection shortcut
# $W_s$ for when the shapes change (and ResNet-18 built from it), a 1 × 1 convolution
# written as a fully connected layer applied at every pixel, the multiplications an
# Inception branch saves with a 1 × 1 bottleneck, and a whole Inception module.
# 16 points in all.
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
#   `ch05_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch05_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
import torch.nn.functional as F
from torch import nn

from cvbook.checks import expect_error, refusing, zero_parameters
from cvbook.models import count_parameters

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: a residual block (3 points)
#
# A residual block adds its input $a^{[l]}$ to the output of two layers, *before* the
# last activation:
#
# $$z^{[l+2]} = \mathrm{BN}\big(W^{[l+2]} * \mathrm{ReLU}(\mathrm{BN}(W^{[l+1]} * a^{[l]}))\big), \qquad
# a^{[l+2]} = \mathrm{ReLU}\big(z^{[l+2]} + a^{[l]}\big),$$
#
# where $*$ is a 3 × 3 "same" convolution (padding 1), so that $z^{[l+2]}$ and
# $a^{[l]}$ have the same shape and can be added (the identity shortcut).
#
# `ResidualBlock(channels)`
# : an `nn.Module` for inputs of shape (N, `channels`, H, W). In `__init__`, set
#   `self.body` to an `nn.Sequential` of exactly these five layers, in this order:
#   `nn.Conv2d(channels, channels, 3, padding=1, bias=False)`, `nn.BatchNorm2d(channels)`,
#   `nn.ReLU()`, the same convolution again, `nn.BatchNorm2d(channels)` (a convolution
#   followed by batch norm needs no bias: BN's shift $\beta$ does that job). `forward(x)`
#   returns $\mathrm{ReLU}(\text{body}(x) + x)$, of the same shape as `x`, and does not
#   change `x`. (The grader copies weights into your block by these names.)
#
#   Graded in two parts: the layers (1 point), the forward pass (2 points).
#
# Worked example: when all the weights of the body are zero, $z^{[l+2]} = 0$ and the
# block is the identity on non-negative inputs (the ReLU outputs of the layer before),
# which is why adding residual blocks does not make a network worse:
#
# ```python
# >>> block = ResidualBlock(64)
# >>> count_parameters(block)                     # 2 * (3*3*64*64) + 2 * (64 + 64)
# 73984
# >>> a = torch.rand(1, 64, 8, 8)                 # non-negative, like a ReLU output
# >>> torch.equal(zero_parameters(block)(a), a)
# True
# ```
#
# Careful: the lecture's slide writes $a^{[l+2]} = g(z^{[l+2]}) + a^{[l]}$; the paper
# (and this exercise) applies $g$ = ReLU to the *sum*, so the block's output is never
# negative.


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers and an identity shortcut: ReLU(body(x) + x)."""

    def __init__(self, channels):
        super().__init__()
        ### BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return torch.relu(self.body(x) + x)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_residual_block_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of ResidualBlock: the layers (1 point).
block = ResidualBlock(64)  # the worked example
assert isinstance(getattr(block, "body", None), nn.Sequential), (
    "ResidualBlock(64): set self.body to an nn.Sequential of the five layers"
)
kinds = [type(layer).__name__ for layer in block.body]
assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"], (
    f"ResidualBlock(64): expected body layers [Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d], got {kinds}"
)
count = count_parameters(block)
if count == 73_984 + 128:
    raise AssertionError(
        "ResidualBlock(64): the convolutions have biases; use bias=False (batch norm's shift replaces them)"
    )
assert count == 73_984, (
    f"ResidualBlock(64): expected 73,984 parameters (2 * (3*3*64*64) + 2 * (64 + 64)), got {count:,}"
)
convs = [layer for layer in block.body if isinstance(layer, nn.Conv2d)]
got = [(conv.kernel_size, conv.padding, conv.stride) for conv in convs]
assert got == [((3, 3), (1, 1), (1, 1))] * 2, (
    f"ResidualBlock(64): both convolutions are 3 x 3 with padding 1 and stride 1, got (kernel, padding, stride) {got}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _c in (1, 3, 16):
    _block = ResidualBlock(_c)
    _want = 2 * (9 * _c * _c) + 4 * _c
    assert count_parameters(_block) == _want, (
        f"ResidualBlock({_c}): expected {_want:,} parameters, got {count_parameters(_block):,}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex1_residual_forward_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of ResidualBlock: the forward pass (2 points).
torch.manual_seed(0)
block = ResidualBlock(8)
x = torch.randn(2, 8, 6, 5)
x_before = x.clone()
out = block(x)
assert tuple(out.shape) == (2, 8, 6, 5), (
    f"ResidualBlock(8) on (2, 8, 6, 5): expected shape (2, 8, 6, 5), got {tuple(out.shape)} (padding=1 keeps H x W)"
)
assert torch.equal(x, x_before), "forward must not change its input x (no in-place operations on x)"
out_random = out

zero_parameters(block)
a = torch.rand(2, 8, 6, 5)
assert torch.equal(block(a), a), (
    "ResidualBlock(8) with all body weights zero: the block must be the identity on non-negative inputs"
)
out = block(x)  # x has negative values
if torch.allclose(out, x):
    raise AssertionError(
        "with zero weights you returned x itself for a negative input: apply the ReLU to the sum, "
        "ReLU(body(x) + x), not ReLU(body(x)) + x"
    )
assert torch.equal(out, torch.relu(x)), "ResidualBlock(8) with all body weights zero: expected ReLU(0 + x) = ReLU(x)"
assert (out_random >= 0).all(), (
    f"the output ends with a ReLU and cannot be negative, got a minimum of {out_random.min().item():.3f}"
)
x = x.clone().requires_grad_()
block(x).sum().backward()
assert x.grad is not None and torch.equal(x.grad, (x > 0).float()), (
    "with zero weights the gradient must still reach the input through the shortcut: expected 1 where x > 0, else 0"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.checks import load_into_reference as _reference_copy, randomize_parameters as _randomise
from cvbook.models import BasicBlock as _BasicBlock

_gen = torch.Generator().manual_seed(51)
for _c, _shape in [(1, (3, 1, 5, 7)), (3, (2, 3, 1, 1)), (16, (4, 16, 9, 4)), (5, (1, 5, 6, 6))]:
    _block = _randomise(ResidualBlock(_c), _gen)
    _ref = _reference_copy(_BasicBlock(_c, _c), _block, f"ResidualBlock({_c})")
    _x = torch.randn(_shape, generator=_gen)
    _before = _x.clone()
    for _mode in ("eval", "train"):
        _block.train(_mode == "train")
        _ref.train(_mode == "train")
        _got, _want = _block(_x), _ref(_x)
        assert _got.shape == _want.shape, f"ResidualBlock({_c}), input {_shape}: expected shape {tuple(_want.shape)}"
        assert torch.allclose(_got, _want, atol=1e-5), (
            f"ResidualBlock({_c}), input {_shape}, {_mode} mode, random weights: wrong output (compared with "
            f"the book's BasicBlock: ReLU(body(x) + x))"
        )
    assert torch.equal(_x, _before), "forward must not change its input"
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: a projection shortcut (3 points)
#
# Where a ResNet halves the height and width (stride 2) and doubles the channels, the
# input $a^{[l]}$ no longer has the shape of $z^{[l+2]}$ and cannot be added as it is.
# The shortcut then multiplies it by a matrix $W_s$ first,
# $a^{[l+2]} = \mathrm{ReLU}(z^{[l+2]} + W_s a^{[l]})$: in a CNN, $W_s$ is a 1 × 1
# convolution with the block's stride, followed by batch norm (option B of He et al.,
# the one torchvision uses).
#
# `ProjectionBlock(c_in, c_out, stride=1)`
# : an `nn.Module` for inputs of shape (N, `c_in`, H, W). `self.body` is the body of
#   Exercise 1 with `c_in` input and `c_out` output channels and the stride on its
#   **first** convolution: `nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)`,
#   `nn.BatchNorm2d(c_out)`, `nn.ReLU()`, `nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)`,
#   `nn.BatchNorm2d(c_out)`. `self.shortcut` is `nn.Identity()` when the shapes already
#   match (`stride == 1` and `c_in == c_out`), and otherwise the projection
#   `nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))`.
#   `forward(x)` returns $\mathrm{ReLU}(\text{body}(x) + \text{shortcut}(x))$ and does
#   not change `x`.
#
#   Graded in two parts: the layers (1 point), the forward pass (2 points).
#
# Worked example: the first block of ResNet-18's second stage, 56 × 56 × 64 to
# 28 × 28 × 128:
#
# ```python
# >>> block = ProjectionBlock(64, 128, stride=2)
# >>> block(torch.rand(1, 64, 56, 56)).shape
# torch.Size([1, 128, 28, 28])
# >>> count_parameters(block)          # body 221,184 + 512, projection 8,192 + 256
# 230144
# >>> count_parameters(ProjectionBlock(64, 64))   # identity shortcut: the block of Exercise 1
# 73984
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ProjectionBlock(nn.Module):
    """Residual block from c_in to c_out channels; 1x1 conv + BN shortcut when the shapes differ."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        if stride == 1 and c_in == c_out:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return torch.relu(self.body(x) + self.shortcut(x))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_projection_block_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of ProjectionBlock: the layers (1 point).
block = ProjectionBlock(64, 128, stride=2)  # the worked example
assert isinstance(getattr(block, "body", None), nn.Sequential), (
    "ProjectionBlock(64, 128, stride=2): set self.body to an nn.Sequential of the five layers"
)
assert isinstance(getattr(block, "shortcut", None), nn.Module), (
    "ProjectionBlock(64, 128, stride=2): set self.shortcut to a module"
)
count = count_parameters(block)
if count == 230_144 - 256:
    raise AssertionError(
        "ProjectionBlock(64, 128, stride=2): the projection needs its batch norm, 1x1 conv then nn.BatchNorm2d(c_out)"
    )
if count == 230_144 + 128:
    raise AssertionError(
        "ProjectionBlock(64, 128, stride=2): the projection's 1x1 convolution has a bias; use bias=False"
    )
if count == 230_144 + 8 * 8_192:
    raise AssertionError("ProjectionBlock(64, 128, stride=2): the projection is a 1 x 1 convolution, not a 3 x 3 one")
assert count == 230_144, f"ProjectionBlock(64, 128, stride=2): expected 230,144 parameters, got {count:,}"
assert count_parameters(block.shortcut) == 8_192 + 256, (
    f"ProjectionBlock(64, 128, stride=2): the projection W_s (1x1 conv 64 -> 128 and its BN) has 8,448 parameters, "
    f"got {count_parameters(block.shortcut):,}"
)
strides = [layer.stride for layer in block.body if isinstance(layer, nn.Conv2d)]
assert strides == [(2, 2), (1, 1)], (
    f"ProjectionBlock(64, 128, stride=2): the stride goes on the first 3 x 3 convolution "
    f"only, expected strides [2, 1], got {strides}"
)
block = ProjectionBlock(64, 64)
assert count_parameters(block.shortcut) == 0, (
    "ProjectionBlock(64, 64): with stride 1 and c_in == c_out the shortcut is the identity (no parameters)"
)
assert count_parameters(block) == 73_984, (
    f"ProjectionBlock(64, 64): expected 73,984 parameters, got {count_parameters(block):,}"
)
for c_in, c_out, stride in [(32, 32, 2), (16, 32, 1)]:
    assert count_parameters(ProjectionBlock(c_in, c_out, stride).shortcut) > 0, (
        f"ProjectionBlock({c_in}, {c_out}, stride={stride}): the shapes change, so the shortcut needs a projection"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.models import BasicBlock as _BasicBlock

for _c_in, _c_out, _stride in [(3, 3, 1), (4, 8, 2), (8, 4, 1), (5, 5, 2), (6, 6, 3)]:
    _got = count_parameters(ProjectionBlock(_c_in, _c_out, _stride))
    _want = count_parameters(_BasicBlock(_c_in, _c_out, _stride))
    assert _got == _want, (
        f"ProjectionBlock({_c_in}, {_c_out}, stride={_stride}): expected {_want:,} parameters, got {_got:,}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex2_projection_forward_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of ProjectionBlock: the forward pass (2 points).
torch.manual_seed(0)
block = ProjectionBlock(64, 128, stride=2)  # the worked example, on a smaller input
out = block(torch.rand(2, 64, 16, 16))
assert tuple(out.shape) == (2, 128, 8, 8), (
    f"ProjectionBlock(64, 128, stride=2) on (2, 64, 16, 16): expected (2, 128, 8, 8), got {tuple(out.shape)}"
)
for c_in, c_out, stride, size, want in [
    (32, 32, 2, 8, (2, 32, 4, 4)),
    (16, 32, 1, 7, (2, 32, 7, 7)),
    (8, 4, 2, 7, (2, 4, 4, 4)),
    (8, 8, 1, 5, (2, 8, 5, 5)),
]:
    block = ProjectionBlock(c_in, c_out, stride)
    x = torch.randn(2, c_in, size, size)
    x_before = x.clone()
    out = block(x)
    assert tuple(out.shape) == want, (
        f"ProjectionBlock({c_in}, {c_out}, stride={stride}) on {tuple(x.shape)}: "
        f"expected shape {want}, got {tuple(out.shape)}"
    )
    assert torch.equal(x, x_before), (
        f"ProjectionBlock({c_in}, {c_out}, stride={stride}): forward must not change its input x"
    )
    zero_parameters(block.body)
    with torch.no_grad():
        assert torch.allclose(block(x), torch.relu(block.shortcut(x))), (
            f"ProjectionBlock({c_in}, {c_out}, stride={stride}) with the body's weights zero: the output must be "
            f"ReLU(shortcut(x)); is the shortcut added before the ReLU?"
        )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.checks import load_into_reference as _reference_copy, randomize_parameters as _randomise
from cvbook.models import BasicBlock as _BasicBlock

_gen = torch.Generator().manual_seed(52)
for _c_in, _c_out, _stride, _shape in [
    (3, 3, 1, (2, 3, 5, 7)),
    (4, 8, 2, (3, 4, 7, 9)),
    (8, 4, 1, (2, 8, 6, 6)),
    (5, 5, 2, (1, 5, 8, 5)),
    (6, 6, 3, (2, 6, 10, 10)),
    (1, 2, 1, (2, 1, 1, 1)),
]:
    _block = _randomise(ProjectionBlock(_c_in, _c_out, _stride), _gen)
    _what = f"ProjectionBlock({_c_in}, {_c_out}, stride={_stride})"
    _ref = _reference_copy(_BasicBlock(_c_in, _c_out, _stride), _block, _what)
    _x = torch.randn(_shape, generator=_gen)
    _before = _x.clone()
    for _mode in ("eval", "train"):
        _block.train(_mode == "train")
        _ref.train(_mode == "train")
        _got, _want = _block(_x), _ref(_x)
        assert _got.shape == _want.shape, f"{_what}, input {_shape}: expected shape {tuple(_want.shape)}"
        assert torch.allclose(_got, _want, atol=1e-5), (
            f"{_what}, input {_shape}, {_mode} mode, random weights: wrong output (compared with the book's BasicBlock)"
        )
    assert torch.equal(_x, _before), "forward must not change its input"
### END HIDDEN TESTS


# %% [markdown]
# With both kinds of block, ResNet-18 is a stem, four stages of two blocks (the first
# block of stages 2 to 4 halves the size and doubles the channels, through a
# projection), global average pooling and one linear layer. Its parameter count is
# that of `torchvision.models.resnet18`:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
stages, c = [], 64
for k, width in enumerate([64, 128, 256, 512]):
    stages += [ProjectionBlock(c, width, stride=2 if k > 0 else 1), ProjectionBlock(width, width)]
    c = width
resnet18 = nn.Sequential(
    nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.MaxPool2d(3, 2, 1),
    *stages,
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(512, 1000),
)
projections = sum(count_parameters(block.shortcut) for block in stages)
print(f"ResNet-18: {count_parameters(resnet18):,} parameters, {projections:,} of them in the 3 projections W_s")
with torch.no_grad():
    print("output shape for one 224 x 224 image:", tuple(resnet18.eval()(torch.rand(1, 3, 224, 224)).shape))
assert count_parameters(resnet18) == 11_689_512

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: a 1 × 1 convolution is a fully connected layer at every pixel (3 points)
#
# A 1 × 1 convolution with $C_\text{out}$ filters of shape $1 \times 1 \times C_\text{in}$
# looks at one position $(i, j)$ at a time: it takes the $C_\text{in}$ values there and
# computes $C_\text{out}$ weighted sums of them, exactly what a fully connected layer
# with weight matrix $W \in \mathbb{R}^{C_\text{out} \times C_\text{in}}$ does:
#
# $$y_{n, o, i, j} = \sum_{c=1}^{C_\text{in}} W_{o, c}\, x_{n, c, i, j} + b_o .$$
#
# `conv1x1_as_linear(x, weight, bias=None)`
# : `x` is a float tensor of shape (N, $C_\text{in}$, H, W), `weight` one of shape
#   ($C_\text{out}$, $C_\text{in}$, 1, 1) (the shape of `nn.Conv2d(C_in, C_out, 1).weight`)
#   and `bias` `None` or a tensor of shape ($C_\text{out}$,). Return $y$, of shape
#   (N, $C_\text{out}$, H, W) and of `x`'s dtype (float32 in, float32 out; float64 in,
#   float64 out), as a matrix product over the channels (`torch.einsum`, or `permute` /
#   `reshape` and `@`). Do not call `F.conv2d`, `torch.conv2d` or `F.linear` (the tests
#   make them raise while your function runs, which also stops `nn.Conv2d` and
#   `nn.Linear`); use torch operations only, so that autograd works (the result of a
#   `requires_grad` input must have gradients). Values are compared with those of
#   `F.conv2d` with a tolerance of $10^{-5}$ (float32). Raise
#   `ValueError` if `x` is not 4-dimensional, if `weight` does not have the shape
#   ($C_\text{out}$, $C_\text{in}$, 1, 1) with $C_\text{in}$ = `x.shape[1]`, or if `bias`
#   is not `None` and does not have shape ($C_\text{out}$,).
#
#   Graded in two parts: the values and gradients (2 points), the `ValueError`s (1 point).
#
# Worked example: a 2 × 2 image with two channels; the first filter adds the channels
# (and 0.5), the second subtracts them:
#
# ```python
# >>> x = torch.arange(8.0).reshape(1, 2, 2, 2)        # channels [[0, 1], [2, 3]] and [[4, 5], [6, 7]]
# >>> weight = torch.tensor([[1.0, 1.0], [1.0, -1.0]]).reshape(2, 2, 1, 1)
# >>> conv1x1_as_linear(x, weight, torch.tensor([0.5, 0.0]))
# tensor([[[[ 4.5000,  6.5000],
#           [ 8.5000, 10.5000]],
#
#          [[-4.0000, -4.0000],
#           [-4.0000, -4.0000]]]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv1x1_as_linear(x, weight, bias=None):
    """A 1x1 convolution of x (N, C_in, H, W) with weight (C_out, C_in, 1, 1) as a per-pixel matrix product."""
    ### BEGIN SOLUTION
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C_in, H, W), got {tuple(x.shape)}")
    if weight.ndim != 4 or tuple(weight.shape[1:]) != (x.shape[1], 1, 1):
        raise ValueError(f"weight must have shape (C_out, {x.shape[1]}, 1, 1), got {tuple(weight.shape)}")
    y = torch.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x)
    if bias is not None:
        if tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
        y = y + bias[None, :, None, None]
    return y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_conv1x1_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1x1_as_linear: the values and gradients (2 points).
def library_refused():
    """Inside the `with` block, the convolution and linear functions of PyTorch raise."""
    return refusing("torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.functional.linear")


x = torch.arange(8.0).reshape(1, 2, 2, 2)  # the worked example
weight = torch.tensor([[1.0, 1.0], [1.0, -1.0]]).reshape(2, 2, 1, 1)
with library_refused():
    out = conv1x1_as_linear(x, weight, torch.tensor([0.5, 0.0]))
expected = torch.tensor([[[[4.5, 6.5], [8.5, 10.5]], [[-4.0, -4.0], [-4.0, -4.0]]]])
assert isinstance(out, torch.Tensor), f"expected a tensor, got {type(out).__name__}"
assert tuple(out.shape) == (1, 2, 2, 2), f"expected shape (1, 2, 2, 2), got {tuple(out.shape)}"
if torch.allclose(out, torch.tensor([[[[4.5, 6.5], [8.5, 10.5]], [[-3.5, -3.5], [-3.5, -3.5]]]])):
    raise AssertionError(
        "the worked example: the bias [0.5, 0.0] went to the wrong channels; output channel o gets bias[o]"
    )
assert torch.allclose(out, expected), f"the worked example: expected\n{expected}\ngot\n{out}"
with library_refused():
    out = conv1x1_as_linear(x, weight)
assert torch.allclose(out, expected - torch.tensor([0.5, 0.0]).reshape(1, 2, 1, 1)), (
    f"the worked example with bias=None: a missing bias adds nothing; got\n{out}"
)

torch.manual_seed(0)  # the lecture's 6 x 6 x 32 volume, 5 filters of 1 x 1 x 32, checked against F.conv2d
x, weight, bias = torch.randn(2, 32, 6, 6), torch.randn(5, 32, 1, 1), torch.randn(5)
want = F.conv2d(x, weight, bias)
with library_refused():
    out = conv1x1_as_linear(x, weight, bias)
assert tuple(out.shape) == (2, 5, 6, 6), (
    f"x (2, 32, 6, 6), weight (5, 32, 1, 1): expected shape (2, 5, 6, 6), got {tuple(out.shape)}"
)
assert torch.allclose(out, want, rtol=1e-5, atol=1e-5), (
    f"x (2, 32, 6, 6), weight (5, 32, 1, 1): the result differs from F.conv2d(x, weight, bias) by up to "
    f"{(out - want).abs().max().item():.2g}"
)

linear = nn.Linear(32, 5)  # the same numbers as nn.Linear applied to each pixel's 32 channel values
per_pixel = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (N, H, W, C) -> Linear -> (N, C_out, H, W)
with library_refused():
    out = conv1x1_as_linear(x, linear.weight.reshape(5, 32, 1, 1), linear.bias)
assert torch.allclose(out, per_pixel, rtol=1e-5, atol=1e-5), (
    "x (2, 32, 6, 6): the result differs from nn.Linear(32, 5) applied at each pixel"
)
out.sum().backward()
assert linear.weight.grad is not None and linear.weight.grad.abs().sum() > 0, (
    "the weight of nn.Linear(32, 5) received no gradient: use torch operations only, so that autograd works"
)
x64, w64 = torch.randn(1, 3, 2, 2, dtype=torch.float64), torch.randn(4, 3, 1, 1, dtype=torch.float64)
with library_refused():
    out = conv1x1_as_linear(x64, w64)
assert out.dtype == torch.float64, f"x and weight in float64: expected a float64 result, got {out.dtype}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(53)

for _n, _c_in, _c_out, _h, _w, _with_bias, _dtype in [
    (1, 1, 1, 1, 1, True, torch.float32),
    (3, 7, 2, 4, 9, True, torch.float32),
    (2, 3, 11, 5, 1, False, torch.float32),
    (4, 16, 16, 3, 3, True, torch.float64),
    (1, 192, 32, 7, 7, True, torch.float32),
]:
    _x = torch.randn(_n, _c_in, _h, _w, generator=_gen, dtype=_dtype)
    _wt = torch.randn(_c_out, _c_in, 1, 1, generator=_gen, dtype=_dtype)
    _b = torch.randn(_c_out, generator=_gen, dtype=_dtype) if _with_bias else None
    _want = _F.conv2d(_x, _wt, _b)
    _x_in, _w_in = _x.clone().requires_grad_(), _wt.clone().requires_grad_()
    with library_refused():
        _got = conv1x1_as_linear(_x_in, _w_in, _b)
    _what = f"x {tuple(_x.shape)}, weight {tuple(_wt.shape)}, bias {'yes' if _with_bias else 'None'}"
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"{_what}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert _got.dtype == _dtype, f"{_what}: expected dtype {_dtype}, got {_got.dtype}"
    assert torch.allclose(_got, _want, rtol=1e-5, atol=1e-4), f"{_what}: wrong values (compared with F.conv2d)"
    assert _got.requires_grad, f"{_what}: the result must be differentiable (torch operations only)"
    _got.sum().backward()
    _x_ref, _w_ref = _x.clone().requires_grad_(), _wt.clone().requires_grad_()
    _F.conv2d(_x_ref, _w_ref, _b).sum().backward()
    assert torch.allclose(_x_in.grad, _x_ref.grad, atol=1e-4) and torch.allclose(_w_in.grad, _w_ref.grad, atol=1e-4), (
        f"{_what}: wrong gradients"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex3_conv1x1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of conv1x1_as_linear: the ValueErrors (1 point).
x, weight, bias = torch.randn(2, 32, 6, 6), torch.randn(5, 32, 1, 1), torch.randn(5)
with expect_error(ValueError, "x of shape (32, 6, 6), without the batch axis"):
    conv1x1_as_linear(x[0], weight, bias)
with expect_error(ValueError, "a 3 x 3 weight of shape (5, 32, 3, 3)"):
    conv1x1_as_linear(x, torch.randn(5, 32, 3, 3))
with expect_error(ValueError, "a weight (5, 16, 1, 1) for 16 input channels on an input with 32"):
    conv1x1_as_linear(x, torch.randn(5, 16, 1, 1))
with expect_error(ValueError, "a bias of shape (4,) for 5 output channels"):
    conv1x1_as_linear(x, weight, torch.randn(4))
try:
    conv1x1_as_linear(x, weight, None)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"bias=None is valid, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "a bias of the wrong length"):
    conv1x1_as_linear(torch.randn(1, 4, 2, 2), torch.randn(3, 4, 1, 1), torch.randn(4))
with expect_error(ValueError, "a 2-D weight"):
    conv1x1_as_linear(torch.randn(1, 4, 2, 2), torch.randn(3, 4))
with expect_error(ValueError, "a 5-D x"):
    conv1x1_as_linear(torch.randn(1, 1, 4, 2, 2), torch.randn(3, 4, 1, 1))
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: what a 1 × 1 bottleneck saves (3 points)
#
# A convolution that outputs an $H \times W \times C_\text{out}$ volume with
# $f \times f$ filters over $C_\text{in}$ channels computes $C_\text{out}$ values at
# each of the $H W$ positions, each a sum of $f \cdot f \cdot C_\text{in}$ products:
# $H \cdot W \cdot C_\text{out} \cdot f \cdot f \cdot C_\text{in}$ multiplications
# (biases, batch norm and ReLU are not counted). An Inception branch can put a
# 1 × 1 convolution to $C_\text{reduce} < C_\text{in}$ channels (a *bottleneck*) before
# the expensive $f \times f$ one, which then sees only $C_\text{reduce}$ channels.
#
# `inception_branch_cost(h, w, c_in, c_out, f, c_reduce=None)`
# : the number of multiplications, as a Python `int`, of a branch that turns an
#   `h` × `w` × `c_in` volume into an `h` × `w` × `c_out` one with an `f` × `f` "same"
#   convolution: without a bottleneck if `c_reduce` is `None`, else with a 1 × 1
#   convolution to `c_reduce` channels first (the sum of both layers' costs). Raise
#   `ValueError` if `h`, `w`, `c_in`, `c_out` or `f` is not a positive `int` (a `bool` is
#   not one), or if `c_reduce` is neither `None` nor a positive `int`.
#
#   Graded in two parts: the counts (2 points), the `ValueError`s (1 point).
#
# Worked example: the lecture's 5 × 5 branch, 28 × 28 × 192 to 28 × 28 × 32, without
# and with a bottleneck of 16 channels (2,408,448 + 10,035,200):
#
# ```python
# >>> inception_branch_cost(28, 28, 192, 32, 5)
# 120422400
# >>> inception_branch_cost(28, 28, 192, 32, 5, c_reduce=16)
# 12443648
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inception_branch_cost(h, w, c_in, c_out, f, c_reduce=None):
    """Multiplications of an f x f 'same' conv branch from h x w x c_in to h x w x c_out, with an optional 1x1 bottleneck."""
    ### BEGIN SOLUTION
    for name, value in dict(h=h, w=w, c_in=c_in, c_out=c_out, f=f).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if c_reduce is None:
        return h * w * c_out * f * f * c_in
    if isinstance(c_reduce, bool) or not isinstance(c_reduce, int) or c_reduce < 1:
        raise ValueError(f"c_reduce must be None or a positive int, got {c_reduce!r}")
    return h * w * c_reduce * 1 * 1 * c_in + h * w * c_out * f * f * c_reduce
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_branch_cost_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of inception_branch_cost: the counts (2 points).
cost = inception_branch_cost(28, 28, 192, 32, 5)  # the worked example
assert isinstance(cost, int), (
    f"inception_branch_cost(28, 28, 192, 32, 5): expected a Python int, got {type(cost).__name__}"
)
if cost == 28 * 28 * 32 * 5 * 192:
    raise AssertionError(
        f"inception_branch_cost(28, 28, 192, 32, 5): got {cost:,}; each output value sums f * f * c_in products (the filter is 5 x 5, not 5)"
    )
assert cost == 120_422_400, (
    f"inception_branch_cost(28, 28, 192, 32, 5): expected 120,422,400 = 28*28*32 * 5*5*192, got {cost:,}"
)
cost = inception_branch_cost(28, 28, 192, 32, 5, c_reduce=16)
assert isinstance(cost, int), f"c_reduce=16: expected a Python int, got {type(cost).__name__}"
if cost == 10_035_200:
    raise AssertionError(
        "c_reduce=16: got 10,035,200, that is only the 5 x 5 layer; add the 1 x 1 layer's 28*28*16*192 = 2,408,448"
    )
if cost == 28 * 28 * 32 * 5 * 5 * 192 + 2_408_448:
    raise AssertionError(
        "c_reduce=16: after the bottleneck the 5 x 5 filters see c_reduce = 16 channels, not c_in = 192"
    )
assert cost == 12_443_648, f"c_reduce=16: expected 12,443,648 = 2,408,448 + 10,035,200, got {cost:,}"
cost = inception_branch_cost(28, 28, 192, 128, 3, c_reduce=96)  # the lecture's 3 x 3 branch
assert cost == 28 * 28 * 96 * 192 + 28 * 28 * 128 * 9 * 96, f"3 x 3 branch with a 96-channel bottleneck: got {cost:,}"
assert inception_branch_cost(1, 1, 1, 1, 1) == 1, "one 1 x 1 filter on one pixel of one channel: 1 multiplication"
cost = inception_branch_cost(7, 3, 10, 4, 3)
assert cost == 7 * 3 * 4 * 9 * 10, (
    f"inception_branch_cost(7, 3, 10, 4, 3): h and w need not be equal, expected 7,560, got {cost!r}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.cost import count_mult_adds as _count_mult_adds

_gen = torch.Generator().manual_seed(54)
for _ in range(8):
    _h, _w = (int(_v) for _v in torch.randint(1, 40, (2,), generator=_gen))
    _c_in, _c_out, _c_red = (int(_v) for _v in torch.randint(1, 300, (3,), generator=_gen))
    _f = int(torch.randint(0, 4, (1,), generator=_gen)) * 2 + 1  # 1, 3, 5 or 7
    with torch.device("meta"):
        _plain = nn.Conv2d(_c_in, _c_out, _f, padding=_f // 2)
        _bottle = nn.Sequential(nn.Conv2d(_c_in, _c_red, 1), nn.Conv2d(_c_red, _c_out, _f, padding=_f // 2))
    _args = (_h, _w, _c_in, _c_out, _f)
    _want = _count_mult_adds(_plain, (_c_in, _h, _w), device="meta")
    _got = inception_branch_cost(*_args)
    assert isinstance(_got, int) and _got == _want, f"inception_branch_cost{_args}: expected {_want:,}, got {_got!r}"
    _want = _count_mult_adds(_bottle, (_c_in, _h, _w), device="meta")
    _got = inception_branch_cost(*_args, c_reduce=_c_red)
    assert isinstance(_got, int) and _got == _want, (
        f"inception_branch_cost{_args}, c_reduce={_c_red}: expected {_want:,}, got {_got!r}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex4_branch_cost_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of inception_branch_cost: the ValueErrors (1 point).
with expect_error(ValueError, "h = 0"):
    inception_branch_cost(0, 28, 192, 32, 5)
with expect_error(ValueError, "f = 2.5, not an int"):
    inception_branch_cost(28, 28, 192, 32, 2.5)
with expect_error(ValueError, "c_in = True (a bool is not an int here)"):
    inception_branch_cost(28, 28, True, 32, 5)
with expect_error(ValueError, "c_reduce = 0"):
    inception_branch_cost(28, 28, 192, 32, 5, c_reduce=0)
with expect_error(ValueError, "c_reduce = 16.0, not an int"):
    inception_branch_cost(28, 28, 192, 32, 5, c_reduce=16.0)
try:
    inception_branch_cost(28, 28, 192, 32, 5, c_reduce=None)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"c_reduce=None (no bottleneck) is valid, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args, _kwargs in [
    ((28, 28, 192, 32, 0), {}),
    ((28, -1, 192, 32, 5), {}),
    ((28, 28, 192, 32, True), {}),
    ((28, 28, 192, "32", 5), {}),
    ((28.0, 28, 192, 32, 5), {}),
    ((28, 28, 192, 32, 5), {"c_reduce": -16}),
    ((28, 28, 192, 32, 5), {"c_reduce": 16.5}),
    ((28, 28, 192, 32, 5), {"c_reduce": True}),
]:
    with expect_error(ValueError, f"inception_branch_cost{_args} {_kwargs}"):
        inception_branch_cost(*_args, **_kwargs)
### END HIDDEN TESTS


# %% [markdown]
# The four branches of the lecture's module (GoogLeNet's "inception (3a)") on its
# 28 × 28 × 192 input, with and without their 1 × 1 bottlenecks (the 1 × 1 branch has
# none, and the pooling branch's 1 × 1 convolution is the same either way):

# %%
# NBVAL_CHECK_OUTPUT
rows = [("1x1", 64, 1, None), ("3x3", 128, 3, 96), ("5x5", 32, 5, 16), ("pool + 1x1", 32, 1, None)]
total_plain = total_bottleneck = 0
for name, c_out, f, c_reduce in rows:
    plain, bottleneck = (
        inception_branch_cost(28, 28, 192, c_out, f),
        inception_branch_cost(28, 28, 192, c_out, f, c_reduce),
    )
    total_plain, total_bottleneck = total_plain + plain, total_bottleneck + bottleneck
    print(f"{name:11s} {c_out:4d} channels  {plain:13,}  {bottleneck:13,}")
print(
    f"{'module':11s} {64 + 128 + 32 + 32:4d} channels  {total_plain:13,}  {total_bottleneck:13,}"
    f"  ({total_plain / total_bottleneck:.1f}x fewer)"
)

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: an Inception module (4 points)
#
# An Inception module runs four branches on the same input and concatenates their
# outputs along the channels; every branch keeps the height and width, so the output
# has $c_1 + c_3 + c_5 + c_\text{pool}$ channels.
#
# `Inception(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)`
# : an `nn.Module` for inputs of shape (N, `c_in`, H, W), with four branches, each
#   convolution followed by batch norm and ReLU (conv-BN-ReLU, the convolutions with
#   `bias=False`):
#
#   1. a 1 × 1 convolution to `c1` channels;
#   2. a 1 × 1 convolution to `c3_reduce` channels, then a 3 × 3 one (padding 1) to `c3`;
#   3. a 1 × 1 convolution to `c5_reduce` channels, then a 5 × 5 one (padding 2) to `c5`;
#   4. `nn.MaxPool2d(3, stride=1, padding=1)`, then a 1 × 1 convolution to `pool_proj` channels.
#
#   `forward(x)` returns the four outputs concatenated along the channel axis
#   (`torch.cat(..., dim=1)`) **in this order**: shape (N, `c1 + c3 + c5 + pool_proj`, H, W).
#   Name the layers as you like.
#
#   Graded in two parts: the output's shape and the layers' sizes (2 points), each branch
#   in its place with its kernel and max pooling (2 points).
#
# Worked example: the lecture's module, 28 × 28 × 192 to 28 × 28 × (64 + 128 + 32 + 32):
#
# ```python
# >>> module = Inception(192, 64, 96, 128, 16, 32, 32)
# >>> module(torch.rand(1, 192, 28, 28)).shape
# torch.Size([1, 256, 28, 28])
# >>> count_parameters(module)
# 164064
# ```
#
# Hint: a small helper `conv_bn_relu(c_in, c_out, f)` that returns an `nn.Sequential`
# keeps the four branches short.


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Inception(nn.Module):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-5x5; maxpool-1x1) concatenated along the channels."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()

        ### BEGIN SOLUTION
        def conv_bn_relu(c_from, c_to, f):
            return nn.Sequential(
                nn.Conv2d(c_from, c_to, f, padding=f // 2, bias=False), nn.BatchNorm2d(c_to), nn.ReLU()
            )

        self.branch1 = conv_bn_relu(c_in, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(c_in, c5_reduce, 1), conv_bn_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn_relu(c_in, pool_proj, 1))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_inception_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of Inception: the output's shape and the layers' sizes (2 points).
torch.manual_seed(0)
module = Inception(192, 64, 96, 128, 16, 32, 32)  # the worked example
out = module(torch.rand(1, 192, 28, 28))
assert tuple(out.shape) == (1, 256, 28, 28), (
    f"Inception(192, 64, 96, 128, 16, 32, 32): expected (1, 256, 28, 28) = 28 x 28 x (64+128+32+32), got {tuple(out.shape)}"
)
assert (out >= 0).all(), (
    "Inception(192, 64, 96, 128, 16, 32, 32): every branch ends with a ReLU: the output cannot be negative"
)
count = count_parameters(module)
if count == 164_064 + 64 + 96 + 128 + 16 + 32 + 32:
    raise AssertionError(
        "Inception(192, 64, 96, 128, 16, 32, 32): the convolutions have biases: use bias=False before batch norm"
    )
if count == 164_064 - 2 * (64 + 96 + 128 + 16 + 32 + 32):
    raise AssertionError(
        "Inception(192, 64, 96, 128, 16, 32, 32): the batch norms are missing: every convolution is followed by nn.BatchNorm2d and ReLU"
    )
assert count == 164_064, f"Inception(192, 64, 96, 128, 16, 32, 32): expected 164,064 parameters, got {count:,}"

module = Inception(6, 8, 4, 8, 4, 8, 8)
out = module(torch.randn(3, 6, 9, 7))
assert tuple(out.shape) == (3, 32, 9, 7), (
    f"Inception(6, 8, 4, 8, 4, 8, 8) on (3, 6, 9, 7): expected (3, 32, 9, 7), got {tuple(out.shape)}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.cost import count_mult_adds as _count_mult_adds
from cvbook.models import InceptionModule as _InceptionModule

_gen = torch.Generator().manual_seed(55)
for _config in [
    (6, 8, 4, 8, 4, 8, 8),
    (3, 5, 6, 7, 8, 9, 10),
    (16, 12, 8, 6, 10, 12, 6),
    (480, 192, 96, 208, 16, 48, 64),
]:
    torch.manual_seed(len(_config) + _config[0])
    _module = Inception(*_config)
    _ref = _InceptionModule(*_config, five=5)
    _c_in, _c_out = _config[0], _config[1] + _config[3] + _config[5] + _config[6]
    assert count_parameters(_module) == count_parameters(_ref), (
        f"Inception{_config}: expected {count_parameters(_ref):,} parameters, got {count_parameters(_module):,}"
    )
    for _h, _w in [(9, 11), (1, 1), (4, 5)]:
        _x = torch.randn(2, _c_in, _h, _w, generator=_gen)
        _before = _x.clone()
        _out = _module.train()(_x)
        assert tuple(_out.shape) == (2, _c_out, _h, _w), (
            f"Inception{_config} on {tuple(_x.shape)}: expected shape {(2, _c_out, _h, _w)}, got {tuple(_out.shape)}"
        )
        assert torch.equal(_x, _before), "forward must not change its input"
    assert _count_mult_adds(_module, (_c_in, 9, 11)) == _count_mult_adds(_ref, (_c_in, 9, 11)), (
        f"Inception{_config}: the convolutions do not have the expected sizes"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex5_inception_branches_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of Inception: each branch in its place (2 points).
def changed_area(module, x, channels):
    """How far (in pixels, max over rows and columns) a change of x's centre pixel reaches in these output channels."""
    module.eval()  # batch norm with its running statistics: each pixel's output depends only on its neighbourhood
    centre = (x.shape[2] // 2, x.shape[3] // 2)
    moved = x.clone()
    moved[:, :, centre[0], centre[1]] += 10.0
    with torch.no_grad():
        diff = (module(moved) - module(x))[:, channels].abs().amax(dim=(0, 1)) > 1e-6
    rows, cols = torch.nonzero(diff, as_tuple=True)
    return max((rows - centre[0]).abs().max().item(), (cols - centre[1]).abs().max().item()) if len(rows) else None


torch.manual_seed(0)
module = Inception(6, 8, 4, 8, 4, 8, 8)
x = torch.randn(2, 6, 9, 9)
for k, (name, radius, start, stop) in enumerate(
    [("1 x 1", 0, 0, 8), ("3 x 3", 1, 8, 16), ("5 x 5", 2, 16, 24), ("pool", 1, 24, 32)]
):
    reach = changed_area(module, x, slice(start, stop))
    assert reach == radius, (
        f"Inception(6, 8, 4, 8, 4, 8, 8): output channels {start}..{stop - 1} must come from the {name} branch and see "
        f"{2 * radius + 1} x {2 * radius + 1} pixels, but a change of one pixel reaches {reach} pixels away; "
        f"concatenate the branches in the order 1x1, 3x3, 5x5, pool"
    )
x = torch.randn(1, 6, 1, 1).expand(2, 6, 7, 8).clone()  # a constant image with one darker pixel
x[:, :, 3, 4] -= 10.0
with torch.no_grad():
    pool = module.eval()(x)[:, 24:]
assert torch.allclose(pool, pool[:, :, :1, :1].expand_as(pool), atol=1e-5), (
    "Inception(6, 8, 4, 8, 4, 8, 8) on a constant image with one darker pixel: the pool branch (channels 24..31) must "
    "stay constant with nn.MaxPool2d(3, stride=1, padding=1) (the maximum ignores the darker pixel); average pooling "
    "or a missing pool would change it"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(56)
for _config in [(3, 5, 6, 7, 8, 9, 10), (16, 12, 8, 6, 10, 12, 6)]:
    torch.manual_seed(len(_config) + _config[0])
    _module = Inception(*_config)
    _c_in, _c_out = _config[0], _config[1] + _config[3] + _config[5] + _config[6]
    # Each output channel block must come from its branch: how far a change of one pixel reaches tells the kernel.
    _x = torch.randn(2, _c_in, 11, 11, generator=_gen)
    _starts = [0, _config[1], _config[1] + _config[3], _config[1] + _config[3] + _config[5], _c_out]
    for _k, (_name, _radius) in enumerate([("1x1", 0), ("3x3", 1), ("5x5", 2), ("pool", 1)]):
        _reach = changed_area(_module, _x, slice(_starts[_k], _starts[_k + 1]))
        assert _reach == _radius, (
            f"Inception{_config}: the output channels {_starts[_k]}..{_starts[_k + 1] - 1} "
            f"({_name} branch) must see {2 * _radius + 1} x {2 * _radius + 1} pixels, "
            f"they see a change up to {_reach} pixels away"
        )
    # Max pooling (not average pooling): on a constant image with one darker pixel, the pool branch is constant.
    _x = torch.randn(1, _c_in, 1, 1, generator=_gen).expand(2, _c_in, 7, 8).clone()
    _x[:, :, 3, 4] -= 10.0
    with torch.no_grad():
        _pool = _module.eval()(_x)[:, _starts[3] :]
    assert torch.allclose(_pool, _pool[:, :, :1, :1].expand_as(_pool), atol=1e-5), (
        f"Inception{_config}: the pool branch must use nn.MaxPool2d(3, stride=1, padding=1)"
    )
### END HIDDEN TESTS


# %% [markdown]
# Your module, counted by the book's `cost.count_mult_adds`, against the same module
# without its 1 × 1 bottlenecks (the 3 × 3 and 5 × 5 convolutions working on all 192
# channels):

# %%
# NBVAL_CHECK_OUTPUT
from cvbook.cost import count_mult_adds

module = Inception(192, 64, 96, 128, 16, 32, 32)
with_bottlenecks = count_mult_adds(module, (192, 28, 28))
without = (
    inception_branch_cost(28, 28, 192, 64, 1)
    + inception_branch_cost(28, 28, 192, 128, 3)
    + inception_branch_cost(28, 28, 192, 32, 5)
    + inception_branch_cost(28, 28, 192, 32, 1)
)
print(
    f"Inception (3a) with bottlenecks:    {with_bottlenecks:13,} multiplications, {count_parameters(module):,} parameters"
)
print(f"Inception (3a) without bottlenecks: {without:13,} multiplications")
assert with_bottlenecks == total_bottleneck and without == total_plain

# %% [markdown]
# GoogLeNet stacks nine such modules; the 1 × 1 bottlenecks are what make that
# affordable. Chapter 6 pushes the same idea further: MobileNet splits every
# convolution into a per-channel (depthwise) part and a 1 × 1 (pointwise) part.
