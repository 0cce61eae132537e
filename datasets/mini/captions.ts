/**
 * Caption grammar of the mini dataset. Every caption is built as a list of words that each carry
 * their lemma and universal POS tag, so the HumanML3D token string comes out exactly: the public
 * process (spaCy) writes `lemma/POS` for nouns and verbs and `word/POS` for everything else, drops
 * punctuation, and never lemmatises "left". Text lines are `caption#tokens#from#to`, with from/to
 * in seconds and `0.0#0.0` for the whole clip.
 *
 * @module
 */
import type { Rng } from "../../kernels/rng/philox.ts";

/** Universal POS tags used by the grammar. */
export type Pos =
  | "DET"
  | "NOUN"
  | "VERB"
  | "ADP"
  | "ADJ"
  | "ADV"
  | "PRON"
  | "CCONJ"
  | "SCONJ"
  | "NUM"
  | "PART"
  | "INTJ";

/** One word of a caption. */
export interface Word {
  text: string;
  lemma: string;
  pos: Pos;
}

/** Left or right, as said in captions. */
export type Side = "left" | "right";

/** What one segment of a clip shows; the captioner turns it into a verb phrase. */
export type Semantic =
  | {
    kind: "walk";
    speed: "slow" | "normal" | "fast";
    path: "straight" | "circle" | "curve";
    turn: Side;
  }
  | { kind: "walk_backward" }
  | { kind: "run"; speed: "normal" | "fast"; path: "straight" | "circle" | "curve"; turn: Side }
  | { kind: "turn"; side: Side; angle: 90 | 180 | 360 }
  | { kind: "jump"; forward: boolean; count: number }
  | { kind: "kick"; side: Side; count: number }
  | { kind: "wave"; side: Side | "both" }
  | { kind: "squat"; count: number }
  | { kind: "sit"; standUp: boolean }
  | { kind: "sidestep"; side: Side }
  | { kind: "crawl" };

/** One line of a HumanML3D text file. */
export interface TextLine {
  caption: string;
  /** `word/POS` tokens. */
  tokens: string[];
  /** Seconds; 0 and 0 mean the whole clip. */
  from: number;
  to: number;
}

// ---- word helpers ------------------------------------------------------------------------------

/** Parses "text/POS" or "text/POS/lemma" items separated by spaces. */
function ws(spec: string): Word[] {
  return spec.split(" ").filter((s) => s.length > 0).map((item) => {
    const [text, pos, lemma] = item.split("/");
    return { text, pos: pos as Pos, lemma: lemma ?? text };
  });
}

type Phrase = Word[];

interface Subject {
  words: Phrase;
  /** Possessive determiner to use with body parts. */
  poss: string[];
}

const SUBJECTS: readonly Subject[] = [
  { words: ws("a/DET person/NOUN"), poss: ["his", "their", "the"] },
  { words: ws("a/DET man/NOUN"), poss: ["his", "the"] },
  { words: ws("a/DET woman/NOUN"), poss: ["her", "the"] },
  { words: ws("the/DET person/NOUN"), poss: ["his", "their", "the"] },
  { words: ws("someone/PRON"), poss: ["his", "their", "the"] },
  { words: ws("the/DET man/NOUN"), poss: ["his", "the"] },
  { words: ws("a/DET figure/NOUN"), poss: ["its", "the"] },
  { words: ws("somebody/PRON"), poss: ["his", "the"] },
];

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five"];

function times(rng: Rng, count: number): Phrase {
  if (count === 2 && rng.uniform() < 0.6) return ws("twice/ADV");
  return [...ws(`${NUMBER_WORDS[count]}/NUM`), ...ws("times/NOUN/time")];
}

function dirPhrase(rng: Rng, path: "straight" | "circle" | "curve", turn: Side): Phrase {
  const rot = turn === "left" ? "counterclockwise" : "clockwise";
  if (path === "circle") {
    return ws(rng.pick([
      "in/ADP a/DET circle/NOUN",
      "around/ADV in/ADP a/DET circle/NOUN",
      `in/ADP a/DET ${rot}/ADJ circle/NOUN`,
      `${rot}/ADV in/ADP a/DET circle/NOUN`,
      `in/ADP a/DET full/ADJ circle/NOUN to/ADP the/DET ${turn}/NOUN`,
    ]));
  }
  if (path === "curve") {
    return ws(rng.pick([
      `in/ADP a/DET curve/NOUN to/ADP the/DET ${turn}/NOUN`,
      `forward/ADV and/CCONJ veers/VERB/veer to/ADP the/DET ${turn}/NOUN`,
      `forward/ADV while/SCONJ turning/VERB/turn ${turn}/ADV`,
      `along/ADP a/DET curved/ADJ path/NOUN to/ADP the/DET ${turn}/NOUN`,
    ]));
  }
  return ws(rng.pick([
    "forward/ADV",
    "forward/ADV",
    "ahead/ADV",
    "straight/ADV ahead/ADV",
    "forward/ADV in/ADP a/DET straight/ADJ line/NOUN",
    "",
  ]));
}

/** A verb phrase (third person singular) for one semantic segment. */
export function verbPhrase(rng: Rng, sem: Semantic, poss: string): Phrase {
  const my = `${poss}/DET`;
  switch (sem.kind) {
    case "walk": {
      const slow = sem.speed === "slow", fast = sem.speed === "fast";
      const verb = ws(rng.pick(
        slow
          ? ["walks/VERB/walk", "strolls/VERB/stroll", "ambles/VERB/amble"]
          : fast
          ? ["walks/VERB/walk", "hurries/VERB/hurry", "walks/VERB/walk"]
          : ["walks/VERB/walk", "walks/VERB/walk", "strolls/VERB/stroll", "paces/VERB/pace"],
      ));
      const adv = slow
        ? ws(rng.pick(["slowly/ADV", "slowly/ADV", ""]))
        : fast
        ? ws(rng.pick(["quickly/ADV", "briskly/ADV", "fast/ADV"]))
        : [];
      return [...verb, ...dirPhrase(rng, sem.path, sem.turn), ...adv];
    }
    case "walk_backward":
      return ws(rng.pick([
        "walks/VERB/walk backward/ADV",
        "walks/VERB/walk backwards/ADV",
        "steps/VERB/step backward/ADV slowly/ADV",
        "moves/VERB/move backwards/ADV",
        "walks/VERB/walk in/ADP reverse/NOUN",
      ]));
    case "run": {
      const verb = ws(rng.pick(
        sem.speed === "fast"
          ? ["sprints/VERB/sprint", "runs/VERB/run quickly/ADV", "runs/VERB/run fast/ADV"]
          : ["runs/VERB/run", "jogs/VERB/jog", "runs/VERB/run", "jogs/VERB/jog"],
      ));
      return [...verb.slice(0, 1), ...dirPhrase(rng, sem.path, sem.turn), ...verb.slice(1)];
    }
    case "turn": {
      const s = sem.side;
      if (sem.angle === 90) {
        return ws(rng.pick([
          `turns/VERB/turn to/ADP the/DET ${s}/NOUN`,
          `turns/VERB/turn ${s}/ADV`,
          `turns/VERB/turn ninety/NUM degrees/NOUN/degree to/ADP the/DET ${s}/NOUN`,
          `rotates/VERB/rotate to/ADP ${my} ${s}/NOUN`,
          `turns/VERB/turn ${s}/ADV in/ADP place/NOUN`,
        ]));
      }
      if (sem.angle === 180) {
        return ws(rng.pick([
          "turns/VERB/turn around/ADV",
          `turns/VERB/turn around/ADV to/ADP the/DET ${s}/NOUN`,
          "turns/VERB/turn to/PART face/VERB the/DET opposite/ADJ direction/NOUN",
          `turns/VERB/turn around/ADV over/ADP ${my} ${s}/ADJ shoulder/NOUN`,
        ]));
      }
      return ws(rng.pick([
        "spins/VERB/spin around/ADV in/ADP a/DET full/ADJ circle/NOUN",
        `turns/VERB/turn a/DET full/ADJ circle/NOUN to/ADP the/DET ${s}/NOUN`,
        "turns/VERB/turn around/ADV completely/ADV",
        `does/VERB/do a/DET full/ADJ turn/NOUN to/ADP the/DET ${s}/NOUN`,
      ]));
    }
    case "jump": {
      const c = sem.count;
      const base = sem.forward
        ? ws(
          rng.pick([
            "jumps/VERB/jump forward/ADV",
            "leaps/VERB/leap forward/ADV",
            "hops/VERB/hop forward/ADV",
          ]),
        )
        : ws(rng.pick(
          c === 1
            ? [
              "jumps/VERB/jump",
              "jumps/VERB/jump up/ADV",
              "jumps/VERB/jump in/ADP place/NOUN",
              "hops/VERB/hop up/ADV",
            ]
            : [
              "jumps/VERB/jump",
              "jumps/VERB/jump up/ADV and/CCONJ down/ADV",
              "jumps/VERB/jump in/ADP place/NOUN",
              "hops/VERB/hop in/ADP place/NOUN",
            ],
        ));
      return c === 1 ? base : [...base, ...times(rng, c)];
    }
    case "kick": {
      const s = sem.side;
      const base = ws(rng.pick([
        `kicks/VERB/kick with/ADP ${my} ${s}/ADJ foot/NOUN`,
        `kicks/VERB/kick with/ADP ${my} ${s}/ADJ leg/NOUN`,
        `kicks/VERB/kick ${my} ${s}/ADJ leg/NOUN forward/ADV`,
        `kicks/VERB/kick out/ADP with/ADP the/DET ${s}/ADJ foot/NOUN`,
        `does/VERB/do a/DET front/ADJ kick/NOUN with/ADP the/DET ${s}/ADJ leg/NOUN`,
        `kicks/VERB/kick forward/ADV with/ADP ${my} ${s}/ADJ foot/NOUN`,
      ]));
      return sem.count === 1 ? base : [...base, ...times(rng, sem.count)];
    }
    case "wave": {
      if (sem.side === "both") {
        return ws(rng.pick([
          "waves/VERB/wave both/DET hands/NOUN/hand",
          "waves/VERB/wave with/ADP both/DET arms/NOUN/arm above/ADP the/DET head/NOUN",
          "raises/VERB/raise both/DET hands/NOUN/hand and/CCONJ waves/VERB/wave",
          `waves/VERB/wave ${my} arms/NOUN/arm over/ADP ${my} head/NOUN`,
        ]));
      }
      const s = sem.side;
      return ws(rng.pick([
        `waves/VERB/wave with/ADP ${my} ${s}/ADJ hand/NOUN`,
        `waves/VERB/wave the/DET ${s}/ADJ hand/NOUN`,
        `raises/VERB/raise ${my} ${s}/ADJ hand/NOUN and/CCONJ waves/VERB/wave`,
        `waves/VERB/wave hello/INTJ with/ADP the/DET ${s}/ADJ hand/NOUN`,
        `lifts/VERB/lift ${my} ${s}/ADJ arm/NOUN and/CCONJ waves/VERB/wave`,
      ]));
    }
    case "squat": {
      const c = sem.count;
      if (c === 1) {
        return ws(rng.pick([
          "squats/VERB/squat down/ADP",
          "does/VERB/do a/DET squat/NOUN",
          "crouches/VERB/crouch down/ADP and/CCONJ stands/VERB/stand back/ADV up/ADP",
          "squats/VERB/squat and/CCONJ stands/VERB/stand up/ADP",
        ]));
      }
      return rng.uniform() < 0.5
        ? [...ws("squats/VERB/squat"), ...times(rng, c)]
        : ws(`does/VERB/do ${NUMBER_WORDS[c]}/NUM squats/NOUN/squat`);
    }
    case "sit":
      return ws(rng.pick(
        sem.standUp
          ? [
            "sits/VERB/sit down/ADP and/CCONJ stands/VERB/stand back/ADV up/ADP",
            "sits/VERB/sit on/ADP a/DET chair/NOUN and/CCONJ then/ADV gets/VERB/get up/ADP",
            "sits/VERB/sit down/ADP briefly/ADV and/CCONJ stands/VERB/stand up/ADP again/ADV",
          ]
          : [
            "sits/VERB/sit down/ADP",
            "sits/VERB/sit down/ADP on/ADP a/DET chair/NOUN",
            "takes/VERB/take a/DET seat/NOUN",
            "sits/VERB/sit down/ADP slowly/ADV",
          ],
      ));
    case "sidestep": {
      const s = sem.side;
      return ws(rng.pick([
        `steps/VERB/step to/ADP the/DET ${s}/NOUN`,
        `sidesteps/VERB/sidestep to/ADP the/DET ${s}/NOUN`,
        `shuffles/VERB/shuffle sideways/ADV to/ADP the/DET ${s}/NOUN`,
        `moves/VERB/move sideways/ADV to/ADP ${my} ${s}/NOUN`,
        `takes/VERB/take a/DET few/ADJ steps/NOUN/step to/ADP the/DET ${s}/NOUN`,
      ]));
    }
    case "crawl":
      return ws(rng.pick([
        `crawls/VERB/crawl forward/ADV on/ADP ${my} hands/NOUN/hand and/CCONJ knees/NOUN/knee`,
        "crawls/VERB/crawl on/ADP all/DET fours/NOUN/four",
        "crawls/VERB/crawl ahead/ADV",
        "crawls/VERB/crawl forward/ADV slowly/ADV",
      ]));
  }
}

/** Renders words as caption text: spaces between words, commas kept, a final period. */
function renderText(words: readonly (Word | ",")[]): string {
  let s = "";
  for (const w of words) {
    if (w === ",") s += ",";
    else s += (s.length > 0 ? " " : "") + w.text;
  }
  return s + ".";
}

/** HumanML3D token of a word: the lemma for nouns and verbs (never for "left"), else the word. */
export function tokenOf(w: Word): string {
  const useLemma = (w.pos === "NOUN" || w.pos === "VERB") && w.text !== "left";
  return `${useLemma ? w.lemma : w.text}/${w.pos}`;
}

/** Seconds as HumanML3D writes them (`0.0`, `2.5`, `3.35`). */
export function formatSeconds(x: number): string {
  const s = String(Math.round(x * 100) / 100);
  return s.includes(".") ? s : `${s}.0`;
}

/** One text line in the HumanML3D format `caption#tokens#from#to`. */
export function formatTextLine(line: TextLine): string {
  return `${line.caption}#${line.tokens.join(" ")}#${formatSeconds(line.from)}#${
    formatSeconds(line.to)
  }`;
}

/** Parses a `caption#tokens#from#to` line; throws SyntaxError naming the problem. */
export function parseTextLine(line: string): TextLine {
  const parts = line.split("#");
  if (parts.length !== 4) {
    throw new SyntaxError(`Cannot parse text line "${line}": expected 4 fields separated by #`);
  }
  const from = Number(parts[2]), to = Number(parts[3]);
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new SyntaxError(`Cannot parse text line "${line}": from/to are not numbers`);
  }
  const tokens = parts[1].split(" ").filter((t) => t.length > 0);
  for (const t of tokens) {
    if (!/^[a-z]+\/[A-Z]+$/.test(t)) {
      throw new SyntaxError(`Cannot parse text line "${line}": token "${t}" is not word/POS`);
    }
  }
  return { caption: parts[0], tokens, from, to };
}

const CONJUNCTIONS: readonly string[] = [
  "and/CCONJ then/ADV",
  "and/CCONJ then/ADV",
  ", then/ADV",
  "and/CCONJ",
  ", and/CCONJ then/ADV",
  "before/ADP he/PRON",
];

/**
 * A caption for a sequence of segments: subject, then the verb phrases joined by conjunctions.
 */
export function captionFor(rng: Rng, sems: readonly Semantic[], from = 0, to = 0): TextLine {
  const subj = rng.pick(SUBJECTS);
  const poss = rng.pick(subj.poss);
  const words: (Word | ",")[] = [...subj.words];
  sems.forEach((sem, k) => {
    if (k > 0) {
      let conj = rng.pick(CONJUNCTIONS);
      // "before he ..." reads well only for a male subject.
      if (conj.startsWith("before") && poss !== "his") conj = "and/CCONJ then/ADV";
      if (conj.startsWith(",")) {
        words.push(",");
        conj = conj.slice(1);
      }
      words.push(...ws(conj));
    }
    words.push(...verbPhrase(rng, sem, poss));
  });
  const plain = words.filter((w): w is Word => w !== ",");
  return { caption: renderText(words), tokens: plain.map(tokenOf), from, to };
}

const MIRROR_WORDS: Readonly<Record<string, string>> = {
  left: "right",
  right: "left",
  clockwise: "counterclockwise",
  counterclockwise: "clockwise",
};

/** The caption of the mirrored clip: left ↔ right and clockwise ↔ counterclockwise swapped. */
export function mirrorTextLine(line: TextLine): TextLine {
  const swap = (s: string) =>
    s.replace(/\b(left|right|clockwise|counterclockwise)\b/g, (w) => MIRROR_WORDS[w]);
  return {
    caption: swap(line.caption),
    tokens: line.tokens.map((t) => {
      const [w, pos] = t.split("/");
      return `${MIRROR_WORDS[w] ?? w}/${pos}`;
    }),
    from: line.from,
    to: line.to,
  };
}
