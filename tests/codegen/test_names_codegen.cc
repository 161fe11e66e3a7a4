// Names that C++ or CUDA give a meaning (keywords, built-ins, the generator's own identifiers) are
// renamed in generated code, so a program whose buffers or kernel use them still compiles; the
// user's names stay in printed IR and in messages (issue 12, item 6).
#include <gtest/gtest.h>

#include <regex>

#include "codegen/cuda/codegen.h"
#include "codegen/cuda/names.h"
#include "jit/nvrtc.h"
#include "pipeline.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

// C = int + new * threadIdx + A + A_stride0 through shared memory and a fragment called class and
// r, in a kernel called main, with a symbolic dimension called tx.
T::PrimFunc reserved_names() {
  T::Expr rows = T::dynamic("tx");
  return T::prim_func("main", [&] {
    auto a = T::Tensor("int", {rows, 32}, T::float32);
    auto b = T::Tensor("new", {rows, 32}, T::float32);
    auto c = T::Tensor("threadIdx", {rows, 32}, T::float32);
    auto d = T::Tensor("A", {rows, 32}, T::float32);
    auto e = T::Tensor("A_stride0", {rows, 32}, T::float32);
    auto out = T::Tensor("tl", {rows, 32}, T::float32);
    T::Kernel(T::ceildiv(rows, 16), T::threads(64), [&](T::Expr bx) {
      auto s = T::alloc_shared({16, 32}, T::float32, "class");
      auto r = T::alloc_fragment({16, 32}, T::float32, "r");
      T::copy(a(bx * 16, 0), s);
      T::copy(s, r);
      T::Parallel(16, 32, [&](T::Expr i, T::Expr j) {
        r(i, j) = r(i, j) + b(bx * 16 + i, j) * c(bx * 16 + i, j) + d(bx * 16 + i, j) + e(bx * 16 + i, j);
      });
      T::copy(r, out(bx * 16, 0));
    });
  });
}

TEST(ReservedNames, AreRenamedInGeneratedCudaThatCompiles) {
  if (std::string why = jit::nvrtc_unavailable_reason(); !why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const T::PrimFunc f = reserved_names();
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const cuda::Target target = cuda::target_for_arch(arch);
    const cuda::KernelSpec spec =
        cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", target.sm}), target);
    EXPECT_EQ(spec.name, "main");
    EXPECT_TRUE(!cuda::reserved_identifier(spec.symbol) && spec.symbol != "main") << spec.symbol;
    EXPECT_NE(spec.source.find(") " + spec.symbol + "("), std::string::npos) << spec.source;
    // Every parameter is declared once, under a name of its own.
    const std::regex param(R"((?:float|int|long long)\*? (?:__restrict__ )?(\w+)[,)])");
    std::set<std::string> declared;
    const std::string signature = spec.source.substr(spec.source.find("__global__"));
    for (auto it = std::sregex_iterator(signature.begin(), signature.begin() + signature.find('{'), param);
         it != std::sregex_iterator(); ++it) {
      const std::string n = (*it)[1];
      EXPECT_FALSE(cuda::reserved_identifier(n)) << n;
      EXPECT_TRUE(declared.insert(n).second) << n << " declared twice in\n" << signature.substr(0, signature.find('{'));
    }
    EXPECT_EQ(declared.size(), 6u + 1u + 6u);  // tensors, the symbolic dimension, a stride per tensor
    const auto bin = jit::compile_nvrtc(spec.source, spec.name, arch, {});
    EXPECT_FALSE(bin.cubin.empty()) << arch;
  }
}

// A name with the generator's own prefix stays reserved with any suffix (ts_x_1 too): it gets
// another prefix instead of a suffix search that never ends.
TEST(ReservedNames, WithTheGeneratorsPrefixAreRenamed) {
  const T::PrimFunc f = T::prim_func("ts_kernel", [&] {
    auto x = T::Tensor("ts_x", {64}, T::float32);
    auto y = T::Tensor("ts_x_1", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Parallel(64, [&](T::Expr i) { y(i) = x(i) * 2.0f; });
    });
  });
  const cuda::KernelSpec spec = cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", 80}), cuda::Target{80});
  EXPECT_NE(spec.source.find("v_ts_x"), std::string::npos) << spec.source;
  EXPECT_NE(spec.source.find("v_ts_x_1"), std::string::npos) << spec.source;
  EXPECT_EQ(spec.symbol, "v_ts_kernel");
  if (jit::nvrtc_unavailable_reason().empty()) EXPECT_FALSE(jit::compile_nvrtc(spec.source, spec.name, "sm_80", {}).cubin.empty());
}

TEST(ReservedNames, StayTheUsersInIrAndMessages) {
  const T::PrimFunc f = reserved_names();
  const std::string ir = f.to_string();
  for (const char* n : {"def main(", "int: T.Tensor", "threadIdx: T.Tensor", "A_stride0: T.Tensor", "tl: T.Tensor"})
    EXPECT_NE(ir.find(n), std::string::npos) << n << " in\n" << ir;
  Kernel k = cpu(f);
  auto t = [] { return Tensor::zeros({32, 32}, DataType::Float32); };
  EXPECT_RUNTIME_ERROR(k(Tensor::zeros({32, 32}, DataType::Float16), t(), t(), t(), t(), t()), "argument 0 (int) of kernel main");
  // And the program computes what it says.
  Tensor a = random_tensor({32, 32}, DataType::Float32, 1), b = random_tensor({32, 32}, DataType::Float32, 2),
         c = random_tensor({32, 32}, DataType::Float32, 3), d = random_tensor({32, 32}, DataType::Float32, 4),
         e = random_tensor({32, 32}, DataType::Float32, 5), out = poisoned({32, 32}, DataType::Float32);
  k(a, b, c, d, e, out);
  Tensor want = Tensor::empty({32, 32}, DataType::Float32);
  for (std::int64_t i = 0; i < want.numel(); ++i)
    want.set_flat(i, a.get_flat(i) + b.get_flat(i) * c.get_flat(i) + d.get_flat(i) + e.get_flat(i));
  EXPECT_TRUE(close(out, want, kFloat32SumTolerance));
}

TEST(ReservedNames, CoverKeywordsBuiltinsAndTheGeneratorsOwn) {
  for (const char* n : {"int", "new", "class", "threadIdx", "blockIdx", "main", "tl", "printf", "expf", "uint4", "smem",
                        "tx", "r", "ts_grid_x", "__half", "_Tmp", "nvshmem_quiet"})
    EXPECT_TRUE(cuda::reserved_identifier(n)) << n;
  for (const char* n : {"A", "A_stride0", "acc", "scores_max", "_tmp", "integer", "mains"})
    EXPECT_FALSE(cuda::reserved_identifier(n)) << n;
}

}  // namespace
}  // namespace tilescale::test
