"""Writes the TMR golden fixtures in tests/golden/tmr/, computed by real PyTorch modules.

Run: /usr/bin/python3 tools/make_golden_tmr.py   (Debian's python3-torch; fixed seed, deterministic)

The encoder below is built from torch.nn modules with the structure and state-dict keys of TMR's
ACTORStyleEncoder (Mathux/TMR, src/model/actor.py; NUMERICS.md section 7): Linear `projection`,
learned `tokens` (2, d) prepended (vae), a batch-first sinusoidal table added to the sequence
(a non-persistent buffer: not in the state dict), post-norm nn.TransformerEncoder (batch-first,
dropout 0, exact GELU) with a key padding mask (tokens always valid); output token 0 = mu,
token 1 = logvar. Small sizes: latent 32, ff 64, 2 layers, 4 heads.

The contrastive loss is TMR's InfoNCE_with_filtering (src/model/losses.py) with the TMR config's
temperature 0.1 and threshold_selfsim 0.8: cosine similarity / temperature, off-diagonal pairs
whose sentence embeddings have a dot product above 2 * 0.8 - 1 set to -inf, symmetric
cross-entropy averaged. Inputs are the mu's (x = text, y = motion, as TMR calls it).

Files:
- tmr_motion.pt, tmr_text.pt: plain float32 state dicts (motion nfeats 263, text nfeats 48).
- tmr_single.pt: an encoder without vae (one token: mu only), nfeats 12, 1 layer.
- stats/mean.pt, stats/std.pt: the motion statistics as TMR stores them (plain tensors).
- tmr_golden.safetensors (float32; integer inputs stored as exact float32 values):
  motion.raw (B, T, 263), motion.mean, motion.std (263), motion.x = (raw - mean) / (std + 1e-12)
  in float32 as TMR's Normalizer, motion.lengths (B); text.x (B, L, 48), text.lengths (B);
  padded frames hold random values (they must not matter);
  sent_emb (B, E) unit rows, rows 0 and 2 near-duplicates (filtered);
  {motion,text}.{mu,logvar} (B, 32);
  loss.contrastive, loss.contrastive_nofilter (1); loss.dmu_text, loss.dmu_motion (B, 32): the
  filtered loss's gradient w.r.t. each mu;
  R.motion_logvar, R.text_logvar (B, 32); total = contrastive + sum(R.m * logvar_m) +
  sum(R.t * logvar_t); grad.motion.<key>, grad.text.<key> for every parameter and
  grad.motion.input (B, T, 263) = d total / d motion.x;
  single.x (B, L, 12) with text.lengths, single.mu (B, 32), R.single_mu (B, 32), and
  grad.single.<key> of sum(R.single_mu * single.mu).
The reference runs in float64 (weights and inputs are the float32 values saved) so the fixture
holds the exact answer to float32 rounding of the outputs.
"""
import json
import math
import os
import struct

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "tests", "golden", "tmr")

LATENT, FF, LAYERS, HEADS = 32, 64, 2, 4
B, T_MOTION, L_TEXT, E_SENT = 4, 10, 8, 16
MOTION_LENGTHS = [10, 6, 8, 3]
TEXT_LENGTHS = [8, 5, 3, 7]
TEMPERATURE, THRESHOLD = 0.1, 0.8


class SinusoidalTable(nn.Module):
    """TMR's PositionalEncoding in batch-first use: adds pe[:S] to every sequence."""

    def __init__(self, d, max_len=5000):
        super().__init__()
        pe = torch.zeros(max_len, d)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d, 2).float() * (-np.log(10000.0) / d))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe, persistent=False)  # (max_len, d)

    def forward(self, x):  # (B, S, d)
        return x + self.pe[None, : x.shape[1], :].to(x.dtype)


class ActorStyleEncoder(nn.Module):
    def __init__(self, nfeats, vae=True, num_layers=LAYERS):
        super().__init__()
        self.nbtokens = 2 if vae else 1
        self.projection = nn.Linear(nfeats, LATENT)
        self.tokens = nn.Parameter(torch.randn(self.nbtokens, LATENT))
        self.sequence_pos_encoding = SinusoidalTable(LATENT)
        layer = nn.TransformerEncoderLayer(
            d_model=LATENT,
            nhead=HEADS,
            dim_feedforward=FF,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
        )
        self.seqTransEncoder = nn.TransformerEncoder(
            layer, num_layers=num_layers, enable_nested_tensor=False
        )

    def forward(self, x, mask):  # x (B, T, F), mask (B, T) bool, True = valid
        bs = x.shape[0]
        z = self.projection(x)
        tokens = self.tokens[None].expand(bs, -1, -1)
        seq = self.sequence_pos_encoding(torch.cat((tokens, z), 1))
        token_mask = torch.ones((bs, self.nbtokens), dtype=torch.bool)
        aug = torch.cat((token_mask, mask), 1)
        out = self.seqTransEncoder(seq, src_key_padding_mask=~aug)
        return out[:, : self.nbtokens]  # (B, nbtokens, d)


def randomize(model, g):
    """nn.TransformerEncoder deep-copies one layer, so every layer starts identical and LayerNorms
    start at (1, 0): perturb every parameter so that a swapped or skipped one shows."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))


def length_mask(lengths, T):
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T)


def info_nce(x, y, sent_emb, temperature, threshold):
    """TMR's InfoNCE_with_filtering, written out: cosine / temperature, -inf where the sentence
    embeddings of two different samples are too similar, symmetric cross-entropy."""
    sim = F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).T / temperature
    if sent_emb is not None and threshold:
        real = 2 * threshold - 1
        selfsim = sent_emb @ sent_emb.T
        nodiag = selfsim - torch.diag(torch.diag(selfsim))
        sim = sim.masked_fill(nodiag > real, -math.inf)
    labels = torch.arange(x.shape[0])
    return (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels)) / 2


def write_safetensors(path, tensors):
    """safetensors: u64 LE header length, JSON header (space-padded to 8), raw LE float32 data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        raw = a.tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def save_pt(path, sd):
    tmp = path + ".tmp"
    torch.save(sd, tmp)
    os.replace(tmp, path)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)

    motion_enc = ActorStyleEncoder(263)
    text_enc = ActorStyleEncoder(48)
    single = ActorStyleEncoder(12, vae=False, num_layers=1)
    randomize(motion_enc, g)
    randomize(text_enc, g)
    randomize(single, g)
    for name, enc in (("motion", motion_enc), ("text", text_enc), ("single", single)):
        sd = {k: v.detach().clone().float().contiguous() for k, v in enc.state_dict().items()}
        save_pt(os.path.join(OUT_DIR, f"tmr_{name}.pt"), sd)

    # Inputs (float32), padded positions filled with random values.
    # Statistics such that the normalised input is about N(0, 1), as TMR's encoders see it.
    mean = torch.randn(263, generator=g) * 0.5
    std = torch.rand(263, generator=g) + 0.5
    raw = mean + std * torch.randn(B, T_MOTION, 263, generator=g)
    motion_x = (raw - mean) / (std + 1e-12)  # float32, as TMR's Normalizer
    text_x = torch.randn(B, L_TEXT, 48, generator=g)
    stats_dir = os.path.join(OUT_DIR, "stats")
    os.makedirs(stats_dir, exist_ok=True)
    save_pt(os.path.join(stats_dir, "mean.pt"), mean.clone())
    save_pt(os.path.join(stats_dir, "std.pt"), std.clone())
    single_x = torch.randn(B, L_TEXT, 12, generator=g)
    sent = torch.randn(B, E_SENT, generator=g)
    sent[2] = sent[0] + 0.1 * torch.randn(E_SENT, generator=g)
    sent = F.normalize(sent, dim=-1)
    m_mask = length_mask(MOTION_LENGTHS, T_MOTION)
    t_mask = length_mask(TEXT_LENGTHS, L_TEXT)

    # Reference in float64.
    motion_enc.double()
    text_enc.double()
    motion_enc.eval()
    text_enc.eval()
    mx = motion_x.double().requires_grad_(True)
    m_out = motion_enc(mx, m_mask)
    t_out = text_enc(text_x.double(), t_mask)
    mu_m, logvar_m = m_out[:, 0], m_out[:, 1]
    mu_t, logvar_t = t_out[:, 0], t_out[:, 1]

    mu_t_leaf = mu_t.detach().clone().requires_grad_(True)
    mu_m_leaf = mu_m.detach().clone().requires_grad_(True)
    loss = info_nce(mu_t_leaf, mu_m_leaf, sent.double(), TEMPERATURE, THRESHOLD)
    loss.backward()
    with torch.no_grad():
        loss_nofilter = info_nce(mu_t, mu_m, None, TEMPERATURE, THRESHOLD)

    r_m = 0.1 * torch.randn(B, LATENT, generator=g)
    r_t = 0.1 * torch.randn(B, LATENT, generator=g)
    total = (
        info_nce(mu_t, mu_m, sent.double(), TEMPERATURE, THRESHOLD)
        + (r_m.double() * logvar_m).sum()
        + (r_t.double() * logvar_t).sum()
    )
    total.backward()

    single.double()
    single.eval()
    single_mu = single(single_x.double(), t_mask)[:, 0]
    r_single = 0.1 * torch.randn(B, LATENT, generator=g)
    (r_single.double() * single_mu).sum().backward()

    out = {
        "motion.raw": raw,
        "motion.mean": mean,
        "motion.std": std,
        "motion.x": motion_x,
        "motion.lengths": torch.tensor(MOTION_LENGTHS, dtype=torch.float32),
        "text.x": text_x,
        "text.lengths": torch.tensor(TEXT_LENGTHS, dtype=torch.float32),
        "sent_emb": sent,
        "motion.mu": mu_m,
        "motion.logvar": logvar_m,
        "text.mu": mu_t,
        "text.logvar": logvar_t,
        "loss.contrastive": loss.reshape(1),
        "loss.contrastive_nofilter": loss_nofilter.reshape(1),
        "loss.dmu_text": mu_t_leaf.grad,
        "loss.dmu_motion": mu_m_leaf.grad,
        "R.motion_logvar": r_m,
        "R.text_logvar": r_t,
        "grad.motion.input": mx.grad,
        "single.x": single_x,
        "single.mu": single_mu,
        "R.single_mu": r_single,
    }
    for side, enc in (("motion", motion_enc), ("text", text_enc), ("single", single)):
        for name, p in enc.named_parameters():
            out[f"grad.{side}.{name}"] = p.grad
    write_safetensors(os.path.join(OUT_DIR, "tmr_golden.safetensors"), out)
    print(f"loss {loss.item():.6f} (no filter {loss_nofilter.item():.6f})")


if __name__ == "__main__":
    main()
