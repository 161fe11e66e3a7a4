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

CheckResult run_simple_shift(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const std::vector<std::int64_t> shape = {size_of(sizes, "M"), size_of(sizes, "N")};
  const Kernel kernel = compile(simple_shift_program(sizes, P), world.target());
  std::vector<Tensor> dst(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor src = symmetric_random(rank, shape, DataType::Float16, seed, 0);
    Tensor out = symmetric_poisoned(rank, shape, DataType::Float16);
    rank.barrier();
    kernel(src, out);
    rank.barrier();
    dst[rank.rank()] = out.to(Device::cpu());
  });
  return check_local_ranks(world, [&](int r) {
    return compare(dst[r], values(host_random(shape, DataType::Float16, seed, (r + P - 1) % P, 0)), kExactTolerance);
  });
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
