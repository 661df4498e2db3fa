;; Fused decode-and-accumulate of int8 update payloads (core/codec/int8.ts) into a float32 sum.
;; Built into int8-sum-wasm.ts by scripts/build-wasm.mjs; a test checks the two agree.
;;
;; accumulateInt8(src, values, chunkSize, dst, weight): for `values` values starting at a chunk
;; boundary of an int8 payload at `src` (records of a float32 scale then `chunkSize` int8 codes,
;; the last one possibly short), for each chunk with scale s and factor f = fround(weight * s):
;;     dst[i] = fround(dst[i] + fround(f * code[i]))
;; Sixteen codes at a time with 128-bit SIMD; the rest of a chunk one by one, with the same
;; float32 operations, so the result does not depend on the chunk size's remainder mod 16.
(module
  (memory (export "memory") 1 65536)
  (func (export "accumulateInt8")
    (param $src i32) (param $values i32) (param $chunkSize i32) (param $dst i32) (param $weight f32)
    (local $n i32) (local $simdEnd i32) (local $end i32) (local $f f32) (local $vf v128)
    (local $codes v128) (local $half v128)
    (block $done
      (loop $chunk
        (br_if $done (i32.eqz (local.get $values)))
        (local.set $n (select (local.get $chunkSize) (local.get $values)
          (i32.lt_u (local.get $chunkSize) (local.get $values))))
        (local.set $f (f32.mul (local.get $weight) (f32.load (local.get $src))))
        (local.set $vf (f32x4.splat (local.get $f)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $end (i32.add (local.get $src) (local.get $n)))
        (local.set $simdEnd (i32.add (local.get $src) (i32.and (local.get $n) (i32.const -16))))
        (block $simdDone
          (loop $simd
            (br_if $simdDone (i32.ge_u (local.get $src) (local.get $simdEnd)))
            (local.set $codes (v128.load align=1 (local.get $src)))
            (local.set $half (i16x8.extend_low_i8x16_s (local.get $codes)))
            (v128.store align=4 (local.get $dst) (f32x4.add (v128.load align=4 (local.get $dst))
              (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))) (local.get $vf))))
            (v128.store offset=16 align=4 (local.get $dst) (f32x4.add (v128.load offset=16 align=4 (local.get $dst))
              (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))) (local.get $vf))))
            (local.set $half (i16x8.extend_high_i8x16_s (local.get $codes)))
            (v128.store offset=32 align=4 (local.get $dst) (f32x4.add (v128.load offset=32 align=4 (local.get $dst))
              (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $half))) (local.get $vf))))
            (v128.store offset=48 align=4 (local.get $dst) (f32x4.add (v128.load offset=48 align=4 (local.get $dst))
              (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $half))) (local.get $vf))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
            (br $simd)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $src) (local.get $end)))
            (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst))
              (f32.mul (f32.convert_i32_s (i32.load8_s (local.get $src))) (local.get $f))))
            (local.set $src (i32.add (local.get $src) (i32.const 1)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (br $tail)))
        (local.set $values (i32.sub (local.get $values) (local.get $n)))
        (br $chunk))))
)
