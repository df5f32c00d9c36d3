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
# affordable. It follows the lectures {cite}`ng_case_studies,khan2025cv,safayani_deeplearning`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - show by experiment that deeper plain networks can train worse, and that residual
#   networks of the same depth do not;
# - explain what gradient norms at initialisation do and do not tell about it;
# - write the residual block, show that it can be the identity, and use a projection
#   shortcut when shapes change;
# - use $1 \times 1$ convolutions to change the number of channels cheaply;
# - build an Inception module and compute its cost with and without bottlenecks;
# - check ResNet and GoogLeNet parameter counts against torchvision.

# %% [markdown]
# ## Setup

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cvbook import cost, data, device, models, train
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
# to represent, not that an optimiser will find the best weights.
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
# On ImageNet, B was slightly better than A; their CIFAR networks use A, and so does the
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
for name, (ours, theirs) in pairs.items():
    print(
        f"{name:10s} cvbook {models.count_parameters(ours):>12,}   torchvision {models.count_parameters(theirs):>12,}"
    )
    assert models.count_parameters(ours) == models.count_parameters(theirs)
print(f"GoogLeNet with true 5x5 kernels (the paper): {models.count_parameters(paper_googlenet):,}")

# %% [markdown]
# GoogLeNet has about 6.6 million parameters, a twentieth of VGG-16's 138 million. Its
# ensemble won the ILSVRC 2014 classification task ahead of VGG's, but model for model
# VGG-16 is slightly more accurate: with torchvision's pretrained weights it reaches 71.6 %
# top-1 accuracy on ImageNet, GoogLeNet 69.8 %. GoogLeNet's point is efficiency, close to
# VGG's accuracy for a small fraction of its parameters and computation. ResNet-50 has 25.6
# million parameters in 50 layers. Both end with global
# average pooling instead of VGG's enormous fully connected layers.
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
#   projection $W_s$ (option B).
# - A $1 \times 1$ convolution is a per-pixel linear layer that changes the number of channels.
# - The Inception module turns $28 \times 28 \times 192$ into $28 \times 28 \times 256$; a $1 \times 1$
#   bottleneck cuts its $5 \times 5$ branch from 120,422,400 to
#   2,408,448 + 10,035,200 = 12,443,648 multiplications.
# - The package's GoogLeNet, ResNet-18 and ResNet-50 match torchvision's parameter counts.
#
# ## Exercises
#
# The exercise notebook asks you to implement residual blocks with identity and projection
# shortcuts, a $1 \times 1$ convolution as a matrix product, and the cost of Inception
# branches.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch05/ch05_exercises.ipynb)
# or on GitHub:
# [`exercises/ch05/ch05_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch05/ch05_exercises.ipynb).
