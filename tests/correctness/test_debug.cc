// T::device_assert and T::print on the CPU backend.
#include "test_util.h"

namespace tilescale::test {
namespace {

T::PrimFunc assert_positive() {
  return T::prim_func("check_positive", [&] {
    auto X = T::Tensor("X", {8}, T::float32);
    auto Y = T::Tensor("Y", {8}, T::float32);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) {
      T::Parallel(4, [&](T::Expr i) {
        T::device_assert(X(bx * 4 + i) > 0, "inputs must be positive");
        Y(bx * 4 + i) = T::sqrt(X(bx * 4 + i));
      });
    });
  });
}

TEST(DeviceAssert, PassesWhenTrue) {
  Tensor X = random_tensor({8}, DataType::Float32, 91, 0.5, 2), Y = poisoned({8}, DataType::Float32);
  EXPECT_NO_THROW(cpu(assert_positive())(X, Y));
  EXPECT_TRUE(close(Y, tensor_from({8}, DataType::Float32, [&](const Shape& i) { return std::sqrt(X.get(i)); }), 1e-6));
}

TEST(DeviceAssert, RaisesRuntimeErrorNamingTheMessage) {
  Tensor X = random_tensor({8}, DataType::Float32, 92, 0.5, 2), Y = poisoned({8}, DataType::Float32);
  X.set({6}, -1.0);  // block 1
  Kernel k = cpu(assert_positive());
  EXPECT_RUNTIME_ERROR(k(X, Y), "inputs must be positive", "check_positive", "block (1, 0, 0)");
}

// Thread-level asserts report the thread.
TEST(DeviceAssert, ThreadLevelNamesTheThread) {
  auto f = T::prim_func("thread_assert", [&] {
    auto X = T::Tensor("X", {64}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      T::device_assert(X(tx) != 5, "no fives");
    });
  });
  Tensor X = tensor_from({64}, DataType::Int32, [](const Shape& i) { return i[0] == 40 ? 5.0 : 1.0; });
  EXPECT_RUNTIME_ERROR(cpu(f)(X), "no fives", "thread 40");
}

TEST(Print, PrintsValuesAndBuffers) {
  auto f = T::prim_func("printer", [&] {
    auto X = T::Tensor("X", {4}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({4}, T::float32, "frag_x");
      T::copy(X, F);
      T::print("first element", X(0));
      T::print("the tile", F);
    });
  });
  Tensor X = Tensor::empty({4}, DataType::Float32);
  X.set({0}, 1.5), X.set({1}, -2), X.set({2}, 3.25), X.set({3}, 4);
  Kernel k = cpu(f);
  ::testing::internal::CaptureStdout();
  k(X);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("first element"), std::string::npos) << out;
  EXPECT_NE(out.find("1.5"), std::string::npos) << out;
  EXPECT_NE(out.find("the tile"), std::string::npos) << out;
  EXPECT_NE(out.find("frag_x"), std::string::npos) << out;
  EXPECT_NE(out.find("1.5 -2 3.25 4"), std::string::npos) << out;
}

}  // namespace
}  // namespace tilescale::test
