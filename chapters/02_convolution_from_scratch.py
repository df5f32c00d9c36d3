# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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

# %% tags=["remove-cell"]
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

# %% [markdown]
# # Convolution from scratch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/02_convolution_from_scratch.ipynb)
#
# Chapter 1 ended with a wish list: look at small neighbourhoods, reuse the same
# detector everywhere, build big patterns from small ones. The **convolution** is the
# operation that does all three. This chapter builds it by hand, twice (once with
# loops that spell out the definition, once as a single matrix product), checks both
# against PyTorch, and then explores everything that controls it: padding, stride,
# dilation, several channels, pooling and the receptive field. It closes by letting
# gradient descent rediscover a classic edge filter, which is what a convolutional
# network does at scale. It follows the convolution parts of the lectures
# {cite}`khan2025cv,safayani_deeplearning,cnn_recap_lecture`; the standard reference
# for the arithmetic is {cite}`dumoulin2016guide`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - compute a convolution by hand and explain why deep-learning "convolution" is
#   really cross-correlation;
# - write a convolution with loops and as an im2col matrix product, and verify both
#   against `torch.nn.functional.conv2d`;
# - predict output sizes from $n$, $f$, $p$, $s$ and the dilation $d$, for valid, same
#   and full padding;
# - convolve volumes with several filters and say how many parameters a layer has;
# - apply and interpret the classic kernels (blur, sharpen, Laplacian, Sobel, Scharr);
# - pool with max, average and global pooling, and mix channels with $1 \times 1$
#   convolutions;
# - compute the receptive field of a stack of layers;
# - learn a filter from examples with gradient descent.

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cvbook import conv, data, device
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## The sliding dot product
#
# A convolutional layer slides a small grid of weights, the **kernel** or **filter**
# $W$ of size $f \times f$, over the image $X$. At every position it multiplies the
# kernel element-wise with the patch of the image underneath and adds the products up:
#
# $$Z_{i,j} = \sum_{a=0}^{f-1} \sum_{b=0}^{f-1} W_{a,b}\, X_{i+a,\, j+b}.$$ (eq-ch02-conv)
#
# The result $Z$ is a **feature map**: large where the patch looks like the kernel,
# small where it does not. Each output value depends only on an $f \times f$
# neighbourhood (its **receptive field**), and every position uses the same $f^2$
# weights: locality and weight sharing, the two properties the MLP of Chapter 1 lacked.
#
# ```{note}
# Mathematicians call {eq}`eq-ch02-conv` *cross-correlation*. A true convolution flips
# the kernel first, $\sum_{a,b} W_{a,b} X_{i-a, j-b}$. Deep-learning libraries skip the
# flip because the kernel is learnt anyway: a network that needs a flipped filter simply
# learns the flipped weights. We follow the libraries and the lectures, and show the
# difference once below.
# ```
#
# Let us compute the lectures' first example, a $6 \times 6$ image and the $3 \times 3$
# vertical-edge kernel, one output value at a time. The top-left value is the sum of the
# element-wise product of the top-left $3 \times 3$ patch with the kernel:

# %%
# NBVAL_CHECK_OUTPUT
image = torch.tensor(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    dtype=torch.float32,
)
vertical = conv.KERNELS["vertical_edge"]
patch = image[0:3, 0:3]
print("patch:\n", patch.int().numpy())
print("kernel:\n", vertical.int().numpy())
print("sum of patch * kernel =", int((patch * vertical).sum()))

# %% [markdown]
# ```{note}
# **A slip in the lecture.** An earlier slide introduces the element-wise product with two
# binary $3 \times 3$ grids and writes the product with a 1 in its centre, summing to 3. The
# centre entries are 1 and 0, so their product is 0 and the sum is **2**:
# ```

# %%
# NBVAL_CHECK_OUTPUT
left = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 1]])
right = torch.tensor([[1, 1, 0], [0, 0, 1], [0, 0, 1]])
print("left * right =\n", (left * right).numpy())
print("sum =", int((left * right).sum()))

# %% [markdown]
# Doing that at all $4 \times 4$ positions gives the full feature map. Our own loop
# version from the package, `conv.conv2d_naive`, takes batches of multi-channel images
# (shape $(N, C, H, W)$), so we add two axes of length one:

# %%
# NBVAL_CHECK_OUTPUT
feature_map = conv.conv2d_naive(image[None, None], vertical[None, None])[0, 0]
print(feature_map.int().numpy())
assert feature_map.tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]

# %% [markdown]
# This is the matrix on the slide. Here is the loop at the heart of `conv2d_naive`, so
# that nothing is hidden (the package version adds padding, stride, dilation, channels,
# bias and argument checks):
#
# ```python
# for i in range(h_out):
#     for j in range(w_out):
#         window = x[:, i * s : i * s + f, j * s : j * s + f]   # all input channels
#         out[k, i, j] = (window * weight[k]).sum() + bias[k]
# ```
#
# ### Why this kernel finds vertical edges
#
# The kernel has positive weights on the left, zeros in the middle and negative
# weights on the right, so it responds with (left brightness − right brightness). On a
# flat region the two cancel. The lectures' step image, bright on the left and dark on
# the right, shows it cleanly; flipping the step flips the sign, and the horizontal-edge
# kernel (the transposed pattern) responds to rows instead of columns:


# %%
# NBVAL_CHECK_OUTPUT
def correlate(img: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """2-D image, 2-D kernel -> 2-D valid cross-correlation (through the package)."""
    return conv.conv2d_naive(img[None, None], kernel[None, None])[0, 0]


step = torch.tensor([[10, 10, 10, 0, 0, 0]] * 6, dtype=torch.float32)
print("bright | dark  ->\n", correlate(step, vertical).int().numpy())
print("dark | bright  ->\n", correlate(step.flip(1), vertical).int().numpy())
checker = torch.zeros(6, 6)
checker[:3, :3] = 10
checker[3:, 3:] = 10
horizontal = conv.KERNELS["horizontal_edge"]
print("two-by-two checkerboard, horizontal kernel ->\n", correlate(checker, horizontal).int().numpy())

# %% [markdown]
# The step produces a band of **30**s two pixels wide: the edge sits between columns 2
# and 3 of the input, and every $3 \times 3$ window that straddles it sees
# $3 \cdot 10 - 0 = 30$. Reversing the step gives $-30$: the sign says which side is
# brighter. On the checkerboard the horizontal kernel gives **30, 10, −10, −30** along
# the middle rows: $30$ where the upper half is bright over a dark lower half, $-30$
# where it is the other way round, and $\pm 10$ where the window straddles both
# quadrants. On a $6 \times 6$ image the 2-pixel-wide bands look fat; on a
# $1000 \times 1000$ photo they are thin lines exactly at the edges.
#
# ### Cross-correlation versus convolution
#
# Flipping the kernel in both directions turns our cross-correlation into a true
# convolution. For the vertical-edge kernel, flipping just negates it:

# %%
# NBVAL_CHECK_OUTPUT
flipped = vertical.flip(0, 1)
print("flipped kernel:\n", flipped.int().numpy())
print("true convolution of the step:\n", correlate(step, flipped).int().numpy())

# %% [markdown]
# A symmetric kernel (the blur below) is unchanged by the flip, so for it the two
# operations coincide.
#
# ## The vectorised convolution: im2col
#
# Four nested Python loops are fine for a $6 \times 6$ image and hopeless for a network.
# One common trick, used since the early GPU implementations
# {cite}`chellapilla2006high`, is **im2col**: copy every receptive field (every window,
# across all $C_{in}$ channels) into one column of a matrix. With $L$ output positions
# that matrix has shape $(C_{in} f^2, L)$. The $C_{out}$ filters, each flattened into a row,
# form a $(C_{out}, C_{in} f^2)$ matrix, and the whole layer becomes one matrix product:
#
# $$Z = W_{\text{rows}}\; X_{\text{cols}} \quad\in\quad \mathbb{R}^{C_{out} \times L}.$$
#
# It is not the only way: libraries such as cuDNN also offer direct convolution and
# algorithms based on the FFT and on Winograd's minimal filtering; which one is fastest
# depends on the layer's shape. im2col is the easiest to write and to understand,
# because it hands all the work to a matrix product.
#
# PyTorch's `F.unfold` builds $X_{\text{cols}}$. On the example above:

# %%
# NBVAL_CHECK_OUTPUT
columns = F.unfold(image[None, None], kernel_size=3)  # (N, C*f*f, L)
print("columns:", tuple(columns.shape), "= (batch, C_in * f * f, positions)")
print("first column (the top-left window, flattened):", columns[0, :, 0].int().tolist())
rows = vertical.reshape(1, -1)  # (C_out, C_in * f * f)
print("rows @ columns, reshaped to 4 x 4:\n", (rows @ columns).reshape(4, 4).int().numpy())

# %% [markdown]
# The package's `conv.conv2d_im2col` is exactly this, plus padding, stride, dilation
# and a bias. Both from-scratch versions must agree with PyTorch's `F.conv2d` on
# random inputs of every kind. We test batches, several channels, strides, paddings
# and dilations, in double precision so that the only differences are rounding:

# %%
# NBVAL_CHECK_OUTPUT
cases = [  # (N, C_in, H, W, C_out, f, stride, padding, dilation)
    (1, 1, 6, 6, 1, 3, 1, 0, 1),
    (2, 3, 9, 11, 4, 3, 2, 1, 1),
    (2, 3, 10, 10, 5, 5, 1, 2, 1),
    (1, 4, 12, 9, 2, 3, 1, 2, 2),
    (3, 2, 8, 8, 6, 1, 1, 0, 1),
]
generator = torch.Generator().manual_seed(0)
print(" N C_in  H  W C_out f s p d  |naive-torch|  |im2col-torch|")
for n, c_in, h, w, c_out, f, s, p, d in cases:
    x = torch.randn(n, c_in, h, w, generator=generator, dtype=torch.float64)
    weight = torch.randn(c_out, c_in, f, f, generator=generator, dtype=torch.float64)
    bias = torch.randn(c_out, generator=generator, dtype=torch.float64)
    reference = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
    gap_naive = (conv.conv2d_naive(x, weight, bias, s, p, d) - reference).abs().max().item()
    gap_im2col = (conv.conv2d_im2col(x, weight, bias, s, p, d) - reference).abs().max().item()
    assert gap_naive < 1e-12 and gap_im2col < 1e-12
    print(
        f"{n:2d} {c_in:4d} {h:2d} {w:2d} {c_out:5d} {f} {s} {p} {d}  {gap_naive < 1e-12!s:>12}  {gap_im2col < 1e-12!s:>14}"
    )

# %% [markdown]
# All differences are below $10^{-12}$ (the table prints `True` for that; the exact
# rounding residue depends on the machine). The raw largest differences on this
# machine, for the record (not checked, since the last bits of rounding differ between
# processors):

# %%
for n, c_in, h, w, c_out, f, s, p, d in cases:
    x = torch.randn(n, c_in, h, w, dtype=torch.float64)
    weight, bias = torch.randn(c_out, c_in, f, f, dtype=torch.float64), torch.randn(c_out, dtype=torch.float64)
    reference = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
    print(
        f"C_in={c_in} f={f} s={s} p={p} d={d}:  naive {(conv.conv2d_naive(x, weight, bias, s, p, d) - reference).abs().max().item():.1e}"
        f"   im2col {(conv.conv2d_im2col(x, weight, bias, s, p, d) - reference).abs().max().item():.1e}"
    )

# %% [markdown]
# The library is no magic: it computes what our loops compute.
#
# ### How fast?
#
# The same three functions, timed on a few sizes (one CPU thread in the book's tests; the
# naive loops only on the small inputs, where they finish in reasonable time). Timings
# vary between machines, so this cell is not checked; the claims at its end hold on any
# machine:


# %%
def best_time(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


sizes = [(3, 8, 16), (16, 16, 28), (64, 64, 56)]  # (C_in, C_out, H = W), 3x3 kernels, same padding
print(f"{'input':>14} {'naive':>10} {'im2col':>10} {'F.conv2d':>10} {'im2col / F.conv2d':>18}")
ratios, naive_ratios = {}, {}
for c_in, c_out, size in sizes:
    x = torch.randn(1, c_in, size, size)
    weight, bias = torch.randn(c_out, c_in, 3, 3), torch.randn(c_out)
    t_naive = best_time(lambda: conv.conv2d_naive(x, weight, bias, padding=1), 1) if size <= 28 else float("nan")
    t_cols = best_time(lambda: conv.conv2d_im2col(x, weight, bias, padding=1))
    t_torch = best_time(lambda: F.conv2d(x, weight, bias, padding=1))
    ratios[(c_in, size)] = t_cols / t_torch
    naive_ratios[(c_in, size)] = t_naive / t_cols
    naive_text = f"{t_naive * 1e3:8.1f}ms" if t_naive == t_naive else "    (skip)"
    print(
        f"{c_in:>4}x{size}x{size:<5} {naive_text} {t_cols * 1e3:8.2f}ms {t_torch * 1e3:8.2f}ms {ratios[(c_in, size)]:17.1f}x"
    )
claim("ch02.im2col_over_conv2d_64x56", ratios[(64, 56)], high=10)  # within 10x of F.conv2d
claim("ch02.naive_over_im2col_16x28", naive_ratios[(16, 28)], low=100)  # the loops: 100x or worse
print(f"naive loops / im2col at 16x28x28: {naive_ratios[(16, 28)]:,.0f}x")

# %% [markdown]
# The loops are more than a hundred times slower than the matrix product (the last line
# prints the ratio on your machine; on some machines it runs into the thousands), and the
# matrix product in turn is
# within a small factor of PyTorch's tuned kernels (they pick among several
# algorithms, im2col-style ones included, and avoid materialising the big column matrix).
# The price of im2col is memory: every input value is copied into up to $f^2$ columns.
#
# ## Controlling the output size: padding, stride, dilation
#
# A valid convolution of an $n \times n$ image with an $f \times f$ kernel has
# $n - f + 1$ positions per axis, so the image shrinks at every layer and the border
# pixels take part in fewer outputs than the centre ones. Three knobs change that:
#
# - **padding** $p$: add $p$ rows/columns of zeros on every side;
# - **stride** $s$: move the kernel $s$ pixels at a time;
# - **dilation** $d$: spread the kernel's taps $d$ pixels apart, so an $f \times f$ kernel
#   spans $d(f-1)+1$ pixels with the same $f^2$ weights {cite}`yu2016dilated`.
#
# Together they give the output size
#
# $$n_{out} = \left\lfloor \frac{n + 2p - d(f - 1) - 1}{s} \right\rfloor + 1,$$ (eq-ch02-size)
#
# which for $d = 1$ is the lectures' $\lfloor (n + 2p - f)/s \rfloor + 1$. The named
# paddings are **valid** ($p = 0$), **same** ($p = (f-1)/2$ for odd $f$, so that
# $n_{out} = n$ at stride 1) and **full** ($p = f - 1$, every partial overlap counts,
# $n_{out} = n + f - 1$). `conv.conv_output_size` implements {eq}`eq-ch02-size`; we
# check it against the shapes real PyTorch layers produce:

# %%
# NBVAL_CHECK_OUTPUT
print(" n  f  p       s  d  -> formula  nn.Conv2d")
for n, f, p, s, d in [
    (6, 3, 0, 1, 1),
    (6, 3, "same", 1, 1),
    (6, 3, 2, 1, 1),
    (6, 3, "full", 1, 1),
    (7, 3, 0, 2, 1),
    (5, 2, 0, 2, 1),
    (10, 3, "same", 1, 2),
    (227, 11, 0, 4, 1),
    (224, 7, 3, 2, 1),
]:
    ours = conv.conv_output_size(n, f, p, s, d)
    pad = p if isinstance(p, int) else {"same": conv.same_padding(f, d), "full": d * (f - 1)}[p]
    theirs = nn.Conv2d(1, 1, f, stride=s, padding=pad, dilation=d)(torch.zeros(1, 1, n, n)).shape[-1]
    assert ours == theirs
    print(f"{n:3d} {f:2d} {str(p):>5} {s:4d} {d:2d}  -> {ours:6d} {theirs:9d}")

# %% [markdown]
# Two of these rows come back in Chapter 4: AlexNet's first layer (227 → 55 with an
# $11 \times 11$ kernel at stride 4) and ResNet's stem (224 → 112 with a $7 \times 7$
# kernel, stride 2, padding 3).
#
# ```{note}
# **A slip in the lecture notes.** A handwritten note next to *full convolution* says
# "output size = input size". That is the property of *same* padding. Full padding
# ($p = f - 1$) makes the output **larger**: $n + f - 1$, as the slide itself states and
# the table shows ($6 \to 8$ for $f = 3$). A code example of lecture 001 has the same mix-up
# the other way round: `nn.Conv2d(..., kernel_size=3, stride=1, padding=2)` with the comment
# `'same'`. For $f = 3$ that is full padding, and the output grows by two pixels per axis (the
# row $p = 2$: $6 \to 8$); same padding is `padding=1`, or `padding="same"`.
# ```
#
# ### The lecture's stride-2 example, recomputed
#
# Lecture 002 works one strided convolution by hand: a $7 \times 7$ grid of small integers,
# the $3 \times 3$ kernel with rows $(3, 4, 4)$, $(1, 0, 2)$, $(-1, 0, 3)$, stride 2 and no
# padding, so the output has $\lfloor (7 - 3)/2 \rfloor + 1 = 3$ values per axis. The slide
# writes the kernel's weights in small type into the corner of every input cell a window
# covers, and the lecture's transcript reads those corner numbers in among the pixel values;
# taking them out row by row gives back the grid below. (Like the rest of the lectures, the
# kernel is applied without flipping: cross-correlation.) We compute the nine outputs with our
# loop version and with PyTorch and set them beside the slide's:

# %%
# NBVAL_CHECK_OUTPUT
grid = torch.tensor(
    [
        [2, 3, 7, 4, 6, 2, 9],
        [6, 6, 9, 8, 7, 4, 3],
        [3, 4, 8, 3, 8, 9, 7],
        [7, 8, 3, 6, 6, 3, 4],
        [4, 2, 1, 8, 3, 4, 6],
        [3, 2, 4, 1, 9, 8, 3],
        [0, 1, 3, 9, 2, 1, 4],
    ],
    dtype=torch.float64,
)
strided_kernel = torch.tensor([[3, 4, 4], [1, 0, 2], [-1, 0, 3]], dtype=torch.float64)
slide_result = torch.tensor([[91, 100, 83], [69, 91, 127], [44, 72, 74]], dtype=torch.float64)

strided = conv.conv2d_naive(grid[None, None], strided_kernel[None, None], stride=2)[0, 0]
assert torch.equal(strided, F.conv2d(grid[None, None], strided_kernel[None, None], stride=2)[0, 0])
print("ours (= F.conv2d):", strided.long().tolist())
print("the slide:        ", slide_result.long().tolist())
for i, j in (strided != slide_result).nonzero().tolist():
    window = grid[2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
    print(
        f"output ({i}, {j}): window rows {2 * i}-{2 * i + 2}, columns {2 * j}-{2 * j + 2} -> {window.long().tolist()}"
    )
    pairs = zip(window.flatten().long().tolist(), strided_kernel.flatten().long().tolist())
    terms = " + ".join(f"{a}*{b}" if b > 0 else f"{a}*({b})" for a, b in pairs if b != 0)
    print(f"   {terms} = {int((window * strided_kernel).sum())}, the slide has {int(slide_result[i, j])}")

# %% [markdown]
# Seven of the nine values agree; the slide has **83** where the sum is **88**, and **127**
# where it is **117**. Could the grid be misread rather than the sums? In the top-right window
# only one entry can move the sum by exactly $-5$ when it is replaced by another digit: row 1,
# column 4 (weight 1, a 7 read for a 2). But that entry also lies in the top-middle window,
# with weight 2, and would turn its 100, which the slide has, into 90. The cell below settles
# the question by brute force: no change of one or two grid entries to any digit 0-9 gives all
# nine of the slide's numbers, so the two are slips of arithmetic (listed in the
# {doc}`errata <../book/errata>`).


# %%
# NBVAL_CHECK_OUTPUT
def stride2_outputs(grids):  # a batch of grids through the example's layer
    return F.conv2d(grids[:, None], strided_kernel[None, None], stride=2)[:, 0]


cells = [(r, c) for r in range(7) for c in range(7)]
digits = torch.arange(10, dtype=torch.float64)
singles = grid.repeat(len(cells) * 10, 1, 1)
for k, (r, c) in enumerate(cells):
    singles[10 * k : 10 * k + 10, r, c] = digits
pairs = []
for a in range(len(cells)):
    for b in range(a + 1, len(cells)):
        batch = grid.repeat(100, 1, 1)
        batch[:, cells[a][0], cells[a][1]] = digits.repeat_interleave(10)
        batch[:, cells[b][0], cells[b][1]] = digits.repeat(10)
        pairs.append(batch)
pairs = torch.cat(pairs)
for name, batch in (("one entry changed", singles), ("two entries changed", pairs)):
    hits = (stride2_outputs(batch) == slide_result).all(dim=(1, 2)).sum().item()
    print(f"{name}: {len(batch):,} grids tried, {hits} give the slide's nine numbers")

# %% [markdown]
# The picture makes the three knobs concrete. Each panel marks, on a $7 \times 7$ input
# (plus padding), the input pixels that the first output value reads and the further
# pixels its right-hand neighbour reads:


# %%
def draw_taps(ax, n, f, p=0, s=1, d=1, title=""):
    size = n + 2 * p
    grid = np.zeros((size, size))
    grid[p : p + n, p : p + n] = 0.15  # the real image; padding stays 0
    for offset, value in ((0, 1.0), (s, 0.6)):  # first output and its neighbour
        for a in range(f):
            for b in range(f):
                grid[a * d, offset + b * d] = max(grid[a * d, offset + b * d], value)
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(np.arange(-0.5, size, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, size, 1), minor=True)
    ax.grid(which="minor", color="gray", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    out = conv.conv_output_size(n, f, p, s, d)
    ax.set_title(f"{title}\np={p} s={s} d={d}: {n}x{n} -> {out}x{out}", fontsize="small")


# %% mystnb={"figure": {"caption": "Valid padding, same padding, stride 2 and dilation 2 on a 7x7 image (pale blue; the white border is zero padding). Dark blue: the pixels the first output reads; mid blue: the further pixels its right-hand neighbour reads.", "name": "fig-ch02-knobs"}, "image": {"alt": "Four grids, output sizes in the titles. Valid (5x5): a dark 3x3 block in the corner of the 7x7 image, one mid-blue column beside it. Same (7x7): a white padding border, the block starting in the padded corner. Stride 2 (3x3): two mid-blue columns beside the block. Dilation 2 (3x3): the nine dark cells spread over a 5x5 area."}}
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
draw_taps(axes[0], 7, 3, title="valid")
draw_taps(axes[1], 7, 3, p=1, title="same")
draw_taps(axes[2], 7, 3, s=2, title="stride 2")
draw_taps(axes[3], 7, 3, d=2, title="dilation 2")
fig.tight_layout()

# %% [markdown]
# With dilation 2 the same nine weights cover a $5 \times 5$ area: a larger receptive
# field at no extra cost in parameters, which is why dilated convolutions are popular in
# segmentation networks.
#
# ## Classic kernels on real photos
#
# Before networks learnt their filters, image processing designed them by hand. The
# lectures list the main ones:
#
# - **blur** $\frac{1}{16}\begin{bmatrix}1&2&1\\2&4&2\\1&2&1\end{bmatrix}$: a weighted average
#   (a small Gaussian), which removes noise and fine detail;
# - **sharpen** $\begin{bmatrix}0&-1&0\\-1&5&-1\\0&-1&0\end{bmatrix}$: the pixel plus its
#   difference from its neighbours, which exaggerates edges;
# - **Laplacian** $\begin{bmatrix}0&1&0\\1&-4&1\\0&1&0\end{bmatrix}$ and **outline**
#   $\begin{bmatrix}-1&-1&-1\\-1&8&-1\\-1&-1&-1\end{bmatrix}$: second derivatives, zero on flat
#   and on linearly varying regions, large at edges and spots;
# - **Sobel** $\begin{bmatrix}1&0&-1\\2&0&-2\\1&0&-1\end{bmatrix}$ {cite}`sobel1968isotropic` and
#   **Scharr** $\begin{bmatrix}3&0&-3\\10&0&-10\\3&0&-3\end{bmatrix}$ {cite}`scharr2000optimal`:
#   horizontal derivatives with smoothing across, weighting the centre row more; their
#   transposes measure vertical change.
#
# ```{note}
# **Another slip.** The lecture's Scharr kernel reads $\begin{bmatrix}3&0&-1\\10&0&-10\\3&0&-3\end{bmatrix}$.
# The top-right entry must be $-3$: with $-1$ the weights no longer sum to zero, so the
# filter would respond to flat regions (with $+2$ times the brightness) instead of only
# to edges. The next cell shows it.
# ```

# %%
# NBVAL_CHECK_OUTPUT
slide_scharr = torch.tensor([[3, 0, -1], [10, 0, -10], [3, 0, -3]], dtype=torch.float32)
flat = torch.full((5, 5), 100.0)
print("sum of weights: slide", int(slide_scharr.sum()), " correct", int(conv.KERNELS["scharr_x"].sum()))
print(
    "response to a flat gray 100 image: slide",
    int(correlate(flat, slide_scharr)[0, 0]),
    " correct",
    int(correlate(flat, conv.KERNELS["scharr_x"])[0, 0]),
)

# %% [markdown]
# Applied to the `camera` photograph with same padding (we use the fast
# `conv2d_im2col` from now on):

# %% mystnb={"figure": {"caption": "Classic hand-designed kernels applied to a real photo. Laplacian, outline and the Sobel magnitude are shown as magnitudes (white means zero response); Sobel x and y keep their sign (colour bars: blue positive, red negative, white zero).", "name": "fig-ch02-kernels"}, "image": {"alt": "Eight panels of a crop of the cameraman photo: the input, a softer blurred and a crisper sharpened version; Laplacian and outline, dark edges and grass texture on white; Sobel x and y in red, white and blue, x marking vertical edges such as the tripod legs, y horizontal ones; and the Sobel magnitude, a dark-on-white edge map."}}
camera = data.image_to_tensor(data.sample_image("camera"))[None]  # (1, 1, 512, 512)
names = ["gaussian_blur", "sharpen", "laplacian", "outline", "sobel_x", "sobel_y", "scharr_x"]
filtered = {name: conv.conv2d_im2col(camera, conv.KERNELS[name][None, None], padding="same")[0, 0] for name in names}
sobel_magnitude = torch.sqrt(filtered["sobel_x"] ** 2 + filtered["sobel_y"] ** 2)
panels = [("input", camera[0, 0], "gray", 0, 1)]
panels += [(n, filtered[n], "gray", 0, 1) for n in ["gaussian_blur", "sharpen"]]
panels += [(n, filtered[n].abs(), "gray_r", 0, 1) for n in ["laplacian", "outline"]]
panels += [(n, filtered[n], "RdBu", -2, 2) for n in ["sobel_x", "sobel_y"]]
panels += [("Sobel magnitude", sobel_magnitude, "gray_r", 0, 2)]
fig, axes = plt.subplots(2, 4, figsize=(11, 5.8))
for ax, (name, img, cmap, lo, hi) in zip(axes.flat, panels):
    shown = ax.imshow(img[100:356, 150:406].numpy(), cmap=cmap, vmin=lo, vmax=hi)
    ax.set_title(name, fontsize="small")
    ax.axis("off")
    if cmap == "RdBu":  # signed responses: a colour bar says which sign is which colour
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, ticks=[lo, 0, hi])
fig.tight_layout()

# %% [markdown]
# The crop shows the photographer. The blur softens the grass texture; sharpening makes
# the coat's outline crisper; the Laplacian and outline filters light up edges and
# fine texture and stay pale on the smooth sky. Sobel x computes left minus right (the
# kernel's positive column is on the left, and `conv2d` does not flip it), so with the `RdBu`
# colour map a vertical edge that is brighter on its left comes out blue (positive) and one
# that is brighter on its right red (negative). It finds the vertical edges of the tripod
# legs, Sobel y (top minus bottom) the horizontal ones, and their combined magnitude $\sqrt{G_x^2 + G_y^2}$ is a classic edge
# map. A CNN's first layer learns filters much like these (Chapter 12 shows them).
#
# ## Convolution over volumes
#
# A colour image has three channels, so a filter for it has three channels too: an
# $f \times f \times 3$ block of weights. At each position it multiplies all
# $3 f^2$ values under it and adds them into **one** number; the output of one filter
# is a single 2-D map, whatever the number of input channels. Using $n_c'$ filters
# gives $n_c'$ maps, stacked into the output volume. The lectures' example: a
# $6 \times 6 \times 3$ input with two $3 \times 3 \times 3$ filters gives $4 \times 4 \times 2$.
# In PyTorch's channel-first layout that is $(3, 6, 6) \to (2, 4, 4)$:

# %%
# NBVAL_CHECK_OUTPUT
volume = torch.randn(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
filters = torch.randn(2, 3, 3, 3, generator=torch.Generator().manual_seed(2))
bias = torch.tensor([0.5, -1.0])
out = conv.conv2d_naive(volume, filters, bias)
print(
    "input",
    tuple(volume.shape[1:]),
    "* two filters",
    tuple(filters.shape[1:]),
    "->",
    tuple(out.shape[1:]),
    "i.e. 4 x 4 x 2 in the lectures' HWC notation",
)
by_hand = (volume[0, :, 0:3, 0:3] * filters[0]).sum() + bias[0]  # one value, all 27 products
print("out[0, 0, 0] from the 27 products + bias matches:", torch.allclose(out[0, 0, 0, 0], by_hand))
layer = nn.Conv2d(3, 2, kernel_size=3)
print("parameters of this layer: 2 x (3*3*3 + 1) =", sum(p.numel() for p in layer.parameters()))

# %% [markdown]
# The parameter count, $n_c' (f^2 n_c + 1)$, does not depend on the image size: ten
# $3 \times 3 \times 3$ filters have 280 parameters whether the image is $64 \times 64$ or
# $1000 \times 1000$. Compare the 3 billion weights of the fully connected layer in
# Chapter 1.
#
# ### $1 \times 1$ convolutions mix channels
#
# A $1 \times 1$ filter looks at one pixel, but at all its channels: it computes a
# weighted sum of the $n_c$ channel values at every position. A layer of them is the
# same linear map applied at each pixel, a tiny fully connected layer shared across
# the image {cite}`lin2014network`. It changes the number of channels without touching
# the spatial size. Checked numerically:

# %%
# NBVAL_CHECK_OUTPUT
features = torch.randn(2, 32, 6, 6, generator=torch.Generator().manual_seed(3))
mixer = nn.Conv2d(32, 8, kernel_size=1)
linear = nn.Linear(32, 8)
linear.weight.data = mixer.weight.data.reshape(8, 32)
linear.bias.data = mixer.bias.data
per_pixel = linear(features.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # apply the Linear at every pixel
print("1x1 conv:", tuple(features.shape), "->", tuple(mixer(features).shape))
print("same as a Linear(32, 8) at every pixel:", torch.allclose(mixer(features), per_pixel, atol=1e-6))

# %% [markdown]
# Chapter 5 uses this to make Inception cheap, and Chapter 6 to build MobileNet.
#
# ## Pooling
#
# A **pooling** layer summarises each $f \times f$ window of each channel by one number,
# the maximum (**max pooling**) or the mean (**average pooling**). It has no weights,
# works on every channel separately (so $n_c$ is unchanged) and obeys the same size
# formula {eq}`eq-ch02-size`. Max pooling keeps "was the feature present somewhere in
# this window", which also makes the output tolerant of small shifts. The lectures'
# example, $f = 2$, $s = 2$:

# %%
# NBVAL_CHECK_OUTPUT
grid = torch.tensor([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=torch.float32)[None, None]
mine_max, mine_avg = conv.pool2d(grid, 2, 2, "max"), conv.pool2d(grid, 2, 2, "avg")
print("max pooling:\n", mine_max[0, 0].int().numpy())
print("average pooling:\n", mine_avg[0, 0].numpy())
print("global average pooling:", float(grid.mean()), " global max pooling:", float(grid.amax()))
assert torch.equal(mine_max, F.max_pool2d(grid, 2)) and torch.equal(mine_avg, F.avg_pool2d(grid, 2))
assert mine_max[0, 0].tolist() == [[9, 2], [6, 3]]

# %% [markdown]
# **Global** pooling takes the whole map as one window, turning an $(N, C, H, W)$ volume
# into $(N, C)$: one number per channel, whatever the image size. Modern networks end
# with it instead of flattening (Chapter 5). Our `pool2d` against PyTorch on random
# inputs with overlapping windows and padding:

# %%
# NBVAL_CHECK_OUTPUT
x = torch.randn(2, 3, 11, 9, generator=torch.Generator().manual_seed(4))
for f, s, p in [(2, 2, 0), (3, 2, 1), (3, 1, 1)]:
    ok_max = torch.allclose(conv.pool2d(x, f, s, "max", p), F.max_pool2d(x, f, s, p))
    ok_avg = torch.allclose(conv.pool2d(x, f, s, "avg", p), F.avg_pool2d(x, f, s, p), atol=1e-6)
    print(
        f"f={f} s={s} p={p}: output {tuple(conv.pool2d(x, f, s, 'max', p).shape)}  max ok: {ok_max}  avg ok: {ok_avg}"
    )
print(
    "global average pooling == AdaptiveAvgPool2d(1):",
    torch.allclose(x.mean(dim=(2, 3)), nn.AdaptiveAvgPool2d(1)(x).flatten(1)),
)

# %% [markdown]
# ## The receptive field of a stack
#
# One $3 \times 3$ layer sees a $3 \times 3$ patch. A second $3 \times 3$ layer on top sees
# $3 \times 3$ outputs of the first, which together cover $5 \times 5$ input pixels; a third
# covers $7 \times 7$. Strides and pooling make the field grow faster, because each step
# in a later layer jumps several input pixels. With $r_0 = 1$ and jump $j_0 = 1$, layer
# $l$ with filter $f_l$, stride $s_l$ and dilation $d_l$ gives
#
# $$r_l = r_{l-1} + d_l (f_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l.$$
#
# `conv.receptive_field` applies this to a list of layers and
# `conv.receptive_field_of` reads the layers of a real model:

# %%
# NBVAL_CHECK_OUTPUT
print("three 3x3 convs:", conv.receptive_field([(3, 1), (3, 1), (3, 1)]))
print("five 3x3 convs: ", conv.receptive_field([(3, 1)] * 5))
small_net = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.ReLU(),
    nn.AvgPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.ReLU(),
    nn.AvgPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1),
)
for name, r, j in conv.receptive_field_of(small_net):
    print(f"layer {name:>2}: receptive field {r:2d} x {r:<2d} jump {j}")

# %% [markdown]
# Three stacked $3 \times 3$ convolutions see as far as one $7 \times 7$, with
# $3 \cdot 9 = 27$ instead of $49$ weights per channel pair and three non-linearities
# instead of one: the design rule of VGG (Chapter 4). (One slide of lecture 001 compares such a
# stack with an $11 \times 11$ convolution; matching $11 \times 11$ takes five stride-1
# $3 \times 3$ layers, as the second line shows. Lecture 000 has it right: $7 \times 7$.)
# We can also *measure* the receptive
# field: back-propagate from one output unit to the input and see which pixels get a
# non-zero gradient.

# %% mystnb={"figure": {"caption": "Input pixels that influence the centre output of each layer of the small network (gradient magnitude of that output with respect to the input). The theoretical receptive fields are 3, 4, 8, 10, 18; in the deeper layers the gradient is strongest near the centre of the field.", "name": "fig-ch02-rf"}, "image": {"alt": "Five black panels, one per layer (conv 1, pool 1, conv 2, pool 2, conv 3), each with a glowing square patch of input pixels that affect the centre output; the patch widens from 3 to 4, 8, 10 and 18 pixels. In the later layers it is brightest in the middle and fades towards its edges."}}
probe = (torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(5)) + 0.1).requires_grad_()
fig, axes = plt.subplots(1, 5, figsize=(11, 2.6))
stages = [(1, "conv 1"), (3, "pool 1"), (4, "conv 2"), (6, "pool 2"), (7, "conv 3")]
measured = []
with torch.no_grad():
    for module in small_net:
        if isinstance(module, nn.Conv2d):  # positive weights and inputs: every path counts,
            module.weight.abs_()  # no ReLU switches off, nothing cancels
            module.bias.abs_()
for ax, (depth, title) in zip(axes, stages):
    out = small_net[:depth](probe)
    centre = out.shape[-1] // 2
    (grad,) = torch.autograd.grad(out[0, 0, centre, centre], probe)
    seen = grad[0, 0].abs()
    rows = torch.nonzero(seen.sum(dim=1)).flatten()
    measured.append(int(rows.max() - rows.min() + 1))
    ax.imshow(seen.numpy(), cmap="magma")
    ax.set_title(f"{title}: {measured[-1]} px", fontsize="small")
    ax.axis("off")
fig.tight_layout()

# %%
# NBVAL_CHECK_OUTPUT
theory = [r for _, r, _ in conv.receptive_field_of(small_net)]
print("receptive field, formula: ", theory)
print("receptive field, measured:", measured)
assert measured == theory

# %% [markdown]
# The measured extent equals the formula. The formula hides a nuance that the last panels
# begin to show: the centre pixels influence the output through many more paths than the
# border ones, so in the deeper layers the gradient is concentrated towards the middle of the
# square. In deep networks this *effective* receptive field is a blob much smaller than the
# theoretical square, as Luo et al. measured {cite}`luo2016effective`; five small layers are
# too few to show it fully.
#
# ## Learning a filter
#
# Hand-designing kernels works for edges, but nobody can hand-design a "cat ear"
# detector. A CNN learns its kernels by gradient descent. Here is the smallest
# possible version: we show a single $3 \times 3$ filter pairs of (image, Sobel-filtered
# image) and let it find the weights that map one to the other, by minimising the
# mean squared error
#
# $$J(W) = \frac{1}{N}\sum_{k=1}^{N} \big\lVert W * X^{(k)} - Y^{(k)} \big\rVert^2, \qquad Y^{(k)} = W_{\text{Sobel}} * X^{(k)}.$$
#
# The four lines inside the loop below (reset the gradients, compute the loss, backpropagate,
# take a step) are the whole of gradient descent in PyTorch; Chapter 3 explains each of them.
# The inputs are $32 \times 32$ images of uniform random noise and the filter starts at
# random. Noise is the best possible teacher here: every pixel is independent of its
# neighbours, so each of the nine weights has a distinct effect on the output. In
# photographs neighbouring pixels are strongly correlated, many different kernels
# produce nearly the same output, and gradient descent needs far more steps to pin the
# weights down.

# %%
inputs = torch.rand(256, 1, 32, 32, generator=torch.Generator().manual_seed(0))  # noise images
sobel = conv.KERNELS["sobel_x"][None, None]
targets = F.conv2d(inputs, sobel)  # what a Sobel filter gives

learnt = nn.Conv2d(1, 1, kernel_size=3, bias=False)
optimizer = torch.optim.Adam(learnt.parameters(), lr=0.05)
losses = []
for step in range(400):
    optimizer.zero_grad()
    loss = F.mse_loss(learnt(inputs), targets)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

# %%
# NBVAL_CHECK_OUTPUT
print("Sobel x:\n", sobel[0, 0].numpy())
print(f"loss of the random starting filter: {losses[0]:.4f}")

# %% [markdown]
# The starting loss above is computed before any gradient step, so it is the same on
# every machine. What the 400 steps learnt is measured (the last digits depend on the
# CPU), and the claims check that it is the Sobel kernel to two decimals:

# %%
weights = learnt.weight.detach()[0, 0]
print("learnt filter (rounded to 3 decimals):\n", np.round(weights.numpy(), 3) + 0.0)
claim("ch02.sobel_max_error", (weights - sobel[0, 0]).abs().max(), high=0.01)
claim("ch02.sobel_final_loss", losses[-1], high=1e-8)
print(f"largest |learnt - Sobel| = {float((weights - sobel[0, 0]).abs().max()):.1e}")
print(f"loss after 400 steps: {losses[-1]:.1e}")

# %% mystnb={"figure": {"caption": "Training loss of a single 3x3 filter learning to imitate the Sobel kernel (log scale).", "name": "fig-ch02-learn"}, "image": {"alt": "Line plot of mean squared error, on a log axis, against gradient step from 0 to 400. The loss falls steadily by about twelve orders of magnitude, in a staircase of small wave-like bumps, and levels off near 1e-13 from about step 300."}}
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.semilogy(losses)
ax.set_xlabel("gradient step")
ax.set_ylabel("mean squared error")
ax.set_title("Learning a 3x3 filter from examples")
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# The filter recovers the Sobel weights to two decimals. Nothing told it about edges:
# the examples did. A CNN does the same with many filters and many layers at once, with
# a loss that measures classification errors instead of the distance to a known filter.
#
# ## Key takeaways
#
# - A convolutional layer slides $f \times f$ (by $n_c$) filters over the input and takes a
#   dot product at every position: local, shared weights. Libraries compute
#   cross-correlation and call it convolution.
# - The naive loops and the im2col matrix product agree with `F.conv2d` to $10^{-12}$; im2col
#   is within a small factor of PyTorch's speed, the loops more than a hundred times slower.
# - $n_{out} = \lfloor (n + 2p - d(f-1) - 1)/s \rfloor + 1$; valid, same ($p = (f-1)/2$) and
#   full ($p = f - 1$, output $n + f - 1$, not $n$ as a note in the lecture says).
# - The lecture's examples: the vertical-edge map $[[-5,-4,0,8], \dots, [-3,-2,-3,-16]]$, the
#   step giving 30s, the horizontal edges giving $30, 10, -10, -30$, the $6 \times 6 \times 3$
#   volume with two filters giving $4 \times 4 \times 2$, and max pooling giving
#   $[[9, 2], [6, 3]]$. The slide's Scharr kernel has a typo ($-1$ for $-3$).
# - A layer has $n_c'(f^2 n_c + 1)$ parameters, independent of the image size.
#   $1 \times 1$ convolutions mix channels; pooling shrinks maps and has no weights.
# - Receptive fields grow by $d(f-1)$ times the jump per layer; three $3 \times 3$ layers see
#   $7 \times 7$.
# - Gradient descent recovers a Sobel filter from examples: filters can be learnt.
#
# ## Exercises
#
# The exercise notebook asks you to implement the output-size formula, a single-channel
# convolution with stride and padding, a convolution over volumes, max pooling, and to
# design a diagonal-edge kernel.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch02/ch02_exercises.ipynb)
# or on GitHub:
# [`exercises/ch02/ch02_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch02/ch02_exercises.ipynb).
