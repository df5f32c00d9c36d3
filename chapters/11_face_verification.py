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
# # Face verification and one-shot learning
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/11_face_verification.ipynb)
#
# A phone that unlocks for its owner, a gate that opens for employees: these systems
# cannot be trained as classifiers with one output per person, because the people they
# must know are not known when the network is trained, and each of them gives one
# photo, not a thousand. This chapter turns the problem around. Instead of learning
# *who* is in an image, a network learns *how different* two faces are, on many people;
# the comparison then works for people it has never seen. We build the pieces of lecture
# 002 {cite}`safayani_deeplearning` from scratch: the siamese network
# {cite}`bromley1993signature,taigman2014deepface`, the contrastive loss
# {cite}`hadsell2006dimensionality`, the triplet loss and the choice of hard triplets
# {cite}`schroff2015facenet,hermans2017defense`, and verification as a binary
# classification on $|f_1 - f_2|$ {cite}`taigman2014deepface`. Everything is trained on the
# book's synthetic identities and evaluated on people the network never saw.
#
# ## Learning objectives
#
# After this chapter you can
#
# - tell verification (1:1, "is this the claimed person?") from recognition (1:K, "who is
#   this, if anyone?") and explain why both are one-shot problems;
# - decide "same person" with a learned distance $d(\text{img}_1, \text{img}_2) \le \tau$ and
#   choose $\tau$ on validation identities;
# - write the contrastive and triplet losses from scratch and check them against PyTorch;
# - train a siamese encoder with random and with batch-hard triplets and measure the
#   difference;
# - evaluate on unseen identities with distance histograms, ROC and AUC, and verification
#   accuracy; compare with DeepFace's logistic regression on $|f_1 - f_2|$;
# - recognise people from a database with one photo each, and reject strangers.

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from skimage import data as skdata, feature
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from torch import nn

from cvbook import device, faces, models, plot
from cvbook.measured import claim

device.seed_everything(0)
torch.set_num_threads(1)
print(device.device_report())
cpu_start = time.process_time()

# %% [markdown]
# ## Verification, recognition and one-shot learning
#
# The lecture separates two tasks:
#
# - **verification**: the input is an image *and a claimed identity* (a name, an ID card);
#   the output says whether the image is that person. One comparison, 1:1.
# - **recognition**: the system holds a database of $K$ people; the input is an image; the
#   output is the identity of the person if it is one of the $K$, or **"not recognised"**.
#   $K$ comparisons, 1:K. With $K = 100$ a verification error rate that looks small (1 %)
#   becomes large: a stranger gets 100 chances to match somebody.
#
# Both are **one-shot** problems: the database holds one photo (or a few) of each person,
# and a new employee must be recognised from that single photo, without retraining. A
# softmax classifier with one output per person fails on both counts: one image per class
# is far too little to train it, and every new person would change its output layer.
#
# The way out is to learn a **similarity function** instead:
#
# $$d(\text{img}_1, \text{img}_2) = \text{degree of difference between the images}, \qquad
# \text{same person} \iff d(\text{img}_1, \text{img}_2) \le \tau.$$ (eq-ch11-similarity)
#
# Verification is one evaluation of $d$; recognition compares the query with each of the $K$
# database entries and answers with the nearest one, or "not recognised" when even the
# nearest is farther than $\tau$.
#
# Real faces first. scikit-image ships a small sample of Labeled Faces in the Wild
# {cite}`huang2008labeled` offline: 100 grey $25 \times 25$ faces and 100 non-faces, without
# names, so they serve for looking, not for training:

# %% mystnb={"figure": {"caption": "Faces from scikit-image's offline subset of Labeled Faces in the Wild (25x25, grey). Real faces vary in pose, lighting, expression and background, which is what a verification system has to see through.", "name": "fig-ch11-lfw-subset"}, "image": {"alt": "A row of twelve small, low-resolution greyscale photos of different people's faces, tightly cropped; they differ in head pose, lighting, expression and the bit of background visible at the edges."}}
lfw_small = skdata.lfw_subset()
print(f"lfw_subset: {lfw_small.shape}, first 100 faces, last 100 non-faces")
fig = plot.show_images(
    [lfw_small[k] for k in range(0, 100, 7)][:12], ncols=12, size=1.0, suptitle="real faces (skimage.data.lfw_subset)"
)

# %% [markdown]
# ### Before verification: finding the face
#
# A verification system first finds and crops the face. A classical detector does this
# without deep learning: scikit-image's cascade of multi-block local binary pattern
# classifiers {cite}`viola2001rapid,liao2007learning`, trained for frontal faces, slides over
# the image at several scales:

# %% mystnb={"figure": {"caption": "Step zero of a face-verification pipeline: a classical LBP cascade finds the face in the astronaut photo; the crop (right) is what the encoder would see.", "name": "fig-ch11-detect"}, "image": {"alt": "Left: the astronaut photo, a smiling woman in an orange spacesuit in front of a flag and a shuttle model, with a yellow box drawn around her face. Right: the enlarged crop of that box, a close-up of her face."}}
astronaut = skdata.astronaut()
detector = feature.Cascade(skdata.lbp_frontal_face_cascade_filename())
found = detector.detect_multi_scale(
    img=astronaut, scale_factor=1.2, step_ratio=1, min_size=(60, 60), max_size=(200, 200)
)
print(f"faces found: {len(found)}", [(d["r"], d["c"], d["width"], d["height"]) for d in found])
assert len(found) == 1
box = found[0]
fig, axes = plt.subplots(1, 2, figsize=(6.5, 3.2), gridspec_kw={"width_ratios": [2, 1]})
axes[0].imshow(astronaut)
axes[0].add_patch(plt.Rectangle((box["c"], box["r"]), box["width"], box["height"], fill=False, color="yellow", lw=2))
axes[0].set_title("LBP cascade detection")
axes[1].imshow(astronaut[box["r"] : box["r"] + box["height"], box["c"] : box["c"] + box["width"]])
axes[1].set_title("the crop")
for ax in axes:
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## The book's identities
#
# To train and test a verification network we need many people with several photos each,
# offline. `faces.make_faces` draws synthetic faces: each identity has its own fixed face
# oval, skin, hair style and colour, eye spacing, size and colour, brows, nose, mouth, and
# sometimes glasses or a beard; each *image* of that identity differs in position, scale,
# tilt, lighting (overall and a gradient), expression (mouth curve, eye openness),
# background and noise. Identity $k$ looks the same in every call with the same seed, so
# different ranges of identities are different people. Each column below is one person:

# %% mystnb={"figure": {"caption": "Eight synthetic identities (columns), five images each (rows). Geometry and colours belong to the person; position, scale, tilt, lighting, expression, background and noise change from image to image.", "name": "fig-ch11-identities"}, "image": {"alt": "Grid of 40 small cartoon faces in 8 columns labelled id 0 to id 7, five rows each. Within a column the face shape and the skin, hair and eye colours stay the same, while the background colour, position, size and brightness change from row to row."}}
demo = faces.make_faces(8, 5, 32, seed=0)
grid = demo.images.view(8, 5, 3, 32, 32).transpose(0, 1).reshape(40, 3, 32, 32)
fig = plot.show_images(grid, titles=[f"id {int(i)}" for i in demo.ids.view(8, 5).T.reshape(-1)], ncols=8, size=1.1)

# %% [markdown]
# The split that matters is by **person**, not by image: the test identities must be people
# the encoder never saw, or we would measure memory instead of a similarity function.
# `faces.split_identities` puts 50 people in a validation set (used to choose $\tau$) and 100
# in a test set; the other 250 train the network:

# %%
# NBVAL_CHECK_OUTPUT
people = faces.make_faces(400, 8, 32, seed=0)
train_idx, val_idx, test_idx = faces.split_identities(people.ids, n_val=50, n_test=100, seed=0)
train_set, val_set, test_set = people.subset(train_idx), people.subset(val_idx), people.subset(test_idx)
for name, part in [("train", train_set), ("validation", val_set), ("test", test_set)]:
    print(f"{name:10s}: {len(torch.unique(part.ids)):3d} identities, {len(part):4d} images")
shared = set(train_set.ids.tolist()) & (set(val_set.ids.tolist()) | set(test_set.ids.tolist()))
print("identities shared between train and val/test:", len(shared))
assert not shared

# %% [markdown]
# For evaluation, `faces.make_pairs` draws pairs of images, half of the same person and half
# of different people (never an image with itself). The test pairs come from the 100 test
# identities only, the validation pairs from the 50 validation identities.

# %%
# NBVAL_CHECK_OUTPUT
test_i, test_j, test_same = faces.make_pairs(test_set.ids, 4000, seed=1)
val_i, val_j, val_same = faces.make_pairs(val_set.ids, 2000, seed=2)
print(f"test pairs: {len(test_same)} ({int(test_same.sum())} same, {int((~test_same).sum())} different)")
print(f"validation pairs: {len(val_same)} ({int(val_same.sum())} same)")

# %% [markdown]
# ### Pixels are not a similarity function
#
# The simplest $d$ is the Euclidean distance between the raw pixels. Its **ROC curve**
# (true-positive rate against false-positive rate as $\tau$ sweeps) and the area under it
# (**AUC**: 1 is perfect, 0.5 is chance) measure how well $d$ separates same from different
# pairs, for every $\tau$ at once. The AUC is also the probability that a random same-person
# pair is closer than a random different-person pair, which gives a from-scratch check of
# scikit-learn's `roc_auc_score` {cite}`pedregosa2011scikit`:


# %%
# NBVAL_CHECK_OUTPUT
def auc_by_counting(d, same):
    """P(d_same < d_different), ties counting one half: the AUC of the score -d."""
    d_same, d_diff = d[same][:, None], d[~same][None, :]
    return float((d_same < d_diff).double().mean() + 0.5 * (d_same == d_diff).double().mean())


pixels = test_set.images.flatten(1)
d_pixels = (pixels[test_i] - pixels[test_j]).norm(dim=1)
auc_pixels = roc_auc_score(test_same.numpy(), -d_pixels.numpy())
print(f"raw-pixel distance: AUC {auc_pixels:.3f} (by counting {auc_by_counting(d_pixels, test_same):.3f})")
assert abs(auc_pixels - auc_by_counting(d_pixels, test_same)) < 1e-9

# %% [markdown]
# An AUC of about 0.6 is barely better than chance: a change of background or lighting moves
# the pixels of one person more than a change of person does. The distance has to be taken
# somewhere else.
#
# ## Siamese networks
#
# A **siamese network** {cite}`bromley1993signature,taigman2014deepface` runs the *same*
# encoder, with the same weights, on both images and compares the two encodings:
#
# $$d(x^{(i)}, x^{(j)}) = \lVert f(x^{(i)}) - f(x^{(j)}) \rVert_2 .$$ (eq-ch11-siamese)
#
# The goal of learning is an encoding $f$ with $\lVert f(x^{(i)}) - f(x^{(j)}) \rVert^2$ small
# when $x^{(i)}$ and $x^{(j)}$ are the same person and large when they are different people.
# Our encoder is a small CNN (three conv-BN-ReLU-pool blocks and a linear layer) whose
# 32-number output is scaled to unit length, so that every distance lies in $[0, 2]$ and the
# network cannot cheat by shrinking or inflating all encodings:


# %%
# NBVAL_CHECK_OUTPUT
class FaceEncoder(nn.Module):
    """(N, 3, 32, 32) images -> (N, dim) encodings of unit length."""

    def __init__(self, dim: int = 32):
        super().__init__()

        def block(c_in, c_out):
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)
            )

        self.body = nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.Flatten(), nn.Linear(64 * 4 * 4, dim))

    def forward(self, x):
        return F.normalize(self.body(x), dim=1)


print(f"FaceEncoder: {models.count_parameters(FaceEncoder()):,} parameters")


# %% [markdown]
# ## The contrastive loss
#
# The lecture's first training signal works on **pairs**. With $D = \lVert f(x^{(i)}) -
# f(x^{(j)}) \rVert$ and a label $Y$:
#
# $$L(Y, D) = Y \, D^2 + (1 - Y) \, \max(0, m - D)^2 ,$$ (eq-ch11-contrastive)
#
# with the lecture's convention **$Y = 1$ for a pair of the same person and $Y = 0$ for
# different people**. Same-person pairs are pulled together (their loss is $D^2$); different
# people are pushed apart, but only until they are $m$ apart (the margin): beyond that they
# cost nothing, so the network spends no effort on pairs that are already easy.


# %%
def contrastive_from_scratch(f1, f2, y, margin):
    """Eq. (eq-ch11-contrastive), averaged over the pairs. f1, f2: (N, D); y: (N,) with 1 = same person."""
    d = torch.sqrt(((f1 - f2) ** 2).sum(dim=1))
    y = y.float()
    return (y * d**2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2).mean()


# %% [markdown]
# PyTorch has no contrastive loss of this form, so we check {eq}`eq-ch11-contrastive` three ways on random
# encodings: against a plain Python loop over the pairs, against the package's
# `faces.contrastive_loss`, and against the original paper's form
# {cite}`hadsell2006dimensionality`, which labels *similar* pairs 0 and puts a factor
# $\tfrac{1}{2}$ on both terms, $(1 - Y_H)\tfrac{1}{2}D^2 + Y_H \tfrac{1}{2}\max(0, m - D)^2$:
# with $Y_H = 1 - Y$ it is exactly half of ours.

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
f1, f2 = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
y = torch.tensor([1, 0, 1, 0, 0, 1])
margin = 3.0
mine = contrastive_from_scratch(f1, f2, y, margin)
loop = sum(
    float(yk) * float(((a - b) ** 2).sum()) + (1 - float(yk)) * max(0.0, margin - float((a - b).norm())) ** 2
    for a, b, yk in zip(f1, f2, y)
) / len(y)
d = (f1 - f2).norm(dim=1)
hadsell = ((1 - (1 - y)) * 0.5 * d**2 + (1 - y) * 0.5 * torch.clamp(margin - d, min=0) ** 2).mean()
print(
    f"from scratch {mine:.4f}   loop {loop:.4f}   package {faces.contrastive_loss(f1, f2, y, margin):.4f}   "
    f"2 x Hadsell {2 * hadsell:.4f}"
)
assert torch.allclose(mine, torch.tensor(loop)) and torch.allclose(mine, faces.contrastive_loss(f1, f2, y, margin))
assert torch.allclose(mine, 2 * hadsell)

# %% [markdown]
# ```{warning}
# **Two conventions.** The lecture's contrastive-loss slide carries no reference; the
# DeepFace citation {cite}`taigman2014deepface` on the neighbouring slides belongs to the
# siamese network, the learned similarity and the binary classification of pairs, and DeepFace
# itself trains its siamese variant with a cross-entropy loss. The contrastive loss is from
# Hadsell, Chopra and LeCun (2006) {cite}`hadsell2006dimensionality`, who use the opposite
# labels ($Y = 0$ for similar pairs) and a factor $\tfrac{1}{2}$; the lecture's formula is
# consistent with its own convention ($Y = 1$ similar), which this book follows.
# When you read code or papers, check which convention a contrastive loss uses: swapping
# the labels turns the loss upside down.
# ```
#
# The shape of the two terms, for $m = 1$:

# %% mystnb={"figure": {"caption": "The contrastive loss against the distance D between the two encodings (margin m = 1): same-person pairs (Y = 1) pay D squared; different people (Y = 0) pay only while they are closer than the margin.", "name": "fig-ch11-contrastive"}, "image": {"alt": "Line plot of loss against distance D from 0 to 2. The same-person curve (blue) is a parabola rising from 0 to 4; the different-people curve (orange) falls from 1 at D = 0 to 0 at the dashed margin line D = 1 and stays at 0 beyond it."}}
dist = torch.linspace(0, 2, 201)
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(dist, dist**2, label="Y = 1 (same): $D^2$")
ax.plot(dist, torch.clamp(1 - dist, min=0) ** 2, label="Y = 0 (different): $\\max(0, m - D)^2$")
ax.axvline(1.0, ls="--", color="gray", lw=1)
ax.set_xlabel("distance D")
ax.set_ylabel("loss")
ax.set_title("Contrastive loss, m = 1")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# ## The triplet loss
#
# The triplet loss {cite}`schroff2015facenet` looks at three images at once: an **anchor**
# $A$, a **positive** $P$ (another image of the same person) and a **negative** $N$ (somebody
# else). It asks the positive to be closer than the negative by at least a margin $\alpha$:
#
# $$\lVert f(A) - f(P) \rVert^2 + \alpha \le \lVert f(A) - f(N) \rVert^2 ,$$
#
# and penalises the amount by which a triplet breaks this:
#
# $$L = \sum_{i=1}^{N} \big[\, \lVert f(A_i) - f(P_i) \rVert^2 - \lVert f(A_i) - f(N_i) \rVert^2
# + \alpha \,\big]_+ .$$ (eq-ch11-triplet)
#
# The margin matters: without it, $f \equiv 0$ (all encodings equal) would satisfy the
# inequality with equality and cost nothing. FaceNet and the lecture use *squared*
# distances and a sum; PyTorch's `nn.TripletMarginLoss` uses plain Euclidean distances and a
# mean over the triplets. The from-scratch version takes both options:


# %%
def triplet_from_scratch(a, p, n, margin, squared=True):
    """Eq. (eq-ch11-triplet), averaged over the triplets. a, p, n: (N, D)."""
    d_ap, d_an = ((a - p) ** 2).sum(dim=1), ((a - n) ** 2).sum(dim=1)
    if not squared:
        d_ap, d_an = d_ap.sqrt(), d_an.sqrt()
    return torch.clamp(d_ap - d_an + margin, min=0).mean()


# %% [markdown]
# {eq}`eq-ch11-triplet` checked on random encodings against `nn.TripletMarginLoss` (plain distances; PyTorch adds
# $\epsilon = 10^{-6}$ inside the norm, hence the tolerance), against
# `nn.TripletMarginWithDistanceLoss` given the squared distance, and against the package:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(1)
a, p, n = (torch.randn(64, 16, generator=g) for _ in range(3))
for alpha in (0.2, 1.0):
    plain = triplet_from_scratch(a, p, n, alpha, squared=False)
    torch_plain = nn.TripletMarginLoss(margin=alpha, p=2)(a, p, n)
    sq = triplet_from_scratch(a, p, n, alpha)
    torch_sq = nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: ((x - y) ** 2).sum(1), margin=alpha)(
        a, p, n
    )
    print(
        f"alpha {alpha}: distance {plain:.4f} (TripletMarginLoss {torch_plain:.4f}), "
        f"squared {sq:.4f} (with distance fn {torch_sq:.4f}, package {faces.triplet_loss(a, p, n, alpha):.4f})"
    )
    assert torch.allclose(plain, torch_plain, atol=1e-4) and torch.allclose(sq, torch_sq)
    assert torch.allclose(sq, faces.triplet_loss(a, p, n, alpha))
    assert torch.allclose(plain, faces.triplet_loss(a, p, n, alpha, squared=False), atol=1e-6)

# %% [markdown]
# ## Choosing the triplets
#
# With $n$ training images there are on the order of $n^3$ triplets, and most are useless.
# Picked at random, $A$ and $P$ are usually close and $N$ is usually a person who looks
# nothing like $A$, so $d(A, P) + \alpha \le d(A, N)$ already holds and the triplet's loss
# and gradient are zero. The lecture's advice is to choose **hard** triplets, where
# $d(A, P) \approx d(A, N)$.
#
# A practical way is **batch-hard mining** {cite}`hermans2017defense`: draw batches of $P$
# people with $K$ images each (`faces.identity_batches`); encode the batch; for every
# anchor take the *farthest* image of the same person and the *closest* image of anyone
# else. From scratch, with the distance matrix of the batch:


# %%
def batch_hard_from_scratch(emb, ids):
    """For each anchor: (anchor, hardest positive, hardest negative) indices. emb: (B, D); ids: (B,)."""
    d = torch.cdist(emb, emb)
    anchors, positives, negatives = [], [], []
    for i in range(len(ids)):
        same = (ids == ids[i]) & (torch.arange(len(ids)) != i)
        other = ids != ids[i]
        if same.any() and other.any():
            anchors.append(i)
            positives.append(int(torch.where(same, d[i], -1.0).argmax()))
            negatives.append(int(torch.where(other, d[i], float("inf")).argmin()))
    return torch.tensor(anchors), torch.tensor(positives), torch.tensor(negatives)


# %% [markdown]
# On one $16 \times 4$ batch of training faces, encoded by an untrained network, the
# loop and the package's vectorised `faces.batch_hard_triplets` pick the same triplets.
# We also count the triplets that break the margin (the others give no gradient):

# %%
# NBVAL_CHECK_OUTPUT
device.seed_everything(0)
untrained = FaceEncoder().eval()
batch = next(faces.identity_batches(train_set.ids, p=16, k=4, n_batches=1, seed=0))
with torch.no_grad():
    emb = untrained(train_set.images[batch])
ids = train_set.ids[batch]
hard = batch_hard_from_scratch(emb, ids)
assert all(torch.equal(x, y) for x, y in zip(hard, faces.batch_hard_triplets(emb, ids)))
rand = faces.random_triplets(ids, generator=torch.Generator().manual_seed(0))
for name, (ai, pi, ni) in [("random", rand), ("batch-hard", hard)]:
    losses = faces.triplet_loss(emb[ai], emb[pi], emb[ni], 0.5, squared=False, reduction="none")
    print(
        f"{name:10s}: {len(ai)} triplets, {(losses > 0).float().mean():.0%} break the margin, "
        f"mean loss {losses.mean():.3f}"
    )

# %% [markdown]
# Before training every triplet breaks the margin: the untrained encoder puts all faces
# at similar distances. The batch-hard ones are already harder (a larger mean loss); the
# real difference appears during training, below.
#
# ## Training the encoder
#
# One training step: draw a batch of 16 people x 4 images, encode it, form triplets (random
# or batch-hard) or pairs (for the contrastive loss), take the loss, and step Adam. The
# losses use plain Euclidean distances with margin $\alpha = 0.5$ on the unit sphere, as
# Hermans et al. do for batch-hard mining {cite}`hermans2017defense`. (FaceNet, with squared
# distances, warns that the very hardest negatives from the first step can collapse the
# model to $f(x) = 0$, and picks **semi-hard** negatives instead {cite}`schroff2015facenet`:
# negatives farther from the anchor than the positive but still inside the margin,
# $d(A, P) < d(A, N) < d(A, P) + \alpha$ with $d$ the squared distance. They still break the
# margin, so they still teach, but they are never closer than the positive.)
# Every run has the same budget: 300 steps, the same data, the same schedule. We record the fraction of triplets that still break the margin, the
# ones that teach anything.

# %%
STEPS, P_PEOPLE, K_IMAGES, ALPHA, CONTRASTIVE_M = 300, 16, 4, 0.5, 1.0


def train_encoder(method, seed=0, steps=STEPS, head=None):
    """Train a FaceEncoder on train_set with method in {"random", "hard", "contrastive", "bce"}."""
    device.seed_everything(seed)
    model = FaceEncoder()
    params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    optimizer = torch.optim.Adam(params, lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    history = {"loss": [], "active": []}
    model.train()
    for step, idx in enumerate(faces.identity_batches(train_set.ids, P_PEOPLE, K_IMAGES, steps, seed=seed)):
        emb, ids = model(train_set.images[idx]), train_set.ids[idx]
        if method in ("random", "hard"):
            a, p, n = (
                faces.random_triplets(ids, generator=gen) if method == "random" else faces.batch_hard_triplets(emb, ids)
            )
            per_triplet = faces.triplet_loss(emb[a], emb[p], emb[n], ALPHA, squared=False, reduction="none")
            loss = per_triplet.mean()
            history["active"].append(float((per_triplet > 0).float().mean()))
        else:
            i, j, same = faces.make_pairs(ids, len(ids), seed=seed * 100_000 + step)
            if method == "contrastive":
                loss = faces.contrastive_loss(emb[i], emb[j], same, margin=CONTRASTIVE_M)
            else:  # "bce": DeepFace-style logistic unit on |f1 - f2|
                loss = F.binary_cross_entropy_with_logits(head((emb[i] - emb[j]).abs()).squeeze(1), same.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(float(loss))
    return model.eval(), history


@torch.no_grad()
def embed(model, images):
    return torch.cat([model(images[k : k + 400]) for k in range(0, len(images), 400)])


def pair_distances(model, part, i, j):
    e = embed(model, part.images)
    return (e[i] - e[j]).norm(dim=1)


# %% [markdown]
# Random against batch-hard triplets, two seeds each, then the contrastive loss (the
# timings are for this machine; the book's budget is measured in steps):

# %%
runs = {}
for method, seed in [("hard", 0), ("random", 0), ("hard", 1), ("random", 1), ("contrastive", 0)]:
    start = time.process_time()
    model, history = train_encoder(method, seed)
    d = pair_distances(model, test_set, test_i, test_j)
    runs[(method, seed)] = dict(model=model, history=history, auc=roc_auc_score(test_same.numpy(), -d.numpy()))
    print(
        f"{method:11s} seed {seed}: test AUC {runs[(method, seed)]['auc']:.4f}   "
        f"({time.process_time() - start:.1f} CPU-s)"
    )

# %%
auc_hard = np.mean([runs[("hard", s)]["auc"] for s in (0, 1)])
auc_random = np.mean([runs[("random", s)]["auc"] for s in (0, 1)])
print(
    f"mean test AUC: batch-hard {auc_hard:.4f}, random {auc_random:.4f}, "
    f"contrastive {runs[('contrastive', 0)]['auc']:.4f}, raw pixels {auc_pixels:.4f}"
)
claim(
    "ch11.mining.hard_minus_random_auc",  # batch-hard beats random with both seeds
    min(runs[("hard", s)]["auc"] for s in (0, 1)) - max(runs[("random", s)]["auc"] for s in (0, 1)),
    low=0.0,
)
claim("ch11.mining.learned_minus_pixels_auc", min(r["auc"] for r in runs.values()) - auc_pixels, low=0.3)

# %% [markdown]
# Every learned encoder leaves raw pixels far behind, and at the same number of steps
# batch-hard triplets beat random ones with both seeds, but only by a little: a mean test AUC
# of about 0.999 against about 0.99 (see the printed values; their last digits change from one
# machine to another), a gap small next to the 0.3 and more that separates any learned encoder
# from raw pixels. The clearer difference is in the fraction of triplets that still carry a
# gradient:


# %% mystnb={"figure": {"caption": "Training with random and batch-hard triplets (seed 0). Left: the fraction of triplets in each batch that still break the margin; random triplets become easy within the first hundred steps and stop teaching, batch-hard ones stay informative. Right: the loss (the two are not comparable in level: hard triplets are hard by construction).", "name": "fig-ch11-mining"}, "image": {"alt": "Two line plots against training step for random (blue) and hard (orange) triplets. Left, fraction breaking the margin: random drops from about 0.85 to under 0.2 by step 100; hard stays at 1 until step 100, then falls to about 0.55. Right: both losses fall, the hard loss staying higher."}}
def smooth(values, k=15):
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for method in ("random", "hard"):
    h = runs[(method, 0)]["history"]
    axes[0].plot(smooth(h["active"]), label=method)
    axes[1].plot(smooth(h["loss"]), label=method)
axes[0].set_ylabel("triplets breaking the margin")
axes[1].set_ylabel("triplet loss")
for ax in axes:
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle("random vs batch-hard triplet mining")
fig.tight_layout()

# %%
active_random = np.mean(runs[("random", 0)]["history"]["active"][-100:])
active_hard = np.mean(runs[("hard", 0)]["history"]["active"][-100:])
print(
    f"last 100 steps: {active_random:.0%} of random triplets and {active_hard:.0%} of batch-hard ones break the margin"
)
claim("ch11.mining.active_hard_over_random", active_hard / active_random, low=2.0)
# %% [markdown]
# ## Evaluation on people never seen in training
#
# From here on, the encoder is the batch-hard one (seed 0). The first picture: the distances
# of same-person and different-person test pairs. A good encoder separates the two
# histograms; $\tau$ goes in the gap.

# %%
encoder = runs[("hard", 0)]["model"]
d_test = pair_distances(encoder, test_set, test_i, test_j)
d_val = pair_distances(encoder, val_set, val_i, val_j)

# %% [markdown]
# ### Choosing $\tau$
#
# $\tau$ is a hyper-parameter and must be chosen on data that are neither the training
# identities (whose distances are optimistic) nor the test identities (which would then no
# longer be a test). `faces.best_threshold` sorts the validation distances and tries a cut
# between every two consecutive ones, keeping the most accurate; the chosen $\tau$ is then
# applied, unchanged, to the test pairs with `faces.verify`:

# %%
tau, val_accuracy = faces.best_threshold(d_val, val_same)
emb_test = embed(encoder, test_set.images)
decisions = faces.verify(emb_test[test_i], emb_test[test_j], tau)
test_accuracy = float((decisions == test_same).float().mean())
auc_test = roc_auc_score(test_same.numpy(), -d_test.numpy())
print(f"tau = {tau:.3f} (validation accuracy {val_accuracy:.4f})")
print(f"test identities: verification accuracy {test_accuracy:.4f}, AUC {auc_test:.4f}")
best_test_tau, best_test_acc = faces.best_threshold(d_test, test_same)
print(f"(the best tau for the test pairs would have been {best_test_tau:.3f}, accuracy {best_test_acc:.4f})")
claim("ch11.verification.test_accuracy", test_accuracy, low=0.90)
claim("ch11.verification.test_auc", auc_test, low=0.97)
# %% mystnb={"figure": {"caption": "Left: distances between encodings of test pairs (identities never seen in training); same-person pairs in blue, different people in orange, the threshold chosen on validation identities dashed. Right: the ROC curve of the learned distance against that of raw pixels, with the operating point of the chosen threshold.", "name": "fig-ch11-roc"}, "image": {"alt": "Left: histograms of test-pair distances; same-person pairs (blue) peak near 0.3, different people (orange) near 1.5, overlapping only slightly around the dashed threshold 0.65. Right: ROC curves; the learned encoder hugs the top-left corner (AUC 0.999), raw pixels bow only moderately above the diagonal (AUC 0.608)."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
bins = np.linspace(0, 2, 51)
axes[0].hist(d_test[test_same].numpy(), bins=bins, alpha=0.6, label="same person")
axes[0].hist(d_test[~test_same].numpy(), bins=bins, alpha=0.6, label="different people")
axes[0].axvline(tau, ls="--", color="k", label=f"tau = {tau:.2f}")
axes[0].set_xlabel("distance between encodings")
axes[0].set_ylabel("pairs")
axes[0].set_title("test pairs")
axes[0].legend()
for name, dist_values in [("learned encoder", d_test), ("raw pixels", d_pixels)]:
    fpr, tpr, _ = roc_curve(test_same.numpy(), -dist_values.numpy())
    axes[1].plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(test_same.numpy(), -dist_values.numpy()):.3f})")
tpr_tau = float(decisions[test_same].float().mean())
fpr_tau = float(decisions[~test_same].float().mean())
axes[1].plot([fpr_tau], [tpr_tau], "ko", label="chosen tau")
axes[1].plot([0, 1], [0, 1], ls=":", color="gray")
axes[1].set_xlabel("false-positive rate (strangers accepted)")
axes[1].set_ylabel("true-positive rate (owners accepted)")
axes[1].set_title("ROC on unseen identities")
axes[1].legend(loc="lower right")
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# ```{note}
# **Against published results.** On the standard test of Labeled Faces in the Wild
# {cite}`huang2008labeled`, 6,000 pairs of real photos, DeepFace reaches 97.35 % verification
# accuracy {cite}`taigman2014deepface` and FaceNet 99.63 % {cite}`schroff2015facenet`. Our
# accuracy of about 0.99 lands between them, but it is not comparable and says nothing about
# how our small encoder would do there. Our people are drawn from a handful of parameters, in
# roughly centred $32 \times 32$ images; the task does not test pose, age, occlusion by hands,
# hats or hair, real skin and lighting, lookalike relatives, the errors of a face detector,
# thousands of identities, or the very low false-accept rates a phone lock needs.
# ```
#
# A few verification decisions, with the distance printed over each pair:

# %% mystnb={"figure": {"caption": "Verification on test identities: pairs of images, their distance, and the decision d <= tau. The encoder looks past background, lighting and expression.", "name": "fig-ch11-pairs"}, "image": {"alt": "Two rows of four pairs of cartoon faces, each pair titled with its distance and decision. Top row: the same person on different backgrounds and lighting, distances 0.24 to 0.39, all judged same. Bottom row: different people, distances 1.15 to 1.79, all judged different."}}
show = torch.cat([torch.nonzero(test_same).flatten()[:4], torch.nonzero(~test_same).flatten()[:4]])
images, titles = [], []
for k in show.tolist():
    images += [test_set.images[test_i[k]], test_set.images[test_j[k]]]
    verdict = "same" if decisions[k] else "different"
    titles += [f"d = {d_test[k]:.2f}", f"-> {verdict}"]
fig = plot.show_images(images, titles, ncols=8, size=1.2)

# %% [markdown]
# ## Verification as binary classification
#
# DeepFace {cite}`taigman2014deepface` puts a trained layer on top of the siamese pair
# instead of a fixed distance: the absolute difference of the two encodings goes into a
# logistic unit,
#
# $$\hat y = \sigma\Big(\sum_k w_k \, \lvert f(x^{(i)})_k - f(x^{(j)})_k \rvert + b\Big),$$ (eq-ch11-deepface)
#
# trained as a binary classifier on pairs labelled 1 (same) and 0 (different). The weights
# $w_k$ are the lecture's $\alpha_i$ in $d(f_1, f_2) = \sum_i \alpha_i \lvert f_1[i] - f_2[i] \rvert$:
# a weighted L1 distance whose weights are learned. (DeepFace also tries a weighted
# $\chi^2$ distance, $\sum_i w_i (f_1[i] - f_2[i])^2 / (f_1[i] + f_2[i])$, meant for
# non-negative features.) We try it two ways: a logistic regression fitted on the validation
# pairs' $|f_1 - f_2|$ of the triplet encoder, and a siamese network trained end to end with
# binary cross-entropy through this unit.

# %%
emb_val = embed(encoder, val_set.images)
logreg = LogisticRegression(C=10.0, max_iter=2000)
logreg.fit((emb_val[val_i] - emb_val[val_j]).abs().numpy(), val_same.numpy())
acc_logreg = logreg.score((emb_test[test_i] - emb_test[test_j]).abs().numpy(), test_same.numpy())

start = time.process_time()
device.seed_everything(0)
bce_head = nn.Linear(32, 1)
bce_encoder, _ = train_encoder("bce", seed=0, head=bce_head)
with torch.no_grad():
    e = embed(bce_encoder, test_set.images)
    p_same = torch.sigmoid(bce_head((e[test_i] - e[test_j]).abs()).squeeze(1))
acc_bce = float(((p_same > 0.5) == test_same).float().mean())
auc_bce = roc_auc_score(test_same.numpy(), p_same.numpy())
print(f"end-to-end BCE training: {time.process_time() - start:.1f} CPU-s")

# %%
contrastive_model = runs[("contrastive", 0)]["model"]
tau_c, _ = faces.best_threshold(pair_distances(contrastive_model, val_set, val_i, val_j), val_same)
acc_contrastive = float(
    (faces.verify(*(lambda e: (e[test_i], e[test_j]))(embed(contrastive_model, test_set.images)), tau_c) == test_same)
    .float()
    .mean()
)
print("verification accuracy on the test identities:")
print(f"  triplet encoder (batch-hard), d <= tau      {test_accuracy:.4f}")
print(f"  triplet encoder + logistic regression      {acc_logreg:.4f}")
print(f"  contrastive encoder, d <= tau              {acc_contrastive:.4f}")
print(f"  siamese + logistic unit, end to end (BCE)   {acc_bce:.4f}  (AUC {auc_bce:.4f})")
claim("ch11.pairs.logreg_accuracy", acc_logreg, low=0.9)
claim("ch11.pairs.contrastive_accuracy", acc_contrastive, low=0.9)
claim("ch11.pairs.bce_accuracy", acc_bce, low=0.8)
claim("ch11.pairs.bce_gap", min(test_accuracy, acc_logreg) - acc_bce, low=-0.01)  # end to end is not ahead

# %% [markdown]
# The logistic regression on $|f_1 - f_2|$ learns a weight per dimension, but the triplet
# encoder has already made the plain distance meaningful, so it gains little over
# $d \le \tau$. The siamese network trained end to end as a binary classifier lags behind at
# this budget (by 5 to 11 points in the runs we measured over seeds and CPU kernels; the band
# asserted is wider, for machines we did not try): each step gives it 64 labelled pairs, most of them easy different-person
# pairs, where batch-hard mining draws its hardest comparisons from all $64 \times 63$ in
# the batch. DeepFace trained on 4.4 million photos of 4,030 people; with little training,
# the metric losses use each batch better. A pair classifier also gives a probability for one *pair*,
# not a distance by which to rank a whole database.
#
# ## Recognition with "not recognised"
#
# Now the 1:K task. The database holds **one** image of each of $K = 20$ test people (one-shot:
# the encoder never saw them, and nothing is retrained when they are added). The queries are
# the other 7 images of those 20 people, and every image of the other 80 test people, who are
# strangers to the database. `faces.recognise` answers with the nearest database entry when
# its distance is at most $\tau$, else with `faces.NOT_RECOGNISED` (-1):


# %%
def recognition_setup(part, emb, n_known):
    """Database: the first image of each of the first n_known people of `part`; queries: all other images."""
    known_people = torch.unique(part.ids)[:n_known]
    first = torch.tensor([int(torch.nonzero(part.ids == person)[0]) for person in known_people])
    is_query = torch.ones(len(part), dtype=torch.bool)
    is_query[first] = False
    return dict(
        database=emb[first],
        database_ids=part.ids[first],
        queries=emb[is_query],
        truth=part.ids[is_query],
        known=torch.isin(part.ids[is_query], known_people),
    )


def recognition_rates(setup, threshold):
    """(fraction of known people's queries answered with the right identity, fraction of strangers rejected)."""
    answers, _ = faces.recognise(setup["queries"], setup["database"], setup["database_ids"], threshold)
    known = setup["known"]
    known_correct = float((answers[known] == setup["truth"][known]).float().mean())
    strangers_rejected = float((answers[~known] == faces.NOT_RECOGNISED).float().mean())
    return known_correct, strangers_rejected


test_db = recognition_setup(test_set, emb_test, n_known=20)
known_acc, stranger_rej = recognition_rates(test_db, tau)
print(
    f"database: {len(test_db['database'])} people, one image each; queries: {int(test_db['known'].sum())} of "
    f"known people, {int((~test_db['known']).sum())} of strangers"
)
print(
    f"verification tau = {tau:.3f}: known people recognised correctly {known_acc:.1%}, strangers rejected {stranger_rej:.1%}"
)

# %% [markdown]
# Most members are recognised, but too many strangers get in: the verification threshold
# was chosen for *one* comparison, and a stranger compared with 20 people has 20 chances to
# fall within $\tau$ of one of them. Recognition needs its own threshold, chosen the same
# honest way: on the validation identities, with a database of 10 of the 50 validation
# people (the same one-to-four mix of members and strangers), maximising the mean of the two
# rates. It is then applied, unchanged, to the test database:

# %%
val_db = recognition_setup(val_set, emb_val, n_known=10)
taus = np.linspace(0.1, 1.4, 131)
val_rates = np.array([recognition_rates(val_db, float(t)) for t in taus])
tau_recognition = float(taus[np.argmax(val_rates.mean(axis=1))])
known_acc_r, stranger_rej_r = recognition_rates(test_db, tau_recognition)
print(f"recognition tau = {tau_recognition:.3f} (chosen on validation identities)")
print(f"test: known people recognised correctly {known_acc_r:.1%}, strangers rejected {stranger_rej_r:.1%}")
claim("ch11.recognition.tau_below_verification_tau", tau - tau_recognition, low=-0.01)  # 0.08-0.16 in our runs
claim("ch11.recognition.rejection_gain", stranger_rej_r - stranger_rej, low=0.0)
claim("ch11.recognition.known_accuracy", known_acc_r, low=0.8)
claim("ch11.recognition.strangers_rejected", stranger_rej_r, low=0.8)
# %% [markdown]
# One mismatch remains: the threshold was tuned with a database of 10 people and is used
# with one of 20. Every extra member is one more chance for a stranger to fall within $\tau$
# of somebody, so the same $\tau$ lets more strangers in against the larger database: a
# threshold balanced on 10 members is somewhat too lenient for 20, and the rejection rate seen
# on validation is an optimistic guide to the test one. We kept the one-to-four mix of
# members and strangers rather than the size (50 validation people cannot give both 20
# members and 80 strangers); a tuning database of the deployed size would be the fairer
# choice, at the price of fewer strangers to tune on.
#
# The whole trade-off on the test database, as a function of $\tau$:

# %% mystnb={"figure": {"caption": "Recognition against a one-shot database of 20 test people: the fraction of known people recognised correctly and of strangers rejected, as the threshold grows. The verification threshold (dotted) lets many strangers in; the recognition threshold chosen on validation identities (dashed) balances the two.", "name": "fig-ch11-recognition"}, "image": {"alt": "Line plot against threshold tau: known people recognised (blue) rises from 0 to 1 by about 0.65; strangers rejected (orange) stays at 1 until about 0.45, then falls to 0 by about 1.1. They cross near the dashed recognition tau 0.53; at the dotted verification tau 0.65 only about 70% of strangers are rejected."}}
test_rates = np.array([recognition_rates(test_db, float(t)) for t in taus])
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(taus, test_rates[:, 0], label="known people recognised")
ax.plot(taus, test_rates[:, 1], label="strangers rejected")
ax.axvline(tau, ls=":", color="gray", label=f"verification tau = {tau:.2f}")
ax.axvline(tau_recognition, ls="--", color="k", label=f"recognition tau = {tau_recognition:.2f}")
ax.set_xlabel("threshold tau")
ax.set_ylabel("fraction of queries")
ax.set_title("Recognition with 'not recognised', K = 20 (test identities)")
ax.legend(fontsize="small")
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# ## Real faces (online option)
#
# With downloads allowed (`CVBOOK_ONLINE=1`, for instance in Colab), `faces.load_lfw` fetches
# Labeled Faces in the Wild {cite}`huang2008labeled` through scikit-learn (the people with at
# least 20 photos, in colour, resized to $32 \times 32$), and the cell below trains the same
# recipe on some of them and tests it on the others. Offline, or if the download fails, it
# prints a notice within seconds and returns synthetic faces of 60 people drawn with another
# seed, so unlike any person seen so far; the cell then tests the encoder trained above on
# that second population.

# %%
real = faces.load_lfw(32, min_faces_per_person=20, fallback=(60, 8))
r_i, r_j, r_same = faces.make_pairs(real.ids, 2000, seed=3)
if real.source == "lfw":
    r_train, _, r_test = faces.split_identities(real.ids, 0, len(torch.unique(real.ids)) // 3, seed=0)
    saved_train = train_set
    train_set = real.subset(r_train)
    lfw_model, _ = train_encoder("hard", seed=0)
    train_set = saved_train
    held_out = real.subset(r_test)
    h_i, h_j, h_same = faces.make_pairs(held_out.ids, 2000, seed=3)
    auc_real = roc_auc_score(h_same.numpy(), -pair_distances(lfw_model, held_out, h_i, h_j).numpy())
    print(f"LFW: {len(torch.unique(real.ids))} people; encoder trained on LFW, AUC on held-out people {auc_real:.3f}")
else:
    auc_real = roc_auc_score(r_same.numpy(), -pair_distances(encoder, real, r_i, r_j).numpy())
    print(
        f"{len(torch.unique(real.ids))} synthetic people of seed 1: AUC {auc_real:.4f} with the encoder trained above"
    )
    claim("ch11.second_population_auc", auc_real, low=0.97)

# %% [markdown]
# On real faces at $32 \times 32$ a small encoder trained from scratch on a few thousand
# photos does much worse than on our synthetic people: real faces vary in pose, age and
# occlusion, and production systems train deeper networks on far more data (DeepFace on 4.4
# million photos of 4,030 people, FaceNet on 100 to 200 million photos of about 8 million
# people) {cite}`taigman2014deepface,schroff2015facenet`. The method is the same.

# %%
print(f"chapter CPU time: {time.process_time() - cpu_start:.0f} s")

# %% [markdown]
# ## Key takeaways
#
# - **Verification** is 1:1 (is this the claimed person?), **recognition** 1:K with a
#   "not recognised" answer; both are one-shot: a new person brings one photo and nothing is
#   retrained.
# - Learn a **similarity function** $d(\text{img}_1, \text{img}_2) = \lVert f(x_1) - f(x_2)\rVert$
#   with a **siamese** encoder (shared weights) and decide "same" when $d \le \tau$.
# - **Contrastive loss** $Y D^2 + (1 - Y)\max(0, m - D)^2$ with $Y = 1$ for the same person
#   (Hadsell et al. label the other way and halve it); **triplet loss**
#   $[\lVert f(A) - f(P)\rVert^2 - \lVert f(A) - f(N)\rVert^2 + \alpha]_+$ (PyTorch's
#   `TripletMarginLoss` uses unsquared distances and a mean). Both checked against the formula
#   and PyTorch.
# - Random triplets are soon too easy to teach anything (at the end of training batch-hard
#   triplets broke the margin more than twice as often as random ones); **batch-hard** mining
#   gave the higher test AUC at the same budget with both seeds, though by a small margin
#   (about 0.999 against 0.99).
# - Raw pixels separate same from different people with an AUC of about 0.61; the learned
#   encoder reaches an AUC above 0.97 (close to 1) and a verification accuracy above 0.9 on
#   **people it never saw**, with $\tau$ chosen on validation identities and applied unchanged to the test.
#   These are easy synthetic faces: not comparable with FaceNet's 99.63 % on real photos (LFW).
# - DeepFace's logistic unit on $|f_1 - f_2|$ (the learned weights $\alpha_i$ of
#   $\sum_i \alpha_i |f_1[i] - f_2[i]|$) matches the plain distance on top of the triplet
#   encoder; trained end to end from scratch it needs more data than our budget gives.
# - Recognition needs its own threshold: the verification $\tau$ let many strangers in against
#   a database of 20; a smaller $\tau$ chosen for recognition on validation identities
#   recognised more than 80 % of members and rejected more than 80 % of strangers.
#
# ## Exercises
#
# The exercise notebook asks you to write the triplet and contrastive losses, a verification
# function with a threshold, recognition with "not recognised", and the choice of $\tau$ on
# validation pairs.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch11/ch11_exercises.ipynb)
# or on GitHub:
# [`exercises/ch11/ch11_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch11/ch11_exercises.ipynb).
