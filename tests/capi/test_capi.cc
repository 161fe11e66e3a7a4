// The C ABI (include/tilescale/capi.h) as a C++ engine that links libtilescale uses it: the engine
// registers its own programs (tilescale/programs.h) and the built-in examples, and calls them as C
// (or Python's ctypes) calls them: mistakes come back as null or non-zero with ts_last_error naming
// the problem, and a kernel called on bare pointers (CPU backend here) computes what the same
// program compiled directly computes. capi_shared_library.c checks libtilescale_capi.so itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "example.h"
#include "tilescale/capi.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

namespace T = lang;

// This file's own program, not an example: Z = X * alpha + Y over N float32 elements, in blocks of
// `block` (N need not be a multiple of it).
lang::PrimFunc axpy(const ProgramSizes& sizes) {
  const std::int64_t n = sizes.at("N"), block = sizes.at("block");
  return T::prim_func("axpy", [&] {
    auto X = T::Tensor("X", {n}, T::float32);
    auto Y = T::Tensor("Y", {n}, T::float32);
    auto Z = T::Tensor("Z", {n}, T::float32);
    T::Expr alpha = T::ScalarParam("alpha", T::float32);
    T::Kernel(T::ceildiv(n, block), T::threads(128), [&](T::Expr bx) {
      T::Parallel(block, [&](T::Expr i) {
        T::Expr at = bx * block + i;
        T::If(at < n, [&] { Z(at) = X(at) * alpha + Y(at); });
      });
    });
  });
}

// Registered once per process, before the first test: the built-in examples and axpy.
class RegisterPrograms : public ::testing::Environment {
 public:
  void SetUp() override {
    examples::register_example_programs();
    register_program("capi_test.axpy", {{"N", 1000}, {"block", 128}}, axpy);
  }
};
::testing::Environment* const register_programs = ::testing::AddGlobalTestEnvironment(new RegisterPrograms);

::testing::AssertionResult error_mentions(std::initializer_list<std::string> parts) {
  const std::string msg = ts_last_error();
  for (const auto& p : parts)
    if (msg.find(p) == std::string::npos) return ::testing::AssertionFailure() << "ts_last_error lacks \"" << p << "\": " << msg;
  return ::testing::AssertionSuccess();
}

TEST(CApi, UnknownProgramIsNullAndListsTheRegisteredOnes) {
  EXPECT_EQ(ts_program_create("flash_atention", "", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"cannot build program 'flash_atention' because no program of that name is registered",
                              "use one of: ", "capi_test.axpy", "flash_attention", "gemm"}));
  EXPECT_EQ(ts_program_create(nullptr, nullptr, nullptr), nullptr);
  EXPECT_TRUE(error_mentions({"program ''", "no program of that name"}));
}

// The distributed examples need ranks and a transport: they are not registered as programs.
TEST(CApi, DistributedExampleIsNotAProgram) {
  EXPECT_EQ(ts_program_create("allgather_push", "", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"allgather_push", "no program of that name is registered"}));
  EXPECT_EQ(std::string(ts_program_names()).find("allgather"), std::string::npos) << ts_program_names();
}

TEST(CApi, ProgramNamesAreSortedAndCommaSeparated) {
  std::vector<std::string> expected = program_names();
  std::string joined;
  for (const auto& n : expected) joined += (joined.empty() ? "" : ",") + n;
  EXPECT_EQ(ts_program_names(), joined);
  EXPECT_TRUE(std::is_sorted(expected.begin(), expected.end())) << joined;
  for (const char* name : {"capi_test.axpy", "elementwise_add", "flash_attention", "gemm", "masked_scale"})
    EXPECT_EQ(std::count(expected.begin(), expected.end(), name), 1) << name << " in " << joined;
  EXPECT_STREQ(ts_last_error(), "");
}

TEST(CApi, BadSizesAreNullAndNamed) {
  EXPECT_EQ(ts_program_create("flash_attention", "Q=3", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"cannot set size Q because the program has no such size", "BM"}));
  EXPECT_EQ(ts_program_create("flash_attention", "S=abc", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of S", "not a non-negative integer"}));
  EXPECT_EQ(ts_program_create("flash_attention", "BM=96,threads=128", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"flash_attention", "BM=96", "multiple of 64"}));
}

// Sizes are parsed exactly: no exponent notation, nothing past 64 bits, each name once, and a size
// whose tensors' bytes overflow int64 is an error (issue 12, item 5).
TEST(CApi, SizesThatDoNotFitAreNullAndNamed) {
  EXPECT_EQ(ts_program_create("elementwise_add", "M=1e20", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of M", "\"1e20\"", "not a non-negative integer"}));
  EXPECT_EQ(ts_program_create("elementwise_add", "M=100000000000000000000", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of M", "does not fit in 64 bits"}));
  EXPECT_EQ(ts_program_create("elementwise_add", "M=8,M=16", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"sets M more than once"}));
  EXPECT_EQ(ts_program_create("elementwise_add", "M=9223372036854775807", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"T::Tensor", "9223372036854775807", "exceeds 2^63-1"}));
}

TEST(CApi, BadTargetIsNullAndNamed) {
  EXPECT_EQ(ts_program_create("elementwise_add", "M=8,N=8", "tpu"), nullptr);
  EXPECT_TRUE(error_mentions({"tpu"}));
}

TEST(CApi, ErrorIsClearedBySuccess) {
  EXPECT_EQ(ts_program_create("nope", "", "cpu"), nullptr);
  EXPECT_STRNE(ts_last_error(), "");
  ts_kernel* k = ts_program_create("elementwise_add", "M=8,N=8", "cpu");
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
  ts_kernel* k = ts_program_create("elementwise_add", "M=8,N=8", "cpu");
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
  ts_kernel* k = ts_program_create("flash_attention", spec, "cpu");
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
  ts_kernel* k = ts_program_create("masked_scale", "M=3,N=10", "cpu");
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

// A program the engine registered itself (not an example), through the C ABI on the CPU backend:
// described, called on host pointers and a pointer to its scalar, and exact.
TEST(CApi, RegisteredProgramOnCpuThroughPointers) {
  ts_kernel* k = ts_program_create("capi_test.axpy", "N=300,block=64", "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  EXPECT_STREQ(ts_kernel_describe(k), "capi_test.axpy [N=300 block=64] on cpu");
  ASSERT_EQ(ts_kernel_num_params(k), 4);
  const char* names[] = {"X", "Y", "Z", "alpha"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_STREQ(ts_kernel_param_name(k, i), names[i]);
    EXPECT_STREQ(ts_kernel_param_dtype(k, i), "float32");
    EXPECT_EQ(ts_kernel_param_is_scalar(k, i), i == 3 ? 1 : 0) << i;
    ASSERT_EQ(ts_kernel_param_rank(k, i), i == 3 ? 0 : 1) << i;
    if (i < 3) {
      EXPECT_EQ(ts_kernel_param_dim(k, i, 0), 300) << i;
    }
  }
  EXPECT_EQ(ts_kernel_param_dim(k, 3, 0), -1);

  std::vector<float> x(300), y(300), z(300, std::nanf(""));
  for (int i = 0; i < 300; ++i) x[i] = float(i), y[i] = float(1000 - 3 * i);
  float alpha = -0.5f;
  void* args[4] = {x.data(), y.data(), z.data(), &alpha};
  ASSERT_EQ(ts_kernel_call(k, args, 4, nullptr), 0) << ts_last_error();
  for (int i = 0; i < 300; ++i) EXPECT_EQ(z[i], float(i) * -0.5f + float(1000 - 3 * i)) << i;
  ts_kernel_destroy(k);

  // The defaults (N=1000, block=128) when sizes are null or "".
  k = ts_program_create("capi_test.axpy", nullptr, "cpu");
  ASSERT_NE(k, nullptr) << ts_last_error();
  EXPECT_EQ(ts_kernel_param_dim(k, 0, 0), 1000);
  ts_kernel_destroy(k);
}

TEST(CApi, RegisteredProgramSizeErrorsAreNamed) {
  EXPECT_EQ(ts_program_create("capi_test.axpy", "M=8", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"cannot set size M because the program has no such size; use N, block"}));
  EXPECT_EQ(ts_program_create("capi_test.axpy", "N=-4", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"value of N", "not a non-negative integer"}));
  EXPECT_EQ(ts_program_create("capi_test.axpy", "N=8,N=16", "cpu"), nullptr);
  EXPECT_TRUE(error_mentions({"sets N more than once"}));
}

TEST(Programs, RegisteringANameTwiceIsAnError) {
  register_program("capi_test.twice", {{"N", 8}}, axpy);
  try {
    register_program("capi_test.twice", {{"N", 16}}, axpy);
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot register program 'capi_test.twice' because a program of that name is already "
                           "registered; register each name once");
  }
  // The first registration stands.
  EXPECT_EQ(program_sizes("capi_test.twice").at("N"), 8);
}

TEST(Programs, NamesAndBuildersAreChecked) {
  try {
    register_program("", {}, axpy);
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot register a program because its name is empty; give it a name");
  }
  try {
    register_program("a,b", {}, axpy);
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot register program 'a,b' because its name holds a comma"),
              std::string::npos) << e.what();
  }
  try {
    register_program("capi_test.empty", {}, nullptr);
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot register program 'capi_test.empty' because its builder is empty"),
              std::string::npos) << e.what();
  }
  const std::vector<std::string> names = program_names();
  for (const char* refused : {"", "a,b", "capi_test.empty"})
    EXPECT_EQ(std::count(names.begin(), names.end(), refused), 0) << refused;
}

// The C++ side of the registry: sizes over the defaults, and build_program's check of a size map.
TEST(Programs, CompileAndBuildByName) {
  EXPECT_EQ(format_sizes(program_sizes("capi_test.axpy", "N=64")), "N=64 block=128");
  const Kernel k = compile_program("capi_test.axpy", "N=64", Target::CPU);
  EXPECT_EQ(k.params().at(0).shape, std::vector<std::int64_t>{64});
  try {
    build_program("capi_test.axpy", {{"N", 64}});
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot build program 'capi_test.axpy' because size block is missing; pass every one of "
                           "its sizes (program_sizes gives them)");
  }
  try {
    build_program("capi_test.axpy", {{"N", 64}, {"block", 32}, {"M", 2}});
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot build program 'capi_test.axpy' because it has no size M; its sizes are N, block");
  }
  try {
    compile_program("capi_test.axpi", "", Target::CPU);
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot build program 'capi_test.axpi' because no program of that name is "
                                         "registered; use one of: capi_test.axpy, "),
              std::string::npos) << e.what();
  }
}

// A kernel the engine compiled itself, handed to C: the same parameters and results as through
// ts_program_create, and the handle outlives the C++ Kernel it came from.
TEST(CApi, ToCKernelRoundTrip) {
  ts_kernel* k = nullptr;
  {
    const Kernel direct = compile(axpy({{"N", 40}, {"block", 32}}), Target::CPU);
    k = to_c_kernel(direct);
  }
  ASSERT_NE(k, nullptr);
  EXPECT_STREQ(ts_kernel_describe(k), "axpy on cpu");
  ASSERT_EQ(ts_kernel_num_params(k), 4);
  EXPECT_STREQ(ts_kernel_param_name(k, 3), "alpha");
  EXPECT_EQ(ts_kernel_param_dim(k, 2, 0), 40);
  std::vector<float> x(40, 2.0f), y(40), z(40, 0.0f);
  for (int i = 0; i < 40; ++i) y[i] = float(i);
  float alpha = 3.0f;
  void* args[4] = {x.data(), y.data(), z.data(), &alpha};
  ASSERT_EQ(ts_kernel_call(k, args, 4, nullptr), 0) << ts_last_error();
  for (int i = 0; i < 40; ++i) EXPECT_EQ(z[i], 6.0f + float(i)) << i;
  EXPECT_NE(ts_kernel_call(k, args, 3, nullptr), 0);
  EXPECT_TRUE(error_mentions({"cannot call axpy with 3 pointers because it takes 4 (X, Y, Z, alpha)"}));
  ts_kernel_destroy(k);
}

}  // namespace
}  // namespace tilescale
