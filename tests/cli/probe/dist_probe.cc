// The ranks of a GPU world, as a user's program runs them (tests/gpu/test_dist_gpu.cc): under
// `tilescale launch -n N` each process is one rank of an ipc world (World::from_env); with
// `--local N` one process runs N ranks of a local world. What the ranks do is the first argument:
//   shift     every rank puts its float32[1000] into the next rank's buffer (put_block); each checks
//             what it received and prints "rank r: shift ok"
//   mismatch  rank 1 allocates int32[9] where the others allocate int32[8]
//   hang      rank 0 waits for a flag nobody sets (give it TILESCALE_WAIT_TIMEOUT_MS); it prints the
//             flag's address first
//   die       rank 1 kills itself (SIGKILL) once the world is set up; the others wait at a barrier
//   abandon   rank 0's kernel waits for a flag that rank 1 would set, but rank 1 throws instead
//   oom       rank 1 asks for a 1 PiB heap (the world cannot be set up; every rank must say so)
//   sizes     rank 1 asks for a 64 MiB heap, the others for the default
// Errors are printed ("error: ...") and make the exit status 1.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/dist/launch_env.h"
#include "tilescale/tilescale.h"

namespace ts = tilescale;
namespace T = tilescale::lang;

namespace {

constexpr std::int64_t kElements = 1000;

T::PrimFunc shift_program() {
  return T::prim_func("probe_shift", [] {
    auto src = T::Tensor("src", {kElements}, T::float32);
    auto dst = T::Tensor("dst", {kElements}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      T::put_block(src(0), dst(0), kElements, (T::get_rank() + 1) % T::get_num_ranks());
    });
  });
}

T::PrimFunc hang_program() {
  return T::prim_func("probe_hang", [] {
    auto flag = T::Tensor("flag", {4}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 1); });
  });
}

void shift(const ts::dist::World& world) {
  const ts::Kernel k = ts::compile(shift_program(), world.target());
  world.run([&](ts::dist::Rank& rank) {
    const int r = rank.rank(), n = rank.size();
    ts::Tensor host = ts::Tensor::empty({kElements}, ts::DataType::Float32);
    for (std::int64_t i = 0; i < kElements; ++i) host.set({i}, 1000.0 * r + static_cast<double>(i));
    ts::Tensor src = rank.heap().empty({kElements}, ts::DataType::Float32);
    ts::Tensor dst = rank.heap().zeros({kElements}, ts::DataType::Float32);
    src.copy_from(host);
    rank.barrier();
    k(src, dst);
    rank.barrier();
    const ts::Tensor got = dst.to(ts::Device::cpu());
    const int from = (r + n - 1) % n;
    for (std::int64_t i = 0; i < kElements; ++i)
      if (got.get({i}) != 1000.0 * from + static_cast<double>(i))
        throw ts::RuntimeError("rank " + std::to_string(r) + ": element " + std::to_string(i) + " is " +
                               std::to_string(got.get({i})) + ", not rank " + std::to_string(from) + "'s");
    std::printf("rank %d: shift ok\n", r);
  });
}

void mismatch(const ts::dist::World& world) {
  world.run([&](ts::dist::Rank& rank) { rank.heap().empty({rank.rank() == 1 ? 9 : 8}, ts::DataType::Int32); });
}

void hang(const ts::dist::World& world) {
  const ts::Kernel k = ts::compile(hang_program(), world.target());
  world.run([&](ts::dist::Rank& rank) {
    ts::Tensor flag = rank.heap().zeros({4}, ts::DataType::Int32);
    rank.barrier();
    if (rank.rank() != 0) return;
    std::printf("rank 0: flag at %p\n", flag.data());
    std::fflush(stdout);
    k(flag);
    rank.barrier();
  });
}

void abandon(const ts::dist::World& world) {
  const ts::Kernel k = ts::compile(hang_program(), world.target());
  world.run([&](ts::dist::Rank& rank) {
    ts::Tensor flag = rank.heap().zeros({4}, ts::DataType::Int32);
    rank.barrier();
    if (rank.rank() == 1) throw ts::RuntimeError("rank 1 gives up before setting rank 0's flag");
    k(flag);
    rank.barrier();
  });
}

void die(const ts::dist::World& world) {
  world.run([&](ts::dist::Rank& rank) {
    if (rank.rank() == 1) ::raise(SIGKILL);
    rank.barrier();
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) throw ts::RuntimeError("usage: dist_probe shift|mismatch|hang|die [--local N]");
    const bool local = args.size() == 3 && args[1] == "--local";
    ts::dist::WorldOptions options;
    if (ts::dist::launch_env() && ts::dist::launch_env()->rank == 1) {
      if (args[0] == "oom") options.heap_bytes = std::size_t(1) << 50;
      if (args[0] == "sizes") options.heap_bytes = std::size_t(64) << 20;
    }
    const ts::dist::World world = local ? ts::dist::World::local(std::atoi(args[2].c_str()), options) : ts::dist::World::from_env(options);
    std::printf("%s world of %d ranks\n", world.transport(), world.size());
    if (args[0] == "shift") shift(world);
    else if (args[0] == "mismatch") mismatch(world);
    else if (args[0] == "hang") hang(world);
    else if (args[0] == "die") die(world);
    else if (args[0] == "abandon") abandon(world);
    else if (args[0] != "oom" && args[0] != "sizes") throw ts::RuntimeError("unknown probe " + args[0]);
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
