"""Fairness fixtures for the chapter 11 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    "cdist_and_sorting": {
        "ex1_answer": '''def triplet_loss(anchor, positive, negative, alpha=0.2):
    """With torch.relu and a single check."""
    if not all(isinstance(t, torch.Tensor) for t in (anchor, positive, negative)) or anchor.dim() != 2 \\
            or anchor.shape != positive.shape or anchor.shape != negative.shape:
        raise ValueError("anchor, positive, negative must be (N, D) tensors of one shape")
    if alpha < 0:
        raise ValueError("alpha must be >= 0")
    return torch.relu((anchor - positive).pow(2).sum(1) - (anchor - negative).pow(2).sum(1) + alpha).sum()
''',
        "ex4_answer": '''def recognise(queries, database, database_ids, tau):
    """torch.cdist and argmin (the first minimum on ties)."""
    if queries.dim() != 2 or database.dim() != 2 or queries.shape[1] != database.shape[1]:
        raise ValueError("queries and database must be (Q, D) and (K, D)")
    if database.shape[0] == 0 or database_ids.shape != (database.shape[0],):
        raise ValueError("empty database or ids of the wrong shape")
    if tau < 0:
        raise ValueError("tau < 0")
    d = torch.cdist(queries.double(), database.double())
    best = d.argmin(dim=1)
    nearest = d.gather(1, best[:, None])[:, 0]
    return torch.where(nearest <= tau, database_ids[best].long(), torch.full_like(best, -1))
''',
        "ex5_answer": '''def choose_threshold(distances, same):
    """Vectorised over the candidates."""
    if distances.dim() != 1 or distances.numel() == 0 or same.shape != distances.shape:
        raise ValueError("distances (N,) non-empty, same (N,)")
    v = torch.unique(distances.double())
    candidates = torch.cat([v[:1] - 1e-6, (v[:-1] + v[1:]) / 2, v[-1:]])
    acc = ((distances.double()[None, :] <= candidates[:, None]) == same.bool()[None, :]).double().mean(1)
    k = int(torch.nonzero(acc == acc.max())[0])
    return float(candidates[k]), float(acc[k])
''',
    },
    "norms_and_float32": {
        "ex2_answer": '''def contrastive_loss(f1, f2, y, margin=1.0):
    """torch.linalg.norm, labels as floats."""
    if not (torch.is_tensor(f1) and torch.is_tensor(f2)) or f1.ndim != 2 or f1.shape != f2.shape:
        raise ValueError("f1 and f2 must be (N, D) of one shape")
    if not torch.is_tensor(y) or y.shape != (f1.shape[0],):
        raise ValueError("y must be (N,)")
    if margin <= 0:
        raise ValueError("margin must be > 0")
    d = torch.linalg.norm(f1 - f2, dim=1)
    y = y.float().to(f1.dtype)
    return torch.mean(y * d ** 2 + (1 - y) * torch.relu(margin - d) ** 2)
''',
        "ex3_answer": '''def verify(f1, f2, tau):
    """Compares squared distances with tau squared."""
    if f1.shape != f2.shape or f1.dim() not in (1, 2):
        raise ValueError("f1 and f2 must have one shape, (N, D) or (D,)")
    if tau < 0:
        raise ValueError("tau must be >= 0")
    return ((f1 - f2) ** 2).sum(-1) <= tau ** 2
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "triplet_mean": dict(
        answers={
            "ex1_answer": '''def triplet_loss(anchor, positive, negative, alpha=0.2):
    """The mean over the triplets, as PyTorch's reduction does by default."""
    if anchor.ndim != 2 or anchor.shape != positive.shape or anchor.shape != negative.shape or alpha < 0:
        raise ValueError("bad arguments")
    return torch.clamp(((anchor - positive) ** 2).sum(1) - ((anchor - negative) ** 2).sum(1) + alpha, min=0).mean()
'''
        },
        loses=["ex1"],
        why="the lecture's triplet loss is a sum",
    ),
    "contrastive_labels_swapped": dict(
        answers={
            "ex2_answer": '''def contrastive_loss(f1, f2, y, margin=1.0):
    """Hadsell's convention (0 = same) without the factor 1/2."""
    if f1.ndim != 2 or f1.shape != f2.shape or y.shape != (f1.shape[0],) or margin <= 0:
        raise ValueError("bad arguments")
    y = y.to(f1.dtype)
    d = ((f1 - f2) ** 2).sum(1).sqrt()
    return ((1 - y) * d ** 2 + y * torch.clamp(margin - d, min=0) ** 2).mean()
'''
        },
        loses=["ex2"],
        why="the lecture's Y = 1 means the same person",
    ),
    "verify_strict_less": dict(
        answers={
            "ex3_answer": '''def verify(f1, f2, tau):
    """d < tau: a distance equal to tau is rejected."""
    if f1.shape != f2.shape or f1.ndim not in (1, 2) or tau < 0:
        raise ValueError("bad arguments")
    return (f1 - f2).norm(dim=-1) < tau
'''
        },
        loses=["ex3"],
        why="the text says a distance equal to tau counts as the same person",
    ),
    "recognise_no_empty_check": dict(
        answers={
            "ex4_answer": '''def recognise(queries, database, database_ids, tau):
    """Forgets the empty database (min over an empty dimension raises IndexError)."""
    if queries.ndim != 2 or database.ndim != 2 or queries.shape[1] != database.shape[1]:
        raise ValueError("queries (Q, D) and database (K, D)")
    if database_ids.shape != (len(database),) or tau < 0:
        raise ValueError("bad ids or tau")
    d = ((queries[:, None] - database[None]) ** 2).sum(2).sqrt()
    nearest, index = d.min(dim=1)
    answer = database_ids[index].long()
    answer[nearest > tau] = -1
    return answer
'''
        },
        loses=["ex4"],
        why="the empty-database ValueError is stated; only the 1-point errors cell is lost",
    ),
    "recognise_row_indices": dict(
        answers={
            "ex4_answer": '''def recognise(queries, database, database_ids, tau):
    """Answers with the database row, not the identity."""
    if queries.ndim != 2 or database.ndim != 2 or queries.shape[1] != database.shape[1] or len(database) == 0:
        raise ValueError("bad shapes")
    if database_ids.shape != (len(database),) or tau < 0:
        raise ValueError("bad ids or tau")
    d = torch.cdist(queries, database)
    nearest, index = d.min(dim=1)
    index[nearest > tau] = -1
    return index.long()
'''
        },
        loses=["ex4"],
        why="recognition answers with database_ids[row]",
    ),
    "threshold_largest_on_ties": dict(
        answers={
            "ex5_answer": '''def choose_threshold(distances, same):
    """Keeps the last best candidate (>=): the largest on ties."""
    if distances.ndim != 1 or len(distances) == 0 or same.shape != distances.shape:
        raise ValueError("bad shapes")
    values = sorted(set(distances.double().tolist()))
    candidates = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1]]
    best_tau, best_acc = None, -1.0
    for tau in candidates:
        acc = float(((distances.double() <= tau) == same).double().mean())
        if acc >= best_acc:
            best_tau, best_acc = tau, acc
    return float(best_tau), best_acc
'''
        },
        loses=["ex5"],
        why="the text says the smallest candidate wins a tie",
    ),
}
