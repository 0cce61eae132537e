/**
 * `deno run -A cli/export_onnx.ts`: converts TMR-architecture encoder weights to ONNX files for
 * onnxruntime-web (onnx/tmr_encoder.ts), the form every frozen network runs in.
 *
 *   --model_dir DIR               a mini model folder (assets/mini/{tmr,evaluator,text}): writes
 *                                 text_encoder.onnx, and motion_encoder.onnx when the folder has
 *                                 a motion encoder (heads from its config.json)
 *   --tmr_text_encoder_path F     official TMR text_encoder.pt → tmr_text_encoder.onnx
 *   --tmr_motion_encoder_path F   official TMR motion_encoder.pt → tmr_motion_encoder.onnx
 *   --tmr_num_heads N             heads of the official files (not in the weights; TMR: 4)
 *   --output_dir DIR              where the files go (created if missing)
 *   --force                       overwrite existing files
 *
 * Every input is read and converted before anything is written, and each file is written to a
 * temporary name and renamed, so a failure leaves no partial file. Existing outputs are refused
 * without --force. Any bad flag or input prints one line naming it and exits with code 2.
 * @module
 */
import { basename } from "node:path";
import { Command } from "commander";
import { intFlag, parseOrReport, UsageError } from "./_commander.ts";
import type { StateDict } from "../models/checkpoint/state_dict.ts";
import { loadStateDictFile } from "../models/checkpoint/torch_pt.ts";
import { writeFileAtomic } from "../models/checkpoint/write_file_atomic.ts";
import { readMiniConfig } from "../models/mini/mini_encoder.ts";
import { MINI_ONNX_FILES } from "../models/mini/onnx_encoder.ts";
import { sha256Hex } from "../models/text/assets.ts";
import { tmrEncoderToOnnx } from "../onnx/tmr_encoder.ts";

const COMMAND = "deno run -A cli/export_onnx.ts";

/** Output names of the official TMR files. */
export const TMR_ONNX_FILES = {
  text: "tmr_text_encoder.onnx",
  motion: "tmr_motion_encoder.onnx",
} as const;

/** Parsed flags (snake_case as on the command line). */
interface Flags {
  model_dir?: string;
  tmr_text_encoder_path?: string;
  tmr_motion_encoder_path?: string;
  tmr_num_heads: number;
  output_dir: string;
  force: boolean;
}

/** One file to convert. */
interface Job {
  source: string;
  /** Recorded in the model's metadata: the file name, so the bytes do not depend on paths. */
  label: string;
  output: string;
  heads: number;
}

/** A bad input (file or folder): one line, exit code 2, nothing written. */
class InputError extends Error {}

function program(): Command {
  return new Command()
    .name(COMMAND)
    .description("Export TMR-architecture encoders (mini or official) to ONNX.")
    .option("--model_dir <dir>", "mini model folder (text_encoder.pt, motion_encoder.pt)")
    .option("--tmr_text_encoder_path <file>", "official TMR text_encoder.pt (a state dict)")
    .option("--tmr_motion_encoder_path <file>", "official TMR motion_encoder.pt (a state dict)")
    .option(
      "--tmr_num_heads <n>",
      "attention heads of the official TMR files",
      intFlag("--tmr_num_heads", 1, 1024),
      4,
    )
    .requiredOption("--output_dir <dir>", "folder the ONNX files are written to")
    .option("--force", "overwrite existing ONNX files", false)
    .allowExcessArguments(false)
    .allowUnknownOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The jobs of a mini model folder; a missing folder or file names what is missing. */
async function miniJobs(dir: string, outDir: string): Promise<Job[]> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(dir)).isDirectory;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!isDir) throw new InputError(`Invalid --model_dir "${dir}": no such folder`);
  let cfg;
  try {
    cfg = await readMiniConfig(dir);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const jobs: Job[] = [];
  const add = async (weights: string, onnx: string, heads: number) => {
    const source = `${dir}/${weights}`;
    if (!(await isFile(source))) {
      throw new InputError(`Invalid --model_dir "${dir}": "${source}" does not exist`);
    }
    jobs.push({ source, label: `mini-${cfg.role}/${weights}`, output: `${outDir}/${onnx}`, heads });
  };
  await add("text_encoder.pt", MINI_ONNX_FILES.text, cfg.text_encoder.heads);
  // A text-only folder (conditioning encoder) has no motion side.
  if (cfg.motion && cfg.motion_encoder) {
    await add("motion_encoder.pt", MINI_ONNX_FILES.motion, cfg.motion_encoder.heads);
  }
  return jobs;
}

/** Converts one job's state dict; a bad file is an InputError naming it. */
async function convert(job: Job): Promise<Uint8Array> {
  let sd: StateDict;
  try {
    sd = await loadStateDictFile(job.source);
  } catch (e) {
    const msg = (e as Error).message;
    throw new InputError(
      msg.includes(job.source) ? msg : `Cannot load "${job.source}": ${msg}`,
    );
  }
  try {
    return tmrEncoderToOnnx(sd, { numHeads: job.heads, source: job.label });
  } catch (e) {
    throw new InputError(`Cannot convert "${job.source}": ${(e as Error).message}`);
  }
}

/** A file written by {@linkcode main}. */
export interface ExportedFile {
  source: string;
  output: string;
  bytes: number;
  sha256: string;
}

/** Plans, converts and writes; throws InputError on bad input before writing anything. */
async function exportAll(flags: Flags): Promise<ExportedFile[]> {
  const outDir = flags.output_dir;
  const jobs: Job[] = [];
  if (flags.model_dir !== undefined) jobs.push(...await miniJobs(flags.model_dir, outDir));
  const official: [string | undefined, string, string][] = [
    [flags.tmr_text_encoder_path, "--tmr_text_encoder_path", TMR_ONNX_FILES.text],
    [flags.tmr_motion_encoder_path, "--tmr_motion_encoder_path", TMR_ONNX_FILES.motion],
  ];
  for (const [path, flag, onnx] of official) {
    if (path === undefined) continue;
    if (!(await isFile(path))) throw new InputError(`Invalid ${flag} "${path}": no such file`);
    jobs.push({
      source: path,
      label: `tmr/${basename(path)}`,
      output: `${outDir}/${onnx}`,
      heads: flags.tmr_num_heads,
    });
  }
  if (jobs.length === 0) {
    throw new UsageError(
      "nothing to export: pass --model_dir, --tmr_text_encoder_path or --tmr_motion_encoder_path",
    );
  }
  if (!flags.force) {
    for (const job of jobs) {
      if (await isFile(job.output)) {
        throw new InputError(
          `Cannot write "${job.output}": the file exists (pass --force to overwrite it)`,
        );
      }
    }
  }
  const models = [];
  for (const job of jobs) models.push(await convert(job));
  await Deno.mkdir(outDir, { recursive: true });
  const written: ExportedFile[] = [];
  for (let i = 0; i < jobs.length; i++) {
    await writeFileAtomic(jobs[i].output, models[i]);
    written.push({
      source: jobs[i].source,
      output: jobs[i].output,
      bytes: models[i].length,
      sha256: await sha256Hex(models[i]),
    });
  }
  return written;
}

/** Runs the command on `args`; returns the exit code (0 ok, 2 bad flag or input). */
export async function main(args: string[]): Promise<number> {
  const cmd = program();
  const failed = parseOrReport(cmd, args, COMMAND);
  if (failed !== null) return failed;
  let written: ExportedFile[];
  try {
    written = await exportAll(cmd.opts<Flags>());
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      console.error(`Cannot run ${COMMAND}: ${e.message.replace(/\s*\n\s*/g, " ")}`);
      return 2;
    }
    throw e;
  }
  for (const f of written) {
    console.log(`Wrote ${f.output} (${f.bytes} bytes, sha256 ${f.sha256}) from ${f.source}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
