;; Single-precision GEMM kernel over packed panels, WebAssembly SIMD (f32x4).
;;
;; Source of kernels/wasm/gemm_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_modules_test.ts checks that the two agree.
;;
;; The host (kernels/wasm/gemm_f32.ts) packs op(A) and op(B) into linear memory (by its own loops,
;; or, for an operand it first copied into the memory, by `packRows`/`packCols` below); `gemm`
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
;;
;; The memory is imported and shared: worker threads (kernels/wasm/pool.ts) run their own
;; instances of this module on the same memory, each on its own rows of A and C.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (export "memory" (memory 0))

  ;; C[4x8 tile at $c] = A panel[$a, kc x 4] * B panel[$b, kc x 8], added to the tile's old
  ;; contents when $acc is 1, or to the 8-float bias row at $bias (each row) when $acc is 2.
  ;; 8 f32x4 accumulators (row r, column half h) stay in registers; kc is a multiple of 4.
  (func $tile4x8
    (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $acc i32)
    (param $bias i32)
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
    (if (i32.eq (local.get $acc) (i32.const 2)) (then
      ;; bias + sum, as the host's C filled with the bias row then acc = 1
      (local.set $b0 (v128.load offset=0 (local.get $bias)))
      (local.set $b1 (v128.load offset=16 (local.get $bias)))
      (local.set $c00 (f32x4.add (local.get $b0) (local.get $c00)))
      (local.set $c01 (f32x4.add (local.get $b1) (local.get $c01)))
      (local.set $c10 (f32x4.add (local.get $b0) (local.get $c10)))
      (local.set $c11 (f32x4.add (local.get $b1) (local.get $c11)))
      (local.set $c20 (f32x4.add (local.get $b0) (local.get $c20)))
      (local.set $c21 (f32x4.add (local.get $b1) (local.get $c21)))
      (local.set $c30 (f32x4.add (local.get $b0) (local.get $c30)))
      (local.set $c31 (f32x4.add (local.get $b1) (local.get $c31)))
      (local.set $acc (i32.const 0))))
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
  ;; $acc = 1 adds the product to what the C work holds (the host preloads C there for beta = 1),
  ;; 0 overwrites it, 2 adds it to the bias row at $bias (np*8 floats, the same for every row:
  ;; the bits of preloading C with it, for one K block); later K blocks always add.
  (func (export "gemm")
    (param $mp i32) (param $np i32) (param $kpad i32) (param $kc i32)
    (param $ap i32) (param $bp i32) (param $cp i32) (param $ldc i32) (param $acc i32)
    (param $bias i32)
    (local $k0 i32) (local $kb i32) (local $i i32) (local $j i32)
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
            (local.get $kb) (local.get $ldc) (local.get $acc)
            ;; bias of B panel j: bias + 8j * 4 bytes
            (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 5))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $i) (local.get $mp))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $np))))
      (local.set $acc (i32.const 1))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kb)))
      (br_if $blocks (i32.lt_u (local.get $k0) (local.get $kpad))))
  )
;; ---- packing (the host first copies the operand into memory with one memcpy) ----------------
  ;; Both functions write whole panels: rows k < $K from the source, rows K <= k < $kpad zero.

  ;; Panels from 4-row blocks stored row-major (op(A) untransposed, or op(B) stored (N, K)):
  ;; block b (source rows 4b..4b+3, $ld bytes apart, K floats each) is transposed so that each k
  ;; gives 4 consecutive floats, $step bytes apart from the next k. With $half = 0 block b fills
  ;; A panel b ($step 16); with $half = 1 blocks 2q and 2q+1 fill the left and right halves of
  ;; B panel q ($step 32). $pb is the panel size in bytes.
  (func (export "packRows")
    (param $src i32) (param $ld i32) (param $nblk i32) (param $K i32) (param $kpad i32)
    (param $dst i32) (param $step i32) (param $pb i32) (param $half i32)
    (local $b i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $d i32) (local $k i32) (local $k4 i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $k4 (i32.and (local.get $K) (i32.const -4)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $b) (local.get $nblk)))
        (local.set $s0 (i32.add (local.get $src)
          (i32.mul (i32.shl (local.get $b) (i32.const 2)) (local.get $ld))))
        (local.set $s1 (i32.add (local.get $s0) (local.get $ld)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $ld)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $ld)))
        (local.set $d (i32.add (local.get $dst)
          (i32.add
            (i32.mul (i32.shr_u (local.get $b) (local.get $half)) (local.get $pb))
            (i32.shl (i32.and (local.get $b) (local.get $half)) (i32.const 4)))))
        ;; k in steps of 4: a 4x4 transpose by two rounds of shuffles
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $kv
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $k4)))
            (local.set $r0 (v128.load (local.get $s0)))
            (local.set $r1 (v128.load (local.get $s1)))
            (local.set $r2 (v128.load (local.get $s2)))
            (local.set $r3 (v128.load (local.get $s3)))
            ;; t0 = [r0.0 r1.0 r0.1 r1.1], t1 = [r0.2 r1.2 r0.3 r1.3], t2/t3 likewise for r2, r3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
              (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
              (local.get $r2) (local.get $r3)))
            ;; column k+j of the block = [r0.j r1.j r2.j r3.j]
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (local.get $t1) (local.get $t3)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
              (local.get $t1) (local.get $t3)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
            (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
            (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
            (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $kv)))
        ;; the K % 4 last columns one float at a time
        (block $sdone
          (loop $ks
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $K)))
            (f32.store offset=0 (local.get $d) (f32.load (local.get $s0)))
            (f32.store offset=4 (local.get $d) (f32.load (local.get $s1)))
            (f32.store offset=8 (local.get $d) (f32.load (local.get $s2)))
            (f32.store offset=12 (local.get $d) (f32.load (local.get $s3)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
            (local.set $s1 (i32.add (local.get $s1) (i32.const 4)))
            (local.set $s2 (i32.add (local.get $s2) (i32.const 4)))
            (local.set $s3 (i32.add (local.get $s3) (i32.const 4)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        ;; zero padding up to kpad
        (block $zdone
          (loop $kz
            (br_if $zdone (i32.ge_u (local.get $k) (local.get $kpad)))
            (v128.store (local.get $d) (v128.const i32x4 0 0 0 0))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kz)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks)))
  )

  ;; Panels whose rows are already contiguous in the source (op(B) untransposed: 8 floats, or
  ;; op(A) stored (K, M): 4 floats, per k): panel p copies ($wide = 1: 32, else 16) bytes from
  ;; $src + k*$ld + p*width for each k < K, then zeros up to kpad.
  (func (export "packCols")
    (param $src i32) (param $ld i32) (param $np i32) (param $K i32) (param $kpad i32)
    (param $dst i32) (param $wide i32)
    (local $p i32) (local $s i32) (local $k i32) (local $w i32)
    (local.set $w (i32.shl (i32.const 16) (local.get $wide)))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_u (local.get $p) (local.get $np)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $w))))
        (local.set $k (i32.const 0))
        (block $cdone
          (loop $kc
            (br_if $cdone (i32.ge_u (local.get $k) (local.get $K)))
            (v128.store (local.get $dst) (v128.load (local.get $s)))
            (if (local.get $wide) (then
              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))))
            (local.set $s (i32.add (local.get $s) (local.get $ld)))
            (local.set $dst (i32.add (local.get $dst) (local.get $w)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kc)))
        (block $zdone
          (loop $kz
            (br_if $zdone (i32.ge_u (local.get $k) (local.get $kpad)))
            (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
            (if (local.get $wide) (then
              (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))))
            (local.set $dst (i32.add (local.get $dst) (local.get $w)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kz)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels)))
  )
)
