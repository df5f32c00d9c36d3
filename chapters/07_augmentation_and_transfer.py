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
# # Data augmentation and transfer learning
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/07_augmentation_and_transfer.ipynb)
#
# In vision there is almost never enough labelled data. This chapter is about the two
# tools practitioners reach for first when data is short. **Data augmentation** makes new
# training images out of the ones you have (mirrored, cropped, rotated, sheared, warped,
# re-coloured) so the network learns what should *not* matter. **Transfer learning** starts
# from a network that somebody trained on a large dataset, replaces its head and trains
# only what your data can support. We build the colour augmentations from scratch (the
# lectures' channel shifts and AlexNet's PCA colour augmentation {cite}`krizhevsky2012imagenet`),
# measure what augmentation buys with little data, compare training from scratch, a frozen
# feature extractor and fine-tuning on a small target task, go through the same workflow
# with a torchvision backbone, and measure the two benchmark tricks of the lectures,
# ensembling and multi-crop testing, together with what they cost at inference. It follows
# lectures 004, 002, 001 and 003 {cite}`ng_case_studies,safayani_deeplearning,cnn_recap_lecture,detection_eval_notes`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - apply mirroring, random cropping, rotation, shearing, elastic warping and colour
#   shifts with `torchvision.transforms.v2`, on uint8 and float images;
# - implement colour shifting with clipping and AlexNet's PCA colour augmentation, and
#   check them against a NumPy reference;
# - explain how augmentation runs in `DataLoader` workers, in parallel with training;
# - measure the effect of augmentation when data is scarce;
# - transfer a pre-trained network to a small task: replace the head, freeze layers,
#   train on pre-computed features, fine-tune, and count the trainable parameters;
# - measure ensembling and 10-crop testing, and their cost at inference;
# - choose a backbone from the usual families.

# %% [markdown]
# ## Setup

# %%
import copy
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.transforms import v2

from cvbook import augment, data, device, models, plot, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## Why augment?
#
# A network learns whatever separates its training labels. With a few hundred images it
# also learns accidents of those images: that cats in the training set face left, sit
# in the centre, were photographed under warm light. Augmentation removes such accidents
# by showing the same image under transformations that **do not change the label**. Each
# transformation is a statement about the task: mirroring says "left and right do not
# matter", a colour shift says "the lighting does not matter". That is also the limit of
# augmentation: a mirrored 2 is not a 2, and a hue shift ruins a task about ripe and
# unripe fruit. The amount of each transformation (the maximum angle, the range of the
# colour shift) is a hyper-parameter.
#
# The lectures list the common ones: **mirroring**, **random cropping**, **rotation**,
# **shearing**, **local warping** and **colour shifting**. torchvision implements them as
# transforms in `torchvision.transforms.v2`; each draws its random parameters at every
# call, and works on uint8 or float tensors `(C, H, W)` (or batches). Here they are on a
# real photo:

# %% mystnb={"figure": {"caption": "The geometric augmentations of the lectures on one photo, each drawn at random by a torchvision transforms v2 object: a horizontal mirror, two random resized crops, a rotation, a shear, an elastic (local) warp and a shift. The label, cat, never changes.", "name": "fig-ch07-geometric"}, "image": {"alt": "Grid of eight versions of a close-up photo of a tabby cat's face: original, mirrored, two zoomed-in random crops, a tilted rotation and a shear with black corners where the frame is empty, a slightly wavy elastic warp, and a shifted copy with a black band along two edges."}}
cat = torch.from_numpy(data.sample_image("chelsea")).permute(2, 0, 1).contiguous()  # uint8 (3, 300, 451)
geometric = {
    "original": v2.Identity(),
    "mirrored": v2.RandomHorizontalFlip(p=1.0),
    "random crop 1": v2.RandomResizedCrop((300, 451), scale=(0.3, 1.0), antialias=True),
    "random crop 2": v2.RandomResizedCrop((300, 451), scale=(0.3, 1.0), antialias=True),
    "rotated (<= 30 deg)": v2.RandomRotation(30),
    "sheared (<= 25 deg)": v2.RandomAffine(degrees=0, shear=25),
    "elastic warp": v2.ElasticTransform(alpha=120.0, sigma=9.0),
    "shifted (<= 15 %)": v2.RandomAffine(degrees=0, translate=(0.15, 0.15)),
}
device.seed_everything(1)
shown = [t(cat) for t in geometric.values()]
print({name: tuple(img.shape) for name, img in zip(geometric, shown)})
fig = plot.show_images([img.float() / 255 for img in shown], list(geometric), ncols=4, size=2.6)
# %% [markdown]
# `RandomResizedCrop` picks a rectangle covering a random fraction of the image (here 30 %
# to 100 %, with a random aspect ratio) and resizes it to the output size. This form of the
# lectures' "random cropping" comes from GoogLeNet's training (crops of 8 % to 100 % of the
# area, aspect ratios between 3/4 and 4/3, the transform's defaults) {cite}`szegedy2015going`;
# ResNet was trained with a simpler *scale jittering* instead: resize the image so that its
# shorter side is a random length in $[256, 480]$, then take a random $224 \times 224$ crop
# {cite}`he2016deep`. `RandomAffine` combines rotation, translation, scaling and shear;
# `ElasticTransform` moves every pixel
# by a smooth random displacement field (uniform random noise smoothed by a Gaussian blur
# of width `sigma` pixels, its strength set by `alpha`), the local warping used for handwriting
# {cite}`simard2003best`. The pixels that enter the frame are filled with black (`fill=0`).
#
# ## Colour shifting
#
# The lectures' colour augmentation adds a number to each of the R, G and B values of
# every pixel: with $(+20, -20, +20)$ the picture gets more red and blue and less green,
# i.e. more purple; the slides also show $(-20, +20, +20)$ and $(+5, 0, +50)$. On 8-bit
# images the result must be **clipped** to $[0, 255]$:
#
# $$x'_{c}(i, j) = \min\big(255, \max(0,\; x_{c}(i, j) + s_c)\big),\qquad c \in \{R, G, B\}.$$ (eq-ch07-shift)
#
# A from-scratch version in NumPy, on four pixels chosen to hit both ends of the range:

# %%
# NBVAL_CHECK_OUTPUT
pixels = np.array(
    [[[100, 100, 100], [250, 10, 250]], [[5, 240, 128], [0, 255, 30]]], dtype=np.uint8
)  # (H, W, 3) = (2, 2, 3)


def colour_shift_numpy(image, shift):
    """(H, W, 3) uint8 -> (H, W, 3) uint8: add shift[c] to channel c, clip to [0, 255]."""
    return np.clip(image.astype(np.int16) + np.asarray(shift, dtype=np.int16), 0, 255).astype(np.uint8)


for shift in [(20, -20, 20), (-20, 20, 20), (5, 0, 50)]:
    print(f"shift {str(shift):15s} ->", colour_shift_numpy(pixels, shift).reshape(-1, 3).tolist())
print(
    "without clipping, uint8 wraps around: 250 + 20 =",
    (np.uint8(250) + np.array(20, dtype=np.uint8)).item(),
    "and 10 - 20 =",
    (np.uint8(10) - np.array(20, dtype=np.uint8)).item(),
)

# %% [markdown]
# The pixel $(100, 100, 100)$ becomes $(120, 80, 120)$; $(250, 10, 250)$ is clipped to
# $(255, 0, 255)$. The last line is the bug to avoid: arithmetic on `uint8` wraps around
# modulo 256, so a slightly bright red would turn almost black. Convert to a wider type
# first, or work on floats in $[0, 1]$ (where the shifts are $s_c / 255$).
#
# The package's `augment.colour_shift` takes uint8 or float images `(3, H, W)` or
# `(N, 3, H, W)` and shifts on the 0-255 scale; it agrees with the NumPy version on a real
# photo, for both dtypes:

# %%
# NBVAL_CHECK_OUTPUT
coffee = data.sample_image("coffee")  # uint8 (400, 600, 3)
coffee_t = torch.from_numpy(coffee).permute(2, 0, 1).contiguous()
for shift in [(20, -20, 20), (-20, 20, 20), (5, 0, 50)]:
    reference = torch.from_numpy(colour_shift_numpy(coffee, shift)).permute(2, 0, 1)
    as_uint8 = augment.colour_shift(coffee_t, shift)
    as_float = augment.colour_shift(coffee_t.float() / 255, shift)
    print(
        f"{str(shift):15s} uint8 identical: {torch.equal(as_uint8, reference)}, "
        f"float max difference: {(as_float * 255 - reference.float()).abs().max().item():.4f}"
    )

# %% mystnb={"figure": {"caption": "The lectures' colour shifts on a photo (0-255 scale): (+20, -20, +20) pushes it towards magenta, (-20, +20, +20) towards a darker, greener cast, (+5, 0, +50) towards pink-violet. A network trained with such shifts learns that the object does not depend on the lighting.", "name": "fig-ch07-colour-shift"}, "image": {"alt": "Four copies of a photo of an espresso cup on a red saucer on a wooden table: the original, a pinkish-purple tinted copy, a darker greenish-tinted copy and a copy with a slight pink-magenta cast."}}
shifts = [(0, 0, 0), (20, -20, 20), (-20, 20, 20), (5, 0, 50)]
fig = plot.show_images(
    [augment.colour_shift(coffee_t, s).float() / 255 for s in shifts],
    ["original" if s == (0, 0, 0) else f"R{s[0]:+d} G{s[1]:+d} B{s[2]:+d}" for s in shifts],
    ncols=4,
    size=2.8,
)
# %% [markdown]
# In training the shift is drawn at random for every image, a few tens of levels at most
# ("in practice these changes are small"). `augment.RandomColourShift(max_shift=20)` is that
# transform: a whole number in $[-20, 20]$ per channel, drawn with torch's generator.
#
# ```{note}
# The lecture slide's third example reads "+5.0.+50" in the notes; it is the OCR of
# $(+5, 0, +50)$, which we use.
# ```
#
# ## PCA colour augmentation
#
# Independent shifts of R, G and B produce colour casts that real lighting rarely does.
# AlexNet {cite}`krizhevsky2012imagenet` shifted colours *along the directions in which
# natural images actually vary*. Treat every pixel as a point $\mathbf{x} \in \mathbb{R}^3$;
# compute the $3 \times 3$ covariance matrix $\Sigma$ of all pixels of the training set and
# its eigen-decomposition $\Sigma = P \Lambda P^\top$, with eigenvectors
# $P = [\mathbf{p}_1, \mathbf{p}_2, \mathbf{p}_3]$ and eigenvalues $\lambda_1 \ge \lambda_2 \ge \lambda_3$.
# Then, for every training image, draw $\alpha_i \sim \mathcal{N}(0, 0.1^2)$ once and add to
# **every** pixel
#
# $$\Delta = [\mathbf{p}_1, \mathbf{p}_2, \mathbf{p}_3]\,[\alpha_1 \lambda_1, \alpha_2 \lambda_2, \alpha_3 \lambda_3]^\top
#         = \sum_{i=1}^{3} \alpha_i \lambda_i \mathbf{p}_i.$$ (eq-ch07-pca)
#
# For photos, $\mathbf{p}_1$ is close to $(1, 1, 1)/\sqrt{3}$ (brightness: the three
# channels rise and fall together) and carries most of the variance; the others are
# colour-opponent directions (e.g. red against blue). From scratch, with NumPy, on the cat
# photo (values scaled to $[0, 1]$):

# %%
# NBVAL_CHECK_OUTPUT
photo = data.sample_image("chelsea").astype(np.float64) / 255.0  # (H, W, 3) in [0, 1]
rgb = photo.reshape(-1, 3)  # one row per pixel
cov = np.cov(rgb, rowvar=False)  # (3, 3)
eigvals_np, eigvecs_np = np.linalg.eigh(cov)  # ascending order
eigvals_np, eigvecs_np = eigvals_np[::-1], eigvecs_np[:, ::-1]  # largest first
eigvecs_np = eigvecs_np * np.sign(eigvecs_np.sum(axis=0))  # fix the sign: components sum > 0
print("covariance of the pixels (x 1000):\n", np.round(cov * 1000, 3))
print("eigenvalues lambda (x 1000):", np.round(eigvals_np * 1000, 3))
print("share of the variance:", np.round(eigvals_np / eigvals_np.sum(), 3))
print("p_1 =", np.round(eigvecs_np[:, 0], 3), " p_2 =", np.round(eigvecs_np[:, 1], 3))
alpha = np.array([0.1, -0.1, 0.05])
delta = eigvecs_np @ (alpha * eigvals_np)  # eq. (eq-ch07-pca)
print("alpha =", alpha, "-> Delta (0-255 scale):", np.round(delta * 255, 3))

# %% [markdown]
# The package's `augment.pca_colour_basis` computes the same decomposition in torch
# (eigenvalues in descending order, eigenvectors in the columns, with the same sign
# convention: an eigenvector's sign is arbitrary, and we choose the one whose components
# sum to a positive number), and `augment.pca_colour_augment` adds $\Delta$ and clips. Both
# checked against the NumPy reference:

# %%
# NBVAL_CHECK_OUTPUT
cat_float = torch.from_numpy(photo).permute(2, 0, 1)  # (3, H, W) float64
eigvals, eigvecs = augment.pca_colour_basis(cat_float)
print(
    "eigenvalues agree:",
    np.allclose(eigvals.numpy(), eigvals_np),
    "| eigenvectors agree:",
    np.allclose(eigvecs.numpy(), eigvecs_np),
)
augmented = augment.pca_colour_augment(cat_float, alpha, eigvals, eigvecs)
reference = np.clip(photo + delta, 0.0, 1.0)
print("augmented image agrees with photo + Delta:", np.allclose(augmented.permute(1, 2, 0).numpy(), reference))

# %% [markdown]
# ```{note}
# **How big is the shift?** With pixels in $[0, 1]$ and $\alpha_i \sim \mathcal{N}(0, 0.1^2)$,
# the shift above is about one grey level: AlexNet's colour noise is deliberately subtle.
# Equation {eq}`eq-ch07-pca` multiplies $\alpha_i$ by an eigenvalue, which is a *variance*, so
# the size of $\Delta$ depends on the pixel scale: the same formula on 0-255 values would give
# shifts 255 times larger relative to the image (hundreds of levels). The paper does not say
# which scale it used. We use $[0, 1]$, like the PyTorch ports of the paper's "lighting"
# noise; a scale-free variant would use $\alpha_i \sqrt{\lambda_i}$ (a standard deviation)
# instead.
# ```
#
# To see the directions, the figure exaggerates $\alpha$ (eighty times and more): moving
# along $\mathbf{p}_1$ changes the brightness, along $\mathbf{p}_2$ the balance between red
# and blue.

# %% mystnb={"figure": {"caption": "PCA colour augmentation on a photo. Top: three random draws with the paper's alpha ~ N(0, 0.1^2), nearly invisible by design. Bottom: alpha exaggerated along one principal component at a time: p1 changes the brightness, p2 trades red against blue.", "name": "fig-ch07-pca"}, "image": {"alt": "Two rows of four cat photos. Top row: the original and three randomly augmented copies that look identical to it. Bottom row: brighter and darker copies along the first component, and warm orange and cool bluish-grey copies along the second."}}
device.seed_everything(2)
pca = augment.PCAColour(std=0.1, eigvals=eigvals, eigvecs=eigvecs)  # the photo's own basis
draws = [pca(cat_float) for _ in range(3)]
strong = {
    "alpha_1 = +8": [8, 0, 0],
    "alpha_1 = -8": [-8, 0, 0],
    "alpha_2 = +60": [0, 60, 0],
    "alpha_2 = -60": [0, -60, 0],
}
images = [cat_float] + draws + [augment.pca_colour_augment(cat_float, a, eigvals, eigvecs) for a in strong.values()]
fig = plot.show_images(images, ["original", "N(0, 0.1^2)", "N(0, 0.1^2)", "N(0, 0.1^2)", *strong], ncols=4, size=2.5)
# %% [markdown]
# ### A pipeline of transforms
#
# `augment.PCAColour` and `augment.RandomColourShift` are transforms v2, so they go into a
# `v2.Compose` next to torchvision's own, work on uint8 and float images, and pass labels
# (and boxes and masks, which colour does not move) through untouched. A typical training
# pipeline, applied eight times to the same photo:

# %% mystnb={"figure": {"caption": "Eight draws of one augmentation pipeline (random resized crop, mirror, small rotation, PCA colour noise, random colour shift) on the same photo: eight different training images with the same label.", "name": "fig-ch07-pipeline"}, "image": {"alt": "A row of eight small square images of an astronaut in an orange suit with a flag and a space shuttle behind her, each a different crop and zoom, some mirrored or slightly tilted with black corners, with small changes of colour."}}
astronaut = torch.from_numpy(data.sample_image("astronaut")).permute(2, 0, 1).contiguous()  # uint8 (3, 512, 512)
pipeline = v2.Compose(
    [
        v2.RandomResizedCrop(160, scale=(0.35, 1.0), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomRotation(10),
        augment.PCAColour(std=0.1),
        augment.RandomColourShift(max_shift=20),
    ]
)
print(pipeline)
device.seed_everything(3)
samples = [pipeline(astronaut, "astronaut") for _ in range(8)]
assert all(label == "astronaut" and img.dtype == torch.uint8 and img.shape == (3, 160, 160) for img, label in samples)
fig = plot.show_images([img.float() / 255 for img, _ in samples], ncols=8, size=1.5)
# %% [markdown]
# ## Augmentation runs in the data-loading workers
#
# Augmentation happens on the fly: every epoch sees new random versions of each image, and
# nothing is stored. The work is done where the data is loaded. A PyTorch `DataLoader`
# with `num_workers=0` loads and augments each batch in the training process, so the model
# waits while the CPU crops and warps. With `num_workers=k` it starts $k$ worker processes;
# each takes whole batches, runs the dataset's `__getitem__` (and so the transforms) and
# hands the finished batch back through a queue, while the main process trains on the
# previous one. On a GPU machine the CPU workers prepare batch $t+1$ while the GPU trains on
# batch $t$: the lectures' "thread that loads and distorts the images in parallel with
# training". Each worker has its own random generator; `data.make_loader` seeds them from
# its `seed` so the augmentations stay repeatable.
#
# A quick measurement: one pass over 64 images through an expensive pipeline (elastic warp
# and PCA colour on $128 \times 128$ crops), with 0 and with 2 workers. What matters is the
# CPU time of the *main* (training) process: with workers the augmentation no longer runs
# there, so the training loop is free to train. The wall-clock time falls by at most the
# number of free cores (on a busy 2-core machine, hardly at all), and starting the workers
# costs a little. Timings depend on the machine, so they are not checked:

# %%
heavy = v2.Compose(
    [v2.RandomResizedCrop(128, antialias=True), v2.ElasticTransform(alpha=60.0, sigma=6.0), augment.PCAColour(std=0.1)]
)
photos = astronaut.float().div(255).unsqueeze(0).expand(64, -1, -1, -1).contiguous()
heavy_set = data.TensorImageDataset(photos, torch.zeros(64, dtype=torch.int64), heavy)
for workers in (0, 2):
    loader = data.make_loader(heavy_set, batch_size=8, num_workers=workers, seed=0)
    start, start_cpu = time.perf_counter(), time.process_time()
    n = sum(len(x) for x, _ in loader)
    print(
        f"num_workers={workers}: {n} augmented images in {time.perf_counter() - start:.2f} s wall clock, "
        f"{time.process_time() - start_cpu:.2f} CPU-s in the main process"
    )
    del loader

# %% [markdown]
# ## Experiment: little data, with and without augmentation
#
# The lectures' advice is "if you don't have enough data, try augmentation". We measure it.
# The task: the handwritten digits at $16 \times 16$ pixels, but only **5 labelled images per
# digit** (50 images, 3.7 % of the 1,347 training digits), tested on all 450 test digits. The
# network: three $3 \times 3$ conv–BN–ReLU layers (16, 32, 64 channels, max-pooling between
# them), global average pooling and a linear layer, 24,058 parameters. Training: Adam with a
# one-cycle schedule, batches of 32, 200 epochs (400 steps), the same for both. The
# augmentation: `v2.RandomAffine` with rotations up to 15°, shifts up to 10 %, scaling by
# 0.9-1.1 and shears up to 10°. No mirroring: a mirrored digit is not a digit. Three
# training seeds each:

# %%
train_digits = data.load_digits("train", size=16)
test_digits = data.load_digits("test", size=16)
few = augment.few_per_class(train_digits.targets, 5, seed=0)  # 5 images of each digit
digit_augment = v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10)


def small_cnn(num_classes: int = 10) -> nn.Sequential:
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(
        *block(1, 16),
        nn.MaxPool2d(2),
        *block(16, 32),
        nn.MaxPool2d(2),
        *block(32, 64),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )


def train_few(transform, seed, epochs=200):
    device.seed_everything(seed)
    subset = data.TensorImageDataset(train_digits.images[few], train_digits.targets[few], transform)
    loader = data.make_loader(subset, 32, shuffle=True, seed=seed)
    model = small_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=epochs * len(loader))
    history = train.fit(model, loader, optimizer=optimizer, scheduler=scheduler, scheduler_step="batch", epochs=epochs)
    return model, history


start = time.process_time()
plain_runs = [train_few(None, seed) for seed in range(3)]
augmented_runs = [train_few(digit_augment, seed) for seed in range(5)]  # 2 more for the ensemble below
print(f"8 networks trained in {time.process_time() - start:.1f} CPU-s")

# %%
# NBVAL_CHECK_OUTPUT
print(
    f"parameters: {models.count_parameters(small_cnn()):,}; training images: {len(few)}; "
    f"test images: {len(test_digits)}"
)

# %% [markdown]
# The test accuracies of the six networks (trained numbers: they differ in the last digits
# from one CPU to another, so the claims about them are checked within bands):

# %%
test_loader = data.make_loader(test_digits, 256)
plain_acc = [train.evaluate(m, test_loader)["acc"] for m, _ in plain_runs]
aug_acc = [train.evaluate(m, test_loader)["acc"] for m, _ in augmented_runs]
print(f"{'seed':>4} {'no augmentation':>16} {'augmentation':>13}")
for seed in range(3):
    print(f"{seed:>4} {plain_acc[seed]:16.3f} {aug_acc[seed]:13.3f}")
gain = statistics.mean(aug_acc[:3]) - statistics.mean(plain_acc)
print(f"mean {statistics.mean(plain_acc):16.3f} {statistics.mean(aug_acc[:3]):13.3f}   gain {100 * gain:+.1f} points")
for a, p in zip(aug_acc, plain_acc):
    claim("ch07.aug_gain_per_seed", a - p, low=-0.02)  # never costs more than 2 points on any seed
_ = claim("ch07.aug_gain_mean", gain, low=0.01)  # and wins by more than a point on average

# %% [markdown]
# Augmentation won for every seed in the run above, and it wins by a few points of test accuracy
# on average on every machine we measured (3 to 4.5 points over three seeds and three CPU kernel
# settings; the claim checked is more than one point), with exactly the
# same images, network and number of steps. The training curves show how: without
# augmentation the network drives its training loss to almost zero (it has memorised the 50
# images); with augmentation it never sees the same image twice and its training loss stays
# higher, which is the point.

# %% mystnb={"figure": {"caption": "Training loss per epoch with 50 training digits, without (dashed) and with (solid) augmentation, three seeds each (log scale). Without augmentation the training loss falls towards zero (the 50 images are memorised); with it the training task stays hard. The test accuracies are compared in the text.", "name": "fig-ch07-aug-curves"}, "image": {"alt": "Line plot of training loss on a log scale against epoch, 0 to 200, three runs per setting. Without augmentation (blue dashed) the loss drops steeply near epoch 40 and flattens far below the augmented runs (orange solid), which fall more slowly, stay well above them and are noisier."}}
fig, ax = plt.subplots(figsize=(6, 3.2))
for k in range(3):
    ax.semilogy(
        plain_runs[k][1]["epoch"],
        plain_runs[k][1]["train_loss"],
        "--",
        color="C0",
        label="no augmentation" if k == 0 else None,
    )
    ax.semilogy(
        augmented_runs[k][1]["epoch"],
        augmented_runs[k][1]["train_loss"],
        "-",
        color="C1",
        label="augmentation" if k == 0 else None,
    )
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.set_title("50 training digits")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Transfer learning
#
# The lectures' workflow: take a network trained on a large dataset (ImageNet's 1,000
# classes), **remove its softmax layer and put in your own** (say three classes: Tigger,
# Misty, neither), **freeze** all the earlier layers and train only the new head. Because the
# frozen layers never change, you can **pre-compute** their output (the *features*) for all
# your training images once, save it, and train a shallow classifier on the features: every
# epoch then costs a linear layer instead of a whole network. With more labelled data you
# freeze fewer layers and **fine-tune** the rest; with a lot of data you use the pre-trained
# weights only as an initialisation. Features of early layers (edges, blobs, strokes) are
# generic; those of late layers are increasingly specific to the source task
# {cite}`yosinski2014transferable`.
#
# We reproduce this offline at a small scale:
#
# - **source task**: the clean digits 0-4 of the training split (675 images);
# - **target task**: the digits 5-9, new classes, scanned by a *noisy* sensor (Gaussian
#   pixel noise of standard deviation 0.3), with only **5 labelled images per class**, tested
#   on the 224 noisy test digits 5-9.
#
# A network pre-trained on five classes learns only what separates those five. ImageNet's
# features are general because its task is rich (1,000 classes). We make our source task
# richer in a cheap way: every source digit appears in its four orientations (0°, 90°, 180°,
# 270°), each a class of its own: 20 classes, 2,700 images. We pre-train the network above on
# it (and, for comparison, on the plain 5-class task):

# %%
noise = torch.Generator().manual_seed(123)


def noisy(images):
    return (images + 0.3 * torch.randn(images.shape, generator=noise)).clamp(0, 1)


source = train_digits.targets < 5
src_x, src_y = train_digits.images[source], train_digits.targets[source]
rich_x = torch.cat([src_x.rot90(r, dims=(2, 3)) for r in range(4)])  # 4 orientations ...
rich_y = torch.cat([src_y + 5 * r for r in range(4)])  # ... each its own class: 20


def pretrain(x, y, num_classes, epochs=10):
    device.seed_everything(0)
    loader = data.make_loader(data.TensorImageDataset(x, y), 64, shuffle=True)
    model = small_cnn(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=epochs * len(loader))
    train.fit(model, loader, optimizer=optimizer, scheduler=scheduler, scheduler_step="batch", epochs=epochs)
    return model


start = time.process_time()
pretrained = pretrain(rich_x, rich_y, 20)
pretrained_narrow = pretrain(src_x, src_y, 5)
target_train = noisy(train_digits.images)  # the noisy sensor, train split
target_test_mask = test_digits.targets >= 5
target_test_x = noisy(test_digits.images)[target_test_mask]
target_test_y = test_digits.targets[target_test_mask] - 5  # classes 0..4 = digits 5..9
print(f"two source networks pre-trained in {time.process_time() - start:.1f} CPU-s")

# %% [markdown]
# Four ways to learn the target task from its 25 labelled images, each for 100 full-batch
# Adam steps:
#
# (a) **from scratch**: a fresh network (learning rate $3 \cdot 10^{-3}$);
#
# (b) **frozen feature extractor**: the pre-trained body without its last layer is frozen,
#     its 64 features are computed once for the 25 images (`augment.extract_features`), and a
#     new linear head is trained on them ($10^{-2}$);
#
# (c) **fine-tune the last block**: the pre-trained network with a new head
#     (`augment.replace_head`), everything frozen except the last conv block and the head
#     (`augment.freeze(model, except_=[model[8:]])`, $10^{-3}$). In the `nn.Sequential` of
#     `small_cnn`, indices 0-2 and 4-6 are the first two conv–BN–ReLU blocks and 3 and 7
#     their max-pooling layers, so `model[8:]` starts at the third block's convolution: it
#     holds that block (the $32 \to 64$ convolution and its batch norm), the global average
#     pooling, the flattening and the new head: 18,885 of the network's 23,733 parameters. This is
#     `first_trained = 8` in the code: the last block is the one whose features are the
#     most specific to the source task, so it is the first to adapt;
#
# (d) **fine-tune everything**: the same, nothing frozen (`first_trained = 0`, $10^{-3}$).
#
# Test accuracy is recorded every 10 steps, for three different draws of the 25 images:


# %%
def train_steps(model, x, y, lr, steps=100, every=10, test=None):
    """Full-batch Adam on the trainable parameters; returns test accuracies every `every` steps."""
    on = device.pick_device()  # the book's device: a GPU when there is one
    model.to(on)
    x, y, test = x.to(on), y.to(on), (test[0].to(on), test[1].to(on))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    curve = []
    for step in range(1, steps + 1):
        model.train()
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % every == 0:
            model.eval()
            with torch.no_grad():
                curve.append((model(test[0]).argmax(1) == test[1]).float().mean().item())
    return curve


def transfer_methods(draw, source_net=pretrained):
    index = augment.few_per_class(train_digits.targets, 5, classes=range(5, 10), seed=draw)
    x, y = target_train[index], train_digits.targets[index] - 5
    test = (target_test_x, target_test_y)
    curves = {}
    device.seed_everything(draw)
    curves["(a) from scratch"] = train_steps(small_cnn(5), x, y, 3e-3, test=test)
    device.seed_everything(draw)
    body = copy.deepcopy(source_net[:-1])  # all but the last linear layer
    augment.freeze(body)
    features, test_features = augment.extract_features(body, x), augment.extract_features(body, test[0])
    head = nn.Linear(features.shape[1], 5)
    curves["(b) frozen body, new head"] = train_steps(head, features, y, 1e-2, test=(test_features, test[1]))
    for name, first_trained in (("(c) fine-tune last block", 8), ("(d) fine-tune all", 0)):
        device.seed_everything(draw)
        model = copy.deepcopy(source_net)
        augment.replace_head(model, 5)
        augment.freeze(model, except_=[model[first_trained:]])
        curves[name] = train_steps(model, x, y, 1e-3, test=test)
    return curves


start = time.process_time()
results = [transfer_methods(draw) for draw in range(3)]
narrow_frozen = [transfer_methods(draw, pretrained_narrow)["(b) frozen body, new head"][-1] for draw in range(3)]
print(f"3 draws x 4 methods (+ the narrow source) in {time.process_time() - start:.1f} CPU-s")

# %%
methods = list(results[0])
final = {m: [r[m][-1] for r in results] for m in methods}
print(f"{'method':28s} {'draw 0':>7} {'draw 1':>7} {'draw 2':>7} {'mean':>7}")
for m in methods:
    print(f"{m:28s} " + " ".join(f"{a:7.3f}" for a in final[m]) + f" {statistics.mean(final[m]):7.3f}")
print(
    f"{'(b) with the 5-class source':28s} "
    + " ".join(f"{a:7.3f}" for a in narrow_frozen)
    + f" {statistics.mean(narrow_frozen):7.3f}"
)
scratch, frozen = final["(a) from scratch"], final["(b) frozen body, new head"]
last_block, everything = final["(c) fine-tune last block"], final["(d) fine-tune all"]
gains = {
    "(c) - (a), mean of the draws": statistics.mean(last_block) - statistics.mean(scratch),
    "(d) - (a), mean of the draws": statistics.mean(everything) - statistics.mean(scratch),
    "20-class - 5-class source, (b)": statistics.mean(frozen) - statistics.mean(narrow_frozen),
}
for name, gain in gains.items():
    print(f"{name:32s} {100 * gain:+5.1f} points")

# %% [markdown]
# With 25 noisy images, starting from the pre-trained network and fine-tuning its last
# block beat training from scratch on average in every configuration we ran (three seeds and
# three CPU kernel settings: by 2 to 10 points, mean of the three draws), and fine-tuning all
# layers did so in all but one (up to 7 points). Single draws vary much more: in one seed, one
# draw went the other way. That is the honest size of the effect with 25 training images and
# three draws, so this experiment prints its gains instead of asserting them (a band that
# holds on every machine would have to include zero); the assertions of this chapter are on
# the augmentation, ensemble and cost experiments, whose effects stand well clear of their
# spread. Freezing the whole
# body does *not* pay here: our source is tiny (675 digits, clean, 16 pixels) and its last-layer features are specialised to it,
# while the target images are noisy. ImageNet features are far more general, and that is
# why the frozen body with a new head works so well there (next section). The last row makes
# the same point within our experiment: on average, the frozen features of the network
# pre-trained on the plain 5-class task were worse than those of the 20-class one in every
# configuration we ran (by 1.5 to 10 points), though not on every single draw. The richer the
# source task, the more general its features. Early in training the pre-trained starts
# have a head start:

# %% mystnb={"figure": {"caption": "Test accuracy on the noisy digits 5-9 during training on 25 labelled images, mean of three draws: from scratch, a frozen pre-trained body with a new head, and fine-tuning the last block or all layers of the pre-trained network.", "name": "fig-ch07-transfer"}, "image": {"alt": "Line plot of test accuracy against training step, 10 to 100, for four methods. Both fine-tuning curves rise fastest and end highest, last-block fine-tuning slightly on top; from scratch starts lowest and overtakes the frozen body, which levels off lowest after about 30 steps. A dotted grey line marks chance, 0.2, below all four curves; from scratch comes close to it at step 20."}}
fig, ax = plt.subplots(figsize=(6.4, 3.4))
steps = np.arange(10, 101, 10)
for m, style in zip(methods, ("-o", "--s", "-.^", ":v")):  # line style and marker: not colour alone
    ax.plot(steps, np.mean([r[m] for r in results], axis=0), style, markersize=4, label=m)
ax.axhline(0.2, color="grey", lw=1.2, ls=(0, (1, 3)), label="chance (5 classes)")
ax.set_ylim(bottom=min(0.1, ax.get_ylim()[0]))  # chance in view, not on the frame
ax.set_xlabel("training step (25 images per step)")
ax.set_ylabel("test accuracy")
ax.set_title("target: noisy digits 5-9, 5 labelled images per class")
ax.grid(alpha=0.3)
ax.legend(fontsize="small")
fig.tight_layout()

# %% [markdown]
# ### Pre-computed features: the same head, for a fraction of the cost
#
# Training the head on pre-computed features is the lectures' optimisation trick. It
# gives *exactly* the same head as running the frozen body in every step (the body is in
# eval mode, so even its batch norm is a fixed function), at a fraction of the cost. We
# check both claims on a larger training set of the target domain (all 672 noisy training
# digits 5-9), 100 steps each:

# %%
index = train_digits.targets >= 5
x_all, y_all = target_train[index], train_digits.targets[index] - 5
# a comparison of CPU time, so on the CPU (fit left `pretrained` on the book's device)
body = augment.freeze(copy.deepcopy(pretrained[:-1]).cpu()).eval()

torch.manual_seed(0)
head_a = nn.Linear(64, 5)
head_b = copy.deepcopy(head_a)
start = time.process_time()
opt = torch.optim.Adam(head_a.parameters(), lr=1e-2)
for _ in range(100):  # the body runs in every step
    loss = F.cross_entropy(head_a(body(x_all)), y_all)
    opt.zero_grad()
    loss.backward()
    opt.step()
time_in_loop = time.process_time() - start
start = time.process_time()
feats = augment.extract_features(body, x_all)  # the body runs once
opt = torch.optim.Adam(head_b.parameters(), lr=1e-2)
for _ in range(100):
    loss = F.cross_entropy(head_b(feats), y_all)
    opt.zero_grad()
    loss.backward()
    opt.step()
time_precomputed = time.process_time() - start
print(
    f"{len(x_all)} images, 100 steps: body in the loop {time_in_loop:.2f} CPU-s, "
    f"pre-computed features {time_precomputed:.3f} CPU-s ({time_in_loop / time_precomputed:.0f}x faster)"
)
_ = claim("ch07.precomputed_speedup", time_in_loop / time_precomputed, low=5.0)  # a timing: a band, not digits

# %%
# NBVAL_CHECK_OUTPUT
print(
    "same head weights:",
    torch.allclose(head_a.weight, head_b.weight, atol=1e-5),
    "| trainable parameters of the head:",
    augment.trainable_parameters(head_b),
    "| of the frozen body:",
    augment.trainable_parameters(body),
)

# %% [markdown]
# ## The same workflow with a torchvision backbone
#
# In practice the pre-trained network comes from a library. torchvision's models come with
# ImageNet weights; `torchvision.models.mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V2)`
# downloads them (14 MB) on first use. This book downloads nothing unless you switch it on
# (`CVBOOK_ONLINE=1`, see Chapter 1): offline, the cell below says so and continues with
# random weights, so the *workflow* runs everywhere; only the accuracy needs the real weights.

# %%
weights = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2
backbone, have_weights = None, False
if data.online_enabled() and data.network_available(weights.url):
    try:
        backbone, have_weights = torchvision.models.mobilenet_v2(weights=weights), True
        print("loaded the ImageNet weights of MobileNetV2")
    except Exception as error:  # a failed download falls back
        print(f"could not load the weights ({type(error).__name__}); using random weights")
else:
    print(
        "offline (CVBOOK_ONLINE is not 1, or download.pytorch.org is unreachable): "
        "MobileNetV2 with random weights; the workflow is the same, the accuracy is not"
    )
if backbone is None:
    torch.manual_seed(0)
    backbone = torchvision.models.mobilenet_v2(weights=None)

# %% [markdown]
# The three steps of the lectures: replace the classifier (`classifier[1]`, a
# `Linear(1280, 1000)`) by a new one for our classes, freeze everything else, count what
# remains trainable. Our "dataset" is three photos (cat, astronaut, coffee cup), two random
# crops of each, prepared with the preprocessing that belongs to the weights
# (`weights.transforms()`: resize, centre crop to 224, ImageNet mean and standard deviation):

# %%
# NBVAL_CHECK_OUTPUT
before = models.count_parameters(backbone)
head = augment.replace_head(backbone, 3)  # cat, astronaut, coffee
augment.freeze(backbone, except_=[head])
total, trainable = models.count_parameters(backbone), augment.trainable_parameters(backbone)
print(f"MobileNetV2: {before:,} parameters with ImageNet's 1000-class head, {total:,} with the new head {head}")
print(
    f"trainable after freezing: {trainable:,} = 1280 x 3 + 3 = {1280 * 3 + 3:,} ({100 * trainable / total:.2f} % of the network)"
)
print(f"frozen: {total - trainable:,}")

# %%
preprocess = weights.transforms()
crop = v2.RandomResizedCrop(256, scale=(0.5, 1.0), antialias=True)
device.seed_everything(0)
photos_by_class = [data.sample_image(name) for name in ("chelsea", "astronaut", "coffee")]
x_photo = torch.stack(
    [preprocess(crop(torch.from_numpy(p).permute(2, 0, 1))) for p in photos_by_class for _ in range(2)]
)
y_photo = torch.tensor([0, 0, 1, 1, 2, 2])
backbone.eval()  # frozen batch norm: keep eval mode
features = augment.extract_features(backbone.features, x_photo)  # (6, 1280, 7, 7) flattened
features = features.view(6, 1280, -1).mean(2)  # global average pooling: (6, 1280)
print(f"features {tuple(features.shape)}, mean |feature| {features.abs().mean().item():.2g}")
opt = torch.optim.Adam(head.parameters(), lr=1e-2)
for step in range(3):  # a couple of steps, just to show it runs
    loss = F.cross_entropy(head(features), y_photo)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: loss {loss.item():.3f}")
with torch.no_grad():
    agree = torch.allclose(backbone(x_photo), head(features), atol=1e-4)
print("whole network = head on pre-computed features:", agree, "| input batch", tuple(x_photo.shape))

# %% [markdown]
# With the ImageNet weights the features are informative and the loss falls within a few
# steps. With random weights (the offline path) the features are almost exactly zero: in
# eval mode batch norm uses its initial running statistics, which do not match the
# activations, and they shrink layer after layer; the loss stays at $\ln 3 \approx 1.099$.
# That is the honest lesson of the offline run: the *workflow* (new head, freezing,
# pre-computed features, a training step) is the same, but a frozen feature extractor is only
# as good as its pre-trained weights.

# %% [markdown]
# ```{warning}
# **Lecture 001's code uses an old API.** `resnet50(pretrained=True)` has been deprecated
# since torchvision 0.13; it still works with a warning, but gives the *first* ImageNet weights
# (`IMAGENET1K_V1`, 76.1 % top-1), not the current default (`IMAGENET1K_V2`, 80.9 %). Write
# `resnet50(weights=ResNet50_Weights.DEFAULT)` and use `ResNet50_Weights.DEFAULT.transforms()`
# for the matching preprocessing. Freezing *before* replacing `fc`, as the lecture does, is
# fine: the new layer is created trainable.
# ```

# %%
# NBVAL_CHECK_OUTPUT
for w in (
    torchvision.models.ResNet50_Weights.IMAGENET1K_V1,
    torchvision.models.ResNet50_Weights.IMAGENET1K_V2,
    torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2,
):
    print(f"{str(w):40s} top-1 {w.meta['_metrics']['ImageNet-1K']['acc@1']:.2f} %, {w.meta['num_params']:,} parameters")

# %% [markdown]
# ## Benchmark tricks: ensembles and multi-crop testing
#
# Two tricks win benchmarks and competitions, and the lectures warn they are rarely worth
# it in production:
#
# - **ensembling**: train several networks (3 to 15) independently and average their
#   outputs $\hat{y}$; typically 1-2 % better, at several times the cost;
# - **multi-crop at test time**: run the classifier on several crops of each test image
#   and average. The classic **10-crop** is AlexNet's: the four corner crops and the centre
#   crop, and the same five of the mirrored image {cite}`krizhevsky2012imagenet`. VGG went
#   further {cite}`simonyan2015very`: it ran the network fully convolutionally on the whole
#   rescaled image (*dense* evaluation, its class-score map averaged) and also averaged 150
#   crops (a $5 \times 5$ grid and its mirrors at three scales), best of all when combining
#   the two.
#
# We measure both on the digits, with the five networks trained with augmentation above.
# For the crops, each $16 \times 16$ test digit is padded by one pixel to $18 \times 18$ and
# cropped back to $16 \times 16$ at the corners and the centre (the centre crop is the
# original image). `augment.ten_crop_predict` averages the softmax over the crops; with
# `mirror=False` it uses only the five unmirrored crops:

# %%
# NBVAL_CHECK_OUTPUT
nets = [m for m, _ in augmented_runs]
padded = F.pad(test_digits.images, (1, 1, 1, 1))  # (450, 1, 18, 18)
labels = test_digits.targets
print(f"{len(nets)} networks; test digits padded to {tuple(padded.shape)}; crops per image: 5 without mirrors, 10 with")

# %% [markdown]
# The accuracies (trained numbers, checked within bands):


# %%
def accuracy(probabilities):
    return (probabilities.argmax(1) == labels).float().mean().item()


single = [accuracy(augment.ensemble_predict([m], test_digits.images)) for m in nets]
five_crop = [accuracy(augment.ten_crop_predict(m, padded, 16, mirror=False)) for m in nets]
ten_crop = [accuracy(augment.ten_crop_predict(m, padded, 16)) for m in nets]
ensemble = accuracy(augment.ensemble_predict(nets, test_digits.images))
ensemble_plain = accuracy(augment.ensemble_predict([m for m, _ in plain_runs], test_digits.images))
print("one network, one crop: ", " ".join(f"{a:.3f}" for a in single), f"  mean {statistics.mean(single):.3f}")
print("5 crops (no mirrors):  ", " ".join(f"{a:.3f}" for a in five_crop), f"  mean {statistics.mean(five_crop):.3f}")
print("10 crops (with mirrors):", " ".join(f"{a:.3f}" for a in ten_crop), f" mean {statistics.mean(ten_crop):.3f}")
print(f"ensemble of the 5 networks: {ensemble:.3f} (best single network {max(single):.3f})")
print(
    f"ensemble of the 3 networks trained without augmentation: {ensemble_plain:.3f} "
    f"(their mean {statistics.mean(plain_acc):.3f})"
)
claim("ch07.ensemble_gain", ensemble - statistics.mean(single), low=0.0)
claim("ch07.ensemble_minus_best_single", ensemble - max(single), low=-0.03)  # close to the best member
claim("ch07.ensemble_plain_gain", ensemble_plain - statistics.mean(plain_acc), low=0.0)
claim("ch07.five_crop_gain", statistics.mean(five_crop) - statistics.mean(single), low=-0.01)  # does not hurt
_ = claim("ch07.ten_crop_loss_mean", statistics.mean(single) - statistics.mean(ten_crop), low=0.015)  # mirrors hurt

# %% [markdown]
# The ensemble beats the average network, as the lectures say, and comes close to the best
# of its members (which one is best, you would not know in advance). Five shifted crops
# change little (they gained 0.3 to 1.5 points in our runs). But the **10-crop**
# average is *worse* than a single crop: by 3 to 4.5 points on average in our runs, and for
# every single network in every run we made. Its mirrored crops show the
# network mirrored digits, which it never saw in training, and a mirrored 2 or 7 is not a 2
# or 7. Multi-crop testing must use the same invariances as training: mirrors for cats, not
# for digits or text.
#
# What do they cost? Every crop and every member of the ensemble is a full forward pass, so
# the cost grows linearly (timings depend on the machine, not checked):


# %%
def cpu_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


base = cpu_time(lambda: augment.ensemble_predict(nets[:1], test_digits.images))
costs = {
    "one network, one crop": base,
    "5 crops": cpu_time(lambda: augment.ten_crop_predict(nets[0], padded, 16, mirror=False)),
    "10 crops": cpu_time(lambda: augment.ten_crop_predict(nets[0], padded, 16)),
    "ensemble of 5": cpu_time(lambda: augment.ensemble_predict(nets, test_digits.images)),
}
for name, t in costs.items():
    print(f"{name:22s} {1000 * t:7.1f} ms CPU for 450 images ({t / base:4.1f}x)")

# %% [markdown]
# ## Choosing a backbone
#
# Which pre-trained network should you start from? Lecture 003 lists the families that Keras
# ships; torchvision and timm offer the same families under the same names. (One entry is out of
# date: ResNeXt came and went with the multi-backend Keras 2.2 releases; `tf.keras.applications`
# and Keras 3 do not ship it, while torchvision has `resnext50_32x4d`, `resnext101_32x8d` and
# `resnext101_64x4d`.) In one line each, what a family changed and when it is the natural pick:
#
# | family | the idea it added | reach for it when |
# |---|---|---|
# | VGG (16, 19) | nothing but stacked 3×3 convolutions and pooling (Chapter 4) | you want plain, easy-to-read features, and size does not matter |
# | ResNet (50, 101, 152) | identity shortcuts, so that very deep networks still train (Chapter 5) | you need a well-understood default; most detection and segmentation code assumes it |
# | ResNeXt (50, 101) | many parallel groups inside each residual block | a ResNet is close but you want more accuracy for the same cost |
# | Inception v3, Inception-ResNet v2 | parallel branches at several scales, factorised filters (Chapter 5) | images whose objects come in very different sizes |
# | Xception | the Inception idea pushed to depthwise-separable convolutions | accuracy per operation matters, on a server |
# | MobileNet v1, v2, v3 | depthwise-separable convolutions, inverted residuals (Chapter 6) | the network must run on a phone or in real time |
# | EfficientNet (B0-B7) | one rule that scales depth, width and resolution together (Chapter 6) | you want the best accuracy for a given budget and can pick the size |
# | DenseNet (121, 169, 201) | every layer sees the feature maps of all earlier layers of its block | little data and few parameters (it is popular in medical imaging) |
# | NASNet | a cell found by automated architecture search | mostly of historical interest now; EfficientNet came from the same kind of search |
#
# The sizes of the torchvision members of these families, counted from the built models
# (no weights needed), next to their ImageNet top-1 accuracy as published with the weights
# (Xception, NASNet and InceptionResNetV2 are not in torchvision):

# %%
# NBVAL_CHECK_OUTPUT
family = {
    "resnet50": "ResNet50_Weights",
    "vgg16": "VGG16_Weights",
    "inception_v3": "Inception_V3_Weights",
    "mobilenet_v2": "MobileNet_V2_Weights",
    "efficientnet_b0": "EfficientNet_B0_Weights",
    "densenet121": "DenseNet121_Weights",
    "mobilenet_v3_large": "MobileNet_V3_Large_Weights",
    "resnext50_32x4d": "ResNeXt50_32X4D_Weights",
}
print(f"{'torchvision model':20s} {'parameters':>12} {'top-1 (%)':>10}")
for name, weights_name in family.items():
    with torch.device("meta"):
        net = getattr(torchvision.models, name)(
            weights=None, **({"init_weights": False} if name == "inception_v3" else {})
        )
    w = getattr(torchvision.models, weights_name).DEFAULT
    assert models.count_parameters(net) == w.meta["num_params"]
    print(f"{name:20s} {models.count_parameters(net):>12,} {w.meta['_metrics']['ImageNet-1K']['acc@1']:>10.2f}")

# %% [markdown]
# For transfer learning on a small dataset a mid-sized backbone (ResNet-50, EfficientNet-B0)
# is a safe default; on a phone, MobileNet; VGG's 138 million parameters buy little today
# beyond simplicity.
#
# ## Where vision stands: data, hand-engineering and other people's code
#
# Lecture 004 ends with a view of the field that explains much of this chapter. A learning
# system gets its knowledge from two places: **labelled examples**, and what its designers
# build in by hand (features, architectures, augmentations, the components of a pipeline).
# The less data a task has, the more the second must carry. Vision sits towards the
# data-poor end even with millions of labelled images, because the task is so hard, and
# detection sits further still than classification: a box costs far more to draw than a
# label costs to pick, so detection sets are smaller. That is why vision has produced so
# many hand-designed architectures (Chapters 4-6), and why the two tools of this chapter
# matter: augmentation makes more data out of the data you have, and transfer learning
# borrows knowledge learned from someone else's data. Hand-engineering is not a failure of
# learning here; with 50 training digits it was worth several points (the experiment above).
#
# The field also runs on **benchmarks**, and some benchmark habits do not belong in a
# product. Ensembles of 3-15 networks and multi-crop testing buy a point or two of accuracy
# for many times the inference cost (measured above: five networks cost about five times one, ten
# crops about ten times one crop, and the mirrored crops even hurt on digits). A system that serves
# users usually keeps one network and one crop, and spends its budget on data instead.
#
# Finally, **start from code that exists.** Most papers publish their code, and the main
# architectures come with trained weights in the libraries this book uses
# (`torchvision.models`, timm, the Hugging Face hub). A published implementation carries
# details a paper leaves out (initialisation, the exact augmentation, learning-rate schedules
# tuned over many runs), so reproducing a paper from its text alone is the slow road. Three
# habits make borrowed code safe to build on: pin the version you used (`pip freeze`, a
# commit hash); check one published number before trusting the rest, as the table above does
# by counting each model's parameters against the count shipped with its weights; and read
# the licence of both the code and the weights (some weights allow research use only). If you
# improve on it, publishing your version back is how the next person saves the time you did.
#
# ## Key takeaways
#
# - Augmentation shows the network transformations that do not change the label: mirroring,
#   random crops, rotation, shear, elastic warps, colour shifts. Each is a claim about the
#   task (no mirrors for digits); their strength is a hyper-parameter.
# - Colour shifting adds per-channel offsets (the lectures' $(+20, -20, +20)$) and must clip:
#   uint8 arithmetic wraps around. PCA colour augmentation adds
#   $\sum_i \alpha_i \lambda_i \mathbf{p}_i$ along the principal components of the pixels'
#   colours, with $\alpha_i \sim \mathcal{N}(0, 0.1^2)$.
# - Augmentation runs on the fly in the `DataLoader`'s workers (`num_workers`), in parallel
#   with training.
# - With 50 training digits, augmentation raised the mean test accuracy by a few points (a
#   claim checked on every run; in the table above it won on every seed); without it the network memorised its
#   training set.
# - Transfer learning: replace the head, freeze, train; with frozen layers, pre-compute
#   the features once (the same head, many times faster). On 25 noisy target images,
#   fine-tuning a pre-trained network beat training from scratch on every draw; frozen
#   features are only as good as the source task is rich.
# - Ensembles and multi-crop testing buy accuracy at a cost proportional to the number of
#   networks and crops; 10-crop testing with mirrors hurt on digits. They win benchmarks;
#   products rarely afford them.
# - Vision is data-hungry, detection more than classification, so hand-designed components
#   still matter; start from published code and weights, pin their version, check one of
#   their numbers, and read their licence.
#
# ## Exercises
#
# The exercise notebook asks you to implement colour shifting with clipping, PCA colour
# augmentation, freezing all but the head with a count of the trainable parameters, and
# ten-crop averaging of predictions.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch07/ch07_exercises.ipynb)
# or on GitHub:
# [`exercises/ch07/ch07_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch07/ch07_exercises.ipynb).
