/**
 * The T2M text encoder's inputs: GloVe vectors and 15-way POS one-hots of `word/POS` tokens
 * (Guo et al.'s `WordVectorizer`, used by MDM's evaluation), for captions padded as the
 * HumanML3D loader pads them (`sos/OTHER`, tokens[:20], `eos/OTHER`, `unk/OTHER` up to 22;
 * length = kept tokens + 2).
 *
 * Per token: a word in the vocabulary gets its vector, and the POS of its "VIP" class when it
 * belongs to one of the five word lists below (whatever the tagger said), else its tagged POS
 * (OTHER when the tag is not one of the 15). A word out of the vocabulary gets the vector of
 * `unk` and POS OTHER. Matching is exact and case-sensitive, as in the original.
 * @module
 */
import { padTokens } from "../../datasets/humanml/text.ts";
import { type GloveVectors, UNKNOWN_WORD } from "./glove.ts";

/** The POS categories in one-hot order (index = position). */
export const T2M_POS_CATEGORIES = [
  "VERB",
  "NOUN",
  "DET",
  "ADP",
  "NUM",
  "AUX",
  "PRON",
  "ADJ",
  "ADV",
  "Loc_VIP",
  "Body_VIP",
  "Obj_VIP",
  "Act_VIP",
  "Desc_VIP",
  "OTHER",
] as const;

/** One of {@linkcode T2M_POS_CATEGORIES}. */
export type T2mPos = (typeof T2M_POS_CATEGORIES)[number];

/** Width of the POS one-hot (15). */
export const T2M_POS_DIM = T2M_POS_CATEGORIES.length;
/** Tokens kept per caption before `sos`/`eos` are added. */
export const T2M_MAX_TEXT_LEN = 20;

/** Words whose POS is replaced by a VIP class, checked in this order. */
export const T2M_VIP_WORDS: Readonly<Record<string, readonly string[]>> = {
  Loc_VIP: [
    "left",
    "right",
    "clockwise",
    "counterclockwise",
    "anticlockwise",
    "forward",
    "back",
    "backward",
    "up",
    "down",
    "straight",
    "curve",
  ],
  Body_VIP: [
    "arm",
    "chin",
    "foot",
    "feet",
    "face",
    "hand",
    "mouth",
    "leg",
    "waist",
    "eye",
    "knee",
    "shoulder",
    "thigh",
  ],
  Obj_VIP: [
    "stair",
    "dumbbell",
    "chair",
    "window",
    "floor",
    "car",
    "ball",
    "handrail",
    "baseball",
    "basketball",
  ],
  Act_VIP: [
    "walk",
    "run",
    "swing",
    "pick",
    "bring",
    "kick",
    "put",
    "squat",
    "throw",
    "hop",
    "dance",
    "jump",
    "turn",
    "stumble",
    "stop",
    "sit",
    "lift",
    "lower",
    "raise",
    "wash",
    "stand",
    "kneel",
    "stroll",
    "rub",
    "bend",
    "balance",
    "flap",
    "jog",
    "shuffle",
    "lean",
    "rotate",
    "spin",
    "spread",
    "climb",
  ],
  Desc_VIP: [
    "slowly",
    "carefully",
    "fast",
    "careful",
    "slow",
    "quickly",
    "happy",
    "angry",
    "sad",
    "happily",
    "angrily",
    "sadly",
  ],
};

const POS_INDEX = new Map<string, number>(T2M_POS_CATEGORIES.map((p, i) => [p, i]));
const OTHER = POS_INDEX.get("OTHER")!;
const VIP_OF = new Map<string, number>();
for (const [cls, words] of Object.entries(T2M_VIP_WORDS)) {
  for (const w of words) if (!VIP_OF.has(w)) VIP_OF.set(w, POS_INDEX.get(cls)!);
}

/** Index in {@linkcode T2M_POS_CATEGORIES} of a tag; tags outside the 15 count as OTHER. */
export function t2mPosIndex(pos: string): number {
  return POS_INDEX.get(pos) ?? OTHER;
}

/** Splits `word/POS`; throws SyntaxError unless there is exactly one slash. */
export function splitToken(token: string): [word: string, pos: string] {
  const parts = token.split("/");
  if (parts.length !== 2) {
    throw new SyntaxError(`Cannot vectorise token "${token}": expected word/POS`);
  }
  return [parts[0], parts[1]];
}

/** Padded text-encoder inputs of N captions. */
export interface T2mTextBatch {
  N: number;
  /** Padded length L (22). */
  L: number;
  /** GloVe vectors (N, L, W). */
  wordEmbs: Float32Array;
  /** POS one-hots (N, L, 15). */
  posOnehot: Float32Array;
  /** Real tokens + 2 (N). */
  lengths: Int32Array;
  /** The padded tokens (N × L). */
  tokens: string[][];
}

/** GloVe vectors and POS one-hots of `word/POS` tokens; see the module doc. */
export class T2mWordVectorizer {
  readonly glove: GloveVectors;
  readonly maxTextLen: number;

  /** @param maxTextLen tokens kept per caption before `sos`/`eos` (20 in the T2M code) */
  constructor(glove: GloveVectors, maxTextLen = T2M_MAX_TEXT_LEN) {
    this.glove = glove;
    this.maxTextLen = maxTextLen;
  }

  /** Width of the word vectors. */
  get dim(): number {
    return this.glove.dim;
  }

  /** The vector (W, a view) and POS index of one `word/POS` token. */
  vectorize(token: string): { vector: Float32Array; pos: number } {
    const [word, tag] = splitToken(token);
    const vector = this.glove.vector(word);
    if (vector === undefined) return { vector: this.glove.vector(UNKNOWN_WORD)!, pos: OTHER };
    return { vector, pos: VIP_OF.get(word) ?? t2mPosIndex(tag) };
  }

  /** Pads each token list (see the module doc) and vectorises it. */
  batch(tokenLists: readonly (readonly string[])[]): T2mTextBatch {
    const N = tokenLists.length, L = this.maxTextLen + 2, W = this.dim;
    const wordEmbs = new Float32Array(N * L * W); // (N, L, W)
    const posOnehot = new Float32Array(N * L * T2M_POS_DIM); // (N, L, 15)
    const lengths = new Int32Array(N); // (N)
    const tokens: string[][] = [];
    for (let n = 0; n < N; n++) {
      const padded = padTokens(tokenLists[n], this.maxTextLen);
      lengths[n] = padded.sentLen;
      tokens.push(padded.tokens);
      for (let l = 0; l < L; l++) {
        const { vector, pos } = this.vectorize(padded.tokens[l]);
        wordEmbs.set(vector, (n * L + l) * W);
        posOnehot[(n * L + l) * T2M_POS_DIM + pos] = 1;
      }
    }
    return { N, L, wordEmbs, posOnehot, lengths, tokens };
  }
}
