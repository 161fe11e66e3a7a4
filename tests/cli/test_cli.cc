// The `tilescale` program as a user runs it: exit codes (0 success, 1 an error in the program or
// its run, 2 a bad command line, 3 an internal error) and messages, never a crash.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "run_command.h"
#include "tilescale/runtime.h"
#include "skips.h"

namespace {

using Result = tilescale::testing::CommandResult;

// Runs `tilescale <args>` through the shell (args are shell words), with `env` (VAR=value ...)
// before it.
Result run_cli(const std::string& args, const std::string& env = "") {
  return tilescale::testing::run_command(env + " '" TILESCALE_CLI "' " + args);
}


}  // namespace


// ------------------------------------------------------------------------------------------------
// Sizes: every value is checked, never wrapped or saturated into a short buffer (issue 12, item 5)

TEST(CliSizes, ValueBeyond64BitsIsABadCommandLine) {
  EXPECT_EXIT_WITH(run_cli("run gemm --target cpu --size M=99999999999999999999999"), 2,
                   "cannot parse sizes", "99999999999999999999999", "does not fit in 64 bits");
}

TEST(CliSizes, SizeWhoseBytesOverflowIsAnErrorNotACrash) {
  EXPECT_EXIT_WITH(run_cli("run gemm --target cpu --size M=9223372036854775807"), 1, "cannot create T::Tensor A",
                   "9223372036854775807", "exceeds 2^63-1");
  EXPECT_EXIT_WITH(run_cli("dump elementwise_add --size 9223372036854775807"), 1, "exceeds 2^63-1");
}

TEST(CliSizes, SizeGivenTwiceIsRefused) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --size M=64,M=128"), 2, "sets M more than once");
}

TEST(CliSizes, SeedBeyond64BitsIsRefused) {
  EXPECT_EXIT_WITH(run_cli("run elementwise_add --target cpu --seed 99999999999999999999999"), 2, "--seed");
}

// ------------------------------------------------------------------------------------------------
// Failures of the environment are errors with context, exit 1, not aborts (issue 12, item 6)

TEST(CliEnvironment, UnwritableDumpDirectoryIsAnError) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --after simplify", "TILESCALE_DUMP_IR=/proc/nonexistent/x"), 1,
                   "cannot write the IR of gemm", "/proc/nonexistent/x", "TILESCALE_DUMP_IR");
}

TEST(CliEnvironment, JunkSwitchValueIsRefused) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --arch sm_90a", "TILESCALE_TMA=flase"), 1, "TILESCALE_TMA=flase",
                   "1 or 0");
  // The spellings a switch understands are honoured: false is off, so no TMA descriptors.
  const Result off = run_cli("dump gemm --cuda --arch sm_90a", "TILESCALE_TMA=false");
  ASSERT_EQ(off.status, 0) << off.output;
  EXPECT_EQ(off.output.find("TmaDescriptor"), std::string::npos);
  const Result on = run_cli("dump gemm --cuda --arch sm_90a", "TILESCALE_TMA=1");
  ASSERT_EQ(on.status, 0) << on.output;
  EXPECT_NE(on.output.find("TmaDescriptor"), std::string::npos);
}

// ------------------------------------------------------------------------------------------------
// Flags that would be silently ignored, and architectures, are refused (issue 12, item 6)

TEST(CliFlags, DumpFlagsThatHaveNoEffectAreRefused) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --ptx"), 2, "--cuda and --ptx");
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --after simplify"), 2, "--cuda prints the generated code", "drop --after");
  EXPECT_EXIT_WITH(run_cli("dump gemm --ptx --target cuda"), 2, "--ptx always generates CUDA", "drop --target");
  EXPECT_EXIT_WITH(run_cli("dump gemm --target cuda"), 2, "without --after", "drop --target");
  EXPECT_EXIT_WITH(run_cli("dump gemm --arch sm_80"), 2, "--arch applies to");
  EXPECT_EXIT_WITH(run_cli("dump gemm --after simplify --target cpu --arch sm_80"), 2, "--arch applies to");
  EXPECT_EXIT_WITH(run_cli("dump allgather_push --cuda --target cpu"), 2, "drop --target");
}

TEST(CliFlags, ArchNewerThanSupportedSaysSo) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --arch sm_100a"), 2, "sm_100a", "newer than", "sm_90a");
  const Result r = run_cli("dump gemm --cuda --arch sm_100a");
  EXPECT_EQ(r.output.find("sm_80 or newer"), std::string::npos) << r.output;
}

TEST(CliFlags, ArchThatDoesNotExistIsRefusedNotTruncated) {
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --arch sm_999"), 2, "sm_999", "no CUDA architecture");
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --arch sm_86a"), 2, "sm_86a", "use sm_86");
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --arch sm_7"), 2, "sm_7", "form sm_XX");
}

// ------------------------------------------------------------------------------------------------
// The thread-level decisions are visible (ops/thread_level.h)

TEST(CliDump, ThreadLevelMarksDivergingAndPerThreadStatements) {
  const Result r = run_cli("dump allgather_push --thread-level");
  EXPECT_EXIT_WITH(r, 0, "if tx == 0:  # diverges",
                   "old[0] = T.atom_add(arrived[T.get_rank()], 1, by, scope=\"sys\", sem=\"release\")  # per thread");
  EXPECT_EXIT_WITH(run_cli("dump gemm --cuda --thread-level"), 2, "--thread-level marks the IR");
}

// ------------------------------------------------------------------------------------------------
// tilescale launch: N processes as the ranks of one run (tools/launch.h)

TEST(CliLaunch, SetsTheRankEnvironmentAndPrefixesOutput) {
  const Result r = run_cli(
      "launch -n 3 sh -c 'echo rank $RANK of $WORLD_SIZE local $LOCAL_RANK/$LOCAL_WORLD_SIZE at $MASTER_ADDR; echo to-stderr >&2'",
      "MASTER_PORT=29555");
  EXPECT_EXIT_WITH(r, 0, "[rank 0] rank 0 of 3 local 0/3 at 127.0.0.1", "[rank 1] rank 1 of 3 local 1/3",
                   "[rank 2] rank 2 of 3 local 2/3", "[rank 2] to-stderr");
  EXPECT_EXIT_WITH(run_cli("launch -n 2 sh -c 'echo port $MASTER_PORT'", "MASTER_PORT=29555"), 0, "[rank 1] port 29555");
  EXPECT_EXIT_WITH(run_cli("launch echo hi --help", "GPUS=2"), 0, "[rank 0] hi --help", "[rank 1] hi --help");
}

TEST(CliLaunch, AFailingRankStopsTheOthersAndIsNamed) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT_WITH(run_cli("launch -n 3 sh -c 'if [ \"$RANK\" = 1 ]; then echo boom >&2; exit 3; fi; sleep 60'"), 1,
                   "error: rank 1 of 3 failed (exit status 3; its last output: \"boom\")",
                   "the ranks still running were stopped");
  // A rank that ignores SIGTERM is killed after the grace period.
  EXPECT_EXIT_WITH(run_cli("launch -n 2 sh -c 'trap \"\" TERM; if [ \"$RANK\" = 1 ]; then exit 5; fi; sleep 60'"), 1,
                   "rank 1 of 2 failed (exit status 5)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(CliLaunch, ARankKilledOrThatCannotStartIsNamed) {
  EXPECT_EXIT_WITH(run_cli("launch -n 2 sh -c 'if [ \"$RANK\" = 0 ]; then kill -9 $$; fi; sleep 60'"), 1,
                   "rank 0 of 2 failed (killed by signal 9");
  EXPECT_EXIT_WITH(run_cli("launch -n 2 /nonexistent/program"), 1, "failed (exit status 127",
                   "cannot run '/nonexistent/program': No such file or directory");
}

// A rank that leaves a process behind holding its output open does not keep the launcher waiting.
TEST(CliLaunch, DoesNotWaitForWhatARankLeftBehind) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT_WITH(run_cli("launch -n 2 sh -c '(sleep 30 &) ; echo started'"), 0, "[rank 0] started", "[rank 1] started");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(CliLaunch, BadCommandLines) {
  EXPECT_EXIT_WITH(run_cli("launch true", "env -u GPUS"), 2, "launch needs the number of ranks", "GPUS=N");
  EXPECT_EXIT_WITH(run_cli("launch -n 0 true"), 2, "number of ranks from 1 to 64, not '0'");
  EXPECT_EXIT_WITH(run_cli("launch -n 2"), 2, "launch needs a program to run");
  EXPECT_EXIT_WITH(run_cli("launch -n 2 true", "MASTER_PORT=http"), 1, "MASTER_PORT=http", "from 1 to 65535");
}

// The launcher, the launch environment and the rendezvous store together, across processes: every
// rank gathers every rank's greeting; a rank that fails before the rendezvous stops the run instead
// of leaving the others waiting.
TEST(CliLaunch, RanksMeetAtTheRendezvousAcrossProcesses) {
  const Result r = run_cli("launch -n 4 '" RENDEZVOUS_PROBE "'");
  for (int rank = 0; rank < 4; ++rank)
    EXPECT_EXIT_WITH(r, 0, "[rank " + std::to_string(rank) + "] rank " + std::to_string(rank) +
                               " of 4 gathered: hello from 0, hello from 1, hello from 2, hello from 3");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT_WITH(run_cli("launch -n 4 '" RENDEZVOUS_PROBE "'", "PROBE_FAIL_RANK=2"), 1,
                   "rank 2 of 4 failed (exit status 3; its last output: \"failing on purpose\")");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

// Issue 13, item 5: four ranks that compile the same kernel at the same moment run NVRTC once; the
// other three wait for the cache entry it writes and load it (cache hits), all the same binary.
TEST(CliLaunch, RanksCompilingTheSameKernelRunTheCompilerOnce) {
  SKIP_WITHOUT_NVRTC();
  std::string dir = (std::filesystem::temp_directory_path() / "tilescale-test-compile-once-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const Result r = run_cli("launch -n 4 '" COMPILE_ONCE_PROBE "'",
                             "env -u TILESCALE_CACHE -u TILESCALE_JIT TILESCALE_CACHE_DIR='" + dir + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  int hits = 0, misses = 0;
  std::set<std::string> cubins;
  for (std::size_t at = 0; (at = r.output.find(": cache ", at)) != std::string::npos; ++at) {
    const std::string outcome = r.output.substr(at + 8, 4);
    hits += outcome == "hit,";
    misses += outcome == "miss";
    const std::size_t cubin = r.output.find("cubin ", at) + 6;
    cubins.insert(r.output.substr(cubin, r.output.find('\n', cubin) - cubin));
  }
  EXPECT_EQ(misses, 1) << r.output;
  EXPECT_EQ(hits, 3) << r.output;
  EXPECT_EQ(cubins.size(), 1u) << r.output;
  // The entry is all that is left in the cache: no lock file, no temporary file.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(dir) / "kernels")) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".cubin") << e.path();
  }
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

// Issue 13, item 3: `launch --gpus G` gives rank r the GPU r % G of the launcher's visible ones.
TEST(CliLaunch, GpusGiveEachRankOneOfTheVisibleDevices) {
  const Result r = run_cli("launch -n 3 --gpus 2 sh -c 'echo visible=$CUDA_VISIBLE_DEVICES'", "CUDA_VISIBLE_DEVICES=3,5");
  EXPECT_EXIT_WITH(r, 0, "[rank 0] visible=3", "[rank 1] visible=5", "[rank 2] visible=3");
  EXPECT_EXIT_WITH(run_cli("launch -n 2 --gpus 2 sh -c 'echo visible=$CUDA_VISIBLE_DEVICES'", "env -u CUDA_VISIBLE_DEVICES"), 0,
                   "[rank 0] visible=0", "[rank 1] visible=1");
  EXPECT_EXIT_WITH(run_cli("launch -n 2 --gpus 3 true", "CUDA_VISIBLE_DEVICES=3,5"), 2,
                   "--gpus wants a number of GPUs from 1 to 2 (the entries of CUDA_VISIBLE_DEVICES=3,5), not '3'");
}

// Issue 13, item 3: the transport of a distributed example's run, and what does not fit together.
TEST(CliTransport, DistributedExamplesPickTheirTransport) {
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --target cpu"), 0, "on sim with 2 ranks", "PASS");
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --transport warp"), 2,
                   "unknown transport 'warp'; transports: sim, local, ipc, nvshmem");
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --transport sim --target cuda"), 2,
                   "the sim transport runs simple_shift on the CPU backend; use --target cpu (or auto) with it, or "
                   "--transport local, ipc or nvshmem");
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --transport ipc --target cpu"), 2,
                   "the ipc transport runs simple_shift on GPUs; use --target cuda (or auto) with it, or --transport sim");
  EXPECT_EXIT_WITH(run_cli("run gemm --transport local"), 2,
                   "--transport applies to distributed examples; gemm runs on one device");
  // Issue 14, item 5: kernels that call NVSHMEM run on the nvshmem transport only.
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --transport local --target nvshmem"), 2,
                   "--target nvshmem makes kernels that call NVSHMEM, which run on the nvshmem transport only; use "
                   "--transport nvshmem (or drop it)");
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --transport nvshmem --target cuda"), 2,
                   "the nvshmem transport compiles simple_shift for target nvshmem; use --target nvshmem (or auto) with it");
  EXPECT_EXIT_WITH(run_cli("run simple_shift --ranks 2 --target tpu"), 2, "unknown target 'tpu'; targets: auto, cpu, cuda, nvshmem");
}

TEST(CliTransport, GpuTransportWithoutAGpuSaysWhy) {
  if (tilescale::why_not_cuda().empty()) GTEST_SKIP() << "a CUDA device is present";
  for (const char* transport : {"local", "ipc", "nvshmem"})
    EXPECT_EXIT_WITH(run_cli(std::string("run simple_shift --ranks 2 --transport ") + transport), 2,
                     std::string("cannot run simple_shift on the ") + transport + " transport because ",
                     "; use --target cpu (the sim transport)");
}

// Issue 13, item 4: a setup error of the ipc transport (here: no GPU on this machine) reaches every
// rank through the rendezvous, none waits for the others: each says which ranks failed and why.
TEST(CliTransport, IpcSetupErrorReachesEveryRank) {
  if (tilescale::why_not_cuda().empty()) GTEST_SKIP() << "a CUDA device is present (tests/gpu checks setup errors there)";
  const auto start = std::chrono::steady_clock::now();
  const Result r = tilescale::testing::run_every_rank(3, "'" DIST_PROBE "' shift");
  for (int rank = 0; rank < 3; ++rank)
    EXPECT_EXIT_WITH(r, 0, "[rank " + std::to_string(rank) + "] error: cannot set up the ipc world (heaps) because ranks failed: "
                           "rank 0: no CUDA device: ", "; rank 2: no CUDA device: ");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// Issue 14, item 2: the nvshmem transport's setup error (no NVSHMEM, or no GPU) reaches every rank.
TEST(CliTransport, NvshmemSetupErrorReachesEveryRank) {
  if (tilescale::why_not_cuda().empty()) GTEST_SKIP() << "a CUDA device is present (tests/gpu runs the nvshmem transport there)";
  const Result missing = tilescale::testing::run_every_rank(
      2, "TILESCALE_TRANSPORT=nvshmem NVSHMEM_HOME=/nonexistent/nvshmem '" DIST_PROBE "' shift");
  for (int rank = 0; rank < 2; ++rank)
    EXPECT_EXIT_WITH(missing, 0, "[rank " + std::to_string(rank) + "] error: cannot set up the nvshmem world (device) because "
                                 "ranks failed: rank 0: cannot load NVSHMEM's host library because NVSHMEM_HOME=/nonexistent/nvshmem "
                                 "does not exist");
  const Result bogus = tilescale::testing::run_every_rank(1, "TILESCALE_TRANSPORT=mpi '" DIST_PROBE "' shift");
  EXPECT_EXIT_WITH(bogus, 0, "error: cannot create a world from the environment with TILESCALE_TRANSPORT=mpi because "
                             "World::from_env makes ipc or nvshmem worlds; set it to ipc or nvshmem, or unset it");
}

// ------------------------------------------------------------------------------------------------
// tilescale doctor: what this machine offers and why, one line each (issue 14, item 1)

TEST(CliDoctor, PrintsTheCudaDriverNvrtcAndNvshmemOneLineEach) {
  const Result r = run_cli("doctor");
  EXPECT_EXIT_WITH(r, 0, "\nNVRTC: ", "\nNVSHMEM: ");
  EXPECT_EQ(r.output.rfind("CUDA: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3) << r.output;
}

TEST(CliDoctor, SaysWhyNvshmemIsNotUsable) {
  EXPECT_EXIT_WITH(run_cli("doctor", "NVSHMEM_HOME=/nonexistent/nvshmem"), 0,
                   "\nNVSHMEM: not found: NVSHMEM_HOME=/nonexistent/nvshmem does not exist; point NVSHMEM_HOME at an "
                   "NVSHMEM installation");
}

TEST(CliDoctor, TakesNoArguments) {
  EXPECT_EXIT_WITH(run_cli("doctor gemm"), 2, "'doctor' takes no arguments");
}

// Issue 14, item 5: `dump --ptx` works for the examples that use NVSHMEM-level operators (they
// lower to tilescale's own device code, so NVRTC needs no NVSHMEM headers).
TEST(CliDump, PtxOfEveryDistributedExample) {
  SKIP_WITHOUT_NVRTC();
  for (const char* example : {"simple_shift", "allgather_pull", "all_to_all", "summa"}) {
    const Result r = run_cli(std::string("dump ") + example + " --ptx --arch sm_90a --ranks 4");
    EXPECT_EXIT_WITH(r, 0, ".entry", ".target sm_90a");
  }
}

// Issue 14, item 5: the target each kernel takes, why, and how it is built, without a GPU.
TEST(CliDump, InfoSaysTheTargetWhyAndHow) {
  const Result dist = run_cli("dump simple_shift --info --target nvshmem --arch sm_90a");
  EXPECT_EXIT_WITH(dist, 0, "simple_shift: nvshmem: asked for; ",
                   "(relocatable, against tilescale's NVSHMEM wrappers) + nvJitLink with NVSHMEM", "device library for sm_90a, nvshmemx_cumodule_init when loaded");
  EXPECT_EXIT_WITH(run_cli("dump simple_shift --info --target cuda --arch sm_80"), 0, "simple_shift: cuda: asked for; NVRTC for sm_80");
  EXPECT_EXIT_WITH(run_cli("dump allgather_push --info --target nvshmem --arch sm_90a --ranks 2"), 0,
                   "nvshmem: asked for; NVRTC for sm_90a (it has no NVSHMEM-level builtins: nothing to link)");
  EXPECT_EXIT_WITH(run_cli("dump simple_shift --info"), 0,
                   "simple_shift: cpu: auto chose it (a distributed kernel compiled outside World::run of a GPU world");
  EXPECT_EXIT_WITH(run_cli("dump gemm --info", "TILESCALE_TARGET=cpu"), 0, "gemm: cpu: TILESCALE_TARGET=cpu; the CPU backend");
  EXPECT_EXIT_WITH(run_cli("dump gemm --info", "TILESCALE_TARGET=gpu"), 1,
                   "error: cannot use TILESCALE_TARGET=gpu because it is not a target; use cpu, cuda or nvshmem, or unset "
                   "it to let auto choose");
  EXPECT_EXIT_WITH(run_cli("dump gemm --info --cuda"), 2, "--info says how each kernel is compiled; --cuda prints something else");
}

// The distributed benchmarks refuse the single-GPU benchmarks' flags instead of ignoring them.
TEST(CliBench, DistributedBenchmarksRefuseSingleGpuFlags) {
  const Result r = run_cli("bench allgather --compile");
  if (r.output.find("unknown command 'bench'") != std::string::npos) GTEST_SKIP() << "built without the benchmarks (no cuBLAS)";
  EXPECT_EXIT_WITH(r, 1, "bench: allgather takes --ranks, --size and --quick; --compile and --knobs apply to the single-GPU benchmarks");
  EXPECT_EXIT_WITH(run_cli("bench cannon --knobs BM=64"), 1, "bench: cannon takes --ranks, --size and --quick");
}

// The tf32/int8 benchmark has fixed shapes and tiles: --knobs, --size and --compile are refused.
TEST(CliBench, GemmTypesTakesQuickOnly) {
  const Result r = run_cli("bench gemm_types --knobs BM=64");
  if (r.output.find("unknown command 'bench'") != std::string::npos) GTEST_SKIP() << "built without the benchmarks (no cuBLAS)";
  EXPECT_EXIT_WITH(r, 1, "bench: gemm_types takes --quick only (its shapes and tiles are fixed");
  EXPECT_EXIT_WITH(run_cli("bench gemm_types --size M=64"), 1, "bench: gemm_types takes --quick only");
  EXPECT_EXIT_WITH(run_cli("bench gemm_types --compile"), 1, "bench: gemm_types takes --quick only");
}
