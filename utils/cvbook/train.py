"""Training and evaluation helpers.

:func:`fit` trains a model for a number of epochs and returns a
:class:`History`; :func:`evaluate` measures a model on a loader. Both run on
whatever :func:`cvbook.device.pick_device` picks. On CUDA they use automatic
mixed precision (bfloat16 where the GPU supports it, else float16 with a
gradient scaler), pinned memory and non-blocking copies, and optionally the
``channels_last`` memory format; on the CPU they run in plain float32.

The progress bar (one bar over the epochs) is written to standard output and is
switched off by ``CVBOOK_PROGRESS=0`` (the tests and ``make refresh`` do so, to
keep stored notebook outputs clean). Taught in Chapter 1, used everywhere.

Two things matter once training leaves a notebook (taught in Appendix A1):

* **Data parallelism.** Started by ``torchrun`` (which sets ``RANK``,
  ``WORLD_SIZE`` and ``LOCAL_RANK``), :func:`fit` joins the process group
  (``gloo`` on the CPU, ``nccl`` on CUDA), wraps the model in
  ``DistributedDataParallel``, shards the training set with a
  ``DistributedSampler`` (its epoch set every epoch), splits the validation set
  between the processes, averages the metrics over all of them and shows the
  progress bar on rank 0 only. Started normally, nothing of this happens.
* **Checkpoints.** ``fit(..., checkpoint="run.pt")`` saves everything needed to
  continue (model, optimiser, scheduler, gradient scaler, random states,
  history) after every epoch, atomically, and resumes from the file when it
  exists.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, RandomSampler, Sampler

from .device import pick_device

__all__ = [
    "PROGRESS_ENV",
    "History",
    "accuracy",
    "fit",
    "evaluate",
    "predict",
    "progress_enabled",
    "amp_dtype",
    "CHECKPOINT_FORMAT",
    "TORCHRUN_ENV",
    "CheckpointError",
    "DistributedContext",
    "distributed_context",
    "load_checkpoint",
]

#: Environment variable that switches the progress bar off (``0``, ``false``, ``off``, ``no``).
PROGRESS_ENV = "CVBOOK_PROGRESS"

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a progress bar: ``progress`` if given, else ``$CVBOOK_PROGRESS`` (default on)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in {"0", "false", "off", "no"}


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of ``outputs`` (N, C) whose arg-max equals ``targets`` (N,)."""
    if outputs.ndim != 2 or targets.ndim != 1 or outputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"accuracy expects outputs (N, C) and targets (N,), got {tuple(outputs.shape)} and {tuple(targets.shape)}"
        )
    return (outputs.argmax(dim=1) == targets).float().mean()


@dataclass
class History:
    """What :func:`fit` measured, one row per epoch.

    ``history["train_loss"]`` is the list of per-epoch training losses;
    likewise ``val_loss``, ``train_<metric>``, ``val_<metric>``, ``lr`` and
    ``time_s`` (wall seconds of the epoch). ``history.total_time_s`` is the sum.
    """

    rows: list[dict[str, float]] = field(default_factory=list)

    def append(self, row: Mapping[str, float]) -> None:
        self.rows.append(dict(row))

    @property
    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.keys:
            raise KeyError(f"history has no {key!r}; it has {self.keys}")
        return [row.get(key, math.nan) for row in self.rows]

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.rows)

    def last(self, key: str) -> float:
        """The value of ``key`` after the last epoch."""
        return self[key][-1]

    @property
    def total_time_s(self) -> float:
        return float(sum(self["time_s"])) if self.rows else 0.0

    def as_dict(self) -> dict[str, list[float]]:
        return {key: self[key] for key in self.keys}


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype used on ``device``: bf16 or fp16 on CUDA, ``None`` (float32) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _to_device(x, device: torch.device, channels_last: bool):
    if isinstance(x, torch.Tensor):
        non_blocking = device.type == "cuda"
        if channels_last and x.ndim == 4:
            return x.to(device, non_blocking=non_blocking, memory_format=torch.channels_last)
        return x.to(device, non_blocking=non_blocking)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device, channels_last) for v in x)
    if isinstance(x, dict):
        return {k: _to_device(v, device, channels_last) for k, v in x.items()}
    return x


def _split_batch(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        "each batch must be a pair (inputs, targets); got "
        f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
    )


def _check_args(epochs: int, clip_grad_norm: float | None) -> None:
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be positive or None, got {clip_grad_norm!r}")


class _Meter:
    """Sums per-batch values weighted by batch size without syncing the device each step."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, name: str, value, n: int) -> None:
        value = value.detach().float() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
        self.sums[name] = self.sums.get(name, 0.0) + value * n

    def result(self) -> dict[str, float]:
        return {k: float(v) / max(self.count, 1) for k, v in self.sums.items()}

    def all_reduce(self, names: list[str], device: torch.device) -> dict[str, float]:
        """Sum counts and sums over every process (one ``all_reduce``); the global averages."""
        values = [float(self.count)] + [float(self.sums.get(name, 0.0)) for name in names]
        packed = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        count = float(packed[0])
        if count == 0:
            raise ValueError("the loader yielded no batches on any process")
        return {name: float(packed[k + 1]) / count for k, name in enumerate(names)}


def _run_epoch(
    model,
    loader,
    loss_fn,
    metrics,
    device,
    dtype,
    channels_last,
    optimizer=None,
    scaler=None,
    clip_grad_norm=None,
    scheduler=None,
    allow_empty: bool = False,
):
    meter = _Meter()
    training = optimizer is not None
    model.train(training)
    grad_mode = contextlib.nullcontext() if training else torch.inference_mode()
    with grad_mode:
        for batch in loader:
            inputs, targets = _split_batch(batch)
            inputs = _to_device(inputs, device, channels_last)
            targets = _to_device(targets, device, False)
            with _autocast(device, dtype):
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            if training:
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    if clip_grad_norm is not None:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    if clip_grad_norm is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            n = len(targets) if hasattr(targets, "__len__") else 1
            meter.count += n
            meter.add("loss", loss, n)
            for name, fn in metrics.items():
                meter.add(name, fn(outputs.float(), targets), n)
    if meter.count == 0 and not allow_empty:
        raise ValueError("the loader yielded no batches")
    return meter


def _prepare(model: nn.Module, device, channels_last: bool, amp: bool | str):
    device = pick_device(device)
    channels_last = bool(channels_last) and device.type == "cuda"
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if amp not in (True, False, "auto"):
        raise ValueError(f"amp must be True, False or 'auto', got {amp!r}")
    dtype = amp_dtype(device) if amp else None
    return device, channels_last, dtype


# --------------------------------------------------------------------------- distributed


#: The variables ``torchrun`` sets in every process it starts.
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in a ``torchrun`` job.

    rank: 0 .. world_size - 1 over all machines; local_rank: index on this machine
    (the GPU it uses); world_size: number of processes. Taught in Appendix A1.
    """

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that prints and writes checkpoints."""
        return self.rank == 0


def _env_int(name: str) -> int:
    raw = os.environ[name]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"${name} must be an integer (torchrun sets it), got {raw!r}") from None
    if value < 0:
        raise ValueError(f"${name} must be >= 0, got {value}")
    return value


def distributed_context() -> DistributedContext | None:
    """This process's rank, world size and local rank under ``torchrun``; ``None`` otherwise.

    A process counts as distributed when a process group is already initialised or
    when ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` are all set (as ``torchrun``
    does). Taught in Appendix A1.
    """
    if dist.is_available() and dist.is_initialized():
        local = _env_int("LOCAL_RANK") if "LOCAL_RANK" in os.environ else 0
        return DistributedContext(dist.get_rank(), dist.get_world_size(), local)
    if not all(name in os.environ for name in TORCHRUN_ENV):
        return None
    rank, world, local = (_env_int(name) for name in TORCHRUN_ENV)
    if world < 1 or rank >= world:
        raise ValueError(f"$RANK must be in [0, $WORLD_SIZE), got RANK={rank}, WORLD_SIZE={world}")
    return DistributedContext(rank, world, local)


def _destroy_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _join_process_group(ctx: DistributedContext, device: torch.device | str | None) -> torch.device:
    """Pick this rank's device, then join the process group (gloo on CPU, nccl on CUDA)."""
    if not dist.is_available():
        raise RuntimeError("this PyTorch build has no torch.distributed; it cannot run under torchrun")
    device = pick_device(device)
    if device.type == "cuda":
        if device.index is None:
            if ctx.local_rank >= torch.cuda.device_count():
                raise RuntimeError(
                    f"LOCAL_RANK={ctx.local_rank} but this machine has {torch.cuda.device_count()} "
                    "CUDA device(s): start at most one process per GPU (--nproc_per_node)"
                )
            device = torch.device("cuda", ctx.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        atexit.register(_destroy_process_group)
    return device


def _comm_device(device: torch.device) -> torch.device:
    """Where tensors for collectives live: nccl needs CUDA tensors, gloo takes CPU ones."""
    return device if dist.get_backend() == "nccl" else torch.device("cpu")


class _ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world_size, ...`` of ``range(n)``: an exact split with no padding.

    Used for evaluation, where ``DistributedSampler``'s padding would count a few
    samples twice. Taught in Appendix A1.
    """

    def __init__(self, n: int, rank: int, world_size: int) -> None:
        self.n, self.rank, self.world_size = n, rank, world_size

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world_size))


def _loader_seed(loader: DataLoader) -> int:
    return int(loader.generator.initial_seed()) if loader.generator is not None else 0


def _shard_loader(loader, ctx: DistributedContext, name: str, train: bool):
    """A copy of ``loader`` whose sampler gives this rank its share of the dataset.

    Training: ``DistributedSampler`` (shuffled with the loader's seed when the
    loader shuffles; every rank gets the same number of batches). Evaluation:
    an exact split. Returns ``(loader, sampler)``.
    """
    if not isinstance(loader, DataLoader):
        raise ValueError(
            f"under torchrun, {name} must be a torch.utils.data.DataLoader (fit shards its dataset "
            f"between the processes), got {type(loader).__name__}"
        )
    if isinstance(loader.sampler, DistributedSampler):  # already sharded by the caller
        return loader, loader.sampler
    if isinstance(loader.dataset, IterableDataset):
        raise ValueError(
            f"under torchrun, {name} must load a map-style dataset (with __len__ and "
            "__getitem__); shard an IterableDataset yourself"
        )
    if loader.batch_size is None:
        raise ValueError(
            f"under torchrun, {name} must be built with batch_size (not a custom "
            "batch_sampler); or pass a loader that already uses a DistributedSampler"
        )
    seed = _loader_seed(loader)
    if train:
        sampler = DistributedSampler(
            loader.dataset,
            num_replicas=ctx.world_size,
            rank=ctx.rank,
            shuffle=isinstance(loader.sampler, RandomSampler),
            seed=seed,
        )
    else:
        sampler = _ShardSampler(len(loader.dataset), ctx.rank, ctx.world_size)
    workers = loader.num_workers
    rank_seed = seed % 2**40 + 7919 * ctx.rank
    sharded = DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        generator=torch.Generator().manual_seed(rank_seed),
        persistent_workers=loader.persistent_workers if workers else False,
        prefetch_factor=loader.prefetch_factor if workers else None,
    )
    sharded._cvbook_seed = rank_seed  # worker seeds per epoch: see _start_epoch
    return sharded, sampler


def _start_epoch(sampler, loader: DataLoader, epoch: int) -> None:
    """Epoch-dependent shuffling and worker seeds, derived from (seed, rank, epoch) alone.

    Nothing of it depends on what ran before, so a resumed run sees the same batches.
    """
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    base = getattr(loader, "_cvbook_seed", None)
    if base is not None and loader.generator is not None:
        loader.generator.manual_seed(base + 104729 * epoch)


def _sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    if device.type == "cpu":
        raise ValueError(
            "sync_batchnorm=True needs GPUs: PyTorch's SyncBatchNorm does not run on the CPU; "
            "use sync_batchnorm=False with the gloo backend"
        )
    if isinstance(model, nn.modules.batchnorm._BatchNorm):
        raise ValueError(
            "sync_batchnorm=True cannot convert a model that is itself a BatchNorm layer; wrap it in an nn.Sequential"
        )
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)  # same object, BN children replaced


# --------------------------------------------------------------------------- checkpoints

#: The value of the ``"format"`` entry of every checkpoint :func:`fit` writes.
CHECKPOINT_FORMAT = "cvbook.train.checkpoint/1"


#: Attribute where cvbook.measured's jitter hook counts an optimiser's steps.
_JITTER_STEP = "_cvbook_jitter_step"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not match the run resuming from it."""


def _rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None,
    }
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    random.setstate(state["python"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def _atomic_save(obj, path: Path) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old or the new file
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`fit` (on the CPU) and check its format.

    Returns a dict with ``"epoch"`` (epochs done), ``"model"``, ``"optimizer"``,
    ``"scheduler"``, ``"scaler"`` (state dicts or ``None``), ``"history"`` (rows),
    ``"world_size"`` and the random states. Raises :class:`CheckpointError`
    (a ``ValueError``) naming the file when it is corrupt, truncated or not a
    checkpoint of :func:`fit`. A checkpoint is a pickle: load only your own.
    Taught in Appendix A1.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as err:  # truncated zip, garbage bytes, wrong pickle: all mean the same
        raise CheckpointError(
            f"checkpoint {str(path)!r} cannot be read ({type(err).__name__}: {err}); it is corrupt "
            "or not written by cvbook.train.fit. Delete it to start again from scratch, or pass "
            "another checkpoint path"
        ) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{str(path)!r} is not a checkpoint of cvbook.train.fit (format {found!r}, expected {CHECKPOINT_FORMAT!r})"
        )
    return state


def _describe_model_mismatch(saved: Mapping[str, torch.Tensor], current: Mapping[str, torch.Tensor]) -> list[str]:
    problems = []
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    if missing:
        problems.append(f"the model has {len(missing)} entries the checkpoint lacks, e.g. {missing[:3]}")
    if unexpected:
        problems.append(f"the checkpoint has {len(unexpected)} entries the model lacks, e.g. {unexpected[:3]}")
    for key in current:
        if key in saved and tuple(saved[key].shape) != tuple(current[key].shape):
            problems.append(
                f"{key!r} has shape {tuple(saved[key].shape)} in the checkpoint but "
                f"{tuple(current[key].shape)} in the model"
            )
    return problems


def _check_compatible(
    state: dict, path: Path, *, model, optimizer, scheduler, scheduler_step, epochs: int, world_size: int
) -> None:
    problems = _describe_model_mismatch(state["model"], model.state_dict())
    if state["optimizer_class"] != type(optimizer).__name__:
        problems.append(
            f"optimizer: checkpoint has {state['optimizer_class']}, this run has {type(optimizer).__name__}"
        )
    else:
        saved_groups = [len(g["params"]) for g in state["optimizer"]["param_groups"]]
        groups = [len(g["params"]) for g in optimizer.param_groups]
        if saved_groups != groups:
            problems.append(f"optimizer parameter groups: checkpoint has sizes {saved_groups}, this run {groups}")
    scheduler_class = type(scheduler).__name__ if scheduler is not None else None
    if state["scheduler_class"] != scheduler_class:
        problems.append(f"scheduler: checkpoint has {state['scheduler_class']}, this run has {scheduler_class}")
    elif scheduler is not None and state["scheduler_step"] != scheduler_step:
        problems.append(f"scheduler_step: checkpoint has {state['scheduler_step']!r}, this run {scheduler_step!r}")
    if state["world_size"] != world_size:
        problems.append(
            f"world size: the checkpoint was written by {state['world_size']} "
            f"process(es), this run has {world_size} (the batch size and data order "
            "would change)"
        )
    if state["epoch"] > epochs:
        problems.append(f"epochs: the checkpoint already holds {state['epoch']} epochs, more than epochs={epochs}")
    if problems:
        raise CheckpointError(f"checkpoint {str(path)!r} does not match this run: " + "; ".join(problems))


def _checkpoint_exists(path: Path, ctx: DistributedContext | None) -> bool:
    """Whether to resume; under DDP every rank must see the same answer."""
    exists = path.exists()
    if ctx is None:
        return exists
    seen: list = [None] * ctx.world_size
    dist.all_gather_object(seen, exists)
    if len(set(seen)) > 1:
        ranks = [r for r, found in enumerate(seen) if not found]
        raise CheckpointError(
            f"checkpoint {str(path)!r} exists on some processes but not on rank(s) {ranks}: put it "
            "on a file system that every machine shares"
        )
    return exists


# --------------------------------------------------------------------------- fit


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    loss_fn: Callable | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    epochs: int = 1,
    scheduler=None,
    scheduler_step: str = "epoch",
    clip_grad_norm: float | None = None,
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
    channels_last: bool = False,
    progress: bool | None = None,
    checkpoint: str | os.PathLike | None = None,
    sync_batchnorm: bool = False,
) -> History:
    """Train ``model`` and return its :class:`History`.

    model: any ``nn.Module``; it is moved to ``device`` (default: :func:`pick_device`).
    train_loader, val_loader: iterables of ``(inputs, targets)`` batches.
    loss_fn: default ``nn.CrossEntropyLoss()``. optimizer: default Adam (lr 1e-3).
    scheduler: stepped once per epoch (``scheduler_step="epoch"``) or per
    batch (``"batch"``, e.g. ``OneCycleLR``). clip_grad_norm: max gradient norm.
    metrics: name -> fn(outputs, targets) averaged over samples; default
    ``{"acc": accuracy}`` with the default loss, none otherwise.
    amp: ``"auto"`` uses mixed precision on CUDA only. channels_last: CUDA only.

    checkpoint: a file path. After every epoch, model, optimiser, scheduler,
    scaler, random states (and the loader's shuffling state) and the history are
    saved there atomically; when the file exists, training resumes from it and
    continues up to ``epochs`` in total. A corrupt or mismatched file raises
    :class:`CheckpointError` naming what does not match.

    Under ``torchrun`` (see :func:`distributed_context`) the loaders must be
    ``DataLoader`` s over map-style datasets; ``batch_size`` is per process, so the
    effective batch is ``world_size`` times larger. The model is wrapped in
    ``DistributedDataParallel`` (gradients are averaged over the processes during
    ``backward``), metrics are averaged over every process, rank 0 alone shows
    progress and writes the checkpoint, every rank reads it. After ``fit`` the
    model (unwrapped) holds the same weights on every rank. sync_batchnorm:
    convert BatchNorm layers to ``SyncBatchNorm`` (GPUs only; ignored in a single
    process). Taught in Chapter 1 (distributed training and checkpoints: Appendix A1).
    """
    _check_args(epochs, clip_grad_norm)
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise ValueError(
            f"checkpoint must be a file path (str or os.PathLike) or None, got {type(checkpoint).__name__}"
        )
    if metrics is None:
        metrics = {"acc": accuracy} if loss_fn is None else {}
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()

    ctx = distributed_context()
    if ctx is not None:
        device = _join_process_group(ctx, device)
        if sync_batchnorm:
            model = _sync_batchnorm(model, device)
    device, channels_last, dtype = _prepare(model, device, channels_last, amp)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    world_size = ctx.world_size if ctx is not None else 1

    history = History()
    start_epoch = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and _checkpoint_exists(path, ctx):
        state = load_checkpoint(path)
        _check_compatible(
            state,
            path,
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            scheduler_step=scheduler_step,
            epochs=epochs,
            world_size=world_size,
        )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state["scaler"] is not None:
            scaler.load_state_dict(state["scaler"])
        if state.get("jitter_step") is not None:
            setattr(optimizer, _JITTER_STEP, state["jitter_step"])
        _set_rng_state(state["rng"][ctx.rank if ctx is not None else 0])
        if ctx is None and state["loader_generator"] is not None:
            generator = getattr(train_loader, "generator", None)
            if generator is not None:
                generator.set_state(state["loader_generator"])
        for row in state["history"]:
            history.append(row)
        start_epoch = int(state["epoch"])

    sampler = None
    trained = model
    if ctx is not None:
        train_loader, sampler = _shard_loader(train_loader, ctx, "train_loader", train=True)
        if val_loader is not None:
            val_loader, _ = _shard_loader(val_loader, ctx, "val_loader", train=False)
        trained = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    names = ["loss", *metrics]

    def measure(meter: _Meter) -> dict[str, float]:
        if ctx is None:
            return meter.result()
        return meter.all_reduce(names, _comm_device(device))

    bar = None
    if progress_enabled(progress) and (ctx is None or ctx.is_main):
        from tqdm.std import tqdm

        bar = tqdm(total=epochs, initial=start_epoch, desc="fit", unit="epoch", file=sys.stdout, leave=True)
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            start = time.perf_counter()
            if ctx is not None:
                _start_epoch(sampler, train_loader, epoch)
            row: dict[str, float] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
            train = _run_epoch(
                trained,
                train_loader,
                loss_fn,
                metrics,
                device,
                dtype,
                channels_last,
                optimizer,
                scaler,
                clip_grad_norm,
                scheduler if scheduler_step == "batch" else None,
            )
            row.update({f"train_{k}": v for k, v in measure(train).items()})
            if val_loader is not None:
                # the bare model: evaluation needs no gradient averaging, and ranks may hold
                # different numbers of validation batches
                val = _run_epoch(
                    model, val_loader, loss_fn, metrics, device, dtype, channels_last, allow_empty=ctx is not None
                )
                row.update({f"val_{k}": v for k, v in measure(val).items()})
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()
            row["time_s"] = time.perf_counter() - start
            history.append(row)
            if path is not None:
                _write_checkpoint(
                    path,
                    ctx,
                    epoch=epoch,
                    model=model,
                    optimizer=optimizer,
                    scheduler=scheduler,
                    scheduler_step=scheduler_step,
                    scaler=scaler,
                    history=history,
                    train_loader=train_loader,
                )
            if bar is not None:
                shown = {k: f"{v:.4g}" for k, v in row.items() if k.startswith(("train_", "val_"))}
                bar.set_postfix(shown, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return history


def _write_checkpoint(
    path: Path,
    ctx: DistributedContext | None,
    *,
    epoch,
    model,
    optimizer,
    scheduler,
    scheduler_step,
    scaler,
    history,
    train_loader,
) -> None:
    """Rank 0 (or the only process) writes; every rank contributes its random state.

    Under DDP no rank returns before the file is on disk, and if rank 0 fails to
    write it, every rank raises (instead of waiting for it forever).
    """
    rng = _rng_state()
    if ctx is None:
        rngs = [rng]
    else:
        rngs = [None] * ctx.world_size
        dist.all_gather_object(rngs, rng)
    error = None
    if ctx is None or ctx.is_main:
        generator = getattr(train_loader, "generator", None) if ctx is None else None
        state = {
            "format": CHECKPOINT_FORMAT,
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer_class": type(optimizer).__name__,
            "optimizer": optimizer.state_dict(),
            "scheduler_class": type(scheduler).__name__ if scheduler is not None else None,
            "scheduler_step": scheduler_step,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": rngs,
            "loader_generator": generator.get_state() if generator is not None else None,
            "history": [dict(row) for row in history.rows],
            # the step count of cvbook.measured's test-time gradient jitter, when installed: the
            # jitter is a function of the step, so a resumed run must continue the count
            "jitter_step": getattr(optimizer, _JITTER_STEP, None),
            "world_size": ctx.world_size if ctx is not None else 1,
            "torch_version": torch.__version__,
        }
        if ctx is None:
            _atomic_save(state, path)
            return
        try:
            _atomic_save(state, path)
        except Exception as err:  # told to every rank below, then raised here
            error = err
    outcome = [f"{type(error).__name__}: {error}" if error is not None else None]
    dist.broadcast_object_list(outcome, src=0)
    if error is not None:
        raise error
    if outcome[0] is not None:
        raise RuntimeError(f"rank 0 could not write the checkpoint {str(path)!r}: {outcome[0]}")


def evaluate(
    model: nn.Module,
    loader: Iterable,
    *,
    loss_fn: Callable | None = None,
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
    channels_last: bool = False,
) -> dict[str, float]:
    """Average loss and metrics of ``model`` over ``loader`` (in eval mode, no gradients).

    Defaults as in :func:`fit`. Returns e.g. ``{"loss": 0.12, "acc": 0.97}``.
    Taught in Chapter 1.
    """
    if metrics is None:
        metrics = {"acc": accuracy} if loss_fn is None else {}
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    device, channels_last, dtype = _prepare(model, device, channels_last, amp)
    return _run_epoch(model, loader, loss_fn, metrics, device, dtype, channels_last).result()


def predict(
    model: nn.Module,
    loader: Iterable,
    *,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` over ``loader``; return ``(outputs, targets)`` concatenated on the CPU."""
    device, _, dtype = _prepare(model, device, False, amp)
    model.eval()
    outs, tgts = [], []
    with torch.inference_mode():
        for batch in loader:
            inputs, targets = _split_batch(batch)
            with _autocast(device, dtype):
                outputs = model(_to_device(inputs, device, False))
            outs.append(outputs.float().cpu())
            tgts.append(targets.cpu() if isinstance(targets, torch.Tensor) else torch.as_tensor(targets))
    if not outs:
        raise ValueError("the loader yielded no batches")
    return torch.cat(outs), torch.cat(tgts)
