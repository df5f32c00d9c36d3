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
# # What CNNs learn, and neural style transfer
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/12_what_cnns_learn.ipynb)
#
# A trained convolutional network is a stack of filters nobody wrote by hand. This chapter
# opens one up. First we train a small CNN and look at what its units respond to: the
# first layer's filters as pictures, its feature maps on a held-out image, and, for units
# of layers 1, 2 and 3, the image patches that excite them most, the method of Zeiler and
# Fergus {cite}`zeiler2014visualizing`. Then we turn the same activations into a tool:
# **neural style transfer** {cite}`gatys2016image` builds a new image $G$ whose deep
# activations match those of a *content* photo $C$ and whose channel correlations (Gram
# matrices) match those of a *style* image $S$, by gradient descent on the pixels of $G$.
# The costs are written from scratch, checked on small tensors by hand, and then run on
# VGG-19 {cite}`simonyan2015very` features. The chapter follows the last part of lecture
# 002 {cite}`safayani_deeplearning`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - show a network's first-layer filters and feature maps, and explain why deeper filters
#   cannot be shown the same way;
# - find the input patches that most activate a unit, with the crop size given by the
#   unit's receptive field;
# - write the content cost, the Gram matrix, the style cost of one layer and of several
#   layers, and the total cost $J(G) = \alpha J_\text{content} + \beta J_\text{style}$, with their
#   normalisation constants;
# - run neural style transfer by gradient descent on an image, and read its cost curves;
# - say what changes when the feature extractor has random instead of trained weights.

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from cvbook import conv, data, device, style, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## Part 1: what the units of a trained network respond to
#
# ### A small network to look into
#
# We need a network trained in the book, small enough to train in seconds. The data are the
# synthetic shapes of Chapter 1 at $32 \times 32$ pixels (one circle, square or triangle per
# image, random colours on a noisy gradient), 3,000 images to train on and 500 held out. The
# network has three convolution layers; the first uses $5 \times 5$ filters so that its
# filters are big enough to look at, the others $3 \times 3$, each followed by batch norm,
# ReLU and (after the first two) $2 \times 2$ max pooling; a global max pool and one linear
# layer make the decision.

# %%
train_set = data.ShapesClassification(3000, 32, seed=0)
test_set = data.ShapesClassification(500, 32, seed=1)


def conv_block(c_in, c_out, f):
    return [nn.Conv2d(c_in, c_out, f, padding=f // 2), nn.BatchNorm2d(c_out), nn.ReLU()]


net = nn.Sequential(
    *conv_block(3, 16, 5),
    nn.MaxPool2d(2),  # layer 1: 32x32 -> 16x16
    *conv_block(16, 32, 3),
    nn.MaxPool2d(2),  # layer 2: 16x16 -> 8x8
    *conv_block(32, 64, 3),  # layer 3: 8x8
    nn.AdaptiveMaxPool2d(1),
    nn.Flatten(),
    nn.Linear(64, 3),
)
start = time.process_time()
history = train.fit(
    net,
    data.make_loader(train_set, 64, shuffle=True),
    data.make_loader(test_set, 256),
    optimizer=torch.optim.Adam(net.parameters(), lr=3e-3),
    epochs=8,
    device="cpu",
)
print(f"held-out accuracy after 8 epochs: {history.last('val_acc'):.3f} ({time.process_time() - start:.1f} CPU-s)")
_ = claim("ch12.shapes.val_accuracy", history.last("val_acc"), low=0.9)
# %% [markdown]
# The network tells the three shapes apart on images it has never seen. Now we look at how.
#
# ### First-layer filters
#
# A first-layer filter lives in the same space as the image: $5 \times 5$ pixels times 3
# colours. We can show it as a tiny colour picture after stretching its weights to
# $[0, 1]$. (A second-layer filter is $3 \times 3 \times 16$: its "colours" are the 16 feature
# maps of layer 1, which have no picture, which is why deeper units are shown through the
# inputs that excite them instead.)

# %% mystnb={"figure": {"caption": "The 16 first-layer filters of the trained network (5x5x3 each, weights stretched to [0, 1] per filter). After 8 epochs on 3,000 small images they are still noisy; what they have learned shows mostly as a preferred mix of colours, not as the clean oriented edges of an ImageNet network's first layer. The top patches below show their preferences more clearly.", "name": "fig-ch12-filters"}, "image": {"alt": "Two rows of eight tiny 5 x 5 colour pictures, one per first-layer unit, numbered 0 to 15. Each is a noisy patchwork of differently coloured pixels; none shows a clean oriented edge or a smooth pattern."}}
net.eval()
filters = net[0].weight.detach()  # (16, 3, 5, 5)
low = filters.amin(dim=(1, 2, 3), keepdim=True)
high = filters.amax(dim=(1, 2, 3), keepdim=True)
shown = (filters - low) / (high - low)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for k, ax in enumerate(axes.flat):
    ax.imshow(shown[k].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"unit {k}", fontsize=8)
    ax.axis("off")
fig.suptitle("Layer 1 filters (5x5x3)")
fig.tight_layout()

# %% [markdown]
# ### Feature maps
#
# A feature map is one unit's output at every position: the filter slid over the image,
# plus batch norm and ReLU. Bright means "this filter's pattern is here". The layer-1 maps
# still look like the image, filtered; the layer-2 and layer-3 maps are coarser (pooling
# halves them each time) and each lights up on fewer, more specific places.

# %% mystnb={"figure": {"caption": "A held-out image and the feature maps of its first eight units in layers 1 (32x32), 2 (16x16) and 3 (8x8). Deeper maps are coarser; some deeper units respond to the square, others to the background or the image border.", "name": "fig-ch12-feature-maps"}, "image": {"alt": "Three rows (layers 1, 2, 3), each starting with the input, a magenta square on noisy grey-blue, then greyscale maps of eight units. Layer-1 maps are fine, some tracing or filling the square; layer-2 maps are blockier; layer-3 maps are coarse 8 x 8 grids with a few bright cells, not all on the square."}}
image, label = test_set[3]
layer_ends = {1: 3, 2: 7, 3: 11}  # index after each layer's ReLU in net
with torch.no_grad():
    maps = {k: net[:end](image[None])[0] for k, end in layer_ends.items()}
fig, axes = plt.subplots(3, 9, figsize=(9.5, 3.6))
for row, (k, fmap) in enumerate(maps.items()):
    axes[row, 0].imshow(image.permute(1, 2, 0).numpy())
    axes[row, 0].set_title(data.SHAPE_CLASSES[label] if row == 0 else "", fontsize=8)
    axes[row, 0].set_ylabel(f"layer {k}")
    for u in range(8):
        axes[row, u + 1].imshow(fmap[u].numpy(), cmap="gray")
        axes[row, u + 1].set_title(f"L{k} unit {u}", fontsize=7)
    for ax in axes[row]:
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# ### The patches that excite a unit most
#
# Zeiler and Fergus's recipe, as the lecture puts it: pick a unit, run many images through
# the network, and keep the image patches where the unit's activation is highest; then do
# the same for other units and deeper layers. The patch to cut out is the unit's
# **receptive field**, the input region that can influence it (Chapter 2): for a stack of
# layers with filter sizes $f_l$ and strides $s_l$,
#
# $$r_l = r_{l-1} + (f_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l, \qquad r_0 = j_0 = 1,$$ (eq-ch12-rf)
#
# where the *jump* $j_l$ is the distance in input pixels between neighbouring units of layer
# $l$. A unit at row $y$ of layer $l$ sees input rows $y\, j_l + o_l$ to $y\, j_l + o_l + r_l - 1$,
# where the offset $o_l = -\sum_{m \le l} p_m\, j_{m-1}$ comes from the zero padding $p_m$.
# `conv.receptive_field` gives $r$ and $j$ for our three layers:

# %%
# NBVAL_CHECK_OUTPUT
stacks = {  # (f, s, p) of every convolution and pooling up to each layer
    1: [(5, 1, 2)],
    2: [(5, 1, 2), (2, 2, 0), (3, 1, 1)],
    3: [(5, 1, 2), (2, 2, 0), (3, 1, 1), (2, 2, 0), (3, 1, 1)],
}
for k, layers in stacks.items():
    rf = conv.receptive_field([(f, s) for f, s, p in layers])  # (r_l, j_l) after each layer
    jumps_before = [1] + [j for _, j in rf[:-1]]
    offset = -sum(p * j for (f, s, p), j in zip(layers, jumps_before))
    r, j = rf[-1]
    print(f"layer {k}: receptive field {r}x{r} pixels, jump {j}, offset {offset}")
print("from the model:", [(r, j) for name, r, j in conv.receptive_field_of(net)])

# %% [markdown]
# A layer-1 unit sees $5 \times 5$ pixels, a layer-3 unit $20 \times 20$ of the $32 \times 32$
# image: deep units see whole shapes. First by hand, for unit 0 of layer 1: its activation
# map on all held-out images, each image's best position, the nine images with the highest
# maxima, and a $5 \times 5$ crop around each (padding by 2 first, so that the crop of a unit
# at row $y$ starts at row $y$ of the padded image).

# %%
images, classes = test_set.images, test_set.targets  # (500, 3, 32, 32), (500,)
with torch.no_grad():
    acts = {k: net[:end](images) for k, end in layer_ends.items()}

unit_map = acts[1][:, 0]  # (500, 32, 32)
best_per_image, best_pos = unit_map.reshape(len(images), -1).max(dim=1)
top_images = best_per_image.argsort(descending=True)[:9]
padded = F.pad(images, (2, 2, 2, 2))
crops = []
for i in top_images.tolist():
    y, x = divmod(int(best_pos[i]), 32)
    crops.append(padded[i, :, y : y + 5, x : x + 5])
crops = torch.stack(crops)

patches, values, where = style.top_activating_patches(acts[1], images, stacks[1], k=9, units=[0])
assert torch.equal(patches[0], crops)
assert torch.equal(where[0, :, 0], top_images)
print(
    "by hand and style.top_activating_patches: identical crops; top activations",
    [round(v, 2) for v in values[0].tolist()[:3]],
    "...",
)

# %% [markdown]
# The package's `style.top_activating_patches` does this for every unit and any depth.
# For layer 1 the crops are $5 \times 5$, for layer 2 $10 \times 10$, for layer 3
# $20 \times 20$ (crops that run off the image are padded with black).


# %%
def show_top_patches(layer, n_units=8, k=9):
    patches, _, _ = style.top_activating_patches(acts[layer], images, stacks[layer], k=k, units=range(n_units))
    fig, axes = plt.subplots(n_units, k, figsize=(0.75 * k, 0.75 * n_units + 0.4))
    for u in range(n_units):
        for t in range(k):
            axes[u, t].imshow(patches[u, t].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            axes[u, t].set_xticks([])
            axes[u, t].set_yticks([])
        axes[u, 0].set_ylabel(f"unit {u}", fontsize=7)
    r = patches.shape[-1]
    fig.suptitle(f"Layer {layer}: top {k} held-out patches ({r}x{r} px) of units 0-{n_units - 1}", fontsize=9)
    fig.tight_layout()
    return fig


# %% mystnb={"figure": {"caption": "Layer 1: for each of eight units (rows), the nine held-out 5x5 patches that activate it most. Most units pick a colour or a colour edge of one orientation; in this run units 0 and 3 fire where the zero padding meets the image at a corner (a border effect, see the text).", "name": "fig-ch12-top-layer1"}, "image": {"alt": "Grid of 8 rows (units 0 to 7) by 9 tiny 5 x 5 patches. Most rows repeat one colour or colour edge, e.g. yellow fill, a magenta band on top, a cyan stripe on the right. In rows 0 and 3 most patches have black padding bands along the top and left, or left and bottom."}}
fig = show_top_patches(1)

# %% mystnb={"figure": {"caption": "Layer 2: the top nine 10x10 patches of eight units. Units now prefer parts: a corner of a given colour, a straight side, a curved edge.", "name": "fig-ch12-top-layer2"}, "image": {"alt": "Grid of 8 rows (units 0 to 7) by 9 patches of 10 x 10 pixels, each holding part of a shape. Within a row the patches repeat a part, for example right-pointing magenta triangle tips (unit 0), cyan square areas (unit 2) or vertical left edges of shapes (unit 4)."}}
fig = show_top_patches(2)

# %% mystnb={"figure": {"caption": "Layer 3: the top nine 20x20 patches of eight units. A unit now sees a whole shape, and several units fire on one kind of shape (triangles, or circles) in whatever colour; units 2 and 4 respond to the black zero padding at the image border.", "name": "fig-ch12-top-layer3"}, "image": {"alt": "Grid of 8 rows (units 0 to 7) by 9 patches of 20 x 20 pixels, each holding a whole shape. Unit 0 shows only triangles and unit 3 only circles, in many colours; units 1 and 5 show mostly triangles; units 2 and 4 show shapes beside wide black padding bands at the image border."}}
fig = show_top_patches(3)

# %% [markdown]
# This is the lecture's picture at a toy scale: layer-1 units detect colours and edges,
# layer-2 units combine them into parts, layer-3 units respond to whole objects.
#
# Two rows of {numref}`fig-ch12-top-layer1` break the pattern, and they are worth a look. In
# our run, most top patches of units 0 and 3 hang over a corner of the image (top-left for
# unit 0, bottom-left for unit 3): the black bands are not part of the image but the zero
# padding that the $5 \times 5$ convolution adds around it (two rows and columns on each side).
# These units respond most where two sides of the window are padding, a step from zero to the
# background's colours that exists only because of the padding. That is a **border effect**:
# with zero padding, what a unit reports depends on where it sits, and near the edges it can
# report the padding rather than the content. Keep it in mind when you read the maps of real
# networks: a strong response along the border or in a corner is often the padding talking.
#
# One way to put a number on "more object-like" is **class purity**: for each unit, the share of its
# nine top images that belong to the unit's most frequent class (1/3 would be chance for
# balanced classes; colour-driven units of layer 1 pick images regardless of shape).

# %%
purity = {}
for layer in (1, 2, 3):
    _, _, where = style.top_activating_patches(acts[layer], images, stacks[layer], k=9)
    top_classes = classes[where[:, :, 0]]  # (units, 9)
    majority = torch.mode(top_classes, dim=1).values
    purity[layer] = (top_classes == majority[:, None]).float().mean().item()
    print(
        f"layer {layer}: mean class purity of the top-9 patches over {acts[layer].shape[1]} units = {purity[layer]:.2f}"
    )
claim("ch12.purity.layer3_minus_layer1", purity[3] - purity[1], low=0.1)
_ = claim("ch12.purity.layer3", purity[3], low=0.75)
# %% [markdown]
# Deeper units are more class-selective, measured on images the network never trained on.
#
# ```{note}
# Zeiler and Fergus showed more than the patches: with a *deconvnet* they projected each
# unit's activation back to pixel space, highlighting which pixels inside the patch made it
# fire. The lecture's slides (layers 1 to 5 of an ImageNet network) show the patches. For a
# big network you would record the activations batch by batch instead of holding all of
# them, as we do with 500 small images.
# ```
#
# ## Part 2: neural style transfer
#
# ### The cost function
#
# Neural style transfer takes a content image $C$ and a style image $S$ and looks for a
# generated image $G$ that has the content of $C$ painted in the style of $S$. "Content" and
# "style" are both measured on the activations of a trained network, and $G$ is found by
# minimising
#
# $$J(G) = \alpha\, J_\text{content}(C, G) + \beta\, J_\text{style}(S, G)$$ (eq-ch12-total)
#
# over the pixels of $G$: start from a random (or the content) image, and repeat
# $G \leftarrow G - \eta\, \partial J / \partial G$. The network's weights stay fixed; the
# image is the parameter. $\alpha$ and $\beta$ set the trade-off (only their ratio matters).
#
# ### Content cost
#
# Choose one hidden layer $l$, neither the first (which would copy pixels) nor the last
# (which only keeps "a cat is there"). Write $a^{[l](C)}$ and $a^{[l](G)}$ for its activations,
# of shape $n_H \times n_W \times n_C$ (in PyTorch `(n_C, n_H, n_W)`). If they are close, $C$
# and $G$ have similar content:
#
# $$J_\text{content}(C, G) = \frac{1}{2} \sum_{i, j, k} \left(a^{[l](C)}_{ijk} - a^{[l](G)}_{ijk}\right)^2
#   = \frac{1}{2} \left\lVert a^{[l](C)} - a^{[l](G)} \right\rVert^2 .$$ (eq-ch12-content)
#
# The $\tfrac{1}{2}$ is Gatys et al.'s and the lecture's; it makes the gradient simply
# $\partial J_\text{content} / \partial a^{[l](G)} = a^{[l](G)} - a^{[l](C)}$. The Coursera
# assignment normalises instead by $\frac{1}{4 n_H n_W n_C}$, which makes the cost independent
# of the layer's size. The two differ by a constant factor, which $\alpha$ absorbs; the
# package offers both (`norm="half"` and `norm="size"`).
#
# ```{warning}
# **A slip in the lecture.** The slide writes $J_\text{content}(C, G) = \frac{1}{2}
# (a^{[l](C)} - a^{[l](G)})^2$, the square of a *tensor*, not a number. The cost is the sum of the
# squared differences over all $n_H n_W n_C$ entries, i.e. the squared norm in
# {eq}`eq-ch12-content`.
# ```
#
# A worked example on two tiny activations with $n_H = n_W = 2$ and $n_C = 2$:

# %%
# NBVAL_CHECK_OUTPUT
a_C = torch.tensor([[[[2.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 2.0]]]])  # (1, n_C=2, n_H=2, n_W=2)
a_G = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]]])
a_S = torch.tensor([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]]]])
squared = ((a_C - a_G) ** 2).sum()
print(f"sum of squared differences: {squared.item():.0f}")
print(f"1/2 normalisation:          {squared.item() / 2:.4f}   package: {style.content_cost(a_C, a_G).item():.4f}")
print(
    f"1/(4 n_H n_W n_C) = 1/32:   {squared.item() / 32:.4f}   package: "
    f"{style.content_cost(a_C, a_G, norm='size').item():.4f}"
)

# %% [markdown]
# ### The Gram matrix: style as correlations between channels
#
# What is "style"? Gatys et al.'s answer: which features occur *together*, wherever they are.
# If channel $k$ detects vertical strokes and channel $k'$ detects orange, a style with orange
# vertical strokes makes the two fire at the same positions. The **Gram matrix** of layer $l$
# on image $S$ collects these co-activations for every pair of channels:
#
# $$\mathcal{G}^{[l](S)}_{kk'} = \sum_{i=1}^{n_H} \sum_{j=1}^{n_W} a^{[l](S)}_{ijk}\, a^{[l](S)}_{ijk'},
# \qquad k, k' = 1, \dots, n_C .$$ (eq-ch12-gram)
#
# It is $n_C \times n_C$, whatever the image size: summing over the positions $i, j$ throws
# away *where* things are and keeps *what goes with what*, which is why it captures texture
# and colour but not layout. Flattening the activations to a matrix $A$ of shape
# $n_C \times n_H n_W$, the Gram matrix is $A A^\top$. Three ways, which must agree:


# %%
def gram_loops(a):
    """Gram matrix by the definition: a (n_C, n_H, n_W) -> (n_C, n_C)."""
    n_c, n_h, n_w = a.shape
    gram = torch.zeros(n_c, n_c)
    for k in range(n_c):
        for k2 in range(n_c):
            for i in range(n_h):
                for j in range(n_w):
                    gram[k, k2] += a[k, i, j] * a[k2, i, j]
    return gram


x = torch.randn(1, 6, 5, 4, generator=torch.Generator().manual_seed(0))
A = x[0].reshape(6, 20)
assert torch.allclose(gram_loops(x[0]), A @ A.T, atol=1e-5)
assert torch.allclose(torch.einsum("nkij,nlij->nkl", x, x), style.gram_matrix(x), atol=1e-5)
assert torch.allclose(style.gram_matrix(x)[0], A @ A.T, atol=1e-5)
print("loops, A @ A.T, einsum and style.gram_matrix agree; shape", tuple(style.gram_matrix(x).shape))

# %% [markdown]
# ```{warning}
# **Slips in the lecture's Gram formula.** The slide writes the matrix of the *style* image,
# $\mathcal{G}^{[l](S)}$, on the left but sums activations $a^{[l](G)}$ of the *generated* image on
# the right; both sides must use the same image (the formula is applied twice, once to $S$ and
# once to $G$). It also calls $n_H$ and $n_W$ the "height and width of the Gram matrix": they are
# the height and width of the layer's *activation*; the Gram matrix is $n_C \times n_C$.
# ```
#
# On the tiny example (the entries are integers, so they are easy to check by hand: e.g.
# $\mathcal{G}^{(S)}_{11} = 1 + 0 + 4 + 1 = 6$):

# %%
# NBVAL_CHECK_OUTPUT
print("Gram(S) =", style.gram_matrix(a_S)[0].int().tolist())
print("Gram(G) =", style.gram_matrix(a_G)[0].int().tolist())

# %% [markdown]
# ### Style cost
#
# The style cost of layer $l$ compares the two Gram matrices entry by entry:
#
# $$J^{[l]}_\text{style}(S, G) = \frac{1}{(2\, n_H n_W n_C)^2} \sum_{k=1}^{n_C} \sum_{k'=1}^{n_C}
#   \left(\mathcal{G}^{[l](S)}_{kk'} - \mathcal{G}^{[l](G)}_{kk'}\right)^2 .$$ (eq-ch12-style-layer)
#
# The constant is Gatys et al.'s $\frac{1}{4 N_l^2 M_l^2}$ with $N_l = n_C$ channels and $M_l = n_H n_W$
# positions, the same number: the lecture's normalisation is right. (Each Gram entry is a sum of
# $n_H n_W$ products, so dividing by $n_H n_W$ roughly removes the dependence on the image size.)
# Several layers together, from fine textures (early layers) to larger motifs (deeper ones),
# weighted by $\lambda^{[l]}$:
#
# $$J_\text{style}(S, G) = \sum_l \lambda^{[l]}\, J^{[l]}_\text{style}(S, G).$$ (eq-ch12-style)
#
# ```{note}
# The lecture gives only the one-layer cost and calls it $J_\text{style}(S, G)$; the sum over layers
# with weights $\lambda^{[l]}$ is the form Gatys et al. (and the Coursera course) use, with equal
# $\lambda^{[l]}$ on `conv1_1` to `conv5_1`.
# ```
#
# The tiny example: $(2 \cdot 2 \cdot 2 \cdot 2)^2 = 256$, and the differences of the Gram matrices
# above are $3, 2, 2, 6$, so $J_\text{style} = (9 + 4 + 4 + 36) / 256$. Then the total cost
# {eq}`eq-ch12-total` with the Coursera assignment's $\alpha = 10$, $\beta = 40$, and a two-layer
# style cost (the same layer twice, with $\lambda = 0.3$ and $0.7$, must give the one-layer cost back):

# %%
# NBVAL_CHECK_OUTPUT
j_style_layer = style.layer_style_cost(a_S, a_G)
diff = style.gram_matrix(a_S) - style.gram_matrix(a_G)
print(f"by hand: {(diff**2).sum().item():.0f} / {(2 * 2 * 2 * 2) ** 2} = {(diff**2).sum().item() / 256:.8f}")
print(f"style.layer_style_cost:   {j_style_layer.item():.8f}")
j_style = style.style_cost({"a": a_S, "b": a_S}, {"a": a_G, "b": a_G}, weights={"a": 0.3, "b": 0.7})
print(f"style.style_cost, lambda = 0.3 + 0.7: {j_style.item():.8f}")
j_content = style.content_cost(a_C, a_G)
print(
    f"J(G) = 10 * {j_content.item():.1f} + 40 * {j_style.item():.8f} = "
    f"{style.total_cost(j_content, j_style, alpha=10, beta=40).item():.5f}"
)

# %% [markdown]
# ### Gradients with respect to the activations
#
# Gradient descent needs $\partial J / \partial G$; autograd gets it by the chain rule through the
# network, starting from the derivatives of the costs with respect to the activations. These have
# closed forms worth knowing (Gatys et al. give them): with $A$ the $n_C \times n_H n_W$ matrix of
# $G$'s activations,
#
# $$\frac{\partial J_\text{content}}{\partial a^{[l](G)}} = a^{[l](G)} - a^{[l](C)}, \qquad
#   \frac{\partial J^{[l]}_\text{style}}{\partial A} = \frac{-4}{(2 n_H n_W n_C)^2}
#   \left(\mathcal{G}^{[l](S)} - \mathcal{G}^{[l](G)}\right) A .$$ (eq-ch12-grads)
#
# Checked against autograd on random activations:

# %%
gen = torch.Generator().manual_seed(1)
a_c, a_s = torch.randn(1, 4, 3, 5, generator=gen), torch.randn(1, 4, 3, 5, generator=gen)
a_g = torch.randn(1, 4, 3, 5, generator=gen, requires_grad=True)
(grad_content,) = torch.autograd.grad(style.content_cost(a_c, a_g), a_g)
(grad_style,) = torch.autograd.grad(style.layer_style_cost(a_s, a_g), a_g)
A_g = a_g.detach()[0].reshape(4, 15)
by_formula = -4 / (2 * 3 * 5 * 4) ** 2 * (style.gram_matrix(a_s)[0] - A_g @ A_g.T) @ A_g
assert torch.allclose(grad_content, a_g.detach() - a_c)
assert torch.allclose(grad_style[0].reshape(4, 15), by_formula, atol=1e-6)
assert torch.isfinite(grad_style).all()
print("autograd agrees with the closed-form gradients of the content and style costs")

# %% [markdown]
# ### VGG-19 features, trained or not
#
# Gatys et al. measure content and style on VGG-19 trained on ImageNet: content on `conv4_2`,
# style on `conv1_1`, `conv2_1`, `conv3_1`, `conv4_1` and `conv5_1` (their "conv" layers are the
# rectified outputs, named `reluB_I` here). `style.VGGFeatures` builds VGG-19's convolutional part
# only up to the deepest layer asked for, standardises the input with ImageNet's statistics and
# returns a dict of activations. Its ImageNet weights (548 MB) are downloaded only when downloads
# are switched on (`CVBOOK_ONLINE=1`) and the server answers; otherwise the chapter falls back to
# **random weights**, with a notice:

# %%
pretrained = style.pretrained_available()
if pretrained:
    print("Using VGG-19 with its ImageNet weights.")
else:
    print(
        "Notice: VGG-19's ImageNet weights are not available (downloads are off or the server does "
        "not answer); using VGG-19 with random weights. Set CVBOOK_ONLINE=1 for the real thing."
    )
style_layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
content_layer = "relu4_2" if pretrained else "relu3_1"
extractor = style.VGGFeatures(style_layers + [content_layer], pretrained=pretrained, pool="avg")
print(
    f"{len(extractor.body)} of VGG-19's 37 feature layers kept (up to {style.VGG19_LAYERS[len(extractor.body) - 1]}), "
    f"{sum(p.numel() for p in extractor.parameters()):,} parameters"
)

# %% [markdown]
# Two of these choices are ours, not Gatys et al.'s: we leave out `conv5_1` from the style layers,
# which lets the extractor stop after block 4 (each step is cheaper), and with random weights we
# take the content from `relu3_1`, one block earlier than their `conv4_2`. The average pooling is
# theirs: they suggest it for image synthesis (max pooling passes gradients to one pixel of four,
# which gives blotchier images).
#
# ```{note}
# **What changes with random weights.** A random convolution is still a bank of local
# filters, and the correlations between random filter responses still describe local colour and
# texture statistics; random multi-layer features are known to synthesise convincing textures
# {cite}`ustyuzhaninov2017what`. So colours and fine textures transfer. What random weights lack
# is what ImageNet training gives the deep layers: detectors of eyes, fur, wheels. The "content"
# of a random deep layer is only a blurred, scrambled version of the pixels, so the content
# structure is kept weakly, and no *semantic* part is restyled as a whole. The ImageNet-trained
# network gives markedly better images; run the notebook online to compare. (The numbers below are
# from the random network: the notebook is tested offline.)
# ```
#
# ### The images
#
# The content image is the cat of scikit-image (`chelsea`), the style image a stained tissue
# sample (`immunohistochemistry`): brown cell walls with blue nuclei on white, a strongly
# textured, colourful image. Both are cropped to a square and resized to $128 \times 128$, which
# keeps a step under a tenth of a CPU-second.

# %% mystnb={"image": {"alt": "Two square photos side by side: a close-up of a tabby cat's face with green-yellow eyes and a pink nose (content C), and a stained tissue sample with brown-outlined cell clusters and small blue specks on white (style S)."}}
SIZE = 128


def load_square(name, size=SIZE):
    """A sample photo as a (1, 3, size, size) tensor in [0, 1], centre-cropped to a square."""
    t = data.image_to_tensor(data.sample_image(name))
    if t.shape[0] == 1:
        t = t.repeat(3, 1, 1)
    _, h, w = t.shape
    s = min(h, w)
    t = t[:, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return F.interpolate(t[None], size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)


content_image, style_image = load_square("chelsea"), load_square("immunohistochemistry")
fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
for ax, img, title in zip(axes, (content_image, style_image), ("content C", "style S")):
    ax.imshow(img[0].permute(1, 2, 0).numpy())
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ### Weights that make the layers comparable
#
# The raw costs of different layers differ by orders of magnitude (layers differ in size, and with
# random weights in scale too). We measure each cost *relative to a black image*: the layer weight
# $\lambda^{[l]}$ is $1 / (L\, J^{[l]}_\text{style}(S, \text{black}))$ (`style.balanced_style_weights`,
# $L = 4$ layers), and $\alpha = 1 / J_\text{content}(C, \text{black})$. Then
# both costs read as relative errors, and $\beta / \alpha$ says how much more the style counts.
# This is the book's scheme, not Gatys et al.'s: they weight their five style layers equally,
# $\lambda^{[l]} = 1/5$ from `conv1_1` to `conv5_1`. With equal weights the layer with the
# largest raw cost would dominate; below, the black-image costs of our four layers span more than
# two orders of magnitude (and with random weights the scale of a layer is set by its random
# initialisation, not by training), so we rescale every layer to count alike.

# %%
with torch.no_grad():
    feats_C, feats_S = extractor(content_image), extractor(style_image)
lambdas = style.balanced_style_weights(feats_S, style_layers)
black = torch.zeros_like(feats_C[content_layer])
alpha = 1.0 / style.content_cost(feats_C[content_layer], black).item()
beta = 100.0
for name in style_layers:
    print(
        f"{name}: activation {tuple(feats_S[name].shape[1:])}, "
        f"J_style(S, black) = {style.layer_style_cost(feats_S[name], torch.zeros_like(feats_S[name])).item():.3g}, "
        f"lambda = {lambdas[name]:.3g}"
    )
print(f"alpha = {alpha:.3g}, beta = {beta}")

# %% [markdown]
# ### One gradient step on the pixels
#
# Before the loop, one step by hand, to see that the image really is the parameter: start from the
# content image, compute $J(G)$, back-propagate to the pixels, and step against the gradient. The
# gradient has the image's shape; the cost goes down.

# %%
G = content_image.clone().requires_grad_(True)


def cost_of(image):
    feats = extractor(image)
    j_c = style.content_cost(feats_C[content_layer], feats[content_layer])
    j_s = style.style_cost(feats_S, feats, lambdas)
    return style.total_cost(j_c, j_s, alpha, beta)


j_before = cost_of(G)
j_before.backward()
print("dJ/dG has shape", tuple(G.grad.shape))
with torch.no_grad():
    G_step = (G - 0.02 * G.grad.sign()).clamp(0, 1)  # a step of 0.02 per pixel, against the gradient
    j_after = cost_of(G_step)
print(f"J(G) before: {j_before.item():.3f}, after one step: {j_after.item():.3f}")
_ = claim("ch12.one_step.cost_decrease", (j_before - j_after).item(), low=0.0)
# %% [markdown]
# ```{warning}
# **A slip in the lecture.** The update is written $G := G - \frac{\partial J(G)}{\partial G}$, without a
# learning rate. A step size is needed (and with the lecture's symbols, not $\alpha$, which already
# weights the content cost). Above we took a step of fixed size per pixel along the gradient's sign;
# the loop below uses Adam {cite}`kingma2015adam`, whose steps are also about `lr` per pixel.
# Gatys et al. used L-BFGS, which `style.style_transfer(..., optimizer="lbfgs")` offers too.
# ```
#
# ### Style transfer
#
# `style.style_transfer` runs the loop: 120 Adam steps of learning rate 0.02 on the pixels,
# starting from the content image, clamping $G$ to $[0, 1]$ after each step, recording both costs and
# keeping snapshots of $G$.

# %%
STEPS = 120
start = time.process_time()
result = style.style_transfer(
    content_image,
    style_image,
    extractor,
    content_layer=content_layer,
    style_weights=lambdas,
    alpha=alpha,
    beta=beta,
    steps=STEPS,
    lr=0.02,
    init="content",
    noise=0.0,
    snapshot_at=[0, 10, 30, 100],
)
print(
    f"{STEPS} steps at {SIZE}x{SIZE}: {result.seconds_per_step * 1000:.0f} ms per step (wall), "
    f"{time.process_time() - start:.1f} CPU-s in all"
)

# %% mystnb={"figure": {"caption": "The content and style costs during style transfer (log scale; each is unweighted, J_style includes the layer weights). The style cost falls by orders of magnitude in the first hundred steps; the content cost rises from zero, since G starts as the content image, as G gives up some content for style.", "name": "fig-ch12-costs"}, "image": {"alt": "Two line plots against step, 0 to 120. Left, log scale: the style cost falls from about 0.6 to below 0.001, with a brief bump near step 25. Right: the content cost rises from 0 to about 500 by step 20, then declines slowly to about 420."}}
h = result.history
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].semilogy(h["step"], h["style"], color="C1")
axes[0].set_title("style cost $J_{style}(S, G)$")
axes[1].plot(h["step"], h["content"], color="C0")
axes[1].set_title("content cost $J_{content}(C, G)$")
for ax in axes:
    ax.set_xlabel("step")
    ax.set_ylabel("cost")
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% mystnb={"figure": {"caption": "The generated image G during gradient descent, from the content image (step 0) to step 120, with the content and style images for reference. The tissue's pale background washes over the cat and a fine multicoloured speckle covers it, while its outline, eyes, nose and stripes stay in place; the brown, striped texture of the tissue does not appear.", "name": "fig-ch12-result"}, "image": {"alt": "Six square images in a row: the cat photo, the tissue sample, then the generated image at steps 10, 30, 100 and 120. The cat's eyes, nose and stripes stay in place while the picture turns pale grey-white and fills with fine red, orange and green speckle; steps 100 and 120 look nearly the same."}}
panels = [(content_image, "content C"), (style_image, "style S")]
panels += [(snap, f"step {step}") for step, snap in result.snapshots.items() if step > 0]
panels += [(result.image, f"G, step {STEPS}")]
fig, axes = plt.subplots(1, len(panels), figsize=(2.1 * len(panels), 2.5))
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img[0].permute(1, 2, 0).numpy())
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# The claim "G took on the style" as numbers: the style cost fell by a large factor, and, layer by
# layer, the Gram matrix of $G$ is now much closer to the style image's than to the content
# image's (distances relative to the size of the style's Gram matrix):

# %%
with torch.no_grad():
    feats_G = extractor(result.image)
drop = h["style"][0] / h["style"][-1]
print(f"style cost: {h['style'][0]:.3g} -> {h['style'][-1]:.3g} (divided by {drop:.0f})")
for name in style_layers:
    gram_S, gram_C, gram_G = (style.gram_matrix(f[name]) for f in (feats_S, feats_C, feats_G))
    to_style = ((gram_G - gram_S).norm() / gram_S.norm()).item()
    to_content = ((gram_G - gram_C).norm() / gram_S.norm()).item()
    print(
        f"{name}: |Gram(G) - Gram(S)| = {to_style:.3f}, |Gram(G) - Gram(C)| = {to_content:.3f}  "
        f"(C vs S: {((gram_C - gram_S).norm() / gram_S.norm()).item():.3f})"
    )
    claim("ch12.transfer.gram_to_style_over_to_content", to_style / to_content, high=0.5)
_ = claim("ch12.transfer.style_cost_drop_ratio", drop, low=50)
# %% [markdown]
# ```{note}
# **Against published results.** Style transfer has no accuracy to compare with. Gatys et al.
# {cite}`gatys2016image` judge their images by eye, showing how a result changes with the ratio
# $\alpha / \beta$ and with the choice of layers; the cost is what the optimiser minimises, not a
# score. Our numbers are costs as well: the falling style cost and the Gram matrices moving
# towards the style's show that the optimisation worked, not that the image is good, and with
# random weights and layer weights set against a black image they mean nothing outside this setup.
# What this offline run cannot show is what the paper's figures rest on: ImageNet-trained VGG-19
# features, whose deep layers keep the objects of the photo recognisable under the new style.
# ```
#
# ### Starting from noise, as in the lecture
#
# The lecture initialises $G$ randomly. Starting from uniform noise with the same costs, the style
# statistics are reached again, but with random weights the content layer holds the cat only
# weakly: the result is mostly a texture in the style's colours with a faint trace of the cat's
# darker regions. With ImageNet weights, the content layer pulls the cat's shapes out of the noise.

# %%
noise_result = style.style_transfer(
    content_image,
    style_image,
    extractor,
    content_layer=content_layer,
    style_weights=lambdas,
    alpha=alpha,
    beta=beta,
    steps=STEPS,
    lr=0.05,
    init="noise",
    generator=torch.Generator().manual_seed(0),
    snapshot_at=[0],
)
hn = noise_result.history
print(
    f"from noise: style cost {hn['style'][0]:.3g} -> {hn['style'][-1]:.3g}, "
    f"content cost {hn['content'][0]:.3g} -> {hn['content'][-1]:.3g}"
)
print(f"from the content image: content cost {h['content'][0]:.3g} -> {h['content'][-1]:.3g}")
claim("ch12.noise.style_cost_drop_ratio", hn["style"][0] / hn["style"][-1], low=50)
_ = claim("ch12.noise.content_cost_ratio", hn["content"][-1] / h["content"][-1], low=0.7, high=1.3)  # about as close

# %% [markdown]
# The numbers expose the weakness of random features: measured by the random `relu3_1`, the texture
# grown from noise (which shows no cat at all, below) is about as close to the cat's "content" as the
# restyled cat. A random layer is a poor judge of content; the structure of the first result is
# there mostly because $G$ *started* as the cat.

# %% mystnb={"figure": {"caption": "Starting from noise (left): after 120 steps the result has the style's pale background and brown tones but neither the tissue's texture nor any recognisable cat; starting from the content image (right) keeps the cat's structure.", "name": "fig-ch12-noise"}, "image": {"alt": "Three square images: random coloured noise at step 0; the result grown from noise after 120 steps, a pale grey-white texture with scattered brown-orange blotches and no recognisable cat shape; and the result started from the cat photo, a pale speckled cat face with eyes and nose intact."}}
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
for ax, (img, title) in zip(
    axes,
    [
        (noise_result.snapshots[0], "noise, step 0"),
        (noise_result.image, f"from noise, step {STEPS}"),
        (result.image, f"from C, step {STEPS}"),
    ],
):
    ax.imshow(img[0].permute(1, 2, 0).numpy())
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Key takeaways
#
# - First-layer filters can be shown as pictures (here: colours and colour edges); deeper units are
#   shown through the inputs that excite them. The crop is the unit's receptive field, **5, 10 and
#   20** pixels for our layers 1, 2, 3.
# - The top patches go from colours and edges (layer 1) to parts (layer 2) to whole shapes
#   (layer 3); deeper units are more class-selective on held-out images.
# - Neural style transfer minimises $J(G) = \alpha J_\text{content} + \beta J_\text{style}$ over the
#   pixels of $G$, with the network frozen.
# - $J_\text{content} = \frac{1}{2}\lVert a^{[l](C)} - a^{[l](G)}\rVert^2$ (or normalised by
#   $\frac{1}{4 n_H n_W n_C}$); a sum over all entries.
# - The Gram matrix $\mathcal{G}_{kk'} = \sum_{i,j} a_{ijk} a_{ijk'}$ ($n_C \times n_C$) keeps which
#   channels fire together and forgets where; $J^{[l]}_\text{style} = \frac{1}{(2 n_H n_W n_C)^2}
#   \lVert \mathcal{G}^{(S)} - \mathcal{G}^{(G)} \rVert^2$, summed over layers with weights $\lambda^{[l]}$.
#   On the tiny example: content cost **3** (or **0.1875**), style cost **53/256 = 0.20703125**,
#   $J = 38.28125$ with $\alpha = 10, \beta = 40$.
# - Offline, random VGG-19 weights still transfer colours and textures (the style cost fell by a
#   large factor and the Gram matrices of $G$ moved close to the style's), but content is kept weakly
#   and nothing semantic is restyled; ImageNet weights do better. The costs show that the
#   optimiser worked, not that the image is good: as Gatys et al. do, judge the result by eye.
#
# ## Exercises
#
# The exercise notebook asks you to write the Gram matrix, the style cost of one layer, the content
# cost with both normalisations, the total cost with layer weights, and one gradient step on the
# pixels of an image.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch12/ch12_exercises.ipynb)
# or on GitHub:
# [`exercises/ch12/ch12_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch12/ch12_exercises.ipynb).
