"""Fairness fixtures for the chapter 04 exercises (issue 19): plausible submissions."""

# --------------------------------------------------------------------------- correct alternatives

_EX1_DISPATCH = '''def _out(n, f, stride, padding):
    span = n + 2 * padding - f
    if span < 0:
        raise ValueError(f"a {f} x {f} filter does not fit in {n} pixels padded by {padding}")
    return span // stride + 1


def layer_table(layers, input_shape):
    """[(output_shape, n_params), ...], one row per layer spec, for an (H, W, C) input."""
    h, w, c = input_shape
    flat = None  # the number of values once an fc layer has flattened the input
    rows = []
    for layer in layers:
        kind, *args = layer
        if kind == "fc":
            (n_out,) = args
            n_in = flat if flat is not None else h * w * c
            rows.append(((n_out,), (n_in + 1) * n_out))
            flat = n_out
        elif kind in ("conv", "pool"):
            if flat is not None:
                raise ValueError(f"a {kind} layer cannot follow an fc layer")
            if kind == "conv":
                f, n_filters, stride, padding = args
                params, c_out = (f * f * c + 1) * n_filters, n_filters
            else:
                (f, stride), padding, params, c_out = args, 0, 0, c
            h, w, c = _out(h, f, stride, padding), _out(w, f, stride, padding), c_out
            rows.append(((h, w, c), params))
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return rows
'''

_EX2_DIVMOD = '''def spatial_sizes(input_size, layers, exact=False):
    """Output size after each (f, s, p) layer for an input_size x input_size input; a list of ints."""
    sizes = []
    n = input_size
    for index, (f, s, p) in enumerate(layers):
        if n + 2 * p < f:
            raise ValueError(f"layer {index}: the filter does not fit")
        steps, rest = divmod(n + 2 * p - f, s)
        if exact and rest != 0:
            raise ValueError(f"layer {index}: ({n} + 2*{p} - {f}) / {s} is not exact")
        n = steps + 1
        sizes.append(n)
    return sizes
'''

_EX3_FORMULA = '''def stacked_vs_single(c, n_layers=3):
    """Weights and receptive fields of n_layers stacked 3x3 convs vs one (2n+1)x(2n+1) conv, c -> c channels."""
    if type(c) is not int or type(n_layers) is not int or c <= 0 or n_layers <= 0:
        raise ValueError("c and n_layers must be positive ints")
    side = 2 * n_layers + 1
    return {"stacked_params": 9 * c * c * n_layers, "single_params": side * side * c * c,
            "stacked_rf": side, "single_rf": side}
'''

_EX4_APPEND = '''def vgg_block(in_channels, out_channels, n_convs):
    """nn.Sequential of n_convs (3x3 same conv + ReLU) and a 2x2 max pool; (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""
    for value in (in_channels, out_channels, n_convs):
        if type(value) is not int or value < 1:
            raise ValueError(f"arguments must be positive ints, got {value!r}")
    block = nn.Sequential()
    channels = in_channels
    for _ in range(n_convs):
        block.append(nn.Conv2d(channels, out_channels, kernel_size=3, stride=1, padding=1))
        block.append(nn.ReLU())
        channels = out_channels
    block.append(nn.MaxPool2d(kernel_size=2))
    return block
'''

_EX5_NAMED = '''def parameter_breakdown(model):
    """{'conv': ..., 'fc': ..., 'other': ...}: the model's parameters in Conv2d, Linear and other modules."""
    counts = dict(conv=0, fc=0, other=0)
    for name, p in model.named_parameters():
        owner = model.get_submodule(name.rpartition(".")[0])
        if isinstance(owner, nn.Conv2d):
            counts["conv"] += p.numel()
        elif isinstance(owner, nn.Linear):
            counts["fc"] += p.numel()
        else:
            counts["other"] += p.numel()
    return counts


def fc_fraction(model):
    """Fraction (a float) of the model's parameters in its Linear layers."""
    counts = parameter_breakdown(model)
    if sum(counts.values()) == 0:
        raise ValueError("no parameters")
    return float(counts["fc"]) / sum(counts.values())
'''

_EX1_FLAT_WITH_NUMPY = '''def layer_table(layers, input_shape):
    """[(output_shape, n_params), ...], one row per layer spec, for an (H, W, C) input."""
    shape = list(input_shape)
    table = []
    for i, layer in enumerate(layers):
        if layer[0] == "conv" or layer[0] == "pool":
            if len(shape) == 1:
                raise ValueError(f"layer {i}: {layer[0]} after fc")
            f, stride = layer[1], (layer[3] if layer[0] == "conv" else layer[2])
            padding = layer[4] if layer[0] == "conv" else 0
            new_hw = []
            for n in shape[:2]:
                if n + 2 * padding < f:
                    raise ValueError(f"layer {i}: filter too big")
                new_hw.append((n + 2 * padding - f) // stride + 1)
            if layer[0] == "conv":
                params = layer[2] * (f * f * shape[2]) + layer[2]
                shape = new_hw + [layer[2]]
            else:
                params = 0
                shape = new_hw + [shape[2]]
        elif layer[0] == "fc":
            n_in = int(np.prod(shape))
            params = n_in * layer[1] + layer[1]
            shape = [layer[1]]
        else:
            raise ValueError(f"layer {i}: unknown kind {layer[0]!r}")
        table.append((tuple(shape), params))
    return table
'''

_EX2_RECURSIVE = '''def spatial_sizes(input_size, layers, exact=False, _index=0):
    """Output size after each (f, s, p) layer for an input_size x input_size input; a list of ints."""
    if not layers:
        return []
    f, s, p = layers[0]
    padded = input_size + 2 * p
    if padded < f:
        raise ValueError(f"layer {_index}: filter {f} does not fit in {padded} pixels")
    if exact and (padded - f) % s:
        raise ValueError(f"layer {_index}: not an exact division")
    n = (padded - f) // s + 1
    return [n] + spatial_sizes(n, layers[1:], exact, _index + 1)
'''

_EX3_LOOP = '''def stacked_vs_single(c, n_layers=3):
    """Weights and receptive fields of n_layers stacked 3x3 convs vs one (2n+1)x(2n+1) conv, c -> c channels."""
    for value in (c, n_layers):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a positive int, got {value!r}")
    stacked, rf = 0, 1
    for _ in range(n_layers):
        stacked += 3 * 3 * c * c
        rf += 2
    return {"stacked_params": stacked, "single_params": rf * rf * c * c, "stacked_rf": rf, "single_rf": rf}
'''

_EX4_LIST = '''def vgg_block(in_channels, out_channels, n_convs):
    """nn.Sequential of n_convs (3x3 same conv + ReLU) and a 2x2 max pool; (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (in_channels, out_channels, n_convs)):
        raise ValueError("in_channels, out_channels and n_convs must be positive ints")
    convs = [nn.Conv2d(in_channels, out_channels, 3, padding="same")]
    convs += [nn.Conv2d(out_channels, out_channels, 3, padding="same") for _ in range(n_convs - 1)]
    layers = []
    for conv in convs:
        layers.extend([conv, nn.ReLU(inplace=True)])
    return nn.Sequential(*layers, nn.MaxPool2d(2))
'''

_EX5_OWN_PARAMETERS = '''def parameter_breakdown(model):
    """{'conv': ..., 'fc': ..., 'other': ...}: the model's parameters in Conv2d, Linear and other modules."""
    conv = sum(p.numel() for m in model.modules() if isinstance(m, nn.Conv2d) for p in m.parameters(recurse=False))
    fc = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters(recurse=False))
    total = sum(p.numel() for p in model.parameters())
    return {"conv": conv, "fc": fc, "other": total - conv - fc}


def fc_fraction(model):
    """Fraction (a float) of the model's parameters in its Linear layers."""
    total = sum(p.numel() for p in model.parameters())
    if not total:
        raise ValueError("the model has no parameters")
    return parameter_breakdown(model)["fc"] / total
'''

CORRECT = {
    "dispatch_divmod_formula_append_named": {
        "ex1_answer": _EX1_DISPATCH,
        "ex2_answer": _EX2_DIVMOD,
        "ex3_answer": _EX3_FORMULA,
        "ex4_answer": _EX4_APPEND,
        "ex5_answer": _EX5_NAMED,
    },
    "lists_recursion_loop_same_padding_totals": {
        "ex1_answer": _EX1_FLAT_WITH_NUMPY,
        "ex2_answer": _EX2_RECURSIVE,
        "ex3_answer": _EX3_LOOP,
        "ex4_answer": _EX4_LIST,
        "ex5_answer": _EX5_OWN_PARAMETERS,
    },
}

# --------------------------------------------------------------------------- real mistakes

_EX1_BUILDS_THE_NETWORK = '''def layer_table(layers, input_shape):
    """[(output_shape, n_params), ...], one row per layer spec, for an (H, W, C) input."""
    h, w, c = input_shape
    x = torch.zeros(1, c, h, w)
    rows = []
    for layer in layers:
        if layer[0] == "conv":
            module = nn.Conv2d(x.shape[1], layer[2], layer[1], stride=layer[3], padding=layer[4])
        elif layer[0] == "pool":
            module = nn.MaxPool2d(layer[1], layer[2])
        elif layer[0] == "fc":
            x = x.flatten(1)
            module = nn.Linear(x.shape[1], layer[1])
        else:
            raise ValueError("unknown kind")
        x = module(x)
        shape = tuple(x.shape[1:]) if x.ndim == 2 else (x.shape[2], x.shape[3], x.shape[1])
        rows.append((shape, sum(p.numel() for p in module.parameters())))
    return rows
'''

_EX4_NO_PADDING = _EX4_APPEND.replace("kernel_size=3, stride=1, padding=1", "kernel_size=3")

_EX2_ROUNDS_UP = '''def spatial_sizes(input_size, layers, exact=False):
    """Output size after each (f, s, p) layer for an input_size x input_size input; a list of ints."""
    import math

    sizes, n = [], input_size
    for k, (f, s, p) in enumerate(layers):
        if n + 2 * p < f:
            raise ValueError(f"layer {k}: the filter does not fit")
        if exact and (n + 2 * p - f) % s:
            raise ValueError(f"layer {k}: not exact")
        n = math.ceil((n + 2 * p - f) / s) + 1
        sizes.append(n)
    return sizes
'''

_EX3_ACCEPTS_BOOL = _EX3_LOOP.replace("isinstance(value, bool) or ", "")

_EX1_BIAS_PER_INPUT = _EX1_FLAT_WITH_NUMPY.replace(
    "params = n_in * layer[1] + layer[1]", "params = n_in * layer[1] + n_in"
)

_EX2_IGNORES_EXACT = '''def spatial_sizes(input_size, layers, exact=False):
    """Output size after each (f, s, p) layer for an input_size x input_size input; a list of ints."""
    sizes, n = [], input_size
    for k, (f, s, p) in enumerate(layers):
        if n + 2 * p < f:
            raise ValueError(f"layer {k}: the filter does not fit")
        n = (n + 2 * p - f) // s + 1
        sizes.append(n)
    return sizes
'''

_EX5_TOP_LEVEL = '''def parameter_breakdown(model):
    """{'conv': ..., 'fc': ..., 'other': ...}: the model's parameters in Conv2d, Linear and other modules."""
    counts = {"conv": 0, "fc": 0, "other": 0}
    for module in model.children():
        n = sum(p.numel() for p in module.parameters())
        if isinstance(module, nn.Conv2d):
            counts["conv"] += n
        elif isinstance(module, nn.Linear):
            counts["fc"] += n
        else:
            counts["other"] += n
    return counts


def fc_fraction(model):
    """Fraction (a float) of the model's parameters in its Linear layers."""
    counts = parameter_breakdown(model)
    if sum(counts.values()) == 0:
        raise ValueError("no parameters")
    return counts["fc"] / sum(counts.values())
'''

_EX4_NO_CHECKS = '''def vgg_block(in_channels, out_channels, n_convs):
    """nn.Sequential of n_convs (3x3 same conv + ReLU) and a 2x2 max pool; (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""
    layers = []
    for k in range(n_convs):
        layers += [nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))
'''

WRONG = {
    "builds_the_network_and_no_padding": dict(
        answers={"ex1_answer": _EX1_BUILDS_THE_NETWORK, "ex4_answer": _EX4_NO_PADDING},
        loses=["ex1", "ex4"],
        why="the layer table must be integer arithmetic, not PyTorch layers; a VGG conv keeps the size (padding 1)",
    ),
    "rounds_up_and_bool_as_count": dict(
        answers={"ex2_answer": _EX2_ROUNDS_UP, "ex3_answer": _EX3_ACCEPTS_BOOL},
        loses=["ex2", "ex3"],
        why="output sizes round down (floor); True is an int in Python but not a layer count",
    ),
    "bias_per_input_and_exact_ignored": dict(
        answers={"ex1_answer": _EX1_BIAS_PER_INPUT, "ex2_answer": _EX2_IGNORES_EXACT},
        loses=["ex1", "ex2"],
        why="an fc layer has one bias per output unit; exact=True must refuse a division that is not exact",
    ),
    "top_level_children_and_no_checks": dict(
        answers={"ex5_answer": _EX5_TOP_LEVEL, "ex4_answer": _EX4_NO_CHECKS},
        loses=["ex4", "ex5"],
        why="model.children() misses nested layers (use model.modules()); vgg_block must refuse n_convs=0",
    ),
}
