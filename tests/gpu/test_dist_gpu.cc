// Distributed programs on the GPU transports (issue 13): the ranks of an ipc world (one process
// each, sharing this machine's GPU, under `tilescale launch`) and of a local world (one process),
// run by tests/cli/probe/dist_probe.cc in child processes, because a failed kernel leaves its
// process's CUDA context unusable.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "distributed/distributed_example.h"
#include "run_command.h"
#include "test_util.h"
#include "tilescale/tilescale.h"
#include "skips.h"

namespace tilescale {
namespace {

using testing::CommandResult;

CommandResult launch(int ranks, const std::string& probe, const std::string& env = "") {
  return testing::run_command(env + " '" TILESCALE_CLI "' launch -n " + std::to_string(ranks) + " '" DIST_PROBE "' " + probe);
}
CommandResult local(int ranks, const std::string& probe, const std::string& env = "") {
  return testing::run_command(env + " '" DIST_PROBE "' " + probe + " --local " + std::to_string(ranks));
}


// The address a probe printed after `marker` ("rank 0: flag at 0x7f..").
std::string printed_address(const std::string& output, const std::string& marker) {
  const std::size_t at = output.find(marker);
  if (at == std::string::npos) return "(not printed)";
  const std::size_t start = at + marker.size();
  return output.substr(start, output.find_first_of(" \n", start) - start);
}

TEST(GpuWorlds, EveryRankPutsIntoTheNextOnIpcAndLocal) {
  SKIP_WITHOUT_GPU();
  for (int ranks : {2, 4}) {
    const CommandResult ipc = launch(ranks, "shift");
    EXPECT_EXIT_WITH(ipc, 0, "ipc world of " + std::to_string(ranks) + " ranks", "rank 0: shift ok",
                     "rank " + std::to_string(ranks - 1) + ": shift ok");
    const CommandResult one = local(ranks, "shift");
    EXPECT_EXIT_WITH(one, 0, "local world of " + std::to_string(ranks) + " ranks", "rank 0: shift ok",
                     "rank " + std::to_string(ranks - 1) + ": shift ok");
  }
}

// NVSHMEM's PEs (World::from_env with TILESCALE_TRANSPORT=nvshmem): the heap from nvshmem_malloc,
// the peers reached through nvshmem_ptr.
TEST(GpuWorlds, EveryPePutsIntoTheNextOnNvshmem) {
  SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_NVSHMEM();
  for (int ranks : {1, 2}) {
    const CommandResult r = launch(ranks, "shift", "TILESCALE_TRANSPORT=nvshmem");
    EXPECT_EXIT_WITH(r, 0, "nvshmem world of " + std::to_string(ranks) + " ranks", "rank 0: shift ok",
                     "rank " + std::to_string(ranks - 1) + ": shift ok");
  }
}

TEST(GpuWorlds, LegacyCudaIpcHandlesWhereVmmIsNotUsed) {
  SKIP_WITHOUT_GPU();
  EXPECT_EXIT_WITH(launch(2, "shift", "TILESCALE_IPC_HANDLES=legacy"), 0, "rank 0: shift ok", "rank 1: shift ok");
}

TEST(GpuWorlds, AllocationMismatchIsReportedOnEveryRank) {
  SKIP_WITHOUT_GPU();
  const std::string what = "cannot make symmetric allocation #0 because the ranks asked for different things: rank 0 "
                           "asked for int32[8] (32 bytes), rank 1 asked for int32[9] (36 bytes), rank 2 asked for "
                           "int32[8] (32 bytes)";
  const CommandResult ipc = launch(3, "mismatch");
  EXPECT_EXIT_WITH(ipc, 1, "[rank 0] error: " + what, "[rank 1] error: " + what, "[rank 2] error: " + what);
  EXPECT_EXIT_WITH(local(3, "mismatch"), 1, "error: " + what);
}

CommandResult every_rank(int ranks, const std::string& probe) { return testing::run_every_rank(ranks, "\"" DIST_PROBE "\" " + probe); }

TEST(GpuWorlds, SetupErrorOnOneRankIsRaisedOnEveryRank) {
  SKIP_WITHOUT_GPU();
  const CommandResult oom = every_rank(3, "oom");
  for (int r = 0; r < 3; ++r)
    EXPECT_EXIT_WITH(oom, 0, "[rank " + std::to_string(r) + "] error: cannot set up the ipc world (heaps) because a rank failed: rank 1: ",
                     "out of memory");
  const CommandResult sizes = every_rank(2, "sizes");
  for (int r = 0; r < 2; ++r)
    EXPECT_EXIT_WITH(sizes, 0, "[rank " + std::to_string(r) + "] error: cannot set up the ipc world because the ranks asked for "
                               "symmetric heaps of different sizes (rank 0 268435456, rank 1 67108864 bytes); give every rank the same WorldOptions::heap_bytes");
}

TEST(GpuWorlds, LocalRankThatThrowsStopsTheKernelsWaitingForIt) {
  SKIP_WITHOUT_GPU();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT_WITH(local(2, "abandon"), 1, "error: rank 1 gives up before setting rank 0's flag");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(GpuWorlds, PlantedHangIsReportedWithRankAndAddress) {
  SKIP_WITHOUT_GPU();
  for (const bool on_ipc : {true, false}) {
    const auto start = std::chrono::steady_clock::now();
    const CommandResult r = on_ipc ? launch(2, "hang", "TILESCALE_WAIT_TIMEOUT_MS=300") : local(2, "hang", "TILESCALE_WAIT_TIMEOUT_MS=300");
    const std::string flag = printed_address(r.output, "rank 0: flag at ");
    EXPECT_EXIT_WITH(r, 1, "rank 0: block (0, 0, 0) thread", "in T::wait_eq on address " + flag + ": expected 1, observed 0");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60)) << r.output;
  }
}

TEST(GpuWorlds, LaunchStopsTheOthersWhenARankDiesAndNamesIt) {
  SKIP_WITHOUT_GPU();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT_WITH(launch(3, "die"), 1, "rank 1 of 3", "signal 9");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(GpuWorlds, DistributedKernelCalledOutsideAWorldSaysWhereToCallIt) {
  SKIP_WITHOUT_GPU();
  namespace T = tilescale::lang;
  auto f = T::prim_func("outside", [] {
    auto flag = T::Tensor("flag", {4}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::st(flag(0), T::get_rank(), T::MemScope::GPU, T::MemSem::Relaxed); });
  });
  const Kernel k = compile(f, Target::CUDA);
  const Tensor flag = Tensor::zeros({4}, DataType::Int32, Device::cuda());
  EXPECT_RUNTIME_ERROR(k(flag), "cannot call distributed kernel outside here because it runs as a rank of a GPU world; call it "
                                "from the code that World::run runs for each rank of a local, ipc or nvshmem world");
}

// Every distributed example against its host reference on the GPU, with 2 and 4 ranks, on local
// (one process) and on ipc (one process per rank under tilescale launch, sharing the GPU), and with
// 1 and 2 PEs on nvshmem (4 for the mesh examples; kernels compiled for target nvshmem:
// NVSHMEM-level builtins call NVSHMEM).
struct ExampleRun {
  std::string example;
  int ranks;
  std::string transport;
};

class DistributedExamplesOnGpu : public ::testing::TestWithParam<ExampleRun> {};

TEST_P(DistributedExamplesOnGpu, PassAgainstTheHostReference) {
  SKIP_WITHOUT_GPU();
  const ExampleRun& run = GetParam();
  if (run.transport == "nvshmem") SKIP_WITHOUT_NVSHMEM();
  const CommandResult r = testing::run_command("'" TILESCALE_CLI "' run " + run.example + " --ranks " + std::to_string(run.ranks) +
                                               " --transport " + run.transport);
  EXPECT_EXIT_WITH(r, 0, "on " + run.transport + " with " + std::to_string(run.ranks) + " ranks", "PASS");
}

std::vector<ExampleRun> example_runs() {
  std::vector<ExampleRun> runs;
  for (const auto& e : examples::distributed_examples()) {
    for (int ranks : {2, 4})
      if (e.unsupported(e.default_sizes, ranks).empty())
        for (const char* transport : {"local", "ipc"}) runs.push_back({e.name, ranks, transport});
    bool on_nvshmem = false;
    for (int ranks : {1, 2})
      if (e.unsupported(e.default_sizes, ranks).empty()) runs.push_back({e.name, ranks, "nvshmem"}), on_nvshmem = true;
    // The mesh examples (cannon, summa) need a square number of ranks: 4 PEs.
    if (!on_nvshmem && e.unsupported(e.default_sizes, 4).empty()) runs.push_back({e.name, 4, "nvshmem"});
  }
  return runs;
}

INSTANTIATE_TEST_SUITE_P(All, DistributedExamplesOnGpu, ::testing::ValuesIn(example_runs()),
                         [](const ::testing::TestParamInfo<ExampleRun>& info) {
                           return info.param.example + "_" + std::to_string(info.param.ranks) + "_ranks_" + info.param.transport;
                         });

}  // namespace
}  // namespace tilescale
