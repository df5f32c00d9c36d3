"""Fairness fixtures for the chapter 10 exercises (issue 19): plausible submissions."""

_UPBLOCK_INIT = '''class UpBlock(nn.Module):
    """U-Net up-block."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = nn.Sequential(
            nn.Conv2d(2 * out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
        )
'''

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    "paste_the_kernel": {
        "ex1_answer": '''def conv_matrix(kernel, n, stride=1):
    """Each row: the kernel pasted into an n x n image of zeros at its output position."""
    if not isinstance(kernel, torch.Tensor) or kernel.dim() != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError("kernel must be a square (f, f) tensor")
    f = kernel.shape[0]
    if f > n:
        raise ValueError("the kernel is larger than the input")
    m = (n - f) // stride + 1
    rows = []
    for i in range(m):
        for j in range(m):
            canvas = kernel.new_zeros(n, n)
            canvas[i * stride:i * stride + f, j * stride:j * stride + f] = kernel
            rows.append(canvas.flatten())
    return torch.stack(rows)
''',
        "ex2_answer": '''def conv_transpose_output_size(n, f, stride=1, padding=0, output_padding=0):
    """Checks first, then the formula."""
    checks = {"n": (n, 1), "f": (f, 1), "stride": (stride, 1), "padding": (padding, 0), "output_padding": (output_padding, 0)}
    for name, (value, low) in checks.items():
        if type(value) is not int or value < low:
            raise ValueError(f"{name} must be an int >= {low}")
    if output_padding >= stride:
        raise ValueError("output_padding must be < stride")
    out = stride * (n - 1) + f - 2 * padding + output_padding
    if out < 1:
        raise ValueError("empty output")
    return out
''',
        "ex4_answer": '''def iou_scores(pred, target, num_classes):
    """Through a confusion matrix, in float32, converted at the end."""
    if pred.shape != target.shape:
        raise ValueError("pred and target must have the same shape")
    cm = torch.bincount(target.flatten() * num_classes + pred.flatten(), minlength=num_classes ** 2).view(num_classes, num_classes).float()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.tensor(float("nan")))
    return iou.double(), float(iou[union > 0].mean())
''',
    },
    "scatter_and_checked_first": {
        "ex1_answer": '''def conv_matrix(kernel, n, stride=1):
    """Index arithmetic and one scatter."""
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be (f, f), got {tuple(kernel.shape)}")
    f = kernel.shape[0]
    if f > n:
        raise ValueError(f"f = {f} > n = {n}")
    m = (n - f) // stride + 1
    i, j, u, v = torch.meshgrid(torch.arange(m), torch.arange(m), torch.arange(f), torch.arange(f), indexing="ij")
    C = torch.zeros(m * m, n * n, dtype=kernel.dtype)
    C[(i * m + j).flatten(), ((i * stride + u) * n + j * stride + v).flatten()] = kernel[u.flatten(), v.flatten()]
    return C
''',
        "ex3_answer": _UPBLOCK_INIT
        + """
    def forward(self, x, skip):
        n, _, h, w = x.shape
        expected = (n, self.up.out_channels, 2 * h, 2 * w)
        if tuple(skip.shape) != expected:
            raise ValueError(f"skip must be {expected}, got {tuple(skip.shape)}")
        return self.conv(torch.cat((skip, self.up(x)), 1))
""",
        "ex4_answer": '''def iou_scores(pred, target, num_classes):
    """Per class with NumPy."""
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError("shapes differ")
    p, t = pred.numpy().ravel(), target.numpy().ravel()
    values = []
    for k in range(num_classes):
        union = np.logical_or(p == k, t == k).sum()
        values.append(np.logical_and(p == k, t == k).sum() / union if union else np.nan)
    values = np.array(values, dtype=np.float64)
    return torch.from_numpy(values), float(np.nanmean(values))
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "conv_matrix_always_float32": dict(
        answers={
            "ex1_answer": '''def conv_matrix(kernel, n, stride=1):
    """Right entries, but always float32."""
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] > n:
        raise ValueError("bad kernel")
    f = kernel.shape[0]
    m = (n - f) // stride + 1
    C = torch.zeros(m * m, n * n)
    for i in range(m):
        for j in range(m):
            for u in range(f):
                for v in range(f):
                    C[i * m + j, (i * stride + u) * n + j * stride + v] = kernel[u, v]
    return C
'''
        },
        loses=["ex1"],
        why="the stated dtype rule: a float64 kernel gives a float64 matrix",
    ),
    "conv_matrix_flipped_kernel": dict(
        answers={
            "ex1_answer": '''def conv_matrix(kernel, n, stride=1):
    """A true convolution: the kernel is flipped."""
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] > n:
        raise ValueError("bad kernel")
    kernel = kernel.flip(0, 1)
    f = kernel.shape[0]
    m = (n - f) // stride + 1
    C = torch.zeros(m * m, n * n, dtype=kernel.dtype)
    for i in range(m):
        for j in range(m):
            for u in range(f):
                for v in range(f):
                    C[i * m + j, (i * stride + u) * n + j * stride + v] = kernel[u, v]
    return C
'''
        },
        loses=["ex1"],
        why="PyTorch's convolution is a cross-correlation",
    ),
    "transposed_size_one_sided_padding": dict(
        answers={
            "ex2_answer": '''def conv_transpose_output_size(n, f, stride=1, padding=0, output_padding=0):
    """Subtracts the padding once."""
    for value in (n, f, stride):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("sizes must be ints >= 1")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0 or output_padding < 0:
        raise ValueError("padding must be an int >= 0")
    if output_padding >= stride:
        raise ValueError("output_padding must be < stride")
    out = (n - 1) * stride - padding + f + output_padding
    if out < 1:
        raise ValueError("empty output")
    return out
'''
        },
        loses=["ex2"],
        why="padding is cut from each side: 2p",
    ),
    "transposed_size_accepts_bool": dict(
        answers={
            "ex2_answer": '''def conv_transpose_output_size(n, f, stride=1, padding=0, output_padding=0):
    """isinstance(True, int) is True: a bool slips through."""
    for value, low in ((n, 1), (f, 1), (stride, 1), (padding, 0), (output_padding, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError("bad argument")
    if output_padding >= stride:
        raise ValueError("output_padding must be < stride")
    out = (n - 1) * stride - 2 * padding + f + output_padding
    if out < 1:
        raise ValueError("empty output")
    return out
'''
        },
        loses=["ex2"],
        why="the text says a bool is not an int; only the 1-point errors cell is lost",
    ),
    "upblock_up_first": dict(
        answers={
            "ex3_answer": _UPBLOCK_INIT
            + """
    def forward(self, x, skip):
        up = self.up(x)
        if skip.shape != up.shape:
            raise ValueError("skip must have the upsampled shape")
        return self.conv(torch.cat([up, skip], dim=1))
"""
        },
        loses=["ex3"],
        why="the skip goes in front: torch.cat([skip, up])",
    ),
    "upblock_without_check": dict(
        answers={
            "ex3_answer": _UPBLOCK_INIT
            + """
    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], dim=1))
"""
        },
        loses=["ex3"],
        why="a wrong skip gives torch.cat's RuntimeError, not a ValueError: 4 of 5 points kept",
    ),
    "miou_counts_absent_classes": dict(
        answers={
            "ex4_answer": '''def iou_scores(pred, target, num_classes):
    """Averages over every class, absent ones as 0."""
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    iou = torch.full((num_classes,), float("nan"), dtype=torch.float64)
    for k in range(num_classes):
        union = ((pred == k) | (target == k)).sum().item()
        if union:
            iou[k] = ((pred == k) & (target == k)).sum().item() / union
    return iou, float(torch.nan_to_num(iou).mean())
'''
        },
        loses=["ex4"],
        why="the mean leaves out classes in neither mask",
    ),
    "iou_scores_without_check": dict(
        answers={
            "ex4_answer": '''def iou_scores(pred, target, num_classes):
    """No shape check."""
    iou = torch.full((num_classes,), float("nan"), dtype=torch.float64)
    for k in range(num_classes):
        union = ((pred == k) | (target == k)).sum().item()
        if union:
            iou[k] = ((pred == k) & (target == k)).sum().item() / union
    return iou, float(iou[~iou.isnan()].mean())
'''
        },
        loses=["ex4"],
        why="masks of different shapes must raise ValueError; only the 1-point errors cell is lost",
    ),
}
