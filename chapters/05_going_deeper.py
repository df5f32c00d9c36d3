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
# # Going deeper: ResNets, 1x1 convolutions, Inception
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/05_going_deeper.ipynb)
#
# VGG showed that depth pays. But stacking more layers stops paying surprisingly early:
# beyond a few dozen layers, plain networks train *worse*, even on their training data.
# This chapter reproduces that **degradation problem** on a CPU, looks at what happens to
# the gradients, and then builds the two ideas that broke through it in 2015: the
# **residual block** of ResNet {cite}`he2016deep` and the **Inception module** of GoogLeNet
# {cite}`szegedy2015going`, with the $1 \times 1$ convolution that makes the latter
# affordable, and finally the **bottleneck block** and the stage-by-stage plan of ResNet-18
# and ResNet-50. Every block is shown as code and as a diagram drawn from the module
# itself. It follows the lectures {cite}`ng_case_studies,khan2025cv,safayani_deeplearning`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - show by experiment that deeper plain networks can train worse, and that residual
#   networks of the same depth do not;
# - explain what gradient norms at initialisation do and do not tell about it;
# - write the residual block, show that it can be the identity, and make the shortcut fit
#   when shapes change, by zero-padding (option A) or by a projection (option B);
# - use $1 \times 1$ convolutions to change the number of channels cheaply;
# - build an Inception module and compute its cost with and without bottlenecks;
# - explain the bottleneck block of ResNet-50 ($1 \times 1$ reduce, $3 \times 3$,
#   $1 \times 1$ expand by 4) and compute why it is cheaper than a basic block on as many
#   channels;
# - read the ResNet-18 and ResNet-50 stage tables (output size, blocks, channels,
#   parameters and multiply-adds per stage) and check them against torchvision.

# %% [markdown]
# ## Setup

# %%
import inspect
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cvbook import cost, data, device, models, plot, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## The degradation problem
#
# A deeper network can represent everything a shallower one can: the extra layers could
# simply copy their input. So, trained well, a deeper network should never have a higher
# *training* error. He et al. {cite}`he2016deep` found the opposite: on CIFAR-10 a
# 56-layer plain network had a higher training error than a 20-layer one, and on ImageNet
# a 34-layer plain network had a higher training error than an 18-layer one. This
# is not overfitting (the training error itself is worse); the deeper network is harder
# to optimise.
#
# We repeat the experiment at CPU scale with the networks of He et al.'s CIFAR study,
# `models.CifarResNet`: a $3 \times 3$ convolution, three stages of $n$ blocks of two
# $3 \times 3$ conv–BN layers (8, 16 and 32 channels, stride 2 between stages), global average
# pooling and a linear layer, $6n + 2$ layers in all. The **plain** version has no
# shortcuts; the **residual** version adds one around every block. As in He et al.'s CIFAR
# networks the shortcuts are parameter-free (option A, explained with the residual block
# below), so the two versions have exactly the same weights. Data: the digits at
# $16 \times 16$. Training: Adam,
# learning rate $3 \cdot 10^{-3}$ with 10 % warm-up and a cosine decay, batches of 64, 147
# steps (7 epochs), the same budget for every network.

# %%
train_digits = data.load_digits("train", size=16)


def train_depth(depth: int, residual: bool, seed: int = 0):
    device.seed_everything(seed)
    model = models.CifarResNet(depth, num_classes=10, in_channels=1, widths=(8, 16, 32), residual=residual)
    loader = data.make_loader(train_digits, 64, shuffle=True, seed=seed)
    epochs = 7
    total = epochs * len(loader)
    warm = total // 10
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = lambda step: (
        (step + 1) / warm if step < warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))
    )  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = train.fit(model, loader, optimizer=optimizer, scheduler=scheduler, scheduler_step="batch", epochs=epochs)
    final = train.evaluate(model, data.make_loader(train_digits, 256))  # on the training set, eval mode
    return history, final, models.count_parameters(model)


runs = {(depth, residual): train_depth(depth, residual) for depth in (8, 20) for residual in (False, True)}

# %% [markdown]
# Then the two 56-layer networks, with the same budget of steps:

# %%
runs.update({(56, residual): train_depth(56, residual) for residual in (False, True)})
print(f"six networks trained in {sum(h.total_time_s for h, _, _ in runs.values()):.0f} s")

# %% [markdown]
# The sizes are exact (and equal for plain and residual networks of one depth):

# %%
# NBVAL_CHECK_OUTPUT
for depth in (8, 20, 56):
    n_plain, n_resid = runs[(depth, False)][2], runs[(depth, True)][2]
    print(f"{depth:2d} layers: plain {n_plain:>9,} parameters, residual {n_resid:>9,}")

# %% [markdown]
# The training results are measured: their last digits differ from machine to machine,
# and the claims below the table check what the text says about them.

# %%
plain = {d: runs[(d, False)][1]["loss"] for d in (8, 20, 56)}
resid = {d: runs[(d, True)][1]["loss"] for d in (8, 20, 56)}
claim("ch05.plain56_vs_20_loss_gap", plain[56] - plain[20], low=1.0)  # 56 plain layers: far worse
claim("ch05.resid56_over_20_loss_ratio", resid[56] / resid[20], high=1.5)  # residual: at least about as well
print(f"{'network':12s} {'parameters':>10} {'training loss':>14} {'training accuracy':>18}")
for (depth, residual), (_, final, n_params) in runs.items():
    name = f"{'residual' if residual else 'plain'}-{depth}"
    print(f"{name:12s} {n_params:>10,} {final['loss']:14.4f} {final['acc']:18.3f}")

# %% mystnb={"figure": {"caption": "Training loss per epoch of plain (left) and residual (right) networks of 8, 20 and 56 layers, the same budget for all.", "name": "fig-ch05-degradation"}, "image": {"alt": "Two log-scale plots of training loss against epoch 1 to 7 for 8, 20 and 56 layers. Plain networks (left): 8 and 20 layers fall from about 2 to about 0.3 and 0.2, while 56 layers stays almost flat near 2. Residual networks (right): all fall, the deeper the lower, 56 layers ending near 0.01."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, residual in zip(axes, (False, True)):
    for depth, style in zip((8, 20, 56), (":", "--", "-")):
        h = runs[(depth, residual)][0]
        ax.semilogy(h["epoch"], h["train_loss"], style, marker="o", markersize=3, label=f"{depth} layers")
    ax.set_title("residual networks" if residual else "plain networks")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
axes[0].set_ylabel("training loss (log scale)")
fig.tight_layout()

# %% [markdown]
# The plain networks reproduce the lectures' figure: 20 layers train about as well as 8 (better
# on some seeds and machines, worse on others: we measured both), but
# 56 layers end far above them (a training loss more than 1 higher than 20 layers', from
# a starting loss of $\ln 10 \approx 2.3$) in the same number of steps. The plain 56-layer
# network is not stuck at chance (10 % for ten classes), but it gets only a minority of its
# own training digits right (about a quarter in the run printed above; the exact share
# varies between machines), where the shallower networks get nearly all of them. The residual
# networks of exactly the same size and depth all train, and the deepest one trains at
# least about as well as the 20-layer one. (With more steps the plain 56-layer net does
# learn eventually; the point is how much harder it is to optimise.)
#
# ### Gradients at the first layer
#
# The lectures explain the degradation with **vanishing gradients**: the gradient shrinks
# on its way back through many layers, so the first layers stop learning. That was true
# of early deep networks (sigmoid units, naive initialisation {cite}`glorot2010understanding`).
# But He et al. trained their plain networks with batch normalisation and their own
# initialisation {cite}`he2015delving`, and argue the degradation is *not* caused by
# vanishing gradients. We can check directly: the norm of the loss gradient with respect
# to the first convolution's weights, at initialisation, for plain and residual networks of
# growing depth, in two settings: (a) with batch norm and He initialisation, as above, and
# (b) without batch norm and with PyTorch's default initialisation. Medians over 5 seeds
# and batches:


# %%
def first_layer_gradient(depth, residual, batch_norm, init, seed):
    device.seed_everything(seed)
    model = models.CifarResNet(depth, 10, 1, widths=(8, 16, 32), residual=residual, batch_norm=batch_norm, init=init)
    g = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(train_digits), generator=g)[:64]
    x, y = train_digits.images[index], train_digits.targets[index]
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, model.stem[0].weight)
    return grad.norm().item()


depths = (8, 20, 56)
settings = {"with BN, He init": (True, "he"), "no BN, default init": (False, "default")}
gradients = {}
for setting, (bn, init) in settings.items():
    for residual in (False, True):
        gradients[(setting, residual)] = [
            float(np.median([first_layer_gradient(d, residual, bn, init, s) for s in range(5)])) for d in depths
        ]

# %%
# Not a checked cell, although nothing is trained: 56 layers of float32 arithmetic compound
# the last-bit differences between CPU kernels (the depth-56 entry with batch norm reads
# 6.2e+02 with AVX2 kernels and 6.5e+02 without vector kernels). The ratios asserted below
# hold by orders of magnitude.
print(f"{'setting':22s} {'network':9s}" + "".join(f"{f'depth {d}':>12}" for d in depths))
for (setting, residual), values in gradients.items():
    print(f"{setting:22s} {'residual' if residual else 'plain':9s}" + "".join(f"{v:12.1e}" for v in values))
bn_plain, bn_res = gradients[("with BN, He init", False)], gradients[("with BN, He init", True)]
raw_plain, raw_res = gradients[("no BN, default init", False)], gradients[("no BN, default init", True)]
assert bn_plain[2] > 10 * bn_plain[0], "with BN, the plain net's first-layer gradient grows with depth"
assert raw_plain[2] < 0.01 * raw_plain[0], "without BN and with default init, it vanishes"
assert bn_res[2] < bn_plain[2] and raw_res[2] > 100 * raw_plain[2], "shortcuts keep it moderate in both"

# %% mystnb={"figure": {"caption": "Norm of the loss gradient at the first convolution, at initialisation, against depth (log scale). Left: with batch norm and He initialisation the plain network's gradient explodes. Right: without them it vanishes (at 56 layers it underflows to exactly 0 in float32, which a log scale cannot show). Residual networks stay moderate in both.", "name": "fig-ch05-gradients"}, "image": {"alt": "Two log-scale plots of first-layer gradient norm against depth 8, 20 and 56. Left, with batch norm: the plain net's gradient rises from about 0.5 to several hundred, the residual one only to about 3. Right, without: the plain gradient drops from about 5e-5 to below 1e-9 at 20 layers, with no point at 56; the residual one stays near 1e-2."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for ax, setting in zip(axes, settings):
    for residual, marker in ((False, "o"), (True, "s")):
        ax.semilogy(depths, gradients[(setting, residual)], marker=marker, label="residual" if residual else "plain")
    ax.set_title(setting)
    ax.set_xlabel("depth (layers)")
    ax.set_xticks(depths)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
axes[0].set_ylabel("|gradient| at layer 1")
fig.tight_layout()

# %% [markdown]
# The picture is more interesting than "vanishing gradients":
#
# - **without** batch norm and with PyTorch's default initialisation, the plain network's
#   first-layer gradient does vanish with depth, by orders of magnitude, down to exactly
#   zero in float32 at 56 layers: the lectures' explanation, and the situation of the
#   networks before 2015;
# - **with** batch norm and He initialisation, the setting in which the degradation above
#   was measured, the plain network's gradient does not vanish at all; it *grows* with
#   depth. Yet the plain 56-layer network still trains badly.
#
# So, as He et al. argue, gradient size alone does not explain degradation; a deep plain
# network is simply a hard optimisation problem (its loss surface is badly conditioned, and
# the gradient it gets is a poor guide). The residual network keeps the gradient moderate
# in both settings, and, more importantly, starts close to a simple function it can
# improve step by step, as the next section shows.
#
# ## The residual block
#
# A plain block computes $a^{[l+2]} = g(z^{[l+2]})$ with $z^{[l+2]} = W^{[l+2]} g(W^{[l+1]} a^{[l]} + b^{[l+1]}) + b^{[l+2]}$.
# The residual block adds the block's input before the last non-linearity:
#
# $$a^{[l+2]} = g\big(z^{[l+2]} + a^{[l]}\big).$$ (eq-ch05-residual)
#
# If the weights and biases of the block are zero, $z^{[l+2]} = 0$ and
# $a^{[l+2]} = g(a^{[l]}) = a^{[l]}$, because $a^{[l]}$ came out of a ReLU and is non-negative.
# Adding a residual block can therefore never make the function *harder* to represent: the
# block only has to learn a correction to the identity, and weight decay pulls it towards
# the identity.
#
# ```{note}
# **A slip in the lecture notes.** In one place the notes write the block as
# $a^{[l+2]} = g(z^{[l+2]}) + a^{[l]}$ and conclude that with zero weights
# $\operatorname{ReLU}(a^{[l]}) + a^{[l]} = a^{[l]}$. With the addition *outside* $g$, zero
# weights give $g(0) + a^{[l]} = a^{[l]}$; the expression $\operatorname{ReLU}(a^{[l]}) + a^{[l]}$
# would be $2a^{[l]}$. The block of the paper and of every implementation adds *inside*,
# {eq}`eq-ch05-residual`, and then zero weights give $g(a^{[l]}) = a^{[l]}$. The notes also say
# ResNets are "guaranteed" not to be hurt by depth; the argument shows the identity is easy
# to represent, not that an optimiser will find the best weights. The paper itself has the
# counter-example: on CIFAR-10 its 1,202-layer ResNet reached a test error of 7.93 %, worse than
# the 6.43 % of its 110-layer one, which the authors put down to overfitting {cite}`he2016deep`.
# ```
#
# When the block changes the shape (stride 2, more channels), $a^{[l]}$ can no longer be
# added to $z^{[l+2]}$ as it is. He et al. give two ways to make the shortcut fit
# {cite}`he2016deep`:
#
# - **option A**: keep the identity, take every second pixel (stride 2) to halve the height
#   and width, and fill the extra channels with zeros. It has no parameters;
# - **option B**: a **projection** $W_s$, a $1 \times 1$ convolution with stride 2 (here
#   followed by batch norm) that maps the $C_{in}$ channels to $C_{out}$; it costs
#   $C_{in} C_{out}$ weights, plus the batch norm's scales and shifts.
#
# On ImageNet, B was slightly better than A (a third option, C, with a projection on
# *every* shortcut, was better still by a hair, which He et al. put down to its extra
# parameters and dropped as not worth them); their CIFAR networks use A, and so does the
# book's `models.CifarResNet` (`shortcut="pad"`), which is why the plain and residual
# networks of the degradation experiment have the same parameter count. `models.BasicBlock`
# uses the projection by default, as torchvision's ResNets do.
#
# The package's `models.BasicBlock` checked: with every weight of its body set to zero, it
# returns its (non-negative) input unchanged; and a block that changes the shape, with its
# projection shortcut $W_s$:

# %%
# NBVAL_CHECK_OUTPUT
block = models.BasicBlock(16, 16)
for p in block.body.parameters():
    nn.init.zeros_(p)
block.eval()
a_l = torch.relu(torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(0)))
print("zero weights -> identity:", torch.equal(block(a_l), a_l))
down = models.BasicBlock(16, 32, stride=2)
print("projection block:", tuple(a_l.shape[1:]), "->", tuple(down(a_l).shape[1:]), "| shortcut W_s:", down.shortcut[0])
print(f"parameters: body {models.count_parameters(down.body):,}, W_s {models.count_parameters(down.shortcut):,}")

# %% [markdown]
# The block's `forward` is {eq}`eq-ch05-residual` line for line: `body` holds the two
# $3 \times 3$ convolutions with their batch norms and the ReLU between them, so it computes
# $z^{[l+2]}$; `shortcut` is the identity, the projection $W_s$ or the zero-padding; `relu`
# is $g$. Printing the projection block shows its parts:

# %%
print(inspect.getsource(models.BasicBlock.forward))
print(down)

# %% [markdown]
# `plot.plot_blocks` draws blocks from their own children, with the shapes of one forward
# pass (on the meta device here: nothing is computed). Two blocks as they start the
# second stage of a ResNet-18, where $56 \times 56 \times 64$ becomes
# $28 \times 28 \times 128$, one with each kind of shortcut:

# %% mystnb={"figure": {"caption": "A basic residual block that halves the height and width and doubles the channels, with the two kinds of shortcut: option A (subsample and pad with zero channels, no parameters) and option B (a 1 x 1 projection W_s with stride 2).", "name": "fig-ch05-shortcuts"}, "image": {"alt": "Two block diagrams side by side, read top to bottom. Each starts with a grey input box 56\u00d756\u00d764, then a blue box conv 3\u00d73, 128, s2 with BN and ReLU giving 28\u00d728\u00d7128, a blue box conv 3\u00d73, 128 with BN giving 28\u00d728\u00d7128, a purple plus sign and a final ReLU box with output 28\u00d728\u00d7128. A vermillion line leaves the input on the right and joins the plus sign: on the left it passes a box reading subsample s2, pad 64 zero channels; on the right a box reading W_s: conv 1\u00d71, 128, s2, BN, 28\u00d728\u00d7128."}}
with torch.device("meta"):
    option_a = models.BasicBlock(64, 128, stride=2, shortcut="pad")
    option_b = models.BasicBlock(64, 128, stride=2)
fig = plot.plot_blocks(
    [option_a, option_b],
    [(64, 56, 56)] * 2,
    titles=["option A: zero-padding shortcut", "option B: projection shortcut"],
)

# %% [markdown]
# ## $1 \times 1$ convolutions: changing the number of channels
#
# Chapter 2 showed that a $1 \times 1$ convolution is a fully connected layer applied to
# the channel vector at every pixel ("network in network" {cite}`lin2014network`). Its use
# in deep networks is to **shrink or grow the number of channels** without touching the
# spatial size: pooling reduces $n_H, n_W$, a $1 \times 1$ convolution reduces $n_C$. The
# lectures' example: 32 filters of $1 \times 1 \times 192$ turn $28 \times 28 \times 192$ into
# $28 \times 28 \times 32$, and match a per-pixel linear layer exactly:

# %%
# NBVAL_CHECK_OUTPUT
volume = torch.randn(1, 192, 28, 28, generator=torch.Generator().manual_seed(1))
squeeze = nn.Conv2d(192, 32, kernel_size=1)
linear = nn.Linear(192, 32)
linear.load_state_dict({"weight": squeeze.weight.reshape(32, 192), "bias": squeeze.bias})
per_pixel = linear(volume.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
print("28 x 28 x 192 ->", tuple(squeeze(volume).shape[1:]), "(C, H, W)")
print("equal to nn.Linear(192, 32) at every pixel:", torch.allclose(squeeze(volume), per_pixel, atol=1e-5))
print(f"parameters: {models.count_parameters(squeeze):,} = 192 * 32 + 32")

# %% [markdown]
# ## The Inception module
#
# Which filter size should a layer use, $1 \times 1$, $3 \times 3$ or $5 \times 5$, or should it
# pool? The Inception module's answer is: all of them, in parallel, concatenated along the
# channels, and let training decide. The lectures' example takes $28 \times 28 \times 192$ and
# produces 64 channels with $1 \times 1$ filters, 128 with $3 \times 3$, 32 with $5 \times 5$ and
# 32 from a max pool followed by a $1 \times 1$ convolution, all with same padding:

# %%
# NBVAL_CHECK_OUTPUT
module = models.InceptionModule(192, c1=64, c3_reduce=96, c3=128, c5_reduce=16, c5=32, pool_proj=32)
out = module(torch.zeros(1, 192, 28, 28))
print("input (192, 28, 28) -> output", tuple(out.shape[1:]), "= 64 + 128 + 32 + 32 channels")
assert out.shape[1:] == (256, 28, 28)

# %% [markdown]
# The module's code is four small pipes and one `torch.cat`; each `_ConvBNReLU` is a
# convolution, a batch norm and a ReLU. Drawn from the module, with the shapes of its
# forward pass:

# %%
print(inspect.getsource(models.InceptionModule.forward))
print(module.branch3)

# %% mystnb={"figure": {"caption": "The Inception module of GoogLeNet's stage 3a drawn from the module: four parallel branches, two of them behind 1 x 1 bottlenecks, concatenated along the channels.", "name": "fig-ch05-inception"}, "image": {"alt": "A grey input box 28\u00d728\u00d7192 at the top fans out into four columns. Column one: a blue conv 1\u00d71, 64 box. Column two: a blue conv 1\u00d71, 96 box, then a blue conv 3\u00d73, 128 box. Column three: a blue conv 1\u00d71, 16 box, then a blue conv 5\u00d75, 32 box. Column four: an orange max pool 3\u00d73, s1 box keeping 28\u00d728\u00d7192, then a blue conv 1\u00d71, 32 box. Each conv box also reads BN, ReLU and its output shape. All four columns end in one wide purple box: concatenate the channels, 64 + 128 + 32 + 32 = 256, output 28\u00d728\u00d7256."}}
fig = plot.plot_block(module, (192, 28, 28))

# %% [markdown]
# ### The cost, and the bottleneck
#
# The trouble is cost. The $5 \times 5$ branch alone, applied directly to the 192 channels,
# needs (number of outputs) × (multiplications per output):
#
# $$28 \cdot 28 \cdot 32 \;\times\; 5 \cdot 5 \cdot 192 = 120{,}422{,}400.$$
#
# Squeezing the 192 channels to 16 with a $1 \times 1$ **bottleneck** first costs
# $28 \cdot 28 \cdot 16 \times 192 = 2{,}408{,}448$, and the $5 \times 5$ convolution on 16 channels
# $28 \cdot 28 \cdot 32 \times 5 \cdot 5 \cdot 16 = 10{,}035{,}200$: in total 12,443,648, about a tenth.
# We compute both with `cost.conv_mult_adds` and count them again by running the built
# layers with `cost.count_mult_adds`:

# %%
# NBVAL_CHECK_OUTPUT
direct = cost.conv_mult_adds(28, 28, 32, 5, 192)
squeeze_cost = cost.conv_mult_adds(28, 28, 16, 1, 192)
conv5_cost = cost.conv_mult_adds(28, 28, 32, 5, 16)
print(f"without bottleneck: {direct:,}")
print(
    f"with bottleneck:    {squeeze_cost:,} + {conv5_cost:,} = {squeeze_cost + conv5_cost:,}"
    f"  ({(squeeze_cost + conv5_cost) / direct:.3f} of the cost)"
)
counted_direct = cost.count_mult_adds(nn.Conv2d(192, 32, 5, padding=2), (192, 28, 28))
counted_bottleneck = cost.count_mult_adds(
    nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2)), (192, 28, 28)
)
print(f"counted in built layers: {counted_direct:,} and {counted_bottleneck:,}")
assert (direct, squeeze_cost + conv5_cost) == (counted_direct, counted_bottleneck) == (120_422_400, 12_443_648)

# %% [markdown]
# Squeezing 192 channels to 16 may look like throwing information away, but as long as
# the bottleneck is not too narrow it costs little accuracy, and it is what made a
# 22-layer network with nine Inception modules cheaper than VGG. Here is the cost of the
# whole module above, with bottlenecks on both the $3 \times 3$ and the $5 \times 5$ branch,
# layer by layer:

# %%
# NBVAL_CHECK_OUTPUT
by_layer = cost.count_mult_adds(module, (192, 28, 28), by_layer=True)
print(f"whole Inception module (3a): {sum(by_layer.values()):,} multiply-adds")
for name, n in by_layer.items():
    print(f"  {name:18s} {n:>12,}")

# %% [markdown]
# The whole module, four branches and 256 output channels, costs 128,049,152
# multiply-adds: only about 6 % more than the 120,422,400 of the naive $5 \times 5$ branch
# alone, which produces just 32 of those channels. Without the two $1 \times 1$ reductions
# in front of the $3 \times 3$ and $5 \times 5$ filters (the $3 \times 3$ branch on all 192
# channels costs $28 \cdot 28 \cdot 128 \times 3 \cdot 3 \cdot 192 = 173{,}408{,}256$, the
# $5 \times 5$ branch 120,422,400 as above) the same module would cost 308,281,344. The
# reductions make the module about 2.4 times cheaper, and most of what is left
# is the $3 \times 3$ convolution.
#
# ### GoogLeNet and its auxiliary classifiers
#
# GoogLeNet stacks nine such modules (with the widths of its paper) between a convolutional
# stem and global average pooling. During training it also had two **auxiliary
# classifiers**: small side heads (average pooling, a $1 \times 1$ convolution, two fully
# connected layers, a softmax) attached to intermediate modules, whose losses were added to
# the main loss with weight 0.3. They inject gradient into the middle of the network, in the
# spirit of the vanishing-gradient worry above, and act as a regulariser; they are thrown
# away at test time (and later work found them to matter little). The package's
# `models.GoogLeNet` omits them; with torchvision's quirk of a $3 \times 3$ kernel in the
# "$5 \times 5$" branch (`five=3`, kept by torchvision for its pretrained weights) its parameter
# count equals torchvision's. The same check for ResNet-18 and ResNet-50:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    pairs = {
        "GoogLeNet": (
            models.GoogLeNet(),
            torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True),
        ),
        "ResNet-18": (models.ResNet((2, 2, 2, 2), models.BasicBlock), torchvision.models.resnet18(weights=None)),
        "ResNet-50": (models.ResNet((3, 4, 6, 3), models.Bottleneck), torchvision.models.resnet50(weights=None)),
    }
    paper_googlenet = models.GoogLeNet(five=5)
    alexnet_params = models.count_parameters(models.AlexNet())  # the paper's widths, as in Chapter 4
for name, (ours, theirs) in pairs.items():
    print(
        f"{name:10s} cvbook {models.count_parameters(ours):>12,}   torchvision {models.count_parameters(theirs):>12,}"
    )
    assert models.count_parameters(ours) == models.count_parameters(theirs)
print(f"GoogLeNet with true 5x5 kernels (the paper): {models.count_parameters(paper_googlenet):,}")
googlenet = pairs["GoogLeNet"][0]
n_googlenet, n_fc = models.count_parameters(googlenet), models.count_parameters(googlenet.fc)
print(f"GoogLeNet without its fully connected layer: {n_googlenet - n_fc:,}")
print(f"AlexNet / GoogLeNet: {alexnet_params / n_googlenet:.1f}   VGG-16 / GoogLeNet: {138_357_544 / n_googlenet:.1f}")

# %% [markdown]
# GoogLeNet has about 6.6 million parameters, a twentieth of VGG-16's 138 million. Its
# ensemble won the ILSVRC 2014 classification task ahead of VGG's, but model for model
# VGG-16 is slightly more accurate: with torchvision's pretrained weights it reaches 71.6 %
# top-1 accuracy on ImageNet, GoogLeNet 69.8 %. GoogLeNet's point is efficiency, close to
# VGG's accuracy for a small fraction of its parameters and computation. ResNet-50 has 25.6
# million parameters in 50 layers. Both end with global
# average pooling instead of VGG's enormous fully connected layers.
#
# ```{note}
# **GoogLeNet is not quite that small.** The lectures credit GoogLeNet with "only 5 million
# parameters", 12 times fewer than AlexNet and 27 times fewer than VGG. The factor 12 is the
# GoogLeNet paper's own claim {cite}`szegedy2015going`, and 5 million is AlexNet's 60 million
# divided by it. Counted in the built network, GoogLeNet has 6.6 million parameters (5.6
# million without its 1,000-way fully connected layer): 9.4 times fewer than AlexNet's
# 62.4 million and 21 times fewer than VGG-16's, as printed above. Still a small network
# for its accuracy; just not 5 million.
# ```
#
# ## ResNet-18 and ResNet-50
#
# ### The bottleneck block
#
# ResNet-18 and ResNet-34 stack the basic block of two $3 \times 3$ convolutions. For 50
# layers and more, He et al. {cite}`he2016deep` changed the block, to afford wider volumes
# between the blocks. The **bottleneck block** has three convolutions:
#
# 1. a $1 \times 1$ convolution that **reduces** the channels by a factor of 4 (256 to 64 in
#    the first stage), the Inception trick of the previous section;
# 2. a $3 \times 3$ convolution on the reduced volume (64 to 64), the only one that looks at
#    neighbouring pixels, and the one that carries the stride when the block downsamples;
# 3. a $1 \times 1$ convolution that **expands** the channels back by the **expansion**
#    factor 4 (64 to 256), so that the result can be added to the shortcut.
#
# Each convolution is followed by batch norm, the first two by a ReLU, and the sum by the
# final ReLU, exactly as in the basic block. The package's `models.Bottleneck(c_in, width)`
# takes the width of its $3 \times 3$ convolution and outputs `4 * width` channels; its
# `forward` is the basic block's. Printed:

# %%
with torch.device("meta"):
    bottleneck = models.Bottleneck(256, 64)
print(bottleneck)

# %% [markdown]
# Why bother? Compare, on a $56 \times 56$ map, three blocks: the basic block on 64 channels
# (the first stage of ResNet-18 and ResNet-34), the basic block on 256 channels (what
# ResNet-50's first stage would need without bottlenecks) and the bottleneck block on 256
# channels. The weights are those of the convolutions (batch norm adds a few hundred), the
# multiply-adds are counted on the meta device:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    candidates = {
        "basic block, 64 channels": models.BasicBlock(64, 64),
        "basic block, 256 channels": models.BasicBlock(256, 256),
        "bottleneck, 256 channels": models.Bottleneck(256, 64),
    }
print(f"{'block on 56 x 56':28s} {'conv weights':>13s} {'multiply-adds':>15s}")
weights = {}
for name, blk in candidates.items():
    c_in = blk.body[0].in_channels
    weights[name] = sum(m.weight.numel() for m in blk.modules() if isinstance(m, nn.Conv2d))
    mult_adds = cost.count_mult_adds(blk, (c_in, 56, 56), device="meta")
    print(f"{name:28s} {weights[name]:>13,} {mult_adds:>15,}")
assert weights["basic block, 256 channels"] == 2 * 3 * 3 * 256 * 256
assert weights["bottleneck, 256 channels"] == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
ratio = weights["basic block, 256 channels"] / weights["bottleneck, 256 channels"]
print(f"basic / bottleneck on 256 channels: {ratio:.1f} times the weights and the multiply-adds")

# %% [markdown]
# Two $3 \times 3$ convolutions on 256 channels would cost $2 \cdot 9 \cdot 256^2 = 1{,}179{,}648$
# weights and 3.7 billion multiply-adds per block; the bottleneck does the job with
# $256 \cdot 64 + 9 \cdot 64^2 + 64 \cdot 256 = 69{,}632$ weights, 16.9 times fewer, and
# slightly fewer than the basic block on 64 channels (73,728). So a bottleneck network
# carries four times wider volumes from block to block for the price of a basic-block
# network, and with three layers per block instead of two it is deeper for the same
# price: ResNet-50 is ResNet-34 with every basic block replaced by a bottleneck block. Drawn
# side by side, as in He et al.'s Figure 5:

# %% mystnb={"figure": {"caption": "The basic block of ResNet-18 and ResNet-34 (left, 64 channels) and the bottleneck block of ResNet-50, -101 and -152 (right, 256 channels, reduced to 64 for the 3 x 3 convolution and expanded back by 4), both with identity shortcuts.", "name": "fig-ch05-bottleneck"}, "image": {"alt": "Two block diagrams read top to bottom. Left: input 56\u00d756\u00d764, a blue conv 3\u00d73, 64 box with BN and ReLU, a blue conv 3\u00d73, 64 box with BN, a purple plus and a ReLU box with output 56\u00d756\u00d764; a vermillion identity shortcut runs from the input to the plus. Right: input 56\u00d756\u00d7256, blue boxes conv 1\u00d71, 64 giving 56\u00d756\u00d764, conv 3\u00d73, 64 giving 56\u00d756\u00d764 and conv 1\u00d71, 256 giving 56\u00d756\u00d7256, then the plus and ReLU with output 56\u00d756\u00d7256, again with an identity shortcut beside them."}}
fig = plot.plot_blocks(
    [candidates["basic block, 64 channels"], candidates["bottleneck, 256 channels"]],
    [(64, 56, 56), (256, 56, 56)],
    titles=["basic block (ResNet-18, -34)", "bottleneck block (ResNet-50, -101, -152)"],
)

# %% [markdown]
# ### Stage by stage
#
# Every ImageNet ResNet has the same plan {cite}`he2016deep`: a **stem** (a $7 \times 7$
# convolution with 64 filters and stride 2, then a $3 \times 3$ max pool with stride 2,
# taking $224 \times 224$ to $56 \times 56$), four **stages** of residual blocks, named
# conv2_x to conv5_x in the paper, and a head of global average pooling and one fully
# connected layer. The first block of stages 3, 4 and 5 has stride 2 and a projection
# shortcut, so the maps go $56 \to 28 \to 14 \to 7$ while the channels double (in
# ResNet-50 the first block of conv2_x has a projection too, from 64 to 256 channels). The
# networks differ only in the block and in the number of blocks per stage: $(2, 2, 2, 2)$
# basic blocks for ResNet-18, $(3, 4, 6, 3)$ for ResNet-34, and the same $(3, 4, 6, 3)$ with
# bottleneck blocks for ResNet-50. Counting the weight layers gives the names:
# $1 + 2 \cdot 8 + 1 = 18$ and $1 + 3 \cdot 16 + 1 = 50$. The whole construction is one
# loop in `models.ResNet`:

# %%
source = inspect.getsource(models.ResNet.__init__)
print(source[source.index("        self.stem") : source.index("        self.pool")])

# %% [markdown]
# `models.resnet_stages` runs a $224 \times 224$ input through the stem, each stage and the
# head on the meta device, and counts each part's parameters and multiply-adds. The
# parameters and output shapes of every stage are checked against torchvision's models
# (its `conv1`, `maxpool` and `layer1` to `layer4`), and the total multiply-adds against
# the operation counts torchvision stores with its weights:


# %%
# NBVAL_CHECK_OUTPUT
def print_stages(rows):
    print(f"{'stage':10s} {'output':>14s} {'blocks':>6s} {'parameters':>12s} {'multiply-adds':>15s}")
    for r in rows:
        out = "x".join(map(str, (*r.output_shape[1:], r.output_shape[0])))
        print(f"{r.name:10s} {out:>14s} {r.blocks or '':>6} {r.parameters:>12,} {r.mult_adds:>15,}")
    total_p, total_m = sum(r.parameters for r in rows), sum(r.mult_adds for r in rows)
    print(f"{'total':10s} {'':>14s} {'':>6s} {total_p:>12,} {total_m:>15,}")
    return total_p, total_m


resnets = {
    "ResNet-18": ((2, 2, 2, 2), models.BasicBlock, torchvision.models.resnet18, "ResNet18_Weights"),
    "ResNet-50": ((3, 4, 6, 3), models.Bottleneck, torchvision.models.resnet50, "ResNet50_Weights"),
}
totals = {}
for name, (layers, block, tv_builder, weights_name) in resnets.items():
    with torch.device("meta"):
        ours, theirs = models.ResNet(layers, block), tv_builder(weights=None)
    rows = models.resnet_stages(ours, (3, 224, 224))
    print(name)
    totals[name] = print_stages(rows)
    tv_rows = models.summary(theirs, (3, 224, 224), device="meta").rows
    tv_out = {r.name.split(".")[0]: r.output_shape for r in tv_rows}  # the last leaf that runs in each part
    tv_parts = {"conv2_x": "layer1", "conv3_x": "layer2", "conv4_x": "layer3", "conv5_x": "layer4"}
    for r in rows:
        if r.name in tv_parts:
            part = getattr(theirs, tv_parts[r.name])
            assert (r.parameters, r.output_shape) == (models.count_parameters(part), tv_out[tv_parts[r.name]])
    assert rows[0].output_shape == tv_out["relu"] and rows[1].output_shape == tv_out["maxpool"]
    assert totals[name][0] == models.count_parameters(theirs)
    stored = getattr(torchvision.models, weights_name).IMAGENET1K_V1.meta["_ops"]  # GFLOPs, as multiply-adds
    assert round(totals[name][1] / 1e9, 3) == stored, (totals[name][1], stored)
    print()
reduce_v15 = [cost.conv_mult_adds(56, 56, 128, 1, 256), cost.conv_mult_adds(28, 28, 256, 1, 512)]
reduce_v15.append(cost.conv_mult_adds(14, 14, 512, 1, 1024))
v1 = totals["ResNet-50"][1] - sum(3 * m // 4 for m in reduce_v15)
print(f"ResNet-50 with the stride on the first 1x1 convolution (the paper's): {v1:,} multiply-adds")

# %% [markdown]
# The tables say where a ResNet keeps its parameters and where it spends its work. The
# parameters pile up in the last stages, where the filters are widest: conv5_x alone holds
# 8.4 of ResNet-18's 11.7 million and 15.0 of ResNet-50's 25.6 million. The work is spread
# over all four stages instead, because each halving of the map (four times fewer
# positions) comes with a doubling of the channels (four times more work per position): a
# block costs about the same in every stage, so ResNet-18's four stages of two blocks cost
# about the same, and ResNet-50's conv4_x, with six blocks, costs the most. The head is
# small: a 512- or 2,048-to-1,000 fully connected layer instead of VGG's 124 million
# parameters. ResNet-50 needs 4.1 billion multiply-adds,
# 2.25 times ResNet-18's 1.8 billion, for 2.2 times the parameters.
#
# ```{note}
# **Two versions of ResNet-50.** He et al.'s Table 1 gives 3.8 billion "FLOPs" (they mean
# multiply-adds) for ResNet-50, and the model above counts 4.1 billion. Both are right for
# their network: the paper puts the stride 2 of a downsampling bottleneck block on its
# first $1 \times 1$ convolution, torchvision (and the package) on the $3 \times 3$, a
# variant often called ResNet v1.5. Moving the stride makes the first $1 \times 1$
# convolution of stages 3, 4 and 5 work on the larger map, at four times the cost; taking
# three quarters of that cost away from each gives the paper's 3.8 billion (3.86, printed
# above). ResNet-18's basic blocks have no such choice and match the
# paper's 1.8 billion.
# ```
#
# ## Key takeaways
#
# - Deeper plain networks can train *worse*: at our CPU scale the 56-layer plain net ends
#   far above the 20-layer one's training loss; residual nets of the same size all train,
#   the deepest at least about as well as the 20-layer one.
# - With batch norm and He initialisation the plain net's first-layer gradient *grows* with
#   depth; only without them does it vanish. Degradation is an optimisation difficulty, not
#   just vanishing gradients.
# - The residual block $a^{[l+2]} = g(z^{[l+2]} + a^{[l]})$ is the identity when its weights are
#   zero. When the shape changes, the shortcut either subsamples and pads with zero
#   channels (option A, parameter-free, used by `CifarResNet`) or is a $1 \times 1$
#   projection $W_s$ (option B). In code, `forward` is `relu(body(x) + shortcut(x))`.
# - A $1 \times 1$ convolution is a per-pixel linear layer that changes the number of channels.
# - The Inception module turns $28 \times 28 \times 192$ into $28 \times 28 \times 256$; a $1 \times 1$
#   bottleneck cuts its $5 \times 5$ branch from 120,422,400 to
#   2,408,448 + 10,035,200 = 12,443,648 multiplications.
# - The package's GoogLeNet, ResNet-18 and ResNet-50 match torchvision's parameter counts.
# - The bottleneck block ($1 \times 1$ reduce by 4, $3 \times 3$, $1 \times 1$ expand by 4)
#   handles 256 channels with 69,632 weights, 16.9 times fewer than two $3 \times 3$
#   convolutions on 256 channels and about as many as a basic block on 64: ResNet-50 is
#   ResNet-34 with bottleneck blocks.
# - A ResNet is a stem ($224 \to 56$), four stages ($56 \to 28 \to 14 \to 7$, channels
#   doubling) and a small head. ResNet-18: 11,689,512 parameters and 1.8 billion
#   multiply-adds; ResNet-50: 25,557,032 and 4.1 billion (3.86 billion in the paper's
#   version, with the stride on the $1 \times 1$). Parameters pile up in the last stage,
#   the work is spread over all four.
#
# ## Exercises
#
# The exercise notebook asks you to implement residual blocks with identity and projection
# shortcuts, a $1 \times 1$ convolution as a matrix product, and the cost of Inception
# branches.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch05/ch05_exercises.ipynb)
# or on GitHub:
# [`exercises/ch05/ch05_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch05/ch05_exercises.ipynb).
