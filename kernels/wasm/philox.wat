;; Philox-4x32-10 blocks, WebAssembly: the counter-based generator of kernels/rng/philox.ts
;; (`philox4x32`), with the 32 x 32 -> 64-bit products done by one i64 multiply instead of the
;; host's four 16-bit ones. Integer arithmetic: the same bits on every machine.
;;
;; Source of kernels/wasm/philox_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_modules_test.ts checks that the two agree.
(module
  (memory (export "memory") 1)

  ;; For b = first, first + 1, ... (count blocks, b wrapping at 2^32 like the host's `b >>> 0`):
  ;; the block of counter (b, 0, 0, 0) and key (k0, k1), four u32 at $dst + 16 (b - first).
  (func (export "blocks")
    (param $first i32) (param $count i32) (param $k0 i32) (param $k1 i32) (param $dst i32)
    (local $i i32) (local $round i32) (local $c0 i32) (local $c1 i32) (local $c2 i32)
    (local $c3 i32) (local $key0 i32) (local $key1 i32) (local $p0 i64) (local $p1 i64)
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $c0 (i32.add (local.get $first) (local.get $i)))
        (local.set $c1 (i32.const 0))
        (local.set $c2 (i32.const 0))
        (local.set $c3 (i32.const 0))
        (local.set $key0 (local.get $k0))
        (local.set $key1 (local.get $k1))
        (local.set $round (i32.const 0))
        (loop $rounds
          ;; p0 = M0 c0, p1 = M1 c2 (64-bit)
          (local.set $p0 (i64.mul (i64.const 0xD2511F53) (i64.extend_i32_u (local.get $c0))))
          (local.set $p1 (i64.mul (i64.const 0xCD9E8D57) (i64.extend_i32_u (local.get $c2))))
          ;; (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
          (local.set $c0 (i32.xor (i32.xor
            (i32.wrap_i64 (i64.shr_u (local.get $p1) (i64.const 32))) (local.get $c1))
            (local.get $key0)))
          (local.set $c1 (i32.wrap_i64 (local.get $p1)))
          (local.set $c2 (i32.xor (i32.xor
            (i32.wrap_i64 (i64.shr_u (local.get $p0) (i64.const 32))) (local.get $c3))
            (local.get $key1)))
          (local.set $c3 (i32.wrap_i64 (local.get $p0)))
          ;; key schedule: k0 += W0, k1 += W1
          (local.set $key0 (i32.add (local.get $key0) (i32.const 0x9E3779B9)))
          (local.set $key1 (i32.add (local.get $key1) (i32.const 0xBB67AE85)))
          (local.set $round (i32.add (local.get $round) (i32.const 1)))
          (br_if $rounds (i32.lt_u (local.get $round) (i32.const 10))))
        (i32.store offset=0 (local.get $dst) (local.get $c0))
        (i32.store offset=4 (local.get $dst) (local.get $c1))
        (i32.store offset=8 (local.get $dst) (local.get $c2))
        (i32.store offset=12 (local.get $dst) (local.get $c3))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $block)))
  )
)
