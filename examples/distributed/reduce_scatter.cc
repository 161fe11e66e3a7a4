// reduce_scatter: every rank holds x [P·M, N] (float32); rank r ends with out [M, N], the sum over
// ranks of their rows r·M..(r+1)·M.
//
// Pull-based: each block owns a BM×BN tile of out and, rank by rank (starting after its own, so the
// ranks do not all read the same peer at once), adds the peer's elements into a float32 fragment,
// reading them with T::ld (weak: the inputs were ready before the launch) from the peer's memory.
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kBM = 16, kBN = 32;

T::PrimFunc reduce_scatter_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("reduce_scatter", [&] {
    auto x = T::Tensor("x", {P * M, N}, T::float32);
    auto out = T::Tensor("out", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, kBN), T::ceildiv(M, kBM), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto acc = T::alloc_fragment({kBM, kBN}, T::float32, "acc");
      T::Expr me = T::get_rank();
      T::clear(acc);
      T::serial(P, [&](T::Expr i) {
        T::Expr peer = (me + 1 + i) % P;
        T::Parallel(kBM, kBN, [&](T::Expr r, T::Expr c) {
          T::Expr row = by * kBM + r, col = bx * kBN + c;
          T::If(row < M && col < N, [&] {
            acc(r, c) += T::ld(x(me * M + row, col), T::MemScope::SYS, T::MemSem::Weak, false, false, peer);
          });
        });
      });
      T::copy(acc, out(by * kBM, bx * kBN));
    });
  });
}

CheckResult run_reduce_scatter(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const Kernel kernel = compile(reduce_scatter_program(sizes, P), world.target());
  std::vector<Tensor> out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor x = symmetric_random(rank, {P * M, N}, DataType::Float32, seed, 0);
    Tensor mine = symmetric_poisoned(rank, {M, N}, DataType::Float32);
    rank.barrier();
    kernel(x, mine);
    rank.barrier();
    out[rank.rank()] = mine.to(Device::cpu());
  });
  std::vector<Tensor> x(P);
  for (int p = 0; p < P; ++p) x[p] = host_random({P * M, N}, DataType::Float32, seed, p, 0);
  return check_local_ranks(world, [&](int r) {
    std::vector<double> expected(M * N, 0.0);
    for (int p = 0; p < P; ++p)
      for (std::int64_t i = 0; i < M * N; ++i) expected[i] += x[p].get_flat(r * M * N + i);
    return compare(out[r], expected, kFloat32SumTolerance);
  });
}

}  // namespace

DistributedExample reduce_scatter_example() {
  return DistributedExample{
      .name = "reduce_scatter",
      .description = "reduce-scatter of float32 [P*M, N] into [M, N] per rank: remote T::ld (weak) in T::Parallel",
      .default_sizes = {{"M", 256}, {"N", 512}},
      .test_sizes = {{"M", 20}, {"N", 40}},
      .test_ranks = {2, 4},
      .unsupported = [](const Sizes&, int) { return std::string(); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{reduce_scatter_program(s, p)}; },
      .run = run_reduce_scatter,
  };
}

}  // namespace tilescale::examples
