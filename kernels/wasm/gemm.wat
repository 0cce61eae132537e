;; Single-precision GEMM kernel over packed panels, WebAssembly SIMD (f32x4).
;;
;; Source of kernels/wasm/gemm_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_gemm_test.ts checks that the two agree.
;;
;; The host (kernels/wasm/gemm_f32.ts) packs op(A) and op(B) into linear memory; this module only
;; multiplies the packed panels:
;;   A panel p (rows 4p..4p+3):  kpad x 4 floats, element (i, k) at [k][i - 4p]   (k-major)
;;   B panel q (cols 8q..8q+7):  kpad x 8 floats, element (k, j) at [k][j - 8q]   (k-major)
;;   C work (mp*4, np*8):        row-major with a row stride of ldc bytes
;; Rows, columns and k beyond the real sizes are zero-padded by the host, so there are no edge
;; cases here, and kpad is a multiple of 4 (the unroll factor).
;;
;; Determinism: every C element is the sum over K blocks of KC terms each, block by block, in
;; increasing k, with a separate f32 multiply then add (no fused multiply-add: `relaxed_madd` may
;; or may not fuse depending on the CPU, plain mul + add rounds the same on every machine). The
;; order depends only on (K, kc), never on the other sizes or on timing.
(module
  (memory (export "memory") 1)

  ;; C[4x8 tile at $c] (=, or += when $acc) A panel[$a, kc x 4] * B panel[$b, kc x 8].
  ;; 8 f32x4 accumulators (row r, column half h) stay in registers; kc is a multiple of 4.
  (func $tile4x8
    (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $acc i32)
    (local $aend i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local.set $aend (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    (loop $k
      ;; step k + 0: B row (two f32x4), then each A element broadcast against it
      (local.set $b0 (v128.load offset=0 (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $av (v128.load32_splat offset=0 (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
      ;; step k + 1
      (local.set $b0 (v128.load offset=32 (local.get $b)))
      (local.set $b1 (v128.load offset=48 (local.get $b)))
      (local.set $av (v128.load32_splat offset=16 (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=20 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=24 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=28 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
      ;; step k + 2
      (local.set $b0 (v128.load offset=64 (local.get $b)))
      (local.set $b1 (v128.load offset=80 (local.get $b)))
      (local.set $av (v128.load32_splat offset=32 (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=36 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=40 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=44 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
      ;; step k + 3
      (local.set $b0 (v128.load offset=96 (local.get $b)))
      (local.set $b1 (v128.load offset=112 (local.get $b)))
      (local.set $av (v128.load32_splat offset=48 (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=52 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=56 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat offset=60 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 64)))
      (local.set $b (i32.add (local.get $b) (i32.const 128)))
      (br_if $k (i32.lt_u (local.get $a) (local.get $aend))))
    ;; row addresses of the tile; later K blocks add to the partial sums of the earlier ones
    (local.set $r1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $ldc)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $ldc)))
    (if (local.get $acc) (then
      (local.set $c00 (f32x4.add (v128.load offset=0 (local.get $c)) (local.get $c00)))
      (local.set $c01 (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
      (local.set $c10 (f32x4.add (v128.load offset=0 (local.get $r1)) (local.get $c10)))
      (local.set $c11 (f32x4.add (v128.load offset=16 (local.get $r1)) (local.get $c11)))
      (local.set $c20 (f32x4.add (v128.load offset=0 (local.get $r2)) (local.get $c20)))
      (local.set $c21 (f32x4.add (v128.load offset=16 (local.get $r2)) (local.get $c21)))
      (local.set $c30 (f32x4.add (v128.load offset=0 (local.get $r3)) (local.get $c30)))
      (local.set $c31 (f32x4.add (v128.load offset=16 (local.get $r3)) (local.get $c31)))
    ))
    (v128.store offset=0 (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store offset=0 (local.get $r1) (local.get $c10))
    (v128.store offset=16 (local.get $r1) (local.get $c11))
    (v128.store offset=0 (local.get $r2) (local.get $c20))
    (v128.store offset=16 (local.get $r2) (local.get $c21))
    (v128.store offset=0 (local.get $r3) (local.get $c30))
    (v128.store offset=16 (local.get $r3) (local.get $c31))
  )

  ;; C work (mp*4, np*8) = A panels (mp) @ B panels (np), K blocked by $kc (multiple of 4):
  ;; for each K block, each B panel (kc x 8, stays in L1) meets every A panel of the block.
  ;; Byte addresses: $ap, $bp, $cp; $ldc is the C work row stride in bytes. mp, np, kpad >= 1.
  (func (export "gemm")
    (param $mp i32) (param $np i32) (param $kpad i32) (param $kc i32)
    (param $ap i32) (param $bp i32) (param $cp i32) (param $ldc i32)
    (local $k0 i32) (local $kb i32) (local $i i32) (local $j i32) (local $acc i32)
    (loop $blocks
      ;; kb = min(kc, kpad - k0)
      (local.set $kb (i32.sub (local.get $kpad) (local.get $k0)))
      (if (i32.lt_u (local.get $kc) (local.get $kb)) (then (local.set $kb (local.get $kc))))
      (local.set $j (i32.const 0))
      (loop $cols
        (local.set $i (i32.const 0))
        (loop $rows
          (call $tile4x8
            ;; A panel i from k0: ap + (i*kpad + k0) * 4 floats * 4 bytes
            (i32.add (local.get $ap)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $kpad)) (local.get $k0))
                (i32.const 4)))
            ;; B panel j from k0: bp + (j*kpad + k0) * 8 floats * 4 bytes
            (i32.add (local.get $bp)
              (i32.shl (i32.add (i32.mul (local.get $j) (local.get $kpad)) (local.get $k0))
                (i32.const 5)))
            ;; C tile (4i, 8j): cp + 4i * ldc + 8j * 4 bytes
            (i32.add (local.get $cp)
              (i32.add (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $ldc))
                (i32.shl (local.get $j) (i32.const 5))))
            (local.get $kb) (local.get $ldc) (local.get $acc))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $i) (local.get $mp))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $np))))
      (local.set $acc (i32.const 1))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kb)))
      (br_if $blocks (i32.lt_u (local.get $k0) (local.get $kpad))))
  )
)
