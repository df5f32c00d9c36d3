# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# Colab only: install the book's package (Colab's own torch and torchvision are kept).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "cvbook @ git+https://github.com/cnn-cv-book/cnn-cv-book@v0.1.0",
        ],
        check=True,
    )

# %% [markdown]
# # Training on more than one device
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/A1_training_on_more_than_one_device.ipynb)
#
# Every network in this book trains in one process, on one device, in minutes. Real
# datasets change that: ImageNet-sized training runs for days on one GPU, so it is
# spread over several GPUs and often several machines, and a Colab runtime that
# disconnects after an idle spell loses everything that was not written to disk. This
# appendix shows the two tools that handle both: **data-parallel training** with
# PyTorch's `DistributedDataParallel` {cite}`li2020pytorch` and **checkpoints** that
# let a run continue where it stopped. Everything here runs on a laptop CPU, with two
# processes standing in for two GPUs; the same code runs unchanged on a multi-GPU
# machine. It builds on the training loop of the lectures
# {cite}`cnn_recap_lecture,safayani_deeplearning` (mini-batch gradient descent, batch
# normalisation) and on `cvbook.train.fit` from Chapter 1.
#
# ## Learning objectives
#
# After this appendix you can
#
# - explain data parallelism: every process holds a copy of the model, sees a different
#   slice of the batch, and the gradients are averaged with an all-reduce;
# - compute the effective batch size and apply the linear learning-rate scaling rule
#   with warm-up;
# - say what `DistributedDataParallel` synchronises and when, what `DistributedSampler`
#   does, and when SyncBatchNorm is needed;
# - run a training with `torchrun` on several processes, GPUs or machines, and under a
#   cluster scheduler;
# - save and resume a training with a checkpoint, in Colab with Google Drive too.

# %% [markdown]
# ## Setup
#
# As in every chapter: the book's package, a fixed seed and the device report. The
# experiments below start extra Python processes with `torchrun`; they run on the CPU.

# %%
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DistributedSampler

from cvbook import data, device, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())

# %% [markdown]
# ## Data parallelism from scratch
#
# Mini-batch gradient descent uses the mean gradient over a batch of $B$ examples,
#
# $$g = \frac{1}{B} \sum_{i=1}^{B} \nabla_w \ell(x_i, y_i; w).$$
#
# Split the batch into $K$ equal slices of $b = B/K$ examples. The mean over the whole
# batch is the mean of the slices' means:
#
# $$g = \frac{1}{K} \sum_{k=1}^{K} g_k, \qquad g_k = \frac{1}{b} \sum_{i \in \text{slice } k} \nabla_w \ell(x_i, y_i; w).$$
#
# So $K$ workers, each with its own copy of the same weights $w$, can each compute $g_k$
# on their own slice, average the $K$ gradients, and take the same step as one worker
# with the whole batch. Nothing else has to be shared. Here are two "workers" in one
# process, checked against the full batch:


# %%
# NBVAL_CHECK_OUTPUT
def small_cnn() -> nn.Module:
    """The appendix's model: a small CNN for the 8x8 digits (1 x 8 x 8 in, 10 scores out)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


digits_train, digits_test = data.load_digits("train"), data.load_digits("test")
x, y = digits_train.images[:64], digits_train.targets[:64]
torch.manual_seed(0)
model = small_cnn()
loss_fn = nn.CrossEntropyLoss()


def gradient(xs, ys):
    model.zero_grad()
    loss_fn(model(xs), ys).backward()
    return [p.grad.clone() for p in model.parameters()]


full = gradient(x, y)
workers = [gradient(x[:32], y[:32]), gradient(x[32:], y[32:])]  # two workers, 32 examples each
averaged = [(g0 + g1) / 2 for g0, g1 in zip(*workers)]
delta = max((a - f).abs().max().item() for a, f in zip(averaged, full))
print(f"parameters: {sum(p.numel() for p in model.parameters())} in {len(full)} tensors")
print(f"mean of the 2 workers' gradients == gradient of the whole batch (max |diff| < 1e-6): {delta < 1e-6}")

# %% [markdown]
# The averaging is the only communication data parallelism needs, but it is needed at
# every step, for every parameter. It is a collective operation called **all-reduce**:
# every worker starts with its own vector, and every worker ends with the sum (or mean)
# of all of them.
#
# ## All-reduce, and why its cost hardly grows with the number of workers
#
# The obvious way, everyone sends everything to one worker who sums and sends back, makes
# that worker receive $(K-1)$ full gradients per step: it becomes the bottleneck as $K$
# grows. The **ring all-reduce** {cite}`patarasuk2009bandwidth` arranges the $K$ workers in
# a ring and cuts each vector into $K$ chunks. In $K-1$ *reduce-scatter* steps every worker
# passes one chunk to its right neighbour, which adds it to its own; afterwards worker $k$
# holds the complete sum of one chunk. In $K-1$ *all-gather* steps the finished chunks go
# round the ring once more. Each worker sends $2(K-1)$ chunks of size $N/K$, that is
#
# $$\text{sent per worker} = 2\,\frac{K-1}{K}\,N < 2N,$$
#
# almost independent of $K$. Here it is in plain Python, with lists standing in for the
# network, checked against the sum:


# %%
# NBVAL_CHECK_OUTPUT
def ring_all_reduce(vectors: list[torch.Tensor]) -> tuple[list[torch.Tensor], int]:
    """Sum K vectors (each of length N) the way a ring of K workers does; returns (results, numbers sent)."""
    k = len(vectors)
    chunks = [list(v.clone().chunk(k)) for v in vectors]  # chunks[worker][c]
    sent = 0
    for step in range(k - 1):  # reduce-scatter: worker w passes chunk (w - step) to w + 1
        outgoing = [(w, (w - step) % k, chunks[w][(w - step) % k].clone()) for w in range(k)]
        for w, c, chunk in outgoing:
            chunks[(w + 1) % k][c] += chunk
            sent += chunk.numel()
    for step in range(k - 1):  # all-gather: worker w passes its finished chunk (w + 1 - step)
        outgoing = [(w, (w + 1 - step) % k, chunks[w][(w + 1 - step) % k].clone()) for w in range(k)]
        for w, c, chunk in outgoing:
            chunks[(w + 1) % k][c] = chunk
            sent += chunk.numel()
    return [torch.cat(c) for c in chunks], sent


n = 1200
for k in (2, 4, 8):
    g = torch.Generator().manual_seed(k)
    vectors = [torch.randint(-100, 100, (n,), generator=g).double() for _ in range(k)]
    results, sent = ring_all_reduce(vectors)
    exact = all(torch.equal(r, sum(vectors)) for r in results)
    print(
        f"K={k}: every worker holds the sum: {exact}; sent per worker {sent // k} numbers "
        f"= 2(K-1)/K * N = {2 * (k - 1) * n // k}"
    )

# %% [markdown]
# PyTorch calls a library for this: **gloo** on CPUs and **NCCL** on NVIDIA GPUs (NCCL uses
# rings and trees over NVLink, PCIe and the network). You never write the loop above;
# `torch.distributed.all_reduce(tensor)` does it.
#
# ## The effective batch size and the learning rate
#
# With $K$ processes and a per-process batch of $b$ examples, one step averages over the
# **effective batch** $B = K b$. Training with 8 GPUs at $b = 32$ is training with
# $B = 256$: the same number of epochs now takes 8 times fewer steps. Goyal et al.
# {cite}`goyal2017accurate` trained ResNet-50 on ImageNet with batches of up to 8192 by
# two rules:
#
# - **linear scaling:** when the batch grows $k$-fold, multiply the learning rate by $k$
#   ($\eta = 0.1 \cdot B / 256$ for their ResNet-50 with SGD and momentum);
# - **warm-up:** start at the small learning rate and raise it linearly to the scaled one
#   over the first few epochs (5 in the paper), because in the first steps the weights
#   change fast and a large rate diverges.
#
# The schedule below takes a learning rate $\eta_0 = 0.1$ that works for one process and
# moves to $k = 8$ processes: the target is $k \eta_0 = 0.8$, reached linearly over 5 steps
# (epochs, in the paper). It is written once by hand and once with PyTorch's `LambdaLR`,
# and the two must agree:


# %%
# NBVAL_CHECK_OUTPUT
def scaled_lr(step: int, *, base_lr: float, k: int, warmup_steps: int) -> float:
    """Linear scaling (base_lr * k) with linear warm-up from base_lr over warmup_steps."""
    if step >= warmup_steps:
        return base_lr * k
    return base_lr * (1 + (k - 1) * step / warmup_steps)


base_lr, k, warmup = 0.1, 8, 5
w = nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([w], lr=base_lr * k)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: scaled_lr(s, base_lr=base_lr, k=k, warmup_steps=warmup) / (base_lr * k)
)
by_torch = []
for step in range(8):
    by_torch.append(opt.param_groups[0]["lr"])
    opt.step()  # no gradient: nothing changes, but the scheduler expects a step first
    sched.step()
by_hand = [scaled_lr(s, base_lr=base_lr, k=k, warmup_steps=warmup) for s in range(8)]
print("step:        ", list(range(8)))
print("lr (by hand):", [round(v, 2) for v in by_hand])
print("LambdaLR agrees:", all(abs(a - b) < 1e-12 for a, b in zip(by_hand, by_torch)))

# %% [markdown]
# ```{note}
# Linear scaling is a rule of thumb, not a law: Goyal et al. saw it hold up to
# $B = 8192$ for ResNet-50 and break beyond. With Adam the learning rate is often scaled
# by $\sqrt{k}$ instead, or not at all. Always compare the scaled run with a one-device run
# for a few epochs, as the experiment below does.
# ```
#
# ## What `DistributedDataParallel` synchronises, and when
#
# `torch.nn.parallel.DistributedDataParallel` (DDP) {cite}`li2020pytorch` turns the
# from-scratch recipe into something fast:
#
# 1. **At construction** it broadcasts rank 0's parameters and buffers to every process, so
#    all copies start equal (even if each process initialised its model differently).
# 2. **During `backward`** it all-reduces the gradients, averaged over the processes. It
#    groups them into buckets of about 25 MB and starts each bucket's all-reduce as soon as
#    its gradients are ready, so communication overlaps with the rest of the backward
#    pass. When `backward` returns, every process holds the same averaged gradient.
# 3. **`optimizer.step()` is local:** each process updates its own copy with the same
#    gradient, so the copies stay identical without sending weights.
# 4. **At every forward** in training mode it broadcasts rank 0's *buffers* (batch-norm
#    running statistics) to the others.
#
# Within a `with ddp_model.no_sync():` block the all-reduce is skipped and gradients
# accumulate locally; that is how gradient accumulation avoids communicating at every
# micro-batch.
#
# `cvbook.train.fit` does all of this when `torchrun` starts it: it joins the process
# group (gloo on the CPU, NCCL on CUDA), wraps the model in DDP, shards the data, averages
# the metrics over the processes, prints only on rank 0, and returns the same history on
# every rank.
#
# ## `DistributedSampler`: every process a different slice
#
# The processes must see different examples, or the all-reduce averages the same gradient
# $K$ times. `DistributedSampler` shuffles the indices with a seed that every process
# shares, pads the list to a multiple of $K$ and gives process $r$ every $K$-th index
# starting at $r$. `sampler.set_epoch(e)` reseeds the shuffle with `seed + e`, so each epoch
# has a new order that all processes agree on (`fit` calls it). Here are the two shards of
# ten examples for two epochs, and of eleven examples, where one index is repeated to even
# out the shards:

# %%
# NBVAL_CHECK_OUTPUT
for n_items in (10, 11):
    for epoch in (0, 1):
        shards = []
        for rank in (0, 1):
            sampler = DistributedSampler(range(n_items), num_replicas=2, rank=rank, shuffle=True, seed=0)
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        print(f"{n_items} examples, epoch {epoch}: rank 0 {shards[0]}  rank 1 {shards[1]}")

# %% [markdown]
# Validation is different: padding would count a few examples twice, so `fit` splits the
# validation set exactly (rank $r$ takes indices $r, r + K, \dots$) and sums the per-process
# counts and losses with one all-reduce per epoch.
#
# ## Batch normalisation across processes: SyncBatchNorm
#
# A batch-norm layer normalises with the mean and variance of *its* batch. Under DDP that is
# the per-process batch $b$, not the effective batch $B$. With $b = 32$ this hardly matters;
# with $b = 2$ (segmentation of large images, Chapter 10) the statistics are too noisy.
# `nn.SyncBatchNorm` computes them over all processes, at the price of one more
# communication per layer in every forward and backward pass. `fit(..., sync_batchnorm=True)`
# converts the layers for you; PyTorch's SyncBatchNorm runs on GPUs only, so `fit` refuses it
# on the CPU. The conversion itself can be looked at anywhere:

# %%
# NBVAL_CHECK_OUTPUT
with_bn = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8))
weight_before = with_bn[1].weight
converted = nn.SyncBatchNorm.convert_sync_batchnorm(with_bn)
print([type(m).__name__ for m in converted])
print("same model object, same parameters:", converted is with_bn and converted[1].weight is weight_before)

# %% [markdown]
# ## Mixed precision and `channels_last` on GPUs
#
# On a GPU, two settings usually matter more than the number of GPUs. **Mixed precision**
# {cite}`micikevicius2018mixed` runs matrix products and convolutions in 16-bit floats
# (bfloat16 on recent GPUs, float16 with a gradient scaler on older ones) while the weights
# stay in float32: tensor cores run 16-bit products several times faster, and activations
# take half the memory. **`channels_last`** stores a batch as $(N, H, W, C)$ in memory
# instead of $(N, C, H, W)$, the layout the GPU's convolution kernels prefer. `fit` uses
# mixed precision on CUDA by default (`amp="auto"`) and `channels_last=True` on request; both
# work under DDP unchanged. On the CPU it trains in float32:

# %%
# NBVAL_CHECK_OUTPUT
print("autocast dtype on the CPU:", train.amp_dtype(torch.device("cpu")))
print(
    "a (2, 3, 4, 4) batch in channels_last has strides",
    torch.zeros(2, 3, 4, 4).to(memory_format=torch.channels_last).stride(),
)

# %% [markdown]
# `make bench` compares `fit` with a hand-tuned mixed-precision loop on a GPU when there is
# one.
#
# ## An experiment: two processes against one
#
# Now for real processes. The script below is a complete distributed training, the kind
# you would save as `train_digits.py` and start with `torchrun`: it trains the small CNN on
# the digits with `fit` and writes what it measured. Nothing in it mentions ranks except
# the last lines: `fit` notices `torchrun`'s environment. It also takes one step on a fixed
# batch, to check the exactness argument of the first section with real processes.

# %%
SCRIPT = """
import json
import sys
import time

import torch
from torch import nn

from cvbook import data, device, train


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


out, per_rank_batch, base_lr, epochs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
ctx = train.distributed_context()
world = ctx.world_size if ctx else 1

# one SGD step on the first 16 training digits, 16 / world per process
torch.manual_seed(0)
model = small_cnn()
first16 = data.TensorImageDataset(data.load_digits("train").images[:16], data.load_digits("train").targets[:16])
train.fit(model, data.make_loader(first16, 16 // world), epochs=1, progress=False,
          optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
one_step = {k: v.tolist() for k, v in model.state_dict().items()}

# the training: per-process batch, learning rate scaled by the number of processes
device.seed_everything(0)
model = small_cnn()
loader = data.make_loader(data.load_digits("train"), per_rank_batch, shuffle=True, seed=0)
test_loader = data.make_loader(data.load_digits("test"), 200)
optimizer = torch.optim.SGD(model.parameters(), lr=base_lr * world, momentum=0.9)
start = time.perf_counter()
history = train.fit(model, loader, test_loader, optimizer=optimizer, epochs=epochs)
seconds = time.perf_counter() - start
if ctx is None or ctx.is_main:
    import torch.distributed as dist
    json.dump({"world_size": world, "backend": dist.get_backend() if dist.is_initialized() else None,
               "history": history.as_dict(), "seconds": seconds, "one_step": one_step}, open(out, "w"))
"""
workdir = Path(tempfile.mkdtemp(prefix="cvbook-ddp-"))
script = workdir / "train_digits.py"
script.write_text(SCRIPT)
print(f"wrote {script.name}: {len(SCRIPT.splitlines())} lines")


# %% [markdown]
# `torchrun` starts the processes and gives each its `RANK`, `LOCAL_RANK` and `WORLD_SIZE`.
# The rendezvous (`--rdzv-*`) is where they meet: a host and a free port. We run the script
# with two processes (per-process batch 32, so an effective batch of 64, and learning rate
# $2 \times 0.05$ by the linear scaling rule) and, for comparison, as a plain Python process
# with a batch of 32 and learning rate $0.05$:


# %%
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


EPOCHS, BATCH, BASE_LR = 10, 32, 0.05
env = {**os.environ, "OMP_NUM_THREADS": "1", "CVBOOK_PROGRESS": "0", "CVBOOK_DEVICE": "cpu"}
runs = {}
for name, launcher in [
    (
        "2 processes",
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes=1",
            "--nproc-per-node=2",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint=127.0.0.1:{free_port()}",
            "--max-restarts=0",
        ],
    ),
    ("1 process", [sys.executable]),
]:
    result = workdir / f"{name.replace(' ', '_')}.json"
    start = time.perf_counter()
    done = subprocess.run(
        [*launcher, str(script), str(result), str(BATCH), str(BASE_LR), str(EPOCHS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    runs[name] = json.loads(result.read_text())
    runs[name]["wall_s"] = time.perf_counter() - start
    print(f"{name}: training {runs[name]['seconds']:.1f} s, with start-up {runs[name]['wall_s']:.1f} s")

# %% [markdown]
# First the exact facts: the world size and backend the script saw, and the one step with
# 8 examples in each of two processes against 16 examples in one process:

# %%
# NBVAL_CHECK_OUTPUT
ddp, single = runs["2 processes"], runs["1 process"]
print("world size:", ddp["world_size"], " backend:", ddp["backend"])
step_delta = max(
    (torch.tensor(ddp["one_step"][k]) - torch.tensor(single["one_step"][k])).abs().max().item()
    for k in single["one_step"]
)
print("one DDP step (2 x 8 examples) == one step with 16 examples (max |diff| < 1e-6):", step_delta < 1e-6)
print("epochs recorded:", len(ddp["history"]["epoch"]), len(single["history"]["epoch"]))

# %% [markdown]
# Then the measured ones. Both runs see every training digit once per epoch; the
# two-process run takes half as many steps with twice the learning rate:

# %% mystnb={"figure": {"caption": "Test accuracy per epoch of the small CNN trained in one process and in two processes with the linear scaling rule.", "name": "fig-a1-ddp"}, "image": {"alt": "Line plot of test accuracy against epoch, 1 to 10, with markers. The one-process run starts near 0.5 and reaches about 0.9 at epoch 2; the two-process run starts near 0.23, climbs more slowly and nearly catches up at epoch 4. From then on both stay between about 0.93 and 0.98, the one-process run slightly higher."}}
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(5.5, 3.2))
for name, run in runs.items():
    ax.plot(run["history"]["epoch"], run["history"]["val_acc"], marker="o", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title("Digits, small CNN: 1 process vs 2 (DDP, gloo)")
ax.legend()
fig.tight_layout()
acc_two = claim("a1.ddp_two_processes.test_accuracy", ddp["history"]["val_acc"][-1], low=0.9)
acc_one = claim("a1.ddp_one_process.test_accuracy", single["history"]["val_acc"][-1], low=0.9)
claim("a1.ddp_accuracy_gap", abs(acc_two - acc_one), high=0.06)
print(f"test accuracy: 2 processes {acc_two:.3f}, 1 process {acc_one:.3f}")
print(f"training time: 2 processes {ddp['seconds']:.1f} s, 1 process {single['seconds']:.1f} s")

# %% [markdown]
# *{numref}`fig-a1-ddp`: both runs reach the same accuracy band (the claims above check it).
# The times depend on the machine: on a laptop with two free cores the two processes
# finish sooner; on a busy or one-core machine they do not, since they share the same
# cores and pay for the communication. On GPUs each process has its own device and the
# speed-up is close to the number of GPUs for convolutional networks.*
#
# ## Checkpoints: continuing after a crash or a disconnect
#
# A checkpoint holds everything the next epoch depends on: the weights, the optimiser's
# state (momentum, Adam's moments), the scheduler's position, the gradient scaler, the
# random number generators (dropout, augmentation, shuffling) and the history so far.
# `fit(..., checkpoint="run.pt")` writes it after every epoch, first to a temporary file
# that is then renamed over the old one: a rename is atomic, so a run killed while writing
# leaves the previous checkpoint intact, never half a file. When the file exists, `fit`
# loads it and continues to the requested number of epochs; a corrupt file or one from a
# different model or optimiser is an error that names the mismatch, never a silent restart.
# Under DDP rank 0 writes and every rank reads.
#
# Here a run is "disconnected" after 2 of 4 epochs and started again with the same call;
# it must end with exactly the weights of a run that was never interrupted:


# %%
def run(epochs: int, checkpoint=None) -> nn.Module:
    device.seed_everything(0)
    model = nn.Sequential(small_cnn()[:-1], nn.Dropout(0.2), nn.Linear(32 * 2 * 2, 10))
    loader = data.make_loader(digits_train, 32, shuffle=True, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    train.fit(
        model, loader, optimizer=optimizer, scheduler=scheduler, epochs=epochs, progress=False, checkpoint=checkpoint
    )
    return model


path = workdir / "run.pt"
straight = run(4)
run(2, path)  # ... and then the runtime disconnects
epochs_saved = train.load_checkpoint(path)["epoch"]
resumed = run(4, path)  # the same call again: it finds run.pt and does epochs 3 and 4

# %% [markdown]
# The training above is a measured run; what it shows is exact on every machine (the same
# computation twice gives the same weights), so it is checked to the digit:

# %%
# NBVAL_CHECK_OUTPUT
same = all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))
print("epochs in the checkpoint after the first, interrupted call:", epochs_saved)
print("resumed weights == uninterrupted weights:", same)
print("the checkpoint holds:", sorted(train.load_checkpoint(path)))

# %% [markdown]
# ```{warning}
# A checkpoint is a Python pickle: loading one runs code. Load only checkpoints you wrote.
# And keep the recipe fixed: `fit` refuses a checkpoint written with a different model,
# optimiser, scheduler or number of processes, since the data order and batch size would
# change.
# ```
#
# ## Running a chapter's training on more devices
#
# Move the training of a chapter into a script (as `train_digits.py` above) and start it
# with `torchrun`. The script does not change; only the command does.
#
# **One machine with 4 GPUs** (one process per GPU; `fit` puts process $r$ on `cuda:r` and
# uses NCCL):
#
# ```bash
# torchrun --standalone --nproc-per-node=4 train_digits.py result.json 64 0.05 10
# ```
#
# **Two machines with 4 GPUs each.** Run the same command on both, naming one of them as
# the meeting point (any free port on it):
#
# ```bash
# # on machine A (10.0.0.1) and on machine B, the same line:
# torchrun --nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d \
#          --rdzv-endpoint=10.0.0.1:29500 --rdzv-id=digits-run-1 \
#          train_digits.py result.json 64 0.05 10
# ```
#
# The tests of this book run exactly that on one machine with two launchers of one CPU
# process each (`--nnodes=2 --rdzv-endpoint=127.0.0.1:PORT`), so the multi-machine path is
# exercised on every test run. With a shared file system, give `fit` a checkpoint path on
# it; every machine must be able to read it.
#
# **A cluster with SLURM.** The scheduler starts one `torchrun` per node; the first node of
# the allocation is the rendezvous:
#
# ```bash
# !/bin/bash
# #SBATCH --nodes=2 --ntasks-per-node=1 --gpus-per-node=4 --cpus-per-task=32 --time=04:00:00
# head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
# srun torchrun --nnodes="$SLURM_NNODES" --nproc-per-node=4 \
#      --rdzv-backend=c10d --rdzv-endpoint="$head:29500" --rdzv-id="$SLURM_JOB_ID" \
#      train_digits.py result.json 64 0.05 10
# ```
#
# Pass `checkpoint=` to `fit` and resubmit the same job when the time limit stops it: it
# continues from the last finished epoch.
#
# ## Colab: surviving a disconnect
#
# Colab's runtime, and everything on its disk, goes away after an idle spell or its time
# limit. Write the checkpoint to Google Drive instead, and run the same cell again after
# reconnecting (it resumes):
#
# ```python
# from google.colab import drive
# drive.mount("/content/drive")
# ckpt = "/content/drive/MyDrive/cvbook/chapter05_resnet.pt"
# history = train.fit(model, train_loader, val_loader, epochs=30, checkpoint=ckpt)
# ```
#
# Re-run the cells that build the model, loaders and optimiser with the same seed first, so
# the checkpoint matches them. Delete the file to start a fresh run.
#
# ## Key takeaways
#
# - Data parallelism gives each process a copy of the model and a slice of the batch; the
#   mean of the slices' gradients is the gradient of the whole batch, so one step of $K$
#   processes with batch $b$ equals one step of one process with batch $Kb$.
# - The gradients are averaged by an all-reduce; a ring all-reduce sends about $2N$
#   numbers per worker, whatever the number of workers.
# - The effective batch is $K$ times the per-process batch: scale the learning rate
#   linearly and warm it up {cite}`goyal2017accurate`, then check against one device.
# - DDP broadcasts the weights once, all-reduces gradients in buckets during `backward`,
#   and steps each copy locally; `DistributedSampler` (with `set_epoch`) gives each process
#   different examples; SyncBatchNorm shares batch statistics when per-GPU batches are tiny.
# - `fit` does all of this under `torchrun` and saves atomic checkpoints with
#   `checkpoint=`; a resumed run ends with exactly the weights of an uninterrupted one.
#
# ## Exercises
#
# This appendix has no graded notebook. Try these on your own machine:
#
# 1. Change `ring_all_reduce` to average instead of sum, and count the numbers sent for
#    $K = 16$. Then write the naive "send everything to worker 0" version and count its
#    traffic at worker 0.
# 2. Run `train_digits.py` with `--nproc-per-node=4` and a per-process batch of 16; keep the
#    learning rate unscaled, then scale it. Which run tracks the one-process run?
# 3. Start the checkpointed `run(4, path)` in a terminal, press Ctrl-C during epoch 3 and
#    start it again. Check the history it returns.
#
# The graded exercises closest to this appendix are those of Chapter 3, which train a CNN
# with `fit`:
# [open in Colab](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch03/ch03_exercises.ipynb),
# [view on GitHub](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch03/ch03_exercises.ipynb).
