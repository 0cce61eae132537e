#!/usr/bin/python3
"""Fixtures for the official T2M evaluator wrapper (models/t2m/): a tiny GloVe vocabulary in the
layout of the T2M release, a tiny random evaluator checkpoint in the `finest.tar` layout, the
evaluator's normalisation statistics, and PyTorch reference embeddings.

Writes tests/golden/t2m/:

  glove/our_vab_data.npy      (V, 300) float32, rows in shuffled order
  glove/our_vab_words.pkl     list of words, pickle protocol 2
  glove/our_vab_idx.pkl       dict word -> row, pickle protocol 4 (holds one extra word that the
                              words list lacks: the T2M code ignores it)
  glove_p4/...                the same vocabulary with the protocols swapped (words 4, idx 2)
  finest.tar                  {'movement_encoder', 'text_encoder', 'motion_encoder', 'epoch',
                              'opt_motion_encoder'} (an Adam state, as the T2M trainer saves one)
  t2m_mean.npy, t2m_std.npy   (263) float32
  cases.json                  token lists and motion lengths of the reference cases
  reference.pt                word_rows (our_vab_data row of each padded token), pos_onehot,
                              text_lengths, text_embedding, motion_lengths, motion_embedding

Word vectors and POS one-hots follow the T2M `WordVectorizer`, re-implemented below from its
documented behaviour; tokens are padded like the HumanML3D loader (`sos/OTHER`, tokens[:20],
`eos/OTHER`, `unk/OTHER` to 22). Raw motions are a closed formula (`raw_motion` below,
evaluated in float64 then rounded to float32) that the test recomputes, so no motion array is
stored; frames past each length hold a different formula the encoder must ignore. The
reference normalises with t2m_mean/std, zero-pads past each length up to 196 frames (in
normalised units, as the HumanML3D loader pads ground truth), sorts by length as MDM's
evaluator wrapper does, and runs the torch.nn modules of tools/make_evaluator_golden.py.

Run: /usr/bin/python3 tools/make_t2m_fixtures.py
"""
import json
import math
import os
import pickle
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_evaluator_golden import (  # noqa: E402
    MotionEncoder, MovementEncoder, TextEncoder, randomise)

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "t2m")

POSE_DIM = 263
WORD_DIM, POS_DIM = 300, 15
MOVE_HIDDEN, MOVE_LATENT = 8, 12
MOTION_HIDDEN, TEXT_HIDDEN, CO_EMB = 16, 16, 12
MAX_TEXT_LEN, UNIT_LENGTH = 20, 4

# The 15 POS categories of the T2M code, in one-hot order.
POS = ["VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
       "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER"]
VIP = {
    "Loc_VIP": {"left", "right", "clockwise", "counterclockwise", "anticlockwise", "forward",
                "back", "backward", "up", "down", "straight", "curve"},
    "Body_VIP": {"arm", "chin", "foot", "feet", "face", "hand", "mouth", "leg", "waist", "eye",
                 "knee", "shoulder", "thigh"},
    "Obj_VIP": {"stair", "dumbbell", "chair", "window", "floor", "car", "ball", "handrail",
                "baseball", "basketball"},
    "Act_VIP": {"walk", "run", "swing", "pick", "bring", "kick", "put", "squat", "throw", "hop",
                "dance", "jump", "turn", "stumble", "stop", "sit", "lift", "lower", "raise",
                "wash", "stand", "kneel", "stroll", "rub", "bend", "balance", "flap", "jog",
                "shuffle", "lean", "rotate", "spin", "spread", "climb"},
    "Desc_VIP": {"slowly", "carefully", "fast", "careful", "slow", "quickly", "happy", "angry",
                 "sad", "happily", "angrily", "sadly"},
}

# Vocabulary: 'kneel' (an Act_VIP word) is deliberately absent, 'ghost' is only in the idx dict.
WORDS = ["sos", "eos", "unk", "a", "person", "walk", "forward", "left", "hand", "chair", "run",
         "slowly", "the", "circle", "and", "then", "turn", "around", "up", "jump"]

# Token lists of the reference cases (as in HumanML3D text files).
TOKEN_CASES = [
    # VIP words override the tagged POS; 'the/PROPN' has a POS outside the 15 → OTHER.
    "a/DET person/NOUN walk/VERB forward/ADV and/CCONJ then/ADV turn/VERB left/ADV".split(),
    # Unknown words (incl. an unknown VIP word and a capitalised one) → unk vector + OTHER.
    "A/DET person/NOUN kneel/VERB slowly/ADV with/ADP zzz/NOUN the/PROPN hand/NOUN".split(),
    # 25 tokens: cut to 20, length 22.
    ("a/DET person/NOUN run/VERB in/ADP a/DET circle/NOUN and/CCONJ then/ADV jump/VERB up/ADP "
     "and/CCONJ the/DET person/NOUN walk/VERB around/ADV the/DET chair/NOUN and/CCONJ then/ADV "
     "run/VERB forward/ADV slowly/ADV and/CCONJ turn/VERB around/ADV").split(),
    # Exactly 20 tokens (the loader's crop branch) and 19 tokens (one unk pad).
    (["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"] * 5),
    (["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"] * 5)[:19],
    # One word; 'ghost' is in the idx dict only.
    ["ghost/NOUN"],
]

MOTION_LENGTHS = [33, 40, 12, 27]  # not sorted, not all multiples of 4
MOTION_T = 44


def raw_motion(n, t, c, length):
    """Raw feature value of motion n, frame t, channel c (float64; the test uses the same)."""
    if t >= length:
        return 50.0 * math.cos(0.7 * t + 0.3 * c + n)  # padding the encoder must not read
    return math.sin(0.37 * n + 0.11 * t + 0.013 * c) + 0.2 * math.cos(0.05 * c * (n + 1))


def word_vector(word2idx, token):
    """(row of our_vab_data, POS one-hot) of a `word/POS` token."""
    word, pos = token.split("/")
    onehot = np.zeros(POS_DIM, dtype=np.float32)
    if word not in word2idx:
        onehot[POS.index("OTHER")] = 1
        return word2idx["unk"], onehot
    vip = next((k for k, v in VIP.items() if word in v), None)
    tag = vip if vip is not None else pos
    onehot[POS.index(tag) if tag in POS else POS.index("OTHER")] = 1
    return word2idx[word], onehot


def pad_tokens(tokens):
    kept = tokens if len(tokens) < MAX_TEXT_LEN else tokens[:MAX_TEXT_LEN]
    out = ["sos/OTHER"] + list(kept) + ["eos/OTHER"]
    n = len(out)
    return out + ["unk/OTHER"] * (MAX_TEXT_LEN + 2 - n), n


def write_glove(folder, vectors, words, idx, words_protocol, idx_protocol):
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "our_vab_data.npy"), vectors)
    with open(os.path.join(folder, "our_vab_words.pkl"), "wb") as f:
        pickle.dump(words, f, protocol=words_protocol)
    with open(os.path.join(folder, "our_vab_idx.pkl"), "wb") as f:
        pickle.dump(idx, f, protocol=idx_protocol)


def main():
    torch.manual_seed(20251126)
    rng = np.random.default_rng(20251126)

    # GloVe: rows shuffled so that the idx dict, not the list order, decides the row.
    vocab = WORDS + ["ghost"]
    rows = rng.permutation(len(vocab))
    vectors = rng.standard_normal((len(vocab), WORD_DIM)).astype(np.float32)
    idx = {w: int(rows[i]) for i, w in enumerate(vocab)}
    word2idx = {w: idx[w] for w in WORDS}  # as the T2M code: only listed words count
    write_glove(os.path.join(OUT_DIR, "glove"), vectors, WORDS, idx, 2, 4)
    write_glove(os.path.join(OUT_DIR, "glove_p4"), vectors, WORDS, idx, 4, 2)

    # Evaluator networks (small sizes; real: 259→512→512, 512→1024→512, 300+15→512→512).
    mov = MovementEncoder(POSE_DIM - 4, MOVE_HIDDEN, MOVE_LATENT)
    mot = MotionEncoder(MOVE_LATENT, MOTION_HIDDEN, CO_EMB)
    txt = TextEncoder(WORD_DIM, POS_DIM, TEXT_HIDDEN, CO_EMB)
    for m in (mov, mot, txt):
        randomise(m)
        m.eval()
    # An optimizer state like the one finest.tar carries: one Adam step on the motion encoder.
    opt = torch.optim.Adam(mot.parameters(), lr=1e-4)
    mot(torch.randn(1, 3, MOVE_LATENT), torch.tensor([3])).sum().backward()
    saved = {k: v.clone() for k, v in mot.state_dict().items()}
    opt.step()
    mot.load_state_dict(saved)  # keep the weights; only the optimizer state is wanted
    mot.zero_grad()

    mean = rng.standard_normal(POSE_DIM).astype(np.float32)
    std = (0.2 + rng.random(POSE_DIM)).astype(np.float32)

    # Text reference.
    B, L = len(TOKEN_CASES), MAX_TEXT_LEN + 2
    word_rows = np.zeros((B, L), dtype=np.int64)
    pos_onehot = np.zeros((B, L, POS_DIM), dtype=np.float32)
    text_lengths = np.zeros(B, dtype=np.int64)
    for b, tokens in enumerate(TOKEN_CASES):
        padded, n = pad_tokens(tokens)
        text_lengths[b] = n
        for i, tok in enumerate(padded):
            word_rows[b, i], pos_onehot[b, i] = word_vector(word2idx, tok)
    word_embs = vectors[word_rows]  # (B, L, 300)
    order = np.argsort(-text_lengths, kind="stable")  # pack_padded_sequence wants descending
    with torch.no_grad():
        sorted_emb = txt(torch.from_numpy(word_embs[order]), torch.from_numpy(pos_onehot[order]),
                         torch.from_numpy(text_lengths[order]))
    text_emb = torch.empty_like(sorted_emb)
    text_emb[torch.from_numpy(order)] = sorted_emb

    # Motion reference: raw (N, T, 263) → normalised, zero past each length → evaluator.
    N = len(MOTION_LENGTHS)
    raw = np.array([[[raw_motion(n, t, c, MOTION_LENGTHS[n]) for c in range(POSE_DIM)]
                     for t in range(MOTION_T)] for n in range(N)]).astype(np.float32)
    norm = (raw - mean) / std
    for n, length in enumerate(MOTION_LENGTHS):
        norm[n, length:] = 0
    # Zero-padded to max_motion_length = 196 frames, as the HumanML3D loader pads ground truth.
    norm = np.concatenate([norm, np.zeros((N, 196 - MOTION_T, POSE_DIM), np.float32)], axis=1)
    m_lens = np.array(MOTION_LENGTHS, dtype=np.int64)
    align = np.argsort(m_lens)[::-1].copy()
    with torch.no_grad():
        x = torch.from_numpy(norm[align])
        movements = mov(x[..., :-4])
        sorted_mot = mot(movements, torch.from_numpy(m_lens[align] // UNIT_LENGTH))
    motion_emb = torch.empty_like(sorted_mot)
    motion_emb[torch.from_numpy(align)] = sorted_mot

    os.makedirs(OUT_DIR, exist_ok=True)
    torch.save({
        "movement_encoder": mov.state_dict(),
        "text_encoder": txt.state_dict(),
        "motion_encoder": mot.state_dict(),
        "opt_motion_encoder": opt.state_dict(),
        "epoch": 7,
    }, os.path.join(OUT_DIR, "finest.tar"))
    np.save(os.path.join(OUT_DIR, "t2m_mean.npy"), mean)
    np.save(os.path.join(OUT_DIR, "t2m_std.npy"), std)
    torch.save({
        "word_rows": torch.from_numpy(word_rows),
        "pos_onehot": torch.from_numpy(pos_onehot),
        "text_lengths": torch.from_numpy(text_lengths),
        "text_embedding": text_emb,
        "motion_lengths": torch.from_numpy(m_lens),
        "motion_embedding": motion_emb,
    }, os.path.join(OUT_DIR, "reference.pt"))
    with open(os.path.join(OUT_DIR, "cases.json"), "w") as f:
        json.dump({"token_cases": TOKEN_CASES, "motion_lengths": MOTION_LENGTHS,
                   "motion_frames": MOTION_T, "words": WORDS}, f, indent=1)
        f.write("\n")
    print("wrote", OUT_DIR, "text_emb[0,:3] =", text_emb[0, :3].tolist(),
          "motion_emb[0,:3] =", motion_emb[0, :3].tolist())


if __name__ == "__main__":
    main()
