// The sentence a hang report becomes (runtime/cuda/hang_report.h): which barrier, named from the
// kernel's pipeline layout when it is one of the pipeline's, and what that means. No GPU needed;
// the report itself is exercised on the GPU (tests/gpu/test_cuda_runtime.cc).
#include <gtest/gtest.h>

#include "runtime/cuda/hang_report.h"

namespace tilescale {
namespace {

TEST(HangReport, NamesThePipelineBarrierAndWhatItsWaitMeans) {
  const int block[3] = {3, 1, 0};
  const cuda::PipelineBarriers pipeline{229376, 3};  // full[3] at 229376.., empty[3] at 229400..
  const std::string full = cuda::describe_hang("flash_attention", block, 256, 229376 + 8, 1, 10001, pipeline);
  EXPECT_EQ(full,
            "kernel flash_attention: block (3, 1, 0) thread 256 waited 10.001 s on mbarrier full[1] of the warp-specialized "
            "pipeline (phase parity 1) and stopped the kernel: the producer never announced that stage, or its TMA loads "
            "never delivered the bytes it announced. This is a bug in tilescale's pipeline code, or in a hand-written "
            "device wait: please report it with the program and its sizes");
  EXPECT_NE(cuda::describe_hang("k", block, 0, 229400 + 16, 0, 10000, pipeline).find("mbarrier empty[2] of the warp-specialized "
                                                                                     "pipeline (phase parity 0) and stopped the "
                                                                                     "kernel: the consumers never released"),
            std::string::npos);
  // Outside the pipeline's barriers, or in a kernel without them: the byte offset.
  EXPECT_NE(cuda::describe_hang("k", block, 0, 64, 0, 10000, pipeline).find("on the mbarrier at byte 64 of dynamic shared memory"),
            std::string::npos);
  EXPECT_NE(cuda::describe_hang("k", block, 0, 229376, 0, 10000, {}).find("on the mbarrier at byte 229376"), std::string::npos);
}

}  // namespace
}  // namespace tilescale
