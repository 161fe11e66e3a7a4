// A user's own kernel, built against the installed tilescale: C = A + 2 B over a 1-D tensor, run
// on the CPU backend and checked against a plain loop. Prints "scaled_add: ok" and exits 0.
#include <cmath>
#include <cstdio>

#include "tilescale/tilescale.h"

namespace T = tilescale::lang;

int main() {
  constexpr int N = 1024, kBlock = 128;
  const T::PrimFunc scaled_add = T::prim_func("scaled_add", [] {
    auto A = T::Tensor("A", {N}, T::float32);
    auto B = T::Tensor("B", {N}, T::float32);
    auto C = T::Tensor("C", {N}, T::float32);
    T::Kernel(N / kBlock, T::threads(kBlock), [&](T::Expr bx) {
      T::Parallel(kBlock, [&](T::Expr i) { C(bx * kBlock + i) = A(bx * kBlock + i) + B(bx * kBlock + i) * 2.0f; });
    });
  });
  const tilescale::Kernel k = tilescale::compile(scaled_add, tilescale::Target::CPU);
  tilescale::Tensor a = tilescale::Tensor::empty({N}, tilescale::DataType::Float32);
  tilescale::Tensor b = tilescale::Tensor::empty({N}, tilescale::DataType::Float32);
  tilescale::Tensor c = tilescale::Tensor::zeros({N}, tilescale::DataType::Float32);
  a.fill_random(1);
  b.fill_random(2);
  k(a, b, c);
  const float* pa = static_cast<const float*>(a.data());
  const float* pb = static_cast<const float*>(b.data());
  const float* pc = static_cast<const float*>(c.data());
  for (int i = 0; i < N; ++i)
    if (std::fabs(pc[i] - (pa[i] + 2.0f * pb[i])) > 1e-6f) {
      std::printf("scaled_add: element %d is %g, expected %g\n", i, pc[i], pa[i] + 2.0f * pb[i]);
      return 1;
    }
  std::printf("scaled_add: ok\n");
  return 0;
}
