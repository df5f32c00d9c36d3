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
# # Efficient networks: MobileNet cost arithmetic and EfficientNet
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/06_efficient_networks.ipynb)
#
# The networks of Chapters 4 and 5 were designed to win ImageNet on server GPUs. A phone
# needs the same kind of accuracy at a fraction of the cost. This chapter is about
# counting that cost precisely. We reproduce, by code, every cost figure of the
# lectures and of the MobileNet papers: the depthwise-separable convolution and its
# savings {cite}`howard2017mobilenets`, the width and resolution multipliers, the
# MobileNet v1 table at four widths and four resolutions, MobileNet v2's inverted
# residuals {cite}`sandler2018mobilenetv2`, and EfficientNet's compound scaling
# {cite}`tan2019efficientnet`. Every analytic count is checked against a count taken from
# the built network, and against PyTorch's own FLOP counter. Then we measure what the
# savings are worth in time on a real CPU, which is less than the arithmetic promises.
# The chapter follows lectures 003, 002 and 000 {cite}`khan2025cv,safayani_deeplearning`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - compute the cost (multiply-adds) and parameters of standard, depthwise, pointwise
#   and depthwise-separable convolutions, by hand and with the package;
# - explain the ratio $1/n_c' + 1/f^2$ and the effect of the width multiplier $\alpha$ and
#   resolution multiplier $\rho$;
# - build MobileNet v1 and v2 and reproduce their papers' cost tables;
# - measure latency honestly and explain why it does not fall as fast as the
#   multiply-adds;
# - compute EfficientNet's compound scaling and compare it with the released B1-B7.

# %% [markdown]
# ## Setup

# %%
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cvbook import cost, device, models
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## The cost of a convolution
#
# A convolution layer computes one dot product per output value. With $n_c'$ filters of
# size $f \times f \times n_c$ sliding over $n_{out} \times n_{out}$ positions, the number of
# multiplications is
#
# $$\text{cost} = \underbrace{f \cdot f \cdot n_c}_{\text{filter parameters}} \times
# \underbrace{n_{out} \cdot n_{out}}_{\text{filter positions}} \times \underbrace{n_c'}_{\text{filters}}.$$ (eq-ch06-cost)
#
# (Papers call these *mult-adds*; each multiplication comes with an addition.) The
# lectures' example: a $6 \times 6 \times 3$ input, five $3 \times 3 \times 3$ filters, a
# $4 \times 4 \times 5$ output. The package's `cost.standard_conv_cost` uses MobileNet's names
# ($D_K$ kernel, $M$ input channels, $N$ filters, $D_F$ output size):

# %%
# NBVAL_CHECK_OUTPUT
standard = cost.standard_conv_cost(d_k=3, m=3, n=5, d_f=4)
print(
    f"standard: 3*3*3 params x 4*4 positions x 5 filters = {standard.mult_adds:,} mult-adds, {standard.params} weights"
)

# %% [markdown]
# A **depthwise-separable** convolution splits this into two cheaper steps:
#
# 1. **depthwise**: one $f \times f$ filter *per input channel*, each applied to its own
#    channel only ($n_c$ filters of $f \times f \times 1$; in PyTorch `groups=n_c`); it filters
#    in space but does not mix channels;
# 2. **pointwise**: $n_c'$ filters of $1 \times 1 \times n_c$ that mix the channels
#    (Chapter 5's $1 \times 1$ convolution).

# %%
# NBVAL_CHECK_OUTPUT
depthwise = cost.depthwise_cost(d_k=3, m=3, d_f=4)
pointwise = cost.pointwise_cost(m=3, n=5, d_f=4)
separable = depthwise + pointwise
print(f"depthwise: 3*3 x 4*4 x 3 = {depthwise.mult_adds}")
print(f"pointwise: 1*1*3 x 4*4 x 5 = {pointwise.mult_adds}")
print(f"separable: {depthwise.mult_adds} + {pointwise.mult_adds} = {separable.mult_adds}")
print(f"ratio: {separable.mult_adds} / {standard.mult_adds} = {separable.mult_adds / standard.mult_adds:.2f}")

# %% [markdown]
# **2,160** against **432 + 240 = 672**: the separable version costs **0.31** of the standard
# one. (Lecture 000 writes the depthwise product as $482 = 3 \times 3 \times 4 \times 4 \times 3$;
# the product is 432, which its own sum $432 + 240 = 672$ uses.) The same counts from the built layers, with the package's hook-based counter and with
# PyTorch's `FlopCounterMode` (which reports 2 FLOPs per mult-add, counts grouped convolutions
# correctly on the forward pass, and ignores biases, batch norm and activations; its backward
# pass over-counts grouped convolutions in torch 2.14, so we only count forward passes):

# %%
# NBVAL_CHECK_OUTPUT
std_layer = nn.Conv2d(3, 5, 3, bias=False)
sep_layers = nn.Sequential(nn.Conv2d(3, 3, 3, groups=3, bias=False), nn.Conv2d(3, 5, 1, bias=False))
for name, layer in [("standard", std_layer), ("separable", sep_layers)]:
    counted = cost.count_mult_adds(layer, (3, 6, 6))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(torch.zeros(1, 3, 6, 6))
    print(
        f"{name:9s}: cvbook {counted:,} mult-adds, FlopCounterMode {counter.get_total_flops() // 2:,}, "
        f"weights {models.count_parameters(layer)}"
    )
    assert counted == counter.get_total_flops() // 2

# %% [markdown]
# ### The general ratio
#
# Dividing the separable cost by the standard cost, everything but the filter shapes
# cancels:
#
# $$\frac{D_K^2 M D_F^2 + M N D_F^2}{D_K^2 M N D_F^2} = \frac{1}{N} + \frac{1}{D_K^2}
# \quad\text{i.e.}\quad \frac{1}{n_c'} + \frac{1}{f^2}.$$ (eq-ch06-ratio)
#
# With many filters the first term vanishes, and a $3 \times 3$ separable layer costs about
# $1/9$ of a standard one (the lectures' $1/512 + 1/9$). Since $1/n_c'$ is never zero, the saving
# is always a little *less* than $9\times$ ($8.84\times$ at $n_c' = 512$), not the "9 to 10
# times" of lecture 004:

# %%
# NBVAL_CHECK_OUTPUT
for n in (5, 16, 64, 512):
    ratio = cost.separable_ratio(n, 3)
    print(f"n_c' = {n:3d}: 1/n_c' + 1/9 = {ratio:.4f}, a saving of {1 / ratio:.2f}x")

# %% mystnb={"figure": {"caption": "Cost of a 3x3 depthwise-separable convolution relative to a standard one, against the number of filters; the dashed line is the limit 1/9.", "name": "fig-ch06-ratio"}, "image": {"alt": "Line plot of the separable-to-standard cost ratio against the number of filters, 1 to 256 on a log2 axis. The ratio starts just above 1 for a single filter, falls to about 0.36 at 4 filters and flattens onto the dashed 1/9 line from about 64 filters on."}}
filters = np.arange(1, 257)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(filters, [cost.separable_ratio(int(n), 3) for n in filters])
ax.axhline(1 / 9, ls="--", color="gray", label="1/9")
ax.set_xscale("log", base=2)
ax.set_xlabel("number of filters n_c'")
ax.set_ylabel("separable / standard cost")
ax.set_title("1/n_c' + 1/f^2 for f = 3")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %% [markdown]
# ### The $128 \times 128 \times 4$ example
#
# Lecture 003 works through a larger input: $128 \times 128 \times 4$, $3 \times 3$ filters, same
# padding. The depthwise step does $3 \cdot 3 \cdot 4 = 36$ multiplications per position, at
# $128 \cdot 128 = 16{,}384$ positions, whatever the number of output channels. With 10
# output channels the pointwise step adds $128 \cdot 128 \cdot 4 \cdot 10$:

# %%
# NBVAL_CHECK_OUTPUT
dw = cost.depthwise_cost(3, 4, 128)
pw = cost.pointwise_cost(4, 10, 128)
print(f"depthwise: {128 * 128:,} positions x 36 = {dw.mult_adds:,}")
print(f"+ pointwise to 10 channels: {pw.mult_adds:,}  -> separable total {(dw + pw).mult_adds:,}")
print(f"a standard conv with 10 filters: {cost.standard_conv_cost(3, 4, 10, 128).mult_adds:,}")

# %% [markdown]
# **589,824** and **1,245,184**, against 5,898,240 for the standard layer. (The notes write
# "Total Multiplications = 16,384 − 589,824", a typo for $16{,}384 \times 36 = 589{,}824$.)
#
# ## Width and resolution multipliers
#
# MobileNet has two knobs to trade accuracy for cost. The **width multiplier** $\alpha$ thins
# every layer: $M \to \alpha M$, $N \to \alpha N$. The **resolution multiplier** $\rho$ shrinks
# the input, and with it every feature map: $D_F \to \rho D_F$. A separable layer then costs
#
# $$D_K \cdot D_K \cdot \alpha M \cdot \rho D_F \cdot \rho D_F \;+\; \alpha M \cdot \alpha N \cdot \rho D_F \cdot \rho D_F,$$ (eq-ch06-multipliers)
#
# so the cost falls roughly with $\alpha^2$ and $\rho^2$, the parameters with $\alpha^2$ only.
#
# ```{note}
# **Slips in the notes.** The notes write the depthwise term as $D_K \times P_K \times \ldots$:
# the kernel is $D_K \times D_K$. And under the resolution multiplier both terms are labelled
# "reduction by factor $\lambda^2$"; in fact the depthwise term shrinks by $\alpha\rho^2$ and the
# pointwise term by $\alpha^2\rho^2$ (the notes write $\lambda$ for $\alpha$ and $S$ for $\rho$).
# ```
#
# The paper's Table 3 applies this to one internal layer with $D_K = 3$, $M = N = 512$,
# $D_F = 14$, each row on top of the previous one:

# %%
# NBVAL_CHECK_OUTPUT
rows = [
    ("Convolution", cost.standard_conv_cost(3, 512, 512, 14), (462, 2.36)),
    ("Depthwise separable conv", cost.separable_cost(3, 512, 512, 14), (52.3, 0.27)),
    ("alpha = 0.75", cost.separable_cost(3, 512, 512, 14, alpha=0.75), (29.6, 0.15)),
    ("rho = 0.714", cost.separable_cost(3, 512, 512, 14, alpha=0.75, rho=0.714), (15.1, 0.15)),
]
print(f"{'layer / modification':26s} {'M mult-adds':>12} {'paper':>7} {'M params':>9} {'paper':>6}")
for name, c, (paper_ma, paper_p) in rows:
    print(f"{name:26s} {c.mult_adds / 1e6:12.1f} {paper_ma:7} {c.params / 1e6:9.2f} {paper_p:6}")
    assert abs(c.mult_adds / 1e6 - paper_ma) < 0.1 * max(1, paper_ma / 50) and round(c.params / 1e6, 2) == paper_p

# %% [markdown]
# $\rho = 0.714$ turns $14 \times 14$ into $10 \times 10$ (rounded); it halves the cost and leaves the
# parameters alone, since the filters do not depend on the image size.
#
# ## MobileNet v1, built from its table
#
# The body of MobileNet v1 is a $3 \times 3$ convolution with stride 2 followed by 13
# depthwise-separable blocks, global average pooling and one fully connected layer
# (`models.MobileNetV1`; every convolution is followed by batch norm and ReLU).
#
# ```{note}
# The body table (in the lectures and the paper) lists the last depthwise layer as
# "Conv dw / s2" on a $7 \times 7 \times 1024$ input, and the next layer's input is again
# $7 \times 7$. A stride of 2 would make it $4 \times 4$; the stride is 1, as in every
# implementation.
# ```
#
# The body as the paper's Table 1 lists it, read off the built model (`models.MobileNetV1`,
# from its list `BODY` of output channels and strides): each row is one convolution, its
# filter shape and the size of its input. The pattern is a depthwise layer that filters (and,
# every few blocks, halves the map with stride 2) and a pointwise layer that mixes and widens:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    v1_body = models.MobileNetV1()
modules = dict(v1_body.named_modules())
shape = (3, 224, 224)
print(f"{'type / stride':14s} {'filter shape':18s} {'input size':>12s}")
for r in models.summary(v1_body, (3, 224, 224), device="meta").rows:
    m = modules[r.name]
    if isinstance(m, nn.Conv2d):
        k, dw = m.kernel_size[0], m.groups > 1
        kind = f"Conv{' dw' if dw else ''} / s{m.stride[0]}"
        filt = f"{k}x{k}x{m.in_channels} dw" if dw else f"{k}x{k}x{m.in_channels}x{m.out_channels}"
    elif isinstance(m, nn.AdaptiveAvgPool2d):
        kind, filt = "Avg Pool / s1", f"Pool {shape[1]}x{shape[2]}"
    elif isinstance(m, nn.Linear):
        kind, filt = "FC / s1", f"{m.in_features}x{m.out_features}"
    else:  # batch norm and ReLU keep the shape
        continue
    print(f"{kind:14s} {filt:18s} {'x'.join(str(d) for d in (*shape[1:], shape[0])):>12s}")
    shape = r.output_shape
print(f"{len(v1_body.BODY)} depthwise-separable blocks, {sum(s == 2 for _, s in v1_body.BODY)} of them with stride 2")

# %% [markdown]
# We count the built network's mult-adds (convolutions and the FC layer) and parameters at
# the paper's four widths and four resolutions, next to the paper's Tables 6 and 7:

# %%
# NBVAL_CHECK_OUTPUT
paper_width = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
paper_resolution = {224: 569, 192: 418, 160: 290, 128: 186}
print(f"{'model':18s} {'M mult-adds':>12} {'paper':>6} {'diff':>7} {'M params':>9} {'paper':>6}")
with torch.device("meta"):
    for width, (paper_ma, paper_p) in paper_width.items():
        net = models.MobileNetV1(width=width)
        ma = cost.count_mult_adds(net, (3, 224, 224), device="meta") / 1e6
        params = models.count_parameters(net) / 1e6
        print(f"{width:4} MobileNet-224 {ma:12.1f} {paper_ma:6} {ma / paper_ma - 1:+7.1%} {params:9.3f} {paper_p:6}")
        assert abs(ma / paper_ma - 1) < 0.01 and round(params, 1) == paper_p
    for size, paper_ma in paper_resolution.items():
        net = models.MobileNetV1()
        ma = cost.count_mult_adds(net, (3, size, size), device="meta") / 1e6
        print(
            f"1.0 MobileNet-{size} {ma:12.1f} {paper_ma:6} {ma / paper_ma - 1:+7.1%} {models.count_parameters(net) / 1e6:9.3f} {4.2:6}"
        )
        assert abs(ma / paper_ma - 1) < 0.01

# %% [markdown]
# Every mult-add figure agrees with the paper to well within 1 %. The parameters agree at
# the paper's rounding to 0.1 million; at width 0.25 we count 0.470 million, which the
# paper rounds to 0.5. The fully connected layer ($1024\alpha \times 1000$ weights) is a large
# part of these counts: at width 0.25 it holds more than half of the parameters. And
# PyTorch's FLOP counter agrees with ours on the whole network:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    net = models.MobileNetV1()
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, 224, 224))
print(
    f"FlopCounterMode / 2: {counter.get_total_flops() // 2:,}   cvbook: {cost.count_mult_adds(net, (3, 224, 224), device='meta'):,}"
)
assert counter.get_total_flops() // 2 == cost.count_mult_adds(net, (3, 224, 224), device="meta")

# %% [markdown]
# ## Measured speed: less than the arithmetic promises
#
# Multiply-adds are a proxy for time, not time itself. We time a standard $3 \times 3$
# convolution against its separable version on this CPU (one thread, medians of repeated
# runs), in PyTorch's default NCHW memory layout and in `channels_last` (NHWC), which stores
# the channels of a pixel next to each other:


# %%
def median_time(fn, repeats=7):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def separable_times(dwise, pwise, x, repeats=7):
    """Median time of depthwise + pointwise, and the depthwise step's median share of it, both
    from the same calls (timed apart, the two steps scatter independently and the share can
    come out above 100 %)."""
    pwise(dwise(x))
    totals, shares = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        y = dwise(x)
        middle = time.perf_counter()
        pwise(y)
        end = time.perf_counter()
        totals.append(end - start)
        shares.append((middle - start) / (end - start))
    return statistics.median(totals), statistics.median(shares)


latency = []
with torch.no_grad():
    for c, size in [(32, 112), (128, 56), (256, 28), (512, 14)]:
        std = nn.Conv2d(c, c, 3, padding=1, bias=False).eval()
        dwise = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False).eval()
        pwise = nn.Conv2d(c, c, 1, bias=False).eval()
        for layout in ("NCHW", "channels_last"):
            x = torch.randn(1, c, size, size)
            if layout == "channels_last":
                x = x.to(memory_format=torch.channels_last)
                for m in (std, dwise, pwise):
                    m.to(memory_format=torch.channels_last)
            t_std = median_time(lambda: std(x))
            t_sep, dw_share = separable_times(dwise, pwise, x)
            theory = cost.separable_cost(3, c, c, size).mult_adds / cost.standard_conv_cost(3, c, c, size).mult_adds
            latency.append((c, size, layout, t_std, dw_share, t_sep, theory))
largest = [row for row in latency if row[0] == 512]
# separable is faster at 512 channels (best layout against best layout)
claim("ch06.separable_speedup_512", min(row[3] for row in largest) / min(row[5] for row in largest), low=1.0)
print(
    f"{'C x H':>10} {'layout':>13} {'standard':>9} {'separable':>10} {'speed-up':>9} {'theory':>7} {'dw share of time':>17}"
)
for c, size, layout, t_std, dw_share, t_sep, theory in latency:
    print(
        f"{c:>4} x {size:<4} {layout:>13} {t_std * 1e3:7.2f}ms {t_sep * 1e3:8.2f}ms {t_std / t_sep:8.1f}x {1 / theory:6.1f}x {dw_share:16.0%}"
    )

# %% [markdown]
# The separable layer is faster, but typically by less than the theoretical factor (the
# `theory` column, $1 / (1/n_c' + 1/9)$). The reason is memory: a depthwise filter does only
# 9 multiplications per value it reads, so it is limited by how fast data moves, not by
# arithmetic, while the standard and pointwise convolutions reuse every value many times
# and run close to the processor's peak. The last column shows the depthwise step's share
# of the separable layer's time on the machine that ran this notebook (both steps timed in the
# same calls, so the share stays below 100 %); its share of the mult-adds is only
# $9 / (9 + n_c')$, 1.7 % at 512 channels. (Timings on a busy machine scatter widely;
# run the cell again on yours.) The memory layout matters too: in NCHW the
# channels of one pixel are far apart, which suits some kernels and not others. Real
# speed-ups depend on the hardware and the library; always measure.
#
# ## MobileNet v2: inverted residuals
#
# MobileNet v2 keeps the depthwise-separable idea and rearranges it into the
# **bottleneck residual block** of its Table 1 (`models.InvertedResidual`). Its activation
# is **ReLU6**, $\min(\max(0, x), 6)$: a ReLU whose output is capped at 6, which keeps
# activations in a small range that survives low-precision arithmetic on mobile hardware.
# The block:
#
# 1. a $1 \times 1$ convolution **expands** $k$ channels to $tk$ (expansion factor $t = 6$),
#    with ReLU6;
# 2. a $3 \times 3$ **depthwise** convolution with stride $s$ filters them, with ReLU6;
# 3. a **linear** $1 \times 1$ convolution **projects** back to $k'$ channels, with no
#    activation (a ReLU on the thin output would destroy information). This is the "linear
#    bottleneck" of the paper's title; lecture 003 credits it to MobileNet v1 and has it
#    *reduce* the channels before the depthwise step, but it is v2's, and v2 *expands* there;
# 4. a **residual** connection adds the input when $s = 1$ and $k = k'$.
#
# Compare ResNet's **bottleneck block** (`models.Bottleneck`, the block of ResNet-50 and
# deeper ResNets; Chapter 5 counts ResNet-50's parameters with it): a $1 \times 1$
# convolution reduces the channels by a factor of 4 (256 to 64, say), a $3 \times 3$ convolution works on the thin tensor, a second
# $1 \times 1$ convolution expands back to 256, and the shortcut joins the wide ends. The
# MobileNet v2 block is "inverted" because it is thin at the ends and wide in the middle,
# the reverse of ResNet's bottleneck, and its shortcut joins the thin ends. The network
# stacks 17 such blocks following the paper's Table 2, one row per sequence of $n$ identical
# blocks with expansion factor $t$, $c$ output channels and stride $s$ in the first block
# (`models.MobileNetV2.TABLE`); the input sizes follow from the strides:

# %%
# NBVAL_CHECK_OUTPUT
size, c = 112, 32  # after the first 3x3 convolution with stride 2
print(f"{'input':>12s}  {'operator':11s} {'t':>2s} {'c':>5s} {'n':>2s} {'s':>2s}")
print(f"{'224x224x3':>12s}  {'conv2d':11s} {'-':>2s} {32:5d} {1:2d} {2:2d}")
for t, out, n, stride in models.MobileNetV2.TABLE:
    print(f"{f'{size}x{size}x{c}':>12s}  {'bottleneck':11s} {t:2d} {out:5d} {n:2d} {stride:2d}")
    size, c = size // stride, out
print(f"{f'{size}x{size}x{c}':>12s}  {'conv2d 1x1':11s} {'-':>2s} {1280:5d} {1:2d} {1:2d}")
print(f"{f'{size}x{size}x1280':>12s}  {'avgpool 7x7':11s} {'-':>2s} {'-':>5s} {1:2d} {'-':>2s}")
print(f"{'1x1x1280':>12s}  {'conv2d 1x1':11s} {'-':>2s} {'k':>5s} {'-':>2s} {'-':>2s}")
print("blocks:", sum(n for _, _, n, _ in models.MobileNetV2.TABLE))

# %% [markdown]
# One block of the table, built and listed:

# %%
# NBVAL_CHECK_OUTPUT
block = models.InvertedResidual(24, 24, stride=1, t=6)
steps = [
    f"{m.in_channels}->{m.out_channels} {m.kernel_size[0]}x{m.kernel_size[0]}" + (" depthwise" if m.groups > 1 else "")
    for m in block.modules()
    if isinstance(m, nn.Conv2d)
]
print("block 24 -> 24, t = 6:", ", ".join(steps), "| residual:", block.residual)
with torch.device("meta"):
    v2, v2_tv = models.MobileNetV2(), torchvision.models.mobilenet_v2(weights=None)
    v1 = models.MobileNetV1()
v2_params = models.count_parameters(v2)
no_bn = sum(p.numel() for n, m in v2.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in m.parameters())
v2_ma = cost.count_mult_adds(v2, (3, 224, 224), device="meta")
print(f"MobileNetV2 parameters: cvbook {v2_params:,}, torchvision {models.count_parameters(v2_tv):,}")
print(f"  without batch norm: {no_bn:,} (the paper: 3.4M)")
print(f"  mult-adds at 224: {v2_ma / 1e6:.1f}M (paper: 300M)")
assert v2_params == models.count_parameters(v2_tv) == 3_504_872
blocks = sum(isinstance(m, models.InvertedResidual) for m in v2.modules())
print(f"  inverted residual blocks: {blocks}")

# %% [markdown]
# The parameter count equals torchvision's exactly. The paper's 3.4 million matches the count
# without batch norm, 3.47 million, cut off rather than rounded (with batch norm it is
# 3.50 million); its 300 million mult-adds match our 300.8 million.
#
# Lecture 002 prices one block of each kind on a $6 \times 6$ input with 64 channels in and 128
# out: "MobileNet v1: 2.6M" and, for the v2 block with $t = 6$, "2.7M". The v2 sum is right
# (2,778,624, nearer 2.8M), but the v1 product $6 \cdot 6 \cdot 128 \cdot 9 \cdot 64$ is the
# cost of a *standard* $3 \times 3$ convolution; a v1 block, depthwise then pointwise, costs
# eight times less:

# %%
# NBVAL_CHECK_OUTPUT
standard_6 = cost.standard_conv_cost(d_k=3, m=64, n=128, d_f=6).mult_adds
v1_block = cost.depthwise_cost(d_k=3, m=64, d_f=6).mult_adds + cost.pointwise_cost(m=64, n=128, d_f=6).mult_adds
v2_parts = [
    cost.pointwise_cost(m=64, n=384, d_f=6).mult_adds,  # expand 64 -> 6 * 64
    cost.depthwise_cost(d_k=3, m=384, d_f=6).mult_adds,  # 3x3 depthwise on 384 channels
    cost.pointwise_cost(m=384, n=128, d_f=6).mult_adds,  # project 384 -> 128
]
print(f"standard 3x3 conv, 64 -> 128 on 6x6: {standard_6:,}  (the lecture's 'MobileNet v1: 2.6M')")
print(f"MobileNet v1 block (depthwise + pointwise): {v1_block:,}")
print(f"MobileNet v2 block, t = 6: {' + '.join(f'{c:,}' for c in v2_parts)} = {sum(v2_parts):,}")
v1_layers = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False), nn.Conv2d(64, 128, 1, bias=False))
counted = (
    cost.count_mult_adds(nn.Conv2d(64, 128, 3, padding=1, bias=False), (64, 6, 6)),
    cost.count_mult_adds(v1_layers, (64, 6, 6)),
    cost.count_mult_adds(models.InvertedResidual(64, 128, stride=1, t=6), (64, 6, 6)),
)
print("counted in built layers:", ", ".join(f"{c:,}" for c in counted))
assert counted == (standard_6, v1_block, sum(v2_parts))

# %% [markdown]
# v1 against v2, from the built networks (the ImageNet accuracies are the papers'):

# %%
# NBVAL_CHECK_OUTPUT
v1_ma = cost.count_mult_adds(v1, (3, 224, 224), device="meta")
print(f"{'':14s} {'params':>9} {'mult-adds':>10} {'top-1 (paper)':>14}")
print(f"{'MobileNet v1':14s} {models.count_parameters(v1) / 1e6:8.2f}M {v1_ma / 1e6:9.0f}M {'70.6 %':>14}")
print(f"{'MobileNet v2':14s} {v2_params / 1e6:8.2f}M {v2_ma / 1e6:9.0f}M {'72.0 %':>14}")

# %% [markdown]
# v2 is more accurate with fewer parameters and about half the mult-adds, because its
# expensive operations work on thin tensors and the wide tensors only ever see the cheap
# depthwise filter.
#
# ## EfficientNet: compound scaling
#
# Given a good small network, how should it grow when more compute is available: deeper,
# wider, or with larger images? EfficientNet's answer is to scale all three together with
# one coefficient $\phi$:
#
# $$\text{depth } d = \alpha^\phi, \quad \text{width } w = \beta^\phi, \quad \text{resolution } r = \gamma^\phi,
# \qquad \alpha \cdot \beta^2 \cdot \gamma^2 \approx 2,$$ (eq-ch06-compound)
#
# with $\alpha = 1.2$, $\beta = 1.1$, $\gamma = 1.15$ found by a small grid search. FLOPs grow with
# depth, with the square of width and with the square of resolution, so each step of $\phi$
# roughly doubles them: FLOPs $\approx (\alpha\beta^2\gamma^2)^\phi \approx 2^\phi$. (Here, as in
# every paper on model cost, FLOPs is a *count* of operations for one forward pass, in practice
# multiply-adds; lecture 000 glosses it as operations per second, which is a speed of hardware.)
#
# ```{note}
# **Two slips in the lecture.** The constraint is written "$\alpha \cdot \beta^2 \cdot
# \text{depth}^2 \approx 2$"; the last factor is $\gamma^2$, the resolution's. And the table
# gives $1.1^7 = 1.94$; it is 1.9487, which rounds to 1.95.
# ```

# %%
# NBVAL_CHECK_OUTPUT
alpha, beta, gamma = 1.2, 1.1, 1.15
print(f"alpha * beta^2 * gamma^2 = {alpha * beta**2 * gamma**2:.4f}")
released = {  # B-phi: (width, depth, resolution) of the released models
    0: (1.0, 1.0, 224),
    1: (1.0, 1.1, 240),
    2: (1.1, 1.2, 260),
    3: (1.2, 1.4, 300),
    4: (1.4, 1.8, 380),
    5: (1.6, 2.2, 456),
    6: (1.8, 2.6, 528),
    7: (2.0, 3.1, 600),
}
print(
    f"{'model':5s} {'depth':>6} {'width':>6} {'res':>5} {'FLOPs x':>8} | released: {'depth':>5} {'width':>5} {'res':>4}"
)
for phi, (w_rel, d_rel, r_rel) in released.items():
    print(
        f"B{phi:<4d} {alpha**phi:6.2f} {beta**phi:6.2f} {round(224 * gamma**phi):5d} {(alpha * beta**2 * gamma**2) ** phi:8.2f} |"
        f" {'':9s} {d_rel:5.1f} {w_rel:5.1f} {r_rel:4d}"
    )

# %% [markdown]
# The released models do not follow the formula exactly. B1 keeps B0's width (1.0 instead
# of 1.1) and is only 1.1 times as deep (instead of 1.2); the large models are markedly
# shallower than the formula (B7: depth 3.1 instead of 3.58) at about its width (2.0 against
# 1.95); and the resolutions were picked by hand (B1: 240 against 258, B7: 600 against 596).
# Channel counts are also rounded to multiples of 8. The formula was the recipe; the released
# models were tuned around it.
#
# The baseline B0 is built from **MBConv** blocks ("mobile inverted bottleneck
# convolution"): MobileNet v2's inverted residual block, with $3 \times 3$ or $5 \times 5$
# depthwise filters, the swish (SiLU) activation $x \cdot \sigma(x)$ instead of ReLU6, and
# a squeeze-and-excitation step after the depthwise convolution; MBConv6 expands the
# channels 6 times, MBConv1 not at all. **Squeeze-and-excitation** reweights the channels:
# it averages each channel over the whole image (the squeeze), passes the resulting vector
# through two small fully connected layers, the first of which narrows it, and a sigmoid
# (the excitation), and multiplies every channel by its gate in $(0, 1)$, so the block can
# keep the channels that matter for the image at hand and damp the others. torchvision's
# build, counted:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    b0 = torchvision.models.efficientnet_b0(weights=None)
b0_params = models.count_parameters(b0)
b0_ma = cost.count_mult_adds(b0, (3, 224, 224), device="meta")
print(f"EfficientNet-B0: {b0_params:,} parameters (paper 5.3M), {b0_ma / 1e6:.1f}M mult-adds (paper 0.39B 'FLOPs')")
assert round(b0_params / 1e6, 1) == 5.3 and abs(b0_ma / 0.39e9 - 1) < 0.02

# %% [markdown]
# The paper's "FLOPs" are multiply-adds, as our count shows (a FLOP counter reports about
# twice as many). The squeeze-and-excitation gates' element-wise multiplications are not
# convolutions and are not included.
#
# B0's body, stage by stage, read off the built network (each stage's first block sets the
# stride; the expansion ratio $t$ is the depthwise layer's width over the block's input
# width) and compared with Table 1 of the EfficientNet paper {cite}`tan2019efficientnet`:

# %%
# NBVAL_CHECK_OUTPUT
PAPER_B0 = [  # operator, input resolution, output channels, layers (EfficientNet paper, Table 1)
    ("Conv3x3", 224, 32, 1),
    ("MBConv1, k3x3", 112, 16, 1),
    ("MBConv6, k3x3", 112, 24, 2),
    ("MBConv6, k5x5", 56, 40, 2),
    ("MBConv6, k3x3", 28, 80, 3),
    ("MBConv6, k5x5", 14, 112, 3),
    ("MBConv6, k5x5", 14, 192, 4),
    ("MBConv6, k3x3", 7, 320, 1),
    ("Conv1x1, pool, FC", 7, 1280, 1),
]
seen = {}
hooks = [
    stage.register_forward_hook(lambda m, i, o, k=k: seen.__setitem__(k, (i[0].shape[-1], o.shape[1])))
    for k, stage in enumerate(b0.features)
]
b0.eval()(torch.zeros(1, 3, 224, 224, device="meta"))
for hook in hooks:
    hook.remove()
rows = []
for k, stage in enumerate(b0.features):
    size, channels = seen[k]
    if k == 0:
        op, layers = "Conv3x3", 1
    elif k == len(b0.features) - 1:
        op, layers = "Conv1x1, pool, FC", 1
    else:
        convs = [m for m in stage[0].modules() if isinstance(m, nn.Conv2d)]
        dw = next(m for m in convs if m.groups > 1)
        op, layers = (
            f"MBConv{dw.in_channels // convs[0].in_channels}, k{dw.kernel_size[0]}x{dw.kernel_size[1]}",
            len(stage),
        )
    rows.append((op, size, channels, layers))
print(f"{'stage':>5}  {'operator':18s} {'input':>9} {'channels':>8} {'layers':>6}")
for k, (op, size, channels, layers) in enumerate(rows, 1):
    print(f"{k:>5}  {op:18s} {f'{size}x{size}':>9} {channels:>8} {layers:>6}")
print("same as the paper's table:", rows == PAPER_B0)
assert rows == PAPER_B0

# %% [markdown]
# Sixteen MBConv blocks in seven stages; the channel count grows as the resolution falls,
# and the $5 \times 5$ filters sit in the middle stages, where one extra ring of context is
# worth the cost. The larger models (B1-B7) repeat each stage's blocks more often (depth), widen
# every stage (width) and take larger images (resolution), which is the compound scaling above.
#
#
# The paper's comparison with other networks, as a picture: accuracy against cost, with the
# number of parameters as the size of each point.

# %% mystnb={"figure": {"caption": "ImageNet top-1 accuracy against multiply-adds (log scale) for EfficientNet B0-B7 and other networks, from the EfficientNet paper's Table 2. Point area is proportional to the number of parameters.", "name": "fig-ch06-efficientnet"}, "image": {"alt": "Bubble chart of ImageNet top-1 accuracy against multiply-adds (log axis). EfficientNet B0 to B7, blue points joined by a line, rise from about 77 % at 0.4 billion to about 84 % near 40 billion. The other networks, orange, all lie below or to the right of that curve; SENet and AmoebaNet-C are the largest bubbles."}}
paper_table = [  # name, top-1 %, params (M), FLOPs (B), EfficientNet?
    ("B0", 77.1, 5.3, 0.39, True),
    ("B1", 79.1, 7.8, 0.70, True),
    ("B2", 80.1, 9.2, 1.0, True),
    ("B3", 81.6, 12, 1.8, True),
    ("B4", 82.9, 19, 4.2, True),
    ("B5", 83.6, 30, 9.9, True),
    ("B6", 84.0, 43, 19, True),
    ("B7", 84.3, 66, 37, True),
    ("ResNet-50", 76.0, 26, 4.1, False),
    ("DenseNet-169", 76.2, 14, 3.5, False),
    ("ResNet-152", 77.8, 60, 11, False),
    ("Inception-v3", 78.8, 24, 5.7, False),
    ("Xception", 79.0, 23, 8.4, False),
    ("Inception-v4", 80.0, 48, 13, False),
    ("ResNeXt-101", 80.9, 84, 32, False),
    ("SENet", 82.7, 146, 42, False),
    ("AmoebaNet-C", 83.5, 155, 41, False),
]
fig, ax = plt.subplots(figsize=(7.5, 4.2))
effnet = [row for row in paper_table if row[4]]
ax.plot([r[3] for r in effnet], [r[1] for r in effnet], "-", color="C0", zorder=1)
for name, acc, params, flops, is_eff in paper_table:
    ax.scatter(flops, acc, s=params * 4, color="C0" if is_eff else "C1", alpha=0.6, zorder=2)
    ax.annotate(name, (flops, acc), textcoords="offset points", xytext=(4, -10 if is_eff else 4), fontsize=7)
ax.set_xscale("log")
ax.set_xlabel("multiply-adds (billions, log scale)")
ax.set_ylabel("ImageNet top-1 accuracy (%)")
ax.set_title("EfficientNet (blue) against other networks (orange)")
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# At every accuracy level the EfficientNets need several times fewer mult-adds and parameters
# than the networks designed before them (the paper reports up to 8.4 times fewer parameters
# and 16 times fewer FLOPs), because both the baseline and its scaling were optimised for
# efficiency rather than for accuracy alone. (Two numbers to correct when you read the lectures'
# copies of this table: lectures 000 and 001 give B7 as 84.4 % top-1 and 97.3 % top-5, where the
# paper has 84.3 % and 97.0 %; and the PNASNet row of lecture 002's copy, 23 B FLOPs and "6.0x"
# B4's 4.2 B, does not divide out, here or in the paper it comes from: $23 / 4.2 = 5.5$, while
# PNASNet-5's own 25.0 B mult-adds give 6.0.)
#
# ## Key takeaways
#
# - Cost = filter parameters × filter positions × filters: **2,160** for the lecture's standard
#   layer, **432 + 240 = 672** separable, ratio **0.31**; in general $1/n_c' + 1/f^2 \approx 1/9$.
# - The $128 \times 128 \times 4$ example: **589,824** for the depthwise step, **1,245,184** with a
#   pointwise step to 10 channels (a standard layer: 5,898,240).
# - Width ($\alpha$) and resolution ($\rho$) multipliers: **462 → 52.3 → 29.6 → 15.1** million
#   mult-adds and **2.36 → 0.27 → 0.15 → 0.15** million parameters for the paper's layer.
# - Our MobileNet v1 matches the paper's **569/325/149/41** (width) and **569/418/290/186**
#   (resolution) million mult-adds within 1 %, and its **4.2/2.6/1.3/0.5** million parameters at
#   the paper's rounding; counts agree with PyTorch's FLOP counter.
# - Measured speed-ups are typically smaller than the theory: depthwise convolutions are memory-bound.
# - MobileNet v2 (3,504,872 parameters, equal to torchvision's; 301M mult-adds) uses linear
#   bottlenecks and inverted residuals.
# - EfficientNet scales depth, width and resolution together ($1.2^\phi, 1.1^\phi, 1.15^\phi$,
#   FLOPs $\approx 2^\phi$); B0 has 5.3M parameters and 0.39B mult-adds; the released B1-B7 deviate
#   from the pure formula.
#
# ## Exercises
#
# The exercise notebook asks you to compute the cost of standard and separable layers, apply
# the width and resolution multipliers, build an inverted residual block and compute
# EfficientNet's multipliers.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch06/ch06_exercises.ipynb)
# or on GitHub:
# [`exercises/ch06/ch06_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch06/ch06_exercises.ipynb).
