// Mistakes with scalar kernel parameters (T::ScalarParam), when building the program and when
// calling it: each error names the parameter.
#include "scalar_param_programs.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

// A kernel of one scalar parameter `x` of type t, stored into Out[0].
T::PrimFunc store_scalar(DataType t) {
  return T::prim_func("store_scalar", [&] {
    T::Expr x = T::ScalarParam("x", t);
    auto Out = T::Tensor("Out", {1}, t);
    T::Kernel(1, T::threads(32), [&](T::Expr) { Out(0) = x; });
  });
}

TEST(ScalarParamErrors, TypeOtherThanInt32Int64OrFloat32) {
  for (DataType t : {DataType::Float16, DataType::Float64, DataType::Int8, DataType::UInt32, DataType::Bool})
    EXPECT_COMPILE_ERROR(store_scalar(t), "cannot create T::ScalarParam x of type ", name(t),
                         " because scalar parameters are int32, int64 or float32");
}

TEST(ScalarParamErrors, DuplicateName) {
  auto build = [] {
    return T::prim_func("same_names", [&] {
      auto A = T::Tensor("A", {4}, T::float32);
      T::Expr a = T::ScalarParam("A", T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = T::cast(a, T::float32); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot create T::ScalarParam A (parameter 1) in same_names because parameter 0 is "
                                "already named A; give every parameter a distinct name");
}

TEST(ScalarParamErrors, UncappedParallelExtentSaysHowToCapIt) {
  auto build = [] {
    return T::prim_func("head", [&] {
      auto X = T::Tensor("X", {512}, T::float32);
      T::Expr n = T::ScalarParam("n", T::int32);
      T::Kernel(1, T::threads(128), [&](T::Expr) { T::Parallel(n, [&](T::Expr i) { X(i) = 0.0f; }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot partition T::Parallel loop i with extent n over threads because it is not a "
                                "constant; use a constant tile extent and guard the tail with T::If, or cap it by a "
                                "constant: T::Parallel(T::min(n, 512))");
}

TEST(ScalarParamErrors, OutsidePrimFunc) {
  EXPECT_COMPILE_ERROR(T::ScalarParam("n", T::int32), "cannot call T::ScalarParam outside T::prim_func");
}

TEST(ScalarParamErrors, InsideKernel) {
  auto build = [] {
    return T::prim_func("late", [&] {
      auto A = T::Tensor("A", {4}, T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = T::ScalarParam("n", T::int32); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot create T::ScalarParam n inside T::Kernel; create the kernel's parameters before it");
}

TEST(ScalarParamErrors, InATensorShape) {
  auto build = [] {
    return T::prim_func("shaped", [&] {
      T::Expr n = T::ScalarParam("n", T::int32);
      auto A = T::Tensor("A", {n}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = 1.0f; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot use scalar parameter n in the shape of T::Tensor A in shaped because a "
                                "tensor's shape comes from the tensor passed; declare the dimension with T::dynamic");
}

TEST(ScalarParamErrors, FloatInTheGrid) {
  auto build = [] {
    return T::prim_func("float_grid", [&] {
      T::Expr blocks = T::ScalarParam("blocks", T::float32);
      auto A = T::Tensor("A", {4}, T::float32);
      T::Kernel(T::cast(blocks, T::int32), T::threads(32), [&](T::Expr) { A(0) = blocks; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot launch the kernel of float_grid with grid extent", "in dim x because it uses the "
                                "float32 scalar parameter blocks and grids are computed from integers before the launch");
}

TEST(ScalarParamErrors, TensorWhereScalarExpected) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, A, A, 1.0f, 0.0f), "cannot call with argument 1 (valid_len) of kernel masked_scale because "
                       "it is a tensor (float32[64] on cpu) but the parameter is an int32 scalar; pass a number");
}

TEST(ScalarParamErrors, ScalarWhereTensorExpected) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, 10, 2.0f, 1.0f, 0.0f), "cannot call with argument 2 (B) of kernel masked_scale because it "
                       "is the float 2 but the parameter is a tensor (float32, rank 1); pass a Tensor");
}

TEST(ScalarParamErrors, FloatForAnIntegerParameter) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, 10.5, A, 1.0f, 0.0f), "cannot call with argument 1 (valid_len) of kernel masked_scale "
                       "because it is the float 10.5 but the parameter is an int32 scalar; pass an integer");
}

TEST(ScalarParamErrors, IntegerOutOfRange) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, std::int64_t{1} << 31, A, 1.0f, 0.0f), "cannot call with argument 1 (valid_len) of kernel "
                       "masked_scale because the integer 2147483648 is outside the range of int32; pass a value that "
                       "fits or declare the parameter T::int64");
  Kernel wide = cpu(store_scalar(DataType::Int64));
  const Tensor Out = Tensor::zeros({1}, DataType::Int64);
  EXPECT_RUNTIME_ERROR(wide(~std::uint64_t{0}, Out), "argument 0 (x) of kernel store_scalar because the integer "
                       "18446744073709551615 is outside the range of int64");
  wide(std::uint64_t{1} << 40, Out);  // an unsigned value that fits is fine
  EXPECT_EQ(Out.get_flat(0), double(std::int64_t{1} << 40));
}

TEST(ScalarParamErrors, ValueFloat32CannotHold) {
  Kernel k = cpu(store_scalar(DataType::Float32));
  const Tensor Out = Tensor::zeros({1}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k((1 << 24) + 1, Out), "argument 0 (x) of kernel store_scalar because the integer 16777217 is "
                       "not a float32 exactly; pass a value float32 holds");
  EXPECT_RUNTIME_ERROR(k(1e39, Out), "argument 0 (x) of kernel store_scalar because the float 1e+39 is not a float32 "
                       "(beyond its range)");
  k(1 << 24, Out);  // integers float32 holds, and doubles (rounded), are fine
  EXPECT_EQ(Out.get_flat(0), double(1 << 24));
  k(0.1, Out);
  EXPECT_EQ(Out.get_flat(0), double(0.1f));
}

TEST(ScalarParamErrors, WrongArgumentCountListsEveryParameter) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, 10, A), "cannot call kernel masked_scale with 3 arguments because it takes 5 (A, valid_len, "
                       "B, scale, bias); pass one argument per parameter, in order");
}

}  // namespace
}  // namespace tilescale::test
