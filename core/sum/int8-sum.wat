;; Fused decode-and-accumulate of int8 update payloads (core/codec/int8.ts) into a float32 sum.
;; Built into int8-sum-wasm.ts by scripts/build-wasm.mjs; a test checks the two agree.
;;
;; accumulateInt8(slots, stride, sites, weights, factors, from, values, chunkSize, dst):
;; `sites` int8 payloads lie `stride` bytes apart from address `slots`; each holds, from byte
;; `from` on, `values` values starting at a chunk boundary (records of a float32 scale then
;; `chunkSize` int8 codes, the last possibly short). `weights` holds one float32 weight per site,
;; `factors` is room for as many float32s. For each chunk, with f[s] = fround(weight[s] * scale[s]),
;; each value i of the chunk becomes, sites in order,
;;     dst[i] = fround(dst[i] + fround(f[s] * code[s][i]))
;; Sixteen values at a time with 128-bit SIMD, kept in registers across the sites (one load and
;; one store of the sum per sixteen values per call; the caller passes eight sites a call, see
;; sum-arena.ts); the rest of a chunk
;; one value at a time with the same float32 operations, so the bytes of the result depend on
;; neither the chunk size nor how the values are split into calls.
(module
  (memory (export "memory") 1 65536)
  (func (export "accumulateInt8")
    (param $slots i32) (param $stride i32) (param $sites i32) (param $weights i32) (param $factors i32)
    (param $from i32) (param $values i32) (param $chunkSize i32) (param $dst i32)
    (local $n i32) (local $s i32) (local $q i32) (local $j i32) (local $n16 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $codes v128) (local $half v128) (local $vf v128) (local $a f32)
    (block $done
      (loop $chunk
        (br_if $done (i32.eqz (local.get $values)))
        (local.set $n (select (local.get $chunkSize) (local.get $values)
          (i32.lt_u (local.get $chunkSize) (local.get $values))))
        ;; f[s] = weight[s] * scale[s]
        (local.set $s (i32.const 0))
        (local.set $q (i32.add (local.get $slots) (local.get $from)))
        (block $fDone
          (loop $f
            (br_if $fDone (i32.ge_u (local.get $s) (local.get $sites)))
            (f32.store (i32.add (local.get $factors) (i32.shl (local.get $s) (i32.const 2)))
              (f32.mul (f32.load (i32.add (local.get $weights) (i32.shl (local.get $s) (i32.const 2))))
                       (f32.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (local.get $stride)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $f)))
        (local.set $from (i32.add (local.get $from) (i32.const 4)))
        (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
        (local.set $j (i32.const 0))
        (block $simdDone
          (loop $simd
            (br_if $simdDone (i32.ge_u (local.get $j) (local.get $n16)))
            (local.set $a0 (v128.load align=4 (local.get $dst)))
            (local.set $a1 (v128.load offset=16 align=4 (local.get $dst)))
            (local.set $a2 (v128.load offset=32 align=4 (local.get $dst)))
            (local.set $a3 (v128.load offset=48 align=4 (local.get $dst)))
            (local.set $s (i32.const 0))
            (local.set $q (i32.add (i32.add (local.get $slots) (local.get $from)) (local.get $j)))
            (block $sitesDone
              (loop $site
                (br_if $sitesDone (i32.ge_u (local.get $s) (local.get $sites)))
                (local.set $codes (v128.load align=1 (local.get $q)))
                (local.set $vf (v128.load32_splat align=4 (i32.add (local.get $factors) (i32.shl (local.get $s) (i32.const 2)))))
                (local.set $half (i16x8.extend_low_i8x16_s (local.get $codes)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))) (local.get $vf))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))) (local.get $vf))))
                (local.set $half (i16x8.extend_high_i8x16_s (local.get $codes)))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))) (local.get $vf))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))) (local.get $vf))))
                (local.set $q (i32.add (local.get $q) (local.get $stride)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $site)))
            (v128.store align=4 (local.get $dst) (local.get $a0))
            (v128.store offset=16 align=4 (local.get $dst) (local.get $a1))
            (v128.store offset=32 align=4 (local.get $dst) (local.get $a2))
            (v128.store offset=48 align=4 (local.get $dst) (local.get $a3))
            (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $simd)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $a (f32.load (local.get $dst)))
            (local.set $s (i32.const 0))
            (local.set $q (i32.add (i32.add (local.get $slots) (local.get $from)) (local.get $j)))
            (block $tailSitesDone
              (loop $tailSite
                (br_if $tailSitesDone (i32.ge_u (local.get $s) (local.get $sites)))
                (local.set $a (f32.add (local.get $a)
                  (f32.mul (f32.convert_i32_s (i32.load8_s (local.get $q)))
                           (f32.load (i32.add (local.get $factors) (i32.shl (local.get $s) (i32.const 2)))))))
                (local.set $q (i32.add (local.get $q) (local.get $stride)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $tailSite)))
            (f32.store (local.get $dst) (local.get $a))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $from (i32.add (local.get $from) (local.get $n)))
        (local.set $values (i32.sub (local.get $values) (local.get $n)))
        (br $chunk))))
)
