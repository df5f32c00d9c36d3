"""Fairness fixtures for the chapter 01 exercises (issue 19): plausible submissions."""

# --------------------------------------------------------------------------- correct alternatives

_EX1_NUMPY = '''def hwc_uint8_to_chw_float(image):
    """uint8 array (H, W, C) or (H, W) -> float32 tensor (C, H, W) with values in [0, 1]."""
    if image.dtype != np.uint8 or len(image.shape) not in (2, 3):
        raise ValueError("image must be a uint8 array of shape (H, W) or (H, W, C)")
    if len(image.shape) == 2:
        image = image.reshape(image.shape + (1,))
    chw = np.moveaxis(image, -1, 0).astype(np.float32) / np.float32(255)
    return torch.tensor(chw)


def chw_float_to_hwc_uint8(tensor):
    """float tensor (C, H, W) -> uint8 array (H, W, C), or (H, W) for one channel."""
    if len(tensor.shape) != 3 or not torch.is_floating_point(tensor):
        raise ValueError("tensor must be a floating-point tensor of shape (C, H, W)")
    values = np.clip(tensor.detach().cpu().numpy(), 0, 1)
    image = np.rint(values * 255).astype(np.uint8).transpose(1, 2, 0)
    return image.squeeze(2) if image.shape[2] == 1 else image
'''

_EX2_VAR_MEAN = '''def standardize(images, eps=1e-8):
    """Standardise a batch (N, C, H, W) per channel; return (normalized, mean (C,), std (C,))."""
    if len(images.shape) != 4:
        raise ValueError("images must be (N, C, H, W)")
    var, mean = torch.var_mean(images, dim=[0, 2, 3], unbiased=False)
    std = torch.maximum(var.sqrt(), torch.tensor(eps, dtype=var.dtype))
    return (images - mean[None, :, None, None]) / std[None, :, None, None], mean, std
'''

_EX3_DOT = '''def rgb_to_gray(image):
    """RGB array (H, W, 3), uint8 or float in [0, 1] -> float64 luminance (H, W) in [0, 1]."""
    if np.ndim(image) != 3 or np.shape(image)[-1] != 3:
        raise ValueError("image must have shape (H, W, 3)")
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    return np.dot(np.asarray(image, dtype=np.float64) / scale, [0.2125, 0.7154, 0.0721])
'''

_EX4_ONE_LINE = '''def fc_parameters(height, width, channels, hidden, bias=True):
    """Number of parameters of a linear layer from a flattened H x W x C image to `hidden` units."""
    sizes = [height, width, channels, hidden]
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"all sizes must be positive ints, got {sizes}")
    return (height * width * channels + int(bool(bias))) * hidden
'''

_EX5_LOOPS = '''def shift_image(image, dx, dy):
    """Move the content of `image` (..., H, W) dx pixels right and dy pixels down, filling with 0."""
    height, width = image.shape[-2], image.shape[-1]
    out = image.new_zeros(image.shape)
    for y in range(height):
        for x in range(width):
            if 0 <= y - dy < height and 0 <= x - dx < width:
                out[..., y, x] = image[..., y - dy, x - dx]
    return out
'''

_EX1_TORCH = '''def hwc_uint8_to_chw_float(image):
    """uint8 array (H, W, C) or (H, W) -> float32 tensor (C, H, W) with values in [0, 1]."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("image must be a uint8 NumPy array")
    if image.ndim == 2:
        image = image[..., np.newaxis]
    elif image.ndim != 3:
        raise ValueError(f"image must have 2 or 3 dimensions, got {image.ndim}")
    return torch.tensor(image.copy()).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


def chw_float_to_hwc_uint8(tensor):
    """float tensor (C, H, W) -> uint8 array (H, W, C), or (H, W) for one channel."""
    if tensor.dim() != 3:
        raise ValueError("tensor must be (C, H, W)")
    if tensor.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError("tensor must be floating point")
    out = torch.round(torch.clamp(tensor.detach(), 0.0, 1.0) * 255).to(torch.uint8)
    out = out.permute(1, 2, 0).numpy()
    if out.shape[-1] == 1:
        out = out[..., 0]
    return out
'''

_EX2_BY_HAND = '''def standardize(images, eps=1e-8):
    """Standardise a batch (N, C, H, W) per channel; return (normalized, mean (C,), std (C,))."""
    if images.dim() != 4:
        raise ValueError(f"expected (N, C, H, W), got {tuple(images.shape)}")
    per_channel = images.transpose(0, 1).reshape(images.shape[1], -1)
    mean = per_channel.mean(dim=1)
    std = ((per_channel - mean[:, None]) ** 2).mean(dim=1).sqrt().clamp(min=eps)
    shape = (1, images.shape[1], 1, 1)
    return (images - mean.reshape(shape)) / std.reshape(shape), mean, std
'''

_EX3_CHANNELS = '''def rgb_to_gray(image):
    """RGB array (H, W, 3), uint8 or float in [0, 1] -> float64 luminance (H, W) in [0, 1]."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected (H, W, 3), got {image.shape}")
    rgb = image.astype(np.float64)
    if np.issubdtype(image.dtype, np.integer):
        rgb /= 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return 0.2125 * r + 0.7154 * g + 0.0721 * b
'''

_EX4_NN = '''def fc_parameters(height, width, channels, hidden, bias=True):
    """Number of parameters of a linear layer from a flattened H x W x C image to `hidden` units."""
    for value in (height, width, channels, hidden):
        if type(value) is not int or value < 1:
            raise ValueError(f"sizes must be positive ints, got {value!r}")
    weights = height * width * channels * hidden
    biases = hidden if bias else 0
    return weights + biases
'''

_EX5_ROLL_AND_ZERO = '''def shift_image(image, dx, dy):
    """Move the content of `image` (..., H, W) dx pixels right and dy pixels down, filling with 0."""
    height, width = image.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        return torch.zeros_like(image)
    out = torch.roll(image, shifts=(dy, dx), dims=(-2, -1))
    if dy > 0:
        out[..., :dy, :] = 0
    elif dy < 0:
        out[..., dy:, :] = 0
    if dx > 0:
        out[..., :, :dx] = 0
    elif dx < 0:
        out[..., :, dx:] = 0
    return out
'''

CORRECT = {
    "numpy_var_mean_dot_loops": {
        "ex1_answer": _EX1_NUMPY,
        "ex2_answer": _EX2_VAR_MEAN,
        "ex3_answer": _EX3_DOT,
        "ex4_answer": _EX4_ONE_LINE,
        "ex5_answer": _EX5_LOOPS,
    },
    "torch_by_hand_channels_roll": {
        "ex1_answer": _EX1_TORCH,
        "ex2_answer": _EX2_BY_HAND,
        "ex3_answer": _EX3_CHANNELS,
        "ex4_answer": _EX4_NN,
        "ex5_answer": _EX5_ROLL_AND_ZERO,
    },
}

# --------------------------------------------------------------------------- real mistakes

_EX1_TRUNCATES = _EX1_TORCH.replace(
    "torch.round(torch.clamp(tensor.detach(), 0.0, 1.0) * 255)", "(torch.clamp(tensor.detach(), 0.0, 1.0) * 255)"
)

_EX3_NO_SCALING = '''def rgb_to_gray(image):
    """RGB array (H, W, 3), uint8 or float in [0, 1] -> float64 luminance (H, W) in [0, 1]."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must have shape (H, W, 3)")
    return image.astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])
'''

_EX2_UNBIASED = '''def standardize(images, eps=1e-8):
    """Standardise a batch (N, C, H, W) per channel; return (normalized, mean (C,), std (C,))."""
    if images.ndim != 4:
        raise ValueError("images must be (N, C, H, W)")
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3)).clamp_min(eps)
    return (images - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1), mean, std
'''

_EX5_ROLL = '''def shift_image(image, dx, dy):
    """Move the content of `image` (..., H, W) dx pixels right and dy pixels down, filling with 0."""
    return torch.roll(image, shifts=(dy, dx), dims=(-2, -1))
'''

_EX1_NO_DTYPE_CHECK = '''def hwc_uint8_to_chw_float(image):
    """uint8 array (H, W, C) or (H, W) -> float32 tensor (C, H, W) with values in [0, 1]."""
    if image.ndim == 2:
        image = image[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255


def chw_float_to_hwc_uint8(tensor):
    """float tensor (C, H, W) -> uint8 array (H, W, C), or (H, W) for one channel."""
    image = (tensor.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return image[:, :, 0] if image.shape[2] == 1 else image
'''

_EX4_NO_CHECKS = '''def fc_parameters(height, width, channels, hidden, bias=True):
    """Number of parameters of a linear layer from a flattened H x W x C image to `hidden` units."""
    inputs = height * width * channels
    return inputs * hidden + (hidden if bias else 0)
'''

_EX1_FROM_NUMPY_VIEW = '''def hwc_uint8_to_chw_float(image):
    """uint8 array (H, W, C) or (H, W) -> float32 tensor (C, H, W) with values in [0, 1]."""
    if image.ndim not in (2, 3):
        raise ValueError("image must be (H, W) or (H, W, C)")
    if image.dtype != np.uint8:
        raise ValueError("image must be uint8")
    if image.ndim == 2:
        image = image[:, :, None]
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


def chw_float_to_hwc_uint8(tensor):
    """float tensor (C, H, W) -> uint8 array (H, W, C), or (H, W) for one channel."""
    if tensor.ndim != 3:
        raise ValueError("tensor must be (C, H, W)")
    if not tensor.is_floating_point():
        raise ValueError("tensor must be floating point")
    image = (tensor.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return image[:, :, 0] if image.shape[2] == 1 else image
'''

_EX2_NO_EPS = '''def standardize(images, eps=1e-8):
    """Standardise a batch (N, C, H, W) per channel; return (normalized, mean (C,), std (C,))."""
    if images.ndim != 4:
        raise ValueError("images must be (N, C, H, W)")
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3), correction=0)
    return (images - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1), mean, std
'''

WRONG = {
    "truncating_cast_and_unscaled_gray": dict(
        answers={"ex1_answer": _EX1_TRUNCATES, "ex3_answer": _EX3_NO_SCALING},
        loses=["ex1", "ex3"],
        why="0.999 * 255 = 254.7 must round to 255, not truncate to 254; a uint8 image must be divided by 255",
    ),
    "sample_std_and_wrapping_roll": dict(
        answers={"ex2_answer": _EX2_UNBIASED, "ex5_answer": _EX5_ROLL},
        loses=["ex2", "ex5"],
        why="the population std divides by N (correction=0); torch.roll wraps the content around instead of 0s",
    ),
    "no_input_checks": dict(
        answers={"ex1_answer": _EX1_NO_DTYPE_CHECK, "ex4_answer": _EX4_NO_CHECKS},
        loses=["ex1", "ex4"],
        why="the ValueErrors the text asks for (dtype, dimensions, positive sizes) are missing",
    ),
    "from_numpy_on_a_view_and_no_eps": dict(
        answers={"ex1_answer": _EX1_FROM_NUMPY_VIEW, "ex2_answer": _EX2_NO_EPS},
        loses=["ex1", "ex2"],
        why="torch.from_numpy refuses a flipped view (copy first); a constant channel divides 0 by 0 without eps",
    ),
}
