"""Writes small PyTorch checkpoint fixtures into tests/golden/pt/ (run with /usr/bin/python3).

Files:
  plain.pt        state dict: every supported dtype, a 0-dim and an empty tensor, a transposed
                  and a sliced view (non-contiguous, non-zero storage offset), two views of one
                  storage
  legacy.pt       the same state dict, saved with _use_new_zipfile_serialization=False
  mdm_ema.pt      {'model': sd, 'model_avg': sd_ema} with clip_model.* and positional-encoding
                  buffers, as MDM saves with --use_ema; args.json beside it
  mdm_plain.pt    a bare MDM-style state dict (no EMA wrapper)
  evaluator.tar   legacy format {'movement_encoder', 'text_encoder', 'opt_...', 'epoch'} with an
                  Adam optimizer state dict, shaped like the T2M evaluator's finest.tar
  malicious.pt    an object whose __reduce__ calls os.system (must be refused, never run)
  numpy_scalars.pt  numpy scalars (allowed: plain data)
  namespace.pt    a checkpoint holding an argparse.Namespace (refused: not plain data)
  expected.json   dtype, shape and values (as float64) of every tensor above
  pickles.json    one plain-data object pickled by CPython with protocols 0-5 (hex), for the
                  pickle reader's tests without Python
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "pt")


def plain_state_dict():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=g)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(2, 3, generator=g)
    sd["f64"] = torch.randn(3, generator=g, dtype=torch.float64)
    sd["f16"] = torch.tensor([0.5, -1.25, 65504.0, 6.1e-5, 0.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -2.5, 3.14159, 1e30], dtype=torch.bfloat16)
    sd["i64"] = torch.tensor([[1, -2], [2**40, -(2**40)]], dtype=torch.int64)
    sd["i32"] = torch.tensor([7, -8, 2**31 - 1], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["transposed"] = base.t()  # (6, 4), strides (1, 6)
    sd["sliced"] = base[1:, 1::2]  # (3, 3), offset 7, strides (6, 2)
    sd["row"] = base[2]  # shares base's storage, offset 12
    sd["num_batches_tracked"] = torch.tensor(5)
    return sd


def mdm_state_dict(seed):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    sd["clip_model.token_embedding.weight"] = torch.randn(3, 4, generator=g)
    sd["sequence_pos_encoder.pe"] = torch.randn(5, 1, 8, generator=g)
    sd["embed_timestep.sequence_pos_encoder.pe"] = sd["sequence_pos_encoder.pe"]
    sd["input_process.poseEmbedding.weight"] = torch.randn(8, 6, generator=g)
    sd["input_process.poseEmbedding.bias"] = torch.randn(8, generator=g)
    sd["seqTransEncoder.layers.0.linear1.weight"] = torch.randn(16, 8, generator=g)
    sd["output_process.poseFinal.weight"] = torch.randn(6, 8, generator=g)
    return sd


def evaluator_checkpoint():
    torch.manual_seed(1)
    move = torch.nn.Linear(4, 3)
    text = torch.nn.GRU(2, 3, batch_first=True, bidirectional=True)
    opt = torch.optim.Adam(list(move.parameters()), lr=1e-3)
    move(torch.randn(2, 4)).sum().backward()
    opt.step()
    return {
        "movement_encoder": move.state_dict(),
        "text_encoder": text.state_dict(),
        "opt_movement_encoder": opt.state_dict(),
        "epoch": 3,
        "iter": 1234,
    }


class Malicious:
    def __reduce__(self):
        return (os.system, ("echo this-must-never-run",))


class _Anything(dict):
    """Stands in for every class while skipping: accepts SETITEMS and BUILD."""


ELEMENT_SIZE = {"Float": 4, "Double": 8, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4,
                "Short": 2, "Char": 1, "Byte": 1, "Bool": 1}


class _Skipper(pickle.Unpickler):
    """Walks over a pickle without importing anything; records storage keys and types."""

    def __init__(self, f):
        super().__init__(f)
        self.storages = {}  # key -> element size, in order of first appearance

    def find_class(self, module, name):
        if module == "torch" and name.endswith("Storage"):
            return name
        return lambda *args, **kwargs: _Anything()

    def persistent_load(self, pid):
        _, storage_type, key = pid[:3]
        self.storages.setdefault(key, ELEMENT_SIZE[storage_type[: -len("Storage")]])
        return None


def save_legacy(obj, path):
    """torch.save in the legacy format, made deterministic.

    Legacy files name storages by memory address and write them sorted by that name, so both
    the names and the data order change from run to run. Storages are renamed "000", "001", ...
    in order of first use and their data re-laid in that order; the format holds no absolute
    offsets (pickles, then length-prefixed storages), so nothing else needs fixing.
    """
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol, sys_info
        pickle.load(f)
    head_end = f.tell()
    skipper = _Skipper(f)
    skipper.load()  # the object
    obj_end = f.tell()
    keys = pickle.load(f)
    blobs = {}
    pos = f.tell()
    for key in keys:  # int64 element count, then the bytes
        (count,) = struct.unpack("<q", data[pos:pos + 8])
        size = 8 + count * skipper.storages[key]
        blobs[key] = data[pos:pos + size]
        pos += size
    assert pos == len(data)
    obj_pickle = data[head_end:obj_end]
    names = {key: f"{i:03d}" for i, key in enumerate(skipper.storages)}
    for key, new in names.items():
        raw, fresh = key.encode(), new.encode()
        obj_pickle = obj_pickle.replace(b"X" + struct.pack("<I", len(raw)) + raw,
                                        b"X" + struct.pack("<I", len(fresh)) + fresh)
    with open(path, "wb") as out:
        out.write(data[:head_end])
        out.write(obj_pickle)
        out.write(pickle.dumps(list(names.values()), protocol=2))
        for key in names:
            out.write(blobs[key])


def describe(sd, prefix=""):
    out = {}
    for k, v in sd.items():
        if isinstance(v, dict):
            out.update(describe(v, f"{prefix}{k}/"))
        elif isinstance(v, torch.Tensor):
            out[prefix + k] = {
                "dtype": str(v.dtype).replace("torch.", ""),
                "shape": list(v.shape),
                "values": [float(x) for x in v.double().flatten().tolist()],
            }
    return out


def pickle_samples():
    shared = [7, 8]
    obj = {
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -(2**31), 2**31, 2**62, -(2**70)],
        "floats": [0.5, -1e300, float("inf")],
        "consts": [None, True, False],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "text": "h\u00e9llo \u2603\n\\ 'q\"",
        "bytes": b"\x00\xff\x80abc",
        "bytearray": bytearray(b"xy"),
        "set": {3},
        "frozenset": frozenset({4}),
        "nested": {"k": {"deep": [1.25]}, 5: "int key"},
        "shared": [shared, shared],
        "long_list": list(range(1500)),
    }
    return {str(p): pickle.dumps(obj, protocol=p).hex() for p in range(6)}


def main():
    os.makedirs(OUT, exist_ok=True)
    plain = plain_state_dict()
    torch.save(plain, os.path.join(OUT, "plain.pt"))
    save_legacy(plain, os.path.join(OUT, "legacy.pt"))
    ema = {"model": mdm_state_dict(2), "model_avg": mdm_state_dict(3)}
    torch.save(ema, os.path.join(OUT, "mdm_ema.pt"))
    torch.save(mdm_state_dict(4), os.path.join(OUT, "mdm_plain.pt"))
    ev = evaluator_checkpoint()
    save_legacy(ev, os.path.join(OUT, "evaluator.tar"))
    torch.save({"model": Malicious()}, os.path.join(OUT, "malicious.pt"))
    torch.save({"best_fid": np.float64(0.125), "epoch": np.int64(-7), "flag": np.bool_(True),
                "lr": np.float32(0.5)}, os.path.join(OUT, "numpy_scalars.pt"))
    torch.save({"model": mdm_state_dict(5), "args": argparse.Namespace(lr=1e-4)},
               os.path.join(OUT, "namespace.pt"))
    args = {
        "arch": "trans_enc", "batch_size": 64, "cond_mask_prob": 0.1, "cuda": True,
        "data_dir": "", "dataset": "humanml", "device": 0, "diffusion_steps": 50,
        "emb_trans_dec": False, "eval_batch_size": 32, "lambda_fc": 0.0, "lambda_rcxyz": 0.0,
        "lambda_vel": 0.0, "latent_dim": 8, "layers": 1, "lr": 0.0001, "mask_frames": True,
        "noise_schedule": "cosine", "num_steps": 600000, "save_dir": "save/mini", "seed": 10,
        "sigma_small": True, "text_encoder_type": "clip", "unconstrained": False,
        "use_ema": True, "weight_decay": 0.0,
    }
    with open(os.path.join(OUT, "args.json"), "w") as f:
        json.dump(args, f, indent=4, sort_keys=True)
    expected = {
        "plain.pt": describe(plain),
        "mdm_ema.pt": describe(ema),
        "mdm_plain.pt": describe(mdm_state_dict(4)),
        "evaluator.tar": describe({k: v for k, v in ev.items() if k != "opt_movement_encoder"}),
        "evaluator.tar/opt": describe(ev["opt_movement_encoder"]["state"][0]),
    }
    with open(os.path.join(OUT, "pickles.json"), "w") as f:
        json.dump(pickle_samples(), f, indent=1)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("wrote", sorted(os.listdir(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
