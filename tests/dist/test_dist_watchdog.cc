// The sim transport's deadlock watchdog reports only real deadlocks: never a block that has not
// started yet, a rank's host code joining its blocks, or a machine that is merely slow. The runs
// here happen beside busy threads (more of them than the machine has cores), which is when a
// watchdog that mistakes slowness for a deadlock shows itself.
#include <atomic>
#include <chrono>
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

}  // namespace
}  // namespace tilescale::test
