// allgather: every rank's float16 [M, N] rows, gathered into a [P·M, N] tensor on every rank, in
// rank order (torch's all_gather_into_tensor).
//
// Push (allgather_push): block (bx, p) puts rows bx·BM.. of this rank's A into rank p's output with
// put_block (which ends with a block barrier), then one thread adds 1 to rank p's counter for this
// rank with a release atomic; the block then waits until its own counter for rank p has counted
// all of p's blocks, so when the kernel returns every rank's rows have landed here.
// Pull (allgather_pull): block (bx, p) gets rank p's rows with NVSHMEM's non-blocking block get and
// completes it with quiet; the inputs were ready before the launch (host barrier).
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kRowsPerBlock = 16;

T::PrimFunc push_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const std::int64_t blocks = (M + kRowsPerBlock - 1) / kRowsPerBlock;
  return T::prim_func("allgather_push", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto out = T::Tensor("out", {P * M, N}, T::float16);
    auto arrived = T::Tensor("arrived", {P}, T::int32);  // arrived[p]: blocks of rank p landed here
    T::Kernel(blocks, P, T::threads(128), [&](T::Expr bx, T::Expr peer) {
      T::Expr me = T::get_rank();
      T::Expr rows = T::min(kRowsPerBlock, M - bx * kRowsPerBlock);
      T::put_block(A(bx * kRowsPerBlock, 0), out(me * M + bx * kRowsPerBlock, 0), rows * N, peer);
      T::If(T::get_thread_binding() == 0, [&] { T::atom_add(arrived(me), 1, T::MemScope::SYS, T::MemSem::Release, peer); });
      T::wait_eq(arrived(peer), static_cast<int>(blocks));
    });
  });
}

T::PrimFunc pull_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("allgather_pull", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto out = T::Tensor("out", {P * M, N}, T::float16);
    T::Kernel(T::ceildiv(M, kRowsPerBlock), P, T::threads(128), [&](T::Expr bx, T::Expr peer) {
      T::Expr rows = T::min(kRowsPerBlock, M - bx * kRowsPerBlock);
      T::getmem_nbi_block(out(peer * M + bx * kRowsPerBlock, 0), A(bx * kRowsPerBlock, 0), rows * N * 2, peer);
      T::quiet();
    });
  });
}

CheckResult run_allgather(const Sizes& sizes, const dist::World& world, std::uint64_t seed, bool push) {
  const int P = world.size();
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const Kernel kernel = compile(push ? push_program(sizes, P) : pull_program(sizes, P), world.target());
  std::vector<Tensor> out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor a = symmetric_random(rank, {M, N}, DataType::Float16, seed, 0);
    Tensor gathered = symmetric_poisoned(rank, {P * M, N}, DataType::Float16);
    if (push) {
      Tensor arrived = rank.heap().zeros({P}, DataType::Int32);
      rank.barrier();
      kernel(a, gathered, arrived);
    } else {
      rank.barrier();
      kernel(a, gathered);
    }
    rank.barrier();
    out[rank.rank()] = gathered.to(Device::cpu());
  });
  std::vector<double> expected;
  for (int p = 0; p < P; ++p) {
    const auto v = values(host_random({M, N}, DataType::Float16, seed, p, 0));
    expected.insert(expected.end(), v.begin(), v.end());
  }
  return check_local_ranks(world, [&](int r) { return compare(out[r], expected, kExactTolerance); });
}

DistributedExample allgather(bool push) {
  return DistributedExample{
      .name = push ? "allgather_push" : "allgather_pull",
      .description = push ? "allgather of float16 [M, N] rows into [P*M, N]: put_block to every rank, release counters, waits"
                          : "allgather of float16 [M, N] rows into [P*M, N]: getmem_nbi_block from every rank, quiet",
      .default_sizes = {{"M", 512}, {"N", 1024}},
      .test_sizes = {{"M", 24}, {"N", 40}},
      .test_ranks = {2, 4},
      .unsupported = [](const Sizes&, int) { return std::string(); },
      .build = [push](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{push ? push_program(s, p) : pull_program(s, p)}; },
      .run = [push](const Sizes& s, const dist::World& w, std::uint64_t seed) { return run_allgather(s, w, seed, push); },
  };
}

}  // namespace

DistributedExample allgather_push_example() { return allgather(true); }
DistributedExample allgather_pull_example() { return allgather(false); }

}  // namespace tilescale::examples
