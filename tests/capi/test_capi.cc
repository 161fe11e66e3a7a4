// The C ABI of libtilescale_capi (include/tilescale/capi.h), called as Python's ctypes calls it:
// mistakes come back as null or non-zero with ts_last_error naming the problem, and a kernel called
// on bare pointers (CPU backend here) computes what the same program compiled directly computes.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "example.h"
#include "tilescale/capi.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

::testing::AssertionResult error_mentions(std::initializer_list<std::string> parts) {
  const std::string msg = ts_last_error();
  for (const auto& p : parts)
    if (msg.find(p) == std::string::npos) return ::testing::AssertionFailure() << "ts_last_error lacks \"" << p << "\": " << msg;
  return ::testing::AssertionSuccess();
}

TEST(CApi, UnknownExampleIsNullAndNamed) {
  EXPECT_EQ(ts_example_create("flash_atention", "", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"flash_atention", "no such example", "flash_attention", "gemm"}));
  EXPECT_EQ(ts_example_create(nullptr, nullptr, nullptr), nullptr);
  EXPECT_TRUE(error_mentions({"no such example"}));
}

TEST(CApi, DistributedExampleIsRefused) {
  EXPECT_EQ(ts_example_create("allgather_push", "", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"allgather_push", "distributed"}));
}

TEST(CApi, BadSizesAreNullAndNamed) {
  EXPECT_EQ(ts_example_create("flash_attention", "Q=3", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"size Q", "no such size", "BM"}));
  EXPECT_EQ(ts_example_create("flash_attention", "S=abc", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of S", "not a non-negative integer"}));
  EXPECT_EQ(ts_example_create("flash_attention", "BM=96,threads=128", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"flash_attention", "BM=96", "multiple of 64"}));
}

// Sizes are parsed exactly: no exponent notation, nothing past 64 bits, each name once, and a size
// whose tensors' bytes overflow int64 is an error (issue 12, item 5).
TEST(CApi, SizesThatDoNotFitAreNullAndNamed) {
  EXPECT_EQ(ts_example_create("elementwise_add", "M=1e20", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of M", "\"1e20\"", "not a non-negative integer"}));
  EXPECT_EQ(ts_example_create("elementwise_add", "M=100000000000000000000", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of M", "does not fit in 64 bits"}));
  EXPECT_EQ(ts_example_create("elementwise_add", "M=8,M=16", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"sets M more than once"}));
  EXPECT_EQ(ts_example_create("elementwise_add", "M=9223372036854775807", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"T::Tensor", "9223372036854775807", "exceeds 2^63-1"}));
}

TEST(CApi, BadTargetIsNullAndNamed) {
  EXPECT_EQ(ts_example_create("elementwise_add", "M=8,N=8", "tpu"), nullptr);
  EXPECT_TRUE(error_mentions({"tpu"}));
}

TEST(CApi, ErrorIsClearedBySuccess) {
  EXPECT_EQ(ts_example_create("nope", "", "cpu"), nullptr);
  EXPECT_STRNE(ts_last_error(), "");
  ts_kernel* k = ts_example_create("elementwise_add", "M=8,N=8", "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  EXPECT_STREQ(ts_last_error(), "");
  ts_kernel_destroy(k);
  ts_kernel_destroy(nullptr);
}

TEST(CApi, NullHandleIsAnErrorNotACrash) {
  EXPECT_EQ(ts_kernel_num_params(nullptr), -1);
  EXPECT_EQ(ts_kernel_param_name(nullptr, 0), nullptr);
  EXPECT_EQ(ts_kernel_describe(nullptr), nullptr);
  EXPECT_NE(ts_kernel_call(nullptr, nullptr, 0, nullptr), 0);
  EXPECT_TRUE(error_mentions({"null"}));
}

// A null argument array with the right count is named as such, not as a count mismatch ("cannot
// call with 3 pointers because it takes 3").
TEST(CApi, NullArgumentArrayIsNamed) {
  ts_kernel* k = ts_example_create("elementwise_add", "M=8,N=8", "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  EXPECT_NE(ts_kernel_call(k, nullptr, 3, nullptr), 0);
  EXPECT_TRUE(error_mentions({"cannot call elementwise_add because args is null", "array of 3 pointers", "(A, B, C)"}));
  EXPECT_EQ(std::string(ts_last_error()).find("takes 3"), std::string::npos) << ts_last_error();
  EXPECT_NE(ts_kernel_call(k, nullptr, 2, nullptr), 0);
  EXPECT_TRUE(error_mentions({"with 2 pointers because it takes 3"}));
  ts_kernel_destroy(k);
}

// flash_attention in bfloat16 on the CPU backend, through bare pointers: the parameters are
// described, argument mistakes are reported, and the output is bit for bit that of the same program
// compiled directly.
TEST(CApi, FlashAttentionOnCpuThroughPointers) {
  const char* spec = "B=1,H=2,S=100,D=64,causal=1,bf16=1";
  ts_kernel* k = ts_example_create("flash_attention", spec, "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  EXPECT_NE(std::string(ts_kernel_describe(k)).find("flash_attention [B=1"), std::string::npos) << ts_kernel_describe(k);
  EXPECT_NE(std::string(ts_kernel_describe(k)).find("on cpu"), std::string::npos) << ts_kernel_describe(k);

  const std::vector<std::int64_t> shape = {1, 2, 100, 64};
  ASSERT_EQ(ts_kernel_num_params(k), 4);
  const char* names[] = {"Q", "K", "V", "O"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_STREQ(ts_kernel_param_name(k, i), names[i]);
    EXPECT_STREQ(ts_kernel_param_dtype(k, i), "bfloat16");
    ASSERT_EQ(ts_kernel_param_rank(k, i), 4);
    for (int d = 0; d < 4; ++d) EXPECT_EQ(ts_kernel_param_dim(k, i, d), shape[d]);
    EXPECT_EQ(ts_kernel_param_dim(k, i, 4), -1);
  }
  EXPECT_EQ(ts_kernel_param_name(k, 4), nullptr);
  EXPECT_EQ(ts_kernel_param_rank(k, -1), -1);

  std::vector<Tensor> args;
  for (int i = 0; i < 4; ++i) {
    args.push_back(Tensor::empty(shape, DataType::BFloat16));
    args.back().fill_random(100 + i, i == 2 ? 0.0 : -2.0, 2.0);
  }
  args[3].fill(std::nan(""));
  void* ptrs[4] = {args[0].data(), args[1].data(), args[2].data(), args[3].data()};

  EXPECT_NE(ts_kernel_call(k, ptrs, 3, nullptr), 0);
  EXPECT_TRUE(error_mentions({"3 pointers", "takes 4", "Q, K, V, O"}));
  void* with_null[4] = {ptrs[0], nullptr, ptrs[2], ptrs[3]};
  EXPECT_NE(ts_kernel_call(k, with_null, 4, nullptr), 0);
  EXPECT_TRUE(error_mentions({"parameter K", "null"}));

  ASSERT_EQ(ts_kernel_call(k, ptrs, 4, nullptr), 0) << ts_last_error();
  ts_kernel_destroy(k);

  // The same program through the C++ API, on copies of the same inputs.
  const auto* fa = examples::find_example("flash_attention");
  ASSERT_NE(fa, nullptr);
  Kernel direct = compile(fa->build(examples::parse_sizes(spec, fa->default_sizes)), Target::CPU);
  std::vector<Tensor> copies;
  for (const Tensor& t : args) copies.push_back(t.to(Device::cpu()));
  copies[3].fill(std::nan(""));
  direct.call(copies);
  int differ = 0, nan = 0;
  for (std::int64_t i = 0; i < args[3].numel(); ++i) {
    nan += std::isnan(args[3].get_flat(i));
    differ += args[3].get_flat(i) != copies[3].get_flat(i);
  }
  EXPECT_EQ(nan, 0);
  EXPECT_EQ(differ, 0);
}

// masked_scale takes two scalars after its tensors: they are described as scalars with their
// dtype, and passed as pointers to their values.
TEST(CApi, ScalarParametersArePointersToTheirValues) {
  ts_kernel* k = ts_example_create("masked_scale", "M=3,N=10", "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  ASSERT_EQ(ts_kernel_num_params(k), 4);
  const char* names[] = {"A", "B", "valid_len", "scale"};
  const char* dtypes[] = {"float32", "float32", "int32", "float32"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_STREQ(ts_kernel_param_name(k, i), names[i]);
    EXPECT_STREQ(ts_kernel_param_dtype(k, i), dtypes[i]);
    EXPECT_EQ(ts_kernel_param_is_scalar(k, i), i >= 2 ? 1 : 0) << i;
    EXPECT_EQ(ts_kernel_param_rank(k, i), i >= 2 ? 0 : 2) << i;
  }
  EXPECT_EQ(ts_kernel_param_is_scalar(k, 4), -1);

  Tensor A = Tensor::empty({3, 10}, DataType::Float32), B = Tensor::zeros({3, 10}, DataType::Float32);
  A.fill_random(5);
  std::int32_t valid_len = 4;
  float scale = -2.0f;
  void* ptrs[4] = {A.data(), B.data(), &valid_len, &scale};
  void* with_null[4] = {A.data(), B.data(), nullptr, &scale};
  EXPECT_NE(ts_kernel_call(k, with_null, 4, nullptr), 0);
  EXPECT_TRUE(error_mentions({"parameter valid_len (argument 2) is null; pass a pointer to its value"}));

  ASSERT_EQ(ts_kernel_call(k, ptrs, 4, nullptr), 0) << ts_last_error();
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 10; ++j)
      EXPECT_EQ(B.get({i, j}), j < 4 ? double(float(A.get({i, j})) * -2.0f) : 0.0) << i << ", " << j;
  ts_kernel_destroy(k);
}

}  // namespace
}  // namespace tilescale
