;; Philox-4x32-10 blocks and standard normals, WebAssembly SIMD.
;;
;; Source of kernels/wasm/philox_wasm.ts, which `deno task build-wasm` (tools/build_wasm.ts)
;; regenerates with wabt; tests/kernels/wasm_modules_test.ts checks that the two agree.
;;
;; `blocks`: the counter-based generator of kernels/rng/philox.ts (`philox4x32`), with the
;; 32 x 32 -> 64-bit products done by one i64 multiply instead of the host's four 16-bit ones.
;; Integer arithmetic: the same bits on every machine.
;;
;; `normals`: the Box-Muller numbers of `randnHost` (kernels/rng/philox.ts) from those blocks,
;; each pair of lanes in one f64x2 lane: u_a = ((w >>> 8) + 1) 2^-24, u_b = (w >>> 8) 2^-24,
;; r = sqrt(-2 log u_a), theta = (2 pi) u_b, z = (r cos theta, r sin theta), rounded to float32.
;; The host takes log, cos and sin from Math; here they are polynomials that agree with Math to a
;; few float64 ulps (tests/kernels/wasm_philox_test.ts measures the largest difference on every
;; one of the 2^24 possible inputs of each), so z agrees to a relative `bound`. Where z lies
;; farther than that from every float32 rounding boundary, its float32 is the host's; a block
;; where any of its four numbers is closer is listed for the host to redo with Math (about one
;; block in 2^17 with the host's bound of 2^-44).
;;
;; - log u (u in [2^-24, 1]): u = 2^e m with m in (sqrt(1/2), sqrt(2)], s = (m - 1) / (m + 1),
;;   log m = 2 s (1 + s^2/3 + s^4/5 + ... + s^20/21) (|s| < 0.172: the next term is below
;;   2^-60), log u = e LN2_HI + (e LN2_LO + log m) with LN2_HI of 32 bits (e LN2_HI exact).
;; - cos, sin (theta in [0, 2 pi)): k = nearest(theta 2/pi), r = theta - k pi/2 with pi/2 as
;;   P1 + P2 + P3 (33, 33 and 53 bits: k P1 and k P2 exact, theta - k P1 exact, |r| <= pi/4),
;;   Taylor polynomials of sin r (to r^17) and cos r (to r^16), then the quadrant k mod 4 swaps
;;   them and sets the signs.
;; The constants: P1..P3 and LN2_HI/LN2_LO are pi/2 and ln 2 split from 100-digit values; the
;; Taylor coefficients are 1/n! and 1/n rounded to float64.
(module
  (memory (export "memory") 1)

  ;; The block of counter (b, 0, 0, 0) and key (k0, k1): four u32 (lanes 0..3).
  (func $block (param $b i32) (param $k0 i32) (param $k1 i32) (result v128)
    (local $round i32) (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $p0 i64) (local $p1 i64)
    (local.set $c0 (local.get $b))
    (loop $rounds
      ;; p0 = M0 c0, p1 = M1 c2 (64-bit)
      (local.set $p0 (i64.mul (i64.const 0xD2511F53) (i64.extend_i32_u (local.get $c0))))
      (local.set $p1 (i64.mul (i64.const 0xCD9E8D57) (i64.extend_i32_u (local.get $c2))))
      ;; (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
      (local.set $c0 (i32.xor (i32.xor
        (i32.wrap_i64 (i64.shr_u (local.get $p1) (i64.const 32))) (local.get $c1))
        (local.get $k0)))
      (local.set $c1 (i32.wrap_i64 (local.get $p1)))
      (local.set $c2 (i32.xor (i32.xor
        (i32.wrap_i64 (i64.shr_u (local.get $p0) (i64.const 32))) (local.get $c3))
        (local.get $k1)))
      (local.set $c3 (i32.wrap_i64 (local.get $p0)))
      ;; key schedule: k0 += W0, k1 += W1
      (local.set $k0 (i32.add (local.get $k0) (i32.const 0x9E3779B9)))
      (local.set $k1 (i32.add (local.get $k1) (i32.const 0xBB67AE85)))
      (local.set $round (i32.add (local.get $round) (i32.const 1)))
      (br_if $rounds (i32.lt_u (local.get $round) (i32.const 10))))
    (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1
      (i32x4.splat (local.get $c0)) (local.get $c1)) (local.get $c2)) (local.get $c3))
  )

  ;; For b = first, first + 1, ... (count blocks, b wrapping at 2^32 like the host's `b >>> 0`):
  ;; the block of counter (b, 0, 0, 0) and key (k0, k1), four u32 at $dst + 16 (b - first).
  (func (export "blocks")
    (param $first i32) (param $count i32) (param $k0 i32) (param $k1 i32) (param $dst i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (v128.store (local.get $dst)
          (call $block (i32.add (local.get $first) (local.get $i)) (local.get $k0) (local.get $k1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
  )

  ;; log x per lane, x in [2^-24, 1].
  (func $log (param $x v128) (result v128)
    (local $m v128) (local $big v128) (local $e v128) (local $f v128) (local $s v128)
    (local $z v128) (local $p v128)
    ;; m = the mantissa as a number in [1, 2), halved when above sqrt(2) (exponent bits - 1)
    (local.set $m (v128.or (v128.and (local.get $x) (v128.const i64x2 0xFFFFFFFFFFFFF 0xFFFFFFFFFFFFF))
      (v128.const i64x2 0x3FF0000000000000 0x3FF0000000000000)))
    (local.set $big (f64x2.gt (local.get $m)
      (v128.const f64x2 0x1.6a09e667f3bcdp0 0x1.6a09e667f3bcdp0)))
    (local.set $m (i64x2.sub (local.get $m)
      (v128.and (local.get $big) (v128.const i64x2 0x10000000000000 0x10000000000000))))
    ;; e = the unbiased exponent as a float64 (2^52 + biased, minus 2^52 + 1023), + 1 where halved
    (local.set $e (f64x2.sub
      (v128.or (i64x2.shr_u (local.get $x) (i32.const 52))
        (v128.const i64x2 0x4330000000000000 0x4330000000000000))
      (v128.const f64x2 0x1.00000000003ffp52 0x1.00000000003ffp52)))
    (local.set $e (f64x2.sub (local.get $e)
      (v128.and (local.get $big) (v128.const f64x2 -1 -1))))
    (local.set $f (f64x2.sub (local.get $m) (v128.const f64x2 1 1)))
    (local.set $s (f64x2.div (local.get $f) (f64x2.add (local.get $f) (v128.const f64x2 2 2))))
    (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
    ;; p = 1 + z/3 + z^2/5 + ... + z^10/21 (Horner)
    (local.set $p (v128.const f64x2 0x1.8618618618618p-5 0x1.8618618618618p-5))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.af286bca1af28p-5 0x1.af286bca1af28p-5)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.e1e1e1e1e1e1ep-5 0x1.e1e1e1e1e1e1ep-5)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.1111111111111p-4 0x1.1111111111111p-4)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.3b13b13b13b14p-4 0x1.3b13b13b13b14p-4)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.745d1745d1746p-4 0x1.745d1745d1746p-4)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.c71c71c71c71cp-4 0x1.c71c71c71c71cp-4)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.2492492492492p-3 0x1.2492492492492p-3)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.999999999999ap-3 0x1.999999999999ap-3)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 0x1.5555555555555p-2 0x1.5555555555555p-2)
      (f64x2.mul (local.get $z) (local.get $p))))
    (local.set $p (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $z) (local.get $p))))
    ;; e LN2_HI + (e LN2_LO + 2 s p)
    (f64x2.add (f64x2.mul (local.get $e) (v128.const f64x2 0x1.62e42ffp-1 0x1.62e42ffp-1))
      (f64x2.add (f64x2.mul (local.get $e) (v128.const f64x2 -0x1.718432a1b0e26p-35 -0x1.718432a1b0e26p-35))
        (f64x2.mul (f64x2.add (local.get $s) (local.get $s)) (local.get $p))))
  )

  ;; sqrt(-2 log u) per lane: the Box-Muller radius.
  (func $radius (param $u v128) (result v128)
    (f64x2.sqrt (f64x2.mul (v128.const f64x2 -2 -2) (call $log (local.get $u))))
  )

  ;; (cos t, sin t) per lane, t in [0, 2 pi).
  (func $sincos (param $t v128) (result v128 v128)
    (local $k v128) (local $r v128) (local $w v128) (local $sp v128) (local $cp v128)
    (local $q v128) (local $swap v128) (local $c v128) (local $s v128)
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $t)
      (v128.const f64x2 0x1.45f306dc9c883p-1 0x1.45f306dc9c883p-1))))
    (local.set $r (f64x2.sub (f64x2.sub
      (f64x2.sub (local.get $t)
        (f64x2.mul (local.get $k) (v128.const f64x2 0x1.921fb544p0 0x1.921fb544p0)))
      (f64x2.mul (local.get $k) (v128.const f64x2 0x1.0b4611a6p-34 0x1.0b4611a6p-34)))
      (f64x2.mul (local.get $k) (v128.const f64x2 0x1.3198a2e037073p-69 0x1.3198a2e037073p-69))))
    (local.set $w (f64x2.mul (local.get $r) (local.get $r)))
    ;; sin r = r + r w (-1/3! + w (1/5! - ... + w / 17!))
    (local.set $sp (v128.const f64x2 0x1.952c77030ad4ap-49 0x1.952c77030ad4ap-49))
    (local.set $sp (f64x2.add (v128.const f64x2 -0x1.ae7f3e733b81fp-41 -0x1.ae7f3e733b81fp-41)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 -0x1.ae64567f544e4p-26 -0x1.ae64567f544e4p-26)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 -0x1.a01a01a01a01ap-13 -0x1.a01a01a01a01ap-13)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (v128.const f64x2 -0x1.5555555555555p-3 -0x1.5555555555555p-3)
      (f64x2.mul (local.get $w) (local.get $sp))))
    (local.set $sp (f64x2.add (local.get $r)
      (f64x2.mul (f64x2.mul (local.get $r) (local.get $w)) (local.get $sp))))
    ;; cos r = 1 + w (-1/2! + w (1/4! - ... + w / 16!))
    (local.set $cp (v128.const f64x2 0x1.ae7f3e733b81fp-45 0x1.ae7f3e733b81fp-45))
    (local.set $cp (f64x2.add (v128.const f64x2 -0x1.93974a8c07c9dp-37 -0x1.93974a8c07c9dp-37)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 -0x1.27e4fb7789f5cp-22 -0x1.27e4fb7789f5cp-22)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 -0x1.6c16c16c16c17p-10 -0x1.6c16c16c16c17p-10)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5)
      (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 -0.5 -0.5) (f64x2.mul (local.get $w) (local.get $cp))))
    (local.set $cp (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $w) (local.get $cp))))
    ;; quadrant q = k mod 4: odd q swaps; cos is negated for q = 1, 2 (bit 1 of q + 1), sin for
    ;; q = 2, 3 (bit 1 of q), by moving that bit to the sign
    (local.set $q (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))))
    (local.set $swap (i64x2.eq (v128.and (local.get $q) (v128.const i64x2 1 1))
      (v128.const i64x2 1 1)))
    (local.set $c (v128.bitselect (local.get $sp) (local.get $cp) (local.get $swap)))
    (local.set $s (v128.bitselect (local.get $cp) (local.get $sp) (local.get $swap)))
    (v128.xor (local.get $c) (i64x2.shl (v128.and (i64x2.add (local.get $q) (v128.const i64x2 1 1))
      (v128.const i64x2 2 2)) (i32.const 62)))
    (v128.xor (local.get $s)
      (i64x2.shl (v128.and (local.get $q) (v128.const i64x2 2 2)) (i32.const 62)))
  )

  ;; Lanes 0 and 1 (float32 masks) of the numbers in v (float64) whose float32 rounding is not
  ;; certain: v (1 - bound) and v (1 + bound) round to different float32 (rounding is monotonic,
  ;; so when they agree every number between them rounds alike; 1 +- bound are exact).
  (func $uncertain (param $v v128) (param $down v128) (param $up v128) (result v128)
    (f32x4.ne (f32x4.demote_f64x2_zero (f64x2.mul (local.get $v) (local.get $down)))
      (f32x4.demote_f64x2_zero (f64x2.mul (local.get $v) (local.get $up))))
  )

  ;; The normals of blocks first, first + 1, ... (count of them, key (k0, k1)): four float32 at
  ;; $dst + 16 (b - first), in the host's lane order. The indices (b - first) of blocks whose
  ;; float32 are not certain to be the host's within the relative `bound` go to $listed (u32
  ;; each); returns their number.
  (func (export "normals")
    (param $first i32) (param $count i32) (param $k0 i32) (param $k1 i32) (param $dst i32)
    (param $listed i32) (param $bound f64) (result i32)
    (local $i i32) (local $n i32) (local $w v128) (local $r v128) (local $c v128)
    (local $s v128) (local $zc v128) (local $zs v128) (local $down v128) (local $up v128)
    (local.set $down (f64x2.splat (f64.sub (f64.const 1) (local.get $bound))))
    (local.set $up (f64x2.splat (f64.add (f64.const 1) (local.get $bound))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $w (i32x4.shr_u
          (call $block (i32.add (local.get $first) (local.get $i)) (local.get $k0) (local.get $k1))
          (i32.const 8)))
        ;; lanes 0 and 2 (u_a) and 1 and 3 (u_b) of the block, as float64 pairs
        (local.set $r (call $radius (f64x2.mul (f64x2.add (f64x2.convert_low_i32x4_u
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $w) (local.get $w)))
          (v128.const f64x2 1 1)) (v128.const f64x2 0x1p-24 0x1p-24))))
        (call $sincos (f64x2.mul (v128.const f64x2 0x1.921fb54442d18p2 0x1.921fb54442d18p2)
          (f64x2.mul (f64x2.convert_low_i32x4_u
            (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $w) (local.get $w)))
            (v128.const f64x2 0x1p-24 0x1p-24))))
        (local.set $s)
        (local.set $c)
        (local.set $zc (f64x2.mul (local.get $r) (local.get $c)))
        (local.set $zs (f64x2.mul (local.get $r) (local.get $s)))
        (if (v128.any_true (v128.or
              (call $uncertain (local.get $zc) (local.get $down) (local.get $up))
              (call $uncertain (local.get $zs) (local.get $down) (local.get $up))))
          (then
            (i32.store (i32.add (local.get $listed) (i32.shl (local.get $n) (i32.const 2)))
              (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        ;; (z0, z1, z2, z3) = (r0 cos, r0 sin, r1 cos, r1 sin)
        (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $zc)) (f32x4.demote_f64x2_zero (local.get $zs))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $n)
  )

  ;; For the tests: the radius of u_a = (m + 1) 2^-24 for m = first .. first + count - 1
  ;; (count even), float64 at $dst + 8 (m - first).
  (func (export "radii") (param $first i32) (param $count i32) (param $dst i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (v128.store (local.get $dst) (call $radius (f64x2.mul (f64x2.add
          (f64x2.convert_low_i32x4_u (i32x4.add
            (i32x4.splat (i32.add (local.get $first) (local.get $i)))
            (v128.const i32x4 0 1 0 0)))
          (v128.const f64x2 1 1)) (v128.const f64x2 0x1p-24 0x1p-24))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
  )

  ;; For the tests: cos and sin of theta = (2 pi) (m 2^-24) for m = first .. first + count - 1
  ;; (count even), per pair of m: cos m, cos m + 1, sin m, sin m + 1 (float64) from $dst.
  (func (export "angles") (param $first i32) (param $count i32) (param $dst i32)
    (local $i i32) (local $c v128) (local $s v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $sincos (f64x2.mul (v128.const f64x2 0x1.921fb54442d18p2 0x1.921fb54442d18p2)
          (f64x2.mul (f64x2.convert_low_i32x4_u (i32x4.add
            (i32x4.splat (i32.add (local.get $first) (local.get $i)))
            (v128.const i32x4 0 1 0 0)))
            (v128.const f64x2 0x1p-24 0x1p-24))))
        (local.set $s)
        (local.set $c)
        (v128.store (local.get $dst) (local.get $c))
        (v128.store offset=16 (local.get $dst) (local.get $s))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
  )
)
