/**
 * The HumanML3D / KIT-ML motion representation: skeletons, quaternions, features → joints
 * (`recoverFromRic`) and joints → features (`jointsToFeatures`), foot contacts and foot skating.
 *
 * @module
 */
export * from "./foot_contacts.ts";
export * from "./forward_kinematics.ts";
export * from "./inverse_kinematics.ts";
export * from "./process.ts";
export * from "./quaternion.ts";
export * from "./recover.ts";
export * from "./skate.ts";
export * from "./skeleton.ts";
export * from "./uniform_skeleton.ts";
