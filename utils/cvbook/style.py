"""What CNNs learn, and neural style transfer.

* :func:`top_activating_patches` - for each unit of a layer, the input crops (its
  receptive field) where it fires most, in the manner of Zeiler and Fergus;
* :func:`gram_matrix`, :func:`content_cost`, :func:`layer_style_cost`,
  :func:`style_cost`, :func:`total_cost` - the costs of neural style transfer
  (Gatys et al.), with the lecture's normalisations;
* :class:`VGGFeatures` - the activations of chosen VGG-19 layers, with ImageNet
  weights when they can be had (online only) and random weights otherwise;
* :func:`style_transfer` - gradient descent on the pixels of the generated image.

Activations are ``(N, C, H, W)`` tensors (PyTorch's order), so the lecture's
$n_H, n_W, n_C$ are ``H, W, C``. Taught in Chapter 12.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from . import conv, data

__all__ = [
    "VGG19_LAYERS",
    "VGG19_URL",
    "top_activating_patches",
    "gram_matrix",
    "content_cost",
    "layer_style_cost",
    "style_cost",
    "total_cost",
    "balanced_style_weights",
    "pretrained_available",
    "VGGFeatures",
    "TransferResult",
    "style_transfer",
]

# --------------------------------------------------------------------------- Zeiler-Fergus patches


def _check_activations(name: str, a) -> torch.Tensor:
    if not isinstance(a, torch.Tensor) or a.ndim != 4:
        shape = tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
        raise ValueError(f"{name} must be a tensor of shape (N, C, H, W), got {shape}")
    return a


def top_activating_patches(
    activations: torch.Tensor,
    images: torch.Tensor,
    layers: Sequence[Sequence[int]],
    k: int = 9,
    *,
    units: Sequence[int] | None = None,
    fill: float = 0.0,
):
    """The input crops that activate each unit most (Zeiler-Fergus style).

    activations: (N, C, h, w), one layer's output on ``images`` (N, 3, H, W).
    layers: ``(f, s, p)`` of every convolution and pooling from the input up to
    that layer (filter size, stride, padding), used for the receptive field
    ``r`` (:func:`cvbook.conv.receptive_field`), the jump ``j`` and the offset
    ``-sum_l p_l j_{l-1}`` of the top-left corner. For each unit (channel ``c``
    in ``units``, default all), each image gives its best position; the ``k``
    images with the highest maxima are kept. Crops falling off the image are
    padded with ``fill``.

    Returns ``(patches, values, where)``: patches (U, k, 3, r, r), values (U, k)
    (the activations, in decreasing order) and where (U, k, 3) int64, the
    ``(image, row, col)`` of each maximum in the activation map.
    Taught in Chapter 12.
    """
    activations = _check_activations("activations", activations)
    images = _check_activations("images", images)
    if images.shape[0] != activations.shape[0]:
        raise ValueError(
            f"images and activations must hold the same number N of examples, "
            f"got {images.shape[0]} and {activations.shape[0]}"
        )
    n, c, h, w = activations.shape
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"k must be an int in [1, N={n}], got {k!r}")
    units = list(range(c)) if units is None else [int(u) for u in units]
    if not units or any(not 0 <= u < c for u in units):
        raise ValueError(f"units must be channel indices in [0, {c}), got {units}")
    geometry, offset = [], 0
    for i, layer in enumerate(layers):
        if len(layer) != 3:
            raise ValueError(f"layer {i} must be (f, s, p), got {tuple(layer)}")
        geometry.append((int(layer[0]), int(layer[1])))
    if not geometry:
        raise ValueError("layers must name at least one (f, s, p)")
    jumps = [1] + [j for _, j in conv.receptive_field(geometry)]
    for i, layer in enumerate(layers):
        offset -= int(layer[2]) * jumps[i]
    r, jump = conv.receptive_field(geometry)[-1]

    acts = activations.detach()[:, units].reshape(n, len(units), h * w)
    best, pos = acts.max(dim=2)  # (N, U): each image's best position per unit
    values, idx = best.t().topk(k, dim=1)  # (U, k) images with the highest maxima
    flat = pos.t().gather(1, idx)
    where = torch.stack([idx, flat // w, flat % w], dim=2)

    pad = r + abs(offset)
    padded = F.pad(images.detach(), (pad, pad, pad, pad), value=fill)
    patches = images.new_empty(len(units), k, images.shape[1], r, r)
    for u in range(len(units)):
        for t in range(k):
            i, y, x = (int(v) for v in where[u, t])
            top, left = y * jump + offset + pad, x * jump + offset + pad
            patches[u, t] = padded[i, :, top : top + r, left : left + r]
    return patches, values, where


# --------------------------------------------------------------------------- costs


def gram_matrix(a: torch.Tensor) -> torch.Tensor:
    """Gram matrix of a layer's activations: how strongly channels fire together.

    a: (N, C, H, W). Returns (N, C, C) with
    ``G[n, k, k'] = sum_{i, j} a[n, k, i, j] * a[n, k', i, j]`` (no normalisation;
    the style cost divides by it). Taught in Chapter 12.
    """
    a = _check_activations("a", a)
    n, c, h, w = a.shape
    flat = a.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2)


def _same_shape(name1: str, a1: torch.Tensor, name2: str, a2: torch.Tensor) -> None:
    _check_activations(name1, a1)
    _check_activations(name2, a2)
    if a1.shape != a2.shape:
        raise ValueError(f"{name1} and {name2} must have the same shape, got {tuple(a1.shape)} and {tuple(a2.shape)}")


#: Names of the content-cost normalisations: ``"half"`` (Gatys and the lecture),
#: ``"size"`` (the Coursera assignment's ``1 / (4 n_H n_W n_C)``).
CONTENT_NORMS = ("half", "size")


def content_cost(a_c: torch.Tensor, a_g: torch.Tensor, norm: str = "half") -> torch.Tensor:
    """Content cost of one layer: how far G's activations are from C's.

    a_c, a_g: (N, C, H, W), the same layer on the content and generated images.
    norm ``"half"``: ``1/2 * sum (a_c - a_g)^2`` (Gatys et al. and the lecture);
    ``"size"``: ``1 / (4 n_H n_W n_C) * sum (a_c - a_g)^2`` (the Coursera
    assignment). Returns a 0-d tensor (summed over the N images).
    Taught in Chapter 12.
    """
    _same_shape("a_c", a_c, "a_g", a_g)
    if norm not in CONTENT_NORMS:
        raise ValueError(f"norm must be one of {CONTENT_NORMS}, got {norm!r}")
    squared = (a_c - a_g).pow(2).sum()
    if norm == "half":
        return squared / 2
    _, c, h, w = a_c.shape
    return squared / (4 * h * w * c)


def _style_cost_from_gram(gram_s: torch.Tensor, a_g: torch.Tensor) -> torch.Tensor:
    _, c, h, w = a_g.shape
    return (gram_s - gram_matrix(a_g)).pow(2).sum() / (2 * h * w * c) ** 2


def layer_style_cost(a_s: torch.Tensor, a_g: torch.Tensor) -> torch.Tensor:
    """Style cost of one layer ``l``.

    a_s, a_g: (N, C, H, W), the layer on the style and generated images.
    ``J_style^[l] = 1 / (2 n_H n_W n_C)^2 * sum_{k, k'} (G^[l](S) - G^[l](G))^2``
    with the Gram matrices of :func:`gram_matrix`. Returns a 0-d tensor (summed
    over the N images). Taught in Chapter 12.
    """
    _same_shape("a_s", a_s, "a_g", a_g)
    return _style_cost_from_gram(gram_matrix(a_s), a_g)


def _check_weights(weights: Mapping[str, float], *features: Mapping[str, torch.Tensor]) -> None:
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError(f"weights must be a non-empty mapping layer -> lambda, got {weights!r}")
    for feats in features:
        missing = [name for name in weights if name not in feats]
        if missing:
            raise ValueError(f"no activations for the weighted layers {missing}; got {sorted(feats)}")


def style_cost(
    features_s: Mapping[str, torch.Tensor], features_g: Mapping[str, torch.Tensor], weights: Mapping[str, float]
) -> torch.Tensor:
    """Style cost over several layers: ``sum_l lambda_l * J_style^[l](S, G)``.

    features_s, features_g: layer name -> (N, C, H, W) activations of the style and
    generated images. weights: layer name -> lambda_l (only these layers count).
    Returns a 0-d tensor. Taught in Chapter 12.
    """
    _check_weights(weights, features_s, features_g)
    return sum(float(lam) * layer_style_cost(features_s[name], features_g[name]) for name, lam in weights.items())


def total_cost(j_content: torch.Tensor, j_style: torch.Tensor, alpha: float = 10.0, beta: float = 40.0) -> torch.Tensor:
    """``J(G) = alpha * J_content(C, G) + beta * J_style(S, G)``. Taught in Chapter 12."""
    for name, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return alpha * j_content + beta * j_style


def balanced_style_weights(
    features_s: Mapping[str, torch.Tensor], layers: Iterable[str] | None = None
) -> dict[str, float]:
    """Weights lambda_l that make every style layer count alike.

    ``lambda_l = 1 / (L * J_style^[l](S, 0))``: each layer's cost is measured
    relative to the cost of a black image (all-zero activations), so a layer whose
    activations are large does not drown the others. features_s: layer name ->
    (N, C, H, W). Returns layer name -> float. Taught in Chapter 12.
    """
    names = list(features_s if layers is None else layers)
    if not names:
        raise ValueError("need at least one style layer")
    weights = {}
    for name in names:
        if name not in features_s:
            raise ValueError(f"no activations for layer {name!r}; got {sorted(features_s)}")
        a = features_s[name].detach()
        scale = float(layer_style_cost(a, torch.zeros_like(a)))
        if scale <= 0:
            raise ValueError(f"the style activations of layer {name!r} are all zero")
        weights[name] = 1.0 / (len(names) * scale)
    return weights


# --------------------------------------------------------------------------- VGG-19 features

_VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def _vgg19_names() -> list[str]:
    names, block, i = [], 1, 1
    for item in _VGG19_CFG:
        if item == "M":
            names.append(f"pool{block}")
            block, i = block + 1, 1
        else:
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
            i += 1
    return names


_VGG19_WIDTHS = {}


def _fill_widths() -> None:
    block, i = 1, 1
    for item in _VGG19_CFG:
        if item == "M":
            block, i = block + 1, 1
        else:
            _VGG19_WIDTHS[f"conv{block}_{i}"] = item
            i += 1


_fill_widths()
#: Names of ``torchvision.models.vgg19().features``, in order: ``conv1_1``,
#: ``relu1_1``, ..., ``pool5`` (37 layers). ``reluB_I`` is the rectified
#: response of ``convB_I``, the "conv" layer of Gatys et al.
VGG19_LAYERS: tuple[str, ...] = tuple(_vgg19_names())
#: Where torchvision downloads VGG-19's ImageNet weights from.
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def pretrained_available(online: bool | None = None, timeout: float = 3.0) -> bool:
    """Whether VGG-19's ImageNet weights can be had: downloads must be on
    (:func:`cvbook.data.online_enabled`) and the weights already in torch's cache
    (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, used without the network) or
    their host reachable within ``timeout`` seconds; :func:`cvbook.data.weights_available`
    for :data:`VGG19_URL`. Taught in Chapter 12.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return data.weights_available(VGG19_URL, online=online, timeout=timeout)


class VGGFeatures(nn.Module):
    """Activations of chosen VGG-19 layers, for images (N, 3, H, W) in [0, 1].

    layers: names from :data:`VGG19_LAYERS` (e.g. ``"relu1_1"``, ``"relu4_2"``);
    the network is cut after the deepest one. The input is standardised with
    ImageNet's mean and standard deviation. pretrained: load torchvision's
    ImageNet weights - only when :func:`pretrained_available` (downloads on, and
    the weights cached or their host reachable), otherwise a ``RuntimeError`` is
    raised at once; with
    ``False`` the weights are torchvision's random initialisation (seed the
    global RNG first). pool: ``"max"`` (VGG's) or ``"avg"`` (Gatys et al.'s
    choice for synthesis). The weights are frozen and the module is in eval mode.

    ``forward`` returns a dict layer name -> (N, C_l, H_l, W_l).
    Taught in Chapter 12.
    """

    def __init__(
        self, layers: Sequence[str], *, pretrained: bool = False, pool: str = "max", online: bool | None = None
    ):
        super().__init__()
        layers = [layers] if isinstance(layers, str) else list(layers)
        if not layers:
            raise ValueError("layers must name at least one VGG-19 layer")
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown:
            raise ValueError(f"unknown VGG-19 layers {unknown}; choose from {list(VGG19_LAYERS)}")
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        depth = max(VGG19_LAYERS.index(name) for name in layers) + 1
        if pretrained:
            if not pretrained_available(online):
                raise RuntimeError(
                    "VGG-19's ImageNet weights need downloads on (CVBOOK_ONLINE=1) and "
                    f"{VGG19_URL} cached or reachable; use pretrained=False offline"
                )
            import torchvision

            state = torchvision.models.VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        body = nn.Sequential()
        c_in = 3
        for name in VGG19_LAYERS[:depth]:
            if name.startswith("conv"):
                c_out = _VGG19_WIDTHS[name]
                layer = nn.Conv2d(c_in, c_out, 3, padding=1)
                # torchvision's initialisation of VGG
                nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(layer.bias)
                body.append(layer)
                c_in = c_out
            elif name.startswith("relu"):
                body.append(nn.ReLU())  # not in place: every returned activation stays intact
            else:
                body.append(nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2))
        if pretrained:
            body.load_state_dict(
                {
                    key[len("features.") :]: value
                    for key, value in state.items()
                    if key.startswith("features.") and int(key.split(".")[1]) < depth
                }
            )
        self.body = body.requires_grad_(False).eval()
        self.layers = tuple(layers)
        self.pretrained = bool(pretrained)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGFeatures:
        return super().train(False)  # always eval: no dropout or batch norm to switch anyway

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x must have shape (N, 3, H, W), got {tuple(x.shape)}")
        out, wanted = {}, set(self.layers)
        h = (x - self.mean) / self.std
        for name, module in zip(VGG19_LAYERS, self.body):
            h = module(h)
            if name in wanted:
                out[name] = h
        return {name: out[name] for name in self.layers}


# --------------------------------------------------------------------------- style transfer


@dataclass
class TransferResult:
    """What :func:`style_transfer` returns.

    image: (1, 3, H, W) in [0, 1], the final G. history: ``"step"``,
    ``"content"``, ``"style"`` and ``"total"`` lists (the costs before each
    recorded step; ``"content"`` and ``"style"`` unweighted by alpha, beta).
    snapshots: step -> (1, 3, H, W) copy of G. seconds_per_step: wall time.
    """

    image: torch.Tensor
    history: dict[str, list[float]] = field(default_factory=dict)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds_per_step: float = 0.0


def _check_image(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[:2] != (1, 3):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape (1, 3, H, W), got {shape}")
    return x


def style_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    extractor: Callable,
    *,
    content_layer: str,
    style_weights: Mapping[str, float],
    alpha: float = 10.0,
    beta: float = 40.0,
    steps: int = 200,
    lr: float = 0.02,
    optimizer: str = "adam",
    init: str | torch.Tensor = "content",
    noise: float = 0.1,
    content_norm: str = "half",
    snapshot_at: Iterable[int] = (),
    generator: torch.Generator | None = None,
) -> TransferResult:
    """Neural style transfer by gradient descent on the pixels of G.

    content, style: (1, 3, H, W) in [0, 1], the same size. extractor: image ->
    dict layer -> activations (e.g. :class:`VGGFeatures`) holding
    ``content_layer`` and every layer of ``style_weights`` (layer -> lambda_l).
    Minimises ``alpha * J_content + beta * sum_l lambda_l J_style^[l]`` over G
    with Adam (``lr`` per step) or L-BFGS (``optimizer="lbfgs"``, one iteration
    with a strong-Wolfe line search of at most 10 evaluations per step); G is
    clamped to [0, 1] after every step. init:
    ``"content"`` (C plus Gaussian noise of std ``noise``), ``"noise"`` (uniform
    noise, the lecture's random start) or a (1, 3, H, W) tensor. The costs of
    the G before each step are recorded, and once more after the last step.
    Taught in Chapter 12.
    """
    content = _check_image("content", content)
    style = _check_image("style", style)
    if content.shape != style.shape:
        raise ValueError(
            f"content and style must have the same shape, got {tuple(content.shape)} and {tuple(style.shape)}"
        )
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {optimizer!r}")
    with torch.no_grad():
        feats_c = extractor(content)
        feats_s = extractor(style)
    _check_weights(style_weights, feats_s)
    if content_layer not in feats_c:
        raise ValueError(f"the extractor gives no {content_layer!r}; got {sorted(feats_c)}")
    target_c = feats_c[content_layer].detach()
    grams_s = {name: gram_matrix(feats_s[name]).detach() for name in style_weights}

    if isinstance(init, torch.Tensor):
        g = _check_image("init", init).detach().clone()
        if g.shape != content.shape:
            raise ValueError(f"init must have shape {tuple(content.shape)}, got {tuple(g.shape)}")
    elif init == "content":
        g = content.detach() + noise * torch.randn(content.shape, generator=generator, dtype=content.dtype)
    elif init == "noise":
        g = torch.rand(content.shape, generator=generator, dtype=content.dtype)
    else:
        raise ValueError(f"init must be 'content', 'noise' or a tensor, got {init!r}")
    g = g.clamp(0, 1).requires_grad_(True)
    if optimizer == "adam":
        opt = torch.optim.Adam([g], lr=lr)
    else:
        opt = torch.optim.LBFGS([g], lr=1.0, max_iter=1, max_eval=10, history_size=20, line_search_fn="strong_wolfe")

    history = {"step": [], "content": [], "style": [], "total": []}
    snapshot_at = set(snapshot_at)
    snapshots = {}

    def costs():
        feats_g = extractor(g)
        j_c = content_cost(target_c, feats_g[content_layer], norm=content_norm)
        j_s = sum(
            float(lam) * _style_cost_from_gram(grams_s[name], feats_g[name]) for name, lam in style_weights.items()
        )
        return j_c, j_s, total_cost(j_c, j_s, alpha, beta)

    def record(step, j_c, j_s, j):
        history["step"].append(step)
        history["content"].append(float(j_c))
        history["style"].append(float(j_s))
        history["total"].append(float(j))

    start = time.perf_counter()
    for step in range(steps):
        if step in snapshot_at:  # G as it is before this step, the G whose costs are recorded
            snapshots[step] = g.detach().clone()
        recorded = []

        def closure():
            opt.zero_grad()
            j_c, j_s, j = costs()
            # closure() runs within this step, so it sees this step's list (B023 does not apply)
            if not recorded:  # noqa: B023
                recorded.append((j_c.detach(), j_s.detach(), j.detach()))  # noqa: B023
            j.backward()
            return j

        opt.step(closure)
        record(step, *recorded[0])
        with torch.no_grad():
            g.clamp_(0, 1)
    seconds = (time.perf_counter() - start) / steps
    with torch.no_grad():
        j_c, j_s, j = costs()
    record(steps, j_c, j_s, j)
    if steps in snapshot_at:
        snapshots[steps] = g.detach().clone()
    return TransferResult(g.detach(), history, snapshots, seconds)
