/**
 * Zip archives as PyTorch checkpoints use them: stored entries with aligned data, zip64 reading.
 * @module
 */
export * from "./crc32.ts";
export * from "./zip_reader.ts";
export * from "./zip_writer.ts";
