/**
 * The procedural mini motion dataset: clip generator, caption grammar, mirroring, and the writer
 * of the HumanML3D layout (`deno task make-mini`). See README.md in this folder.
 *
 * @module
 */
export * from "./captions.ts";
export * from "./families.ts";
export * from "./generate_clip.ts";
export * from "./make_mini_dataset.ts";
export * from "./mirror.ts";
