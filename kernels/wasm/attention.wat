;; Attention kernels, WebAssembly SIMD: the masked row softmax of the attention (`softmaxRowF32` in
;; kernels/attention/_softmax_f32.ts, with the same float32 steps per element), and whole attention
;; calls (`attentionForward`/`attentionBackward` below: every product of every batch entry and head
;; from operands copied once into this memory, with the bits of the per-product GEMM path).
;;
;; Source of kernels/wasm/attention_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_modules_test.ts checks that the two agree.
;;
;; The softmax, per row of T scores x (keys with mask 0 excluded), four keys at a time:
;;   max = the largest unmasked score (NaN never wins: `max < v ? v : max`, which is f32x4.pmax);
;;   every key masked: the row becomes zeros; otherwise
;;   e_s = exp(x_s - max) by the float32 exp of _softmax_f32.ts (0 for masked keys and for
;;         d = x - max below -87.5; NaN stays NaN): k = floor(d log2e + 1/2),
;;         r = (d - k ln2hi) - k ln2lo, q = 1 + (r + r^2 g(r)) with g the degree-4 polynomial
;;         (Horner), e = q * 2^k, the power built from the bits of k + 127 + 1.5 2^23;
;;   four running sums in the lanes: lane j adds e_s for s = j (mod 4), the keys past T adding +0;
;;   sum = (lane 0 + lane 1) + (lane 2 + lane 3);
;;   x_s = e_s * (1 / sum), every operation a float32 one.
;; The constants below are _softmax_f32.ts's, written as float32 hex literals.
;;
;; Memory layout (byte addresses from the host): the row scores, then the mask of the row's keys
;; (T floats followed by at least 3 zeros, which the last block of a row reads).
;;
;; The memory is imported and shared: worker threads (kernels/wasm/pool.ts) run their own
;; instances of this module on the same memory, each on its own batch entries and scratch.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (export "memory" (memory 0))

  ;; Largest unmasked score of the row x (T floats), -inf when all are masked.
  (func $rowMax (param $x i32) (param $mask i32) (param $T i32) (result f32)
    (local $s i32) (local $m v128) (local $v v128) (local $max f32) (local $e f32) (local $ninf v128)
    (local $zero v128) ;; +0 in every lane, as every local starts
    (local.set $ninf (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $m (local.get $ninf))
    (block $vdone
      (loop $v4
        (br_if $vdone (i32.gt_u (i32.add (local.get $s) (i32.const 4)) (local.get $T)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2)))))
        ;; masked keys (mask == 0) read as -inf, which never wins
        (local.set $v (v128.bitselect (local.get $ninf) (local.get $v)
          (f32x4.eq (v128.load (i32.add (local.get $mask) (i32.shl (local.get $s) (i32.const 2))))
            (local.get $zero))))
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
  ;; at $mask (T floats then at least 3 zeros, 0 = masked).
  (func $softmaxRows (export "softmaxRows")
    (param $x i32) (param $rows i32) (param $T i32) (param $mask i32)
    (local $row i32) (local $s i32) (local $at i32) (local $tail i32) (local $max f32)
    (local $maxv v128) (local $valid v128) (local $d v128) (local $k v128) (local $r v128)
    (local $g v128) (local $e v128) (local $acc v128) (local $inv v128)
    ;; the constants, splat once: V8 materialises a v128.const at every use, inside the loop
    (local $k_log2e v128) (local $k_half v128) (local $k_c1 v128) (local $k_c2 v128)
    (local $k_g4 v128) (local $k_g3 v128) (local $k_g2 v128) (local $k_g1 v128)
    (local $k_one v128) (local $k_magic v128) (local $k_dmin v128)
    (local.set $k_log2e (v128.const f32x4 0x1.715476p0 0x1.715476p0 0x1.715476p0 0x1.715476p0))
    (local.set $k_half (v128.const f32x4 0.5 0.5 0.5 0.5))
    (local.set $k_c1 (v128.const f32x4 0x1.63p-1 0x1.63p-1 0x1.63p-1 0x1.63p-1))
    (local.set $k_c2 (v128.const f32x4 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13 -0x1.bd0106p-13))
    (local.set $k_g4 (v128.const f32x4 0x1.6d10fcp-10 0x1.6d10fcp-10 0x1.6d10fcp-10 0x1.6d10fcp-10))
    (local.set $k_g3 (v128.const f32x4 0x1.120b62p-7 0x1.120b62p-7 0x1.120b62p-7 0x1.120b62p-7))
    (local.set $k_g2 (v128.const f32x4 0x1.55551ap-5 0x1.55551ap-5 0x1.55551ap-5 0x1.55551ap-5))
    (local.set $k_g1 (v128.const f32x4 0x1.5554dep-3 0x1.5554dep-3 0x1.5554dep-3 0x1.5554dep-3))
    (local.set $k_one (v128.const f32x4 1 1 1 1))
    (local.set $k_magic (v128.const f32x4 12583039 12583039 12583039 12583039))
    (local.set $k_dmin (v128.const f32x4 -87.5 -87.5 -87.5 -87.5))
    (local.set $tail (i32.and (local.get $T) (i32.const 3)))
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
            (local.set $maxv (f32x4.splat (local.get $max)))
            (local.set $acc (v128.const f32x4 0 0 0 0))
            ;; e in place, four keys at a time; a last partial block reads past the row (the next
            ;; row's scores, masked off by the mask's zeros) and stores only the row's lanes
            (local.set $s (i32.const 0))
            (block $edone
              (loop $ex
                (br_if $edone (i32.ge_u (local.get $s) (local.get $T)))
                (local.set $at (i32.shl (local.get $s) (i32.const 2)))
                (local.set $valid (f32x4.ne (v128.load (i32.add (local.get $mask) (local.get $at)))
                  (v128.const f32x4 0 0 0 0)))
                ;; four masked keys (padded frames): e = +0 for all, which adds nothing to a sum
                ;; that is never -0
                (local.set $e (v128.const f32x4 0 0 0 0))
                (if (v128.any_true (local.get $valid))
                  (then
                    (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $at)))
                      (local.get $maxv)))
                    (local.set $k (f32x4.floor (f32x4.add
                      (f32x4.mul (local.get $d) (local.get $k_log2e))
                      (local.get $k_half))))
                    (local.set $r (f32x4.sub
                      (f32x4.sub (local.get $d)
                        (f32x4.mul (local.get $k) (local.get $k_c1)))
                      (f32x4.mul (local.get $k)
                        (local.get $k_c2))))
                    (local.set $g (f32x4.add
                      (f32x4.mul (local.get $k_g4)
                        (local.get $r))
                      (local.get $k_g3)))
                    (local.set $g (f32x4.add (f32x4.mul (local.get $g) (local.get $r))
                      (local.get $k_g2)))
                    (local.set $g (f32x4.add (f32x4.mul (local.get $g) (local.get $r))
                      (local.get $k_g1)))
                    (local.set $g (f32x4.add (f32x4.mul (local.get $g) (local.get $r))
                      (local.get $k_half)))
                    ;; e = (1 + (r + r^2 g)) 2^k
                    (local.set $e (f32x4.mul
                      (f32x4.add (local.get $k_one) (f32x4.add (local.get $r)
                        (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $g))))
                      ;; 2^k: k + 1.5 2^23 + 127 holds k + 127 (1 to 127 wherever d >= -87.5) in
                      ;; its low mantissa bits, which the shift moves to the exponent
                      (i32x4.shl (f32x4.add (local.get $k)
                        (local.get $k_magic)) (i32.const 23))))
                    ;; 0 for masked keys and d < -87.5 (NaN fails the test and stays)
                    (local.set $e (v128.and (local.get $e) (v128.andnot (local.get $valid)
                      (f32x4.lt (local.get $d) (local.get $k_dmin)))))))
                (if (i32.le_u (i32.add (local.get $s) (i32.const 4)) (local.get $T))
                  (then (v128.store (i32.add (local.get $x) (local.get $at)) (local.get $e)))
                  (else (call $storeRow (i32.add (local.get $x) (local.get $at)) (local.get $e)
                    (local.get $e) (local.get $tail))))
                (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (br $ex)))
            ;; x = e * (1 / sum), the sum of the lanes' sums in a fixed order
            (local.set $inv (f32x4.splat (f32.div (f32.const 1) (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
              (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))))
            (local.set $s (i32.const 0))
            (block $ndone
              (loop $nl
                (br_if $ndone (i32.gt_u (i32.add (local.get $s) (i32.const 4)) (local.get $T)))
                (local.set $at (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
                (v128.store (local.get $at) (f32x4.mul (v128.load (local.get $at)) (local.get $inv)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (br $nl)))
            (if (local.get $tail)
              (then
                (local.set $at (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
                (local.set $e (f32x4.mul (v128.load (local.get $at)) (local.get $inv)))
                (call $storeRow (local.get $at) (local.get $e) (local.get $e) (local.get $tail))))))
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
  ;; key masks, zero past T; $kt: (HS, Tp) scratch, Tp = T rounded up to 8. Per (b, h):
  ;; att = softmax(alpha Q K^T) with K^T staged in $kt, then out = att V. HS a multiple of 8.
  (func (export "attentionForward")
    (param $qkv i32) (param $att i32) (param $out i32) (param $mask i32) (param $kt i32)
    (param $B i32) (param $T i32) (param $C i32) (param $NH i32) (param $alpha f64)
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
        (call $softmaxRows (local.get $ab) (local.get $T) (local.get $T) (local.get $mb))
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
