// Wait controls: how the host bounds the distributed waits of one rank's kernels, and learns which
// wait gave up.
//
// Every spinning wait of a distributed kernel (device/tilescale/dist.h, "Bounded waits") looks, now
// and then, at the WaitControl its Context points to: mapped host memory, one per rank. The host
// sets its stop word to end the rank's waits (another rank failed: its kernels would wait forever),
// and a wait that spins past the Context's budget writes who waited on what into it and traps. The
// trap leaves the CUDA context unusable; every live WaitControl is a source of trap_reports.h, so
// the error of the call that sees the failed launch ends with the report:
//
//   rank 1: block (0, 0, 0) thread 0 ran out of its wait budget (TILESCALE_WAIT_TIMEOUT_MS or
//   dist::WorldOptions::wait_timeout_ms) after 50.0 ms in T::wait_eq on address 0x7f3a00000100:
//   expected 1, observed 0
//
// Filling the Context of a rank's launch:
//   auto control = cuda::WaitControl::create(rank);     // once per rank, kept while it launches
//   context.wait_budget_ns = cuda::wait_budget_ns(timeout_ms);  // the world's, after -1 -> environment
//   context.control = control->device_pointer();
// and when another rank fails: control->request_stop().
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tilescale::cuda {

// The host's view of tl::dist::WaitControl (device/tilescale/dist.h), field for field: the host
// asserts the offsets, the device the size, and a unit test compares the fields' sizes (NVRTC has
// no offsetof). Field meanings are the device header's.
struct MappedWaitControl {
  std::uint32_t stop;
  std::uint32_t reported;  // kWaitReportWritten once a report is complete
  std::uint32_t kind;      // WaitKind, below
  std::uint32_t relation;  // Relation: 0 eq, 1 ne, 2 ge, 3 le, 4 gt, 5 lt
  std::int32_t rank;
  std::int32_t block[3];
  std::int32_t thread;
  std::uint32_t value_signed;
  std::uint64_t address;
  std::uint64_t expected;
  std::uint64_t observed;
  std::uint64_t waited_ns;
};
static_assert(sizeof(MappedWaitControl) == 72 && offsetof(MappedWaitControl, rank) == 16 &&
                  offsetof(MappedWaitControl, value_signed) == 36 && offsetof(MappedWaitControl, address) == 40,
              "MappedWaitControl must match tl::dist::WaitControl in device/tilescale/dist.h");

inline constexpr std::uint32_t kWaitReportWritten = 2;
// MappedWaitControl::kind: tl::dist::WaitKind.
enum WaitKind : std::uint32_t { kFlagWait = 0, kBarrierBlocksWait = 1, kSyncGridWait = 2, kSignalWait = 3 };

// The sentence for a control's report; "" when it holds none. When the host asked the rank to stop
// and no wait gave up on its own, the sentence says that the rank's waits were stopped.
std::string describe_wait_report(const MappedWaitControl& control);

// A wait budget in nanoseconds for a Context, from a per-wait timeout in milliseconds (the sim's
// wait_timeout_ms, TILESCALE_WAIT_TIMEOUT_MS): 0 (unbounded) for 0 or less, saturating.
std::uint64_t wait_budget_ns(std::int64_t wait_timeout_ms);

class WaitControl {
 public:
  // A cleared control for `rank`, in mapped host memory (portable: usable from every context),
  // registered as a trap-report source until destroyed. Needs a current CUDA context
  // (set_current_device); RuntimeError when the driver cannot allocate or map it.
  static std::unique_ptr<WaitControl> create(int rank);
  ~WaitControl();
  WaitControl(const WaitControl&) = delete;
  WaitControl& operator=(const WaitControl&) = delete;

  // What Context::control takes (a tl::dist::WaitControl*), valid in every CUDA context.
  CUdeviceptr device_pointer() const { return device_; }
  // Makes every wait of this rank's running and future kernels trap within about 20 us.
  void request_stop();
  // describe_wait_report of the control as it is now.
  std::string report() const;

 private:
  WaitControl() = default;
  volatile MappedWaitControl* host_ = nullptr;
  CUdeviceptr device_ = 0;
  int source_ = -1;  // trap_reports.h
};

}  // namespace tilescale::cuda
