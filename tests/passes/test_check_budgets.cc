// check_budgets: a program whose buffers fit passes through unchanged; one that cannot fit stops
// here with the buffer named (the messages themselves are tested in tests/error).
#include <gtest/gtest.h>

#include "pass_test.h"
#include "tilescale/errors.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

T::PrimFunc with_fragment(std::int64_t rows) {
  return T::prim_func("budget", [rows] {
    auto A = T::Tensor("A", {rows, 256}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto acc = T::alloc_fragment({rows, 256}, T::float32, "acc");
      T::copy(A(0, 0), acc);
      T::copy(acc, A(0, 0));
    });
  });
}

TEST(CheckBudgets, ReturnsAProgramThatFitsUnchanged) {
  const AroundPass p = around_pass(with_fragment(64), "check_budgets");
  EXPECT_EQ(p.after, p.before);
}

TEST(CheckBudgets, StopsAFragmentBeyondTheRegisterBudgetBeforeAnyLaterPass) {
  try {
    around_pass(with_fragment(256), "check_budgets");
    FAIL() << "a 256x256 float32 fragment on 32 threads was accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate fragment acc [256, 256] float32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilescale::testing
