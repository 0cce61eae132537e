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
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vb) (local.get $vb))))))
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
)
