// Scalar kernel parameters (T::ScalarParam) on the CPU backend against plain loops: in a T::Parallel
// extent capped by the tile, in conditions, in float arithmetic, in the grid; int32, int64 and
// float32, interleaved with tensors in declaration order.
#include "scalar_param_programs.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

TEST(ScalarParams, MaskedScaleMatchesPlainLoops) {
  constexpr std::int64_t N = 1300;  // three tiles, the last one partial
  Kernel k = cpu(scalar_params::masked_scale(N));
  const Tensor A = random_tensor({N}, DataType::Float32, 7);
  const float scale = 0.75f, bias = -2.5f;
  for (std::int64_t valid_len : {-3, 0, 1, 511, 512, 700, 1300, 5000}) {
    Tensor B = Tensor::empty({N}, DataType::Float32);
    B.fill(-100.0);  // what the kernel must leave alone
    k(A, static_cast<std::int32_t>(valid_len), B, scale, bias);
    Tensor want = Tensor::empty({N}, DataType::Float32);
    for (std::int64_t i = 0; i < N; ++i) {
      const float x = static_cast<float>(A.get_flat(i));
      want.set_flat(i, i < valid_len ? (x > 0 ? x * scale : x + bias) : -100.0f);
    }
    EXPECT_TRUE(close(B, want, 0)) << "valid_len " << valid_len;
  }
}

TEST(ScalarParams, Int64CountSetsTheGrid) {
  constexpr std::int64_t N = 700;
  Kernel k = cpu(scalar_params::iota(N));
  for (std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{129}, N}) {
    Tensor Out = Tensor::empty({N}, DataType::Int64);
    Out.fill(-1);
    k(n, 5, -3, Out);
    for (std::int64_t i = 0; i < N; ++i) ASSERT_EQ(Out.get_flat(i), i < n ? 5 - 3 * i : -1) << "n " << n << ", i " << i;
  }
}

// A scalar in a serial loop's extent, T::max and a float store, through Kernel::call's Arg list.
TEST(ScalarParams, SerialLoopAndStoreThroughCall) {
  T::PrimFunc f = T::prim_func("sum_first", [&] {
    auto X = T::Tensor("X", {64}, T::float32);
    T::Expr count = T::ScalarParam("count", T::int32);
    T::Expr init = T::ScalarParam("init", T::float32);
    auto Y = T::Tensor("Y", {2}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto acc = T::alloc_var(T::float32, init, "acc");
      T::serial(T::max(T::min(count, 64), 0), [&](T::Expr i) { acc += X(i); });
      T::If(T::get_thread_binding() == 0, [&] {
        Y(0) = acc;
        Y(1) = init;
      });
    });
  });
  Kernel k = cpu(f);
  const Tensor X = random_tensor({64}, DataType::Float32, 3);
  for (int count : {-1, 0, 10, 64, 100}) {
    Tensor Y = Tensor::zeros({2}, DataType::Float32);
    k.call({X, count, 1.5, Y});  // a double rounds to float32
    float want = 1.5f;
    for (int i = 0; i < std::min(std::max(count, 0), 64); ++i) want += static_cast<float>(X.get_flat(i));
    EXPECT_EQ(Y.get_flat(0), want) << "count " << count;
    EXPECT_EQ(Y.get_flat(1), 1.5);
  }
}

TEST(ScalarParams, AreDescribedByParams) {
  Kernel k = cpu(scalar_params::masked_scale(64));
  const std::vector<ParamInfo> params = k.params();
  ASSERT_EQ(params.size(), 5u);
  const char* names[] = {"A", "valid_len", "B", "scale", "bias"};
  const DataType types[] = {DataType::Float32, DataType::Int32, DataType::Float32, DataType::Float32, DataType::Float32};
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].name, names[i]);
    EXPECT_EQ(params[i].dtype, types[i]);
    EXPECT_EQ(params[i].scalar, i % 2 == 1 || i == 4) << i;
    EXPECT_EQ(params[i].shape, params[i].scalar ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{64}) << i;
  }
}

TEST(ScalarParams, ArePrintedInTheSignature) {
  const std::string ir = scalar_params::masked_scale(64).to_string();
  EXPECT_NE(ir.find("def masked_scale(A: T.Tensor((64,), \"float32\"), valid_len: T.int32, B: T.Tensor((64,), "
                    "\"float32\"), scale: T.float32, bias: T.float32):"),
            std::string::npos)
      << ir;
  // The capped T::Parallel loops over the tile, its body guarded.
  EXPECT_NE(ir.find("T.Parallel(512)"), std::string::npos) << ir;
  // Every pass keeps the parameters.
  const std::string lowered = cpu(scalar_params::masked_scale(64)).lowered_ir();
  EXPECT_NE(lowered.find("valid_len: T.int32, B: T.Tensor((64,), \"float32\"), scale: T.float32, bias: T.float32):"),
            std::string::npos)
      << lowered;
}

}  // namespace
}  // namespace tilescale::test
