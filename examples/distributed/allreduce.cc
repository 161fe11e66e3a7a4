// allreduce: every rank holds x [M, N] (float32) and ends with out [M, N], the sum over ranks.
//
// One shot, in three phases: each block puts its rows of x into slot `rank` of every rank's staging
// buffer (stage [P, M, N]); then the whole grid of every rank synchronises (sync_grid, then block 0
// of each rank meets the other ranks' block 0 in barrier_blocks, whose leading system fence
// publishes the puts, then sync_grid again); then each block sums its rows over the P slots.
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kRows = 8;

T::PrimFunc allreduce_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("allreduce", [&] {
    auto x = T::Tensor("x", {M, N}, T::float32);
    auto out = T::Tensor("out", {M, N}, T::float32);
    auto stage = T::Tensor("stage", {P, M, N}, T::float32);
    auto bar = T::Tensor("bar", {P}, T::int32);
    auto grid_counter = T::Tensor("grid_counter", {1}, T::uint32);
    T::Kernel(T::ceildiv(M, kRows), T::threads(128), [&](T::Expr bx) {
      T::Expr me = T::get_rank(), rows = T::min(kRows, M - bx * kRows);
      T::serial(P, [&](T::Expr p) { T::put_block(x(bx * kRows, 0), stage(me, bx * kRows, 0), rows * N, p); });
      T::sync_grid(grid_counter(0));
      T::If(bx == 0, [&] { T::barrier_blocks(bar(0)); });
      T::sync_grid(grid_counter(0));
      T::Parallel(kRows, N, [&](T::Expr i, T::Expr j) {
        T::Expr row = bx * kRows + i;
        T::If(row < M, [&] {
          T::Expr sum = stage(0, row, j);
          for (int p = 1; p < P; ++p) sum = sum + stage(p, row, j);
          out(row, j) = sum;
        });
      });
    });
  });
}

CheckResult run_allreduce(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const Kernel kernel = compile(allreduce_program(sizes, P), world.target());
  std::vector<Tensor> out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor x = symmetric_random(rank, {M, N}, DataType::Float32, seed, 0);
    Tensor sum = symmetric_poisoned(rank, {M, N}, DataType::Float32);
    Tensor stage = symmetric_poisoned(rank, {P, M, N}, DataType::Float32);
    Tensor bar = rank.heap().zeros({P}, DataType::Int32);
    Tensor counter = rank.heap().zeros({1}, DataType::UInt32);
    rank.barrier();
    kernel(x, sum, stage, bar, counter);
    rank.barrier();
    out[rank.rank()] = sum.to(Device::cpu());
  });
  std::vector<double> expected(M * N, 0.0);
  for (int p = 0; p < P; ++p) {
    const auto x = values(host_random({M, N}, DataType::Float32, seed, p, 0));
    for (std::int64_t i = 0; i < M * N; ++i) expected[i] += x[i];
  }
  return check_local_ranks(world, [&](int r) { return compare(out[r], expected, kFloat32SumTolerance); });
}

}  // namespace

DistributedExample allreduce_example() {
  return DistributedExample{
      .name = "allreduce",
      .description = "allreduce of float32 [M, N]: put_block to every rank, sync_grid + barrier_blocks, local sums",
      .default_sizes = {{"M", 256}, {"N", 512}},
      .test_sizes = {{"M", 20}, {"N", 24}},
      .test_ranks = {2, 4},
      .unsupported = [](const Sizes&, int) { return std::string(); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{allreduce_program(s, p)}; },
      .run = run_allreduce,
  };
}

}  // namespace tilescale::examples
