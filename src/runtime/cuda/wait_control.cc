#include "runtime/cuda/wait_control.h"

#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>

#include "runtime/cuda/driver.h"
#include "runtime/cuda/trap_reports.h"
#include "tilescale/errors.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

namespace {

// By tl::dist::Relation (device/tilescale/dist.h).
constexpr const char* kRelationNames[] = {"eq", "ne", "ge", "le", "gt", "lt"};
constexpr const char* kRelationSigns[] = {"", "!= ", ">= ", "<= ", "> ", "< "};

std::string value(const MappedWaitControl& c, std::uint64_t v) {
  return c.value_signed ? std::to_string(static_cast<std::int64_t>(v)) : std::to_string(v);
}

std::string hex(std::uint64_t v) {
  char s[32];
  std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

// "T::wait_eq on address 0x..: expected 1, observed 0", and what the values mean where it helps.
std::string what_was_awaited(const MappedWaitControl& c) {
  const bool known_relation = c.relation < std::size(kRelationNames);
  const std::string expected = cat(known_relation ? kRelationSigns[c.relation] : "?", value(c, c.expected));
  const std::string values = cat("expected ", expected, ", observed ", value(c, c.observed));
  const std::string address = cat(" on address ", hex(c.address), ": ");
  switch (c.kind) {
    case kFlagWait:
      return cat("T::wait_", known_relation ? kRelationNames[c.relation] : "?", address, values);
    case kSignalWait:
      return cat("T::signal_wait_until", address, values);
    case kBarrierBlocksWait:
      return cat("T::barrier_blocks", address, values, " (the slot of a rank that has not entered the barrier)");
    case kSyncGridWait:
      return cat("T::sync_grid", address, "expected bit 31 of the counter to become ", c.expected >> 31, ", observed ",
                 hex(c.observed), " (every block of the grid must reach it, and all must be resident at once)");
    default:
      return cat("a wait of unknown kind ", c.kind, address, values);
  }
}

}  // namespace

std::string describe_wait_report(const MappedWaitControl& c) {
  if (c.reported != kWaitReportWritten) {
    if (!c.stop) return "";
    return cat("rank ", c.rank, ": the host stopped its waits (WaitControl::request_stop: another rank failed)");
  }
  char waited[32];
  std::snprintf(waited, sizeof waited, "%.1f ms", static_cast<double>(c.waited_ns) / 1e6);
  return cat("rank ", c.rank, ": block (", c.block[0], ", ", c.block[1], ", ", c.block[2], ") thread ", c.thread,
             " ran out of its wait budget (TILESCALE_WAIT_TIMEOUT_MS or dist::WorldOptions::wait_timeout_ms) after ",
             waited, " in ", what_was_awaited(c));
}

std::uint64_t wait_budget_ns(std::int64_t wait_timeout_ms) {
  constexpr std::uint64_t kNsPerMs = 1000000;
  if (wait_timeout_ms <= 0) return 0;
  const auto ms = static_cast<std::uint64_t>(wait_timeout_ms);
  return ms > std::numeric_limits<std::uint64_t>::max() / kNsPerMs ? std::numeric_limits<std::uint64_t>::max()
                                                                    : ms * kNsPerMs;
}

std::unique_ptr<WaitControl> WaitControl::create(int rank) {
  const Driver& d = driver();
  void* host = nullptr;
  check(d.MemHostAlloc(&host, sizeof(MappedWaitControl), CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE),
        cat("cuMemHostAlloc(wait control of rank ", rank, ")"));
  std::unique_ptr<WaitControl> w(new WaitControl());
  w->host_ = static_cast<MappedWaitControl*>(host);
  MappedWaitControl cleared{};
  cleared.rank = rank;  // the device writes it again with a report; a stop sentence needs it without one
  std::memcpy(host, &cleared, sizeof cleared);
  check(d.MemHostGetDevicePointer(&w->device_, host, 0), cat("cuMemHostGetDevicePointer(wait control of rank ", rank, ")"));
  const WaitControl* self = w.get();
  w->source_ = add_trap_report_source([self] { return self->report(); });
  return w;
}

WaitControl::~WaitControl() {
  if (source_ >= 0) remove_trap_report_source(source_);
  driver().MemFreeHost(const_cast<MappedWaitControl*>(host_));  // after a trap the driver may refuse: nothing to do then
}

void WaitControl::request_stop() { host_->stop = 1; }

std::string WaitControl::report() const {
  MappedWaitControl now;
  std::memcpy(&now, const_cast<const MappedWaitControl*>(host_), sizeof now);  // the device may write it any time
  return describe_wait_report(now);
}

}  // namespace tilescale::cuda
