"""Fairness fixtures for the chapter 03 exercises (issue 19): plausible submissions."""

# --------------------------------------------------------------------------- correct alternatives

_EX1_LOOPS = '''def gd_step(theta, grad, lr):
    """One gradient-descent step: a new array (or tensor) theta - lr * grad, same shape as theta."""
    if theta.shape != grad.shape:
        raise ValueError("theta and grad must have the same shape")
    step = grad * lr
    return theta + (-step)


def line_gradients(x, y, m, b):
    """(dL/dm, dL/db) as floats for L = mean((y - (m x + b))**2) over 1-D arrays x, y of length N."""
    if len(x) == 0 or len(x) != len(y) or np.ndim(x) != 1 or np.ndim(y) != 1:
        raise ValueError("x and y must be 1-D and of the same length N >= 1")
    dm = db = 0.0
    for xi, yi in zip(x.tolist(), y.tolist()):
        r = yi - (m * xi + b)
        dm += -2.0 * xi * r
        db += -2.0 * r
    return dm / len(x), db / len(x)
'''

_EX2_GATHER = '''def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (N, C) against integer labels (N,); a 0-dim tensor."""
    if logits.dim() != 2 or labels.shape != (logits.shape[0],):
        raise ValueError("logits must be (N, C) and labels (N,)")
    shifted = logits - logits.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs.gather(1, labels.view(-1, 1)).mean()
'''

_EX3_RSQRT = '''def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, C, H, W); return (y, mean (C,), biased var (C,))."""
    if x.dim() != 4:
        raise ValueError("x must be (N, C, H, W)")
    if gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError("gamma and beta must have shape (C,)")
    var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0)
    shape = (1, -1, 1, 1)
    y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)
    return y, mean, var
'''

_EX4_KEYWORDS = '''def _positive_int(**sizes):
    for name, value in sizes.items():
        if type(value) is not int or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def conv_params(f, n_c, n_filters):
    """Parameters of a conv layer with n_filters filters of size f x f over n_c channels, biases included."""
    _positive_int(f=f, n_c=n_c, n_filters=n_filters)
    weights = f * f * n_c * n_filters
    return weights + n_filters


def fc_params(n_in, n_out):
    """Parameters of a fully connected layer from n_in to n_out units, biases included."""
    _positive_int(n_in=n_in, n_out=n_out)
    return (n_in + 1) * n_out


def lecture_network_params():
    """Parameter counts of the 5 layers with parameters of the lectures' 32 x 32 x 3 network."""
    side = 32
    for _ in range(2):
        side = (side - 4) // 2
    return [conv_params(f=5, n_c=3, n_filters=8), conv_params(f=5, n_c=8, n_filters=16),
            fc_params(n_in=side * side * 16, n_out=120), fc_params(n_in=120, n_out=84), fc_params(n_in=84, n_out=10)]
'''

_EX5_SET_TO_NONE = '''def train_step(model, x, y, optimizer, loss_fn):
    """One optimisation step of model on the batch (x, y); return the batch's loss as a float."""
    optimizer.zero_grad(set_to_none=True)
    model.train(True)
    outputs = model(x)
    loss = loss_fn(outputs, y)
    value = float(loss.detach())
    loss.backward()
    optimizer.step()
    return value
'''

_EX1_VECTOR = '''def gd_step(theta, grad, lr):
    """One gradient-descent step: a new array (or tensor) theta - lr * grad, same shape as theta."""
    if list(theta.shape) != list(grad.shape):
        raise ValueError(f"shapes differ: {theta.shape} and {grad.shape}")
    new = theta.copy() if isinstance(theta, np.ndarray) else theta.clone()
    new -= lr * grad
    return new


def line_gradients(x, y, m, b):
    """(dL/dm, dL/db) as floats for L = mean((y - (m x + b))**2) over 1-D arrays x, y of length N."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or not x.size:
        raise ValueError("x and y must be 1-D arrays of the same length N >= 1")
    y_hat = m * x + b
    n = x.size
    return float(2 / n * np.dot(x, y_hat - y)), float(2 / n * np.sum(y_hat - y))
'''

_EX2_ONE_HOT = '''def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (N, C) against integer labels (N,); a 0-dim tensor."""
    if logits.ndim != 2:
        raise ValueError("logits must have 2 dimensions")
    if labels.ndim != 1 or len(labels) != len(logits):
        raise ValueError("labels must have shape (N,)")
    top, _ = torch.max(logits, dim=1)
    lse = top + torch.log(torch.sum(torch.exp(logits - top[:, None]), dim=1))
    one_hot = torch.zeros_like(logits).scatter_(1, labels[:, None], 1.0)
    return torch.sum(lse - (one_hot * logits).sum(dim=1)) / logits.shape[0]
'''

_EX3_LOOP_OVER_CHANNELS = '''def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, C, H, W); return (y, mean (C,), biased var (C,))."""
    if len(x.shape) != 4:
        raise ValueError("x must be (N, C, H, W)")
    c = x.shape[1]
    if tuple(gamma.shape) != (c,) or tuple(beta.shape) != (c,):
        raise ValueError("gamma and beta must have shape (C,)")
    ys, means, variances = [], [], []
    for k in range(c):
        channel = x[:, k]
        mu = channel.mean()
        var = ((channel - mu) ** 2).mean()
        ys.append(gamma[k] * (channel - mu) / (var + eps).sqrt() + beta[k])
        means.append(mu)
        variances.append(var)
    return torch.stack(ys, dim=1), torch.stack(means), torch.stack(variances)
'''

_EX4_LIBRARY_COUNT = '''def _check(**sizes):
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def conv_params(f, n_c, n_filters):
    """Parameters of a conv layer with n_filters filters of size f x f over n_c channels, biases included."""
    _check(f=f, n_c=n_c, n_filters=n_filters)
    return sum(p.numel() for p in nn.Conv2d(n_c, n_filters, f, device="meta").parameters())


def fc_params(n_in, n_out):
    """Parameters of a fully connected layer from n_in to n_out units, biases included."""
    _check(n_in=n_in, n_out=n_out)
    return sum(p.numel() for p in nn.Linear(n_in, n_out, device="meta").parameters())


def lecture_network_params():
    """Parameter counts of the 5 layers with parameters of the lectures' 32 x 32 x 3 network."""
    convs = [(5, 3, 8), (5, 8, 16)]
    fcs = [(5 * 5 * 16, 120), (120, 84), (84, 10)]
    return [conv_params(*c) for c in convs] + [fc_params(*f) for f in fcs]
'''

_EX5_SUM_FIRST = '''def train_step(model, x, y, optimizer, loss_fn):
    """One optimisation step of model on the batch (x, y); return the batch's loss as a float."""
    model.train()
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
'''

CORRECT = {
    "loops_gather_rsqrt_keywords": {
        "ex1_answer": _EX1_LOOPS,
        "ex2_answer": _EX2_GATHER,
        "ex3_answer": _EX3_RSQRT,
        "ex4_answer": _EX4_KEYWORDS,
        "ex5_answer": _EX5_SET_TO_NONE,
    },
    "in_place_copy_one_hot_channel_loop": {
        "ex1_answer": _EX1_VECTOR,
        "ex2_answer": _EX2_ONE_HOT,
        "ex3_answer": _EX3_LOOP_OVER_CHANNELS,
        "ex4_answer": _EX4_LIBRARY_COUNT,
        "ex5_answer": _EX5_SUM_FIRST,
    },
}

# --------------------------------------------------------------------------- real mistakes

_EX4_ACCEPTS_BOOL = _EX4_KEYWORDS.replace("type(value) is not int", "not isinstance(value, int)")

_EX2_SUM = '''def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (N, C) against integer labels (N,); a 0-dim tensor."""
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError("logits must be (N, C) and labels (N,)")
    z_max = logits.max(dim=1, keepdim=True).values
    log_sum_exp = z_max.squeeze(1) + torch.log(torch.exp(logits - z_max).sum(dim=1))
    return (log_sum_exp - logits[torch.arange(len(labels)), labels]).sum()
'''

_EX2_OVERFLOW = '''def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (N, C) against integer labels (N,); a 0-dim tensor."""
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError("logits must be (N, C) and labels (N,)")
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs[torch.arange(len(labels)), labels]).mean()
'''

_EX3_UNBIASED = _EX3_RSQRT.replace("correction=0", "correction=1")

_EX4_TYPED_IN = '''def conv_params(f, n_c, n_filters):
    """Parameters of a conv layer with n_filters filters of size f x f over n_c channels, biases included."""
    for v in (f, n_c, n_filters):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError("sizes must be positive ints")
    return (f * f * n_c + 1) * n_filters


def fc_params(n_in, n_out):
    """Parameters of a fully connected layer from n_in to n_out units, biases included."""
    for v in (n_in, n_out):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError("sizes must be positive ints")
    return n_in * n_out + n_out


def lecture_network_params():
    """Parameter counts of the 5 layers with parameters of the lectures' 32 x 32 x 3 network."""
    return [608, 3216, 48120, 10164, 850]
'''

_EX1_NO_SHAPE_CHECK = '''def gd_step(theta, grad, lr):
    """One gradient-descent step: a new array (or tensor) theta - lr * grad, same shape as theta."""
    return theta - lr * grad


def line_gradients(x, y, m, b):
    """(dL/dm, dL/db) as floats for L = mean((y - (m x + b))**2) over 1-D arrays x, y of length N."""
    residual = y - (m * x + b)
    return float(-2 * np.mean(x * residual)), float(-2 * np.mean(residual))
'''

_EX5_ZERO_GRAD_LATE = '''def train_step(model, x, y, optimizer, loss_fn):
    """One optimisation step of model on the batch (x, y); return the batch's loss as a float."""
    model.train()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
'''

_EX3_NUMPY = '''def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, C, H, W); return (y, mean (C,), biased var (C,))."""
    if x.ndim != 4:
        raise ValueError("x must be (N, C, H, W)")
    if gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError("gamma and beta must have shape (C,)")
    a = x.detach().numpy()
    mean = a.mean(axis=(0, 2, 3))
    var = a.var(axis=(0, 2, 3))
    g, b = gamma.detach().numpy(), beta.detach().numpy()
    y = g[None, :, None, None] * (a - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps) \\
        + b[None, :, None, None]
    return torch.from_numpy(y), torch.from_numpy(mean), torch.from_numpy(var)
'''

WRONG = {
    "bool_as_size_and_summed_loss": dict(
        answers={"ex4_answer": _EX4_ACCEPTS_BOOL, "ex2_answer": _EX2_SUM},
        loses=["ex2", "ex4"],
        why="True passes isinstance(value, int) but is not a size; the loss is the sum, not the mean",
    ),
    "overflowing_softmax_and_unbiased_variance": dict(
        answers={"ex2_answer": _EX2_OVERFLOW, "ex3_answer": _EX3_UNBIASED},
        loses=["ex2", "ex3"],
        why="exp(1000) overflows without the log-sum-exp trick; batch norm's variance divides by NHW, not NHW - 1",
    ),
    "typed_in_counts_and_no_shape_checks": dict(
        answers={"ex4_answer": _EX4_TYPED_IN, "ex1_answer": _EX1_NO_SHAPE_CHECK},
        loses=["ex1", "ex4"],
        why="the lecture counts must be computed with conv_params/fc_params; gd_step and line_gradients "
        "must refuse mismatched or empty inputs",
    ),
    "zero_grad_after_backward_and_numpy_batchnorm": dict(
        answers={"ex5_answer": _EX5_ZERO_GRAD_LATE, "ex3_answer": _EX3_NUMPY},
        loses=["ex3", "ex5"],
        why="zero_grad between backward and step wipes the gradients; NumPy breaks autograd",
    ),
}
