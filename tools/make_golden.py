"""Writes the MDM golden fixtures in tests/golden/mdm/, computed by real PyTorch modules, then runs
every other tools/make_golden_*.py generator with the same interpreter.

Run: /usr/bin/python3 tools/make_golden.py   (Debian's python3-torch; fixed seeds, deterministic)

The denoiser below is built from torch.nn modules with the structure and state-dict keys of MDM's
trans_enc model (GuyTevet/motion-diffusion-model, model/mdm.py; see NUMERICS.md section 1):
poseEmbedding Linear, sinusoidal pe buffer shared by the timestep embedder, time_embed
Linear-SiLU-Linear, embed_text Linear(512, d), post-norm nn.TransformerEncoder (sequence-first,
dropout 0, exact GELU), poseFinal Linear. Input [bs, F, 1, T] as in MDM; fixtures store tensors
batch-first (B, T, F), the engine's layout.

Files (all float32; integer inputs are stored as exact float32 values):
- mdm_a.pt + mdm_a_args.json: HumanML3D-shaped config (nfeats 263), no frame mask, saved as
  {'model': sd, 'model_avg': ema_sd} plus clip_model.* keys. ema_sd shares every tensor with sd
  except embed_text.bias and output_process.poseFinal.bias, so the file stays small while a loader
  that picks the wrong entry fails. All outputs below use model_avg (what MDM evaluates).
- mdm_a.safetensors: inputs, output, R, loss = sum(out * R), and grad.<key> for every parameter.
  R ~ 0.1 N(0, 1) keeps gradients of order 1 to 10, where float32 rounding stays near 1e-6.
- mdm_a_adamw.safetensors: 10 AdamW steps (lr 1e-3, wd 0.01, PyTorch defaults otherwise) on
  loss = mean((out - target)^2): losses[k] is the loss before step k; final.<key> the parameters.
- mdm_a_lora.safetensors: hand-built LoRA (W x + s B A x, s = alpha / r) on in_proj, out_proj,
  linear1, linear2 of every layer; lora.<layer>.<linear>.{A,B}, output, loss, grad of each A, B.
- mdm_b.pt + mdm_b_args.json + mdm_b.safetensors: KIT-shaped config (nfeats 251) with mask_frames
  and varied lengths; saved as a plain state dict.

The pe buffers hold 1000 rows (MDM's pos_embed_max_len defaults to 5000; the rows are the same,
fewer keep the fixture under 1 MB).
"""
import glob
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "tests", "golden", "mdm")
TEXT_DIM = 512
PE_ROWS = 1000


# ---- the reference model ------------------------------------------------------------------------

class PositionalEncoding(nn.Module):
    """MDM's sinusoidal table, float32 as torch computes it; buffer shape (max_len, 1, d)."""

    def __init__(self, d, max_len):
        super().__init__()
        pe = torch.zeros(max_len, d)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d, 2).float() * (-np.log(10000.0) / d))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):  # x [S, bs, d]
        return x + self.pe[: x.shape[0], :]


class TimestepEmbedder(nn.Module):
    def __init__(self, d, pos_encoder):
        super().__init__()
        self.sequence_pos_encoder = pos_encoder
        self.time_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))

    def forward(self, t):  # t [bs] → [1, bs, d]
        return self.time_embed(self.sequence_pos_encoder.pe[t]).permute(1, 0, 2)


class InputProcess(nn.Module):
    def __init__(self, nfeats, d):
        super().__init__()
        self.poseEmbedding = nn.Linear(nfeats, d)

    def forward(self, x):  # [bs, F, 1, T] → [T, bs, d]
        bs, nj, nf, nframes = x.shape
        x = x.permute((3, 0, 1, 2)).reshape(nframes, bs, nj * nf)
        return self.poseEmbedding(x)


class OutputProcess(nn.Module):
    def __init__(self, nfeats, d):
        super().__init__()
        self.nfeats = nfeats
        self.poseFinal = nn.Linear(d, nfeats)

    def forward(self, x):  # [T, bs, d] → [bs, F, 1, T]
        nframes, bs, _ = x.shape
        x = self.poseFinal(x).reshape(nframes, bs, self.nfeats, 1)
        return x.permute(1, 2, 3, 0)


class Mdm(nn.Module):
    def __init__(self, nfeats, d, layers, heads, ff, mask_frames):
        super().__init__()
        self.mask_frames = mask_frames
        self.input_process = InputProcess(nfeats, d)
        self.sequence_pos_encoder = PositionalEncoding(d, PE_ROWS)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation="gelu")
        self.seqTransEncoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.embed_timestep = TimestepEmbedder(d, self.sequence_pos_encoder)
        self.embed_text = nn.Linear(TEXT_DIM, d)
        self.output_process = OutputProcess(nfeats, d)

    def forward(self, x, t, text, cond_mask, lengths):
        """x [bs, F, 1, T]; t [bs] long; text [bs, 512]; cond_mask [bs] (1 cond, 0 uncond)."""
        nframes = x.shape[-1]
        emb = self.embed_timestep(t)  # [1, bs, d]
        emb = emb + self.embed_text(text * cond_mask[:, None])
        xseq = torch.cat((emb, self.input_process(x)), dim=0)  # [T+1, bs, d]
        xseq = self.sequence_pos_encoder(xseq)
        mask = None
        if self.mask_frames:
            frames = torch.arange(nframes)[None, :]
            pad = frames >= lengths[:, None]  # True = padded
            mask = torch.cat((torch.zeros_like(pad[:, :1]), pad), dim=1)  # [bs, T+1]
        out = self.seqTransEncoder(xseq, src_key_padding_mask=mask)[1:]
        return self.output_process(out)


def to_bt(x):
    """[bs, F, 1, T] → (B, T, F)."""
    return x[:, :, 0, :].permute(0, 2, 1).contiguous()


def from_bt(x):
    """(B, T, F) → [bs, F, 1, T]."""
    return x.permute(0, 2, 1).unsqueeze(2).contiguous()


def randomize(model, g):
    """Random weights with non-zero biases and LayerNorm weights away from 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def param_names(model):
    return [n for n, _ in model.named_parameters()]


# ---- hand-built LoRA layer (checked against nn.TransformerEncoderLayer when B = 0) --------------

def lora_linear(x, lin_w, lin_b, ab, scale):
    y = F.linear(x, lin_w, lin_b)
    if ab is not None:
        a, b = ab
        y = y + scale * F.linear(F.linear(x, a), b)
    return y


def lora_layer(layer, x, mask, adapters, scale, heads):
    """Post-norm encoder layer written out: x [S, bs, d], mask [bs, S] True = padded."""
    s_len, bs, d = x.shape
    hd = d // heads
    at = layer.self_attn
    qkv = lora_linear(x, at.in_proj_weight, at.in_proj_bias, adapters.get("in_proj"), scale)
    q, k, v = qkv.split(d, dim=-1)

    def split(z):  # [S, bs, d] → [bs, H, S, hd]
        return z.reshape(s_len, bs, heads, hd).permute(1, 2, 0, 3)

    q, k, v = split(q), split(k), split(v)
    att = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if mask is not None:
        att = att.masked_fill(mask[:, None, None, :], float("-inf"))
    y = att.softmax(-1) @ v  # [bs, H, S, hd]
    y = y.permute(2, 0, 1, 3).reshape(s_len, bs, d)
    y = lora_linear(y, at.out_proj.weight, at.out_proj.bias, adapters.get("out_proj"), scale)
    x = layer.norm1(x + y)
    h = F.gelu(lora_linear(x, layer.linear1.weight, layer.linear1.bias, adapters.get("linear1"), scale))
    h = lora_linear(h, layer.linear2.weight, layer.linear2.bias, adapters.get("linear2"), scale)
    return layer.norm2(x + h)


def lora_forward(model, adapters, scale, heads, x, t, text, cond_mask):
    emb = model.embed_timestep(t) + model.embed_text(text * cond_mask[:, None])
    xseq = model.sequence_pos_encoder(torch.cat((emb, model.input_process(x)), dim=0))
    for i, layer in enumerate(model.seqTransEncoder.layers):
        xseq = lora_layer(layer, xseq, None, adapters[i], scale, heads)
    return model.output_process(xseq[1:])


# ---- file writers -------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    """safetensors: u64 LE header length, JSON header (space-padded to 8), raw LE float32 data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def save_pt(path, obj):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def args_json(dataset, cfg, mask_frames, steps):
    """The fields of MDM's args.json that define the network (plus a few it always writes)."""
    return {
        "arch": "trans_enc",
        "dataset": dataset,
        "latent_dim": cfg["latent"],
        "layers": cfg["layers"],
        "ff_size": cfg["ff"],
        "heads": cfg["heads"],
        "cond_mask_prob": 0.1,
        "diffusion_steps": steps,
        "noise_schedule": "cosine",
        "mask_frames": mask_frames,
        "pos_embed_max_len": PE_ROWS,
        "text_encoder_type": "clip",
    }


def clip_dummies():
    return {"clip_model.logit_scale": torch.tensor(4.6052), "clip_model.positional_embedding": torch.zeros(4, 8)}


# ---- fixtures -----------------------------------------------------------------------------------

def make_inputs(g, B, T, nfeats, timesteps, cond_mask, lengths):
    return {
        "x": torch.randn(B, T, nfeats, generator=g),
        "t": torch.tensor(timesteps, dtype=torch.long),
        "text": torch.randn(B, TEXT_DIM, generator=g),
        "cond_mask": torch.tensor(cond_mask, dtype=torch.float32),
        "lengths": torch.tensor(lengths, dtype=torch.long),
    }


def input_tensors(inp):
    return {
        "input.x": inp["x"],
        "input.timesteps": inp["t"].float(),
        "input.text": inp["text"],
        "input.cond_mask": inp["cond_mask"],
        "input.lengths": inp["lengths"].float(),
    }


def run_model(model, inp):
    return to_bt(model(from_bt(inp["x"]), inp["t"], inp["text"], inp["cond_mask"], inp["lengths"]))


def forward_backward_fixture(model, inp, g):
    model.zero_grad()
    out = run_model(model, inp)
    r = 0.1 * torch.randn(out.shape, generator=g)
    loss = (out * r).sum()
    loss.backward()
    tensors = input_tensors(inp)
    tensors["output"] = out.detach()
    tensors["R"] = r
    tensors["loss"] = loss.detach().reshape(1)
    for name, p in model.named_parameters():
        tensors["grad." + name] = p.grad.detach().clone()
    return tensors


def adamw_fixture(model, inp, g):
    target = torch.randn(inp["x"].shape, generator=g)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.mse_loss(run_model(model, inp), target)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    tensors = {"target": target, "losses": torch.tensor(losses)}
    for name, p in model.named_parameters():
        tensors["final." + name] = p.detach().clone()
    return tensors


LORA_LINEARS = ["in_proj", "out_proj", "linear1", "linear2"]


def lora_fixture(model, inp, cfg, g):
    rank, alpha = 4, 8.0
    scale = alpha / rank
    d, ff = cfg["latent"], cfg["ff"]
    shapes = {"in_proj": (3 * d, d), "out_proj": (d, d), "linear1": (ff, d), "linear2": (d, ff)}
    model.zero_grad()
    for p in model.parameters():
        p.requires_grad_(False)
    x_, t_, text_, cm_ = from_bt(inp["x"]), inp["t"], inp["text"], inp["cond_mask"]

    # The hand-written layer equals nn.TransformerEncoderLayer when the adapters are off.
    zero = [{} for _ in range(cfg["layers"])]
    base = to_bt(lora_forward(model, zero, scale, cfg["heads"], x_, t_, text_, cm_))
    ref = run_model(model, inp)
    assert torch.allclose(base, ref, atol=1e-5, rtol=1e-5), (base - ref).abs().max()

    adapters, tensors = [], input_tensors(inp)
    for i in range(cfg["layers"]):
        ad = {}
        for lin in LORA_LINEARS:
            out_f, in_f = shapes[lin]
            a = (torch.randn(rank, in_f, generator=g) / math.sqrt(in_f)).requires_grad_(True)
            b = (0.1 * torch.randn(out_f, rank, generator=g)).requires_grad_(True)
            ad[lin] = (a, b)
            tensors[f"lora.{i}.{lin}.A"] = a.detach().clone()
            tensors[f"lora.{i}.{lin}.B"] = b.detach().clone()
        adapters.append(ad)
    out = to_bt(lora_forward(model, adapters, scale, cfg["heads"], x_, t_, text_, cm_))
    r = 0.1 * torch.randn(out.shape, generator=g)
    loss = (out * r).sum()
    loss.backward()
    tensors["output"] = out.detach()
    tensors["R"] = r
    tensors["loss"] = loss.detach().reshape(1)
    for i, ad in enumerate(adapters):
        for lin, (a, b) in ad.items():
            tensors[f"grad.lora.{i}.{lin}.A"] = a.grad.detach().clone()
            tensors[f"grad.lora.{i}.{lin}.B"] = b.grad.detach().clone()
    for p in model.parameters():
        p.requires_grad_(True)
    return tensors, {"rank": rank, "alpha": alpha}


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    g = torch.Generator().manual_seed(20240611)

    # Config A: HumanML3D shapes, attends every frame (as the 1000-step paper model).
    cfg_a = {"latent": 64, "layers": 2, "heads": 4, "ff": 128, "nfeats": 263}
    model = Mdm(cfg_a["nfeats"], cfg_a["latent"], cfg_a["layers"], cfg_a["heads"], cfg_a["ff"], False)
    model.train()  # dropout is 0: train mode equals eval and keeps torch off its fused fast path
    randomize(model, g)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sd["embed_timestep.sequence_pos_encoder.pe"] = sd["sequence_pos_encoder.pe"]  # one storage
    ema = dict(sd)
    for key in ["embed_text.bias", "output_process.poseFinal.bias"]:
        ema[key] = sd[key] + 0.05 * torch.randn(sd[key].shape, generator=g)
    sd.update(clip_dummies())
    ema.update(clip_dummies())
    save_pt(os.path.join(OUT_DIR, "mdm_a.pt"), {"model": sd, "model_avg": ema})
    write_json(os.path.join(OUT_DIR, "mdm_a_args.json"), args_json("humanml", cfg_a, False, 1000))
    model.load_state_dict({k: v for k, v in ema.items() if not k.startswith("clip_model.")})

    B, T = 3, 20
    inp = make_inputs(g, B, T, cfg_a["nfeats"], [999, 37, 0], [1.0, 0.0, 1.0], [T, T, T])
    fwd = forward_backward_fixture(model, inp, g)
    write_safetensors(os.path.join(OUT_DIR, "mdm_a.safetensors"), fwd, {"checkpoint": "mdm_a.pt"})

    lora, meta = lora_fixture(model, inp, cfg_a, g)
    write_safetensors(os.path.join(OUT_DIR, "mdm_a_lora.safetensors"), lora, meta)

    state = {k: v.clone() for k, v in model.state_dict().items()}
    adam = adamw_fixture(model, inp, g)
    adam.update(input_tensors(inp))
    write_safetensors(os.path.join(OUT_DIR, "mdm_a_adamw.safetensors"), adam,
                      {"lr": 1e-3, "weight_decay": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8})
    model.load_state_dict(state)

    # Config B: KIT shapes, key padding mask from lengths (as models trained with --mask_frames).
    cfg_b = {"latent": 64, "layers": 2, "heads": 4, "ff": 128, "nfeats": 251}
    model = Mdm(cfg_b["nfeats"], cfg_b["latent"], cfg_b["layers"], cfg_b["heads"], cfg_b["ff"], True)
    model.train()
    randomize(model, g)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sd["embed_timestep.sequence_pos_encoder.pe"] = sd["sequence_pos_encoder.pe"]
    sd.update(clip_dummies())
    save_pt(os.path.join(OUT_DIR, "mdm_b.pt"), sd)
    write_json(os.path.join(OUT_DIR, "mdm_b_args.json"), args_json("kit", cfg_b, True, 50))
    inp = make_inputs(g, B, T, cfg_b["nfeats"], [49, 10, 3], [1.0, 1.0, 0.0], [20, 13, 7])
    fwd = forward_backward_fixture(model, inp, g)
    write_safetensors(os.path.join(OUT_DIR, "mdm_b.safetensors"), fwd, {"checkpoint": "mdm_b.pt"})

    for path in sorted(glob.glob(os.path.join(OUT_DIR, "*"))):
        print(f"{os.path.relpath(path, os.path.join(HERE, '..'))}: {os.path.getsize(path)} bytes")

    # The other fixture generators, so one command regenerates every fixture.
    for script in sorted(glob.glob(os.path.join(HERE, "make_golden_*.py"))):
        subprocess.run([sys.executable, script], check=True)
    for script in ["make_pt_fixtures.py", "make_metric_fixtures.py", "make_evaluator_golden.py"]:
        if os.path.exists(os.path.join(HERE, script)):
            subprocess.run([sys.executable, os.path.join(HERE, script)], check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "motion_ref.py"), "make-golden",
                    os.path.join(HERE, "..", "tests", "golden", "motion")], check=True)


if __name__ == "__main__":
    main()
