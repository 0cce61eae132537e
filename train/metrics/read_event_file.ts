/**
 * Reads a TensorBoard event file back: every record's CRCs are verified and every event decoded
 * (scalars only; see `event_proto.ts`).
 *
 * @module
 */
import { decodeEvent, type TbEvent } from "./event_proto.ts";
import { decodeTfRecords } from "./tfrecord.ts";

/**
 * Parses the bytes of an event file.
 *
 * @param bytes the whole file.
 * @param name the file name, for error messages.
 * @returns the events in file order.
 * @throws {SyntaxError} on a CRC mismatch, truncation or malformed protobuf.
 */
export function parseEventFile(bytes: Uint8Array, name = "event file"): TbEvent[] {
  return decodeTfRecords(bytes, `"${name}"`).map((r, i) => {
    try {
      return decodeEvent(r);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SyntaxError(`Cannot read "${name}": record ${i}: ${why}`);
    }
  });
}

/** Reads and parses an event file (see `parseEventFile()`). */
export async function readEventFile(path: string): Promise<TbEvent[]> {
  return parseEventFile(await Deno.readFile(path), path);
}
