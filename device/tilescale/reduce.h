// tilescale device headers — reduce.h
//
// Reductions across the lanes of a warp, the butterfly step of tile reductions (T.reduce_*): each
// thread first reduces its own registers, then lanes that hold parts of the same output combine
// values with shuffles, and (outside this header) warps combine through shared memory.
//
//   tl::lane_allreduce<LANE_BITS, Op>(v)
//     LANE_BITS is a 5-bit mask of lane-index bits. For every bit b set in it, in increasing order,
//     v = Op()(v, __shfl_xor_sync(0xffffffff, v, 1 << b)). Afterwards every lane holds the reduction
//     over the lanes that differ from it only in the masked bits. Example: an mma accumulator row is
//     spread over the 4 lanes with the same lane / 4, so a row sum is lane_allreduce<0b00011, SumOp>.
//     All 32 lanes must call it. T: int, unsigned, long long, unsigned long long, float, double,
//     half_t, bfloat16_t.
//   Ops: tl::SumOp, tl::MaxOp, tl::MinOp — binary functors. float uses fmaxf/fminf (a NaN operand
//   loses to a number); half_t and bfloat16_t compute in float and round back (a sum of two is
//   then correctly rounded); integers compute in their own type (sums wrap around, two's
//   complement, without C++'s undefined signed overflow).
//   Op::identity<T>() is the value that leaves any other unchanged: 0 for SumOp; for MaxOp -inf
//   (floats) or the lowest value (integers), for MinOp +inf or the largest value (T: int,
//   unsigned, long long, unsigned long long, float, double).
//
//   tl::absolute(v): |v| in v's own type, for the abs reductions: fabsf/fabs for floats; for signed
//   integers the two's-complement negation, so |INT_MIN| wraps to INT_MIN as it does in hardware
//   (no undefined behaviour); unsigned values are their own absolute value.
//
// Tile reductions accumulate in one type for the whole reduction (src/ops/reduce.cc says which):
// integers in int/long long (unsigned alike), floats in float or double, so a 64-bit reduction is
// exact and its shuffles move 64 bits.
#pragma once

#include "tilescale/common.h"

namespace tl {

namespace detail {
template <class T> inline constexpr bool via_float_v = is_same_v<T, half_t> || is_same_v<T, bfloat16_t>;

// The largest value of T (+inf for floats); the lowest is its negation, minus one for signed
// integers (two's complement).
template <class T> TL_DEVICE T largest();
template <> TL_DEVICE int largest<int>() { return 0x7fffffff; }
template <> TL_DEVICE unsigned largest<unsigned>() { return 0xffffffffu; }
template <> TL_DEVICE long long largest<long long>() { return 0x7fffffffffffffffLL; }
template <> TL_DEVICE unsigned long long largest<unsigned long long>() { return 0xffffffffffffffffULL; }
template <> TL_DEVICE float largest<float>() { return __int_as_float(0x7f800000); }
template <> TL_DEVICE double largest<double>() { return __longlong_as_double(0x7ff0000000000000LL); }

template <class T> TL_DEVICE T lowest() {
  if constexpr (is_same_v<T, float> || is_same_v<T, double>) return -largest<T>();
  else if constexpr (is_same_v<T, unsigned> || is_same_v<T, unsigned long long>) return T(0);
  else return -largest<T>() - T(1);
}
}  // namespace detail

template <class T>
TL_DEVICE T absolute(T v) {
  if constexpr (is_same_v<T, float>) return fabsf(v);
  else if constexpr (is_same_v<T, double>) return fabs(v);
  else if constexpr (is_same_v<T, int>) return v < 0 ? static_cast<int>(0u - static_cast<unsigned>(v)) : v;
  else if constexpr (is_same_v<T, long long>)
    return v < 0 ? static_cast<long long>(0ull - static_cast<unsigned long long>(v)) : v;
  else return v;  // unsigned
}

struct SumOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(cast<float>(a) + cast<float>(b));
    else if constexpr (is_same_v<T, int>) return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
    else if constexpr (is_same_v<T, long long>)
      return static_cast<long long>(static_cast<unsigned long long>(a) + static_cast<unsigned long long>(b));
    else return a + b;
  }
  template <class T> static TL_DEVICE T identity() { return T(0); }
};

struct MaxOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(fmaxf(cast<float>(a), cast<float>(b)));
    else if constexpr (is_same_v<T, float>) return fmaxf(a, b);
    else if constexpr (is_same_v<T, double>) return fmax(a, b);
    else return a > b ? a : b;
  }
  template <class T> static TL_DEVICE T identity() { return detail::lowest<T>(); }
};

struct MinOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(fminf(cast<float>(a), cast<float>(b)));
    else if constexpr (is_same_v<T, float>) return fminf(a, b);
    else if constexpr (is_same_v<T, double>) return fmin(a, b);
    else return a < b ? a : b;
  }
  template <class T> static TL_DEVICE T identity() { return detail::largest<T>(); }
};

template <int LANE_BITS, class Op, class T>
TL_DEVICE T lane_allreduce(T v) {
  static_assert(LANE_BITS >= 0 && LANE_BITS < 32, "tl::lane_allreduce: LANE_BITS is a 5-bit mask of lane-index bits");
#pragma unroll
  for (int b = 0; b < 5; ++b) {
    if (LANE_BITS & (1 << b)) v = Op()(v, __shfl_xor_sync(0xffffffffu, v, 1 << b));
  }
  return v;
}

// The reduction ops by number, as generated code names them: 0 sum, 1 max, 2 min.
template <int OP> struct ReduceOpOf;
template <> struct ReduceOpOf<0> { typedef SumOp type; };
template <> struct ReduceOpOf<1> { typedef MaxOp type; };
template <> struct ReduceOpOf<2> { typedef MinOp type; };

// a and b combined by reduction op OP, in T.
template <int OP, class T>
TL_DEVICE T reduce_combine(T a, T b) {
  return typename ReduceOpOf<OP>::type()(a, b);
}
// OP's identity in T (sum: 0, max: the lowest value, min: the largest).
template <int OP, class T>
TL_DEVICE T reduce_identity() {
  return ReduceOpOf<OP>::type::template identity<T>();
}
// lane_allreduce by op number.
template <int LANE_BITS, int OP, class T>
TL_DEVICE T lane_reduce(T v) {
  return lane_allreduce<LANE_BITS, typename ReduceOpOf<OP>::type>(v);
}

}  // namespace tl
