// plan_copies: each T::copy records which instructions move it on CUDA.
#include <gtest/gtest.h>

#include <sstream>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// The README GEMM with C staged through shared memory in float16 after the loop.
T::PrimFunc staged_gemm() {
  return readme_gemm({.c_dtype = DataType::Float16, .epilogue = [](T::Buffer C, T::Buffer C_local, T::Expr bx, T::Expr by) {
                        auto C_shared = T::alloc_shared({128, 128}, T::float16, "C_shared");
                        T::copy(C_local, C_shared);
                        T::copy(C_shared, C(by * 128, bx * 128));
                      }});
}

std::vector<std::string> copies(const std::string& printed) {
  std::vector<std::string> out;
  std::istringstream in(printed);
  std::string line;
  while (std::getline(in, line))
    if (line.find("T.copy(") != std::string::npos) out.push_back(line.substr(line.find("T.copy(")));
  return out;
}

TEST(PlanCopies, Sm80CpAsyncStagesRegisterVectorsAndVectorStores) {
  const AroundPass p = around_pass(staged_gemm(), "plan_copies", Target::CUDA, 80);
  EXPECT_EQ(p.before.find("path="), std::string::npos);
  const auto c = copies(p.after);
  ASSERT_EQ(c.size(), 6u);  // the pipeline's prologue and loop copies, then the epilogue's two
  EXPECT_EQ(c[0], "T.copy(A[by * 128 : +128, k * 32 : +32], A_shared, path=\"cp_async\", vector=8)");
  EXPECT_EQ(c[4], "T.copy(C_local, C_shared, path=\"register_vector\", vector=2)");
  EXPECT_EQ(c[5], "T.copy(C_shared, C[by * 128 : +128, bx * 128 : +128], path=\"vector\", vector=8)");
}

// On Hopper the accumulator's registers form stmatrix's 8x8 matrices (the store of C_shared is a
// TMA store by then, no longer a copy; the loads are the producer's TMA loads).
TEST(PlanCopies, Sm90StmatrixForTheAccumulator) {
  const auto c = copies(around_pass(staged_gemm(), "plan_copies").after);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], "T.copy(C_local, C_shared, path=\"stmatrix\")");
}

// A copy whose tile's last dimension does not fill the vector moves element by element.
TEST(PlanCopies, ScalarWhenNoVectorFits) {
  const auto c = copies(around_pass(T::prim_func("odd", [] {
                                      auto A = T::Tensor("A", {64, 63}, T::float32);
                                      auto B = T::Tensor("B", {64, 63}, T::float32);
                                      T::Kernel(1, T::threads(128), [&](T::Expr) {
                                        auto S = T::alloc_shared({64, 63}, T::float32, "S");
                                        T::copy(A(0, 0), S);
                                        T::copy(S, B(0, 0));
                                      });
                                    }),
                                    "plan_copies", Target::CUDA, 80)
                            .after);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "T.copy(A, S, path=\"scalar\")");
}

}  // namespace
}  // namespace tilescale::testing
