;; Element-wise kernels over float32 arrays, WebAssembly SIMD.
;;
;; Source of kernels/wasm/elementwise_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_elementwise_test.ts checks that the two agree.
;;
;; The host (kernels/wasm/elementwise_f32.ts) copies the operands into linear memory, calls a
;; kernel, and copies the result out. Each kernel does, per element, exactly the float operations
;; of the host loop in kernels/elementwise/cpu.ts, so the results are the same bits:
;; - `add`: a + b in float32. The host adds the two float32 values in float64 and rounds the sum
;;   to float32; for one addition that double rounding gives the correctly rounded float32 sum
;;   (float64 has more than 2 * 24 + 2 bits), which is what f32 add computes.
;; - `axpby`: alpha * a + beta * b in float64 (two products, then their sum), rounded to float32.
;; - `gelu`, `geluGrad`: `geluForward`, `geluBackward` of kernels/activation/cpu.ts, the table
;;   polynomial in float64 (Horner, plain mul then add), then the product rounded to float32.
(module
  (memory (export "memory") 1)

  ;; out[i] = a[i] + b[i] for i < n, four at a time, then one at a time; byte addresses.
  (func (export "add") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $out) (local.get $end4)))
        (v128.store (local.get $out)
          (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $v)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $s)))
  )

  ;; out[i] = f32(alpha * f64(a[i]) + beta * f64(b[i])) for i < n; byte addresses. Four floats
  ;; are loaded at once and computed as two f64x2 halves (lanes 0-1, then 2-3 moved down).
  (func (export "axpby") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (param $alpha f64) (param $beta f64)
    (local $end i32) (local $end4 i32) (local $al v128) (local $be v128)
    (local $va v128) (local $vb v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $al (f64x2.splat (local.get $alpha)))
    (local.set $be (f64x2.splat (local.get $beta)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load (local.get $b)))
        (local.set $lo (f64x2.add
          (f64x2.mul (local.get $al) (f64x2.promote_low_f32x4 (local.get $va)))
          (f64x2.mul (local.get $be) (f64x2.promote_low_f32x4 (local.get $vb)))))
        (local.set $hi (f64x2.add
          (f64x2.mul (local.get $al) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $va) (local.get $va))))
          (f64x2.mul (local.get $be) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
              (local.get $vb) (local.get $vb))))))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $v)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.add
          (f64.mul (local.get $alpha) (f64.promote_f32 (f32.load (local.get $a))))
          (f64.mul (local.get $beta) (f64.promote_f32 (f32.load (local.get $b)))))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $s)))
  )

  ;; ---- GELU (kernels/activation/cpu.ts) ----------------------------------------------------
  ;; The host's piecewise polynomials: $tab holds (160, 8) float64 monomial coefficients, interval
  ;; i covering [-10 + i/8, -10 + (i+1)/8). Four floats at a time when all four lie in [-10, 10)
  ;; (two f64x2 halves), otherwise one at a time by the scalar functions below, which also take
  ;; the n % 4 last ones. Each element: the host's float64 operations in the host's order.

  ;; The table polynomial at x in [-10, 10) (scalar).
  (func $poly (param $tab i32) (param $x f64) (result f64)
    (local $t f64) (local $k i32) (local $u f64) (local $o i32) (local $y f64)
    (local.set $t (f64.mul (f64.sub (local.get $x) (f64.const -10)) (f64.const 8)))
    (local.set $k (i32.trunc_f64_s (local.get $t)))
    (local.set $u (f64.sub (f64.mul (f64.const 2)
      (f64.sub (local.get $t) (f64.convert_i32_s (local.get $k)))) (f64.const 1)))
    (local.set $o (i32.add (local.get $tab) (i32.shl (local.get $k) (i32.const 6))))
    (local.set $y (f64.load offset=56 (local.get $o)))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=48 (local.get $o))))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=40 (local.get $o))))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=32 (local.get $o))))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=24 (local.get $o))))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=16 (local.get $o))))
    (local.set $y (f64.add (f64.mul (local.get $y) (local.get $u))
      (f64.load offset=8 (local.get $o))))
    (f64.add (f64.mul (local.get $y) (local.get $u)) (f64.load (local.get $o)))
  )

  ;; out[i] = x Phi(x), x = inp[i], for i < n, one at a time: Phi = 0 left of the table (x * 0),
  ;; 1 right of it and for NaN (x itself).
  (func $geluScalar (param $inp i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $end i32) (local $x f64)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (local.get $inp))))
        (f32.store (local.get $out) (f32.demote_f64
          (if (result f64) (i32.and (f64.ge (local.get $x) (f64.const -10))
                                    (f64.lt (local.get $x) (f64.const 10)))
            (then (f64.mul (local.get $x) (call $poly (local.get $tab) (local.get $x))))
            (else (if (result f64) (f64.lt (local.get $x) (f64.const -10))
              (then (f64.mul (local.get $x) (f64.const 0)))
              (else (local.get $x)))))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $l)))
  )

  ;; dinp[i] = dout[i] * slope(x), x = inp[i], one at a time: slope 0 left of the table, 1 right
  ;; of it, NaN for NaN.
  (func $geluGradScalar (param $inp i32) (param $dout i32) (param $out i32) (param $n i32)
    (param $tab i32)
    (local $end i32) (local $x f64) (local $s f64)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (local.get $inp))))
        (local.set $s
          (if (result f64) (i32.and (f64.ge (local.get $x) (f64.const -10))
                                    (f64.lt (local.get $x) (f64.const 10)))
            (then (call $poly (local.get $tab) (local.get $x)))
            (else (if (result f64) (f64.lt (local.get $x) (f64.const -10))
              (then (f64.const 0))
              (else (if (result f64) (f64.ge (local.get $x) (f64.const 10))
                (then (f64.const 1))
                (else (f64.const nan))))))))
        (f32.store (local.get $out) (f32.demote_f64
          (f64.mul (f64.promote_f32 (f32.load (local.get $dout))) (local.get $s))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 4)))
        (local.set $dout (i32.add (local.get $dout) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $l)))
  )

  ;; out[i] = x Phi(x) for i < n, Phi from the table at $tab (the host's CDF table).
  (func (export "gelu") (param $inp i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $end4 i32) (local $v v128)
    (local $xl v128) (local $tl v128) (local $kl v128) (local $ul v128) (local $yl v128)
    (local $ol0 i32) (local $ol1 i32)
    (local $xh v128) (local $th v128) (local $kh v128) (local $uh v128) (local $yh v128)
    (local $oh0 i32) (local $oh1 i32)
    (local.set $end4 (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $v (v128.load (local.get $inp)))
        (if (i32x4.all_true (v128.and
              (f32x4.ge (local.get $v) (v128.const f32x4 -10 -10 -10 -10))
              (f32x4.lt (local.get $v) (v128.const f32x4 10 10 10 10))))
          (then
            (local.set $xl (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $xh (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            ;; t = (x + 10) * 8, interval k = trunc(t), local u = 2 (t - k) - 1, as the host
            (local.set $tl (f64x2.mul (f64x2.sub (local.get $xl) (v128.const f64x2 -10 -10))
              (v128.const f64x2 8 8)))
            (local.set $kl (i32x4.trunc_sat_f64x2_s_zero (local.get $tl)))
            (local.set $ul (f64x2.sub (f64x2.mul (v128.const f64x2 2 2)
              (f64x2.sub (local.get $tl) (f64x2.convert_low_i32x4_s (local.get $kl))))
              (v128.const f64x2 1 1)))
            (local.set $ol0 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 0 (local.get $kl)) (i32.const 6))))
            (local.set $ol1 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 1 (local.get $kl)) (i32.const 6))))
            (local.set $th (f64x2.mul (f64x2.sub (local.get $xh) (v128.const f64x2 -10 -10))
              (v128.const f64x2 8 8)))
            (local.set $kh (i32x4.trunc_sat_f64x2_s_zero (local.get $th)))
            (local.set $uh (f64x2.sub (f64x2.mul (v128.const f64x2 2 2)
              (f64x2.sub (local.get $th) (f64x2.convert_low_i32x4_s (local.get $kh))))
              (v128.const f64x2 1 1)))
            (local.set $oh0 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 0 (local.get $kh)) (i32.const 6))))
            (local.set $oh1 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 1 (local.get $kh)) (i32.const 6))))
            ;; Horner from the top coefficient, each lane loading its own interval's; the two halves
            ;; interleaved so that their dependent chains overlap
            (local.set $yl (v128.load64_lane offset=56 1 (local.get $ol1)
              (v128.load64_zero offset=56 (local.get $ol0))))
            (local.set $yh (v128.load64_lane offset=56 1 (local.get $oh1)
              (v128.load64_zero offset=56 (local.get $oh0))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=48 1 (local.get $ol1)
                (v128.load64_zero offset=48 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=48 1 (local.get $oh1)
                (v128.load64_zero offset=48 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=40 1 (local.get $ol1)
                (v128.load64_zero offset=40 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=40 1 (local.get $oh1)
                (v128.load64_zero offset=40 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=32 1 (local.get $ol1)
                (v128.load64_zero offset=32 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=32 1 (local.get $oh1)
                (v128.load64_zero offset=32 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=24 1 (local.get $ol1)
                (v128.load64_zero offset=24 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=24 1 (local.get $oh1)
                (v128.load64_zero offset=24 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=16 1 (local.get $ol1)
                (v128.load64_zero offset=16 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=16 1 (local.get $oh1)
                (v128.load64_zero offset=16 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=8 1 (local.get $ol1)
                (v128.load64_zero offset=8 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=8 1 (local.get $oh1)
                (v128.load64_zero offset=8 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=0 1 (local.get $ol1)
                (v128.load64_zero offset=0 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=0 1 (local.get $oh1)
                (v128.load64_zero offset=0 (local.get $oh0)))))
            (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $xl) (local.get $yl)))
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $xh) (local.get $yh))))))
          (else (call $geluScalar (local.get $inp) (local.get $out) (i32.const 4) (local.get $tab))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $l)))
    (call $geluScalar (local.get $inp) (local.get $out) (i32.and (local.get $n) (i32.const 3))
      (local.get $tab))
  )

  ;; dinp[i] = dout[i] * slope(inp[i]) for i < n, the slope from the table at $tab (the host's
  ;; slope table).
  (func (export "geluGrad") (param $inp i32) (param $dout i32) (param $out i32) (param $n i32)
    (param $tab i32)
    (local $end4 i32) (local $v v128) (local $d v128)
    (local $xl v128) (local $tl v128) (local $kl v128) (local $ul v128) (local $yl v128)
    (local $ol0 i32) (local $ol1 i32)
    (local $xh v128) (local $th v128) (local $kh v128) (local $uh v128) (local $yh v128)
    (local $oh0 i32) (local $oh1 i32)
    (local.set $end4 (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $v (v128.load (local.get $inp)))
        (if (i32x4.all_true (v128.and
              (f32x4.ge (local.get $v) (v128.const f32x4 -10 -10 -10 -10))
              (f32x4.lt (local.get $v) (v128.const f32x4 10 10 10 10))))
          (then
            (local.set $xl (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $xh (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            ;; t = (x + 10) * 8, interval k = trunc(t), local u = 2 (t - k) - 1, as the host
            (local.set $tl (f64x2.mul (f64x2.sub (local.get $xl) (v128.const f64x2 -10 -10))
              (v128.const f64x2 8 8)))
            (local.set $kl (i32x4.trunc_sat_f64x2_s_zero (local.get $tl)))
            (local.set $ul (f64x2.sub (f64x2.mul (v128.const f64x2 2 2)
              (f64x2.sub (local.get $tl) (f64x2.convert_low_i32x4_s (local.get $kl))))
              (v128.const f64x2 1 1)))
            (local.set $ol0 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 0 (local.get $kl)) (i32.const 6))))
            (local.set $ol1 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 1 (local.get $kl)) (i32.const 6))))
            (local.set $th (f64x2.mul (f64x2.sub (local.get $xh) (v128.const f64x2 -10 -10))
              (v128.const f64x2 8 8)))
            (local.set $kh (i32x4.trunc_sat_f64x2_s_zero (local.get $th)))
            (local.set $uh (f64x2.sub (f64x2.mul (v128.const f64x2 2 2)
              (f64x2.sub (local.get $th) (f64x2.convert_low_i32x4_s (local.get $kh))))
              (v128.const f64x2 1 1)))
            (local.set $oh0 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 0 (local.get $kh)) (i32.const 6))))
            (local.set $oh1 (i32.add (local.get $tab)
              (i32.shl (i32x4.extract_lane 1 (local.get $kh)) (i32.const 6))))
            ;; Horner from the top coefficient, each lane loading its own interval's; the two halves
            ;; interleaved so that their dependent chains overlap
            (local.set $yl (v128.load64_lane offset=56 1 (local.get $ol1)
              (v128.load64_zero offset=56 (local.get $ol0))))
            (local.set $yh (v128.load64_lane offset=56 1 (local.get $oh1)
              (v128.load64_zero offset=56 (local.get $oh0))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=48 1 (local.get $ol1)
                (v128.load64_zero offset=48 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=48 1 (local.get $oh1)
                (v128.load64_zero offset=48 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=40 1 (local.get $ol1)
                (v128.load64_zero offset=40 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=40 1 (local.get $oh1)
                (v128.load64_zero offset=40 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=32 1 (local.get $ol1)
                (v128.load64_zero offset=32 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=32 1 (local.get $oh1)
                (v128.load64_zero offset=32 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=24 1 (local.get $ol1)
                (v128.load64_zero offset=24 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=24 1 (local.get $oh1)
                (v128.load64_zero offset=24 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=16 1 (local.get $ol1)
                (v128.load64_zero offset=16 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=16 1 (local.get $oh1)
                (v128.load64_zero offset=16 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=8 1 (local.get $ol1)
                (v128.load64_zero offset=8 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=8 1 (local.get $oh1)
                (v128.load64_zero offset=8 (local.get $oh0)))))
            (local.set $yl (f64x2.add (f64x2.mul (local.get $yl) (local.get $ul))
              (v128.load64_lane offset=0 1 (local.get $ol1)
                (v128.load64_zero offset=0 (local.get $ol0)))))
            (local.set $yh (f64x2.add (f64x2.mul (local.get $yh) (local.get $uh))
              (v128.load64_lane offset=0 1 (local.get $oh1)
                (v128.load64_zero offset=0 (local.get $oh0)))))
            (local.set $d (v128.load (local.get $dout)))
            (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero
                (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (local.get $yl)))
              (f32x4.demote_f64x2_zero
                (f64x2.mul (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                    (local.get $d) (local.get $d)))
                  (local.get $yh))))))
          (else (call $geluGradScalar (local.get $inp) (local.get $dout) (local.get $out) (i32.const 4)
            (local.get $tab))))
        (local.set $inp (i32.add (local.get $inp) (i32.const 16)))
        (local.set $dout (i32.add (local.get $dout) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $l)))
    (call $geluGradScalar (local.get $inp) (local.get $dout) (local.get $out)
      (i32.and (local.get $n) (i32.const 3)) (local.get $tab))
  )
)
