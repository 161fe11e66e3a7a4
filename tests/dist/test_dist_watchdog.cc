// The sim transport's deadlock watchdog reports only real deadlocks: never a block that has not
// started yet, a rank's host code joining its blocks, or a machine that is merely slow. The runs
// here happen beside busy threads (more of them than the machine has cores), which is when a
// watchdog that mistakes slowness for a deadlock shows itself.
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "distributed/distributed_example.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

using Clock = std::chrono::steady_clock;

// `n` threads that spin until the object dies: a busy machine beside the run.
class BusyThreads {
 public:
  explicit BusyThreads(int n) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        std::uint64_t x = 0;
        while (!quit_.load(std::memory_order_relaxed)) x = x * 6364136223846793005ull + 1;
        sink_.fetch_add(x, std::memory_order_relaxed);
      });
  }
  ~BusyThreads() {
    quit_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> quit_{false};
  std::atomic<std::uint64_t> sink_{0};
  std::vector<std::thread> threads_;
};

// The regression of issue 12: every started block waits for the last block, which starts last (a
// kernel's blocks start one after another), so for a while every block that exists waits and the
// rank's host code joins. The old watchdog called that a deadlock when the last threads were slow
// to start; a block not yet started now counts as running.
TEST(DistWatchdog, BlocksWaitingForABlockThatHasNotStartedYetAreNoDeadlock) {
  constexpr int kBlocks = 2048;
  auto f = T::prim_func("last_block_releases", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(kBlocks, T::threads(32), [&](T::Expr bx) {
      T::If(bx == kBlocks - 1, [&] {
        T::If(T::get_thread_binding() == 0, [&] { T::st(flag(0), 1, T::MemScope::GPU, T::MemSem::Release); });
      }).Else([&] { T::wait_eq(flag(0), 1); });
    });
  });
  BusyThreads busy(8);
  Tensor flag = Tensor::zeros({1}, DataType::Int32);
  cpu(f)(flag);
  EXPECT_EQ(flag.get_flat(0), 1);
}

// Every distributed example on 4 and 8 ranks (cannon and summa, which need a square mesh, on 4
// and 9), round after round beside 8 busy threads for about 20 s (at least one whole round): no
// run may report a deadlock, or fail in any other way. The sizes give each kernel that waits many
// blocks with little work each (32 to 128 per rank), since a long grid of block threads starting
// on a busy machine is what the old watchdog mistook for a deadlock: it failed this test within
// seconds. reduce_scatter (which does not wait) and cannon and summa (one block) keep their test
// sizes.
TEST(DistStress, EveryExampleOnFourAndEightRanksReportsNoDeadlockOnABusyMachine) {
  const std::map<std::string, examples::Sizes> many_blocks = {
      {"simple_shift", {{"M", 1024}, {"N", 8}}},
      {"allgather_push", {{"M", 256}, {"N", 8}}},
      {"allgather_pull", {{"M", 256}, {"N", 8}}},
      {"all_to_all", {{"T", 256}, {"H", 16}, {"E", 16}, {"K", 2}}},
      {"pre_attn_all2all", {{"B", 2}, {"H", 32}, {"S", 16}, {"D", 16}}},
      {"pre_attn_all2all_transpose", {{"B", 2}, {"H", 32}, {"S", 16}, {"D", 16}}},
      {"post_attn_all2all_transpose", {{"B", 2}, {"H", 32}, {"S", 16}, {"D", 16}}},
      {"allgather_gemm", {{"M", 128}, {"N", 128}, {"K", 32}}},
      {"gemm_rs", {{"M", 256}, {"N", 128}, {"K", 32}}},
      {"allreduce", {{"M", 256}, {"N", 8}}},
  };
  struct Case {
    const examples::DistributedExample* example;
    int ranks;
    examples::Sizes sizes;
  };
  std::vector<Case> cases;
  for (const auto& ex : examples::distributed_examples()) {
    const bool mesh = ex.name == "cannon" || ex.name == "summa";
    for (int ranks : {4, mesh ? 9 : 8}) {
      examples::Sizes sizes = many_blocks.count(ex.name) ? many_blocks.at(ex.name) : ex.test_sizes;
      if (ranks == 9) sizes = {{"M", 96}, {"N", 96}, {"K", 96}};
      ASSERT_EQ(ex.unsupported(sizes, ranks), "") << ex.name << " with " << ranks << " ranks";
      cases.push_back({&ex, ranks, sizes});
    }
  }
  BusyThreads busy(8);
  const auto start = Clock::now();
  int runs = 0;
  for (int round = 0; round == 0 || Clock::now() - start < std::chrono::seconds(20); ++round)
    for (const Case& c : cases) {
      if (round > 0 && Clock::now() - start > std::chrono::seconds(20)) break;
      const auto r = examples::run_distributed_example(c.example->name, dist::World::sim(c.ranks), c.sizes, round + 1);
      ASSERT_TRUE(r.passed()) << c.example->name << " with " << c.ranks << " ranks, round " << round;
      ++runs;
    }
  std::printf("%d runs of %zu cases in %.1f s\n", runs, cases.size(),
              std::chrono::duration<double>(Clock::now() - start).count());
}

// A real deadlock is still reported on a busy machine, naming who waits on what: rank r's block
// waits for a flag that rank r + 1 never sets, while rank r + 1's blocks wait for their own.
TEST(DistStress, ARealDeadlockIsReportedOnABusyMachine) {
  auto f = T::prim_func("ring_never_signalled", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(4, T::threads(32), [&](T::Expr bx) { T::wait_eq(flag(0), 1, (T::get_rank() + bx) % T::get_num_ranks()); });
  });
  Kernel k = cpu(f);
  BusyThreads busy(8);
  EXPECT_RUNTIME_ERROR(dist::World::sim(8).run([&](dist::Rank& r) { k(r.heap().zeros({1}, DataType::Int32)); }),
                       "deadlock: every thread of the simulated run (8 ranks) is waiting",
                       "rank 7, block (3, 0, 0): T::wait_eq on flag[0] on rank 2 (address 0x",
                       "in kernel ring_never_signalled, rank 7, block (3, 0, 0) (every thread of the block): expected a "
                       "value == 1, observed 0");
}

// Issue 12: `tilescale run allgather_push --ranks 4` (the README's command) reported a deadlock
// that was not there, 1 run in 8 on an idle machine and most runs on a busy one. This runs the
// same program 200 times in a row in this process (what the command does, without starting a
// process each time) beside busy threads: the launch shape of its default sizes (M = 512, so 32
// x 4 blocks per rank, each waiting for its peer's 32) with N = 64 columns instead of 1024, which
// only shortens each block's copy (the old watchdog failed this size at least as often: 5 runs
// of 37 beside 8 busy processes, against 1 of 12 at N = 1024). Every run must pass.
TEST(DistStress, AllgatherPushOnFourRanksPasses200RunsInARowOnABusyMachine) {
  const examples::Sizes sizes = {{"M", 512}, {"N", 64}};
  BusyThreads busy(4);
  const auto start = Clock::now();
  for (int run = 0; run < 200; ++run) {
    const auto r = examples::run_distributed_example("allgather_push", dist::World::sim(4), sizes, run + 1);
    ASSERT_TRUE(r.passed()) << "run " << run << ": max relative error " << r.max_relative_error;
  }
  std::printf("200 runs in %.1f s\n", std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace
}  // namespace tilescale::test
