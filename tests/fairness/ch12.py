"""Fairness fixtures for the chapter 12 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    "einsum_everywhere": {
        "ex1_answer": '''def gram_matrix(a):
    """einsum over the positions."""
    if not torch.is_tensor(a) or a.dim() != 4:
        raise ValueError("a must be (N, C, H, W)")
    return torch.einsum("nkij,nlij->nkl", a, a)
''',
        "ex2_answer": '''def layer_style_cost(a_s, a_g):
    """Per image, then summed."""
    if a_s.dim() != 4 or a_s.shape != a_g.shape:
        raise ValueError("a_s and a_g must be (N, C, H, W) of one shape")
    n, c, h, w = a_s.shape
    return sum(((gram_matrix(a_s[i:i + 1]) - gram_matrix(a_g[i:i + 1])) ** 2).sum() for i in range(n)) / (2 * c * h * w) ** 2
''',
        "ex5_answer": '''def pixel_step(image, cost_fn, lr):
    """backward() on a leaf copy."""
    if type(lr) not in (int, float) or lr <= 0:
        raise ValueError("lr must be a number > 0")
    g = image.clone().detach().requires_grad_()
    cost = cost_fn(g)
    cost.backward()
    return (g.detach() - lr * g.grad).clamp(0.0, 1.0), cost.item()
''',
    },
    "mse_and_loops": {
        "ex3_answer": '''def content_cost(a_c, a_g, norm="half"):
    """Through mse_loss with a sum."""
    if not (torch.is_tensor(a_c) and torch.is_tensor(a_g)) or a_c.ndim != 4 or a_c.shape != a_g.shape:
        raise ValueError("a_c and a_g must be (N, C, H, W) of one shape")
    factors = {"half": 0.5, "size": 1 / (4 * a_c.shape[1] * a_c.shape[2] * a_c.shape[3])}
    if norm not in factors:
        raise ValueError(f"unknown norm {norm!r}")
    return factors[norm] * torch.nn.functional.mse_loss(a_c, a_g, reduction="sum")
''',
        "ex4_answer": '''def total_cost(feats_c, feats_s, feats_g, content_layer, style_weights, alpha=10.0, beta=40.0):
    """A loop over the style layers."""
    if len(style_weights) == 0:
        raise ValueError("no style layer")
    if content_layer not in feats_c or content_layer not in feats_g:
        raise ValueError("content layer missing")
    j_style = 0.0
    for name in style_weights:
        if name not in feats_s or name not in feats_g:
            raise ValueError(f"style layer {name!r} missing")
        j_style = j_style + style_weights[name] * layer_style_cost(feats_s[name], feats_g[name])
    return alpha * content_cost(feats_c[content_layer], feats_g[content_layer]) + beta * j_style
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "gram_over_positions": dict(
        answers={
            "ex1_answer": '''def gram_matrix(a):
    """A^T A: positions instead of channels."""
    if a.ndim != 4:
        raise ValueError("a must be 4-D")
    n, c, h, w = a.shape
    flat = a.reshape(n, c, h * w)
    return flat.transpose(1, 2) @ flat
'''
        },
        loses=["ex1"],
        why="G is C x C; the style cost of Exercise 2 still scores full marks (book Gram)",
    ),
    "style_cost_unsquared_constant": dict(
        answers={
            "ex2_answer": '''def layer_style_cost(a_s, a_g):
    """Divides by 2 n_H n_W n_C, not its square."""
    if a_s.ndim != 4 or a_s.shape != a_g.shape:
        raise ValueError("bad shapes")
    _, c, h, w = a_s.shape
    return ((gram_matrix(a_s) - gram_matrix(a_g)) ** 2).sum() / (2 * h * w * c)
'''
        },
        loses=["ex2"],
        why="the constant is squared",
    ),
    "content_cost_mean": dict(
        answers={
            "ex3_answer": '''def content_cost(a_c, a_g, norm="half"):
    """Averages instead of summing."""
    if a_c.ndim != 4 or a_c.shape != a_g.shape:
        raise ValueError("bad shapes")
    if norm == "half":
        return ((a_c - a_g) ** 2).mean() / 2
    if norm == "size":
        return ((a_c - a_g) ** 2).mean() / 4
    raise ValueError("unknown norm")
'''
        },
        loses=["ex3"],
        why="the content cost sums over all entries",
    ),
    "total_cost_ignores_lambda": dict(
        answers={
            "ex4_answer": '''def total_cost(feats_c, feats_s, feats_g, content_layer, style_weights, alpha=10.0, beta=40.0):
    """Every style layer with weight 1."""
    if not style_weights or content_layer not in feats_c or content_layer not in feats_g:
        raise ValueError("bad layers")
    for name in style_weights:
        if name not in feats_s or name not in feats_g:
            raise ValueError("bad style layer")
    j_style = sum(layer_style_cost(feats_s[name], feats_g[name]) for name in style_weights)
    return alpha * content_cost(feats_c[content_layer], feats_g[content_layer]) + beta * j_style
'''
        },
        loses=["ex4"],
        why="lambda weights each layer",
    ),
    "pixel_step_accepts_bool": dict(
        answers={
            "ex5_answer": '''def pixel_step(image, cost_fn, lr):
    """isinstance(True, (int, float)) is True: a bool slips through."""
    if not isinstance(lr, (int, float)) or lr <= 0:
        raise ValueError("lr must be a number > 0")
    g = image.detach().clone().requires_grad_(True)
    cost = cost_fn(g)
    (grad,) = torch.autograd.grad(cost, g)
    return (g - lr * grad).clamp(0, 1).detach(), float(cost)
'''
        },
        loses=["ex5"],
        why="the text says a bool is not a number here; only the 1-point errors cell is lost",
    ),
    "pixel_step_no_clip": dict(
        answers={
            "ex5_answer": '''def pixel_step(image, cost_fn, lr):
    """Forgets the clip to [0, 1]."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ValueError("lr must be a number > 0")
    g = image.detach().clone().requires_grad_(True)
    cost = cost_fn(g)
    (grad,) = torch.autograd.grad(cost, g)
    return (g - lr * grad).detach(), float(cost)
'''
        },
        loses=["ex5"],
        why="the step is clipped to [0, 1]",
    ),
}
