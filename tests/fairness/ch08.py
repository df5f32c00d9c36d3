"""Fairness fixtures for the chapter 08 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    # Loops over the items and harmonic means instead of vectorised NumPy.
    "loops_and_harmonic_mean": {
        "ex1_answer": '''def precision_recall_f1(cm):
    """(precision, recall, f1) of the positive class from a 2 x 2 matrix [[TN, FP], [FN, TP]]."""
    rows = [list(row) for row in np.asarray(cm).tolist()] if np.ndim(cm) == 2 else None
    if rows is None or len(rows) != 2 or any(len(row) != 2 for row in rows):
        raise ValueError("cm must be a 2 x 2 matrix")
    if min(min(row) for row in rows) < 0:
        raise ValueError("counts must be >= 0")
    (tn, fp), (fn, tp) = rows
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)
''',
        "ex2_answer": '''def auc_trapezoid(x, y):
    """Area under the curve through the points (x[i], y[i]), x increasing, by the trapezoid rule."""
    x, y = [float(v) for v in x], [float(v) for v in y]
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 2:
        raise ValueError("need two points")
    area = 0.0
    for i in range(len(x) - 1):
        if x[i + 1] < x[i]:
            raise ValueError("x decreases")
        area += (x[i + 1] - x[i]) * (y[i] + y[i + 1]) / 2
    return area
''',
        "ex3_answer": '''def average_precision_ranked(ranked, num_positives=None):
    """AP = sum_k (r_k - r_{k-1}) P_k of a ranked list of hits (1) and misses (0), best first."""
    ranked = list(ranked)
    if any(item not in (0, 1) for item in ranked):
        raise ValueError("only 0s and 1s")
    hits = sum(ranked)
    positives = hits if num_positives is None else num_positives
    if positives == 0 or positives < hits:
        raise ValueError("bad num_positives")
    total, found = 0.0, 0
    for k, item in enumerate(ranked, start=1):
        if item == 1:
            found += 1
            total += found / k          # the precision where recall rises by 1 / P
    return float(total / positives)
''',
        "ex4_answer": '''def macro_micro_f1(y_true, y_pred, num_classes):
    """(macro F1, micro F1) of single-label predictions over num_classes classes."""
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred) or not y_true:
        raise ValueError("y_true and y_pred must be non-empty and of the same length")
    if any(not 0 <= v < num_classes for v in y_true + y_pred):
        raise ValueError("label out of range")
    f1s, tp_all, fp_all, fn_all = [], 0, 0, 0
    for k in range(num_classes):
        tp = sum(t == k and p == k for t, p in zip(y_true, y_pred))
        fp = sum(t != k and p == k for t, p in zip(y_true, y_pred))
        fn = sum(t == k and p != k for t, p in zip(y_true, y_pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    return float(sum(f1s) / num_classes), float(2 * tp_all / (2 * tp_all + fp_all + fn_all))
''',
        "ex5_answer": '''def auc_by_pairs(scores, labels):
    """ROC AUC as P(score of a positive > score of a negative), ties counting 1/2."""
    if len(scores) != len(labels):
        raise ValueError("lengths differ")
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    if not pos or not neg:
        raise ValueError("need both classes")
    wins = 0.0
    for p in pos:
        for n in neg:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(pos) * len(neg))
''',
    },
    # Other formulas: np.diff and dot products, the Mann-Whitney rank statistic for the AUC.
    "ranks_and_dot_products": {
        "ex2_answer": '''def auc_trapezoid(x, y):
    """Area under the curve through the points (x[i], y[i]), x increasing, by the trapezoid rule."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2 or (np.diff(x) < 0).any():
        raise ValueError("x, y: 1-D, same length >= 2, x not decreasing")
    return float(np.diff(x) @ (y[:-1] + y[1:]) * 0.5)
''',
        "ex3_answer": '''def average_precision_ranked(ranked, num_positives=None):
    """AP = sum_k (r_k - r_{k-1}) P_k of a ranked list of hits (1) and misses (0), best first."""
    r = np.array(ranked, dtype=float).reshape(-1)
    if np.isin(r, [0.0, 1.0], invert=True).any():
        raise ValueError("ranked holds something else than 0 and 1")
    p = int(r.sum()) if num_positives is None else int(num_positives)
    if p < r.sum() or p <= 0:
        raise ValueError("num_positives must be > 0 and at least the number of hits")
    ranks = np.flatnonzero(r) + 1
    return float(np.sum(np.arange(1, len(ranks) + 1) / ranks) / p)
''',
        "ex5_answer": '''def auc_by_pairs(scores, labels):
    """ROC AUC as P(score of a positive > score of a negative), ties counting 1/2."""
    from scipy.stats import rankdata

    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    if s.shape != y.shape:
        raise ValueError("scores and labels differ in shape")
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    ranks = rankdata(s)                      # average ranks: a tie counts one half
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "nan_for_zero_division": dict(
        answers={
            "ex1_answer": '''def precision_recall_f1(cm):
    """(precision, recall, f1) of the positive class from a 2 x 2 matrix [[TN, FP], [FN, TP]]."""
    cm = np.asarray(cm)
    if cm.shape != (2, 2) or (cm < 0).any():
        raise ValueError("bad cm")
    (tn, fp), (fn, tp) = cm.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision, recall = np.float64(tp) / (tp + fp), np.float64(tp) / (tp + fn)
        f1 = np.float64(2 * tp) / (2 * tp + fp + fn)
    return float(precision), float(recall), float(f1)
'''
        },
        loses=["ex1"],
        why="0/0 gives nan instead of the stated 0.0",
    ),
    "riemann_rectangles": dict(
        answers={
            "ex2_answer": '''def auc_trapezoid(x, y):
    """Area under the curve through the points (x[i], y[i]), x increasing, by the trapezoid rule."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2 or np.any(np.diff(x) < 0):
        raise ValueError("bad x or y")
    return float(np.sum(np.diff(x) * y[:-1]))     # rectangles on the left points
'''
        },
        loses=["ex2"],
        why="left rectangles instead of trapezoids",
    ),
    "ap_ignores_num_positives": dict(
        answers={
            "ex3_answer": '''def average_precision_ranked(ranked, num_positives=None):
    """AP = sum_k (r_k - r_{k-1}) P_k of a ranked list of hits (1) and misses (0), best first."""
    ranked = np.asarray(ranked, dtype=float).ravel()
    if ranked.size and not np.all((ranked == 0) | (ranked == 1)):
        raise ValueError("ranked must hold only 0s and 1s")
    hits = int(ranked.sum())
    if num_positives is not None and num_positives < hits:
        raise ValueError("num_positives too small")
    if hits == 0:
        if num_positives:
            return 0.0
        raise ValueError("no positives")
    precision = np.cumsum(ranked) / np.arange(1, ranked.size + 1)
    return float(np.sum(precision * ranked) / hits)   # divides by the hits, not by num_positives
'''
        },
        loses=["ex3"],
        why="divides by the number of hits even when num_positives is larger",
    ),
    "ties_count_zero": dict(
        answers={
            "ex5_answer": '''def auc_by_pairs(scores, labels):
    """ROC AUC as P(score of a positive > score of a negative), ties counting 1/2."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if scores.shape != labels.shape:
        raise ValueError("lengths differ")
    pos, neg = scores[labels == 1], scores[labels == 0]
    if pos.size == 0 or neg.size == 0:
        raise ValueError("need both classes")
    return float(np.mean(pos[:, None] > neg[None, :]))
'''
        },
        loses=["ex5"],
        why="a tie counts 0 instead of one half",
    ),
}
