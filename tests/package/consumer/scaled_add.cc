// A user's own kernel, built against the installed tilescale: C = A + 2 B over a 1-D tensor, run
// on the CPU backend and checked against a plain loop; then registered as a program and called
// from C (call_from_c.c) through the C ABI. Prints "scaled_add: ok" and exits 0.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "tilescale/tilescale.h"

namespace T = tilescale::lang;

extern "C" int c_sees_no_program(void);   // call_from_c.c
extern "C" int c_calls_scaled_add(void);  // call_from_c.c

namespace {

constexpr int kBlock = 128;

// C[N] = A[N] + 2 B[N]; N need not be a multiple of the block.
T::PrimFunc scaled_add(std::int64_t n) {
  return T::prim_func("scaled_add", [&] {
    auto A = T::Tensor("A", {n}, T::float32);
    auto B = T::Tensor("B", {n}, T::float32);
    auto C = T::Tensor("C", {n}, T::float32);
    T::Kernel(T::ceildiv(n, kBlock), T::threads(kBlock), [&](T::Expr bx) {
      T::Parallel(kBlock, [&](T::Expr i) {
        T::Expr at = bx * kBlock + i;
        T::If(at < n, [&] { C(at) = A(at) + B(at) * 2.0f; });
      });
    });
  });
}

}  // namespace

int main() {
  constexpr int N = 1024;
  const tilescale::Kernel k = tilescale::compile(scaled_add(N), tilescale::Target::CPU);
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

  if (c_sees_no_program() != 0) return 1;
  tilescale::register_program("scaled_add", {{"N", N}},
                              [](const tilescale::ProgramSizes& sizes) { return scaled_add(sizes.at("N")); });
  if (c_calls_scaled_add() != 0) return 1;
  std::printf("scaled_add: ok\n");
  return 0;
}
