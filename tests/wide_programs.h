// Programs over tensors of more than 2^31 elements, shared by the compile-only tests
// (tests/codegen/test_index_width_codegen.cc) and the GPU tests (tests/gpu/test_wide_gpu.cc).
#pragma once

#include "tilescale/tilescale.h"

namespace tilescale::test::wide {

namespace T = tilescale::lang;

// B = A + 1 element-wise and C = A + 1 through tile copies, over a 1-D int8 tensor of n elements,
// with the program's indices in int32 arithmetic (bx * 1024 + i), as users write them: the index,
// the bound check and the vector addresses must be 64-bit.
inline T::PrimFunc add_one_1d(const T::Expr& n) {
  return T::prim_func("add_one_1d", [&] {
    auto A = T::Tensor("A", {n}, T::int8);
    auto B = T::Tensor("B", {n}, T::int8);
    auto C = T::Tensor("C", {n}, T::int8);
    T::Kernel(T::ceildiv(n, 1024), T::threads(128), [&](T::Expr bx) {
      T::Parallel(1024, [&](T::Expr i) { T::If(bx * 1024 + i < n, [&] { B(bx * 1024 + i) = A(bx * 1024 + i) + 1; }); });
      auto F = T::alloc_fragment({1024}, T::int8, "F");
      T::copy(A(bx * 1024), F);
      T::Parallel(1024, [&](T::Expr i) { F(i) = F(i) + 1; });
      T::copy(F, C(bx * 1024));
    });
  });
}

}  // namespace tilescale::test::wide
