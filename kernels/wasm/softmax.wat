;; Masked row softmax over float32 scores, WebAssembly SIMD: the fast path of the attention
;; softmax (`softmaxRow` in kernels/attention/cpu.ts), with the same float64 steps per element.
;;
;; Source of kernels/wasm/softmax_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_softmax_test.ts checks that the two agree.
;;
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
(module
  (memory (export "memory") 1)

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
  (func (export "softmaxRows")
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
                    (f64.add (f64x2.extract_lane 1 (local.get $e)) (local.get $sum)))))
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
)
