;; Attention kernels, WebAssembly SIMD: the masked row softmax of the attention (`softmaxRow` in
;; kernels/attention/cpu.ts, with the same float64 steps per element), and whole attention calls
;; (`attentionForward`/`attentionBackward` below: every product of every batch entry and head
;; from operands copied once into this memory, with the bits of the per-product GEMM path).
;;
;; Source of kernels/wasm/attention_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_modules_test.ts checks that the two agree.
;;
;; The softmax:
;; Per row of T scores x (keys with mask 0 excluded):
;;   max = the largest unmasked score (NaN never wins: `max < v ? v : max`, which is f32x4.pmax);
;;   every key masked: the row becomes zeros; otherwise
;;   e_s = exp(x_s - max) by the host's table exp (0 for masked keys, and below -745; NaN stays),
;;   sum = e_0 + e_1 + ... in that order (float64, one add at a time, as the host),
;;   x_s = e_s * (1 / sum) rounded to float32.
;; The exp works on two keys at a time (f64x2): d = x - max, k = floor(d * inv + 0.5) (the host's
;; rounding for d <= 0), r = d - k hi - k lo, q = the degree-5 Taylor polynomial of exp(r)
;; (Horner, plain mul then add), e = pow2[-(k >> 6)] * (frac[k & 63] * q), the two table entries
;; loaded per lane; the integer k comes out of the low word of k + 1.5 * 2^52 (exact for
;; |k| < 2^31). Lanes whose key is masked or whose d is not above -745 compute with d = 0
;; (in-range table indices) and are then replaced by 0, or by d when d is NaN. Where two NaNs can
;; meet (the sum, the final product) the operands are in the order the host's optimised code puts
;; them, which x86 follows for the sign of the NaN result.
;;
;; Memory layout (byte addresses from the host): the row scores, the (T) mask of the row's keys,
;; a (T) float64 scratch, and the tables: frac (64 float64) then pow2 (1076 float64).
;;
;; The memory is imported and shared: worker threads (kernels/wasm/pool.ts) run their own
;; instances of this module on the same memory, each on its own batch entries and scratch.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (export "memory" (memory 0))

  ;; Largest unmasked score of the row x (T floats), -inf when all are masked.
  (func $rowMax (param $x i32) (param $mask i32) (param $T i32) (result f32)
    (local $s i32) (local $m v128) (local $v v128) (local $max f32) (local $e f32)
    (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
    (block $vdone
      (loop $v4
        (br_if $vdone (i32.gt_u (i32.add (local.get $s) (i32.const 4)) (local.get $T)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))))
        ;; masked keys (mask == 0) read as -inf, which never wins
        (local.set $v (v128.bitselect (v128.const f32x4 -inf -inf -inf -inf) (local.get $v)
          (f32x4.eq (v128.load (i32.add (local.get $mask) (i32.shl (local.get $s) (i32.const 2))))
            (v128.const f32x4 0 0 0 0))))
        (local.set $m (f32x4.pmax (local.get $m) (local.get $v)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (br $v4)))
    ;; the lane maxima, then the T % 4 last keys, by the same rule
    (local.set $max (f32x4.extract_lane 0 (local.get $m)))
    (local.set $e (f32x4.extract_lane 1 (local.get $m)))
    (if (f32.lt (local.get $max) (local.get $e)) (then (local.set $max (local.get $e))))
    (local.set $e (f32x4.extract_lane 2 (local.get $m)))
    (if (f32.lt (local.get $max) (local.get $e)) (then (local.set $max (local.get $e))))
    (local.set $e (f32x4.extract_lane 3 (local.get $m)))
    (if (f32.lt (local.get $max) (local.get $e)) (then (local.set $max (local.get $e))))
    (block $done
      (loop $s1
        (br_if $done (i32.ge_u (local.get $s) (local.get $T)))
        (if (f32.ne (f32.load (i32.add (local.get $mask) (i32.shl (local.get $s) (i32.const 2))))
              (f32.const 0))
          (then
            (local.set $e
              (f32.load (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))))
            (if (f32.lt (local.get $max) (local.get $e)) (then (local.set $max (local.get $e))))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $s1)))
    (local.get $max)
  )

  ;; Softmax of `rows` rows of T scores at $x (row stride T floats) in place, all with the key mask
  ;; at $mask (T floats, 0 = masked); $p: (T + 1) float64 scratch; $tab: the exp tables;
  ;; $inv, $hi, $lo: the host's EXP_INV, EXP_HI, EXP_LO.
  (func $softmaxRows (export "softmaxRows")
    (param $x i32) (param $rows i32) (param $T i32) (param $mask i32) (param $p i32)
    (param $tab i32)
    (param $inv f64) (param $hi f64) (param $lo f64)
    (local $row i32) (local $s i32) (local $max f32) (local $maxv v128) (local $sum f64)
    (local $e v128) (local $valid v128) (local $xs i32) (local $ps i32) (local $invsum v128)
    (local $dd v128) (local $ok v128) (local $k v128) (local $r v128) (local $q v128)
    (local $ki v128) (local $fi v128) (local $pi v128)
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $max (call $rowMax (local.get $x) (local.get $mask) (local.get $T)))
        (if (f32.eq (local.get $max) (f32.const -inf))
          (then
            ;; every key masked: zeros
            (local.set $s (i32.const 0))
            (block $zdone
              (loop $z
                (br_if $zdone (i32.ge_u (local.get $s) (local.get $T)))
                (f32.store (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))
                  (f32.const 0))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $z))))
          (else
            (local.set $maxv (f64x2.splat (f64.promote_f32 (local.get $max))))
            (local.set $sum (f64.const 0))
            ;; two keys at a time; an odd last key goes through lane 0 of a pair whose lane 1
            ;; reads past the row (harmless: masked off, never stored or summed)
            (local.set $s (i32.const 0))
            (block $edone
              (loop $ex
                (br_if $edone (i32.ge_u (local.get $s) (local.get $T)))
                (local.set $xs (i32.shl (local.get $s) (i32.const 2)))
                (local.set $ps (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 3))))
                ;; valid: mask != 0, widened to 64-bit lanes
                (local.set $valid (i64x2.extend_low_i32x4_s (f32x4.ne
                  (v128.load64_zero (i32.add (local.get $mask) (local.get $xs)))
                  (v128.const f32x4 0 0 0 0))))
                ;; two masked keys (padded frames): e = +0 for both, stored; adding +0 leaves the
                ;; sum as it is (never -0: it starts at +0 and every e is +0 or above, or NaN)
                (if (v128.any_true (local.get $valid))
                  (then
                    (local.set $dd (f64x2.sub
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $x) (local.get $xs))))
                        (local.get $maxv)))
                    (local.set $ok (v128.and (local.get $valid)
                      (f64x2.gt (local.get $dd) (v128.const f64x2 -745 -745))))
                    (local.set $r (v128.and (local.get $dd) (local.get $ok))) ;; d, or +0 where not ok
                    (local.set $k (f64x2.floor (f64x2.add
                      (f64x2.mul (local.get $r) (f64x2.splat (local.get $inv)))
                      (v128.const f64x2 0.5 0.5))))
                    (local.set $r (f64x2.sub
                      (f64x2.sub (local.get $r) (f64x2.mul (local.get $k) (f64x2.splat (local.get $hi))))
                      (f64x2.mul (local.get $k) (f64x2.splat (local.get $lo)))))
                    ;; q = 1 + r (1 + r (1/2 + r (1/6 + r (1/24 + r (1/120)))))
                    (local.set $q (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5)
                      (f64x2.mul (local.get $r)
                        (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7))))
                    (local.set $q (f64x2.add (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3)
                      (f64x2.mul (local.get $r) (local.get $q))))
                    (local.set $q (f64x2.add (v128.const f64x2 0.5 0.5)
                      (f64x2.mul (local.get $r) (local.get $q))))
                    (local.set $q (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $r) (local.get $q))))
                    (local.set $q (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $r) (local.get $q))))
                    ;; table offsets (bytes) in the low word of each lane: frac k & 63, pow2 -(k >> 6)
                    (local.set $ki (f64x2.add (local.get $k) (v128.const f64x2 0x1.8p52 0x1.8p52)))
                    (local.set $fi (i32x4.shl (v128.and (local.get $ki) (v128.const i32x4 63 63 63 63))
                      (i32.const 3)))
                    (local.set $pi (i32x4.shl
                      (i32x4.sub (v128.const i32x4 0 0 0 0) (i32x4.shr_s (local.get $ki) (i32.const 6)))
                      (i32.const 3)))
                    ;; e = pow2[..] * (frac[..] * q); frac at $tab, pow2 at $tab + 512
                    (local.set $e (f64x2.mul
                      (v128.load64_lane 1 (i32.add (local.get $tab) (i32x4.extract_lane 2 (local.get $fi)))
                        (v128.load64_zero (i32.add (local.get $tab) (i32x4.extract_lane 0 (local.get $fi)))))
                      (local.get $q)))
                    (local.set $e (f64x2.mul
                      (v128.load64_lane offset=512 1
                        (i32.add (local.get $tab) (i32x4.extract_lane 2 (local.get $pi)))
                        (v128.load64_zero offset=512
                          (i32.add (local.get $tab) (i32x4.extract_lane 0 (local.get $pi)))))
                      (local.get $e)))
                    ;; not ok: 0, or d itself where the key is unmasked and d is NaN
                    (local.set $e (v128.bitselect (local.get $e)
                      (v128.and (local.get $dd)
                        (v128.and (local.get $valid) (f64x2.ne (local.get $dd) (local.get $dd))))
                      (local.get $ok)))
                    (v128.store (local.get $ps) (local.get $e))
                    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $e)) (local.get $sum)))
                    (if (i32.lt_u (i32.add (local.get $s) (i32.const 1)) (local.get $T))
                      (then (local.set $sum
                        (f64.add (f64x2.extract_lane 1 (local.get $e)) (local.get $sum))))))
                  (else (v128.store (local.get $ps) (v128.const i64x2 0 0))))
                (local.set $s (i32.add (local.get $s) (i32.const 2)))
                (br $ex)))
            ;; x = e * (1 / sum), two at a time, then an odd last one
            (local.set $invsum (f64x2.splat (f64.div (f64.const 1) (local.get $sum))))
            (local.set $s (i32.const 0))
            (block $ndone
              (loop $nl
                (br_if $ndone (i32.gt_u (i32.add (local.get $s) (i32.const 2)) (local.get $T)))
                (v128.store64_lane 0 (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))
                  (f32x4.demote_f64x2_zero (f64x2.mul (local.get $invsum)
                    (v128.load (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 3)))))))
                (local.set $s (i32.add (local.get $s) (i32.const 2)))
                (br $nl)))
            (if (i32.lt_u (local.get $s) (local.get $T))
              (then (f32.store (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))
                (f32.demote_f64 (f64.mul (f64x2.extract_lane 0 (local.get $invsum))
                  (f64.load (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 3)))))))))))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $T) (i32.const 2))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop)))
  )

  ;; ---------------------------------------------------------------------------------------------
  ;; Whole attention calls: every product of every (batch entry, head) straight from the operands
  ;; in this memory, no packing. Each product element is the sum the GEMM kernel (gemm.wat) forms
  ;; for K <= 256 (one K block): starting from +0, term by term in increasing k, a separate f32
  ;; multiply (A element first) then add (running sum first). The GEMM's zero padding of K adds
  ;; +0 terms, which never change such a sum (it is never -0), so they are left out here. Where
  ;; the host applies alpha (`alpha * sum` in float64, rounded to float32) `$tile` does the same.

  ;; Stores the first $cols (1..8) floats of the row [$v0 | $v1] at $dst.
  (func $storeRow (param $dst i32) (param $v0 v128) (param $v1 v128) (param $cols i32)
    (if (i32.ge_u (local.get $cols) (i32.const 8))
      (then
        (v128.store offset=0 (local.get $dst) (local.get $v0))
        (v128.store offset=16 (local.get $dst) (local.get $v1))
        (return)))
    (if (i32.ge_u (local.get $cols) (i32.const 4))
      (then
        (v128.store (local.get $dst) (local.get $v0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $v0 (local.get $v1))
        (local.set $cols (i32.sub (local.get $cols) (i32.const 4)))))
    (if (i32.ge_u (local.get $cols) (i32.const 1))
      (then (v128.store32_lane offset=0 0 (local.get $dst) (local.get $v0))))
    (if (i32.ge_u (local.get $cols) (i32.const 2))
      (then (v128.store32_lane offset=4 1 (local.get $dst) (local.get $v0))))
    (if (i32.ge_u (local.get $cols) (i32.const 3))
      (then (v128.store32_lane offset=8 2 (local.get $dst) (local.get $v0))))
  )

  ;; C tile ($rows <= 4 rows, $cols <= 8 columns at $c, row stride $ldc bytes) = sum over k < $K
  ;; of A(r, k) * B(k, 0..7), times alpha when $scaled. A(r, k) is the float at $a + r $lda + k $ak,
  ;; B's row k the 8 floats at $b + k $ldb (all byte addresses and strides). Rows past $rows
  ;; repeat row 0 (in bounds, never stored). K >= 1.
  (func $tile
    (param $a i32) (param $lda i32) (param $ak i32) (param $b i32) (param $ldb i32) (param $K i32)
    (param $c i32) (param $ldc i32) (param $rows i32) (param $cols i32)
    (param $scaled i32) (param $alpha v128)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $k i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $a4 v128)
    (local.set $a1 (select (i32.add (local.get $a) (local.get $lda)) (local.get $a)
      (i32.gt_u (local.get $rows) (i32.const 1))))
    (local.set $a2 (select (i32.add (local.get $a1) (local.get $lda)) (local.get $a)
      (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $a3 (select (i32.add (local.get $a2) (local.get $lda)) (local.get $a)
      (i32.gt_u (local.get $rows) (i32.const 3))))
    (local.set $k (local.get $K))
    ;; A's k consecutive (every call but the weight-gradient products): four steps per pass with
    ;; the A offsets in the loads, then the rest one at a time
    (if (i32.eq (local.get $ak) (i32.const 4))
      (then
        (block $fourDone
          (loop $four
            (br_if $fourDone (i32.lt_u (local.get $k) (i32.const 4)))
            (local.set $b0 (v128.load offset=0 (local.get $b)))
            (local.set $b1 (v128.load offset=16 (local.get $b)))
            (local.set $av (v128.load32_splat offset=0 (local.get $a)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=0 (local.get $a1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=0 (local.get $a2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=0 (local.get $a3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $b (i32.add (local.get $b) (local.get $ldb)))
            (local.set $b0 (v128.load offset=0 (local.get $b)))
            (local.set $b1 (v128.load offset=16 (local.get $b)))
            (local.set $av (v128.load32_splat offset=4 (local.get $a)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=4 (local.get $a1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=4 (local.get $a2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=4 (local.get $a3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $b (i32.add (local.get $b) (local.get $ldb)))
            (local.set $b0 (v128.load offset=0 (local.get $b)))
            (local.set $b1 (v128.load offset=16 (local.get $b)))
            (local.set $av (v128.load32_splat offset=8 (local.get $a)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=8 (local.get $a1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=8 (local.get $a2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=8 (local.get $a3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $b (i32.add (local.get $b) (local.get $ldb)))
            (local.set $b0 (v128.load offset=0 (local.get $b)))
            (local.set $b1 (v128.load offset=16 (local.get $b)))
            (local.set $av (v128.load32_splat offset=12 (local.get $a)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=12 (local.get $a1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=12 (local.get $a2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (v128.load32_splat offset=12 (local.get $a3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $b (i32.add (local.get $b) (local.get $ldb)))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
            (local.set $a2 (i32.add (local.get $a2) (i32.const 16)))
            (local.set $a3 (i32.add (local.get $a3) (i32.const 16)))
            (local.set $k (i32.sub (local.get $k) (i32.const 4)))
            (br $four)))))
    ;; A's rows consecutive instead (the transposed A of P^T dout and dS^T Q): the 4 rows' floats
    ;; of one k in one load, each broadcast
    (if (i32.and (i32.and (i32.ne (local.get $ak) (i32.const 4)) (i32.eq (local.get $lda) (i32.const 4)))
          (i32.ge_u (local.get $rows) (i32.const 4)))
      (then
        (loop $rowsInOne
          (local.set $a4 (v128.load (local.get $a)))
          (local.set $b0 (v128.load offset=0 (local.get $b)))
          (local.set $b1 (v128.load offset=16 (local.get $b)))
            (local.set $av (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $a4) (local.get $a4)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $a4) (local.get $a4)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $a4) (local.get $a4)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
            (local.set $av (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $a4) (local.get $a4)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
          (local.set $a (i32.add (local.get $a) (local.get $ak)))
          (local.set $b (i32.add (local.get $b) (local.get $ldb)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $rowsInOne (local.get $k)))))
    (if (local.get $k) (then
      (loop $steps
        (local.set $b0 (v128.load offset=0 (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $av (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $ak)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $ak)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $ak)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $ak)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br_if $steps (local.get $k)))))
    ;; times alpha per lane as the host computes it: float64 product rounded to float32 (written
    ;; out for each accumulator: a call per vector cost a tenth of the attention's time)
    (if (local.get $scaled)
      (then
        (local.set $c00 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c00))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c00) (local.get $c00)))))))
        (local.set $c01 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c01))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c01) (local.get $c01)))))))
        (local.set $c10 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c10))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c10) (local.get $c10)))))))
        (local.set $c11 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c11))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c11) (local.get $c11)))))))
        (local.set $c20 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c20))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c20) (local.get $c20)))))))
        (local.set $c21 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c21))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c21) (local.get $c21)))))))
        (local.set $c30 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c30))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c30) (local.get $c30)))))))
        (local.set $c31 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4 (local.get $c31))))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $alpha) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c31) (local.get $c31)))))))))
    ;; a whole tile: its rows stored here; an edge tile row by row
    (if (i32.and (i32.ge_u (local.get $rows) (i32.const 4)) (i32.ge_u (local.get $cols) (i32.const 8)))
      (then
        (v128.store offset=0 (local.get $c) (local.get $c00))
        (v128.store offset=16 (local.get $c) (local.get $c01))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store offset=0 (local.get $c) (local.get $c10))
        (v128.store offset=16 (local.get $c) (local.get $c11))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store offset=0 (local.get $c) (local.get $c20))
        (v128.store offset=16 (local.get $c) (local.get $c21))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store offset=0 (local.get $c) (local.get $c30))
        (v128.store offset=16 (local.get $c) (local.get $c31))
        (return)))
    (call $storeRow (local.get $c) (local.get $c00) (local.get $c01) (local.get $cols))
    (if (i32.le_u (local.get $rows) (i32.const 1)) (then (return)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $storeRow (local.get $c) (local.get $c10) (local.get $c11) (local.get $cols))
    (if (i32.le_u (local.get $rows) (i32.const 2)) (then (return)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $storeRow (local.get $c) (local.get $c20) (local.get $c21) (local.get $cols))
    (if (i32.le_u (local.get $rows) (i32.const 3)) (then (return)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (call $storeRow (local.get $c) (local.get $c30) (local.get $c31) (local.get $cols))
  )

  ;; C (M, N) = A (M, K) @ B (K, N) [times alpha when $scaled] by 4x8 tiles, strides as `$tile`.
  ;; B's rows are read 8 floats at a time: N rounded up to 8 must lie in each row.
  (func $product
    (param $a i32) (param $lda i32) (param $ak i32) (param $b i32) (param $ldb i32) (param $K i32)
    (param $c i32) (param $ldc i32) (param $M i32) (param $N i32)
    (param $scaled i32) (param $alpha v128)
    (local $i i32) (local $j i32)
    (loop $rows
      (local.set $j (i32.const 0))
      (loop $cols
        (call $tile
          (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))) (local.get $lda)
          (local.get $ak)
          (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
          (local.get $K)
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc))
            (i32.shl (local.get $j) (i32.const 2))))
          (local.get $ldc)
          (i32.sub (local.get $M) (local.get $i)) (i32.sub (local.get $N) (local.get $j))
          (local.get $scaled) (local.get $alpha))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $N))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $i) (local.get $M))))
  )

  ;; dst (cols, ldd/4) = the transpose of src (rows, cols) (row stride $ld bytes), columns from
  ;; `rows` up to the row stride $ldd zeroed.
  (func $transpose (param $src i32) (param $ld i32) (param $rows i32) (param $cols i32)
    (param $dst i32) (param $ldd i32)
    (local $r i32) (local $i i32) (local $d i32) (local $s i32)
    (loop $cl
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $ldd))))
      (local.set $s (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
      (local.set $r (i32.const 0))
      (loop $rl
        (f32.store (local.get $d) (f32.load (local.get $s)))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (local.get $ld)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rl (i32.lt_u (local.get $r) (local.get $rows))))
      (block $zdone
        (loop $zl
          (br_if $zdone (i32.ge_u (i32.shl (local.get $r) (i32.const 2)) (local.get $ldd)))
          (f32.store (local.get $d) (f32.const 0))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $zl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $cl (i32.lt_u (local.get $i) (local.get $cols))))
  )

  ;; Softmax backward in place, per row of T: dot = sum_s P dP (float64, in order from 0),
  ;; dP_s <- P_s (dP_s - dot) rounded to float32, as the host's loop. Two rows at a time, one per
  ;; f64x2 lane (two independent chains of adds), then an odd last row alone. The operands are in
  ;; the order the host's optimised code puts them (`P dP + dot`, `(dP - dot) P`), which x86
  ;; follows for the sign of a NaN result.
  (func $softmaxBackward (param $P i32) (param $D i32) (param $rows i32) (param $T i32)
    (local $row i32) (local $s i32) (local $o i32) (local $T4 i32) (local $dot f64)
    (local $dots v128) (local $pv v128)
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_u (i32.add (local.get $row) (i32.const 2)) (local.get $rows)))
        (local.set $dots (v128.const f64x2 0 0))
        (local.set $s (i32.const 0))
        (loop $dl
          (local.set $o (i32.shl (local.get $s) (i32.const 2)))
          (local.set $dots (f64x2.add
            (f64x2.mul (call $rowPair (local.get $P) (local.get $T4) (local.get $o))
              (call $rowPair (local.get $D) (local.get $T4) (local.get $o)))
            (local.get $dots)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $dl (i32.lt_u (local.get $s) (local.get $T))))
        (local.set $s (i32.const 0))
        (loop $wl
          (local.set $o (i32.shl (local.get $s) (i32.const 2)))
          (local.set $pv (f32x4.demote_f64x2_zero (f64x2.mul
            (f64x2.sub (call $rowPair (local.get $D) (local.get $T4) (local.get $o))
              (local.get $dots))
            (call $rowPair (local.get $P) (local.get $T4) (local.get $o)))))
          (v128.store32_lane 0 (i32.add (local.get $D) (local.get $o)) (local.get $pv))
          (v128.store32_lane 1 (i32.add (i32.add (local.get $D) (local.get $T4)) (local.get $o))
            (local.get $pv))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $wl (i32.lt_u (local.get $s) (local.get $T))))
        (local.set $P (i32.add (local.get $P) (i32.shl (local.get $T4) (i32.const 1))))
        (local.set $D (i32.add (local.get $D) (i32.shl (local.get $T4) (i32.const 1))))
        (local.set $row (i32.add (local.get $row) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $row) (local.get $rows))
      (then
        (local.set $dot (f64.const 0))
        (local.set $s (i32.const 0))
        (loop $dl1
          (local.set $o (i32.shl (local.get $s) (i32.const 2)))
          (local.set $dot (f64.add
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $P) (local.get $o))))
              (f64.promote_f32 (f32.load (i32.add (local.get $D) (local.get $o)))))
            (local.get $dot)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $dl1 (i32.lt_u (local.get $s) (local.get $T))))
        (local.set $s (i32.const 0))
        (loop $wl1
          (local.set $o (i32.shl (local.get $s) (i32.const 2)))
          (f32.store (i32.add (local.get $D) (local.get $o))
            (f32.demote_f64 (f64.mul
              (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $D) (local.get $o))))
                (local.get $dot))
              (f64.promote_f32 (f32.load (i32.add (local.get $P) (local.get $o)))))))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $wl1 (i32.lt_u (local.get $s) (local.get $T))))))
  )

  ;; The floats at $x + $o (lane 0) and $x + $ld + $o (lane 1), widened to float64.
  (func $rowPair (param $x i32) (param $ld i32) (param $o i32) (result v128)
    (f64x2.promote_low_f32x4
      (v128.load32_lane 1 (i32.add (i32.add (local.get $x) (local.get $ld)) (local.get $o))
        (v128.load32_zero (i32.add (local.get $x) (local.get $o)))))
  )

  ;; Forward of a whole call: qkv (B, T, 3C), att (B, NH, T, T), out (B, T, C); $mask: (B, T + 4)
  ;; key masks, zero past T; $kt: (HS, Tp) scratch, Tp = T rounded up to 8; $p, $tab, $inv, $hi,
  ;; $lo: as `softmaxRows`. Per (b, h): att = softmax(alpha Q K^T) with K^T staged in $kt, then
  ;; out = att V. HS a multiple of 8.
  (func (export "attentionForward")
    (param $qkv i32) (param $att i32) (param $out i32) (param $mask i32) (param $kt i32)
    (param $p i32) (param $tab i32)
    (param $B i32) (param $T i32) (param $C i32) (param $NH i32)
    (param $alpha f64) (param $inv f64) (param $hi f64) (param $lo f64)
    (local $b i32) (local $h i32) (local $HS4 i32) (local $ldq i32) (local $ldt i32)
    (local $T4 i32) (local $qb i32) (local $hq i32) (local $ab i32) (local $alphav v128)
    (local $mb i32) (local $nk i32)
    (local.set $HS4 (i32.shl (i32.div_u (local.get $C) (local.get $NH)) (i32.const 2)))
    (local.set $ldq (i32.mul (local.get $C) (i32.const 12)))
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (local.set $ldt (i32.and (i32.add (local.get $T4) (i32.const 28)) (i32.const -32)))
    (local.set $alphav (f64x2.splat (local.get $alpha)))
    (local.set $ab (local.get $att))
    (loop $bl
      (local.set $qb (i32.add (local.get $qkv) (i32.mul (local.get $b) (i32.mul (local.get $T) (local.get $ldq)))))
      (local.set $mb (i32.add (local.get $mask) (i32.mul (local.get $b) (i32.add (local.get $T4) (i32.const 16)))))
      ;; scores only up to the last unmasked key (at least one): the softmax gives every masked
      ;; key exactly 0 whatever its score, so the columns after it are never read
      (local.set $nk (local.get $T))
      (block $found
        (loop $scan
          (br_if $found (i32.le_u (local.get $nk) (i32.const 1)))
          (br_if $found (f32.ne (f32.load (i32.add (local.get $mb)
            (i32.shl (i32.sub (local.get $nk) (i32.const 1)) (i32.const 2)))) (f32.const 0)))
          (local.set $nk (i32.sub (local.get $nk) (i32.const 1)))
          (br $scan)))
      (local.set $h (i32.const 0))
      (loop $hl
        (local.set $hq (i32.add (local.get $qb) (i32.mul (local.get $h) (local.get $HS4))))
        (call $transpose (i32.add (local.get $hq) (i32.shl (local.get $C) (i32.const 2)))
          (local.get $ldq) (local.get $T) (i32.shr_u (local.get $HS4) (i32.const 2))
          (local.get $kt) (local.get $ldt))
        (call $product (local.get $hq) (local.get $ldq) (i32.const 4)
          (local.get $kt) (local.get $ldt) (i32.shr_u (local.get $HS4) (i32.const 2))
          (local.get $ab) (local.get $T4) (local.get $T) (local.get $nk)
          (i32.const 1) (local.get $alphav))
        (call $softmaxRows (local.get $ab) (local.get $T) (local.get $T) (local.get $mb)
          (local.get $p) (local.get $tab) (local.get $inv) (local.get $hi) (local.get $lo))
        (call $product (local.get $ab) (local.get $T4) (i32.const 4)
          (i32.add (local.get $hq) (i32.shl (local.get $C) (i32.const 3))) (local.get $ldq)
          (local.get $T)
          (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $T))
            (local.get $C)) (i32.shr_u (i32.mul (local.get $h) (local.get $HS4)) (i32.const 2)))
            (i32.const 2)))
          (i32.shl (local.get $C) (i32.const 2)) (local.get $T)
          (i32.shr_u (local.get $HS4) (i32.const 2))
          (i32.const 0) (local.get $alphav))
        (local.set $ab (i32.add (local.get $ab) (i32.mul (local.get $T4) (local.get $T))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br_if $hl (i32.lt_u (local.get $h) (local.get $NH))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $bl (i32.lt_u (local.get $b) (local.get $B))))
  )

  ;; Backward of a whole call: qkv (B, T, 3C), att (B, NH, T, T), dout (B, T, C) in; dqkv
  ;; (B, T, 3C) out; datt (B, NH, T, T) scratch; $kt (HS, Tp) scratch. Per (b, h), with
  ;; P = att: dP = dout V^T (V^T staged in $kt), dV = P^T dout, dS = P (dP - rowsum(P dP)),
  ;; dQ = alpha dS K, dK = alpha dS^T Q. HS a multiple of 8.
  (func (export "attentionBackward")
    (param $qkv i32) (param $att i32) (param $dout i32) (param $dqkv i32) (param $datt i32)
    (param $kt i32)
    (param $B i32) (param $T i32) (param $C i32) (param $NH i32) (param $alpha f64)
    (local $b i32) (local $h i32) (local $HS i32) (local $HS4 i32) (local $ldq i32) (local $ldt i32)
    (local $T4 i32) (local $C4 i32) (local $hq i32) (local $dq i32) (local $ob i32)
    (local $ab i32) (local $db i32) (local $alphav v128)
    (local.set $HS (i32.div_u (local.get $C) (local.get $NH)))
    (local.set $HS4 (i32.shl (local.get $HS) (i32.const 2)))
    (local.set $C4 (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ldq (i32.mul (local.get $C) (i32.const 12)))
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (local.set $ldt (i32.and (i32.add (local.get $T4) (i32.const 28)) (i32.const -32)))
    (local.set $alphav (f64x2.splat (local.get $alpha)))
    (local.set $ab (local.get $att))
    (local.set $db (local.get $datt))
    (loop $bl
      (local.set $h (i32.const 0))
      (loop $hl
        ;; Q_h, dQ_h and dout_h: the head's first column in the (T, 3C) and (T, C) rows of b
        (local.set $hq (i32.add (i32.add (local.get $qkv)
          (i32.mul (local.get $b) (i32.mul (local.get $T) (local.get $ldq))))
          (i32.mul (local.get $h) (local.get $HS4))))
        (local.set $dq (i32.add (local.get $dqkv) (i32.sub (local.get $hq) (local.get $qkv))))
        (local.set $ob (i32.add (local.get $dout) (i32.add
          (i32.mul (i32.mul (local.get $b) (local.get $T)) (local.get $C4))
          (i32.mul (local.get $h) (local.get $HS4)))))
        ;; dP (T, T) = dout_h (T, HS) @ V_h^T
        (call $transpose (i32.add (local.get $hq) (i32.shl (local.get $C4) (i32.const 1)))
          (local.get $ldq) (local.get $T) (local.get $HS) (local.get $kt) (local.get $ldt))
        (call $product (local.get $ob) (local.get $C4) (i32.const 4)
          (local.get $kt) (local.get $ldt) (local.get $HS)
          (local.get $db) (local.get $T4) (local.get $T) (local.get $T)
          (i32.const 0) (local.get $alphav))
        ;; dV_h (T, HS) = P^T (T, T) @ dout_h (T, HS)
        (call $product (local.get $ab) (i32.const 4) (local.get $T4)
          (local.get $ob) (local.get $C4) (local.get $T)
          (i32.add (local.get $dq) (i32.shl (local.get $C4) (i32.const 1))) (local.get $ldq)
          (local.get $T) (local.get $HS)
          (i32.const 0) (local.get $alphav))
        (call $softmaxBackward (local.get $ab) (local.get $db) (local.get $T) (local.get $T))
        ;; dQ_h (T, HS) = alpha dS (T, T) @ K_h (T, HS)
        (call $product (local.get $db) (local.get $T4) (i32.const 4)
          (i32.add (local.get $hq) (local.get $C4)) (local.get $ldq) (local.get $T)
          (local.get $dq) (local.get $ldq) (local.get $T) (local.get $HS)
          (i32.const 1) (local.get $alphav))
        ;; dK_h (T, HS) = alpha dS^T (T, T) @ Q_h (T, HS)
        (call $product (local.get $db) (i32.const 4) (local.get $T4)
          (local.get $hq) (local.get $ldq) (local.get $T)
          (i32.add (local.get $dq) (local.get $C4)) (local.get $ldq) (local.get $T) (local.get $HS)
          (i32.const 1) (local.get $alphav))
        (local.set $ab (i32.add (local.get $ab) (i32.mul (local.get $T4) (local.get $T))))
        (local.set $db (i32.add (local.get $db) (i32.mul (local.get $T4) (local.get $T))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br_if $hl (i32.lt_u (local.get $h) (local.get $NH))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $bl (i32.lt_u (local.get $b) (local.get $B))))
  )
)
