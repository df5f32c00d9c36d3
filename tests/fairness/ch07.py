"""Fairness fixtures for the chapter 07 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    # NumPy for the colour work, named parameters for the freezing, crops listed by their corners.
    "numpy_and_corners": {
        "ex1_answer": '''def colour_shift(image, shift):
    """Add shift[c] to channel c of a uint8 image (3, H, W) or batch (N, 3, H, W), clipped to [0, 255]."""
    if not torch.is_tensor(image) or image.dtype != torch.uint8 or image.dim() not in (3, 4) or image.size(-3) != 3:
        raise ValueError("image must be a uint8 tensor (3, H, W) or (N, 3, H, W)")
    s = np.asarray(shift if not torch.is_tensor(shift) else shift.numpy()).reshape(-1)
    if s.size != 3:
        raise ValueError("shift must hold 3 values")
    values = image.numpy().astype(np.int16) + s.astype(np.int16).reshape(3, 1, 1)
    return torch.from_numpy(np.clip(values, 0, 255).astype(np.uint8))
''',
        "ex2_answer": '''def pca_colour_augment(image, alpha):
    """AlexNet's PCA colour augmentation of a float image (3, H, W) in [0, 1] with the given alpha."""
    if not torch.is_tensor(image) or image.dim() != 3 or image.size(0) != 3:
        raise ValueError("image must have shape (3, H, W)")
    a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    if a.size != 3:
        raise ValueError("alpha must hold 3 values")
    pixels = image.detach().double().reshape(3, -1).numpy()
    values, vectors = np.linalg.eigh(np.cov(pixels))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    vectors = vectors * np.where(vectors.sum(axis=0) >= 0, 1.0, -1.0)
    delta = torch.from_numpy(vectors @ (a * values))
    return (image.double() + delta[:, None, None]).clamp(0.0, 1.0).to(image.dtype)
''',
        "ex3_answer": '''def prepare_for_transfer(model, num_classes):
    """Replace model.fc by a new Linear(in_features, num_classes), freeze the rest; return the trainable count."""
    if type(num_classes) is not int or num_classes <= 0:
        raise ValueError("num_classes must be a positive int")
    old = model.fc
    model.fc = nn.Linear(old.in_features, num_classes, bias=True).to(old.weight.device)
    count = 0
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith("fc."))
        if parameter.requires_grad:
            count += parameter.numel()
    return count
''',
        "ex4_answer": '''def ten_crop_average(model, images, size):
    """Mean softmax of model over the 10 crops (5 of images, 5 of their mirrors); returns (N, K)."""
    H, W = images.shape[-2], images.shape[-1]
    if size < 1 or size > H or size > W:
        raise ValueError("size does not fit")
    top, left = int(round((H - size) / 2)), int(round((W - size) / 2))
    corners = [(0, 0), (0, W - size), (H - size, 0), (H - size, W - size), (top, left)]
    model.eval()
    total = 0
    with torch.no_grad():
        for batch in (images, torch.flip(images, dims=[-1])):
            for i, j in corners:
                total = total + torch.softmax(model(batch[..., i:i + size, j:j + size]), dim=-1)
    return total / 10
''',
    },
    # torch.where for the clipping, torch.cov for the covariance, requires_grad_ on the whole model.
    "torch_cov_and_where": {
        "ex1_answer": '''def colour_shift(image, shift):
    """Add shift[c] to channel c of a uint8 image (3, H, W) or batch (N, 3, H, W), clipped to [0, 255]."""
    if not isinstance(image, torch.Tensor) or image.dtype is not torch.uint8:
        raise ValueError("image must be uint8")
    if image.ndim < 3 or image.ndim > 4 or image.shape[-3] != 3:
        raise ValueError("image must be (3, H, W) or (N, 3, H, W)")
    shift = torch.tensor(list(shift), dtype=torch.int64) if not isinstance(shift, torch.Tensor) else shift.long()
    if shift.numel() != 3 or shift.ndim != 1:
        raise ValueError("three shifts are needed")
    wide = image.long() + shift[:, None, None]
    wide = torch.where(wide > 255, torch.full_like(wide, 255), wide)
    wide = torch.where(wide < 0, torch.zeros_like(wide), wide)
    return wide.to(torch.uint8)
''',
        "ex2_answer": '''def pca_colour_augment(image, alpha):
    """AlexNet's PCA colour augmentation of a float image (3, H, W) in [0, 1] with the given alpha."""
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"expected (3, H, W), got {tuple(image.shape)}")
    alpha = torch.tensor([float(a) for a in alpha], dtype=torch.float64)
    if len(alpha) != 3:
        raise ValueError("alpha needs 3 values")
    cov = torch.cov(image.reshape(3, -1).double())          # unbiased, rows are the variables
    lam, p = torch.linalg.eigh(cov)
    lam, p = lam[[2, 1, 0]], p[:, [2, 1, 0]]
    p = torch.stack([v if v.sum() >= 0 else -v for v in p.T], dim=1)
    delta = (p * (alpha * lam)).sum(dim=1)
    return torch.clamp(image + delta.to(image.dtype).view(3, 1, 1), min=0.0, max=1.0)
''',
        "ex3_answer": '''def prepare_for_transfer(model, num_classes):
    """Replace model.fc by a new Linear(in_features, num_classes), freeze the rest; return the trainable count."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    model.requires_grad_(False)
    head = nn.Linear(model.fc.in_features, num_classes)
    model.fc = head.to(next(model.parameters()).device)
    model.fc.requires_grad_(True)
    return int(sum(p.numel() for p in model.fc.parameters()))
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "uint8_wraps_around": dict(
        answers={
            "ex1_answer": '''def colour_shift(image, shift):
    """Add shift[c] to channel c of a uint8 image (3, H, W) or batch (N, 3, H, W), clipped to [0, 255]."""
    if not isinstance(image, torch.Tensor) or image.dtype != torch.uint8:
        raise ValueError("image must be a uint8 tensor")
    if image.ndim not in (3, 4) or image.shape[-3] != 3:
        raise ValueError("image must have shape (3, H, W) or (N, 3, H, W)")
    shift = torch.as_tensor(shift)
    if shift.shape != (3,):
        raise ValueError("shift must hold 3 values")
    out = image.clone()
    for c in range(3):
        out[..., c, :, :] += int(shift[c])          # uint8 arithmetic wraps around
    return out.clamp(0, 255)
'''
        },
        loses=["ex1"],
        why="adds in uint8, so 250 + 20 wraps to 14 before the clipping",
    ),
    "eigenvalues_ascending": dict(
        answers={
            "ex2_answer": '''def pca_colour_augment(image, alpha):
    """AlexNet's PCA colour augmentation of a float image (3, H, W) in [0, 1] with the given alpha."""
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError("image must have shape (3, H, W)")
    alpha = torch.as_tensor(alpha, dtype=torch.float64)
    if alpha.shape != (3,):
        raise ValueError("alpha must hold 3 values")
    pixels = image.double().reshape(3, -1)
    cov = torch.cov(pixels)
    eigvals, eigvecs = torch.linalg.eigh(cov)           # ascending: alpha_1 goes to the smallest one
    eigvecs = eigvecs * torch.where(eigvecs.sum(dim=0) < 0, -1.0, 1.0).double()
    delta = eigvecs @ (alpha * eigvals)
    return (image.double() + delta.view(3, 1, 1)).clamp(0, 1).to(image.dtype)
'''
        },
        loses=["ex2"],
        why="uses torch.linalg.eigh's ascending order, so alpha_1 scales the smallest eigenvalue",
    ),
    "counts_every_parameter": dict(
        answers={
            "ex3_answer": '''def prepare_for_transfer(model, num_classes):
    """Replace model.fc by a new Linear(in_features, num_classes), freeze the rest; return the trainable count."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError("num_classes must be a positive int")
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes, device=model.fc.weight.device)
    return sum(p.numel() for p in model.parameters())   # all of them, frozen or not
'''
        },
        loses=["ex3"],
        why="returns the number of all parameters instead of the trainable ones",
    ),
    "forgets_eval_mode": dict(
        answers={
            "ex4_answer": '''def ten_crop_average(model, images, size):
    """Mean softmax of model over the 10 crops (5 of images, 5 of their mirrors); returns (N, K)."""
    h, w = images.shape[-2:]
    if not 1 <= size <= min(h, w):
        raise ValueError("size does not fit")
    t, l = int(round((h - size) / 2)), int(round((w - size) / 2))

    def five(x):
        return [x[..., :size, :size], x[..., :size, w - size:], x[..., h - size:, :size],
                x[..., h - size:, w - size:], x[..., t:t + size, l:l + size]]

    with torch.no_grad():                                 # but the model stays in training mode
        probs = [model(crop).softmax(dim=1) for crop in five(images) + five(images.flip(-1))]
    return torch.stack(probs).mean(dim=0)
'''
        },
        loses=["ex4"],
        why="does not switch the model to eval mode, so dropout and batch norm behave as in training",
    ),
}
