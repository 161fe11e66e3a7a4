// T::Parallel loops that read fragments at elements other threads hold (tests/staged_reads_program.h)
// compile for CUDA: the fragments are staged through shared memory. Checked against plain loops
// on the CPU backend, and compiled with NVRTC for sm_80 and sm_90a (no GPU needed; the GPU test
// runs it: tests/gpu/test_tile_ops_gpu.cc).
#include <gtest/gtest.h>

#include <algorithm>

#include "jit/nvrtc.h"
#include "skips.h"
#include "staged_reads_program.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

TEST(StagedReads, TheCpuBackendComputesWhatThePlainLoopsDo) {
  Tensor X = Tensor::empty({256}, DataType::Float32), I = Tensor::empty({256}, DataType::Int32),
         M = Tensor::empty({32, 32}, DataType::Float32);
  X.fill_random(1, -1.0, 1.0), I.fill_random(2, -600.0, 600.0), M.fill_random(3, -1.0, 1.0);
  Tensor Y = Tensor::empty({256}, DataType::Float32), Z = Tensor::empty({256}, DataType::Float32),
         W = Tensor::empty({32}, DataType::Float32), Mt = Tensor::empty({32, 32}, DataType::Float32);
  Tensor A = Tensor::empty({64, 32}, DataType::Float16), B = Tensor::empty({32, 64}, DataType::Float16), R = Tensor::empty({64}, DataType::Float32);
  A.fill_random(4, -1.0, 1.0), B.fill_random(5, -1.0, 1.0);
  compile(test::staged_reads_program(), Target::CPU)(X, I, M, Y, Z, W, Mt, A, B, R);
  for (std::int64_t i = 0; i < 256; ++i) {
    EXPECT_EQ(Y.get({i}), X.get({255 - i}));
    const std::int64_t k = (static_cast<std::int64_t>(I.get({i})) % 256 + 256) % 256;
    EXPECT_EQ(Z.get({i}), X.get({k}));
  }
  for (std::int64_t i = 0; i < 32; ++i) {
    double sum = 0;
    for (std::int64_t j = 0; j < 32; ++j) sum += M.get({31 - i, j});
    EXPECT_NEAR(W.get({i}), 2 * sum, 1e-4);
    for (std::int64_t j = 0; j < 32; ++j) EXPECT_EQ(Mt.get({i, j}), M.get({j, i}));
  }
  for (std::int64_t i = 0; i < 64; ++i) {
    double best = -1e30;
    for (std::int64_t j = 0; j < 64; ++j) {
      double c = 0;
      for (std::int64_t k = 0; k < 32; ++k) c += A.get({63 - i, k}) * B.get({k, j});
      best = std::max(best, c);
    }
    EXPECT_NEAR(R.get({i}), best, 1e-4);
  }
}

TEST(StagedReads, CompileWithNvrtcForSm80AndSm90a) {
  SKIP_WITHOUT_NVRTC();
  const auto f = test::staged_reads_program();
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const std::string source = generate_cuda(f, arch);
    EXPECT_NE(source.find("__syncthreads();"), std::string::npos) << arch;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch;
  }
}

}  // namespace
}  // namespace tilescale
