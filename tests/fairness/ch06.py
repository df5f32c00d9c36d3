"""Fairness fixtures for the chapter 06 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    # Helper functions, the weight tensor's own size for the per-output cost, math.pow / exp-log.
    "helpers_and_weight_shapes": {
        "ex1_answer": '''def _positive_int(name, value):
    if type(value) is not int or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def conv_cost(n_in, f, c_in, n_filters, stride=1, padding=0):
    """(mult_adds, params) of a standard f x f convolution with n_filters filters on an n_in x n_in x c_in input."""
    for name, value in (("n_in", n_in), ("f", f), ("c_in", c_in), ("n_filters", n_filters), ("stride", stride)):
        _positive_int(name, value)
    if type(padding) is not int or padding < 0:
        raise ValueError("padding must be an int >= 0")
    padded = n_in + 2 * padding
    if f > padded:
        raise ValueError("the filter does not fit")
    positions = ((padded - f) // stride + 1) ** 2
    per_filter = f * f * c_in
    return per_filter * positions * n_filters, per_filter * n_filters
''',
        "ex2_answer": '''def separable_conv_cost(n_in, f, c_in, n_filters, padding=0):
    """(depthwise, pointwise, total) mult-adds of a depthwise-separable convolution, stride 1."""
    for value in (n_in, f, c_in, n_filters):
        _positive_int("argument", value)
    if type(padding) is not int or padding < 0 or f > n_in + 2 * padding:
        raise ValueError("bad padding or filter size")
    positions = (n_in + 2 * padding - f + 1) ** 2
    depthwise = c_in * f * f * positions
    pointwise = n_filters * c_in * positions
    return depthwise, pointwise, depthwise + pointwise
''',
        "ex3_answer": '''def mobilenet_layer_cost(d_k, m, n, d_f, alpha=1.0, rho=1.0):
    """(mult_adds, params) of a depthwise-separable layer with width multiplier alpha and resolution multiplier rho."""
    if not (0 < alpha <= 1 and 0 < rho <= 1):
        raise ValueError("alpha and rho must be in (0, 1]")
    m2, n2, d2 = (max(round(alpha * m), 1), max(round(alpha * n), 1), max(round(rho * d_f), 1))
    area = d2 * d2
    return (d_k * d_k + n2) * m2 * area, (d_k * d_k + n2) * m2
''',
        "ex5_answer": '''def efficientnet_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """(depth, width, resolution, flops_factor) of EfficientNet's compound scaling with coefficient phi."""
    if phi < 0 or min(alpha, beta, gamma) < 1:
        raise ValueError("phi must be >= 0 and alpha, beta, gamma >= 1")
    d, w, r = (math.exp(phi * math.log(v)) for v in (alpha, beta, gamma))
    return d, w, r, d * w * w * r * r
''',
        "ex6_answer": '''def count_flops(model, input_shape, device="cpu"):
    """Mult-adds of the Conv2d and Linear layers of one forward pass of model on one example of shape input_shape."""
    counts = []

    def hook(module, inputs, output):
        per_output = module.weight[0].numel()      # kh * kw * in_channels / groups, or in_features
        counts.append(output.numel() * per_output)

    handles = []
    mode = model.training
    try:
        for layer in model.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                handles.append(layer.register_forward_hook(hook))
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        while handles:
            handles.pop().remove()
        model.train(mode)
    return sum(counts)
''',
    },
    # Layers appended to a list, a residual flag computed in forward, pow() and a dict of hooks.
    "list_built_block": {
        "ex4_answer": '''class InvertedResidual(nn.Module):
    """MobileNet v2 block: 1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection, residual if shapes match."""

    def __init__(self, c_in, c_out, stride, t):
        super().__init__()
        if stride != 1 and stride != 2:
            raise ValueError("stride must be 1 or 2")
        self.c_in, self.c_out, self.stride = c_in, c_out, stride
        hidden = c_in * t
        layers = []
        if t != 1:
            layers.append(nn.Conv2d(c_in, hidden, kernel_size=1, bias=False))
            layers.append(nn.BatchNorm2d(hidden))
            layers.append(nn.ReLU6(inplace=True))
        layers.append(nn.Conv2d(hidden, hidden, kernel_size=3, stride=stride, padding=1, groups=hidden, bias=False))
        layers.append(nn.BatchNorm2d(hidden))
        layers.append(nn.ReLU6(inplace=True))
        layers.append(nn.Conv2d(hidden, c_out, kernel_size=1, bias=False))
        layers.append(nn.BatchNorm2d(c_out))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        y = self.body(x)
        if self.stride == 1 and self.c_in == self.c_out:
            y = y + x
        return y
''',
        "ex5_answer": '''def efficientnet_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """(depth, width, resolution, flops_factor) of EfficientNet's compound scaling with coefficient phi."""
    if phi < 0:
        raise ValueError("phi < 0")
    if alpha < 1 or beta < 1 or gamma < 1:
        raise ValueError("a base below 1")
    return (pow(alpha, phi) * 1.0, pow(beta, phi) * 1.0, pow(gamma, phi) * 1.0,
            pow(alpha, phi) * pow(beta, 2 * phi) * pow(gamma, 2 * phi))
''',
        "ex6_answer": '''def count_flops(model, input_shape, device="cpu"):
    """Mult-adds of the Conv2d and Linear layers of one forward pass of model on one example of shape input_shape."""
    total = [0]

    def conv_hook(module, inputs, output):
        kh, kw = module.kernel_size
        total[0] += output.numel() * kh * kw * module.in_channels // module.groups

    def linear_hook(module, inputs, output):
        total[0] += output.numel() * module.in_features

    hooks = {}
    for name, layer in model.named_modules():
        if isinstance(layer, nn.Conv2d):
            hooks[name] = layer.register_forward_hook(conv_hook)
        elif isinstance(layer, nn.Linear):
            hooks[name] = layer.register_forward_hook(linear_hook)
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()
            model(torch.zeros((1,) + tuple(input_shape), device=device))
    finally:
        for handle in hooks.values():
            handle.remove()
        model.train(was_training)
    return total[0]
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "accepts_bool_sizes": dict(
        answers={
            "ex1_answer": '''def conv_cost(n_in, f, c_in, n_filters, stride=1, padding=0):
    """(mult_adds, params) of a standard f x f convolution with n_filters filters on an n_in x n_in x c_in input."""
    for value in (n_in, f, c_in, n_filters, stride):
        if not isinstance(value, int) or value < 1:          # True is an int: accepted
            raise ValueError("sizes must be positive ints")
    if not isinstance(padding, int) or padding < 0 or f > n_in + 2 * padding:
        raise ValueError("bad padding")
    n_out = (n_in + 2 * padding - f) // stride + 1
    return f * f * c_in * n_out * n_out * n_filters, f * f * c_in * n_filters
'''
        },
        loses=["ex1"],
        why="bool is an int; the text says a bool is not a size",
    ),
    "truncates_instead_of_rounding": dict(
        answers={
            "ex3_answer": '''def mobilenet_layer_cost(d_k, m, n, d_f, alpha=1.0, rho=1.0):
    """(mult_adds, params) of a depthwise-separable layer with width multiplier alpha and resolution multiplier rho."""
    if not 0 < alpha <= 1 or not 0 < rho <= 1:
        raise ValueError("alpha and rho must be in (0, 1]")
    m, n, d_f = max(1, int(alpha * m)), max(1, int(alpha * n)), max(1, int(rho * d_f))
    return d_k * d_k * m * d_f * d_f + m * n * d_f * d_f, d_k * d_k * m + m * n
'''
        },
        loses=["ex3"],
        why="int() cuts rho * D_F = 9.996 to 9; the text says Python's round",
    ),
    "relu6_after_projection": dict(
        answers={
            "ex4_answer": '''class InvertedResidual(nn.Module):
    """MobileNet v2 block: 1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection, residual if shapes match."""

    def __init__(self, c_in, c_out, stride, t):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError("stride must be 1 or 2")
        hidden = t * c_in
        layers = [] if t == 1 else [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(),
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.body = nn.Sequential(*layers)
        self.use_residual = stride == 1 and c_in == c_out

    def forward(self, x):
        out = torch.clamp(self.body(x), 0, 6)      # an activation after the linear projection
        return x + out if self.use_residual else out
'''
        },
        loses=["ex4"],
        why="a ReLU6 after the projection, which the text says is linear",
    ),
    "halved_flop_counter": dict(
        answers={
            "ex6_answer": '''def count_flops(model, input_shape, device="cpu"):
    """Mult-adds of the Conv2d and Linear layers of one forward pass of model on one example of shape input_shape."""
    from torch.utils.flop_counter import FlopCounterMode

    mode = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        model.train(mode)
    return counter.get_total_flops() // 2
'''
        },
        loses=["ex6"],
        why="calls PyTorch's FLOP counter and halves it instead of writing the hooks",
    ),
}
