/**
 * HumanML3D caption files (`texts/{id}.txt`): one caption per line,
 * `caption#word/POS word/POS ...#from#to`, where `from`/`to` are seconds into the clip and
 * `0.0#0.0` means the whole clip. Tokens are padded for the T2M text encoder as
 * `sos/OTHER, tokens[:20], eos/OTHER, unk/OTHER...` to 22 entries.
 * @module
 */

/** One parsed caption line. */
export interface Caption {
  caption: string;
  /** `word/POS` tokens as written (not padded). */
  tokens: string[];
  /** Start of the described span in seconds (0 with `to` 0: the whole clip; NaN becomes 0). */
  from: number;
  to: number;
}

/** The result of parsing one caption file: captions, or the first malformed line. */
export type CaptionFile =
  | { ok: true; captions: Caption[] }
  | { ok: false; error: string };

/** Python `float()` syntax (`nan` and `inf` included), so that we accept what the public loader accepts. */
const PY_FLOAT = /^[+-]?((\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)([eE][+-]?\d+)?|nan|inf|infinity)$/i;

function parsePyFloat(s: string): number | undefined {
  const t = s.trim();
  if (!PY_FLOAT.test(t)) return undefined;
  const lower = t.toLowerCase().replace(/_/g, "");
  if (lower.endsWith("nan")) return NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) {
    return lower.startsWith("-") ? -Infinity : Infinity;
  }
  return Number(lower);
}

/**
 * Parses the text of one caption file. Blank lines are skipped. A line is malformed when it has
 * fewer than four `#` fields, a token that is not `word/POS`, or a `from`/`to` that is not a
 * number; the error reads `path:line: detail`. Like the public loader, fields after the fourth
 * are ignored and NaN times count as 0.
 */
export function parseCaptionFile(text: string, path: string): CaptionFile {
  const captions: Caption[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const where = `${path}:${i + 1}`;
    const fields = line.split("#");
    if (fields.length < 4) {
      return {
        ok: false,
        error: `${where}: expected caption#tokens#from#to, found ${fields.length} field(s)`,
      };
    }
    const tokens = fields[1].split(" ");
    const bad = tokens.find((t) => t.split("/").length !== 2);
    if (bad !== undefined) {
      return { ok: false, error: `${where}: token "${bad}" is not word/POS` };
    }
    const from = parsePyFloat(fields[2]);
    const to = parsePyFloat(fields[3]);
    if (from === undefined || to === undefined) {
      return {
        ok: false,
        error: `${where}: span "${fields[2]}#${fields[3]}" is not two numbers (seconds)`,
      };
    }
    captions.push({
      caption: fields[0],
      tokens,
      from: Number.isNaN(from) ? 0 : from,
      to: Number.isNaN(to) ? 0 : to,
    });
  }
  return { ok: true, captions };
}

/** Padded tokens and the sentence length (`sos` + kept tokens + `eos`). */
export interface PaddedTokens {
  /** `maxTextLen + 2` entries. */
  tokens: string[];
  sentLen: number;
}

/**
 * Wraps tokens for the T2M text encoder: fewer than `maxTextLen` tokens get `sos/OTHER`,
 * the tokens, `eos/OTHER`, then `unk/OTHER` up to `maxTextLen + 2`; longer lists are cut to
 * `maxTextLen` first (then `sentLen = maxTextLen + 2`).
 */
export function padTokens(tokens: readonly string[], maxTextLen = 20): PaddedTokens {
  const kept = tokens.length < maxTextLen ? tokens : tokens.slice(0, maxTextLen);
  const out = ["sos/OTHER", ...kept, "eos/OTHER"];
  const sentLen = out.length;
  while (out.length < maxTextLen + 2) out.push("unk/OTHER");
  return { tokens: out, sentLen };
}
