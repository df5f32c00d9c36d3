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
# # Evaluating classifiers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/08_evaluating_classifiers.ipynb)
#
# So far every model in this book was judged by one number, its accuracy on a test set.
# That number hides a lot: *which* classes are confused, whether the rare class is found at
# all, and what would happen if we asked the model to be more or less sure before it
# answers. This chapter builds the standard toolbox for those questions: the confusion
# matrix; precision, recall and F1 with their macro, micro and weighted averages; the
# trade-off between precision and recall as the confidence threshold moves; the ROC curve
# and its area; and the precision-recall curve with **average precision** (AP), the
# number that object detection (Chapter 9) is ranked by. Every metric is built from
# scratch in NumPy, then taken from the book's package `cvbook.metrics`, and checked
# against scikit-learn {cite}`pedregosa2011scikit`. The chapter follows the evaluation
# parts of lectures 001 and 003 {cite}`cnn_recap_lecture,detection_eval_notes`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - compute a confusion matrix, accuracy, precision, recall and F1 by hand and in code, for
#   two classes and for many (macro, micro and weighted averages);
# - recognise the imbalanced-data trap: a high accuracy with a useless recall;
# - explain how precision and recall move with the confidence threshold, and draw the
#   ROC and precision-recall curves of a classifier;
# - compute the area under the ROC curve (AUC) by the trapezoid rule and read it as a
#   ranking probability;
# - compute average precision from a ranked list, with the lectures' formula and with the
#   interpolated variants of PASCAL VOC (all-point and 11-point), and the mAP over classes;
# - evaluate a trained CNN with a per-class report, a confusion matrix and one-vs-rest curves.

# %% [markdown]
# ## Setup

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn import metrics as skm
from torch import nn

from cvbook import data, device, metrics, models, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## The confusion matrix and four numbers
#
# A binary classifier says "positive" or "negative"; the truth is one or the other. Every
# prediction lands in one of four cells:
#
# - **TP** (true positive): positive, predicted positive;
# - **FN** (false negative): positive, predicted negative, a *miss*;
# - **FP** (false positive): negative, predicted positive, a *false alarm*;
# - **TN** (true negative): negative, predicted negative.
#
# The table of these four counts is the **confusion matrix**. From it come the four
# numbers of lecture 001:
#
# $$\text{accuracy} = \frac{TP + TN}{TP + TN + FP + FN}, \qquad
# \text{precision} = \frac{TP}{TP + FP}, \qquad
# \text{recall} = \frac{TP}{TP + FN},$$ (eq-ch08-prf)
#
# $$F_1 = 2\,\frac{\text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}
# = \frac{2\,TP}{2\,TP + FP + FN}.$$ (eq-ch08-f1)
#
# Precision asks "of what I flagged, how much was right?"; recall asks "of what was there,
# how much did I find?". Neither looks at TN. $F_1$ is their harmonic mean, which stays
# close to the smaller of the two: one cannot buy a good $F_1$ with one excellent number
# and one bad one. (The right-hand form of {eq}`eq-ch08-f1` follows by substituting the
# definitions; it stays defined when precision is $0/0$.)
#
# A worked example: a screening test is run on 100 people, 10 of whom are ill. It flags 9
# people, 4 of them ill. So TP = 4, FP = 5, FN = 6 and TN = 85. In code, from scratch,
# with the labels as two arrays (1 = ill):

# %%
# NBVAL_CHECK_OUTPUT
y_true = np.array([1] * 10 + [0] * 90)
y_pred = np.array([1] * 4 + [0] * 6 + [1] * 5 + [0] * 85)
tp = int(np.sum((y_true == 1) & (y_pred == 1)))
fn = int(np.sum((y_true == 1) & (y_pred == 0)))
fp = int(np.sum((y_true == 0) & (y_pred == 1)))
tn = int(np.sum((y_true == 0) & (y_pred == 0)))
acc = (tp + tn) / (tp + tn + fp + fn)
precision, recall = tp / (tp + fp), tp / (tp + fn)
f1 = 2 * precision * recall / (precision + recall)
print(f"TP={tp} FN={fn} FP={fp} TN={tn}")
print(f"accuracy {acc:.3f}, precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
assert np.isclose(f1, 2 * tp / (2 * tp + fp + fn))

# %% [markdown]
# The package does the same with `metrics.confusion_matrix` and
# `metrics.precision_recall_f1`. Its matrix puts the **true** class in the rows and the
# **predicted** class in the columns, classes in the order 0, 1, ... (so the binary matrix
# reads `[[TN, FP], [FN, TP]]`), which is scikit-learn's convention too:

# %%
# NBVAL_CHECK_OUTPUT
cm = metrics.confusion_matrix(y_true, y_pred)
print(cm)
ours = (metrics.accuracy(cm), *metrics.precision_recall_f1(cm, average="binary"))
theirs = (
    skm.accuracy_score(y_true, y_pred),
    *skm.precision_recall_fscore_support(y_true, y_pred, average="binary")[:3],
)
print("cvbook:      ", np.round(ours, 3))
print("scikit-learn:", np.round(theirs, 3))
assert (cm == skm.confusion_matrix(y_true, y_pred)).all() and np.allclose(ours, theirs)
assert np.allclose(ours, (acc, precision, recall, f1))

# %% [markdown]
# ```{warning}
# **Which way round?** Lecture 001 draws the matrix with the actual class in the rows and
# the *positive* class first (`[[TP, FN], [FP, TN]]`); lecture 003 draws it transposed, the
# *prediction* in the rows (`[[TP, FP], [FN, TN]]`). Both are in use; neither is wrong, but a
# matrix is unreadable until you know which one you have. scikit-learn, PyTorch's metric
# libraries and this book use rows = truth, columns = prediction, labels in increasing
# order, which puts TN in the top-left corner of a binary matrix.
# ```
#
# ## The imbalanced-data trap
#
# The screening test above is 89 % accurate. A "test" that declares *everyone* healthy is
# 90 % accurate, because 90 of the 100 people are healthy. It never finds anyone:

# %%
# NBVAL_CHECK_OUTPUT
nobody = np.zeros_like(y_true)
p, r, f = metrics.precision_recall_f1(y_true, nobody, average="binary")
print(
    f"'everyone is healthy': accuracy {metrics.accuracy(y_true, nobody):.3f}, "
    f"precision {p:.3f} (0/0), recall {r:.3f}, F1 {f:.3f}"
)
print(f"the screening test:   accuracy {acc:.3f}, precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")

# %% [markdown]
# When one class makes up 90 % of the data, accuracy measures mostly how well the model
# recognises that class. Precision and recall ignore the true negatives and expose the
# useless classifier at once: its recall is 0, and its precision is $0/0$ (no positive
# prediction at all; scikit-learn, like `cvbook.metrics`, reports 0 and lets you choose
# with `zero_division`).
#
# The same happens with a real model. We train a logistic regression (a single linear
# layer on the 64 pixels, with `train.fit` and a binary cross-entropy loss) to answer
# "is this digit an 8?" on the book's handwritten digits. About one digit in ten is an 8,
# so the positives are rare, and five epochs leave the model cautious:

# %%
train_digits, test_digits = data.load_digits("train"), data.load_digits("test")
POSITIVE = 8


def is_positive(dataset):
    return data.TensorImageDataset(dataset.images, (dataset.targets == POSITIVE).float())


device.seed_everything(0)
detector = nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.Flatten(0))
train.fit(
    detector,
    data.make_loader(is_positive(train_digits), 64, shuffle=True),
    loss_fn=nn.BCEWithLogitsLoss(),
    optimizer=torch.optim.Adam(detector.parameters(), lr=0.05),
    epochs=5,
)
logits, targets = train.predict(detector, data.make_loader(is_positive(test_digits), 256))
scores = torch.sigmoid(logits).numpy()  # the model's confidence that the digit is an 8
labels = targets.numpy().astype(int)

# %%
# NBVAL_CHECK_OUTPUT
baseline = metrics.accuracy(labels, np.zeros_like(labels))
print(f"{len(labels)} test digits, {labels.sum()} of them eights; always 'not an 8': accuracy {baseline:.3f}")

# %% [markdown]
# Those counts are exact. What the trained model makes of them is a measured number: it
# differs in the last digits from one CPU to another, so the cell below states its claims
# as bands (`claim`, Chapter 1) instead of comparing digits:

# %%
predicted = (scores >= 0.5).astype(int)
p, r, f = metrics.precision_recall_f1(labels, predicted, average="binary")
print("confusion matrix [[TN, FP], [FN, TP]]:", metrics.confusion_matrix(labels, predicted).tolist())
print(f"accuracy {metrics.accuracy(labels, predicted):.3f} (always 'not an 8': {baseline:.3f})")
print(f"precision {p:.3f}, recall {r:.3f}, F1 {f:.3f}")
claim("ch08.detector.accuracy", metrics.accuracy(labels, predicted), low=0.93)  # high accuracy ...
claim("ch08.detector.recall", r, high=0.5)  # ... most eights missed
_ = claim("ch08.detector.precision", p, low=0.8)  # ... but reliable flags

# %% [markdown]
# About 94 % accurate, only a few points above doing nothing, and it misses most of the 43
# eights. Its flags are reliable (a high
# precision), but it flags too little. Whether that is acceptable depends on the
# application (a missed tumour costs more than a false alarm; a spam filter is the other
# way round), and no single accuracy number can tell. The next sections show that the
# model is much better than its recall suggests: the threshold of 0.5 is the problem.
#
# ## Precision and recall against the confidence threshold
#
# A classifier that outputs a confidence $s$ (a probability, a logit) becomes a decision
# rule only with a **threshold** $t$: predict "positive" when $s \ge t$. Lecture 003
# describes the trade-off: raise $t$ and the model answers "positive" less often, so it
# makes fewer false alarms (precision tends to rise) and finds fewer positives (recall
# falls); lower $t$ and the reverse. We sweep $t$ by hand over a few values first:

# %%
print("threshold  flagged  precision  recall     F1")
sweep_recall = {}
for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7):
    flagged = scores >= t
    tp_t = np.sum(flagged & (labels == 1))
    p_t, r_t = tp_t / flagged.sum(), tp_t / labels.sum()
    sweep_recall[t] = r_t
    print(f"{t:9.2f} {flagged.sum():8d} {p_t:10.3f} {r_t:7.3f} {2 * p_t * r_t / (p_t + r_t):6.3f}")
_ = claim("ch08.detector.recall_gain_at_0_1", sweep_recall[0.1] - sweep_recall[0.5], low=0.2)
# %% [markdown]
# At a threshold of 0.1 the same model finds far more of the eights, at a modest cost in
# precision. Every distinct score is a possible threshold; `metrics.precision_recall_curve`
# evaluates all of them at once (sorting the scores and accumulating TP and FP counts, one
# point per distinct score, highest threshold first):

# %% mystnb={"figure": {"caption": "Precision, recall and F1 of the 8-detector against the confidence threshold. Recall can only fall as the threshold rises; precision tends to rise but is not monotonic: it falls wherever a step of the threshold drops more true positives than false ones. The dash-dotted grey line is the default threshold 0.5.", "name": "fig-ch08-threshold"}, "image": {"alt": "Line plot of precision, recall and F1 against the threshold from 0 to 0.8, with a vertical dash-dotted line at 0.5; precision solid, recall dashed, F1 dotted. Recall falls steadily from 1 to near 0; precision climbs from about 0.1 to above 0.9 by 0.35 and dips near 0.7; F1 peaks near 0.73 around thresholds 0.2 to 0.3."}}
pr_precision, pr_recall, pr_thresholds = metrics.precision_recall_curve(scores, labels)
pr_f1 = 2 * pr_precision * pr_recall / (pr_precision + pr_recall)
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(pr_thresholds, pr_precision, "-", label="precision")
ax.plot(pr_thresholds, pr_recall, "--", label="recall")
ax.plot(pr_thresholds, pr_f1, ":", lw=2, label="F1", color="C2")  # line styles too: not colour alone
ax.axvline(0.5, ls="-.", lw=0.8, color="gray")
ax.set_xlabel("confidence threshold t (predict 8 when score >= t)")
ax.set_ylabel("value")
ax.set_title("Precision and recall against the threshold")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %% [markdown]
# The threshold with the best $F_1$ on the test set (choosing it on test data is cheating
# in a real project: pick it on a validation set) is well below 0.5:

# %%
best = int(np.argmax(pr_f1))
dips = int(np.sum(pr_precision[:-1] < pr_precision[1:]))
print(
    f"best F1 {pr_f1[best]:.3f} at threshold {pr_thresholds[best]:.3f} "
    f"(precision {pr_precision[best]:.3f}, recall {pr_recall[best]:.3f})"
)
print(f"recall never rises with the threshold: {bool(np.all(np.diff(pr_recall) >= 0))}")
print(f"precision falls as the threshold rises at {dips} of {len(pr_thresholds) - 1} steps")
assert np.all(np.diff(pr_recall) >= 0)  # always true: the flagged set only grows
claim("ch08.detector.best_f1_gain", pr_f1[best] - f, low=0.15)
claim("ch08.detector.best_f1_threshold", pr_thresholds[best], high=0.45)
_ = claim("ch08.detector.precision_dips", dips, low=1)
# %% [markdown]
# ```{warning}
# **Precision is not monotone in the threshold.** Lecture 003 states that a higher
# threshold leads to higher precision. That is the tendency, not a rule: recall can only
# fall as $t$ rises (the set of flagged samples shrinks), but precision falls whenever the
# samples dropped by the higher threshold were mostly true positives. The curve above has
# dips (the cell above counts them), and so does the ranked list in the AP section below
# (precision $0.75$ with four items flagged, $0.67$ with three).
# ```
#
# ## The ROC curve and the area under it
#
# The **receiver operating characteristic** (ROC) curve {cite}`fawcett2006introduction`
# plots, for every threshold, the **true-positive rate** against the **false-positive
# rate**:
#
# $$\text{TPR} = \frac{TP}{TP + FN} = \text{recall}, \qquad \text{FPR} = \frac{FP}{FP + TN}.$$ (eq-ch08-roc)
#
# The curve runs from $(0, 0)$ (threshold above every score: nothing flagged) to $(1, 1)$
# (everything flagged). A perfect ranking goes straight up to $(0, 1)$; a random one follows
# the diagonal. From scratch: each distinct score is a threshold, and a boolean matrix
# (thresholds × samples) says what is flagged at each.

# %%
thresholds = np.r_[np.inf, np.unique(scores)[::-1]]  # descending, "nothing flagged" first
flagged = scores[None, :] >= thresholds[:, None]  # (T, N)
tpr = (flagged & (labels == 1)).sum(axis=1) / labels.sum()
fpr = (flagged & (labels == 0)).sum(axis=1) / (labels == 0).sum()
print(f"{len(thresholds)} thresholds, {flagged.shape[1]} samples")

# %% [markdown]
# The **area under the curve** (AUC) sums trapezoids between consecutive points:
#
# $$\text{AUC} = \sum_{i} (x_{i+1} - x_i)\,\frac{y_i + y_{i+1}}{2},$$ (eq-ch08-trapezoid)
#
# with $x = \text{FPR}$ and $y = \text{TPR}$. It lies in $[0, 1]$: 1 for a perfect ranking,
# 0.5 for a random one (and below 0.5 for a ranking that is worse than random, which
# flipping its output would fix). The package has the curve and the rule as
# `metrics.roc_curve` and `metrics.auc`; both agree with ours and with scikit-learn's:

# %%
# NBVAL_CHECK_OUTPUT
auc_scratch = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
roc_fpr, roc_tpr, roc_thresholds = metrics.roc_curve(scores, labels)
sk_fpr, sk_tpr, sk_thresholds = skm.roc_curve(labels, scores, drop_intermediate=False)
assert np.allclose(roc_fpr, fpr) and np.allclose(roc_tpr, tpr) and np.array_equal(roc_thresholds, thresholds)
assert np.allclose(roc_fpr, sk_fpr) and np.allclose(roc_tpr, sk_tpr)
print("ROC curve: from scratch = cvbook = scikit-learn:", True)
print(
    "AUC: from scratch = cvbook:",
    np.isclose(auc_scratch, metrics.auc(roc_fpr, roc_tpr)),
    "| = scikit-learn:",
    np.isclose(auc_scratch, skm.roc_auc_score(labels, scores)),
)

# %%
print(
    f"AUC from scratch {auc_scratch:.4f}, cvbook {metrics.auc(roc_fpr, roc_tpr):.4f}, "
    f"scikit-learn {skm.roc_auc_score(labels, scores):.4f}"
)

# %% [markdown]
# The AUC has a second meaning that needs no curve at all {cite}`hanley1982meaning`: it is
# the probability that a randomly chosen positive gets a higher score than a randomly
# chosen negative (ties count one half). Comparing all positive-negative pairs gives the
# same number:

# %%
# NBVAL_CHECK_OUTPUT
difference = scores[labels == 1][:, None] - scores[labels == 0][None, :]
pairwise = float(np.mean((difference > 0) + 0.5 * (difference == 0)))
assert np.isclose(pairwise, metrics.roc_auc(scores, labels))
print(
    f"{difference.size:,} positive-negative pairs; the fraction ranked right equals the AUC:",
    np.isclose(pairwise, auc_scratch),
)

# %%
print(f"P(positive ranked above negative) = {pairwise:.4f}")
_ = claim("ch08.detector.auc", pairwise, low=0.9)
# %% [markdown]
# So the cautious 8-detector *ranks* very well: an 8 outscores a non-8 in more than nine
# pairs out of ten. Its poor recall at 0.5 was a problem of the operating point (where
# the decision threshold sits), not of ranking. The AUC does not depend on any threshold,
# which is why the lecture recommends curves over single operating points.

# %% mystnb={"figure": {"caption": "ROC curve of the 8-detector. The dot is the default threshold 0.5; the dashed diagonal is a random ranking (AUC 0.5).", "name": "fig-ch08-roc"}, "image": {"alt": "Square ROC plot of true-positive rate against false-positive rate. The curve rises almost vertically at the left edge and reaches 1 by a false-positive rate of about 0.3, far above the dashed diagonal; the dot for threshold 0.5 sits on the left edge at a true-positive rate near 0.37."}}
at_half = np.searchsorted(-roc_thresholds, -0.5, side="right") - 1  # last threshold >= 0.5
fig, ax = plt.subplots(figsize=(4.5, 4.2))
ax.plot(roc_fpr, roc_tpr, label=f"8-detector (AUC {metrics.auc(roc_fpr, roc_tpr):.3f})")
ax.plot([0, 1], [0, 1], "--", color="gray", label="random (AUC 0.5)")
ax.plot(roc_fpr[at_half], roc_tpr[at_half], "o", color="C3", label="threshold 0.5")
ax.set_xlabel("false-positive rate FP / (FP + TN)")
ax.set_ylabel("true-positive rate (recall)")
ax.set_title("ROC curve")
ax.set_aspect("equal")
ax.grid(alpha=0.3)
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()

# %% [markdown]
# ```{warning}
# **The ROC curve is not a precision-recall curve.** Lecture 003 introduces the ROC curve
# with "record precision and recall at different confidence levels". The ROC curve records
# the true-positive rate (recall) against the *false-positive rate*; precision does not
# appear in it. The curve of precision against recall is the precision-recall curve of the
# next section, and it is *its* area that average precision approximates. The lecture's
# "AP (computes AUC)" therefore means the area under the PR curve, a different number from
# the ROC AUC (for the 8-detector clearly lower; the cells below print both).
# ```
#
# ## The precision-recall curve and average precision
#
# The **precision-recall (PR) curve** plots precision against recall over all thresholds.
# Its area summarises it, and lecture 003 computes that area as a sum over the thresholds
# $t_i$, taken in order of increasing recall with $r_0 = 0$:
#
# $$\text{AP} = \sum_{i} (r_{i+1} - r_i)\,P_{i+1}.$$ (eq-ch08-ap)
#
# Each step in recall is weighted by the precision reached at the end of the step: a step
# function, not trapezoids. Thresholds that add only false positives do not move recall
# and add nothing. This is exactly scikit-learn's `average_precision_score`.
#
# A worked example. A classifier ranks ten images, best first; five of them are positives
# (1) and five negatives (0): `1 0 1 1 0 0 1 0 0 1`. Walking down the list:

# %%
# NBVAL_CHECK_OUTPUT
ranked = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1])
cum_tp = np.cumsum(ranked)
rank_precision = cum_tp / np.arange(1, len(ranked) + 1)
rank_recall = cum_tp / ranked.sum()
step = np.diff(rank_recall, prepend=0.0)
print("rank  label  TP  precision  recall  recall step  step x precision")
for i in range(len(ranked)):
    print(
        f"{i + 1:4d} {ranked[i]:6d} {cum_tp[i]:3d} {rank_precision[i]:10.3f} {rank_recall[i]:7.1f} "
        f"{step[i]:12.1f} {step[i] * rank_precision[i]:17.3f}"
    )
ap_by_hand = float(np.sum(step * rank_precision))
print(f"AP = 0.2 x (1 + 0.667 + 0.75 + 0.571 + 0.5) = {ap_by_hand:.4f}")

# %% [markdown]
# Only the five ranks where a positive appears contribute, each with a recall step of
# $1/5$: AP is the mean of the precisions at the positives' ranks. The package's
# `metrics.average_precision(scores, labels)` takes the scores themselves (any decreasing
# sequence reproduces the ranking) and agrees with scikit-learn:

# %%
# NBVAL_CHECK_OUTPUT
rank_scores = np.linspace(1.0, 0.1, len(ranked))  # 1.0, 0.9, ..., 0.1: the ranking above
print(
    f"cvbook {metrics.average_precision(rank_scores, ranked):.4f}, "
    f"scikit-learn {skm.average_precision_score(ranked, rank_scores):.4f}"
)
assert np.isclose(metrics.average_precision(rank_scores, ranked), ap_by_hand)

# %% [markdown]
# ### Interpolated AP: PASCAL VOC's all-point and 11-point variants
#
# The raw PR curve zig-zags: precision drops at every false positive and recovers at the
# next true positive. The PASCAL VOC challenge {cite}`everingham2010pascal` smooths it:
# the interpolated precision at recall $r$ is the best precision at *any recall
# $r' \ge r$*,
#
# $$P_\text{interp}(r) = \max_{r' \ge r} P(r'),$$ (eq-ch08-interp)
#
# the "precision envelope" (a detector that can reach precision $P$ at recall $r'$ can also
# reach it at every lower recall, by stopping there). Two ways of summing it are in use:
#
# - **all-point** (VOC 2010 and later): {eq}`eq-ch08-ap` with $P_\text{interp}$ in place of $P$;
# - **11-point** (VOC 2007): the mean of $P_\text{interp}$ at the recalls
#   $0, 0.1, \ldots, 1$: $\;\text{AP}_{11} = \frac{1}{11}\sum_{r \in \{0, 0.1, \ldots, 1\}} P_\text{interp}(r)$.
#
# For the ranked list, from scratch (the envelope is a running maximum from the right):

# %%
# NBVAL_CHECK_OUTPUT
envelope = np.maximum.accumulate(rank_precision[::-1])[::-1]
ap_all = float(np.sum(step * envelope))
levels = np.linspace(0, 1, 11)
ap_11 = float(np.mean([rank_precision[rank_recall >= t - 1e-12].max(initial=0.0) for t in levels]))
for name, mine, interpolation in [
    ("none (lecture)", ap_by_hand, "none"),
    ("all-point", ap_all, "all"),
    ("11-point", ap_11, "11point"),
]:
    package = metrics.average_precision(rank_scores, ranked, interpolation=interpolation)
    print(f"AP {name:15s}: from scratch {mine:.4f}, cvbook {package:.4f}")
    assert np.isclose(mine, package)

# %% [markdown]
# The all-point AP (0.714) is higher than the raw one (0.698) because at recall 0.4 the
# envelope uses the precision 0.75 reached one rank later instead of 0.667. The 11-point AP
# (0.740) is higher again: its coarse grid samples the envelope where it is high. Figures
# from different papers are only comparable when they use the same variant; COCO (Chapter 9)
# uses a third one, 101 points.

# %% mystnb={"figure": {"caption": "The ranked list's precision-recall points (raw), the VOC precision envelope (all-point AP is the area under it) and the 11 recall levels of the VOC 2007 AP.", "name": "fig-ch08-interpolation"}, "image": {"alt": "Precision against recall for a ten-item ranked list. Dotted raw precision points zigzag between about 0.45 and 1; a solid staircase envelope steps down from 1 to 0.75, 0.57 and 0.5 and always lies on or above them; eleven square markers at recall 0, 0.1, ..., 1 sit on the envelope."}}
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(np.r_[0, rank_recall], np.r_[1, rank_precision], "o:", color="C0", alpha=0.6, label="raw precision")
ax.step(
    np.r_[0, rank_recall],
    np.r_[envelope[0], envelope],
    where="pre",
    color="C1",
    label=f"envelope, all-point AP {ap_all:.3f}",
)
ax.plot(
    levels,
    [rank_precision[rank_recall >= t - 1e-12].max(initial=0.0) for t in levels],
    "s",
    color="C3",
    label=f"11 points, AP {ap_11:.3f}",
)
ax.set_xlabel("recall")
ax.set_ylabel("precision")
ax.set_ylim(0, 1.05)
ax.set_title("PR curve of the ranked list 1 0 1 1 0 0 1 0 0 1")
ax.grid(alpha=0.3)
ax.legend(fontsize="small", loc="lower left")
fig.tight_layout()

# %% [markdown]
# As an independent check of the interpolated variants, here is the AP function of the
# VOC development kit as it circulates in most detection code bases (appending the
# recall-1, precision-0 sentinel, sweeping the envelope from the right and summing where
# recall changes), applied to the 8-detector's ranking. The devkit walks the ranked list one
# detection at a time, while `average_precision` (like scikit-learn) treats tied scores as
# one threshold; the two agree when no scores tie. Trained float32 scores usually do not,
# but they can: a sigmoid saturates to exactly 1.0 in float32 once the logit passes about
# 17, which happens more often on some devices than others. So the comparison runs on the
# ranking itself, ties (if any) broken by index, given as distinct scores $n, n-1, \dots, 1$:


# %%
# NBVAL_CHECK_OUTPUT
def voc_ap(rec, prec, use_07_metric=False):
    """The PASCAL VOC devkit's AP from cumulative recall and precision (one entry per detection)."""
    if use_07_metric:
        return sum(np.max(prec[rec >= t]) if np.sum(rec >= t) else 0.0 for t in np.arange(0.0, 1.1, 0.1)) / 11
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


order = np.argsort(-scores, kind="stable")  # the ranking; ties keep the lower index first
rank_score = np.empty(scores.size)
rank_score[order] = np.arange(scores.size, 0, -1)  # n for the top detection, ..., 1: no ties
hits = labels[order]
rec, prec = np.cumsum(hits) / hits.sum(), np.cumsum(hits) / np.arange(1, hits.size + 1)
ap_8 = {}
for interpolation, use_07 in (("all", False), ("11point", True)):
    ours = metrics.average_precision(rank_score, labels, interpolation=interpolation)
    devkit = voc_ap(rec, prec, use_07)
    assert np.isclose(ours, devkit)
    ap_8[interpolation] = (ours, devkit)
    print(f"8-detector AP, {interpolation:8s}: cvbook = VOC devkit: {np.isclose(ours, devkit)}")
ap_none = metrics.average_precision(scores, labels)
assert np.isclose(ap_none, skm.average_precision_score(labels, scores))
print(
    f"8-detector AP, none    : cvbook = scikit-learn: {np.isclose(ap_none, skm.average_precision_score(labels, scores))}"
)

# %% [markdown]
# The values themselves (trained numbers):

# %%
for interpolation, (ours, devkit) in ap_8.items():
    print(f"8-detector AP, {interpolation:8s}: cvbook {ours:.4f}, VOC devkit {devkit:.4f}")
print(f"8-detector AP, none    : cvbook {ap_none:.4f}, scikit-learn {skm.average_precision_score(labels, scores):.4f}")
_ = claim("ch08.detector.auc_minus_ap", auc_scratch - ap_none, low=0.05)  # a different number from the AUC

# %% [markdown]
# ```{note}
# **Why not trapezoids under the PR curve?** Drawing straight lines between PR points
# assumes precision changes linearly between two thresholds, which it does not: between
# two true positives precision falls hyperbolically as false positives accumulate. Davis and
# Goadrich {cite}`davis2006relationship` show that linear interpolation in PR space is
# wrong and, between points far apart, too optimistic; scikit-learn's documentation warns
# against it for the same reason. The step sum needs no interpolation at all.
# ```

# %%
trapezoid = metrics.auc(np.r_[0, pr_recall], np.r_[pr_precision[0], pr_precision])
print(f"8-detector: trapezoids between the PR points {trapezoid:.4f}, AP {ap_none:.4f}")
_ = claim("ch08.detector.trapezoid_minus_ap", abs(trapezoid - ap_none), high=0.02)
# %% [markdown]
# With a point at every threshold the two are close (the vertical drops at false positives
# add no trapezoid area) but not equal, and nothing guarantees they stay close for a curve
# sampled at fewer thresholds. AP is the number papers report.
#
# In object detection the list of scored items does not contain every positive: an object
# that no detection matched is never ranked, yet it counts in the recall's denominator.
# `metrics.average_precision(..., num_positives=P)` takes that total, so the recall of the
# list stops below 1 and AP is reduced accordingly. Chapter 9 uses exactly this.

# %%
# NBVAL_CHECK_OUTPUT
print(f"ranked list with 5 positives found: AP {metrics.average_precision(rank_scores, ranked):.4f}")
print(f"... and 2 more never detected:      AP {metrics.average_precision(rank_scores, ranked, num_positives=7):.4f}")

# %% [markdown]
# ### ROC or PR under class imbalance?
#
# The two curves react differently when the negatives become more numerous. We copy every
# negative of the test set nine more times, so the eights drop from about 10 % to about 1 %
# of the data, and the ranking itself is unchanged:

# %%
# NBVAL_CHECK_OUTPUT
many = np.r_[scores, np.tile(scores[labels == 0], 9)]
many_labels = np.r_[labels, np.zeros(9 * int((labels == 0).sum()), dtype=int)]
print(f"positives: {labels.mean():.1%} -> {many_labels.mean():.1%}")
assert np.isclose(metrics.roc_auc(many, many_labels), metrics.roc_auc(scores, labels))
print("ROC AUC unchanged:", np.isclose(metrics.roc_auc(many, many_labels), metrics.roc_auc(scores, labels)))

# %%
print(f"ROC AUC: {metrics.roc_auc(scores, labels):.4f} -> {metrics.roc_auc(many, many_labels):.4f}")
print(f"AP:      {metrics.average_precision(scores, labels):.4f} -> {metrics.average_precision(many, many_labels):.4f}")
_ = claim(
    "ch08.detector.ap_drop_with_tenfold_negatives",
    metrics.average_precision(scores, labels) - metrics.average_precision(many, many_labels),
    low=0.2,
)
# %% [markdown]
# The ROC curve divides FP by the number of negatives, so multiplying them leaves it
# untouched; precision does not divide by it, so every false positive now counts ten
# times and AP collapses. When positives are rare and false alarms matter, as in
# detection and retrieval, the PR curve and AP show the problem and the ROC curve hides it
# {cite}`saito2015precision`.

# %% mystnb={"figure": {"caption": "The 8-detector on the original test set and with every negative copied ten times: the ROC curves (left) coincide (the dashed one lies on top of the thick one), the PR curves (right) do not.", "name": "fig-ch08-roc-vs-pr"}, "image": {"alt": "Two panels. Left, ROC curves: the dashed curve of the copied data lies exactly on top of the thick curve of the original, both AUC 0.967. Right, precision-recall curves: the original stays mostly between 0.8 and 0.95, the copied version far lower, mostly below 0.7 (AP 0.799 versus 0.435)."}}
fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(8.5, 3.6))
for name, s, y in [("10 % positives", scores, labels), ("1 % positives", many, many_labels)]:
    f_, t_, _ = metrics.roc_curve(s, y)
    p_, r_, _ = metrics.precision_recall_curve(s, y)
    dashed = name.startswith("1 %")  # the two ROC curves coincide: draw the second dashed, over a thick first
    ax_roc.plot(
        f_, t_, "--" if dashed else "-", lw=1.5 if dashed else 4, label=f"{name}: AUC {metrics.auc(f_, t_):.3f}"
    )
    ax_pr.plot(
        np.r_[0, r_], np.r_[1, p_], drawstyle="steps-pre", label=f"{name}: AP {metrics.average_precision(s, y):.3f}"
    )
ax_roc.set_xlabel("false-positive rate")
ax_roc.set_ylabel("true-positive rate")
ax_roc.set_title("ROC")
ax_pr.set_xlabel("recall")
ax_pr.set_ylabel("precision")
ax_pr.set_title("precision-recall")
for ax in (ax_roc, ax_pr):
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left" if ax is ax_pr else "lower right")
fig.tight_layout()

# %% [markdown]
# ## Many classes: macro, micro and weighted averages
#
# With $K$ classes the confusion matrix is $K \times K$: entry $(i, j)$ counts the samples of
# class $i$ predicted as $j$; the diagonal holds the correct ones. Each class $k$ has its own
# binary view ("$k$ against the rest"): $TP_k$ is the diagonal entry, $FP_k$ the rest of column
# $k$, $FN_k$ the rest of row $k$. That gives one precision, recall and $F_1$ per class, and three
# ways to combine them:
#
# - **macro**: the plain mean over classes; every class counts the same, however rare;
# - **weighted**: the mean weighted by each class's **support** (its number of true samples);
# - **micro**: pool the counts first, $P_\text{micro} = \sum_k TP_k / \sum_k (TP_k + FP_k)$,
#   and the same for recall. Every wrong prediction is an FP for one class and an FN for
#   another, so $\sum_k FP_k = \sum_k FN_k$ and micro precision = micro recall = micro $F_1$ =
#   **accuracy** (for single-label data). Mind the defaults: torcheval's
#   `multiclass_precision`, `multiclass_recall` and `multiclass_f1_score` average micro unless
#   told `average="macro"`, so the three calls of lecture 001's example all return the accuracy.
#
# A small worked example makes the difference visible: three classes with supports 90, 9
# and 1, and a classifier that gets the large class right, half the middle one and misses
# the rare one:

# %%
# NBVAL_CHECK_OUTPUT
y3_true = np.array([0] * 90 + [1] * 9 + [2] * 1)
y3_pred = np.array([0] * 90 + [1] * 5 + [0] * 4 + [0])
cm3 = metrics.confusion_matrix(y3_true, y3_pred)
print(cm3)
p3, r3, f3 = metrics.precision_recall_f1(cm3, average=None)
print("per class  precision", np.round(p3, 3), " recall", np.round(r3, 3), " F1", np.round(f3, 3))
for average in ("macro", "weighted", "micro"):
    p_, r_, f_ = metrics.precision_recall_f1(cm3, average=average)
    sk = skm.precision_recall_fscore_support(y3_true, y3_pred, average=average, zero_division=0)[:3]
    print(f"{average:8s}  precision {p_:.3f}  recall {r_:.3f}  F1 {f_:.3f}")
    assert np.allclose((p_, r_, f_), sk)
print(f"accuracy {metrics.accuracy(cm3):.3f}")

# %% [markdown]
# The micro and weighted $F_1$ (both about 0.95) are dominated by the large class; the macro
# $F_1$ (0.56) shows that one class in three is never found. Report macro averages when every
# class matters equally, micro (= accuracy) when every *sample* does, and per-class numbers
# whenever you can. Note also that macro $F_1$ is the mean of the per-class $F_1$ values, not
# the harmonic mean of macro precision and macro recall (which would give 0.58 here).
#
# ```{note}
# **The lecture's code listing.** Lecture 001 computes `p`, `r` and `f1` with torcheval's
# `multiclass_precision`, `multiclass_recall` and `multiclass_f1_score` without an `average`
# argument. Their default is `average="micro"`, so the three numbers it prints are all equal
# to the accuracy; pass `average="macro"` (or `None` for per-class values) to learn anything
# new. scikit-learn has no default for multi-class data and makes you choose.
# ```
#
# ## Evaluating a CNN: LeNet-5 on the digits
#
# Now a real multi-class model: Chapter 4's LeNet-5 (`models.LeNet5`) trained with
# `train.fit` on the $32 \times 32$ digits. We train it for only six epochs, so that it still
# makes a few mistakes worth looking at:

# %%
train32, test32 = data.load_digits("train", size=32), data.load_digits("test", size=32)
device.seed_everything(0)
lenet = models.LeNet5(num_classes=10, in_channels=1)
history = train.fit(lenet, data.make_loader(train32, 32, shuffle=True), epochs=6)
logits10, targets10 = train.predict(lenet, data.make_loader(test32, 256))
probs10 = torch.softmax(logits10, dim=1).numpy()  # (450, 10)
y10 = targets10.numpy()
pred10 = probs10.argmax(axis=1)
print(f"trained in {history.total_time_s:.1f} s")

# %% [markdown]
# The confusion matrix from scratch is one `np.add.at` (add 1 at every (true, predicted)
# pair); it agrees with the package's and scikit-learn's:

# %%
# NBVAL_CHECK_OUTPUT
cm10 = np.zeros((10, 10), dtype=np.int64)
np.add.at(cm10, (y10, pred10), 1)
assert (cm10 == metrics.confusion_matrix(y10, pred10, num_classes=10)).all()
assert (cm10 == skm.confusion_matrix(y10, pred10)).all()
print(
    f"confusion matrix {cm10.shape}, {cm10.sum()} test digits; from scratch = cvbook = scikit-learn:",
    bool(
        (cm10 == metrics.confusion_matrix(y10, pred10, num_classes=10)).all()
        and (cm10 == skm.confusion_matrix(y10, pred10)).all()
    ),
)

# %%
print(f"test accuracy {metrics.accuracy(cm10):.3f}: {np.trace(cm10)} of {cm10.sum()} correct")
_ = claim("ch08.lenet5.test_accuracy", metrics.accuracy(cm10), low=0.92)
# %% mystnb={"figure": {"caption": "Confusion matrix of LeNet-5 after six epochs on the 450 test digits (rows: true digit, columns: predicted digit). The errors are the off-diagonal entries; the row of the weakest digit holds the largest share of them.", "name": "fig-ch08-confusion"}, "image": {"alt": "10 x 10 confusion matrix heat map in shades of blue, true digit in rows, predicted digit in columns, with counts in the cells. The diagonal holds 42 to 46 for most digits but 33 for digit 8; off-diagonal cells are 0 to 2, except row 8, where 6 eights are predicted as 1."}}
ax = metrics.show_confusion_matrix(cm10, title="LeNet-5 on the test digits")
ax.figure.tight_layout()

# %% [markdown]
# The diagonal is where we want the counts; every off-diagonal entry is a specific
# confusion. The per-class report makes them numbers. `metrics.classification_report`
# prints the same text as scikit-learn's (we check that the two strings are identical):

# %%
# NBVAL_CHECK_OUTPUT
report = metrics.classification_report(y10, pred10, digits=3)
assert report == skm.classification_report(y10, pred10, digits=3)
assert np.isclose(metrics.precision_recall_f1(cm10, average="micro")[2], metrics.accuracy(cm10))
print("cvbook's report is identical to scikit-learn's:", report == skm.classification_report(y10, pred10, digits=3))
print("micro F1 = accuracy:", np.isclose(metrics.precision_recall_f1(cm10, average="micro")[2], metrics.accuracy(cm10)))

# %%
print(report)
per_class_recall = metrics.precision_recall_f1(cm10, average=None)[1]
worst = int(np.argmin(per_class_recall))
confused_with = int(np.argsort(cm10[worst])[-2])  # the largest off-diagonal entry of its row
print(f"worst recall: digit {worst} ({per_class_recall[worst]:.3f}), most often taken for a {confused_with}")

# %% [markdown]
# The test set is balanced (about 45 digits each), so macro, weighted and micro averages
# nearly agree here; the per-class rows are where the information is. The last line names
# the weakest digit (the lowest recall) and the digit it is most often taken for; the
# matrix shows the same errors as the off-diagonal entries of that row. (Which digit is the
# weakest is a trained result: in the stored run it is 8, mostly read as 1; another CPU or
# seed can pick another one.) The class that receives those errors pays with a lower
# precision, however perfect its recall looks: an error is always two errors, a miss for its
# true class and a false alarm for the predicted one.
#
# ### One-vs-rest curves and mAP
#
# The softmax output gives a score for every class, so each class $k$ has its own ranking
# problem: column $k$ of the probabilities against the labels $y = k$. Each gets an ROC curve
# and a PR curve, and averaging the per-class APs gives the **mean average precision**
# (lecture 001):
#
# $$\text{mAP} = \frac{1}{K} \sum_{k=1}^{K} \text{AP}_k.$$ (eq-ch08-map)
#
# `metrics.average_precision_per_class` computes the $K$ one-vs-rest APs; scikit-learn's
# `average_precision_score` and `roc_auc_score(..., multi_class="ovr")` give the same:

# %%
# NBVAL_CHECK_OUTPUT
ap_per_class = metrics.average_precision_per_class(probs10, y10)
auc_per_class = np.array([metrics.roc_auc(probs10[:, k], y10 == k) for k in range(10)])
onehot = np.eye(10)[y10]
assert np.allclose(ap_per_class, skm.average_precision_score(onehot, probs10, average=None))
assert np.isclose(auc_per_class.mean(), skm.roc_auc_score(y10, probs10, multi_class="ovr"))
print(
    f"{len(ap_per_class)} one-vs-rest APs; cvbook = scikit-learn:",
    np.allclose(ap_per_class, skm.average_precision_score(onehot, probs10, average=None)),
    "| mean AUC = scikit-learn's 'ovr':",
    np.isclose(auc_per_class.mean(), skm.roc_auc_score(y10, probs10, multi_class="ovr")),
)

# %%
print("AP per digit: ", " ".join(f"{a:.3f}" for a in ap_per_class))
print("AUC per digit:", " ".join(f"{a:.3f}" for a in auc_per_class))
print(
    f"mAP {ap_per_class.mean():.3f}, mean one-vs-rest AUC {auc_per_class.mean():.3f}, "
    f"accuracy {metrics.accuracy(cm10):.3f}"
)
claim("ch08.lenet5.map_minus_accuracy", ap_per_class.mean() - metrics.accuracy(cm10), low=0.0)
_ = claim("ch08.lenet5.mean_auc_minus_map", auc_per_class.mean() - ap_per_class.mean(), low=0.0)
# %% [markdown]
# The mAP is higher than the accuracy because the two ask different questions. Accuracy
# judges one decision per image: the argmax. $\text{AP}_8$ ranks all 450 images by their
# probability of being an 8; an 8 that lost the argmax to "1" costs nothing there as long as
# its probability of being an 8 is still higher than that of the images that are not eights.
#
# ```{note}
# Lecture 003 describes mAP as "AP for each class, and average [...] (i.e. ROC curve for each
# class)". The per-class curve behind AP is the **precision-recall** curve; the ROC curves
# give the per-class AUCs, a different summary, here the more flattering one (the cell above
# prints both), because each one-vs-rest problem has nine negatives per positive and the ROC curve
# does not feel them.
# ```

# %% mystnb={"figure": {"caption": "One-vs-rest precision-recall (left) and ROC (right) curves of LeNet-5 for each digit; the weakest digit is drawn thick.", "name": "fig-ch08-ovr"}, "image": {"alt": "Two panels, one curve per digit. Left, precision-recall zoomed to precision 0.5 to 1: most curves hug the top; the thick digit-8 curve drops first, near recall 0.6, to about 0.74. Right, ROC zoomed to false-positive rate 0 to 0.2: all curves rise steeply, the thick digit-8 curve slowest."}}
fig, (ax_pr, ax_roc) = plt.subplots(1, 2, figsize=(9, 3.8))
for k in range(10):
    width, alpha = (2.5, 1.0) if k == worst else (1.0, 0.5)
    p_, r_, _ = metrics.precision_recall_curve(probs10[:, k], y10 == k)
    f_, t_, _ = metrics.roc_curve(probs10[:, k], y10 == k)
    ax_pr.plot(
        np.r_[0, r_], np.r_[1, p_], drawstyle="steps-pre", lw=width, alpha=alpha, label=f"{k}: AP {ap_per_class[k]:.2f}"
    )
    ax_roc.plot(f_, t_, lw=width, alpha=alpha)
ax_pr.set_xlabel("recall")
ax_pr.set_ylabel("precision")
ax_pr.set_title(f"precision-recall, mAP {ap_per_class.mean():.3f}")
ax_pr.legend(fontsize=6.5, ncol=2, loc="lower left")
ax_roc.set_xlabel("false-positive rate")
ax_roc.set_ylabel("true-positive rate")
ax_roc.set_title(f"ROC, mean AUC {auc_per_class.mean():.3f}")
ax_roc.set_xlim(-0.005, 0.2)
ax_pr.set_ylim(0.5, 1.02)
for ax in (ax_pr, ax_roc):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# (Both panels are zoomed: the PR panel shows precisions above 0.5, the ROC panel
# false-positive rates up to 0.2; outside these ranges the curves only drop to the last
# threshold, where every image is flagged, or sit at the top.)
#
# ## Key takeaways
#
# - The confusion matrix (rows: truth, columns: prediction, in this book and in
#   scikit-learn; lecture 003 draws it transposed) holds everything the threshold-based
#   metrics need: accuracy $(TP+TN)/N$, precision $TP/(TP+FP)$, recall $TP/(TP+FN)$ and
#   $F_1 = 2TP/(2TP+FP+FN)$. In the worked example: 0.89, 0.44, 0.40 and 0.42.
# - Accuracy is misleading on imbalanced data: "everyone is healthy" scores 0.90 with recall
#   0, and a logistic-regression 8-detector scores about 0.94 while missing most eights.
# - A threshold turns scores into decisions. Raising it lowers recall (always) and usually
#   raises precision (not always). The best threshold for $F_1$ was well below 0.5.
# - ROC: TPR against FPR; its area (trapezoid rule) is the probability that a positive
#   outranks a negative (above 0.9 for the 8-detector). It ignores class imbalance; the PR curve
#   does not (AP fell when we multiplied the negatives, the AUC did not move).
# - AP $= \sum (r_{i+1}-r_i)P_{i+1}$ (lecture 003, = scikit-learn): **0.698** for the ranked
#   list `1 0 1 1 0 0 1 0 0 1`; VOC's all-point interpolation gives **0.714** and VOC 2007's
#   11-point AP **0.740**. mAP is the mean of per-class APs.
# - Multi-class: macro averages treat classes equally, micro averages (= accuracy) treat
#   samples equally; the lecture's torcheval calls default to micro. For LeNet-5 on the
#   digits, the per-class report and the confusion matrix point at the weakest digit and at
#   the digit it is taken for.
#
# ## Exercises
#
# The exercise notebook asks you to compute precision, recall and $F_1$ from a confusion
# matrix, the area under a curve by the trapezoid rule, average precision from a ranked
# list, and macro and micro $F_1$ for many classes.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch08/ch08_exercises.ipynb)
# or on GitHub:
# [`exercises/ch08/ch08_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch08/ch08_exercises.ipynb).
