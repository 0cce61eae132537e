"""Writes the text-encoder golden fixtures in tests/golden/text/, computed by real PyTorch modules.

Run: /usr/bin/python3 tools/make_text_fixtures.py   (Debian's python3-torch 1.13; fixed seeds,
deterministic: running it twice gives byte-identical files)

Two TINY networks with the architectures of the official text models, seeded random weights:

- clip/text_model.onnx: the CLIP text tower (OpenAI CLIP `encode_text`, which HF's
  CLIPTextModelWithProjection reproduces): token + learned position embeddings (77 rows),
  pre-norm causal transformer blocks (x + attn(ln_1 x); x + mlp(ln_2 x), mlp = c_fc, QuickGELU
  x*sigmoid(1.702x), c_proj), ln_final, the row at argmax(input_ids) (the end-of-text token has the
  largest id), times text_projection (no bias). Input `input_ids` int64 (N, L); outputs
  `text_embeds` (N, P) and `last_hidden_state` (N, L, W).
- distilbert/model.onnx: DistilBERT (HF DistilBertModel): word + position embeddings, LayerNorm
  (eps 1e-12), post-norm blocks (sa_layer_norm(x + attn(x, mask)); output_layer_norm(h +
  lin2(gelu(lin1 h))), exact erf GELU), attention scores of masked keys set to the float32 minimum.
  Inputs `input_ids`, `attention_mask` int64 (N, L); output `last_hidden_state` (N, L, W).

Both are exported with torch.onnx.export (opset 14, dynamic batch and length axes). Beside each,
a hand-made HuggingFace tokenizer.json with a tiny vocabulary of the same tokenizer type
(CLIP: byte-level BPE with "</w>" word ends; DistilBERT: uncased WordPiece with "##" pieces).

tmr/: a tiny official-TMR folder (make_golden_tmr.py's ACTORStyleEncoder: latent 32, 2 layers):
text_encoder.pt reads the tiny DistilBERT's 32-wide hidden states, motion_encoder.pt 263-dim
motions; mean.pt / std.pt the motion statistics as TMR stores them (plain tensors). No
motion_decoder.pt (rewards never use it).

golden.json holds, per model, the texts, the token ids the tokenizer must give (written by hand
here from the vocabularies below, the known answers) and PyTorch's outputs on those ids:
- clip: ids follow MDM's rule (at most 22 tokens: start, 20 text tokens, end) zero-padded to 77;
  text_embeds (N, 16) of the padded (N, 77) batch.
- distilbert: ids with [CLS]/[SEP] (truncated to the 16 positions of the tiny model), run as one
  zero-padded batch with its attention mask; last_hidden_state rows of the valid tokens only.
"""
import hashlib
import json
import math
import os

import torch
from torch import nn

import make_golden_tmr as tmr_ref  # ActorStyleEncoder (TMR's architecture), randomize, length_mask

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "text")

# ---- CLIP-architecture text tower --------------------------------------------------------------

LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
CLIP_BASE = LETTERS + ["!", ","]
CLIP_MERGES = [
    ("m", "a"), ("ma", "n</w>"), ("w", "a"), ("wa", "l"), ("wal", "k"), ("walk", "s</w>"),
    ("t", "h"), ("th", "e</w>"), ("p", "e"), ("pe", "r"), ("s", "o"), ("per", "so"),
    ("perso", "n</w>"), ("j", "u"), ("ju", "m"),
]


def clip_vocab():
    vocab = {}
    for t in CLIP_BASE:
        vocab[t] = len(vocab)
    for t in CLIP_BASE:
        vocab[t + "</w>"] = len(vocab)
    for a, b in CLIP_MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def clip_tokenizer_json(vocab):
    special = lambda tok: {  # noqa: E731
        "id": vocab[tok], "content": tok, "single_word": False, "lstrip": False,
        "rstrip": False, "normalized": True, "special": True,
    }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special("<|startoftext|>"), special("<|endoftext|>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"},
        ]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": (
                "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|"
                "[\\p{N}]|[^\\s\\p{L}\\p{N}]+")}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False},
        ]},
        "post_processor": {"type": "RobertaProcessing",
                           "sep": ["<|endoftext|>", vocab["<|endoftext|>"]],
                           "cls": ["<|startoftext|>", vocab["<|startoftext|>"]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>",
                  "continuing_subword_prefix": "", "end_of_word_suffix": "</w>",
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [f"{a} {b}" for a, b in CLIP_MERGES]},
    }


class ClipBlock(nn.Module):
    def __init__(self, w, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(w)
        self.qkv = nn.Linear(w, 3 * w)
        self.out = nn.Linear(w, w)
        self.ln_2 = nn.LayerNorm(w)
        self.c_fc = nn.Linear(w, 4 * w)
        self.c_proj = nn.Linear(4 * w, w)

    def attn(self, x):
        n, l, w = x.shape
        h, dh = self.heads, w // self.heads
        q, k, v = self.qkv(x).reshape(n, l, 3, h, dh).permute(2, 0, 3, 1, 4)
        s = (q * (1.0 / math.sqrt(dh))) @ k.transpose(-1, -2)  # (n, h, l, l)
        pos = torch.arange(l)
        causal = pos[None, :] > pos[:, None]  # key after query
        s = s.masked_fill(causal, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v  # (n, h, l, dh)
        return self.out(o.permute(0, 2, 1, 3).reshape(n, l, w))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        y = self.c_fc(self.ln_2(x))
        return x + self.c_proj(y * torch.sigmoid(1.702 * y))


class TinyClipText(nn.Module):
    def __init__(self, vocab, ctx=77, w=32, heads=4, layers=2, proj=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, w)
        self.positional_embedding = nn.Parameter(torch.randn(ctx, w) * 0.1)
        self.blocks = nn.ModuleList([ClipBlock(w, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(torch.randn(w, proj) / math.sqrt(w))

    def forward(self, input_ids):
        l = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.positional_embedding[:l]
        for b in self.blocks:
            x = b(x)
        x = self.ln_final(x)
        eot = input_ids.argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eot]
        return pooled @ self.text_projection, x


# ---- DistilBERT-architecture encoder ------------------------------------------------------------

BERT_TOKENS = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "man", "walk", "##s", "the", "person",
    "jump", "##ed", "!", ",", "forward", "##ly", "slow", ".", "turn", "left",
]


def bert_vocab():
    return {t: i for i, t in enumerate(BERT_TOKENS)}


def bert_tokenizer_json(vocab):
    special = lambda tok: {  # noqa: E731
        "id": vocab[tok], "content": tok, "single_word": False, "lstrip": False,
        "rstrip": False, "normalized": False, "special": True,
    }
    seq = lambda: {"Sequence": {"id": "A", "type_id": 0}}  # noqa: E731
    tok = lambda t: {"SpecialToken": {"id": t, "type_id": 0}}  # noqa: E731
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(t) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]],
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [tok("[CLS]"), seq(), tok("[SEP]")],
            "pair": [tok("[CLS]"), seq(), tok("[SEP]"),
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [vocab["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [vocab["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


class BertBlock(nn.Module):
    def __init__(self, w, heads, ff):
        super().__init__()
        self.heads = heads
        self.q_lin = nn.Linear(w, w)
        self.k_lin = nn.Linear(w, w)
        self.v_lin = nn.Linear(w, w)
        self.out_lin = nn.Linear(w, w)
        self.sa_layer_norm = nn.LayerNorm(w, eps=1e-12)
        self.lin1 = nn.Linear(w, ff)
        self.lin2 = nn.Linear(ff, w)
        self.output_layer_norm = nn.LayerNorm(w, eps=1e-12)

    def forward(self, x, mask):
        n, l, w = x.shape
        h, dh = self.heads, w // self.heads
        split = lambda t: t.reshape(n, l, h, dh).transpose(1, 2)  # noqa: E731
        q = split(self.q_lin(x)) / math.sqrt(dh)
        k, v = split(self.k_lin(x)), split(self.v_lin(x))
        s = q @ k.transpose(-1, -2)  # (n, h, l, l)
        s = s.masked_fill((mask == 0)[:, None, None, :], torch.finfo(s.dtype).min)
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(n, l, w)
        hsa = self.sa_layer_norm(self.out_lin(o) + x)
        ffn = self.lin2(nn.functional.gelu(self.lin1(hsa)))
        return self.output_layer_norm(ffn + hsa)


class TinyDistilBert(nn.Module):
    def __init__(self, vocab, positions=16, w=32, heads=4, ff=64, layers=2):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, w)
        self.position_embeddings = nn.Embedding(positions, w)
        self.LayerNorm = nn.LayerNorm(w, eps=1e-12)
        self.blocks = nn.ModuleList([BertBlock(w, heads, ff) for _ in range(layers)])

    def forward(self, input_ids, attention_mask):
        l = input_ids.shape[1]
        pos = torch.arange(l)[None, :]
        x = self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(pos))
        for b in self.blocks:
            x = b(x, attention_mask)
        return x


# ---- cases (ids written by hand from the vocabularies above) ------------------------------------

def clip_cases(v):
    sot, eot = v["<|startoftext|>"], v["<|endoftext|>"]
    the, man, walks = v["the</w>"], v["man</w>"], v["walks</w>"]
    long_text = " ".join(["the man walks"] * 8)  # 24 BPE tokens > 20: truncated
    return [
        # "forward": f o r w a r d</w> -> only (w, a) merges
        ("a man walks forward",
         [sot, v["a</w>"], man, walks, v["f"], v["o"], v["r"], v["wa"], v["r"], v["d</w>"], eot]),
        # lowercased; "person" merges by rank (p e), (pe r), (s o), (per so), (perso n</w>)
        ("The PERSON jumps!",
         [sot, the, v["person</w>"], v["jum"], v["p"], v["s</w>"], v["!</w>"], eot]),
        # whitespace runs collapse; punctuation is its own word
        ("  the\tman,   walks ", [sot, the, man, v[",</w>"], walks, eot]),
        (long_text, [sot] + [the, man, walks] * 6 + [the, man] + [eot]),
        ("", [sot, eot]),
    ]


def bert_cases(v):
    cls, sep = v["[CLS]"], v["[SEP]"]
    long_text = " ".join(["a man walks forward"] * 5)  # 25 word pieces > 14: truncated
    return [
        ("A man walks forward.",
         [cls, v["a"], v["man"], v["walk"], v["##s"], v["forward"], v["."], sep]),
        ("The person jumped slowly!",
         [cls, v["the"], v["person"], v["jump"], v["##ed"], v["slow"], v["##ly"], v["!"], sep]),
        ("turn LEFT,walk", [cls, v["turn"], v["left"], v[","], v["walk"], sep]),
        ("a dog jumps", [cls, v["a"], v["[UNK]"], v["jump"], v["##s"], sep]),
        (long_text, [cls] + [v["a"], v["man"], v["walk"], v["##s"], v["forward"]] * 2 +
         [v["a"], v["man"], v["walk"], v["##s"]] + [sep]),
    ]


def export(model, args, path, inputs, outputs, axes):
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)


def floats(t):
    return [float(x) for x in t.reshape(-1).tolist()]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    torch.manual_seed(20260101)
    os.makedirs(os.path.join(OUT, "clip"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "distilbert"), exist_ok=True)
    golden = {}

    cv = clip_vocab()
    clip = TinyClipText(len(cv)).eval()
    for p in clip.parameters():  # LayerNorm weights away from 1 so they matter
        if p.dim() == 1:
            p.data.add_(torch.randn_like(p) * 0.1)
    cases = clip_cases(cv)
    ids = torch.zeros(len(cases), 77, dtype=torch.int64)
    for i, (_, row) in enumerate(cases):
        ids[i, :len(row)] = torch.tensor(row)
    with torch.no_grad():
        emb, _ = clip(ids)
    path = os.path.join(OUT, "clip", "text_model.onnx")
    export(clip, (ids,), path, ["input_ids"], ["text_embeds", "last_hidden_state"],
           {"input_ids": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"},
            "last_hidden_state": {0: "batch", 1: "sequence"}})
    with open(os.path.join(OUT, "clip", "tokenizer.json"), "w") as f:
        json.dump(clip_tokenizer_json(cv), f, indent=1, ensure_ascii=False)
    golden["clip"] = {
        "dim": int(emb.shape[1]),
        "context_length": 77,
        "cases": [{"text": t, "ids": row, "text_embeds": floats(emb[i])}
                  for i, (t, row) in enumerate(cases)],
    }

    bv = bert_vocab()
    bert = TinyDistilBert(len(bv)).eval()
    for p in bert.parameters():
        if p.dim() == 1:
            p.data.add_(torch.randn_like(p) * 0.1)
    cases = bert_cases(bv)
    lmax = max(len(r) for _, r in cases)
    ids = torch.zeros(len(cases), lmax, dtype=torch.int64)
    mask = torch.zeros(len(cases), lmax, dtype=torch.int64)
    for i, (_, row) in enumerate(cases):
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    with torch.no_grad():
        hidden = bert(ids, mask)
    path = os.path.join(OUT, "distilbert", "model.onnx")
    export(bert, (ids, mask), path, ["input_ids", "attention_mask"], ["last_hidden_state"],
           {"input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "last_hidden_state": {0: "batch", 1: "sequence"}})
    with open(os.path.join(OUT, "distilbert", "tokenizer.json"), "w") as f:
        json.dump(bert_tokenizer_json(bv), f, indent=1, ensure_ascii=False)
    golden["distilbert"] = {
        "dim": int(hidden.shape[2]),
        "max_length": 16,
        "cases": [{"text": t, "ids": row, "last_hidden_state": floats(hidden[i, :len(row)])}
                  for i, (t, row) in enumerate(cases)],
    }

    # TMR on the DistilBERT features: mu of every text (all tokens valid up to each length).
    g = torch.Generator().manual_seed(7)
    text_enc = tmr_ref.ActorStyleEncoder(int(hidden.shape[2])).eval()
    motion_enc = tmr_ref.ActorStyleEncoder(263).eval()
    tmr_ref.randomize(text_enc, g)
    tmr_ref.randomize(motion_enc, g)
    lengths = [len(r) for _, r in cases]
    with torch.no_grad():
        text_mu = text_enc(hidden, tmr_ref.length_mask(lengths, lmax))[:, 0]
    mean = torch.randn(263, generator=g) * 0.5
    std = torch.rand(263, generator=g) + 0.5
    motion_lengths = [10, 4, 7]
    raw = torch.randn(len(motion_lengths), 10, 263, generator=g) * std + mean
    with torch.no_grad():
        x = (raw - mean) / (std + 1e-12)
        motion_mu = motion_enc(x, tmr_ref.length_mask(motion_lengths, 10))[:, 0]
    os.makedirs(os.path.join(OUT, "tmr"), exist_ok=True)
    torch.save(text_enc.state_dict(), os.path.join(OUT, "tmr", "text_encoder.pt"))
    torch.save(motion_enc.state_dict(), os.path.join(OUT, "tmr", "motion_encoder.pt"))
    torch.save(mean.clone(), os.path.join(OUT, "tmr", "mean.pt"))
    torch.save(std.clone(), os.path.join(OUT, "tmr", "std.pt"))
    golden["tmr"] = {
        "text_mu": floats(text_mu),
        "motion_raw": floats(raw),
        "motion_lengths": motion_lengths,
        "motion_frames": 10,
        "motion_mu": floats(motion_mu),
    }

    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
    for sub in ["clip/text_model.onnx", "distilbert/model.onnx", "tmr/text_encoder.pt",
                "tmr/motion_encoder.pt", "golden.json"]:
        p = os.path.join(OUT, sub)
        print(f"{sub}: {os.path.getsize(p)} bytes, sha256 {sha256(p)}")


if __name__ == "__main__":
    main()
