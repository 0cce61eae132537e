#!/usr/bin/env python3
"""Independent numpy reference of the HumanML3D motion representation (NUMERICS.md section 5).

Written from the specification with rotation matrices and yaw angles rather than quaternions, so
that it checks `datasets/motion/` instead of repeating it. Float64 throughout.

Commands:
  make-golden OUTDIR             write the synthetic fixtures (fixed seeds) into OUTDIR
  hml-sample JOINTS VECS OUTDIR  convert HumanML3D's shipped sample (new_joints/012314.npy,
                                 new_joint_vecs/012314.npy) into a fixture
  recover IN.f32 T NFEATS OUT.f32          features (T, NFEATS) -> joints (T, J, 3)
  process IN.f32 T KIND OUT_PREFIX [UNIFORM]  joints (T, J, 3) -> OUT_PREFIX.features.f32,
                                           OUT_PREFIX.joints.f32 (KIND t2m or kit; UNIFORM 0/1)

Fixture format: NAME.json holds {"arrays": {key: {"file": ..., "shape": [...]}}, ...} and every
array is a raw little-endian float32 file beside it.
"""
import json
import os
import sys

import numpy as np
from scipy.ndimage import gaussian_filter1d

# ---------------------------------------------------------------------------------------------
# Skeletons (public paramUtil.py and processing scripts)

T2M = dict(
    joints=22,
    nfeats=263,
    chain=[[0, 2, 5, 8, 11], [0, 1, 4, 7, 10], [0, 3, 6, 9, 12, 15], [9, 14, 17, 19, 21],
           [9, 13, 16, 18, 20]],
    raw=[[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0],
         [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0],
         [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
         [0, -1, 0]],
    feet=[7, 10, 8, 11],
    face=[2, 1, 17, 16],  # r_hip, l_hip, r_shoulder, l_shoulder
    legs=[5, 8],
    thre=0.002,
    # Bone lengths (m) of HumanML3D's processed sample new_joints/012314.npy.
    lengths=[0, 0.103074, 0.109883, 0.131568, 0.393623, 0.390188, 0.14319, 0.432433, 0.425643,
             0.057365, 0.143382, 0.149419, 0.21936, 0.137487, 0.143383, 0.103039, 0.131614,
             0.122984, 0.25684, 0.263092, 0.266012, 0.269876],
)
KIT = dict(
    joints=21,
    nfeats=251,
    chain=[[0, 11, 12, 13, 14, 15], [0, 16, 17, 18, 19, 20], [0, 1, 2, 3, 4], [3, 5, 6, 7],
           [3, 8, 9, 10]],
    raw=[[0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [0, -1, 0],
         [0, -1, 0], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0],
         [0, 0, 1], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [0, 0, 1], [0, 0, 1]],
    feet=[19, 20, 14, 15],
    face=[11, 16, 5, 8],
    legs=[17, 18],
    thre=0.05,
    lengths=[0, 110, 220, 200, 180, 170, 270, 260, 170, 270, 260, 100, 410, 420, 60, 80, 100,
             410, 420, 60, 80],
)
SPECS = {"t2m": T2M, "kit": KIT}


def parents(spec):
    par = [-1] * spec["joints"]
    for c in spec["chain"]:
        for a, b in zip(c[:-1], c[1:]):
            par[b] = a
    return par


# ---------------------------------------------------------------------------------------------
# Rotations as matrices


def yaw(angle):
    """Rotation matrices about +Y by `angle` (radians): z turns towards x. (..., 3, 3)"""
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(np.shape(angle) + (3, 3))
    m[..., 0, 0] = c
    m[..., 0, 2] = s
    m[..., 1, 1] = 1
    m[..., 2, 0] = -s
    m[..., 2, 2] = c
    return m


def rotation_between(u, v):
    """Rotation matrices taking unit u onto unit v (Rodrigues); opposite vectors get a half turn
    about the part of +Y (or +X for vertical u) perpendicular to u. u, v: (N, 3) -> (N, 3, 3)"""
    k = np.cross(u, v)
    c = np.sum(u * v, axis=-1)
    kx = np.zeros(u.shape[:-1] + (3, 3))
    kx[..., 0, 1], kx[..., 0, 2] = -k[..., 2], k[..., 1]
    kx[..., 1, 0], kx[..., 1, 2] = k[..., 2], -k[..., 0]
    kx[..., 2, 0], kx[..., 2, 1] = -k[..., 1], k[..., 0]
    opposite = 1 + c < 1e-12
    denom = np.where(opposite, 1.0, 1 + c)
    r = np.eye(3) + kx + kx @ kx / denom[..., None, None]
    for i in np.nonzero(opposite)[0]:
        e = np.array([1.0, 0, 0]) if abs(u[i, 1]) > 0.9 else np.array([0, 1.0, 0])
        a = e - np.dot(e, u[i]) * u[i]
        a /= np.linalg.norm(a)
        r[i] = 2 * np.outer(a, a) - np.eye(3)
    return r


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Features -> joints


def recover_root(d):
    """Root half-angle a (T,) and position (T, 3) from features (T, F)."""
    T = d.shape[0]
    a = np.concatenate([[0.0], np.cumsum(d[:-1, 0])])
    step = np.zeros((T, 3))
    step[1:, 0] = d[:-1, 1]
    step[1:, 2] = d[:-1, 2]
    # The root frame at t is a yaw by 2a; its inverse (-2a) brings root-frame steps to world.
    world = np.einsum("tij,tj->ti", yaw(-2 * a), step)
    pos = np.cumsum(world, axis=0)
    pos[:, 1] = d[:, 3]
    return a, pos


def recover_root_quat(a):
    q = np.zeros(a.shape + (4,))
    q[:, 0], q[:, 2] = np.cos(a), np.sin(a)
    return q


def recover_from_ric(d, joints):
    a, root = recover_root(d)
    T = d.shape[0]
    local = d[:, 4:4 + 3 * (joints - 1)].reshape(T, joints - 1, 3)
    world = np.einsum("tij,tkj->tki", yaw(-2 * a), local)
    world[:, :, 0] += root[:, None, 0]
    world[:, :, 2] += root[:, None, 2]
    return np.concatenate([root[:, None], world], axis=1)


# ---------------------------------------------------------------------------------------------
# Joints -> features


def forward_angle(p, face, ik_order):
    """Heading phi = atan2(fx, fz) of forward = Y x normalize(across), per frame. p: (T, J, 3)"""
    r_hip, l_hip, r_sh, l_sh = face
    if ik_order:  # the public inverse_kinematics_np swaps the hip indices
        r_hip, l_hip = l_hip, r_hip
    across = unit((p[:, r_hip] - p[:, l_hip]) + (p[:, r_sh] - p[:, l_sh]))
    return np.cross(np.array([0.0, 1.0, 0.0]), across)


def ik(p, spec, smooth):
    """Global root yaw matrices (T,3,3), root half-angles (T,), local rotation matrices
    (T, J, 3, 3) of every joint."""
    T, J = p.shape[:2]
    fwd = forward_angle(p, spec["face"], True)
    if smooth:
        fwd = gaussian_filter1d(fwd, 20, axis=0, mode="nearest")
    fwd = unit(fwd)
    phi = np.arctan2(fwd[:, 0], fwd[:, 2])
    half = -phi / 2  # turning forward onto +Z is a yaw by -phi
    half[0] = 0.0
    root = yaw(2 * half)
    local = np.tile(np.eye(3), (T, J, 1, 1))
    local[:, 0] = root
    raw = np.array(spec["raw"], dtype=np.float64)
    for chain in spec["chain"]:
        R = root.copy()
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = unit(p[:, child] - p[:, parent])
            G = rotation_between(np.tile(raw[child], (T, 1)), bone)
            L = np.swapaxes(R, -1, -2) @ G
            local[:, child] = L
            R = R @ L
    return root, half, local


def fk(local, root_pos, spec, lengths):
    T = local.shape[0]
    raw = np.array(spec["raw"], dtype=np.float64) * np.array(lengths)[:, None]
    out = np.zeros((T, spec["joints"], 3))
    out[:, 0] = root_pos
    for chain in spec["chain"]:
        R = local[:, 0]
        for parent, child in zip(chain[:-1], chain[1:]):
            R = R @ local[:, child]
            out[:, child] = out[:, parent] + R @ raw[child]
    return out


def process(joints, spec, uniform, thre=None):
    """Features (T-1, F) and processed joints (T, J, 3) of joints (T, J, 3)."""
    p = np.array(joints, dtype=np.float64)
    T, J = p.shape[:2]
    par = parents(spec)
    if uniform:
        l1, l2 = spec["legs"]
        src = [np.linalg.norm(p[0, j] - p[0, par[j]]) for j in (l1, l2)]
        scale = (spec["lengths"][l1] + spec["lengths"][l2]) / (src[0] + src[1])
        _, _, local = ik(p, spec, smooth=False)
        p = fk(local, p[:, 0] * scale, spec, spec["lengths"])
    p[:, :, 1] -= p[:, :, 1].min()
    p[:, :, [0, 2]] -= p[0, 0, [0, 2]]
    f0 = forward_angle(p[:1], spec["face"], False)[0]
    p = np.einsum("ij,tkj->tki", yaw(-np.arctan2(f0[0], f0[2])), p)
    glob = p.copy()

    feet = spec["feet"]
    disp2 = np.sum((glob[1:, feet] - glob[:-1, feet]) ** 2, axis=-1)
    contacts = (disp2 < (spec["thre"] if thre is None else thre)).astype(np.float64)

    root, half, local = ik(glob, spec, smooth=True)
    # relative half-angle of r[t+1] r[t]^-1, as asin of the y of that quaternion
    rot_vel = np.arcsin(np.clip(np.sin(half[1:] - half[:-1]), -1, 1))
    root_vel = np.einsum("tij,tj->ti", root[1:], glob[1:, 0] - glob[:-1, 0])
    rel = glob.copy()
    rel[:, :, 0] -= glob[:, :1, 0]
    rel[:, :, 2] -= glob[:, :1, 2]
    ric = np.einsum("tij,tkj->tki", root, rel)
    six = np.concatenate([local[:, 1:, :, 0], local[:, 1:, :, 1]], axis=-1)
    vel = np.einsum("tij,tkj->tki", root[:-1], glob[1:] - glob[:-1])
    feats = np.concatenate([
        rot_vel[:, None], root_vel[:, [0, 2]], ric[:-1, 0, 1:2],
        ric[:-1, 1:].reshape(T - 1, -1), six[:-1].reshape(T - 1, -1),
        vel.reshape(T - 1, -1), contacts
    ], axis=-1)
    assert feats.shape[1] == spec["nfeats"]
    return feats, glob


# ---------------------------------------------------------------------------------------------
# Synthetic inputs


def random_features(rng, T, spec):
    """Random but plausible features: small yaw and xz velocities, a standing pose with noise."""
    J = spec["joints"]
    rest = rest_pose(spec)
    rest[:, 1] -= rest[:, 1].min()
    d = rng.normal(0, 0.05, (T, spec["nfeats"]))
    d[:, 0] = rng.normal(0, 0.08, T)
    d[:, 1:3] = rng.normal(0, 0.03, (T, 2)) + np.array([0.0, 0.04])
    d[:, 3] = rest[0, 1] + rng.normal(0, 0.02, T)
    ric = rest[1:] - rest[0] * np.array([1, 0, 1])
    d[:, 4:4 + 3 * (J - 1)] = (ric[None] + rng.normal(0, 0.03, (T, J - 1, 3))).reshape(T, -1)
    scale = 1000.0 if spec is KIT else 1.0
    d[:, 1:4 + 3 * (J - 1)] *= scale
    return d


def rest_pose(spec):
    raw = np.array(spec["raw"], dtype=np.float64) * np.array(spec["lengths"])[:, None]
    p = np.zeros((spec["joints"], 3))
    for j, parent in enumerate(parents(spec)):
        if parent >= 0:
            p[j] = p[parent] + raw[j]
    return p


def synthetic_clip(rng, T, spec, length_scale):
    """A clip made by FK: legs swinging, arms swaying, a slow turn, walking forward; random
    heading and offset; bone lengths scaled by `length_scale`."""
    J = spec["joints"]
    t = np.arange(T)
    local = np.tile(np.eye(3), (T, J, 1, 1))
    heading = rng.uniform(-np.pi, np.pi) + 0.01 * t
    local[:, 0] = yaw(heading)

    def pitch(angle):  # rotation about +X (bends a downward bone forward/backward)
        c, s = np.cos(angle), np.sin(angle)
        m = np.zeros(angle.shape + (3, 3))
        m[..., 0, 0] = 1
        m[..., 1, 1], m[..., 1, 2] = c, -s
        m[..., 2, 1], m[..., 2, 2] = s, c
        return m

    phase = 2 * np.pi * t / 24
    legs = [spec["chain"][0], spec["chain"][1]]
    for sign, chain in zip([1, -1], legs):
        hip, knee = chain[1], chain[2]
        local[:, knee] = pitch(-0.4 * sign * np.sin(phase) + 0.05 * rng.normal(size=T))
        local[:, chain[3]] = pitch(np.maximum(0.0, 0.5 * np.sin(phase + sign)))
        local[:, hip] = yaw(0.02 * rng.normal(size=T))
    for j in range(1, J):
        if np.allclose(local[:, j], np.eye(3)):
            local[:, j] = pitch(0.1 * np.sin(phase + j)) @ yaw(0.05 * np.cos(phase + 2 * j))
    lengths = np.array(spec["lengths"]) * length_scale
    step = 0.05 * lengths[spec["legs"][0]] / 0.39
    root = np.zeros((T, 3))
    root[:, 0] = np.cumsum(step * np.sin(heading)) + rng.normal()
    root[:, 2] = np.cumsum(step * np.cos(heading)) + rng.normal()
    root[:, 1] = lengths[spec["legs"][0]] * 2.2 + 0.01 * np.sin(2 * phase)
    return fk(local, root, spec, lengths)


# ---------------------------------------------------------------------------------------------
# Files


def write_fixture(outdir, name, arrays, **meta):
    os.makedirs(outdir, exist_ok=True)
    header = {"arrays": {}, **meta}
    for key, arr in arrays.items():
        arr = np.ascontiguousarray(arr, dtype="<f4")
        fname = f"{name}.{key}.f32"
        tmp = os.path.join(outdir, fname + ".tmp")
        arr.tofile(tmp)
        os.replace(tmp, os.path.join(outdir, fname))
        header["arrays"][key] = {"file": fname, "shape": list(arr.shape)}
    tmp = os.path.join(outdir, name + ".json.tmp")
    with open(tmp, "w") as f:
        json.dump(header, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, name + ".json"))


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def make_golden(outdir):
    rng = np.random.default_rng(20240521)
    for kind, T in (("t2m", 40), ("kit", 30)):
        spec = SPECS[kind]
        d = f32(random_features(rng, T, spec))
        write_fixture(outdir, f"recover_{kind}", {
            "features": d,
            "joints": recover_from_ric(d, spec["joints"]),
            "rot_quat": recover_root_quat(recover_root(d)[0]),
            "root_pos": recover_root(d)[1],
        }, kind=kind, T=T, source="tools/motion_ref.py make-golden")
    for kind, T, uniform, scale in (("t2m", 64, True, 1.08), ("kit", 40, False, 1.0)):
        spec = SPECS[kind]
        clip = f32(synthetic_clip(rng, T, spec, scale))
        feats, glob = process(clip, spec, uniform)
        write_fixture(outdir, f"process_{kind}", {
            "input": clip, "features": feats, "joints": glob
        }, kind=kind, T=T, uniform=uniform, source="tools/motion_ref.py make-golden")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "make-golden":
        make_golden(argv[2])
    elif cmd == "hml-sample":
        joints = np.load(argv[2]).astype(np.float32)
        vecs = np.load(argv[3]).astype(np.float32)
        write_fixture(argv[4], "hml_012314", {"joints": joints, "features": vecs},
                      kind="t2m", T=int(vecs.shape[0]),
                      source="EricGuo5513/HumanML3D: HumanML3D/new_joints/012314.npy and "
                      "HumanML3D/new_joint_vecs/012314.npy")
    elif cmd == "recover":
        T, nfeats = int(argv[3]), int(argv[4])
        spec = T2M if nfeats == 263 else KIT
        d = np.fromfile(argv[2], dtype="<f4").astype(np.float64).reshape(T, nfeats)
        recover_from_ric(d, spec["joints"]).astype("<f4").tofile(argv[5])
    elif cmd == "process":
        T, spec = int(argv[3]), SPECS[argv[4]]
        uniform = len(argv) > 6 and argv[6] == "1"
        p = np.fromfile(argv[2], dtype="<f4").astype(np.float64).reshape(T, spec["joints"], 3)
        feats, glob = process(p, spec, uniform)
        feats.astype("<f4").tofile(argv[5] + ".features.f32")
        glob.astype("<f4").tofile(argv[5] + ".joints.f32")
    else:
        sys.exit(f"Cannot run motion_ref.py: unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
