/**
 * Checkpoint I/O: PyTorch `.pt`/`.tar` files (zip and legacy formats) read without running
 * pickled code, `.safetensors`, MDM checkpoint selection and `args.json`.
 * @module
 */
export * from "./state_dict.ts";
export * from "./safetensors.ts";
export * from "./torch_pt.ts";
export * from "./mdm_checkpoint.ts";
export * from "./write_file_atomic.ts";
