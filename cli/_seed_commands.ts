/**
 * Reads the command lines out of the seed's usage guide (`grpo_usage.zh.md`), so tests can check
 * that every seed command runs after swapping its prefix for ours:
 *
 * | seed | ours |
 * |---|---|
 * | `python -m train.train_grpo` | `deno task train-grpo` |
 * | `python -m eval.eval_humanml` | `deno task eval-humanml` |
 * | `python scripts/construct_composite_dataset.py` | `deno task construct-composite` |
 *
 * Commands are looked for inside fenced code blocks only. Lines are joined as a reader joins
 * them: a trailing backslash continues the command (trailing spaces after it are forgiven, as a
 * reader does not see them), and so does a line starting with `--` right after a command line,
 * which is how the guide sometimes breaks a long command without a backslash. The joined text is
 * then split into words like a POSIX shell would (quotes, backslash escapes, `#` comments), so
 * the guide's typo `mdm \ --reward_type` gives the word `" --reward_type"`, as it would in bash.
 * @module
 */

/** Our command for a seed program. */
export type SeedProgram = "train-grpo" | "eval-humanml" | "construct-composite";

/** One command line found in the guide. */
export interface SeedCommand {
  /** Which of our commands it maps to. */
  program: SeedProgram;
  /** 1-based line of the guide where the command starts. */
  line: number;
  /** 1-based line where it ends (after continuations). */
  endLine: number;
  /** The joined command text, one line. */
  text: string;
  /** The words after the program (what our command receives). */
  args: string[];
  /** The guide elides part of it with `...` (e.g. `python -m train.train_grpo ... --flag`). */
  elided: boolean;
}

/** Seed invocations and the number of words they take before the flags begin. */
const PREFIXES: readonly { words: readonly string[]; program: SeedProgram }[] = [
  { words: ["python", "-m", "train.train_grpo"], program: "train-grpo" },
  { words: ["python", "-m", "eval.eval_humanml"], program: "eval-humanml" },
  { words: ["python", "scripts/construct_composite_dataset.py"], program: "construct-composite" },
];

/**
 * Splits `text` into words like a POSIX shell: blanks separate words; `'...'` is literal;
 * `"..."` keeps blanks and honours `\"`, `\\`, `` \` `` and `\$`; an unquoted backslash makes
 * the next character literal (`\ ` is a space inside a word; backslash-newline vanishes); an
 * unquoted `#` at the start of a word starts a comment. No expansion is done. Throws a
 * SyntaxError for an unterminated quote.
 *
 * @example
 * ```ts
 * import { shellWords } from "./_seed_commands.ts";
 * console.assert(shellWords(`a "b c" d\\ e`).join("|") === "a|b c|d e");
 * ```
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") {
      if (text[i + 1] === "\n") {
        i += 2;
        continue;
      }
      if (i + 1 < text.length) word += text[i + 1];
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError(`Cannot split command: unterminated ' at column ${i + 1}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && '"\\$`\n'.includes(text[j + 1] ?? "")) {
          if (text[j + 1] !== "\n") word += text[j + 1];
          j++;
        } else word += text[j];
      }
      if (j >= text.length) {
        throw new SyntaxError(`Cannot split command: unterminated " at column ${i + 1}`);
      }
      inWord = true;
      i = j + 1;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "#" && !inWord) {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function matchPrefix(words: readonly string[]): (typeof PREFIXES)[number] | null {
  for (const p of PREFIXES) {
    if (p.words.every((w, i) => words[i] === w)) return p;
  }
  return null;
}

/** Whether a line opens or closes a fenced code block. */
function isFence(line: string): boolean {
  return /^\s*(```|~~~)/.test(line);
}

/** A trailing backslash, ignoring the blanks after it (invisible to a reader). */
function continues(line: string): boolean {
  return /\\[ \t]*$/.test(line);
}

/**
 * Every `train_grpo`, `eval_humanml` and `construct_composite_dataset` command in the guide's
 * fenced code blocks, in order, with continuation lines joined (see the module doc).
 */
export function extractSeedCommands(markdown: string): SeedCommand[] {
  const lines = markdown.split(/\r?\n/);
  const found: SeedCommand[] = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    if (isFence(lines[i])) {
      inFence = !inFence;
      continue;
    }
    if (!inFence || !/^\s*python\s/.test(lines[i])) continue;
    const start = i;
    const parts = [lines[i]];
    while (i + 1 < lines.length && !isFence(lines[i + 1])) {
      const next = lines[i + 1];
      if (continues(lines[i])) {
        // The backslash ends the line for a reader: drop it and carry on with the next line.
        parts[parts.length - 1] = lines[i].replace(/\\[ \t]*$/, "");
        if (next.trim() === "") break;
      } else if (!/^\s*--/.test(next)) {
        break;
      }
      parts.push(next);
      i++;
    }
    const text = parts.map((p) => p.trim()).join(" ");
    const words = shellWords(text);
    const prefix = matchPrefix(words);
    if (prefix === null) continue;
    found.push({
      program: prefix.program,
      line: start + 1,
      endLine: i + 1,
      text,
      args: words.slice(prefix.words.length),
      elided: words.includes("..."),
    });
  }
  return found;
}
