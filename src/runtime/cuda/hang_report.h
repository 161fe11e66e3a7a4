// Hang reports: what a kernel that stopped on a barrier wait says about itself.
//
// A tl::mbarrier_wait that does not complete within its timeout (device/tilescale/mbarrier.h, "Hang
// reports": 10 s) writes its block, thread, barrier and parity into *tl_hang_report and traps. The
// runtime gives every module it loads that defines tl_hang_report a report of its own in mapped
// host memory (attach_hang_report, once per module), because the trap leaves the CUDA context
// unusable and only host memory can still be read. Each report is a source of trap_reports.h, so
// cuda::check() appends its sentence to the error of the call that sees the failed launch:
//
//   kernel flash_attention: block (3, 1, 0) thread 256 waited 10.001 s on mbarrier empty[1] of the
//   warp-specialized pipeline (phase parity 1) and stopped the kernel: the consumers never
//   released that stage ...
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

namespace tilescale::cuda {

// Where a warp-specialized kernel keeps its pipeline mbarriers (full[stages], then empty[stages],
// 8 bytes each, `offset` bytes into dynamic shared memory), so that a report can name them; offset
// -1 for kernels without them.
struct PipelineBarriers {
  std::int64_t offset = -1;
  int stages = 0;
};

// Gives `module` (one kernel, `kernel`) a report buffer when it defines tl_hang_report; nothing
// otherwise. RuntimeError when the driver cannot map the buffer.
void attach_hang_report(CUmodule module, const std::string& kernel, PipelineBarriers barriers);

// The sentence for one report (exposed for tests).
std::string describe_hang(const std::string& kernel, const int block[3], int thread, unsigned barrier, unsigned parity,
                          unsigned waited_ms, PipelineBarriers barriers);

}  // namespace tilescale::cuda
