// Helpers shared by the examples' checks: reading sizes, making random inputs and poisoned outputs,
// reading tensors back as doubles, and comparing against a reference computed in double.
//
// A check follows one recipe:
//   Tensor A = random_input({M, K}, DataType::Float16, seed, 0);  // stream 0, 1...: one per input
//   Tensor C = poisoned_output({M, N}, DataType::Float16);        // NaN until the kernel writes it
//   run_kernel(kernel, {A, B, C});                                 // on the kernel's device (scalars too)
//   std::vector<double> a = values(A), ...;  // inputs as stored (already rounded to float16)
//   ... plain loops over doubles ...
//   return compare(C, expected, tolerance);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "example.h"

namespace tilescale::examples {

// The size called `name`; CompileError naming the missing size when `sizes` lacks it.
std::int64_t size_of(const Sizes& sizes, const std::string& name);
// A 0/1 switch carried in the sizes; CompileError naming the switch for any other value.
bool flag_of(const Sizes& sizes, const std::string& name);

// A seed for the `stream`-th input of a check, so that inputs of one check differ from each other
// and from those of another seed.
std::uint64_t derive_seed(std::uint64_t seed, int stream);

// A CPU tensor of uniform random values in [lo, hi), rounded to `dtype` as it is stored.
Tensor random_input(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed, int stream,
                    double lo = -1.0, double hi = 1.0);
// A CPU tensor every element of which is NaN (floats), true (bool) or 2^(bits-1) - 1 (integers), so
// that an element the kernel forgets to write fails the comparison.
Tensor poisoned_output(const std::vector<std::int64_t>& shape, DataType dtype);

// Calls `kernel` on host tensors (and scalars): on the CPU backend directly; for a CUDA kernel the
// tensors go to the device and back around the call.
void run_kernel(const Kernel& kernel, const std::vector<Arg>& host_args);

// The elements of `t` in row-major order of its logical shape.
std::vector<double> values(const Tensor& t);
// Row-major C[M, N] = A[M, K] · B[K, N] in double.
std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, std::int64_t M, std::int64_t N,
                           std::int64_t K);

// max_relative_error of `got` against `expected` (row-major, got's shape) and the tolerance.
CheckResult compare(const Tensor& got, const std::vector<double>& expected, double tolerance);

// Tolerances, shared so that every example states the same reasoning once.
//
// The metric is |g - e| / max(|e|, 1e-3 · max|e|) (tilescale::max_relative_error).
//  * float16 output of float32 math: rounding the result to float16 costs at most half an ulp,
//    2^-11 ≈ 4.9e-4 relative. The float32 math before it (accumulation order, the GPU's exp2,
//    rsqrt and division approximations) adds ~1e-6 relative, and ~1e-4 at most against the floor
//    for results that cancel to near zero. 2e-3 is 4x the rounding bound (the CPU backend
//    measures 4.8e-4 to 7e-4 at the test sizes), tight enough that a single extra key in an
//    attention row or a 1% error in a normalisation fails. Outputs below 2^-14 ≈ 6.1e-5 are float16
//    subnormals with a coarser relative step; softmax, whose outputs shrink as 1/N, widens its
//    tolerance for them (softmax.cc).
//  * exact operations (moves, one correctly rounded operation, whose reference applies the same
//    rounding): 0 differences are expected; 1e-3 allows only for subnormal flushing.
inline constexpr double kFloat16OutputTolerance = 2e-3;
inline constexpr double kExactTolerance = 1e-3;

}  // namespace tilescale::examples
