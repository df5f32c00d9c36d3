"""Fairness fixtures for the chapter 02 exercises (issue 19): plausible submissions."""

_EX1_MATH = '''def output_size(n, f, p=0, s=1):
    """Size along one axis of the output of an f x f filter, padding p, stride s, on an n x n input."""
    for value, low in ((n, 1), (f, 1), (p, 0), (s, 1)):
        if type(value) is not int or value < low:
            raise ValueError(f"sizes must be ints (n, f, s >= 1, p >= 0), got {value!r}")
    span = n + 2 * p - f
    if span < 0:
        raise ValueError("the filter does not fit")
    return span // s + 1
'''

_EX2_UNFOLD = '''def conv2d_single(image, kernel, stride=1, padding=0):
    """Cross-correlate an (H, W) image with an (f, f) kernel; return (H_out, W_out)."""
    if image.dim() != 2 or kernel.dim() != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError("image must be (H, W) and kernel (f, f)")
    if type(stride) is not int or stride < 1 or type(padding) is not int or padding < 0:
        raise ValueError("stride must be an int >= 1 and padding an int >= 0")
    f = kernel.shape[0]
    if f > min(image.shape) + 2 * padding:
        raise ValueError("the kernel does not fit")
    dtype = torch.result_type(image, kernel)
    padded = torch.nn.functional.pad(image.to(dtype), (padding,) * 4)
    windows = padded.unfold(0, f, stride).unfold(1, f, stride)
    return (windows * kernel.to(dtype)).sum(dim=(-2, -1))


def conv2d_volume(x, weights, bias=None):
    """Convolve a (C, H, W) volume with K filters (K, C, f, f) plus bias (K,); return (K, H_out, W_out)."""
    if x.dim() != 3 or weights.dim() != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (K, C, f, f) with the same C")
    if bias is not None and bias.shape != (weights.shape[0],):
        raise ValueError("bias must have shape (K,)")
    maps = []
    for k in range(weights.shape[0]):
        total = conv2d_single(x[0], weights[k, 0])
        for c in range(1, x.shape[0]):
            total = total + conv2d_single(x[c], weights[k, c])
        if bias is not None:
            total = total + bias[k]
        maps.append(total)
    return torch.stack(maps).to(torch.result_type(x, weights))
'''

_EX4_LOOPS = '''def _pool(x, f, s, reduce):
    if x.ndim not in (2, 3):
        raise ValueError("x must be (H, W) or (C, H, W)")
    h, w = x.shape[-2:]
    if f > h or f > w:
        raise ValueError("the window does not fit")
    s = f if s is None else s
    rows = []
    for i in range(0, h - f + 1, s):
        rows.append(torch.stack([reduce(x[..., i:i + f, j:j + f]) for j in range(0, w - f + 1, s)], dim=-1))
    return torch.stack(rows, dim=-2)


def max_pool(x, f, s=None):
    """Max pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    return _pool(x, f, s, lambda window: window.flatten(-2).max(dim=-1).values)


def avg_pool(x, f, s=None):
    """Average pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    x = x if x.is_floating_point() else x.float()
    return _pool(x, f, s, lambda window: window.flatten(-2).mean(dim=-1))
'''

_EX6_BACKWARDS = '''def receptive_field(filter_sizes, strides=None):
    """Side of the input square that one output value of a stack of layers depends on."""
    sizes = list(filter_sizes)
    steps = list(strides) if strides is not None else [1] * len(sizes)
    if len(steps) != len(sizes):
        raise ValueError("as many strides as filter sizes are needed")
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in sizes + steps):
        raise ValueError("sizes and strides must be positive ints")
    r = 1
    for f, s in reversed(list(zip(sizes, steps))):
        r = (r - 1) * s + f
    return r
'''

_EX2_LOOPS = '''def conv2d_single(image, kernel, stride=1, padding=0):
    """Cross-correlate an (H, W) image with an (f, f) kernel; return (H_out, W_out)."""
    if len(image.shape) != 2:
        raise ValueError("image must be 2-D")
    if len(kernel.shape) != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError("kernel must be square")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError("stride must be an int >= 1")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError("padding must be an int >= 0")
    dtype = torch.result_type(image, kernel)
    img, ker = image.to(dtype), kernel.to(dtype)
    f = ker.shape[0]
    h, w = img.shape[0] + 2 * padding, img.shape[1] + 2 * padding
    if f > h or f > w:
        raise ValueError("the kernel does not fit in the padded image")
    padded = img.new_zeros(h, w)
    padded[padding:h - padding, padding:w - padding] = img
    out = img.new_zeros((h - f) // stride + 1, (w - f) // stride + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for u in range(f):
                for v in range(f):
                    out[i, j] += padded[i * stride + u, j * stride + v] * ker[u, v]
    return out


def conv2d_volume(x, weights, bias=None):
    """Convolve a (C, H, W) volume with K filters (K, C, f, f) plus bias (K,); return (K, H_out, W_out)."""
    if x.ndim != 3 or weights.ndim != 4:
        raise ValueError("x must be (C, H, W) and weights (K, C, f, f)")
    if weights.shape[1] != x.shape[0]:
        raise ValueError("the filters and x must have the same number of channels")
    if bias is not None and tuple(bias.shape) != (weights.shape[0],):
        raise ValueError("one bias per filter")
    dtype = torch.result_type(x, weights)
    f = weights.shape[-1]
    windows = x.to(dtype).unfold(1, f, 1).unfold(2, f, 1)  # (C, H_out, W_out, f, f)
    out = torch.einsum("chwuv,kcuv->khw", windows, weights.to(dtype))
    if bias is not None:
        out = out + bias.view(-1, 1, 1)
    return out.to(dtype)
'''

_EX4_UNFOLD_MAX = '''def max_pool(x, f, s=None):
    """Max pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    if x.dim() not in (2, 3) or f > x.shape[-1] or f > x.shape[-2]:
        raise ValueError("x must be (H, W) or (C, H, W), and the window must fit")
    s = s or f
    return x.unfold(-2, f, s).unfold(-2, f, s).flatten(-2).max(dim=-1).values


def avg_pool(x, f, s=None):
    """Average pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    if x.dim() not in (2, 3) or f > x.shape[-1] or f > x.shape[-2]:
        raise ValueError("x must be (H, W) or (C, H, W), and the window must fit")
    s = s or f
    return x.double().unfold(-2, f, s).unfold(-2, f, s).sum(dim=(-2, -1)).div(f * f).to(
        x.dtype if x.is_floating_point() else torch.float32)
'''

_EX6_JUMPS = '''def receptive_field(filter_sizes, strides=None):
    """Side of the input square that one output value of a stack of layers depends on."""
    filter_sizes = tuple(filter_sizes)
    strides = tuple(strides) if strides is not None else (1,) * len(filter_sizes)
    if len(filter_sizes) != len(strides):
        raise ValueError("filter_sizes and strides differ in length")
    for v in filter_sizes + strides:
        if type(v) is not int or v <= 0:
            raise ValueError(f"{v!r} is not a positive int")
    r, jump = 1, 1
    for f, s in zip(filter_sizes, strides):
        r, jump = r + (f - 1) * jump, jump * s
    return r
'''


def _split(source):
    single, volume = source.split("\n\ndef conv2d_volume", 1)
    return single.rstrip("\n") + "\n", "def conv2d_volume" + volume


_EX2_UNFOLD, _EX3_CALLS_SINGLE = _split(_EX2_UNFOLD)
_EX2_LOOPS, _EX3_EINSUM = _split(_EX2_LOOPS)

CORRECT = {
    "unfold_pad_loops_backwards": {
        "ex1_answer": _EX1_MATH,
        "ex2_answer": _EX2_UNFOLD,
        "ex3_answer": _EX3_CALLS_SINGLE,
        "ex4_answer": _EX4_LOOPS,
        "ex6_answer": _EX6_BACKWARDS,
    },
    "four_loops_einsum_unfold_jumps": {
        "ex2_answer": _EX2_LOOPS,
        "ex3_answer": _EX3_EINSUM,
        "ex4_answer": _EX4_UNFOLD_MAX,
        "ex6_answer": _EX6_JUMPS,
    },
}

_EX1_FLOAT = _EX1_MATH.replace("return span // s + 1", "return span / s + 1")
_EX2_FLIPPED = _EX2_UNFOLD.replace("(windows * kernel.to(dtype))", "(windows * kernel.to(dtype).flip(0, 1))")
_EX3_NO_BIAS = _EX3_CALLS_SINGLE.replace(
    """        if bias is not None:
            total = total + bias[k]
""",
    "",
)
_EX4_STRIDE_ONE = _EX4_LOOPS.replace("    s = f if s is None else s\n", "    s = 1 if s is None else s\n")
_EX1_NO_CHECKS = '''def output_size(n, f, p=0, s=1):
    """Size along one axis of the output of an f x f filter, padding p, stride s, on an n x n input."""
    return (n + 2 * p - f) // s + 1
'''
_EX6_NO_STRIDES = '''def receptive_field(filter_sizes, strides=None):
    """Side of the input square that one output value of a stack of layers depends on."""
    filter_sizes = list(filter_sizes)
    if strides is not None and len(strides) != len(filter_sizes):
        raise ValueError("as many strides as filter sizes")
    if any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in filter_sizes):
        raise ValueError("filter sizes must be positive ints")
    return 1 + sum(f - 1 for f in filter_sizes)
'''
_EX2_NO_CHECKS = '''def conv2d_single(image, kernel, stride=1, padding=0):
    """Cross-correlate an (H, W) image with an (f, f) kernel; return (H_out, W_out)."""
    dtype = torch.result_type(image, kernel)
    f = kernel.shape[0]
    padded = torch.nn.functional.pad(image.to(dtype), (padding,) * 4)
    return (padded.unfold(0, f, stride).unfold(1, f, stride) * kernel.to(dtype)).sum(dim=(-2, -1))
'''
_EX4_INTEGER_AVERAGE = _EX4_LOOPS.replace("    x = x if x.is_floating_point() else x.float()\n", "").replace(
    "lambda window: window.flatten(-2).mean(dim=-1)", "lambda window: window.flatten(-2).sum(dim=-1) // (f * f)"
)

WRONG = {
    "float_size_and_flipped_kernel": dict(
        answers={"ex1_answer": _EX1_FLOAT, "ex2_answer": _EX2_FLIPPED},
        loses=["ex1", "ex2"],
        why="the size is an int (floor division); the book's convolution is cross-correlation, not flipped",
    ),
    "volume_without_bias_and_pool_stride_one": dict(
        answers={"ex3_answer": _EX3_NO_BIAS, "ex4_answer": _EX4_STRIDE_ONE},
        loses=["ex3", "ex4"],
        why="each filter adds its bias; the pooling stride defaults to the window size",
    ),
    "no_size_checks_and_strides_ignored": dict(
        answers={"ex1_answer": _EX1_NO_CHECKS, "ex6_answer": _EX6_NO_STRIDES},
        loses=["ex1", "ex6"],
        why="a filter that does not fit must raise; strides multiply the growth of the receptive field",
    ),
    "no_conv_checks_and_integer_average": dict(
        answers={"ex2_answer": _EX2_NO_CHECKS, "ex4_answer": _EX4_INTEGER_AVERAGE},
        loses=["ex2", "ex4"],
        why="conv2d_single must refuse bad shapes, strides and paddings; an average of integers is a float",
    ),
}
