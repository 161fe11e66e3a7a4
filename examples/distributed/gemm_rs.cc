// gemm_rs: GEMM with reduce-scatter. Rank r holds A_r [M, K] and B_r [K, N] (a K shard each, float16);
// the product is the sum over ranks of A_r · B_r, and rank q keeps its rows q·Mq..(q+1)·Mq of it
// (Mq = M / P), in float32.
//
// One kernel overlaps the two. The first blocks each compute a BM×BN tile of this rank's partial
// product, put its rows into the owner's staging buffer (slot `rank`), and add 1 to the owner's
// counter for that tile with a release atomic. The remaining blocks each own a tile of this rank's
// rows: they wait until its counter reaches P (every rank's partial tile has landed), then sum the
// P slots.
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kBM = 32, kBN = 32, kBK = 32;

T::PrimFunc gemm_rs_program(const Sizes& sizes, int P) {
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t Mq = M / P, row_tiles = M / kBM, own_row_tiles = Mq / kBM, col_tiles = N / kBN;
  const std::int64_t compute_blocks = row_tiles * col_tiles;
  return T::prim_func("gemm_rs", [&] {
    auto A = T::Tensor("A", {M, K}, T::float16);
    auto B = T::Tensor("B", {K, N}, T::float16);
    auto partial = T::Tensor("partial", {M, N}, T::float32);
    auto stage = T::Tensor("stage", {P, Mq, N}, T::float32);
    auto count = T::Tensor("count", {own_row_tiles, col_tiles}, T::int32);  // per own tile: partials landed
    auto out = T::Tensor("out", {Mq, N}, T::float32);
    T::Kernel(compute_blocks + own_row_tiles * col_tiles, T::threads(128), [&](T::Expr bx) {
      auto A_shared = T::alloc_shared({kBM, kBK}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({kBK, kBN}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({kBM, kBN}, T::float32, "C_local");
      T::Expr me = T::get_rank();
      T::If(bx < compute_blocks, [&] {
        T::Expr tm = bx / col_tiles, tn = bx % col_tiles, owner = tm * kBM / Mq, local_row = tm * kBM - owner * Mq;
        T::clear(C_local);
        T::Pipelined(K / kBK, 2, [&](T::Expr k) {
          T::copy(A(tm * kBM, k * kBK), A_shared);
          T::copy(B(k * kBK, tn * kBN), B_shared);
          T::gemm(A_shared, B_shared, C_local);
        });
        T::copy(C_local, partial(tm * kBM, tn * kBN));
        T::serial(kBM, [&](T::Expr i) {
          T::put_block(partial(tm * kBM + i, tn * kBN), stage(me, local_row + i, tn * kBN), kBN, owner);
        });
        T::If(T::get_thread_binding() == 0, [&] {
          T::atom_add(count(local_row / kBM, tn), 1, T::MemScope::SYS, T::MemSem::Release, owner);
        });
      }).Else([&] {
        T::Expr tile = bx - compute_blocks, tm = tile / col_tiles, tn = tile % col_tiles;
        T::wait_eq(count(tm, tn), P);
        T::Parallel(kBM, kBN, [&](T::Expr i, T::Expr j) {
          T::Expr row = tm * kBM + i, col = tn * kBN + j;
          T::Expr sum = stage(0, row, col);
          for (int p = 1; p < P; ++p) sum = sum + stage(p, row, col);
          out(row, col) = sum;
        });
      });
    });
  });
}

CheckResult run_gemm_rs(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K"), Mq = M / P;
  const Kernel kernel = compile(gemm_rs_program(sizes, P), world.target());
  std::vector<Tensor> out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor a = symmetric_random(rank, {M, K}, DataType::Float16, seed, 0);
    Tensor b = symmetric_random(rank, {K, N}, DataType::Float16, seed, 1);
    Tensor partial = symmetric_poisoned(rank, {M, N}, DataType::Float32);
    Tensor stage = symmetric_poisoned(rank, {P, Mq, N}, DataType::Float32);
    Tensor count = rank.heap().zeros({Mq / kBM, N / kBN}, DataType::Int32);
    Tensor mine = symmetric_poisoned(rank, {Mq, N}, DataType::Float32);
    rank.barrier();
    kernel(a, b, partial, stage, count, mine);
    rank.barrier();
    out[rank.rank()] = mine.to(Device::cpu());
  });
  std::vector<double> total(M * N, 0.0);
  for (int p = 0; p < P; ++p) {
    const auto c = matmul(values(host_random({M, K}, DataType::Float16, seed, p, 0)),
                          values(host_random({K, N}, DataType::Float16, seed, p, 1)), M, N, K);
    for (std::int64_t i = 0; i < M * N; ++i) total[i] += c[i];
  }
  return check_local_ranks(world, [&](int q) {
    const std::vector<double> mine(total.begin() + q * Mq * N, total.begin() + (q + 1) * Mq * N);
    return compare(out[q], mine, kFloat32SumTolerance);
  });
}

}  // namespace

DistributedExample gemm_rs_example() {
  return DistributedExample{
      .name = "gemm_rs",
      .description = "GEMM + reduce-scatter: partial tiles put to their owner, per-tile release counters, owners sum",
      .default_sizes = {{"M", 512}, {"N", 256}, {"K", 256}},
      .test_sizes = {{"M", 128}, {"N", 64}, {"K", 64}},
      .test_ranks = {2, 4},
      .unsupported =
          [](const Sizes& s, int P) {
            if (size_of(s, "M") % (P * kBM) != 0)
              return detail::cat("M=", size_of(s, "M"), " is not a multiple of ", P, " ranks x the tile ", kBM);
            return multiples_of_tiles(s, {{"N", kBN}, {"K", kBK}});
          },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{gemm_rs_program(s, p)}; },
      .run = run_gemm_rs,
  };
}

}  // namespace tilescale::examples
