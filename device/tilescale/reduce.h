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
//   then correctly rounded).
#pragma once

#include "tilescale/common.h"

namespace tl {

namespace detail {
template <class T> inline constexpr bool via_float_v = is_same_v<T, half_t> || is_same_v<T, bfloat16_t>;
}  // namespace detail

struct SumOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(cast<float>(a) + cast<float>(b));
    else return a + b;
  }
};

struct MaxOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(fmaxf(cast<float>(a), cast<float>(b)));
    else if constexpr (is_same_v<T, float>) return fmaxf(a, b);
    else if constexpr (is_same_v<T, double>) return fmax(a, b);
    else return a > b ? a : b;
  }
};

struct MinOp {
  template <class T>
  TL_DEVICE T operator()(T a, T b) const {
    if constexpr (detail::via_float_v<T>) return cast<T>(fminf(cast<float>(a), cast<float>(b)));
    else if constexpr (is_same_v<T, float>) return fminf(a, b);
    else if constexpr (is_same_v<T, double>) return fmin(a, b);
    else return a < b ? a : b;
  }
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

}  // namespace tl
