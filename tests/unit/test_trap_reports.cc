// The registry of trap reports (runtime/cuda/trap_reports.h) that cuda::check() quotes.
#include <gtest/gtest.h>

#include "runtime/cuda/trap_reports.h"

namespace tilescale {
namespace {

TEST(TrapReports, JoinsWhatTheSourcesSayInOrderUntilTheyAreRemoved) {
  ASSERT_EQ(cuda::trap_reports(), "");
  const int first = cuda::add_trap_report_source([] { return std::string("rank 0: first"); });
  const int silent = cuda::add_trap_report_source([] { return std::string(); });
  const int second = cuda::add_trap_report_source([] { return std::string("rank 1: second"); });
  EXPECT_EQ(cuda::trap_reports(), "rank 0: first; rank 1: second");
  cuda::remove_trap_report_source(first);
  EXPECT_EQ(cuda::trap_reports(), "rank 1: second");
  cuda::remove_trap_report_source(second);
  cuda::remove_trap_report_source(silent);
  EXPECT_EQ(cuda::trap_reports(), "");
}

}  // namespace
}  // namespace tilescale
