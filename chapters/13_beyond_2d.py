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
# # Beyond 2D: 1D and 3D convolutions
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/13_beyond_2d.ipynb)
#
# Everything this book has said about convolutions used two spatial axes. Nothing in the
# idea needs two. A convolution slides a small filter along the axes of its input, takes a
# dot product at every position and shares the filter's weights between positions; the
# same recipe works along **one** axis (a sound, an electrocardiogram, a sensor reading
# over time) and along **three** (a CT or MRI volume, or a video clip, where the third
# axis is time). The end of lecture 002 {cite}`safayani_deeplearning` makes this point
# with a 1D example, an ECG-like signal convolved with a 5-tap filter, and a few 3D
# volumes. This chapter computes its shapes, builds the 1D convolution from scratch, and
# trains one small network of each kind on synthetic data: a 1D CNN that recognises
# rhythm and waveform anomalies in ECG-like signals, and a 3D CNN that tells the
# direction of motion in short clips, a task that a 2D network looking at the frames one
# by one provably cannot solve when it pools their features in a way that ignores their
# order, such as an average over time. (A per-frame CNN followed by a recurrent network or
# a convolution over time sees the order and could solve it.)
#
# ## Learning objectives
#
# After this chapter you can
#
# - write the 1D and 3D convolution formulas and the tensor layouts PyTorch uses for
#   them (`(N, C, L)` and `(N, C, D, H, W)`);
# - compute output shapes of `Conv1d` and `Conv3d` stacks (the lecture's
#   $14 \to 10 \to 6$) with the same formula as in 2D;
# - implement a 1D convolution with a loop and with `unfold`, and check it against
#   `F.conv1d`;
# - count the parameters and multiply-adds of 1D, 2D and 3D layers and explain why 3D is
#   expensive;
# - train a 1D CNN on signals and explain why it beats a fully connected network;
# - explain why motion needs a model that combines the frames in order, such as a
#   convolution over time, and prove that a per-frame 2D model whose frame features are
#   pooled without regard to order (an average) cannot tell left from right.

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from cvbook import conv, cost, data, device, models, signals, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## One recipe, any number of axes
#
# A 2D convolution layer with $n_c'$ filters of size $f \times f \times n_c$ computes, at output
# position $(i, j)$ and for filter $k$,
# $\text{out}[k, i, j] = b_k + \sum_{c}\sum_{u}\sum_{v} x[c,\, is + u,\, js + v]\; w[k, c, u, v]$.
# Drop one spatial axis and you have the **1D convolution**
#
# $$\text{out}[k, i] = b_k + \sum_{c=1}^{n_c} \sum_{u=0}^{f-1} x[c,\; i s + u]\; w[k, c, u],$$ (eq-ch13-conv1d)
#
# add one and you have the **3D convolution**
#
# $$\text{out}[k, t, i, j] = b_k + \sum_{c}\sum_{r}\sum_{u}\sum_{v} x[c,\, ts + r,\, is + u,\, js + v]\; w[k, c, r, u, v].$$ (eq-ch13-conv3d)
#
# In every case a filter always spans **all** input channels, slides along the spatial axes
# only, and produces one output channel; $n_c'$ filters produce $n_c'$ channels. Each axis's
# output size follows the formula of Chapter 2, independently of the others:
#
# $$n_{out} = \left\lfloor \frac{n + 2p - f}{s} \right\rfloor + 1.$$ (eq-ch13-size)
#
# PyTorch stores the channels before the spatial axes: a batch of signals is `(N, C, L)`,
# of images `(N, C, H, W)`, of volumes or clips `(N, C, D, H, W)` (for a clip, $D$ is the
# number of frames $T$). The weights follow: `Conv1d` holds `(C_out, C_in, f)`, `Conv3d`
# holds `(C_out, C_in, f_d, f_h, f_w)`.

# %%
for layer, x in [
    (nn.Conv1d(1, 16, 5), torch.zeros(2, 1, 14)),
    (nn.Conv2d(1, 16, 5), torch.zeros(2, 1, 14, 14)),
    (nn.Conv3d(1, 16, 5), torch.zeros(2, 1, 14, 14, 14)),
]:
    print(
        f"{type(layer).__name__}: input {tuple(x.shape)} -> output {tuple(layer(x).shape)}, "
        f"weight {tuple(layer.weight.shape)}"
    )

# %% [markdown]
# ## 1D convolution by hand
#
# ### The lecture's example
#
# The lecture's 1D input is a signal (an ECG, in the picture) written as the sequence
# `1 20 15 3 18 12 4 17`, convolved with the 5-tap filter `1 3 10 3 1`. The filter is a smoother: a weighted
# sum that favours the centre sample. Its weights sum to 18, not 1, so it is not an average: each
# output is 18 times a weighted average of five samples, which is why it lies far above the
# input values. The first output is
# $1 \cdot 1 + 20 \cdot 3 + 15 \cdot 10 + 3 \cdot 3 + 18 \cdot 1 = 238$ (about $18 \times 13.2$); then the filter moves
# one sample to the right. We write the loop of {eq}`eq-ch13-conv1d` for one channel and
# one filter:


# %%
def conv1d_loop(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid 1D cross-correlation of a 1D signal x (L,) with a filter w (f,): a loop over positions."""
    f = len(w)
    return torch.stack([(x[i : i + f] * w).sum() for i in range(len(x) - f + 1)])


# %%
# NBVAL_CHECK_OUTPUT
ecg_numbers = torch.tensor([1.0, 20, 15, 3, 18, 12, 4, 17])
smoother = torch.tensor([1.0, 3, 10, 3, 1])
by_hand = conv1d_loop(ecg_numbers, smoother)
by_torch = F.conv1d(ecg_numbers.view(1, 1, -1), smoother.view(1, 1, -1)).flatten()
print("input  ", ecg_numbers.int().tolist(), f"({len(ecg_numbers)} values)")
print("filter ", smoother.int().tolist())
print("loop   ", by_hand.int().tolist(), f"({len(by_hand)} = {len(ecg_numbers)} - 5 + 1 values)")
print("F.conv1d", by_torch.int().tolist())
assert torch.equal(by_hand, by_torch)

# %% [markdown]
# ```{warning}
# **The slide's numbers and its labels disagree.** The slide labels the input $14 \times 1$
# but writes out only 8 values, so the worked output above has $8 - 5 + 1 = 4$ values; a
# $14 \times 1$ input gives 10, as in the next section. The lecture does not print the
# outputs; **238, 161, 244, 206** are computed here from the 8 values it shows. It also writes
# "5 × 16" for the first layer's 16 filters of length 5 (filter length × number of filters),
# while the filters of the next layer are 5 × 16 in the other sense (length × input
# channels), and 32 of them are needed; we spell both out below.
# ```
#
# ### The edge detector, one row at a time
#
# Lecture 002 opens with the vertical edge detector: the $6 \times 6$ image whose left half is
# 10 and right half 0, convolved with the $3 \times 3$ filter whose columns are $1, 0, -1$, gives
# a $4 \times 4$ output with **30** in the two middle columns. Each row of that image is a 1D
# step, and each row of the filter is the 1D edge detector `1 0 -1`. A 2D convolution with
# this filter is the sum of three 1D convolutions, one per filter row, over three image
# rows; since all rows are equal here, each 1D result `0 10 10 0` counts three times:

# %%
# NBVAL_CHECK_OUTPUT
image = torch.tensor([[10.0, 10, 10, 0, 0, 0]] * 6)
edge_1d = torch.tensor([1.0, 0, -1])
row_response = conv1d_loop(image[0], edge_1d)
print("1D: [10 10 10 0 0 0] * [1 0 -1] =", row_response.int().tolist())
edge_2d = conv.KERNELS["vertical_edge"]
out_2d = F.conv2d(image.view(1, 1, 6, 6), edge_2d.view(1, 1, 3, 3))[0, 0]
rows_summed = torch.stack([sum(conv1d_loop(image[i + u], edge_2d[u]) for u in range(3)) for i in range(4)])
print("2D (the lecture's result):", out_2d.int().tolist())
assert torch.equal(out_2d, rows_summed) and out_2d[0].tolist() == [0, 30, 30, 0]

# %% [markdown]
# ### Channels, filters, stride: the full layer
#
# A real layer has a batch, several input channels, several filters, a bias and a stride.
# The package has two versions of {eq}`eq-ch13-conv1d`: `signals.conv1d_naive` loops over
# output positions and, at each, multiplies one window of every channel by every filter;
# `signals.conv1d_unfold` cuts all windows at once with `Tensor.unfold` (a view of shape
# `(N, C_in, L_out, f)`, no copy) and weighs them with one `einsum`, the 1D im2col of
# Chapter 2. Both must agree with `F.conv1d`, including padding, stride and dilation:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(13)
x = torch.randn(4, 3, 50, generator=g, dtype=torch.float64)
w = torch.randn(8, 3, 5, generator=g, dtype=torch.float64)
b = torch.randn(8, generator=g, dtype=torch.float64)
for stride, padding, dilation in [(1, 0, 1), (2, 2, 1), (1, "same", 2), (3, 1, 2)]:
    pad = conv._resolve_padding(padding, 5, dilation)
    reference = F.conv1d(x, w, b, stride=stride, padding=pad, dilation=dilation)
    naive = signals.conv1d_naive(x, w, b, stride=stride, padding=padding, dilation=dilation)
    unfolded = signals.conv1d_unfold(x, w, b, stride=stride, padding=padding, dilation=dilation)
    assert torch.allclose(naive, reference, atol=1e-12) and torch.allclose(unfolded, reference, atol=1e-12)
    print(
        f"s={stride} p={padding!s:4} d={dilation}: output {tuple(reference.shape)}, "
        f"loop and unfold equal F.conv1d: True"
    )

# %% [markdown]
# ### The lecture's 1D network: 14 → 10 → 6
#
# The lecture stacks two layers on a $14 \times 1$ signal. Sixteen filters of length 5 give
# $14 - 5 + 1 = 10$ positions and 16 channels, $10 \times 16$. The next layer's filters must span
# those 16 channels, so each is $5 \times 16$; 32 of them give $10 - 5 + 1 = 6$ positions,
# $6 \times 32$. The lengths come from `conv.conv_output_size`, the same function as for
# images (Chapter 2), or from `signals.conv_output_shape`, which applies it to each axis of a
# 1D, 2D or 3D input; `nn.Conv1d` agrees:

# %%
# NBVAL_CHECK_OUTPUT
net_1d = nn.Sequential(nn.Conv1d(1, 16, 5), nn.ReLU(), nn.Conv1d(16, 32, 5))
x = torch.zeros(1, 1, 14)
print(f"input: 14 x 1; one filter of 5 x 1 -> {nn.Conv1d(1, 1, 5)(x).shape[-1]} x 1")
for layer in (net_1d[0], net_1d[2]):
    n_in = x.shape[-1]
    formula = conv.conv_output_size(n_in, 5)
    x = layer(x)
    assert (formula,) == signals.conv_output_shape(n_in, 5) == tuple(x.shape[2:])
    print(
        f"{layer.out_channels} filters of {layer.kernel_size[0]} x {layer.in_channels}: "
        f"formula {n_in} - 5 + 1 = {formula}, nn.Conv1d -> {x.shape[-1]} x {x.shape[1]}, "
        f"{models.count_parameters(layer):,} parameters"
    )

# %% [markdown]
# **14 × 1 → 10 × 1** with one filter, **10 × 16** with sixteen, **6 × 32** after the second
# layer, with $5 \cdot 1 \cdot 16 + 16 = 96$ and $5 \cdot 16 \cdot 32 + 32 = 2{,}592$ parameters.
# The same two layers on a $14 \times 14$ image would give $10 \times 10 \times 16$ and
# $6 \times 6 \times 32$: one axis fewer, nothing else changes.
#
# ## A 1D CNN on ECG-like signals
#
# Convolutions suit signals for the same reasons as images: the patterns that matter (a
# heartbeat's waves) are local, and they can occur anywhere in the recording. Real ECG
# classifiers are 1D CNNs {cite}`kiranyaz2016realtime,hannun2019cardiologist`. Without
# downloading a dataset we build a synthetic one with `signals.make_ecg_like`: each
# signal is 5.12 s at 100 Hz (512 samples) of heartbeats, each a P wave, a QRS complex
# and a T wave, at a heart rate between 60 and 90 per minute, starting at a random
# phase, with random amplitude, slow baseline wander and noise. Four classes, each
# changing one feature:
#
# - **normal**: regular beats;
# - **irregular RR**: the intervals between beats vary by up to ±50 % (the rhythm of
#   atrial fibrillation or of premature beats);
# - **wide QRS**: the QRS complex is 2.6 times wider (as in a bundle-branch block);
# - **no P wave**: regular, but the small bump before each QRS is missing.

# %%
ecg_train, ecg_train_labels = signals.make_ecg_like(1200, 512, seed=1)
ecg_test, ecg_test_labels = signals.make_ecg_like(800, 512, seed=2)
print(
    f"train {tuple(ecg_train.shape)}, test {tuple(ecg_test.shape)}, "
    f"per class {torch.bincount(ecg_train_labels).tolist()}"
)

# %% mystnb={"figure": {"caption": "One synthetic ECG-like signal per class (5.12 s at 100 Hz). Beats start at a random phase and ride on a slow baseline wander; the classes differ in the spacing of the beats, the width of the tall QRS spike or the small P wave before it. Right: the shaded beat enlarged, where the P wave (the small bump before the spike) can be seen, and its absence in the last class.", "name": "fig-ch13-ecg"}, "image": {"alt": "Four stacked noisy traces of amplitude over 5 s: normal, irregular RR intervals, wide QRS, no P wave, each with sharp spikes of height about 1 on a wavy baseline, evenly spaced in normal, unevenly in irregular, broader in wide QRS. Beside each, one shaded beat enlarged: a small bump before the spike in the normal trace, none in the no-P-wave trace."}}
t_axis = np.arange(512) / 100
pretty = {
    "normal": "normal",
    "irregular_rr": "irregular RR intervals",
    "wide_qrs": "wide QRS",
    "no_p_wave": "no P wave",
}
fig, axes = plt.subplots(4, 2, figsize=(10, 6.5), gridspec_kw={"width_ratios": [3, 1]})
for k, (row, name) in enumerate(zip(axes, signals.ECG_CLASSES)):
    i = int((ecg_train_labels == k).nonzero()[0])
    x = ecg_train[i, 0].numpy()
    row[0].plot(t_axis, x, lw=0.9)
    row[0].set_title(pretty[name], fontsize=10, loc="left")
    row[0].set_ylabel("amplitude")
    peak = 100 + int(np.argmax(x[100:250]))  # one QRS spike between 1 s and 2.5 s
    window = slice(max(peak - 45, 0), peak + 25)  # 0.45 s before it (the P wave), 0.25 s after
    row[0].axvspan(t_axis[window][0], t_axis[window][-1], color="C1", alpha=0.15)
    row[1].plot(t_axis[window], x[window], lw=1.2, color="C1")
    row[1].set_title("one beat, enlarged", fontsize=9, loc="left")
axes[-1, 0].set_xlabel("time (s)")
axes[-1, 1].set_xlabel("time (s)")
fig.tight_layout()

# %% [markdown]
# The network is Chapter 3's recipe with `1d` in every layer name: five blocks of a
# length-7 convolution, batch norm and ReLU, with max pooling by 2 after the first four,
# then a global max pool over time and a linear layer. Each pooling doubles the reach of
# the next filters, so the last layer sees 202 samples (2 s), more than one RR interval
# (`conv.receptive_field`): enough to compare the spacing of neighbouring beats. The global
# pool makes the output independent of *where* a pattern occurs.


# %%
def ecg_cnn() -> nn.Sequential:
    layers, c_in = [], 1
    for k, c_out in enumerate((16, 32, 32, 32, 32)):
        layers += [nn.Conv1d(c_in, c_out, 7, padding=3), nn.BatchNorm1d(c_out), nn.ReLU()]
        if k < 4:
            layers.append(nn.MaxPool1d(2))
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(32, 4))


def ecg_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 4)
    )


print(
    "receptive field of the last conv layer:", conv.receptive_field([(7, 1), (2, 2)] * 4 + [(7, 1)])[-1][0], "samples"
)
ecg_train_set, ecg_test_set = TensorDataset(ecg_train, ecg_train_labels), TensorDataset(ecg_test, ecg_test_labels)
ecg_test_loader = data.make_loader(ecg_test_set, 256)
ecg_models = {}
for name, make, epochs in [("1D CNN", ecg_cnn, 8), ("MLP", ecg_mlp, 40)]:
    device.seed_everything(0)
    model = make()
    start = time.process_time()
    history = train.fit(model, data.make_loader(ecg_train_set, 64, shuffle=True), epochs=epochs)
    ecg_models[name] = (model, history, time.process_time() - start)
    print(
        f"{name}: {models.count_parameters(model):,} parameters, {epochs} epochs, "
        f"{time.process_time() - start:.1f} CPU-s"
    )

# %% [markdown]
# The fully connected network (MLP) gets more epochs, since each costs it little. Test
# accuracy of both, and the CNN's confusion matrix (rows: true class, columns: predicted).
# These are trained numbers: their last digits differ from one CPU to another, so the claims
# about them are checked within bands, not digit by digit:

# %%
ecg_acc = {}
for name, (model, history, _) in ecg_models.items():
    ecg_acc[name] = train.evaluate(model, ecg_test_loader)["acc"]
    print(f"{name:7s} train accuracy {history.last('train_acc'):.2f}, test accuracy {ecg_acc[name]:.2f}")
outputs, targets = train.predict(ecg_models["1D CNN"][0], ecg_test_loader)
confusion = torch.bincount(targets * 4 + outputs.argmax(1), minlength=16).reshape(4, 4)
print(f"{'':13s}" + "".join(f"{c[:9]:>10s}" for c in signals.ECG_CLASSES))
for name, row in zip(signals.ECG_CLASSES, confusion.tolist()):
    print(f"{name:13s}" + "".join(f"{v:10d}" for v in row))
claim("ch13.ecg.cnn_accuracy", ecg_acc["1D CNN"], low=0.95)  # almost perfect
claim("ch13.ecg.mlp_train_accuracy", ecg_models["MLP"][1].last("train_acc"), low=0.95)  # memorises ...
claim("ch13.ecg.mlp_accuracy", ecg_acc["MLP"], high=0.7)  # ... and fails to generalise
_ = claim("ch13.ecg.cnn_minus_mlp", ecg_acc["1D CNN"] - ecg_acc["MLP"], low=0.25)
# %% [markdown]
# The 1D CNN classifies almost all of the test signals correctly (more than 95 %); the
# confusion matrix shows where its few errors are (in the stored run, irregular rhythms whose
# intervals happened to vary little). The MLP learns its training set almost perfectly and
# generalises poorly (far behind the CNN, with 25 % for guessing): with
# a separate weight for every time step, a P wave at sample 100 and one at sample 180 are
# unrelated inputs to it, and 1,200 examples are too few to learn every position of every
# pattern. The CNN's shared filters recognise a pattern wherever it falls, and the global
# pooling forgets where. To shift signals in time without inventing samples, we generate
# 800 longer recordings (812 samples) and cut 512-sample windows from them at different
# offsets: the same heartbeats, seen earlier or later. The CNN's accuracy does not depend
# on the offset:

# %%
cnn = ecg_models["1D CNN"][0]
long_ecg, long_labels = signals.make_ecg_like(800, 812, seed=3)
for offset in (0, 50, 137, 300):
    window = data.make_loader(TensorDataset(long_ecg[..., offset : offset + 512], long_labels), 256)
    acc = train.evaluate(cnn, window)["acc"]
    print(f"window starting at sample {offset:3d}: 1D CNN accuracy {acc:.2f}")
    claim("ch13.ecg.shifted_accuracy", acc, low=0.95)

# %% [markdown]
# ```{note}
# Real ECG work differs in scale, not in kind: Hannun et al.
# {cite}`hannun2019cardiologist` trained a 34-layer 1D ResNet on 91,232 single-lead
# recordings to recognise 12 rhythm classes at about a cardiologist's level. Long signals
# (audio at 16 kHz) need a large receptive field; dilated 1D convolutions (Chapter 2's
# dilation, as in WaveNet {cite}`oord2016wavenet`) provide one without pooling.
# ```
#
# ## 3D convolutions
#
# ### The lecture's volume: 14 → 10 → 6 in three dimensions
#
# A CT scan is a stack of slices, a 3D array of intensities; the lecture shows such
# volumes. A 3D filter is a small cube, $f \times f \times f \times n_c$, that slides along depth,
# height and width. The 1D numbers carry over: a $14 \times 14 \times 14 \times 1$ volume, 16
# filters of $5 \times 5 \times 5 \times 1$, then 32 filters of $5 \times 5 \times 5 \times 16$:

# %%
# NBVAL_CHECK_OUTPUT
net_3d = nn.Sequential(nn.Conv3d(1, 16, 5), nn.ReLU(), nn.Conv3d(16, 32, 5))
x = torch.zeros(1, 1, 14, 14, 14)
print("input: 14 x 14 x 14 x 1")
for layer in (net_3d[0], net_3d[2]):
    size_in = tuple(x.shape[2:])
    formula = signals.conv_output_shape(size_in, 5)
    x = layer(x)
    assert formula == tuple(x.shape[2:])
    print(
        f"{layer.out_channels} filters of 5 x 5 x 5 x {layer.in_channels}: formula {formula}, "
        f"nn.Conv3d -> {' x '.join(map(str, x.shape[2:]))} x {x.shape[1]}, "
        f"{models.count_parameters(layer):,} parameters"
    )

# %% [markdown]
# ```{note}
# In the lecture text the 3D slides show only the volumes (CT slices) and a stray "128";
# their shapes did not survive. $14^3 \times 1 \to 10^3 \times 16 \to 6^3 \times 32$ is the 1D example's
# stack with two more axes, the usual form of this slide.
# ```
#
# ### What the third axis costs
#
# A filter has $f$ times more weights for every extra axis, and it is applied at $n_{out}$
# times more positions. With the cost formula of Chapter 6 (filter weights × positions ×
# filters, `signals.conv_cost` for any number of axes):
#
# $$\text{params} = f^{k} \, n_c \, n_c', \qquad \text{mult-adds} = n_{out}^{k} \, f^{k} \, n_c \, n_c'$$ (eq-ch13-cost)
#
# for a $k$-dimensional input ($k = 1, 2, 3$). The lecture's two layers, in 1D, 2D and 3D,
# by formula, by the package's hook-based counter (`signals.count_mult_adds_nd`) and by
# PyTorch's `FlopCounterMode` (2 FLOPs per mult-add):

# %%
# NBVAL_CHECK_OUTPUT
conv_classes = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
print(f"{'':3s} {'layer':34s} {'weights':>8} {'mult-adds':>11} {'hooks':>11} {'FLOPs / 2':>11}")
totals = {}
for k in (1, 2, 3):
    for n, c_in, c_out in [(14, 1, 16), (10, 16, 32)]:
        formula = signals.conv_cost((n,) * k, 5, c_in, c_out)
        layer = conv_classes[k](c_in, c_out, 5, bias=False)
        hooks = signals.count_mult_adds_nd(layer, (c_in,) + (n,) * k)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            layer(torch.zeros(1, c_in, *(n,) * k))
        assert formula.mult_adds == hooks == counter.get_total_flops() // 2 and formula.params == layer.weight.numel()
        totals[k] = totals.get(k, cost.Cost(0, 0)) + formula
        shape = " x ".join([str(n)] * k)
        print(
            f"{k}D  {shape + f' x {c_in} -> {c_out} filters':34s} {formula.params:8,} {formula.mult_adds:11,} "
            f"{hooks:11,} {counter.get_total_flops() // 2:11,}"
        )
for k in (2, 3):
    print(
        f"{k}D / {k - 1}D: weights x{totals[k].params / totals[k - 1].params:.0f}, "
        f"mult-adds x{totals[k].mult_adds / totals[k - 1].mult_adds:.1f}"
    )

# %% [markdown]
# Each extra axis multiplies the weights by $f = 5$ and the mult-adds by $f \cdot n_{out}$,
# 50 for the first layer and 30 for the second; the second layer dominates, so the stack
# costs about **31 times** more per added axis. The 3D stack's 13.8 million mult-adds for
# the second layer alone, on a tiny $10^3$ input, explain why
# 3D networks use small filters ($3 \times 3 \times 3$), few channels and early pooling, and
# why real volumes are often processed as patches {cite}`cicek2016unet3d`.
#
# ## Motion needs time: a 3D CNN on short clips
#
# A video clip is a 3D array too, with time as the depth axis: $T \times H \times W$ per
# channel. Stacking frames this way lets a filter see *change*: a $3 \times 3 \times 3$ filter
# spans three frames {cite}`ji2013threed,tran2015learning`. The cleanest demonstration is a
# task a single frame cannot solve. `signals.make_moving_squares` makes clips of 8 frames of
# $16 \times 16$ pixels in which a square moves **left**, stays **static**, or moves **right**, one
# pixel per frame, on a noisy background. The start positions are drawn so that the
# squares of a "left" clip occupy the same set of positions, with the same probabilities,
# as those of a "right" clip: only the *order* of the frames tells them apart.

# %%
clips_train, clips_train_labels = signals.make_moving_squares(900, seed=1)
clips_test, clips_test_labels = signals.make_moving_squares(600, seed=2)
print(f"train {tuple(clips_train.shape)} (N, C, T, H, W), test {tuple(clips_test.shape)}")

# %% mystnb={"figure": {"caption": "One clip per class: frames 1, 4 and 8, and a space-time slice (the row through the square, one line per frame, time downwards). Motion to the left or right is a slanted stripe in space-time; a static square is a vertical one. A 3D filter can detect the slant, a 2D filter on one frame cannot.", "name": "fig-ch13-clips"}, "image": {"alt": "Grey-scale grid, one row per class (left, static, right): frames 1, 4 and 8 of a noisy 16x16 clip with a bright square, then a space-time slice of frame against x. The moving squares shift left or right across the frames and give diagonal stripes in the slice; the static one a vertical stripe."}}
fig, axes = plt.subplots(3, 4, figsize=(8, 6.2))
for k, name in enumerate(signals.MOTION_CLASSES):
    i = int((clips_train_labels == k).nonzero()[0])
    clip = clips_train[i, 0]
    for col, frame in enumerate((0, 3, 7)):
        axes[k, col].imshow(clip[frame].numpy(), cmap="gray", vmin=0, vmax=1)
        axes[k, col].set_title(f"{name}: frame {frame + 1}", fontsize=9)
    row = int(clip.sum(dim=(0, 2)).argmax())
    axes[k, 3].imshow(clip[:, row, :].numpy(), cmap="gray", vmin=0, vmax=1, aspect="auto")
    axes[k, 3].set_title(f"{name}: space-time slice", fontsize=9)
    axes[k, 3].set_xlabel("x (pixels)")
    axes[k, 3].set_ylabel("frame")
    for ax in axes[k, :3]:
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# Two small networks with the same structure (3,795 and 1,347 parameters: a 3D filter has
# three times the weights of a 2D one):
#
# - **3D CNN**: two $3 \times 3 \times 3$ convolution blocks (8 and 16 filters) with a $2 \times 2 \times 2$
#   max pool between them, a global max pool and a linear layer;
# - **per-frame 2D CNN**: the same blocks with $3 \times 3$ filters, applied to every frame
#   separately (the frames are folded into the batch axis), their feature vectors
#   averaged over the 8 frames, then a linear layer. It sees all the frames, but never two
#   at once.


# %%
def clip_cnn_3d() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(1, 8, 3, padding=1),
        nn.BatchNorm3d(8),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.Conv3d(8, 16, 3, padding=1),
        nn.BatchNorm3d(16),
        nn.ReLU(),
        nn.AdaptiveMaxPool3d(1),
        nn.Flatten(),
        nn.Linear(16, 3),
    )


class PerFrameCNN(nn.Module):
    """A 2D CNN applied to each frame of a (N, 1, T, H, W) clip; features averaged over time."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(16, 3)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        n, c, t, h, w = clips.shape
        frames = clips.transpose(1, 2).reshape(n * t, c, h, w)  # every frame is one image
        per_frame = self.features(frames).reshape(n, t, -1)  # (N, T, 16)
        return self.head(per_frame.mean(dim=1))


clip_train_set, clip_test_set = (
    TensorDataset(clips_train, clips_train_labels),
    TensorDataset(clips_test, clips_test_labels),
)
clip_test_loader = data.make_loader(clip_test_set, 200)
clip_models = {}
for name, make in [("3D CNN", clip_cnn_3d), ("per-frame 2D CNN", PerFrameCNN)]:
    device.seed_everything(0)
    model = make()
    start = time.process_time()
    train.fit(model, data.make_loader(clip_train_set, 32, shuffle=True), epochs=8)
    clip_models[name] = model
    print(f"{name}: {models.count_parameters(model):,} parameters, {time.process_time() - start:.1f} CPU-s")

# %%
clip_acc = {}
for name, model in clip_models.items():
    outputs, targets = train.predict(model, clip_test_loader)
    clip_acc[name] = float((outputs.argmax(1) == targets).float().mean())
    confusion = torch.bincount(targets * 3 + outputs.argmax(1), minlength=9).reshape(3, 3)
    print(f"{name:17s} test accuracy {clip_acc[name]:.2f}; confusion (rows left/static/right): {confusion.tolist()}")
claim("ch13.clips.cnn3d_accuracy", clip_acc["3D CNN"], low=0.95)  # sees the direction of motion
_ = claim("ch13.clips.per_frame_accuracy", clip_acc["per-frame 2D CNN"], high=0.55)  # cannot see it

# %% [markdown]
# The 3D CNN classifies (almost) every test clip correctly; the per-frame model stays close
# to chance (one in three). It does not even reliably separate static from moving squares
# (see its confusion matrix), which a per-frame model could in principle do from the spread of the positions it sees. Its
# failure to tell left from right, though, is not a matter of training: it is built in. The model
# averages the frames' features, and an average does not depend on the order of its
# terms, so a clip and the same clip played **backwards** get exactly the same output.
# Played backwards, a square moving right moves left: for every "right" clip there is an
# equally likely "left" clip the model cannot distinguish from it, so no per-frame model of
# this kind can exceed $2/3$ accuracy here (perfect on "static", a coin flip between "left" and
# "right"). We check the symmetry, and that the 3D CNN instead swaps its answers when time
# runs backwards:

# %%
# NBVAL_CHECK_OUTPUT
reversed_clips = torch.flip(clips_test, dims=[2])  # play every clip backwards
swapped_labels = 2 - clips_test_labels  # left <-> right, static stays
on = device.device_of(clip_models["3D CNN"])  # fit left the models on the book's device
with torch.no_grad():
    per_frame = clip_models["per-frame 2D CNN"].eval()
    symmetric = torch.allclose(per_frame(clips_test.to(on)), per_frame(reversed_clips.to(on)), atol=1e-5)
assert symmetric  # built in: an average ignores order
print(f"{len(clips_test)} test clips; per-frame 2D CNN, same output on reversed clips: {symmetric}")

# %% [markdown]
# That equality holds for any weights. What the trained models answer on the reversed clips
# is a trained number (checked within bands):

# %%
with torch.no_grad():
    for name, model in clip_models.items():
        model.eval()
        forward, backward = model(clips_test.to(on)).cpu(), model(reversed_clips.to(on)).cpu()
        same = torch.allclose(forward, backward, atol=1e-5)
        acc = float((backward.argmax(1) == swapped_labels).float().mean())
        print(
            f"{name:17s} same output on reversed clips: {same}; "
            f"accuracy on reversed clips with swapped labels: {acc:.2f}"
        )
        if name == "3D CNN":
            claim("ch13.clips.cnn3d_reversed_swapped_accuracy", acc, low=0.95)  # swaps its answers

# %% [markdown]
# ```{note}
# A 3D convolution is not the only way to let a network see time. Stacking the frames as
# the *channels* of a 2D network ("early fusion") also works, since its first filters span
# all frames at once; Karpathy et al. {cite}`karpathy2014largescale` compared early, late
# and slow fusion on a million sports videos. Modern video models use 3D convolutions
# {cite}`tran2015learning`, 2D convolutions followed by 1D convolutions over time, or
# attention across frames. For volumes (CT, MRI) the 3D U-Net {cite}`cicek2016unet3d` is
# the 3D version of Chapter 10's U-Net.
# ```
#
# ## Key takeaways
#
# - A convolution works the same way along 1, 2 or 3 axes: a filter spans all input
#   channels, slides along the spatial axes, and each axis's size follows
#   $\lfloor (n + 2p - f)/s \rfloor + 1$ (`conv.conv_output_size`, `signals.conv_output_shape`).
# - The lecture's 1D stack: **14 × 1 → 10 × 1** (one filter of 5), **10 × 16** (16 filters),
#   **6 × 32** (32 filters of 5 × 16); in 3D: **14³ × 1 → 10³ × 16 → 6³ × 32**. Its ECG numbers
#   `1 20 15 3 18 12 4 17` smoothed by `1 3 10 3 1` give **238, 161, 244, 206**; a row of the
#   vertical edge example gives `0 10 10 0`, and three rows give the lecture's **30**.
# - A 1D convolution from scratch (a loop, or `unfold` + `einsum`) equals `F.conv1d`.
# - Each extra axis multiplies the weights by $f$ and the mult-adds by $f \cdot n_{out}$: the
#   lecture's two layers cost 16,160 mult-adds in 1D and 15.8 million in 3D.
# - A small 1D CNN classifies four kinds of synthetic ECG with more than 95 % test accuracy
#   and keeps it when the signals are shifted; an MLP with six times the parameters
#   memorises its training set and falls far behind.
# - Direction of motion cannot be seen in single frames: a per-frame 2D model that averages
#   its frame features over time gives the same answer for a clip and its reverse (close to
#   chance here), while a 3D CNN that
#   convolves over time classifies almost every clip correctly.
#
# ## Exercises
#
# The exercise notebook asks you to compute `Conv1d` output lengths for a stack of layers,
# write a 1D convolution from scratch, compute a `Conv3d` layer's output shape, weights and
# mult-adds, build a small 1D CNN for signals of any length, and measure the velocity of a
# moving square.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch13/ch13_exercises.ipynb)
# or on GitHub:
# [`exercises/ch13/ch13_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch13/ch13_exercises.ipynb).
