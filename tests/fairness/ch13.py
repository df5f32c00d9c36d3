"""Fairness fixtures for the chapter 13 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    "unfold_and_one_loop": {
        "ex1_answer": '''def conv1d_shapes(length, layers):
    """One helper for every check."""
    def check(value, low, name):
        if type(value) is not int or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    check(length, 1, "length")
    out = []
    for n_filters, f, stride, padding in layers:
        check(n_filters, 1, "n_filters"), check(f, 1, "f"), check(stride, 1, "stride"), check(padding, 0, "padding")
        if f > length + 2 * padding:
            raise ValueError("the filter does not fit")
        length = (length + 2 * padding - f) // stride + 1
        out.append((length, n_filters))
    return out
''',
        "ex2_answer": '''def conv1d_scratch(x, weight, bias=None, stride=1):
    """Tensor.unfold gives every window at once."""
    if x.dim() != 3 or weight.dim() != 3:
        raise ValueError("x (N, C_in, L) and weight (C_out, C_in, f)")
    if x.shape[1] != weight.shape[1]:
        raise ValueError("channels differ")
    if weight.shape[2] > x.shape[2]:
        raise ValueError("the filter is longer than the signal")
    windows = x.unfold(2, weight.shape[2], stride)          # (N, C_in, L_out, f)
    out = torch.einsum("nclf,kcf->nkl", windows, weight)
    return out if bias is None else out + bias[None, :, None]
''',
        "ex5_answer": '''def horizontal_velocity(clips, threshold=0.5):
    """The mean of the frame-to-frame differences, with a loop over clips."""
    if clips.dim() != 5 or clips.shape[2] < 2:
        raise ValueError("clips must be (N, 1, T, H, W) with T >= 2")
    velocities = []
    for clip in clips[:, 0]:
        centres = []
        for frame in clip:
            rows, cols = torch.nonzero(frame > threshold, as_tuple=True)
            if len(cols) == 0:
                raise ValueError("a frame without bright pixels")
            centres.append(cols.double().mean())
        centres = torch.stack(centres)
        velocities.append((centres[1:] - centres[:-1]).mean())
    return torch.stack(velocities).float()
''',
    },
    "explicit_arithmetic": {
        "ex3_answer": '''def conv3d_layer(in_shape, f, n_filters, stride=1, padding=0):
    """Axis by axis."""
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)
    if not isinstance(in_shape, tuple) or len(in_shape) != 4 or not all(is_int(v) and v > 0 for v in in_shape):
        raise ValueError("in_shape must be a tuple of 4 positive ints")
    if not all(is_int(v) and v > 0 for v in (f, n_filters, stride)) or not is_int(padding) or padding < 0:
        raise ValueError("f, n_filters, stride must be positive ints, padding an int >= 0")
    d, h, w, c = in_shape
    if f > min(d, h, w) + 2 * padding:
        raise ValueError("the filter does not fit")
    out = tuple((n + 2 * padding - f) // stride + 1 for n in (d, h, w))
    per_filter = f * f * f * c
    return out + (n_filters,), n_filters * (per_filter + 1), out[0] * out[1] * out[2] * n_filters * per_filter
''',
        "ex4_answer": '''def make_signal_cnn(n_classes):
    """Built as a list, then unpacked."""
    if type(n_classes) is not int or n_classes < 2:
        raise ValueError("n_classes must be an int >= 2")
    layers = [nn.Conv1d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(kernel_size=2),
              nn.Conv1d(16, 32, kernel_size=5, padding=2), nn.ReLU(), nn.AdaptiveMaxPool1d(output_size=1),
              nn.Flatten(), nn.Linear(32, n_classes)]
    return nn.Sequential(*layers)
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "shapes_channels_from_input": dict(
        answers={
            "ex1_answer": '''def conv1d_shapes(length, layers):
    """Keeps the input's channel count (1) instead of the number of filters."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError("length must be an int >= 1")
    shapes, n = [], length
    for n_filters, f, stride, padding in layers:
        for v, low in ((n_filters, 1), (f, 1), (stride, 1), (padding, 0)):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError("bad layer")
        if f > n + 2 * padding:
            raise ValueError("does not fit")
        n = (n + 2 * padding - f) // stride + 1
        shapes.append((n, 1))
    return shapes
'''
        },
        loses=["ex1"],
        why="a layer outputs one channel per filter",
    ),
    "conv1d_flipped": dict(
        answers={
            "ex2_answer": '''def conv1d_scratch(x, weight, bias=None, stride=1):
    """A true convolution: the filter is flipped."""
    if x.ndim != 3 or weight.ndim != 3 or x.shape[1] != weight.shape[1] or weight.shape[2] > x.shape[2]:
        raise ValueError("bad shapes")
    weight = weight.flip(-1)
    f = weight.shape[2]
    l_out = (x.shape[2] - f) // stride + 1
    out = torch.stack([torch.einsum("ncf,kcf->nk", x[:, :, i * stride:i * stride + f], weight) for i in range(l_out)], 2)
    return out if bias is None else out + bias[None, :, None]
'''
        },
        loses=["ex2"],
        why="deep-learning convolution is a cross-correlation",
    ),
    "conv3d_params_without_bias": dict(
        answers={
            "ex3_answer": '''def conv3d_layer(in_shape, f, n_filters, stride=1, padding=0):
    """Forgets the biases."""
    if not isinstance(in_shape, tuple) or len(in_shape) != 4:
        raise ValueError("in_shape must be (D, H, W, C)")
    for v in (*in_shape, f, n_filters, stride):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError("sizes must be positive ints")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError("padding must be an int >= 0")
    *sizes, c = in_shape
    if any(f > n + 2 * padding for n in sizes):
        raise ValueError("the filter does not fit")
    out = [(n + 2 * padding - f) // stride + 1 for n in sizes]
    return (*out, n_filters), f ** 3 * c * n_filters, out[0] * out[1] * out[2] * n_filters * f ** 3 * c
'''
        },
        loses=["ex3"],
        why="nn.Conv3d holds a bias per filter",
    ),
    "signal_cnn_avg_pool": dict(
        answers={
            "ex4_answer": '''def make_signal_cnn(n_classes):
    """Global average pooling instead of max."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError("n_classes must be an int >= 2")
    return nn.Sequential(nn.Conv1d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                         nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, n_classes))
'''
        },
        loses=["ex4"],
        why="the specified network pools with the maximum",
    ),
    "velocity_over_t": dict(
        answers={
            "ex5_answer": '''def horizontal_velocity(clips, threshold=0.5):
    """Divides by T instead of T - 1."""
    if clips.ndim != 5 or clips.shape[2] < 2:
        raise ValueError("clips must be (N, 1, T, H, W), T >= 2")
    bright = (clips[:, 0] > threshold).float()
    per_column = bright.sum(2)
    counts = per_column.sum(-1)
    if (counts == 0).any():
        raise ValueError("an empty frame")
    centre = (per_column * torch.arange(clips.shape[-1])).sum(-1) / counts
    return (centre[:, -1] - centre[:, 0]) / clips.shape[2]
'''
        },
        loses=["ex5"],
        why="T frames have T - 1 steps",
    ),
    "velocity_threshold_inclusive": dict(
        answers={
            "ex5_answer": '''def horizontal_velocity(clips, threshold=0.5):
    """>= threshold: a pixel equal to the threshold counts."""
    if clips.ndim != 5 or clips.shape[2] < 2:
        raise ValueError("clips must be (N, 1, T, H, W), T >= 2")
    bright = (clips[:, 0] >= threshold).float()
    per_column = bright.sum(2)
    counts = per_column.sum(-1)
    if (counts == 0).any():
        raise ValueError("an empty frame")
    centre = (per_column * torch.arange(clips.shape[-1])).sum(-1) / counts
    return (centre[:, -1] - centre[:, 0]) / (clips.shape[2] - 1)
'''
        },
        loses=["ex5"],
        why="the text says strictly above the threshold",
    ),
}
