// tilescale device headers — common.h
//
// What every other device header and all generated kernels rely on:
//   * the element types generated code spells by name, at global scope: half_t, bfloat16_t,
//     fp8_e4m3_t, fp8_e5m2_t (the CUDA types under shorter names; bool, the C integer types, float
//     and double are used as they are);
//   * the fixed-width unsigned integers uint16_t / uint32_t / uint64_t, which NVRTC does not provide
//     without a C library (NVRTC builds get them here, nvcc builds from <stdint.h>);
//   * TL_DEVICE / TL_HOST_DEVICE, the function decorations of these headers;
//   * tl::ceildiv;
//   * tl::cast<To>(from), the one conversion between element types that generated code uses;
//   * tl::fast_exp2(x), T::exp2 in float (hardware ex2: ~2^-22 relative, subnormal results -> 0);
//   * tl::globaltimer(), the GPU's nanosecond clock (%globaltimer), which timed-out waits measure.
//
// tl::cast semantics (From, To any of the types above):
//   * same type: the value itself;
//   * to bool: value != 0 (NaN is true, as in C++);
//   * integer -> integer: C++ conversion (two's complement wrap-around);
//   * integer or bool -> float / double: C++ conversion (round to nearest);
//   * float / double -> integer: round toward zero, saturate to the destination's range, NaN -> 0
//     (the semantics of PTX cvt.rzi.sat, for every destination width);
//   * half_t, bfloat16_t and the fp8 types convert through float: narrow -> float is exact, and
//     float -> narrow rounds to nearest even; float -> fp8 saturates to the largest finite value
//     (satfinite: +-448 for e4m3, +-57344 for e5m2; NaN stays NaN).
//   Sources wider than float (double, 32/64-bit integers) going to a narrow float are first rounded
//   to float, so a result can differ from a single correctly rounded conversion in the last bit.
#pragma once

#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#if !defined(__CUDACC_RTC__)
#include <stdint.h>
#else
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#endif

#define TL_DEVICE __device__ __forceinline__
#define TL_HOST_DEVICE __host__ __device__ __forceinline__

typedef __half half_t;
typedef __nv_bfloat16 bfloat16_t;
typedef __nv_fp8_e4m3 fp8_e4m3_t;
typedef __nv_fp8_e5m2 fp8_e5m2_t;

namespace tl {

template <class T>
TL_HOST_DEVICE constexpr T ceildiv(T a, T b) {
  return (a + b - 1) / b;
}

TL_DEVICE uint64_t globaltimer() {
  uint64_t ns;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(ns));
  return ns;
}

// Minimal type traits: NVRTC has no <type_traits>.
template <class A, class B> struct is_same { static constexpr bool value = false; };
template <class A> struct is_same<A, A> { static constexpr bool value = true; };
template <class A, class B> inline constexpr bool is_same_v = is_same<A, B>::value;

template <class T> inline constexpr bool is_fp8_v = is_same_v<T, fp8_e4m3_t> || is_same_v<T, fp8_e5m2_t>;
// Floating types narrower than float: they convert through float.
template <class T> inline constexpr bool is_narrow_float_v =
    is_same_v<T, half_t> || is_same_v<T, bfloat16_t> || is_fp8_v<T>;
template <class T> inline constexpr bool is_wide_float_v = is_same_v<T, float> || is_same_v<T, double>;

namespace detail {

template <class T> TL_DEVICE float narrow_to_float(T v);
template <> TL_DEVICE float narrow_to_float<half_t>(half_t v) { return __half2float(v); }
template <> TL_DEVICE float narrow_to_float<bfloat16_t>(bfloat16_t v) { return __bfloat162float(v); }
template <> TL_DEVICE float narrow_to_float<fp8_e4m3_t>(fp8_e4m3_t v) { return static_cast<float>(v); }
template <> TL_DEVICE float narrow_to_float<fp8_e5m2_t>(fp8_e5m2_t v) { return static_cast<float>(v); }

template <class T> TL_DEVICE T float_to_narrow(float v);
template <> TL_DEVICE half_t float_to_narrow<half_t>(float v) { return __float2half_rn(v); }
template <> TL_DEVICE bfloat16_t float_to_narrow<bfloat16_t>(float v) { return __float2bfloat16_rn(v); }
template <> TL_DEVICE fp8_e4m3_t float_to_narrow<fp8_e4m3_t>(float v) {
  fp8_e4m3_t r;
  r.__x = __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
  return r;
}
template <> TL_DEVICE fp8_e5m2_t float_to_narrow<fp8_e5m2_t>(float v) {
  fp8_e5m2_t r;
  r.__x = __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E5M2);
  return r;
}

// float/double -> integer, like cvt.rzi.sat: the 32- and 64-bit intrinsics already truncate,
// saturate and map NaN to 0; 8- and 16-bit results saturate the 32-bit one further.
template <class To, class F>
TL_DEVICE To float_to_int(F v) {
  constexpr bool dbl = is_same_v<F, double>;
  if constexpr (is_same_v<To, long long>) {
    if constexpr (dbl) return __double2ll_rz(v); else return __float2ll_rz(v);
  } else if constexpr (is_same_v<To, unsigned long long>) {
    if constexpr (dbl) return __double2ull_rz(v); else return __float2ull_rz(v);
  } else if constexpr (is_same_v<To, int>) {
    if constexpr (dbl) return __double2int_rz(v); else return __float2int_rz(v);
  } else if constexpr (is_same_v<To, unsigned int>) {
    if constexpr (dbl) return __double2uint_rz(v); else return __float2uint_rz(v);
  } else if constexpr (is_same_v<To, signed char> || is_same_v<To, short> || is_same_v<To, char>) {
    constexpr int lo = is_same_v<To, short> ? -32768 : -128;
    constexpr int hi = is_same_v<To, short> ? 32767 : 127;
    int i;
    if constexpr (dbl) i = __double2int_rz(v); else i = __float2int_rz(v);
    return static_cast<To>(i < lo ? lo : (i > hi ? hi : i));
  } else {
    static_assert(is_same_v<To, unsigned char> || is_same_v<To, unsigned short>,
                  "tl::cast: unsupported integer destination type");
    constexpr unsigned hi = is_same_v<To, unsigned short> ? 65535u : 255u;
    unsigned u;
    if constexpr (dbl) u = __double2uint_rz(v); else u = __float2uint_rz(v);
    return static_cast<To>(u > hi ? hi : u);
  }
}

}  // namespace detail

template <class To, class From>
TL_DEVICE To cast(From v) {
  if constexpr (is_same_v<To, From>) {
    return v;
  } else if constexpr (is_narrow_float_v<From>) {
    return cast<To>(detail::narrow_to_float(v));
  } else if constexpr (is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (is_narrow_float_v<To>) {
    return detail::float_to_narrow<To>(static_cast<float>(v));
  } else if constexpr (is_wide_float_v<From> && !is_wide_float_v<To>) {
    return detail::float_to_int<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// T::exp2 in float: one ex2.approx.ftz (MUFU.EX2), relative error about 2^-22, results below 2^-126
// flushed to zero. CUDA's exp2f keeps subnormal results at the cost of a few more instructions per
// call, which an online softmax pays on every score (FlashAttention: 8% of its time).
TL_DEVICE float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// T::atomic_add of one element: CUDA's atomicAdd for each type it has one for; a 64-bit signed
// integer through the unsigned one (two's complement: the same bits).
TL_DEVICE void atomic_add(float* address, float value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(double* address, double value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(half_t* address, half_t value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(bfloat16_t* address, bfloat16_t value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(int* address, int value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(unsigned int* address, unsigned int value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(unsigned long long* address, unsigned long long value) { atomicAdd(address, value); }
TL_DEVICE void atomic_add(long long* address, long long value) {
  atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));
}

}  // namespace tl
