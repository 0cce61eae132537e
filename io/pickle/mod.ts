/**
 * Python pickle streams: a writer for GLOBAL/REDUCE/BUILD object trees and a safe reader that
 * resolves globals only through an allow-list.
 * @module
 */
export * from "./values.ts";
export * from "./writer.ts";
export * from "./reader.ts";
