// The host logic of the GPU transports, without a GPU: the allocation rule every transport applies
// and the collective of the local transport's rank threads (agreement, barriers, a failing rank
// stopping the others).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/dist/in_process_collective.h"
#include "runtime/dist/symmetric_allocation.h"
#include "test_util.h"

namespace tilescale::dist {
namespace {

TEST(SymmetricAllocation, GrantsTheNextAlignedOffsetWhenEveryRankAsksTheSame) {
  const auto d = decide_allocation(3, {{100, "float16[50]"}, {100, "float16[50]"}}, 300, 4096);
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.offset, 512u);
}

TEST(SymmetricAllocation, DifferentRequestsNameEveryRanksRequest) {
  const auto d = decide_allocation(0, {{32, "int32[8]"}, {36, "int32[9]"}}, 0, 4096);
  EXPECT_EQ(d.error, "cannot make symmetric allocation #0 because the ranks asked for different things: rank 0 asked "
                     "for int32[8] (32 bytes), rank 1 asked for int32[9] (36 bytes); every rank must make the same "
                     "allocations (shapes and dtypes) in the same order");
}

TEST(SymmetricAllocation, NoRoomSaysHowMuchIsInUse) {
  const auto d = decide_allocation(2, {{4000, "uint8[4000]"}}, 200, 4096);
  EXPECT_EQ(d.error, "cannot make symmetric allocation #2 of uint8[4000] (4000 bytes) because the symmetric heap holds "
                     "4096 bytes per rank and 200 are in use; raise dist::WorldOptions::heap_bytes");
  EXPECT_NE(decide_allocation(0, {{1, "uint8[1]"}}, 4096, 4096).error, "");  // aligned past the end
}

TEST(InProcessCollective, AllGatherGivesEveryRankEveryValueInRankOrder) {
  InProcessCollective c(4);
  std::vector<std::vector<Bytes>> got(4);
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&, r] {
      for (int round = 0; round < 3; ++round) {
        got[r] = c.all_gather(r, "k" + std::to_string(round), Bytes{static_cast<std::uint8_t>(10 * round + r)});
        c.barrier(r);
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < 4; ++r) EXPECT_EQ(got[r], (std::vector<Bytes>{{20}, {21}, {22}, {23}}));
}

TEST(InProcessCollective, StopWakesEveryWaiterWithTheReason) {
  InProcessCollective c(3);
  std::atomic<int> stopped{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      try {
        if (r == 0) c.barrier(r);
        else c.all_gather(r, "never", {});
      } catch (const RuntimeError& e) {
        if (std::string(e.what()) == "cannot go on because rank 2 failed: boom") ++stopped;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.stop("rank 2 failed: boom");
  for (auto& t : threads) t.join();
  EXPECT_EQ(stopped, 2);
  EXPECT_RUNTIME_ERROR(c.barrier(1), "cannot go on because rank 2 failed: boom");
}

}  // namespace
}  // namespace tilescale::dist
