"""Face verification and one-shot learning: synthetic identities, siamese losses, verify, recognise.

* :func:`make_faces` - a seeded generator of synthetic face images: each identity is fixed
  in its geometry and colours (face oval, eyes, brows, nose, mouth, hair); each image varies
  in position, scale, tilt, lighting, expression (mouth curve, eye openness) and noise.
  Identity ``k`` looks the same whatever else is generated, so ranges of identities are
  disjoint sets of people. :func:`load_lfw` gives real faces (LFW) when downloads are on.
* :func:`split_identities` - split images into train / validation / test by *identity*.
* :func:`identity_batches` - batches of P identities x K images (the sampler of triplet
  training); :func:`make_pairs` - balanced same / different pairs for evaluation.
* :func:`pairwise_distances`, :func:`contrastive_loss`, :func:`triplet_loss`,
  :func:`random_triplets`, :func:`batch_hard_triplets` - the siamese-network losses and
  triplet mining.
* :func:`best_threshold`, :func:`verify`, :func:`recognise` - choosing tau, verification
  ``d(img1, img2) <= tau``, and recognition against a database with "not recognised".

Taught in Chapter 11.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "Faces",
    "NOT_RECOGNISED",
    "make_faces",
    "load_lfw",
    "split_identities",
    "identity_batches",
    "make_pairs",
    "pairwise_distances",
    "contrastive_loss",
    "triplet_loss",
    "random_triplets",
    "batch_hard_triplets",
    "best_threshold",
    "verify",
    "recognise",
]

#: The identity :func:`recognise` returns for a face that matches nobody in the database.
NOT_RECOGNISED = -1


@dataclass
class Faces:
    """Face images with their identities.

    images: (N, 3, H, W) float32 in [0, 1]. ids: (N,) int64 identity of each image.
    source: ``"synthetic"`` or ``"lfw"``. names: the people's names for LFW (indexed by id).
    """

    images: torch.Tensor
    ids: torch.Tensor
    source: str = "synthetic"
    names: list[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.ndim != 4:
            raise ValueError(f"images must have shape (N, 3, H, W), got {getattr(self.images, 'shape', self.images)}")
        if not isinstance(self.ids, torch.Tensor) or self.ids.shape != (len(self.images),):
            raise ValueError(
                f"ids must have shape ({len(self.images)},), one identity per image, got "
                f"{getattr(self.ids, 'shape', self.ids)}"
            )

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index) -> Faces:
        """The faces at ``index`` (a boolean mask or an index tensor)."""
        return Faces(self.images[index], self.ids[index], self.source, self.names)


# --------------------------------------------------------------------------- synthetic faces


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _identity_params(seed: int, identity: int) -> dict[str, float | np.ndarray]:
    """The fixed look of one identity (face units: the face's half-height is about 1)."""
    rng = np.random.default_rng([seed, identity, 0])
    skin = np.array([0.95, 0.78, 0.62]) * rng.uniform(0.45, 1.05) + rng.uniform(-0.06, 0.06, 3)
    hair_dark = rng.uniform(0.05, 0.9)
    hair = np.array([hair_dark, hair_dark * rng.uniform(0.55, 0.95), hair_dark * rng.uniform(0.2, 0.8)])
    if rng.random() < 0.2:  # a few dyed or grey heads
        hair = rng.uniform(0.1, 0.95, 3)
    return dict(
        face_a=rng.uniform(0.62, 0.85),  # half-width of the face oval
        face_b=rng.uniform(0.88, 1.05),  # half-height
        skin=np.clip(skin, 0, 1),
        hair=hair,
        hair_line=rng.uniform(-0.75, -0.3),  # where the fringe ends (v, negative is up)
        hair_long=float(rng.random() < 0.45),  # hair down the sides of the face
        hair_len=rng.uniform(0.1, 0.9),
        eye_x=rng.uniform(0.24, 0.4),  # eyes at (+-eye_x, eye_y)
        eye_y=rng.uniform(-0.3, -0.05),
        eye_r=rng.uniform(0.1, 0.17),
        iris=rng.uniform(0.0, 0.7, 3) * np.array([0.6, 0.8, 1.0]),
        brow_gap=rng.uniform(0.16, 0.3),
        brow_tilt=rng.uniform(-0.35, 0.35),
        brow_w=rng.uniform(0.04, 0.09),
        nose_l=rng.uniform(0.12, 0.3),
        nose_w=rng.uniform(0.05, 0.12),
        mouth_y=rng.uniform(0.4, 0.62),
        mouth_w=rng.uniform(0.15, 0.34),
        lips=np.clip(np.array([0.75, 0.25, 0.3]) * rng.uniform(0.5, 1.1) + rng.uniform(-0.1, 0.1, 3), 0, 1),
        glasses=float(rng.random() < 0.15),
        beard=float(rng.random() < 0.15),
    )


def _soft(distance: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a region from a signed distance in face units (negative inside)."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _paint(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    image *= 1 - alpha[:, None]
    image += alpha[:, None] * colour[:, :, None, None]


def _ellipse(u, v, cx, cy, a, b):
    r = np.sqrt(((u - cx) / a) ** 2 + ((v - cy) / b) ** 2)
    return (r - 1) * np.minimum(a, b)


def _render(p: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    n = len(p["face_a"])
    col = lambda key: p[key][:, None, None]  # noqa: E731 - (N,) -> (N, 1, 1)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    # per image: position, scale and tilt of the head
    scale = size * 0.36 * rng.uniform(0.85, 1.12, n)
    cx = size / 2 + rng.uniform(-0.07, 0.07, n) * size
    cy = size / 2 + 0.04 * size + rng.uniform(-0.06, 0.06, n) * size
    angle = rng.uniform(-0.18, 0.18, n)
    dx, dy = xx[None] - cx[:, None, None], yy[None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u = (cos * dx + sin * dy) / scale[:, None, None]
    v = (-sin * dx + cos * dy) / scale[:, None, None]
    px = 1.0 / scale[:, None, None]  # one pixel in face units
    # background: a muted random colour with a gradient
    bg = rng.uniform(0.15, 0.75, (n, 3))
    ramp = (
        xx[None] * np.cos(rng.uniform(0, 2 * np.pi, n))[:, None, None]
        + yy[None] * np.sin(rng.uniform(0, 2 * np.pi, n))[:, None, None]
    ) / size
    image = bg[:, :, None, None] * (0.85 + 0.3 * ramp[:, None])
    fa, fb = col("face_a"), col("face_b")
    hair = p["hair"]
    # long hair behind the face
    back = np.maximum(_ellipse(u, v, 0, -0.05, fa * 1.28, fb * 1.18), v - col("hair_len"))
    _paint(image, _soft(back, px) * col("hair_long"), hair)
    # face and neck
    neck = np.maximum(np.abs(u) - fa * 0.45, -(v - 0.6))
    _paint(image, _soft(neck, px), p["skin"] * 0.85)
    _paint(image, _soft(_ellipse(u, v, 0, 0, fa, fb), px), p["skin"])
    # beard: the lower face in a darker hair colour
    beard = np.maximum(_ellipse(u, v, 0, 0, fa * 1.02, fb * 1.02), -(v - 0.3))
    _paint(image, _soft(beard, px) * col("beard") * 0.85, hair)
    # hair on top: the head's outline above the hair line
    top = np.maximum(_ellipse(u, v, 0, -0.04, fa * 1.12, fb * 1.1), v - col("hair_line") - 0.08 * np.cos(6 * u))
    _paint(image, _soft(top, px), hair)
    # eyes: white, then the iris; eye openness is an expression
    open_ = rng.uniform(0.25, 1.0, n)[:, None, None]
    ex, ey, er = col("eye_x"), col("eye_y"), col("eye_r")
    for side in (-1.0, 1.0):
        white = _ellipse(u, v, side * ex, ey, er * 1.3, er * open_ * 0.85 + 1e-3)
        _paint(image, _soft(white, px), np.tile(np.array([[0.95, 0.95, 0.95]]), (n, 1)))
        iris = np.maximum(_ellipse(u, v, side * ex, ey, er * 0.65, er * 0.65), white)
        _paint(image, _soft(iris, px), p["iris"])
        # brows: a thick tilted bar above each eye
        du = side * (u - side * ex)
        centre = ey - col("brow_gap") - col("brow_tilt") * du
        brow = np.maximum(np.abs(v - centre) - col("brow_w"), np.abs(du) - er * 1.5)
        _paint(image, _soft(brow, px), hair * 0.7)
        # glasses: a dark ring round each eye
        ring = np.abs(_ellipse(u, v, side * ex, ey, er * 1.8, er * 1.5)) - 0.035
        _paint(image, _soft(ring, px) * col("glasses"), np.zeros((n, 3)) + 0.1)
    # nose: a darker vertical ellipse between the eyes and the mouth
    nose_y = ey + 0.15 + col("nose_l")
    _paint(image, _soft(_ellipse(u, v, 0, nose_y, col("nose_w"), col("nose_l")), px) * 0.8, p["skin"] * 0.72)
    # mouth: a parabola whose curve is an expression (positive: smile)
    smile = rng.uniform(-0.6, 1.0, n)[:, None, None]
    mw = col("mouth_w")
    curve = col("mouth_y") + 0.12 * smile * (1 - (u / mw) ** 2)
    mouth = np.maximum(np.abs(v - curve) - 0.045, np.abs(u) - mw)
    _paint(image, _soft(mouth, px), p["lips"])
    # lighting: overall gain and a directional gradient, then sensor noise
    gain = rng.uniform(0.65, 1.25, n)[:, None, None, None]
    light = rng.uniform(-0.35, 0.35, (n, 2))
    shade = 1 + (light[:, 0, None, None] * (xx[None] / size - 0.5) + light[:, 1, None, None] * (yy[None] / size - 0.5))
    image = image * gain * shade[:, None]
    image += rng.normal(0.0, p["noise"][:, None, None, None], image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def make_faces(
    n_identities: int, per_identity: int, size: int = 32, *, seed: int = 0, first_identity: int = 0, noise: float = 0.03
) -> Faces:
    """Synthetic faces of ``n_identities`` people, ``per_identity`` images each.

    Identities are numbered ``first_identity, ..., first_identity + n_identities - 1``;
    identity ``k`` has the same face (shape, colours, hair, eyes, brows, nose, mouth,
    glasses, beard) in every call with the same ``seed``, so two calls with disjoint
    ranges give disjoint people. Each image varies in position, scale, tilt, lighting,
    expression (mouth curve, eye openness), background and Gaussian noise (std ``noise``).
    Returns :class:`Faces` with images (N, 3, size, size) float32 in [0, 1] and ids (N,)
    int64, N = n_identities * per_identity, grouped by identity. About 2,000 32x32 faces
    a second. Taught in Chapter 11.
    """
    n_identities = _check_int("n_identities", n_identities, 1)
    per_identity = _check_int("per_identity", per_identity, 1)
    size = _check_int("size", size, 16)
    first_identity = _check_int("first_identity", first_identity, 0)
    if not (isinstance(noise, (int, float)) and 0 <= noise <= 0.5):
        raise ValueError(f"noise must be a float in [0, 0.5], got {noise!r}")
    identities = range(first_identity, first_identity + n_identities)
    looks = [_identity_params(seed, k) for k in identities]
    params = {
        key: np.repeat(np.stack([np.asarray(look[key], dtype=np.float64) for look in looks]), per_identity, axis=0)
        for key in looks[0]
    }
    params["noise"] = np.full(n_identities * per_identity, float(noise))
    rng = np.random.default_rng([seed, first_identity, n_identities, per_identity, size, 1])
    images = _render(params, size, rng)
    ids = torch.arange(first_identity, first_identity + n_identities).repeat_interleave(per_identity)
    return Faces(torch.from_numpy(images), ids)


# --------------------------------------------------------------------------- real faces

_LFW_URL = "https://ndownloader.figshare.com/files/5976015"


def load_lfw(
    size: int = 32,
    min_faces_per_person: int = 20,
    *,
    online: bool | None = None,
    timeout: float = 3.0,
    fallback: tuple[int, int] = (60, 10),
    fallback_seed: int = 1,
    data_home: str | os.PathLike | None = None,
) -> Faces:
    """Real faces from Labeled Faces in the Wild (scikit-learn's ``fetch_lfw_people``).

    Only people with at least ``min_faces_per_person`` images; colour crops resized to
    ``size`` x ``size``. A copy already on disk is used without the network. Otherwise,
    with downloads off (the default; ``online=True`` or ``CVBOOK_ONLINE=1`` turns them
    on), when the host does not answer within ``timeout`` seconds, or when the download
    fails, a notice is printed and synthetic faces are returned instead
    (:func:`make_faces` with ``fallback = (n_identities, per_identity)`` and
    ``seed=fallback_seed``; the default seed 1 draws people unlike those of seed 0).
    data_home: scikit-learn's data folder, which holds ``lfw_home/`` (the three
    ``pairs*.txt`` files and ``lfw_funneled/<First_Last>/<First_Last>_0001.jpg``);
    default ``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``. Names come with spaces
    for underscores (``names[id]``).
    Returns :class:`Faces` (``source`` says which). Taught in Chapter 11.
    """
    from sklearn.datasets import fetch_lfw_people

    from . import data

    def synthetic(why: str) -> Faces:
        print(f"cvbook: {why}; using {fallback[0]} synthetic identities instead.")
        return make_faces(fallback[0], fallback[1], size, seed=fallback_seed)

    kwargs = dict(
        min_faces_per_person=min_faces_per_person,
        color=True,
        resize=0.5,
        data_home=None if data_home is None else os.fspath(data_home),
    )
    people = None
    try:
        people = fetch_lfw_people(download_if_missing=False, **kwargs)
    except OSError:
        pass  # not on disk yet
    if people is None:
        if not data.online_enabled(online):
            return synthetic(f"LFW is not on disk and downloads are off (set {data.ONLINE_ENV}=1 to allow)")
        if not data.network_available(_LFW_URL, timeout):
            return synthetic(f"cannot reach the LFW host within {timeout:g} s")
        previous = socket.getdefaulttimeout()
        try:
            socket.setdefaulttimeout(max(timeout, 30.0))
            people = fetch_lfw_people(download_if_missing=True, n_retries=1, **kwargs)
        except Exception as err:  # noqa: BLE001 - any failure falls back, with the reason printed
            return synthetic(f"downloading LFW failed ({type(err).__name__}: {err})")
        finally:
            socket.setdefaulttimeout(previous)
    images = torch.from_numpy(np.asarray(people.images, dtype=np.float32)).permute(0, 3, 1, 2)
    if images.max() > 1.5:
        images = images / 255.0
    images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return Faces(
        images.clamp(0, 1), torch.as_tensor(people.target, dtype=torch.int64), "lfw", list(people.target_names)
    )


# --------------------------------------------------------------------------- splits, batches, pairs


def _check_ids(ids: torch.Tensor, name: str = "ids") -> torch.Tensor:
    if (
        not isinstance(ids, torch.Tensor)
        or ids.ndim != 1
        or ids.dtype in (torch.float16, torch.float32, torch.float64, torch.bool)
    ):
        shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"{name} must be an integer tensor of shape (N,), got {shape}")
    return ids


def split_identities(
    ids: torch.Tensor, n_val: int, n_test: int, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices of the train, validation and test images, with disjoint *identities*.

    ids: (N,) identity of each image. ``n_val`` and ``n_test`` identities (drawn at random
    with ``seed``) go to validation and test, the others to training, so that every
    person is in exactly one split. Returns three int64 index tensors. Taught in Chapter 11.
    """
    _check_ids(ids)
    people = torch.unique(ids)
    n_val, n_test = _check_int("n_val", n_val, 0), _check_int("n_test", n_test, 0)
    if n_val + n_test >= len(people):
        raise ValueError(
            f"n_val + n_test must leave identities for training: {n_val} + {n_test} >= {len(people)} identities"
        )
    order = people[torch.randperm(len(people), generator=torch.Generator().manual_seed(seed))]
    val, test = order[:n_val], order[n_val : n_val + n_test]
    in_val, in_test = torch.isin(ids, val), torch.isin(ids, test)
    train = ~(in_val | in_test)
    return (torch.nonzero(train).flatten(), torch.nonzero(in_val).flatten(), torch.nonzero(in_test).flatten())


def identity_batches(ids: torch.Tensor, p: int, k: int, n_batches: int, *, seed: int = 0) -> Iterator[torch.Tensor]:
    """Yield ``n_batches`` index tensors of shape (p * k,): ``k`` images of each of ``p`` people.

    The "PK" sampler of batch-hard triplet training (Hermans et al., 2017): every anchor
    in a batch has positives and negatives. People with fewer than ``k`` images give
    theirs with repetition. Taught in Chapter 11.
    """
    _check_ids(ids)
    p, k, n_batches = _check_int("p", p, 2), _check_int("k", k, 2), _check_int("n_batches", n_batches, 0)
    people = torch.unique(ids)
    if len(people) < p:
        raise ValueError(f"p = {p} people per batch but ids hold only {len(people)} identities")
    members = [torch.nonzero(ids == person).flatten() for person in people]
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        chosen = torch.randperm(len(people), generator=gen)[:p]
        batch = []
        for c in chosen.tolist():
            m = members[c]
            if len(m) >= k:
                batch.append(m[torch.randperm(len(m), generator=gen)[:k]])
            else:
                batch.append(m[torch.randint(len(m), (k,), generator=gen)])
        yield torch.cat(batch)


def make_pairs(ids: torch.Tensor, n_pairs: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n_pairs`` random pairs of images, half of the same person and half of different people.

    ids: (N,) identities. Returns ``(i, j, same)``: index tensors (n_pairs,) int64 and
    ``same`` (n_pairs,) bool (the first ``n_pairs // 2`` pairs are the same person,
    the rest different; no image is paired with itself). Taught in Chapter 11.
    """
    _check_ids(ids)
    n_pairs = _check_int("n_pairs", n_pairs, 2)
    people, counts = torch.unique(ids, return_counts=True)
    if len(people) < 2 or not (counts >= 2).any():
        raise ValueError("make_pairs needs at least two identities and one with two or more images")
    gen = torch.Generator().manual_seed(seed)
    n_same = n_pairs // 2
    # same: pick an image whose person has another image, then another image of that person
    eligible = torch.nonzero(torch.isin(ids, people[counts >= 2])).flatten()
    first = eligible[torch.randint(len(eligible), (n_same,), generator=gen)]
    same_mask = (ids[first][:, None] == ids[None]) & (torch.arange(len(ids))[None] != first[:, None])
    second = torch.multinomial(same_mask.float(), 1, generator=gen).flatten()
    # different: any image, then an image of somebody else
    n_diff = n_pairs - n_same
    first_d = torch.randint(len(ids), (n_diff,), generator=gen)
    other = (ids[first_d][:, None] != ids[None]).float()
    second_d = torch.multinomial(other, 1, generator=gen).flatten()
    i, j = torch.cat([first, first_d]), torch.cat([second, second_d])
    same = torch.cat([torch.ones(n_same, dtype=torch.bool), torch.zeros(n_diff, dtype=torch.bool)])
    return i, j, same


# --------------------------------------------------------------------------- distances and losses


def _check_embeddings(x: torch.Tensor, name: str, finite: bool = False) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must have shape (N, D), got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {x.dtype}")
    if finite and x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf): a decision on it would be garbage")
    return x


def _check_tau(tau) -> float:
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau >= 0 or tau == float("inf"):
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
    return float(tau)


def pairwise_distances(x: torch.Tensor, y: torch.Tensor | None = None, *, squared: bool = False) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` (N, D) and of ``y`` (M, D) (default ``x``).

    Returns (N, M): ``||x_i - y_j||``, or its square with ``squared=True``; computed as
    ``|x|^2 + |y|^2 - 2 x.y`` (clamped at 0) so it has gradients everywhere, and the same
    as ``torch.cdist`` up to rounding. A NaN or inf in a row gives NaN distances for that
    row, as ``torch.cdist`` does (never a distance of 0). Taught in Chapter 11.
    """
    _check_embeddings(x, "x")
    self_distances = y is None
    y = x if y is None else _check_embeddings(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension D, got {x.shape[1]} and {y.shape[1]}")
    d2 = ((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T).clamp_min(0)
    finite = torch.isfinite(x).all(1)[:, None] & torch.isfinite(y).all(1)[None, :]
    d2 = torch.where(finite, d2, torch.full_like(d2, float("nan")))  # inf - inf and NaN: never 0
    if self_distances:  # exact zeros on the diagonal (of finite rows)
        d2 = d2.masked_fill(torch.eye(len(x), dtype=torch.bool, device=x.device) & finite, 0.0)
    if squared:
        return d2
    positive = d2 > 0
    # d2 * 0 keeps NaN (and a zero gradient at 0, where the square root has none)
    return torch.where(positive, torch.where(positive, d2, torch.ones_like(d2)).sqrt(), d2 * 0)


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def contrastive_loss(
    f1: torch.Tensor, f2: torch.Tensor, y: torch.Tensor, margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """Contrastive loss of pairs: ``Y * D^2 + (1 - Y) * max(0, m - D)^2``.

    f1, f2: (N, D) embeddings of the two images of each pair; ``D = ||f1 - f2||``.
    y: (N,) with the lectures' convention **Y = 1 for the same person, 0 for
    different people** (Hadsell et al., 2006, use the opposite labels and a factor 1/2).
    margin: ``m`` > 0. reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per pair, (N,)).
    Taught in Chapter 11.
    """
    _check_embeddings(f1, "f1")
    _check_embeddings(f2, "f2")
    if f1.shape != f2.shape:
        raise ValueError(f"f1 and f2 must have the same shape, got {tuple(f1.shape)} and {tuple(f2.shape)}")
    if not isinstance(y, torch.Tensor) or y.shape != (f1.shape[0],):
        raise ValueError(
            f"y must have shape ({f1.shape[0]},), got "
            f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}"
        )
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    y = y.to(f1.dtype)
    d2 = ((f1 - f2) ** 2).sum(1)
    d = torch.sqrt(d2 + 1e-12)
    loss = y * d2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2
    return _reduce(loss, reduction)


def triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 0.2,
    *,
    squared: bool = True,
    reduction: str = "mean",
) -> torch.Tensor:
    """Triplet loss ``max(0, d(A, P) - d(A, N) + alpha)`` (FaceNet, Schroff et al., 2015).

    anchor, positive, negative: (N, D) embeddings. ``d`` is the squared Euclidean
    distance (the lectures' and FaceNet's form) or, with ``squared=False``, the distance
    itself (the form of ``torch.nn.TripletMarginLoss``). margin: ``alpha`` >= 0.
    reduction: ``"mean"`` (PyTorch's default), ``"sum"`` (the lectures' sum over i)
    or ``"none"`` ((N,)). Taught in Chapter 11.
    """
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_embeddings(t, name)
    if not (anchor.shape == positive.shape == negative.shape):
        raise ValueError(
            f"anchor, positive and negative must have the same shape (N, D), got "
            f"{tuple(anchor.shape)}, {tuple(positive.shape)}, {tuple(negative.shape)}"
        )
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    d_ap = ((anchor - positive) ** 2).sum(1)
    d_an = ((anchor - negative) ** 2).sum(1)
    if not squared:
        d_ap, d_an = torch.sqrt(d_ap + 1e-12), torch.sqrt(d_an + 1e-12)
    return _reduce(torch.clamp(d_ap - d_an + margin, min=0), reduction)


def random_triplets(
    ids: torch.Tensor, *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One random triplet per anchor: a random positive and a random negative.

    ids: (B,) identities in a batch. Anchors without another image of their person or
    without any other person are skipped. Returns index tensors ``(a, p, n)``, each (T,).
    Taught in Chapter 11.
    """
    _check_ids(ids)
    same = ids[:, None] == ids[None, :]
    pos = same & ~torch.eye(len(ids), dtype=torch.bool)
    neg = ~same
    a = torch.nonzero(pos.any(1) & neg.any(1)).flatten()
    if len(a) == 0:
        empty = torch.zeros(0, dtype=torch.int64)
        return empty, empty, empty
    p = torch.multinomial(pos[a].float(), 1, generator=generator).flatten()
    n = torch.multinomial(neg[a].float(), 1, generator=generator).flatten()
    return a, p, n


def batch_hard_triplets(embeddings: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-hard mining: for each anchor, its farthest positive and its closest negative.

    embeddings: (B, D); ids: (B,). Distances are computed without gradients (mining only
    picks indices). Anchors without a positive or a negative are skipped. Returns index
    tensors ``(a, p, n)``, each (T,). Taught in Chapter 11.
    """
    _check_embeddings(embeddings, "embeddings")
    _check_ids(ids)
    if len(ids) != len(embeddings):
        raise ValueError(f"ids must have shape ({len(embeddings)},), got {tuple(ids.shape)}")
    with torch.no_grad():
        d = pairwise_distances(embeddings.detach(), squared=True)
    same = ids[:, None] == ids[None, :]
    pos = same & ~torch.eye(len(ids), dtype=torch.bool, device=ids.device)
    neg = ~same
    a = torch.nonzero(pos.any(1) & neg.any(1)).flatten()
    p = torch.where(pos[a], d[a], torch.full_like(d[a], -1.0)).argmax(1)
    n = torch.where(neg[a], d[a], torch.full_like(d[a], float("inf"))).argmin(1)
    return a, p, n


# --------------------------------------------------------------------------- verification and recognition


def best_threshold(distances: torch.Tensor, same: torch.Tensor) -> tuple[float, float]:
    """The threshold tau that best separates same from different pairs, and its accuracy.

    distances: (N,) pair distances; same: (N,) bool. A pair is called "same" when
    ``distance <= tau``. Tries tau halfway between consecutive sorted distances (and
    below the smallest); ties in accuracy go to the smallest tau. Returns
    ``(tau, accuracy)``. Choose tau on validation identities, then apply it to test
    identities. Non-finite distances raise ``ValueError``. Taught in Chapter 11.
    """
    if not isinstance(distances, torch.Tensor) or distances.ndim != 1 or len(distances) == 0:
        raise ValueError("distances must be a non-empty tensor of shape (N,)")
    if not isinstance(same, torch.Tensor) or same.shape != distances.shape:
        raise ValueError(f"same must have shape {tuple(distances.shape)}")
    if not bool(torch.isfinite(distances.double()).all()):
        raise ValueError("distances must be finite (no NaN or inf)")
    d, order = torch.sort(distances.double())
    s = same.bool()[order].double()
    # calling the first k pairs "same": correct = same among them + different among the rest
    correct = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(2 * s - 1, 0)]) + (1 - s).sum()
    # a cut is only possible between distinct distances
    valid = torch.ones(len(d) + 1, dtype=torch.bool)
    valid[1:-1] = d[1:] > d[:-1]
    correct[~valid] = -1
    k = int(torch.argmax(correct))
    if k == 0:
        tau = float(d[0]) - 1e-6
    elif k == len(d):
        tau = float(d[-1])
    else:
        tau = float((d[k - 1] + d[k]) / 2)
    return tau, float(correct[k]) / len(d)


def verify(f1: torch.Tensor, f2: torch.Tensor, tau: float) -> torch.Tensor:
    """Face verification: is each pair the same person? ``||f1 - f2|| <= tau``.

    f1, f2: (N, D) embeddings (or (D,) for one pair). Returns a bool tensor (N,) (or a
    0-d bool tensor). A NaN or inf embedding raises ``ValueError`` (it is no evidence of
    anything). Taught in Chapter 11.
    """
    if (
        not isinstance(f1, torch.Tensor)
        or not isinstance(f2, torch.Tensor)
        or f1.shape != f2.shape
        or f1.ndim not in (1, 2)
    ):
        raise ValueError(
            "f1 and f2 must be tensors of the same shape, (N, D) or (D,), got "
            f"{getattr(f1, 'shape', type(f1).__name__)} and {getattr(f2, 'shape', type(f2).__name__)}"
        )
    for name, f in (("f1", f1), ("f2", f2)):
        _check_embeddings(f.reshape(-1, f.shape[-1]), name, finite=True)
    _check_tau(tau)
    return torch.linalg.vector_norm(f1 - f2, dim=-1) <= tau


def recognise(
    queries: torch.Tensor, database: torch.Tensor, database_ids: torch.Tensor, tau: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Face recognition against a database of K people, with "not recognised".

    queries: (Q, D) embeddings; database: (K, D) embeddings of the known images;
    database_ids: (K,) their identities. Each query gets the identity of its nearest
    database entry if that distance is <= tau, else :data:`NOT_RECOGNISED` (-1).
    Returns ``(ids, distances)``: (Q,) int64 and the (Q,) distance to the nearest entry.
    A NaN or inf in the queries or the database raises ``ValueError`` (a NaN embedding is
    nobody, not the nearest person at distance 0). Taught in Chapter 11.
    """
    _check_embeddings(queries, "queries", finite=True)
    _check_embeddings(database, "database", finite=True)
    _check_ids(database_ids, "database_ids")
    if len(database_ids) != len(database) or len(database) == 0:
        raise ValueError(
            f"database_ids must have shape ({len(database)},) with K >= 1, got {tuple(database_ids.shape)}"
        )
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            f"queries and database must have the same dimension D, got {queries.shape[1]} and {database.shape[1]}"
        )
    _check_tau(tau)
    d = pairwise_distances(queries, database)
    nearest, index = d.min(1)
    ids = torch.where(nearest <= tau, database_ids[index], torch.full_like(database_ids[index], NOT_RECOGNISED))
    return ids, nearest
