// allgather_gemm: C = allgather(A) · B. Rank r holds its rows A_r [M, K] and its column shard
// B [K, N] (float16), and computes C [P·M, N] = [A_0; A_1; ...] · B.
//
// Communication and computation overlap in one kernel. The first P blocks push this rank's A into
// rank p's gather buffer (put_block), then raise rank p's signal for this rank (a release store).
// The other blocks each own a BM×BN tile of C; they visit the row tiles starting at this rank's own
// chunk, and a tile's GEMM starts as soon as its chunk's signal is up (wait_eq on the local signal).
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kBM = 32, kBN = 32, kBK = 32;

T::PrimFunc allgather_gemm_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t row_tiles = P * M / kBM, col_tiles = N / kBN;
  return T::prim_func("allgather_gemm", [&] {
    auto A = T::Tensor("A", {M, K}, T::float16);
    auto B = T::Tensor("B", {K, N}, T::float16);
    auto gathered = T::Tensor("gathered", {P * M, K}, T::float16);
    auto signal = T::Tensor("signal", {P}, T::int32);  // signal[p]: rank p's chunk has landed here
    auto C = T::Tensor("C", {P * M, N}, T::float16);
    T::Kernel(P + row_tiles * col_tiles, T::threads(128), [&](T::Expr bx) {
      auto A_shared = T::alloc_shared({kBM, kBK}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({kBK, kBN}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({kBM, kBN}, T::float32, "C_local");
      T::Expr me = T::get_rank();
      T::If(bx < P, [&] {
        T::put_block(A(0, 0), gathered(me * M, 0), M * K, bx);
        T::If(T::get_thread_binding() == 0, [&] { T::st(signal(me), 1, T::MemScope::SYS, T::MemSem::Release, false, bx); });
      }).Else([&] {
        T::Expr tile = bx - P;
        T::Expr tm = (tile / col_tiles + me * (M / kBM)) % row_tiles, tn = tile % col_tiles;
        T::wait_eq(signal(tm * kBM / M), 1);
        T::clear(C_local);
        T::Pipelined(K / kBK, 2, [&](T::Expr k) {
          T::copy(gathered(tm * kBM, k * kBK), A_shared);
          T::copy(B(k * kBK, tn * kBN), B_shared);
          T::gemm(A_shared, B_shared, C_local);
        });
        T::copy(C_local, C(tm * kBM, tn * kBN));
      });
    });
  });
}

CheckResult run_allgather_gemm(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const Kernel kernel = compile(allgather_gemm_program(sizes, P), world.target());
  std::vector<Tensor> c(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor a = symmetric_random(rank, {M, K}, DataType::Float16, seed, 0);
    Tensor b = symmetric_random(rank, {K, N}, DataType::Float16, seed, 1);
    Tensor gathered = symmetric_poisoned(rank, {P * M, K}, DataType::Float16);
    Tensor signal = rank.heap().zeros({P}, DataType::Int32);
    Tensor product = symmetric_poisoned(rank, {P * M, N}, DataType::Float16);
    rank.barrier();
    kernel(a, b, gathered, signal, product);
    rank.barrier();
    c[rank.rank()] = product.to(Device::cpu());
  });
  std::vector<double> all_a;
  for (int p = 0; p < P; ++p) {
    const auto v = values(host_random({M, K}, DataType::Float16, seed, p, 0));
    all_a.insert(all_a.end(), v.begin(), v.end());
  }
  return check_local_ranks(world, [&](int r) {
    const auto b = values(host_random({K, N}, DataType::Float16, seed, r, 1));
    return compare(c[r], matmul(all_a, b, P * M, N, K), kFloat16OutputTolerance);
  });
}

}  // namespace

DistributedExample allgather_gemm_example() {
  return DistributedExample{
      .name = "allgather_gemm",
      .description = "C = allgather(A) . B in float16, the GEMM of each chunk starting when its put_block + release signal lands",
      .default_sizes = {{"M", 256}, {"N", 256}, {"K", 256}},
      .test_sizes = {{"M", 32}, {"N", 64}, {"K", 64}},
      .test_ranks = {2, 4},
      .unsupported =
          [](const Sizes& s, int) { return multiples_of_tiles(s, {{"M", kBM}, {"N", kBN}, {"K", kBK}}); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{allgather_gemm_program(s, p)}; },
      .run = run_allgather_gemm,
  };
}

}  // namespace tilescale::examples
