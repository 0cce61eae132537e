#!/usr/bin/python3
"""Golden fixtures for the ONNX converters: the T2M evaluator (onnx/t2m_evaluator.ts) and the
TMR encoder (onnx/tmr_encoder.ts).

Builds the three evaluator networks of Guo et al. (movement conv encoder, motion bi-GRU encoder,
text bi-GRU encoder) from torch.nn modules with the same layer structure and parameter names as
the public checkpoint `finest.tar`, at small sizes and random weights (fixed seed), and writes:

  tests/golden/onnx/t2m_evaluator.tar     {'movement_encoder', 'text_encoder', 'motion_encoder'}
  tests/golden/onnx/t2m_evaluator_io.pt   inputs of varied lengths and the PyTorch outputs

and for TMR's ACTORStyleEncoder (projection, 2 learned tokens, sinusoidal positions, post-norm
batch-first TransformerEncoder with a key padding mask):

  tests/golden/onnx/tmr_encoder.pt        plain state dict, as TMR's motion_encoder.pt
  tests/golden/onnx/tmr_encoder_io.pt     inputs (x, lengths) and outputs (mu, logvar)

The motion path follows MDM's evaluator wrapper: samples sorted by decreasing length, foot
contacts (last 4 features) dropped, movement encoder, lengths // 4, motion encoder over the packed
movements. The text path packs the summed word/POS embeddings by caption length.

Run: /usr/bin/python3 tools/make_evaluator_golden.py
"""
import math
import os

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "onnx")

# Small sizes for the fixture; the real evaluator uses 263/512/512, 512/1024/512, 300/15/512/512.
POSE_DIM = 263  # features incl. 4 foot contacts
MOVE_HIDDEN, MOVE_LATENT = 24, 20
MOTION_HIDDEN, MOTION_OUT = 16, 12
WORD_DIM, POS_DIM, TEXT_HIDDEN, TEXT_OUT = 300, 15, 16, 12
UNIT_LENGTH = 4


class MovementEncoder(nn.Module):
    """Conv1d(k4, s2, p1) → Dropout → LeakyReLU(0.2), twice, then Linear; input (B, T, C)."""

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv1d(d_in, hidden, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, d_out, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2))
        self.out_net = nn.Linear(d_out, d_out)

    def forward(self, x):
        return self.out_net(self.main(x.transpose(1, 2)).transpose(1, 2))


def output_head(hidden, d_out):
    return nn.Sequential(
        nn.Linear(2 * hidden, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, d_out))


class MotionEncoder(nn.Module):
    """input_emb → packed bi-GRU from a learned initial state → head on both final states."""

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.input_emb = nn.Linear(d_in, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.output_net = output_head(hidden, d_out)
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden))

    def forward(self, x, lengths):
        h0 = self.hidden.repeat(1, x.shape[0], 1)
        packed = pack_padded_sequence(self.input_emb(x), lengths.tolist(), batch_first=True)
        _, h_n = self.gru(packed, h0)
        return self.output_net(torch.cat([h_n[0], h_n[1]], dim=-1))


class TextEncoder(nn.Module):
    """(word + pos_emb(pos)) → input_emb → packed bi-GRU → head on both final states."""

    def __init__(self, word, pos, hidden, d_out):
        super().__init__()
        self.pos_emb = nn.Linear(pos, word)
        self.input_emb = nn.Linear(word, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.output_net = output_head(hidden, d_out)
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden))

    def forward(self, word, pos, lengths):
        x = self.input_emb(word + self.pos_emb(pos))
        h0 = self.hidden.repeat(1, x.shape[0], 1)
        packed = pack_padded_sequence(x, lengths.tolist(), batch_first=True)
        _, h_n = self.gru(packed, h0)
        return self.output_net(torch.cat([h_n[0], h_n[1]], dim=-1))


class PositionalEncoding(nn.Module):
    """TMR's batch-first sinusoidal table: pe[p, 2i] = sin(p div_i), pe[p, 2i+1] = cos(p div_i)."""

    def __init__(self, d_model, max_len=5000):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        return x + self.pe[None, : x.shape[1]]


class ActorStyleEncoder(nn.Module):
    """TMR's encoder: tokens + projected inputs, positions, TransformerEncoder, token outputs."""

    def __init__(self, nfeats, latent, ff, layers, heads, n_tokens=2):
        super().__init__()
        self.projection = nn.Linear(nfeats, latent)
        self.tokens = nn.Parameter(torch.randn(n_tokens, latent))
        self.sequence_pos_encoding = PositionalEncoding(latent)
        layer = nn.TransformerEncoderLayer(latent, heads, ff, dropout=0.1, activation="gelu",
                                           batch_first=True)
        self.seqTransEncoder = nn.TransformerEncoder(layer, num_layers=layers)

    def forward(self, x, lengths):
        bs, t = x.shape[:2]
        h = torch.cat([self.tokens[None].expand(bs, -1, -1), self.projection(x)], 1)
        valid = torch.arange(t)[None] < lengths[:, None]
        valid = torch.cat([torch.ones(bs, self.tokens.shape[0], dtype=torch.bool), valid], 1)
        h = self.sequence_pos_encoding(h)
        out = self.seqTransEncoder(h, src_key_padding_mask=~valid)
        return out[:, 0], out[:, 1]


def randomise(module):
    # Default inits leave LayerNorm at (1, 0) and biases small: perturb everything so that a
    # swapped gate, a missing bias or an unscaled norm shows in the outputs.
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))


def main():
    torch.manual_seed(20240611)
    mov = MovementEncoder(POSE_DIM - 4, MOVE_HIDDEN, MOVE_LATENT)
    mot = MotionEncoder(MOVE_LATENT, MOTION_HIDDEN, MOTION_OUT)
    txt = TextEncoder(WORD_DIM, POS_DIM, TEXT_HIDDEN, TEXT_OUT)
    for m in (mov, mot, txt):
        randomise(m)
        m.eval()

    # Motions: (B, T, 263), lengths decreasing as pack_padded_sequence wants; not all multiples
    # of 4, and the padding holds non-zero values that must not leak into the GRU states.
    B, T = 4, 40
    motion = torch.randn(B, T, POSE_DIM)
    motion_lengths = torch.tensor([40, 33, 24, 13], dtype=torch.int64)
    # Words: (B, L, 300) + one-hot POS (B, L, 15), caption lengths decreasing.
    L = 9
    word = torch.randn(B, L, WORD_DIM)
    pos = torch.nn.functional.one_hot(torch.randint(0, POS_DIM, (B, L)), POS_DIM).float()
    text_lengths = torch.tensor([9, 7, 4, 2], dtype=torch.int64)

    with torch.no_grad():
        movements = mov(motion[..., :-4])  # (B, T/4, MOVE_LATENT)
        motion_emb = mot(movements, motion_lengths // UNIT_LENGTH)  # (B, MOTION_OUT)
        text_emb = txt(word, pos, text_lengths)  # (B, TEXT_OUT)

    os.makedirs(OUT_DIR, exist_ok=True)
    torch.save(
        {
            "movement_encoder": mov.state_dict(),
            "text_encoder": txt.state_dict(),
            "motion_encoder": mot.state_dict(),
        },
        os.path.join(OUT_DIR, "t2m_evaluator.tar"))
    torch.save(
        {
            "motion": motion,
            "motion_lengths": motion_lengths,
            "movements": movements,
            "motion_embedding": motion_emb,
            "word_embs": word,
            "pos_onehot": pos,
            "text_lengths": text_lengths,
            "text_embedding": text_emb,
        },
        os.path.join(OUT_DIR, "t2m_evaluator_io.pt"))
    print("wrote", OUT_DIR, "motion_emb[0,:4] =", motion_emb[0, :4].tolist())

    # TMR encoder: small sizes (TMR: 263 or 768 → 256, ff 1024, 6 layers, 4 heads).
    tmr = ActorStyleEncoder(nfeats=20, latent=32, ff=48, layers=2, heads=4)
    randomise(tmr)
    tmr.eval()
    # Lengths in no particular order; padding rows hold noise that the mask must hide.
    x = torch.randn(3, 11, 20)
    lengths = torch.tensor([7, 11, 3], dtype=torch.int64)
    with torch.no_grad():
        mu, logvar = tmr(x, lengths)
    torch.save(tmr.state_dict(), os.path.join(OUT_DIR, "tmr_encoder.pt"))
    torch.save({"x": x, "lengths": lengths, "mu": mu, "logvar": logvar},
               os.path.join(OUT_DIR, "tmr_encoder_io.pt"))
    print("tmr mu[0,:4] =", mu[0, :4].tolist())


if __name__ == "__main__":
    main()
