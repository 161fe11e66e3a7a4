// simple_shift: every rank puts its buffer into the next rank's, rank r -> rank (r + 1) % P.
//
// The smallest distributed program: each block puts its rows of src into dst on the next rank with
// NVSHMEM's non-blocking block put, then completes its puts with quiet. The host barrier after the
// kernel (on GPUs, a barrier on the stream) makes them visible to the receiver before it reads.
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kRowsPerBlock = 16;

T::PrimFunc simple_shift_program(const Sizes& sizes, int) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  return T::prim_func("simple_shift", [&] {
    auto src = T::Tensor("src", {M, N}, T::float16);
    auto dst = T::Tensor("dst", {M, N}, T::float16);
    T::Kernel(T::ceildiv(M, kRowsPerBlock), T::threads(128), [&](T::Expr bx) {
      T::Expr next = (T::get_rank() + 1) % T::get_num_ranks();
      T::Expr rows = T::min(kRowsPerBlock, M - bx * kRowsPerBlock);
      T::putmem_nbi_block(dst(bx * kRowsPerBlock, 0), src(bx * kRowsPerBlock, 0), rows * N * 2, next);
      T::quiet();
    });
  });
}

CheckResult run_simple_shift(const Sizes& sizes, int ranks, std::uint64_t seed) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N");
  const Kernel kernel = compile(simple_shift_program(sizes, ranks), Target::CPU);
  std::vector<Tensor> src(ranks), dst(ranks);
  auto world = dist::World::sim(ranks);
  world.run([&](dist::Rank& rank) {
    const int r = rank.rank();
    src[r] = symmetric_random(rank, {M, N}, DataType::Float16, seed, 0);
    dst[r] = symmetric_poisoned(rank, {M, N}, DataType::Float16);
    rank.barrier();
    kernel(src[r], dst[r]);
    rank.barrier();
  });
  std::vector<CheckResult> checks;
  for (int r = 0; r < ranks; ++r) checks.push_back(compare(dst[r], values(src[(r + ranks - 1) % ranks]), kExactTolerance));
  return worst(checks);
}

}  // namespace

DistributedExample simple_shift_example() {
  return DistributedExample{
      .name = "simple_shift",
      .description = "every rank puts its float16 [M, N] buffer into the next rank's (putmem_nbi_block, quiet)",
      .default_sizes = {{"M", 1024}, {"N", 1024}},
      .test_sizes = {{"M", 40}, {"N", 24}},
      .test_ranks = {2, 4},
      .unsupported = [](const Sizes&, int) { return std::string(); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{simple_shift_program(s, p)}; },
      .run = run_simple_shift,
  };
}

}  // namespace tilescale::examples
