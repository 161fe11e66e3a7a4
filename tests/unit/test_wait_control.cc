// Wait controls (runtime/cuda/wait_control.h) without a GPU: the sentence a report becomes, the
// budget a timeout gives, and that the host's view of the control has the device's layout (the
// device side compiled by NVRTC, skipped without it). The report itself is exercised on the GPU
// (tests/gpu/test_wait_control_gpu.cc).
#include <gtest/gtest.h>

#include <cstddef>
#include <limits>

#include "jit/nvrtc.h"
#include "runtime/cuda/wait_control.h"
#include "skips.h"
#include "tilescale/errors.h"

namespace tilescale {
namespace {

using tilescale::detail::cat;

cuda::MappedWaitControl report(std::uint32_t kind, std::uint32_t relation, std::uint64_t expected, std::uint64_t observed,
                               bool value_signed = true) {
  cuda::MappedWaitControl c{};
  c.reported = cuda::kWaitReportWritten;
  c.kind = kind;
  c.relation = relation;
  c.rank = 1;
  c.block[0] = 3;
  c.block[1] = 1;
  c.thread = 37;
  c.value_signed = value_signed;
  c.address = 0x7f3a00000100;
  c.expected = expected;
  c.observed = observed;
  c.waited_ns = 50'012'000;
  return c;
}

TEST(WaitControl, AReportNamesRankBlockThreadWaitAddressAndValues) {
  EXPECT_EQ(cuda::describe_wait_report(report(cuda::kFlagWait, 0, 1, 0)),
            "rank 1: block (3, 1, 0) thread 37 ran out of its wait budget (TILESCALE_WAIT_TIMEOUT_MS or "
            "dist::WorldOptions::wait_timeout_ms) after 50.0 ms in T::wait_eq on address 0x7f3a00000100: expected 1, "
            "observed 0");
  // Signed values print signed, unsigned ones unsigned; the relation of the wait shows in both.
  EXPECT_NE(cuda::describe_wait_report(report(cuda::kFlagWait, 2, static_cast<std::uint64_t>(-2), static_cast<std::uint64_t>(-5)))
                .find("in T::wait_ge on address 0x7f3a00000100: expected >= -2, observed -5"),
            std::string::npos);
  EXPECT_NE(cuda::describe_wait_report(report(cuda::kSignalWait, 1, std::numeric_limits<std::uint64_t>::max(), 7, false))
                .find("in T::signal_wait_until on address 0x7f3a00000100: expected != 18446744073709551615, observed 7"),
            std::string::npos);
  EXPECT_NE(cuda::describe_wait_report(report(cuda::kBarrierBlocksWait, 3, 0, 1))
                .find("in T::barrier_blocks on address 0x7f3a00000100: expected <= 0, observed 1 (the slot of a rank that "
                      "has not entered the barrier)"),
            std::string::npos);
  EXPECT_NE(cuda::describe_wait_report(report(cuda::kSyncGridWait, 0, 0x80000000u, 3, false))
                .find("in T::sync_grid on address 0x7f3a00000100: expected bit 31 of the counter to become 1, observed 0x3 "
                      "(every block of the grid must reach it"),
            std::string::npos);
}

TEST(WaitControl, NoReportSaysNothingAndAStopSaysTheHostStoppedTheRank) {
  cuda::MappedWaitControl c{};
  c.rank = 2;
  EXPECT_EQ(cuda::describe_wait_report(c), "");
  c.stop = 1;
  EXPECT_EQ(cuda::describe_wait_report(c),
            "rank 2: the host stopped its waits (WaitControl::request_stop: another rank failed)");
  // A wait that ran out of budget is what the report says, stop or not.
  c = report(cuda::kFlagWait, 0, 1, 0);
  c.stop = 1;
  EXPECT_NE(cuda::describe_wait_report(c).find("ran out of its wait budget"), std::string::npos);
}

TEST(WaitControl, TheBudgetIsTheTimeoutInNanosecondsAndSaturates) {
  EXPECT_EQ(cuda::wait_budget_ns(0), 0u);
  EXPECT_EQ(cuda::wait_budget_ns(-1), 0u);
  EXPECT_EQ(cuda::wait_budget_ns(50), 50'000'000u);
  EXPECT_EQ(cuda::wait_budget_ns(std::numeric_limits<std::int64_t>::max()), std::numeric_limits<std::uint64_t>::max());
}

// The device's tl::dist::WaitControl has every field of the host's view with its size, the same
// size in all, and the codes of the kinds of wait and relations agree. (NVRTC has no offsetof: the
// offsets are fixed by static_asserts in wait_control.h and exercised by the GPU test.)
TEST(WaitControl, TheDeviceLayoutIsTheHostLayout) {
  SKIP_WITHOUT_NVRTC();
  using M = cuda::MappedWaitControl;
  std::string source = "#include \"tilescale/dist.h\"\nusing W = tl::dist::WaitControl;\n";
  auto field = [&](const char* name, std::size_t size) {
    source += cat("static_assert(sizeof(W::", name, ") == ", size, ", \"", name, "\");\n");
  };
  field("stop", sizeof(M::stop));
  field("reported", sizeof(M::reported));
  field("kind", sizeof(M::kind));
  field("relation", sizeof(M::relation));
  field("rank", sizeof(M::rank));
  field("block", sizeof(M::block));
  field("thread", sizeof(M::thread));
  field("value_signed", sizeof(M::value_signed));
  field("address", sizeof(M::address));
  field("expected", sizeof(M::expected));
  field("observed", sizeof(M::observed));
  field("waited_ns", sizeof(M::waited_ns));
  source += cat("static_assert(sizeof(W) == ", sizeof(M), ", \"size\");\n");
  source += cat("static_assert(tl::dist::FLAG_WAIT == ", cuda::kFlagWait, " && tl::dist::BARRIER_BLOCKS_WAIT == ",
                cuda::kBarrierBlocksWait, " && tl::dist::SYNC_GRID_WAIT == ", cuda::kSyncGridWait,
                " && tl::dist::SIGNAL_WAIT == ", cuda::kSignalWait, ", \"kinds\");\n");
  source += "static_assert(tl::dist::EQ == 0 && tl::dist::NE == 1 && tl::dist::GE == 2 && tl::dist::LE == 3 && "
            "tl::dist::GT == 4 && tl::dist::LT == 5, \"relations\");\n";
  source += "extern \"C\" __global__ void wait_control_layout() {}\n";
  EXPECT_FALSE(jit::compile_nvrtc(source, "wait_control_layout", "sm_80", {}).cubin.empty());
}

}  // namespace
}  // namespace tilescale
