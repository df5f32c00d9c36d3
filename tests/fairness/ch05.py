"""Fairness fixtures for the chapter 05 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    # Functional ReLU, an empty nn.Sequential as the identity, reshape and @, branches in a ModuleList.
    "functional_and_module_list": {
        "ex1_answer": '''class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers and an identity shortcut: ReLU(body(x) + x)."""

    def __init__(self, channels):
        super().__init__()
        layers = []
        for k in range(2):
            layers.append(nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1, bias=False))
            layers.append(nn.BatchNorm2d(channels))
            if k == 0:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return F.relu(self.body(x).add(x))
''',
        "ex2_answer": '''class ProjectionBlock(nn.Module):
    """Residual block from c_in to c_out channels; 1x1 conv + BN shortcut when the shapes differ."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        needs_projection = stride != 1 or c_in != c_out
        self.shortcut = nn.Identity()
        if needs_projection:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.body(x)
        out = out + self.shortcut(x)
        return F.relu(out)
''',
        "ex3_answer": '''def conv1x1_as_linear(x, weight, bias=None):
    """A 1x1 convolution of x (N, C_in, H, W) with weight (C_out, C_in, 1, 1) as a per-pixel matrix product."""
    if x.dim() != 4:
        raise ValueError("x must be (N, C_in, H, W)")
    n, c_in, h, w = x.shape
    if weight.dim() != 4 or weight.shape[1] != c_in or weight.shape[2:] != (1, 1):
        raise ValueError("weight must be (C_out, C_in, 1, 1)")
    c_out = weight.shape[0]
    if bias is not None and bias.shape != (c_out,):
        raise ValueError("bias must be (C_out,)")
    pixels = x.permute(0, 2, 3, 1).reshape(-1, c_in)          # one row per pixel
    y = pixels @ weight.reshape(c_out, c_in).T
    if bias is not None:
        y = y + bias
    return y.reshape(n, h, w, c_out).permute(0, 3, 1, 2)
''',
        "ex5_answer": '''class Inception(nn.Module):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-5x5; maxpool-1x1) concatenated along the channels."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()

        def unit(a, b, k):
            return [nn.Conv2d(a, b, k, padding=(k - 1) // 2, bias=False), nn.BatchNorm2d(b), nn.ReLU()]

        self.branches = nn.ModuleList([
            nn.Sequential(*unit(c_in, c1, 1)),
            nn.Sequential(*unit(c_in, c3_reduce, 1), *unit(c3_reduce, c3, 3)),
            nn.Sequential(*unit(c_in, c5_reduce, 1), *unit(c5_reduce, c5, 5)),
            nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1), *unit(c_in, pool_proj, 1)),
        ])

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)
''',
    },
    # A cost helper per layer, einsum with named axes, branches held in an nn.ModuleDict.
    "helpers_and_module_dict": {
        "ex3_answer": '''def conv1x1_as_linear(x, weight, bias=None):
    """A 1x1 convolution of x (N, C_in, H, W) with weight (C_out, C_in, 1, 1) as a per-pixel matrix product."""
    if len(x.shape) != 4:
        raise ValueError(f"x must be 4-D, got {tuple(x.shape)}")
    if len(weight.shape) != 4 or weight.shape[1] != x.shape[1] or weight.shape[2] != 1 or weight.shape[3] != 1:
        raise ValueError(f"weight must be (C_out, {x.shape[1]}, 1, 1), got {tuple(weight.shape)}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
        raise ValueError(f"bias must be ({weight.shape[0]},)")
    y = torch.einsum("nchw,oc->nohw", x, weight.squeeze(-1).squeeze(-1))
    return y if bias is None else y + bias.view(1, -1, 1, 1)
''',
        "ex4_answer": '''def _positive_int(value):
    return type(value) is int and value > 0


def _layer_cost(h, w, c_in, c_out, f):
    return (h * w * c_out) * (f * f * c_in)


def inception_branch_cost(h, w, c_in, c_out, f, c_reduce=None):
    """Multiplications of an f x f 'same' conv branch from h x w x c_in to h x w x c_out, with an optional 1x1 bottleneck."""
    if not all(_positive_int(v) for v in (h, w, c_in, c_out, f)):
        raise ValueError("h, w, c_in, c_out and f must be positive ints")
    if c_reduce is not None and not _positive_int(c_reduce):
        raise ValueError("c_reduce must be None or a positive int")
    if c_reduce is None:
        return _layer_cost(h, w, c_in, c_out, f)
    return _layer_cost(h, w, c_in, c_reduce, 1) + _layer_cost(h, w, c_reduce, c_out, f)
''',
        "ex5_answer": '''class Inception(nn.Module):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-5x5; maxpool-1x1) concatenated along the channels."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        cbr = lambda a, b, k: nn.Sequential(nn.Conv2d(a, b, k, padding=k // 2, bias=False), nn.BatchNorm2d(b),
                                            nn.ReLU(inplace=True))
        self.paths = nn.ModuleDict()
        self.paths["one"] = cbr(c_in, c1, 1)
        self.paths["three"] = nn.Sequential(cbr(c_in, c3_reduce, 1), cbr(c3_reduce, c3, 3))
        self.paths["five"] = nn.Sequential(cbr(c_in, c5_reduce, 1), cbr(c5_reduce, c5, 5))
        self.paths["pool"] = nn.Sequential(nn.MaxPool2d(3, 1, 1), cbr(c_in, pool_proj, 1))

    def forward(self, x):
        outputs = []
        for name in ("one", "three", "five", "pool"):
            outputs.append(self.paths[name](x))
        return torch.cat(outputs, 1)
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "relu_before_the_sum": dict(
        answers={
            "ex1_answer": '''class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers and an identity shortcut: ReLU(body(x) + x)."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        return torch.relu(self.body(x)) + x          # the slide's g(z) + a: ReLU before the sum
'''
        },
        loses=["ex1"],
        why="applies the ReLU before adding the shortcut (the lecture slide's slip)",
    ),
    "calls_conv2d": dict(
        answers={
            "ex3_answer": '''def conv1x1_as_linear(x, weight, bias=None):
    """A 1x1 convolution of x (N, C_in, H, W) with weight (C_out, C_in, 1, 1) as a per-pixel matrix product."""
    if x.ndim != 4:
        raise ValueError("x must have shape (N, C_in, H, W)")
    if weight.ndim != 4 or tuple(weight.shape[1:]) != (x.shape[1], 1, 1):
        raise ValueError("weight must have shape (C_out, C_in, 1, 1)")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError("bias must have shape (C_out,)")
    return F.conv2d(x, weight, bias)                 # the library function the exercise re-implements
'''
        },
        loses=["ex3"],
        why="calls F.conv2d instead of writing the matrix product",
    ),
    "bottleneck_cost_forgets_the_1x1": dict(
        answers={
            "ex4_answer": '''def inception_branch_cost(h, w, c_in, c_out, f, c_reduce=None):
    """Multiplications of an f x f 'same' conv branch from h x w x c_in to h x w x c_out, with an optional 1x1 bottleneck."""
    for value in (h, w, c_in, c_out, f):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("sizes must be positive ints")
    if c_reduce is None:
        return h * w * c_out * f * f * c_in
    if isinstance(c_reduce, bool) or not isinstance(c_reduce, int) or c_reduce < 1:
        raise ValueError("c_reduce must be None or a positive int")
    return h * w * c_out * f * f * c_reduce          # the 1 x 1 layer's cost is missing
'''
        },
        loses=["ex4"],
        why="counts only the f x f layer after the bottleneck, not the 1 x 1 layer",
    ),
    "average_pool_branch": dict(
        answers={
            "ex5_answer": '''class Inception(nn.Module):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-5x5; maxpool-1x1) concatenated along the channels."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()

        def conv_bn_relu(c_from, c_to, f):
            return nn.Sequential(nn.Conv2d(c_from, c_to, f, padding=f // 2, bias=False), nn.BatchNorm2d(c_to), nn.ReLU())

        self.branch1 = conv_bn_relu(c_in, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(c_in, c5_reduce, 1), conv_bn_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_bn_relu(c_in, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)
'''
        },
        loses=["ex5"],
        why="average pooling in the pool branch instead of max pooling",
    ),
}
