#include "runtime/cuda/hang_report.h"

#include "runtime/cuda/driver.h"
#include "runtime/cuda/trap_reports.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

// tl::HangReport (device/tilescale/mbarrier.h): two packed words, written by one 16-byte store.
struct HangReport {
  std::uint64_t where, what;
};

}  // namespace

void attach_hang_report(CUmodule module, const std::string& kernel, PipelineBarriers barriers) {
  const Driver& d = driver();
  CUdeviceptr global = 0;
  std::size_t size = 0;
  const CUresult r = d.ModuleGetGlobal(&global, &size, module, "tl_hang_report");
  if (r == CUDA_ERROR_NOT_FOUND) return;  // the kernel waits on no mbarrier
  check(r, "cuModuleGetGlobal(tl_hang_report)", kernel);
  TS_ICHECK(size == sizeof(CUdeviceptr), "tl_hang_report of kernel ", kernel, " has ", size, " bytes, not a pointer's");
  void* host = nullptr;
  check(d.MemHostAlloc(&host, sizeof(HangReport), CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE),
        "cuMemHostAlloc(hang report)", kernel);
  *static_cast<HangReport*>(host) = HangReport{};
  CUdeviceptr mapped = 0;
  check(d.MemHostGetDevicePointer(&mapped, host, 0), "cuMemHostGetDevicePointer(hang report)", kernel);
  check(d.MemcpyHtoD(global, &mapped, sizeof(mapped)), "cuMemcpyHtoD(tl_hang_report)", kernel);
  const volatile HangReport* report = static_cast<volatile HangReport*>(host);  // kept for the process
  add_trap_report_source([report, kernel, barriers]() -> std::string {
    const std::uint64_t where = report->where, what = report->what;
    if (!(what >> 31 & 1)) return "";  // not reported
    const int block[3] = {static_cast<int>(where & 0xffffffffu), static_cast<int>(where >> 32 & 0xffff),
                          static_cast<int>(where >> 48)};
    return describe_hang(kernel, block, static_cast<int>(what & 0x3ff), static_cast<unsigned>(what >> 11 & 0xfffff),
                         static_cast<unsigned>(what >> 10 & 1), static_cast<unsigned>(what >> 32), barriers);
  });
}

std::string describe_hang(const std::string& kernel, const int block[3], int thread, unsigned barrier, unsigned parity,
                          unsigned waited_ms, PipelineBarriers barriers) {
  std::string which = cat("the mbarrier at byte ", barrier, " of dynamic shared memory");
  std::string why = "a barrier whose arrivals or transaction bytes never all came";
  const std::int64_t index = barriers.offset >= 0 ? (static_cast<std::int64_t>(barrier) - barriers.offset) / 8 : -1;
  if (barriers.offset >= 0 && barrier >= barriers.offset && index < 2 * barriers.stages && barrier % 8 == 0) {
    const bool full = index < barriers.stages;
    which = cat("mbarrier ", full ? "full[" : "empty[", full ? index : index - barriers.stages,
                "] of the warp-specialized pipeline");
    why = full ? "the producer never announced that stage, or its TMA loads never delivered the bytes it announced"
               : "the consumers never released that stage (they stopped before it, or wait themselves on a stage "
                 "that was never filled)";
  }
  return cat("kernel ", kernel, ": block (", block[0], ", ", block[1], ", ", block[2], ") thread ", thread,
             " waited ", waited_ms / 1000.0, " s on ", which, " (phase parity ", parity, ") and stopped the kernel: ", why,
             ". This is a bug in tilescale's pipeline code, or in a hand-written device wait: please report it with the "
             "program and its sizes");
}

}  // namespace tilescale::cuda
