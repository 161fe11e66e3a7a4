// Trap reports: what kernels that stopped themselves wrote down before they trapped.
//
// A kernel that gives up (an mbarrier wait past its timeout, hang_report.h; a distributed wait past
// its budget, wait_control.h) writes who waited on what into mapped host memory and traps. The trap
// leaves the CUDA context unusable, so only host memory can still say what happened. Each owner of
// such memory registers a source here; cuda::check() appends trap_reports() to the error of the
// call that sees the failed launch:
//
//   CUDA error CUDA_ERROR_LAUNCH_FAILED (...) in cuCtxSynchronize; rank 1: block (0, 0, 0) thread 0
//   ran out of its wait budget (...) after 50.0 ms in T::wait_eq on address 0x7f3a00000100:
//   expected 1, observed 0; the CUDA context is unusable from here on ...
#pragma once

#include <functional>
#include <string>

namespace tilescale::cuda {

// What one source of reports has to say: one sentence per report it holds, "" when none.
using TrapReportSource = std::function<std::string()>;

// Adds a source; it stays until remove_trap_report_source(the returned id), or for the process.
int add_trap_report_source(TrapReportSource source);
void remove_trap_report_source(int id);

// Every source's sentences, in the order the sources were added, joined by "; "; "" when none.
std::string trap_reports();

}  // namespace tilescale::cuda
