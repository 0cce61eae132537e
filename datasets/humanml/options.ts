/**
 * Dataset settings of the public HumanML3D and KIT-ML loaders (MDM `utils/get_opt.py` and
 * `data_loaders/humanml/data/dataset.py`, `Text2MotionDatasetV2`).
 * @module
 */

/** The two datasets, named as the `--dataset` flag names them. */
export type DatasetName = "humanml" | "kit";

/** Everything the loader needs to know about one dataset. */
export interface DatasetOptions {
  dataset: DatasetName;
  /** Root with `new_joint_vecs/`, `texts/`, `Mean.npy`, `Std.npy`, `{train,val,test}.txt`. */
  dataRoot: string;
  /** Feature size per frame: 263 (HumanML3D), 251 (KIT). */
  dimPose: number;
  joints: number;
  /** Frame rate of the features: 20 (HumanML3D), 12.5 (KIT). */
  fps: number;
  /**
   * Frame rate used to turn caption sub-span times (seconds) into frame indices. The public
   * loader multiplies by 20 for both datasets (a hard-coded constant), so KIT keeps 20 here too;
   * KIT's captions all cover the whole clip, so the value does not matter in practice.
   */
  spanFps: number;
  /** Clips (and sub-spans) shorter than this are dropped: 40 (HumanML3D), 24 (KIT). */
  minMotionLength: number;
  /** Clips (and sub-spans) of this many frames or more are dropped (both: 200). */
  maxClipLength: number;
  /** Padded length of a batch item (both: 196). */
  maxMotionLength: number;
  /** Crop lengths are multiples of this (both: 4). */
  unitLength: number;
  /** Tokens kept before `sos`/`eos` are added (both: 20; padded length is 22). */
  maxTextLen: number;
}

/**
 * The public settings of `dataset`, rooted at `dataRoot` (default as in MDM:
 * `./dataset/HumanML3D` or `./dataset/KIT-ML`).
 */
export function datasetOptions(dataset: DatasetName, dataRoot?: string): DatasetOptions {
  const common = {
    spanFps: 20,
    maxClipLength: 200,
    maxMotionLength: 196,
    unitLength: 4,
    maxTextLen: 20,
  };
  if (dataset === "humanml") {
    return {
      dataset,
      dataRoot: dataRoot ?? "./dataset/HumanML3D",
      dimPose: 263,
      joints: 22,
      fps: 20,
      minMotionLength: 40,
      ...common,
    };
  }
  if (dataset === "kit") {
    return {
      dataset,
      dataRoot: dataRoot ?? "./dataset/KIT-ML",
      dimPose: 251,
      joints: 21,
      fps: 12.5,
      minMotionLength: 24,
      ...common,
    };
  }
  throw new RangeError(`Cannot configure dataset: "${dataset}" is not humanml or kit`);
}
