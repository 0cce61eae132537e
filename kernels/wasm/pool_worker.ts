/**
 * A worker thread of the WASM kernels' pool (kernels/wasm/pool.ts): its own instances of the GEMM,
 * attention and element-wise modules on the shared memories (and views of them and of the scratch
 * memory), waiting on its slot of the control block for a share of a call to compute.
 */
import { parentPort } from "node:worker_threads";
import { ATTENTION_JOB, attentionPart, instantiateAttention } from "./_attention_instance.ts";
import { instantiateGemm } from "./_gemm_instance.ts";
import { GEMM_JOB, gemmCols, gemmRows } from "./_gemm_share.ts";
import { GELU_JOB, geluPart, instantiateElementwise } from "./elementwise_f32.ts";
import { RANDN_JOB, randnShare } from "./philox_f32.ts";
import { awaitWord, JobKind, type PoolMemories, syncMemories } from "./pool.ts";
import { JOB_KIND, SLOT, SLOT_WORDS } from "./_control_block.ts";

interface Start {
  memories: PoolMemories;
  control: SharedArrayBuffer;
  slot: number;
}

parentPort!.once("message", ({ memories, control, slot }: Start) => {
  const ctl = new Int32Array(control), ctl64 = new Float64Array(control);
  const base = slot * SLOT_WORDS;
  // the sizes seen so far: none, so that the first job refreshes every memory and view
  const known = [-1, -1, -1, -1];
  const gemm = instantiateGemm(memories.gemm);
  const attention = instantiateAttention(memories.attention);
  const elementwise = instantiateElementwise(memories.elementwise);
  let f = new Float32Array(memories.gemm.buffer);
  let staged = new Float32Array(memories.scratch.buffer);
  let seen = Atomics.load(ctl, base + SLOT.seq);
  Atomics.store(ctl, base + SLOT.ready, 1);
  for (;;) {
    awaitWord(ctl, base + SLOT.seq, seen, false);
    seen = Atomics.load(ctl, base + SLOT.seq);
    if (Atomics.load(ctl, base + SLOT.stop) === 1) break;
    try {
      const from = ctl[base + SLOT.from], to = ctl[base + SLOT.to], part = ctl[base + SLOT.part];
      const kind = ctl[JOB_KIND];
      if (syncMemories(ctl, memories, known)) {
        f = new Float32Array(memories.gemm.buffer);
        staged = new Float32Array(memories.scratch.buffer);
      }
      if (kind === JobKind.gemmRows || kind === JobKind.gemmCols) {
        const job = GEMM_JOB.read(ctl, ctl64);
        if (kind === JobKind.gemmRows) gemmRows(f, gemm, job, from, to, part);
        else gemmCols(f, gemm, job, from, to, part);
      } else if (kind === JobKind.attentionForward || kind === JobKind.attentionBackward) {
        const job = ATTENTION_JOB.read(ctl, ctl64);
        attentionPart(attention, job, kind === JobKind.attentionBackward, from, to, part);
      } else if (kind === JobKind.geluForward || kind === JobKind.geluBackward) {
        const job = GELU_JOB.read(ctl, ctl64);
        geluPart(elementwise, job, kind === JobKind.geluBackward, from, to);
      } else if (kind === JobKind.randn) {
        randnShare(staged, from, to, RANDN_JOB.read(ctl, ctl64));
      } else {
        throw new Error(`unknown job kind ${kind}`);
      }
    } catch (e) {
      console.error(`CPU kernel worker ${slot}:`, e);
      Atomics.store(ctl, base + SLOT.failed, 1);
    }
    Atomics.store(ctl, base + SLOT.done, seen);
    Atomics.notify(ctl, base + SLOT.done);
  }
  // told to stop: out of the loop, the thread ends (its message listener was a `once`)
  Atomics.store(ctl, base + SLOT.ready, 0);
});
