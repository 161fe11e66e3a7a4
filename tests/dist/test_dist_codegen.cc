// The generated CUDA of every distributed example compiles with NVRTC for sm_90a (no GPU needed);
// kernels that call NVSHMEM compile as relocatable code against NVSHMEM's headers (the pip wheel
// nvidia-nvshmem-cu13, or NVSHMEM_HOME), and are skipped, saying why, when those are absent.
#include <gtest/gtest.h>

#include "distributed/distributed_example.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

// Compiles `func` for `arch`; skips (returns false) when NVRTC or NVSHMEM's headers are missing.
void compile_for(const lang::PrimFunc& func, const std::string& arch) {
  const std::string source = generate_cuda(func, arch);
  EXPECT_NE(source.find("const tl::dist::Context ts_dist"), std::string::npos) << "no distributed context parameter";
  std::vector<std::string> options;
  if (source.find("#include <nvshmem.h>") != std::string::npos) {
    const std::string why = jit::nvshmem_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << func.name() << " calls NVSHMEM and " << why;
    options = jit::nvshmem_options();
  }
  const auto bin = jit::compile_nvrtc(source, func.name(), arch, options);
  EXPECT_FALSE(bin.cubin.empty());
}

struct Case {
  std::string example;
  int kernel;  // index into the example's kernels
};

class DistributedCodegen : public testing::TestWithParam<Case> {};

TEST_P(DistributedCodegen, CompilesWithNvrtcForSm90a) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* ex = examples::find_distributed_example(GetParam().example);
  ASSERT_NE(ex, nullptr);
  const auto kernels = ex->build(ex->test_sizes, ex->test_ranks.back());
  compile_for(kernels.at(GetParam().kernel), "sm_90a");
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& ex : examples::distributed_examples()) {
    const auto n = ex.build(ex.test_sizes, ex.test_ranks.back()).size();
    for (size_t k = 0; k < n; ++k) out.push_back({ex.name, static_cast<int>(k)});
  }
  return out;
}

std::string label(const testing::TestParamInfo<Case>& info) {
  return info.param.example + "_kernel" + std::to_string(info.param.kernel);
}

INSTANTIATE_TEST_SUITE_P(All, DistributedCodegen, testing::ValuesIn(cases()), label);

}  // namespace
}  // namespace tilescale
