"""Classification metrics from scratch: confusion matrix, precision/recall/F1, ROC, PR, AP.

Two kinds of input, two argument orders:

* **hard predictions** (a class per sample): ``(y_true, y_pred)``, integer labels
  ``0..K-1`` of shape ``(N,)``, as in scikit-learn. :func:`confusion_matrix`,
  :func:`accuracy`, :func:`precision_recall_f1` and :func:`classification_report` take
  these (the last three also take a ``(K, K)`` confusion matrix instead);
* **rankings** (a confidence score per sample, one class against the rest):
  ``(scores, labels)``, scores ``(N,)`` floats and labels ``(N,)`` in ``{0, 1}``. Note
  the order: scores first (scikit-learn puts ``y_true`` first).
  :func:`roc_curve`, :func:`roc_auc`, :func:`precision_recall_curve` and
  :func:`average_precision` take these; thresholds run from the highest score down,
  and samples with equal scores are counted together (one point per distinct score).

Everything accepts NumPy arrays, lists and torch tensors (moved to the CPU) and returns
NumPy arrays or Python floats. The confusion matrix has the true class in rows and the
predicted class in columns (scikit-learn's convention). Taught in Chapter 8.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "confusion_matrix",
    "accuracy",
    "precision_recall_f1",
    "classification_report",
    "roc_curve",
    "auc",
    "roc_auc",
    "precision_recall_curve",
    "average_precision",
    "average_precision_per_class",
    "show_confusion_matrix",
]

AVERAGES = ("binary", "macro", "micro", "weighted", None)
INTERPOLATIONS = ("none", "all", "11point")


# --------------------------------------------------------------------------- input checks


def _to_numpy(x, name: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception as error:  # pragma: no cover - ragged lists and the like
        raise ValueError(f"{name} must be array-like, got {type(x).__name__}") from error


def _class_labels(x, name: str) -> np.ndarray:
    """(N,) non-negative integer class labels as int64."""
    a = _to_numpy(x, name)
    if a.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to evaluate")
    if a.dtype == bool:
        return a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} must hold integer class labels 0..K-1, got dtype {a.dtype}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integer class labels 0..K-1, got non-integer values")
    a = a.astype(np.int64)
    if a.min() < 0:
        raise ValueError(f"{name} must hold class labels 0..K-1, got {a.min()}")
    return a


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _class_labels(y_true, "y_true"), _class_labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape (N,), got {t.shape} and {p.shape}")
    return t, p


def _check_cm(cm) -> np.ndarray:
    a = _to_numpy(cm, "cm")
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(
            f"a confusion matrix must have shape (K, K), got {a.shape} (to pass labels, give y_true and y_pred)"
        )
    if not np.issubdtype(a.dtype, np.number) or np.any(a < 0) or not np.all(np.isfinite(a)):
        raise ValueError("a confusion matrix must hold non-negative counts")
    if a.sum() == 0:
        raise ValueError("the confusion matrix is all zeros: there is nothing to evaluate")
    return a


def _cm_from(y_true_or_cm, y_pred, num_classes) -> np.ndarray:
    if y_pred is None:
        if num_classes is not None:
            raise ValueError("num_classes is only used with (y_true, y_pred), not with a confusion matrix")
        return _check_cm(y_true_or_cm)
    return confusion_matrix(y_true_or_cm, y_pred, num_classes)


def _ranking(scores, labels, num_positives=None, allow_empty: bool = False):
    """Validated (scores, labels, P): scores (N,) float64 finite, labels (N,) in {0, 1}."""
    s = _to_numpy(scores, "scores")
    y = _to_numpy(labels, "labels")
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (N,), got {s.shape}")
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {y.shape}")
    if s.shape != y.shape:
        raise ValueError(f"scores and labels must have the same shape (N,), got {s.shape} and {y.shape}")
    if s.size == 0 and not allow_empty:
        raise ValueError("scores is empty: there is nothing to rank")
    if s.size and not np.issubdtype(s.dtype, np.number):
        raise ValueError(f"scores must be numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite (no NaN or inf)")
    if y.size and not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 (negative) or 1 (positive); for K classes use labels == k")
    y = y.astype(np.int64)
    positives = int(y.sum())
    if num_positives is not None:
        if isinstance(num_positives, bool) or not isinstance(num_positives, (int, np.integer)):
            raise ValueError(f"num_positives must be an int, got {num_positives!r}")
        if num_positives < positives:
            raise ValueError(f"num_positives={num_positives} is smaller than the {positives} positives in labels")
        positives = int(num_positives)
    if s.size == 0 and num_positives is None:
        raise ValueError("scores is empty: there is nothing to rank")
    return s, y, positives


def _counts_at_thresholds(s: np.ndarray, y: np.ndarray):
    """Cumulative (tp, fp) when predicting "positive" for score >= t, t = each distinct score, descending."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(y)[last_of_group]
    fp = (last_of_group + 1) - tp
    return tp.astype(np.float64), fp.astype(np.float64), s[last_of_group]


# --------------------------------------------------------------------------- hard predictions


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    y_true, y_pred: (N,) integer labels in ``0..K-1`` (NumPy, list or tensor).
    num_classes: K; default ``max(y_true, y_pred) + 1``. Returns (K, K) int64,
    rows = true class, columns = predicted class (as scikit-learn's
    ``confusion_matrix(..., labels=range(K))``). Taught in Chapter 8.
    """
    t, p = _pair(y_true, y_pred)
    k = int(max(t.max(), p.max())) + 1
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if k > num_classes:
            raise ValueError(f"labels must be < num_classes={num_classes}, got label {k - 1}")
        k = int(num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def accuracy(y_true_or_cm, y_pred=None) -> float:
    """Fraction of correct predictions: ``trace(cm) / sum(cm)``.

    Either ``accuracy(y_true, y_pred)`` with (N,) labels, or ``accuracy(cm)`` with a (K, K)
    confusion matrix. Taught in Chapter 8.
    """
    cm = _cm_from(y_true_or_cm, y_pred, None)
    return float(np.trace(cm) / cm.sum())


def _safe_divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _average(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    keep = ~np.isnan(values)  # zero_division=nan: leave undefined classes out, as scikit-learn does
    if not keep.any():
        return float("nan")
    if weights is None:
        return float(values[keep].mean())
    w = weights[keep]
    # every class left has zero support: scikit-learn then ignores the weights (plain mean)
    return float((values[keep] * w).sum() / w.sum()) if w.sum() > 0 else float(values[keep].mean())


def precision_recall_f1(
    y_true_or_cm,
    y_pred=None,
    *,
    average: str | None = "macro",
    num_classes: int | None = None,
    pos_label: int = 1,
    zero_division: float = 0.0,
):
    """Precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)`` and F1 ``2TP/(2TP+FP+FN)``.

    Either ``(y_true, y_pred)``, (N,) integer labels, or one (K, K) confusion matrix.
    For class k: TP = ``cm[k, k]``, FP = column sum - TP, FN = row sum - TP.
    average: ``None`` -> three (K,) arrays, one value per class;
    ``"macro"`` -> the plain mean over classes; ``"weighted"`` -> the mean weighted by
    each class's support (row sum); ``"micro"`` -> from the summed TP, FP, FN (equals
    the accuracy for single-label data); ``"binary"`` -> class ``pos_label`` only (K <= 2).
    zero_division: the value of a 0/0 (a class never predicted, or never present):
    0.0 (default), 1.0, or ``nan`` (then left out of the averages; when every class left
    has zero support, ``"weighted"`` takes their plain mean, as scikit-learn does, and an
    average with no class left is nan).
    Returns ``(precision, recall, f1)``: floats, or arrays for ``average=None``.
    Same numbers as scikit-learn's ``precision_recall_fscore_support(..., labels=range(K))``.
    Taught in Chapter 8.
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    if not (zero_division in (0, 1) or (isinstance(zero_division, float) and math.isnan(zero_division))):
        raise ValueError(f"zero_division must be 0.0, 1.0 or nan, got {zero_division!r}")
    cm = _cm_from(y_true_or_cm, y_pred, num_classes).astype(np.float64)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    precision = _safe_divide(tp, tp + fp, zero_division)
    recall = _safe_divide(tp, tp + fn, zero_division)
    f1 = _safe_divide(2 * tp, 2 * tp + fp + fn, zero_division)
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return float(precision[0]), float(recall[0]), float(f1[0])
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError(
                f"average='binary' needs two classes, got {cm.shape[0]}; use 'macro', 'micro' or 'weighted'"
            )
        if pos_label not in (0, 1) or pos_label >= cm.shape[0]:
            raise ValueError(f"pos_label must be 0 or 1, got {pos_label!r}")
        return float(precision[pos_label]), float(recall[pos_label]), float(f1[pos_label])
    weights = cm.sum(axis=1) if average == "weighted" else None
    return _average(precision, weights), _average(recall, weights), _average(f1, weights)


def classification_report(
    y_true_or_cm,
    y_pred=None,
    *,
    num_classes: int | None = None,
    class_names=None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division: float = 0.0,
):
    """Per-class precision, recall, F1 and support, then accuracy, macro and weighted averages.

    Input as :func:`precision_recall_f1`. class_names: K names (default ``"0"``, ``"1"``, ...).
    Returns the same text as scikit-learn's ``classification_report(y_true, y_pred,
    labels=range(K), target_names=class_names, digits=digits)``, or with
    ``output_dict=True`` the same dict: ``{name: {"precision", "recall", "f1-score",
    "support"}, "accuracy": float, "macro avg": {...}, "weighted avg": {...}}``.
    Taught in Chapter 8.
    """
    cm = _cm_from(y_true_or_cm, y_pred, num_classes)
    k = cm.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if len(names) != k:
        raise ValueError(f"class_names must have {k} names, got {len(names)}")
    if not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative int, got {digits!r}")
    support = cm.sum(axis=1)
    rows = [
        (name, *values)
        for name, *values in zip(names, *precision_recall_f1(cm, average=None, zero_division=zero_division), support)
    ]
    averages = {
        avg: precision_recall_f1(cm, average=avg, zero_division=zero_division) for avg in ("micro", "macro", "weighted")
    }
    total = int(support.sum())
    headers = ["precision", "recall", "f1-score", "support"]
    if output_dict:
        report = {name: dict(zip(headers, [float(p), float(r), float(f), float(s)])) for name, p, r, f, s in rows}
        report["accuracy"] = accuracy(cm)
        for avg in ("macro", "weighted"):
            report[f"{avg} avg"] = dict(zip(headers, [*averages[avg], float(total)]))
        return report
    width = max(max(len(n) for n in names), len("weighted avg"), digits)
    text = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in headers) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, p, r, f, s in rows:
        text += row_fmt.format(name, p, r, f, int(s), width=width, digits=digits)
    text += "\n"
    text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
        "accuracy", "", "", averages["micro"][2], total, width=width, digits=digits
    )
    for avg in ("macro", "weighted"):
        text += row_fmt.format(f"{avg} avg", *averages[avg], total, width=width, digits=digits)
    return text


# --------------------------------------------------------------------------- rankings


def roc_curve(scores, labels, *, drop_intermediate: bool = False):
    """Receiver operating characteristic: true-positive rate against false-positive rate.

    scores: (N,) confidence of "positive"; labels: (N,) in {0, 1}. For each distinct score
    t (descending) predict positive when ``score >= t``: TPR = TP / P (the recall),
    FPR = FP / Negatives. Returns ``(fpr, tpr, thresholds)``, each (T + 1,), starting at
    (0, 0) with threshold ``inf``. drop_intermediate: drop points on straight segments
    (as scikit-learn's default; the area is unchanged). Raises ValueError when labels hold
    only one class (one of the rates is 0/0). Equals scikit-learn's ``roc_curve(labels,
    scores, drop_intermediate=...)``. Taught in Chapter 8.
    """
    s, y, positives = _ranking(scores, labels)
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        missing = "positives" if positives == 0 else "negatives"
        raise ValueError(f"labels contain no {missing}: the ROC curve needs both classes")
    tp, fp, thresholds = _counts_at_thresholds(s, y)
    if drop_intermediate and tp.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(fp, 2), np.diff(tp, 2)), True]
        tp, fp, thresholds = tp[keep], fp[keep], thresholds[keep]
    return np.r_[0.0, fp] / negatives, np.r_[0.0, tp] / positives, np.r_[np.inf, thresholds]


def auc(x, y) -> float:
    """Area under the curve through the points ``(x[i], y[i])`` by the trapezoid rule.

    x, y: (T,) with T >= 2 and x sorted (ascending or descending).
    ``sum((x[i+1] - x[i]) * (y[i] + y[i+1]) / 2)``, sign-corrected for descending x.
    Equals scikit-learn's ``auc``. Taught in Chapter 8.
    """
    x, y = _to_numpy(x, "x").astype(np.float64), _to_numpy(y, "y").astype(np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape (T,), got {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"at least 2 points are needed to compute an area, got {x.size}")
    dx = np.diff(x)
    if np.all(dx >= 0):
        direction = 1.0
    elif np.all(dx <= 0):
        direction = -1.0
    else:
        raise ValueError("x must be sorted (ascending or descending)")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2))


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve: ``auc(*roc_curve(scores, labels)[:2])``.

    Equals the probability that a random positive scores higher than a random negative
    (ties count one half), and scikit-learn's ``roc_auc_score(labels, scores)``.
    Taught in Chapter 8.
    """
    fpr, tpr, _ = roc_curve(scores, labels)
    return auc(fpr, tpr)


def precision_recall_curve(scores, labels, *, num_positives: int | None = None):
    """Precision and recall at every distinct score threshold, highest threshold first.

    scores: (N,); labels: (N,) in {0, 1}. At threshold ``thresholds[i]`` (descending) the
    samples with ``score >= thresholds[i]`` are predicted positive:
    ``precision[i] = TP / (TP + FP)`` and ``recall[i] = TP / P`` with
    P = ``num_positives`` (default ``labels.sum()``; in detection, the number of
    ground-truth objects, some of which may never be detected). Returns
    ``(precision, recall, thresholds)``, each (T,), recall non-decreasing. Empty scores
    are allowed only with ``num_positives`` (then three empty arrays). scikit-learn's
    ``precision_recall_curve`` returns the same points in reverse order with an extra
    (recall 0, precision 1) point at the end. Taught in Chapter 8.
    """
    s, y, positives = _ranking(scores, labels, num_positives, allow_empty=True)
    if positives == 0:
        raise ValueError("labels contain no positives (and num_positives is 0 or not given): recall is undefined")
    if s.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    tp, fp, thresholds = _counts_at_thresholds(s, y)
    return tp / (tp + fp), tp / positives, thresholds


def average_precision(scores, labels, *, interpolation: str = "none", num_positives: int | None = None) -> float:
    """Average precision (AP): the area under the precision-recall curve, as a step sum.

    scores: (N,) confidences; labels: (N,) in {0, 1} (1 = a true positive, e.g. a
    detection matched to a ground-truth box); num_positives: P, the number of positives
    in all (default ``labels.sum()``; give it when some positives were never scored, e.g.
    missed objects: their recall is never reached). With the curve's points
    ``(r_i, p_i)`` in order of increasing recall and ``r_0 = 0``:

    * ``"none"``: ``AP = sum_i (r_i - r_{i-1}) p_i`` (lectures; = scikit-learn's
      ``average_precision_score``);
    * ``"all"``: the same sum with ``p_i`` replaced by ``max_{j >= i} p_j`` (the
      precision envelope; PASCAL VOC 2010 and later);
    * ``"11point"``: the mean over ``t = 0, 0.1, ..., 1`` of ``max {p_i : r_i >= t}`` (0 if
      none; PASCAL VOC 2007).

    Tied scores count as one threshold. No scores with ``num_positives > 0`` give 0.0.
    Taught in Chapter 8 (and used for detection in Chapter 9).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    precision, recall, _ = precision_recall_curve(scores, labels, num_positives=num_positives)
    if precision.size == 0:
        return 0.0
    if interpolation == "11point":
        levels = np.linspace(0.0, 1.0, 11)
        return float(np.mean([precision[recall >= t - 1e-12].max(initial=0.0) for t in levels]))
    if interpolation == "all":
        precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(recall, prepend=0.0)
    return float(np.sum(steps * precision))


def average_precision_per_class(probs, y_true, *, interpolation: str = "none") -> np.ndarray:
    """One-vs-rest AP of each class: column k of ``probs`` ranks ``y_true == k`` against the rest.

    probs: (N, K) scores (e.g. softmax outputs); y_true: (N,) labels in ``0..K-1``.
    Returns (K,) APs; a class with no sample in ``y_true`` gets ``nan``. The mean of the
    result (``np.nanmean``) is the mAP. Taught in Chapter 8.
    """
    p = _to_numpy(probs, "probs")
    t = _class_labels(y_true, "y_true")
    if p.ndim != 2 or p.shape[0] != t.shape[0]:
        raise ValueError(f"probs must have shape (N, K) with N = len(y_true) = {t.shape[0]}, got {p.shape}")
    if t.max() >= p.shape[1]:
        raise ValueError(f"y_true has label {t.max()} but probs has only {p.shape[1]} columns")
    return np.array(
        [
            average_precision(p[:, k], t == k, interpolation=interpolation) if (t == k).any() else np.nan
            for k in range(p.shape[1])
        ]
    )


# --------------------------------------------------------------------------- plotting


def show_confusion_matrix(
    cm,
    *,
    class_names=None,
    normalize: str | None = None,
    ax=None,
    cmap: str = "Blues",
    title: str | None = None,
    values: bool = True,
):
    """Draw a (K, K) confusion matrix (rows true, columns predicted) with its counts.

    normalize: ``None`` (counts), ``"true"`` (each row sums to 1: recall on the diagonal)
    or ``"pred"`` (each column sums to 1: precision on the diagonal). Returns the axes.
    Taught in Chapter 8.
    """
    import matplotlib.pyplot as plt

    cm = _check_cm(cm).astype(np.float64)
    if normalize not in (None, "true", "pred"):
        raise ValueError(f"normalize must be None, 'true' or 'pred', got {normalize!r}")
    if normalize == "true":
        cm = _safe_divide(cm, np.broadcast_to(cm.sum(axis=1, keepdims=True), cm.shape), 0.0)
    elif normalize == "pred":
        cm = _safe_divide(cm, np.broadcast_to(cm.sum(axis=0, keepdims=True), cm.shape), 0.0)
    k = cm.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.4 * k + 2.2, 0.4 * k + 1.8))
    image = ax.imshow(cm, cmap=cmap, vmin=0)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    if values:
        top = cm.max() if cm.max() > 0 else 1.0
        for i in range(k):
            for j in range(k):
                if cm[i, j] == 0:
                    continue
                text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(
                    j, i, text, ha="center", va="center", fontsize=8, color="white" if cm[i, j] > 0.5 * top else "black"
                )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax
