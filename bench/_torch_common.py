"""Shared set-up of the PyTorch benchmark scripts: the device (MOTION_GRPO_TORCH_DEVICE, cpu or
cuda), float32 without TF32 on CUDA (the engine computes in float32 throughout), a device-aware
reference MDM (tools/make_golden.py's modules; its frame mask is built on the inputs' device), and
a timer that waits for queued CUDA work.
"""

import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import make_golden  # noqa: E402
from make_golden import from_bt, to_bt  # noqa: E402,F401


def torch_device():
    """The device named by MOTION_GRPO_TORCH_DEVICE (default cpu); cuda must be available."""
    name = os.environ.get("MOTION_GRPO_TORCH_DEVICE", "cpu")
    if name not in ("cpu", "cuda"):
        raise SystemExit(f"MOTION_GRPO_TORCH_DEVICE must be cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("MOTION_GRPO_TORCH_DEVICE=cuda but torch.cuda.is_available() is False")
    return torch.device(name)


def setup(device, threads):
    """Thread count (CPU work) and strict float32 matrix products (no TF32) on CUDA."""
    torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def describe(device):
    """'torch 2.11.0 cuda (NVIDIA H100 ...)' or 'torch 1.13.0 cpu, 1 thread'."""
    if device.type == "cuda":
        return f"torch {torch.__version__} cuda ({torch.cuda.get_device_name(device)})"
    n = torch.get_num_threads()
    return f"torch {torch.__version__} cpu, {n} thread{'s' if n != 1 else ''}"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def now(device):
    """perf_counter after all queued work on `device`."""
    sync(device)
    return time.perf_counter()


class Mdm(make_golden.Mdm):
    """The reference MDM with a text projection of `text_dim` inputs and its padding mask built on
    the device of its inputs (make_golden's builds it on the CPU)."""

    def __init__(self, nfeats, d, layers, heads, ff, mask_frames, text_dim=make_golden.TEXT_DIM):
        super().__init__(nfeats, d, layers, heads, ff, mask_frames)
        if text_dim != make_golden.TEXT_DIM:
            self.embed_text = nn.Linear(text_dim, d)

    def forward(self, x, t, text, cond_mask, lengths):
        nframes = x.shape[-1]
        emb = self.embed_timestep(t)
        emb = emb + self.embed_text(text * cond_mask[:, None])
        xseq = torch.cat((emb, self.input_process(x)), dim=0)
        xseq = self.sequence_pos_encoder(xseq)
        mask = None
        if self.mask_frames:
            frames = torch.arange(nframes, device=x.device)[None, :]
            pad = frames >= lengths[:, None]
            mask = torch.cat((torch.zeros_like(pad[:, :1]), pad), dim=1)
        out = self.seqTransEncoder(xseq, src_key_padding_mask=mask)[1:]
        return self.output_process(out)


def make_mdm(case, device, text_dim=make_golden.TEXT_DIM):
    return Mdm(
        case["nfeats"], case["latent"], case["layers"], case["heads"], case["ff"], case["mask_frames"], text_dim
    ).to(device)


def process_peak_bytes():
    """This process's own peak resident set: VmHWM of /proc/self/status, which starts afresh at
    exec. ru_maxrss does not: a child started by a larger process reports that process's resident
    set at the fork as its own. ru_maxrss only where /proc is missing (macOS: bytes there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024, "peak RSS (VmHWM)"
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, "peak RSS (ru_maxrss)"
