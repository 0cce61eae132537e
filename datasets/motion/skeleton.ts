/**
 * Skeleton definitions of the HumanML3D (t2m, 22 joints) and KIT-ML (21 joints) motion
 * representations, as in the public `paramUtil.py` and the processing scripts of HumanML3D.
 *
 * t2m joint order (SMPL): 0 pelvis, 1 l_hip, 2 r_hip, 3 spine1, 4 l_knee, 5 r_knee, 6 spine2,
 * 7 l_ankle, 8 r_ankle, 9 spine3, 10 l_foot, 11 r_foot, 12 neck, 13 l_collar, 14 r_collar,
 * 15 head, 16 l_shoulder, 17 r_shoulder, 18 l_elbow, 19 r_elbow, 20 l_wrist, 21 r_wrist.
 * Y is up; the processed data faces +Z at frame 0; t2m units are metres.
 *
 * @module
 */

/** A 3-vector. */
export type Vec3 = readonly [number, number, number];

/** Kinematic chains of the t2m skeleton (each starts at an already placed joint). */
export const T2M_KINEMATIC_CHAIN: readonly (readonly number[])[] = [
  [0, 2, 5, 8, 11],
  [0, 1, 4, 7, 10],
  [0, 3, 6, 9, 12, 15],
  [9, 14, 17, 19, 21],
  [9, 13, 16, 18, 20],
];

/** Rest-pose unit direction of the bone ending at each t2m joint (root: zero). (22, 3) */
export const T2M_RAW_OFFSETS: readonly Vec3[] = [
  [0, 0, 0],
  [1, 0, 0],
  [-1, 0, 0],
  [0, 1, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, 1, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, 1, 0],
  [0, 0, 1],
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
  [-1, 0, 0],
  [0, 0, 1],
  [0, -1, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, -1, 0],
];

/** Kinematic chains of the KIT-ML skeleton. */
export const KIT_KINEMATIC_CHAIN: readonly (readonly number[])[] = [
  [0, 11, 12, 13, 14, 15],
  [0, 16, 17, 18, 19, 20],
  [0, 1, 2, 3, 4],
  [3, 5, 6, 7],
  [3, 8, 9, 10],
];

/** Rest-pose unit direction of the bone ending at each KIT joint (root: zero). (21, 3) */
export const KIT_RAW_OFFSETS: readonly Vec3[] = [
  [0, 0, 0],
  [0, 1, 0],
  [0, 1, 0],
  [0, 1, 0],
  [0, 1, 0],
  [1, 0, 0],
  [0, -1, 0],
  [0, -1, 0],
  [-1, 0, 0],
  [0, -1, 0],
  [0, -1, 0],
  [1, 0, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, 0, 1],
  [0, 0, 1],
  [-1, 0, 0],
  [0, -1, 0],
  [0, -1, 0],
  [0, 0, 1],
  [0, 0, 1],
];

/** Parent of every joint (root: -1), read off kinematic chains. */
export function parentsFromChain(chain: readonly (readonly number[])[], joints: number): number[] {
  const parents = new Array<number>(joints).fill(-2);
  parents[0] = -1;
  for (const c of chain) {
    for (let k = 1; k < c.length; k++) parents[c[k]] = c[k - 1];
  }
  const missing = parents.indexOf(-2);
  if (missing >= 0) throw new RangeError(`Cannot derive parents: joint ${missing} is in no chain`);
  return parents;
}

/** Parent of every t2m joint (root: -1). */
export const T2M_PARENTS: readonly number[] = parentsFromChain(T2M_KINEMATIC_CHAIN, 22);

/** Parent of every KIT joint (root: -1). */
export const KIT_PARENTS: readonly number[] = parentsFromChain(KIT_KINEMATIC_CHAIN, 21);

/**
 * Length in metres of the bone ending at each t2m joint (root: 0) on the HumanML3D target
 * skeleton, the one every clip is rescaled to. The public process takes it from frame 0 of
 * clip `000021` (`t2m_tgt_skel_id`), which is not redistributed; these values are the bone lengths
 * of `HumanML3D/new_joints/012314.npy`, the processed sample shipped in the public HumanML3D
 * repository, averaged over its 170 frames (they vary by < 2e-6 m across frames, since processing
 * rebuilds every clip with exactly these lengths). (22)
 */
export const T2M_BONE_LENGTHS: readonly number[] = [
  0,
  0.103074,
  0.109883,
  0.131568,
  0.393623,
  0.390188,
  0.14319,
  0.432433,
  0.425643,
  0.057365,
  0.143382,
  0.149419,
  0.21936,
  0.137487,
  0.143383,
  0.103039,
  0.131614,
  0.122984,
  0.25684,
  0.263092,
  0.266012,
  0.269876,
];

/**
 * Stand-in bone lengths for KIT (millimetres, root: 0), for synthetic clips only. They are NOT the
 * KIT target skeleton (clip `03950`, not available here): a plausible adult with the t2m
 * proportions. `KIT.boneLengths` is therefore left unset so that real KIT data is never rescaled
 * to them. (21)
 */
export const KIT_BONE_LENGTHS: readonly number[] = [
  0,
  110,
  220,
  200,
  180,
  170,
  270,
  260,
  170,
  270,
  260,
  100,
  410,
  420,
  60,
  80,
  100,
  410,
  420,
  60,
  80,
];

/** Foot joints used for contacts: t2m ankles 7/8 and toes 10/11; KIT 19,20 (left) 14,15 (right). */
export const FOOT_JOINTS = { left: [7, 10], right: [8, 11] } as const;

/** KIT foot joints used for contacts. */
export const KIT_FOOT_JOINTS = { left: [19, 20], right: [14, 15] } as const;

/** Everything the motion representation needs to know about one skeleton. */
export interface SkeletonSpec {
  /** Short name, `"t2m"` or `"kit"`. */
  name: string;
  /** Number of joints J. */
  joints: number;
  /** Parent of each joint, root -1. (J) */
  parents: readonly number[];
  /** Kinematic chains, as in the public `paramUtil.py`. */
  chain: readonly (readonly number[])[];
  /** Rest-pose unit bone directions. (J, 3) */
  rawOffsets: readonly Vec3[];
  /** Left foot joints (contact channels 0, 1 after the velocity features). */
  feetLeft: readonly number[];
  /** Right foot joints (contact channels 2, 3). */
  feetRight: readonly number[];
  /** Facing joints in the order r_hip, l_hip, r_shoulder, l_shoulder. */
  faceJoints: readonly [number, number, number, number];
  /** Frames per second of the processed data. */
  fps: number;
  /** Feature width: `4 + 3(J-1) + 6(J-1) + 3J + 4`. */
  nfeats: number;
  /** Bones (by end joint) whose summed lengths give the leg length for rescaling (l_idx1, l_idx2). */
  legBones: readonly [number, number];
  /** Default contact threshold on the squared per-frame displacement of a foot joint. */
  footVelThreshold: number;
  /** Height above a foot joint's lowest point under which `footSkate` counts it as in contact. */
  contactHeight: number;
  /** Target bone lengths (by end joint, root 0) for `uniformSkeleton`; unset if unknown. (J) */
  boneLengths?: readonly number[];
}

/** The HumanML3D skeleton: 22 joints, 263 features, 20 fps, metres. */
export const T2M: SkeletonSpec = {
  name: "t2m",
  joints: 22,
  parents: T2M_PARENTS,
  chain: T2M_KINEMATIC_CHAIN,
  rawOffsets: T2M_RAW_OFFSETS,
  feetLeft: FOOT_JOINTS.left,
  feetRight: FOOT_JOINTS.right,
  faceJoints: [2, 1, 17, 16],
  fps: 20,
  nfeats: 263,
  legBones: [5, 8],
  // The public HumanML3D process calls process_file(..., 0.002).
  footVelThreshold: 0.002,
  contactHeight: 0.05,
  boneLengths: T2M_BONE_LENGTHS,
};

/**
 * The KIT-ML skeleton: 21 joints, 251 features, 12.5 fps. Lengths are in KIT's own unit
 * (millimetres); the foot threshold 0.05 is the value used by the public KIT processing.
 * Note: with these raw offsets the right hip (11) lies at +X, so the facing rule gives -Z for the
 * rest pose whose feet point +Z; processing turns such a pose around, and its horizontal bones
 * then point nearly opposite to their rest directions (an ill-conditioned case of the shortest-arc
 * rotation in inverse kinematics, as in the public code).
 */
export const KIT: SkeletonSpec = {
  name: "kit",
  joints: 21,
  parents: KIT_PARENTS,
  chain: KIT_KINEMATIC_CHAIN,
  rawOffsets: KIT_RAW_OFFSETS,
  feetLeft: KIT_FOOT_JOINTS.left,
  feetRight: KIT_FOOT_JOINTS.right,
  faceJoints: [11, 16, 5, 8],
  fps: 12.5,
  nfeats: 251,
  legBones: [17, 18],
  footVelThreshold: 0.05,
  contactHeight: 50,
};

/** The feature width for J joints: `4 + 3(J-1) + 6(J-1) + 3J + 4` (263 for 22, 251 for 21). */
export function featureWidth(joints: number): number {
  return 4 + 9 * (joints - 1) + 3 * joints + 4;
}

/** The spec with `nfeats` features (263 → T2M, 251 → KIT). */
export function specForFeatures(nfeats: number): SkeletonSpec {
  if (nfeats === T2M.nfeats) return T2M;
  if (nfeats === KIT.nfeats) return KIT;
  throw new RangeError(`Cannot pick a skeleton: ${nfeats} features (expected 263 or 251)`);
}
