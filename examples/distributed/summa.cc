// summa: C = A · B on a √P × √P mesh with SUMMA (float16 inputs, float32 output).
//
// Rank (i, j) owns A block (i, j) and B block (i, j). For k = 0..q-1, C(i, j) += A(i, k) · B(k, j):
// the owner of A(i, k), rank (i, k), broadcasts it along mesh row i, and the owner of B(k, j), rank
// (k, j), along mesh column j. Here every rank broadcasts its two blocks at the start, each with
// NVSHMEM's put-with-signal into panel slot k of the receivers, and consumes panel k as soon as
// signal_wait_until sees both of its signals.
#include "distributed_list.h"
#include "mesh.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kBK = 32;

T::PrimFunc summa_program(const Sizes& sizes, int P) {
  const int q = mesh_side(P);
  const std::int64_t Mb = size_of(sizes, "M") / q, Nb = size_of(sizes, "N") / q, Kb = size_of(sizes, "K") / q;
  return T::prim_func("summa", [&] {
    auto A = T::Tensor("A", {Mb, Kb}, T::float16);
    auto B = T::Tensor("B", {Kb, Nb}, T::float16);
    auto a_panel = T::Tensor("a_panel", {q, Mb, Kb}, T::float16);
    auto b_panel = T::Tensor("b_panel", {q, Kb, Nb}, T::float16);
    auto a_signal = T::Tensor("a_signal", {q}, T::uint64);
    auto b_signal = T::Tensor("b_signal", {q}, T::uint64);
    auto C = T::Tensor("C", {Mb, Nb}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({Mb, kBK}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({kBK, Nb}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({Mb, Nb}, T::float32, "C_local");
      T::Expr me = T::get_rank(), i = me / q, j = me % q;
      T::serial(q, [&](T::Expr c) {
        T::putmem_signal_nbi_block(a_panel(j, 0, 0), A(0, 0), Mb * Kb * 2, a_signal(j), 1, T::SignalOp::Set, i * q + c);
        T::putmem_signal_nbi_block(b_panel(i, 0, 0), B(0, 0), Kb * Nb * 2, b_signal(i), 1, T::SignalOp::Set, c * q + j);
      });
      T::clear(C_local);
      T::serial(q, [&](T::Expr k) {
        T::signal_wait_until(a_signal(k), T::Cmp::EQ, 1);
        T::signal_wait_until(b_signal(k), T::Cmp::EQ, 1);
        T::serial(Kb / kBK, [&](T::Expr kk) {
          T::copy(a_panel(k, 0, kk * kBK), A_shared);
          T::copy(b_panel(k, kk * kBK, 0), B_shared);
          T::gemm(A_shared, B_shared, C_local);
        });
      });
      T::copy(C_local, C);
      T::quiet();
    });
  });
}

CheckResult run_summa(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size(), q = mesh_side(P);
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t Mb = M / q, Nb = N / q, Kb = K / q;
  const Kernel kernel = compile(summa_program(sizes, P), world.target());
  const std::vector<double> a = values(random_input({M, K}, DataType::Float16, seed, 0));
  const std::vector<double> b = values(random_input({K, N}, DataType::Float16, seed, 1));
  std::vector<Tensor> c(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    const int r = rank.rank(), i = r / q, j = r % q;
    Tensor a_own = Tensor::empty({Mb, Kb}, DataType::Float16);
    Tensor b_own = Tensor::empty({Kb, Nb}, DataType::Float16);
    store_values(a_own, 0, block_of(a, K, i, j, Mb, Kb));
    store_values(b_own, 0, block_of(b, N, i, j, Kb, Nb));
    Tensor a_block = symmetric_copy(rank, a_own);
    Tensor b_block = symmetric_copy(rank, b_own);
    Tensor a_panel = symmetric_poisoned(rank, {q, Mb, Kb}, DataType::Float16);
    Tensor b_panel = symmetric_poisoned(rank, {q, Kb, Nb}, DataType::Float16);
    Tensor a_signal = rank.heap().zeros({q}, DataType::UInt64);
    Tensor b_signal = rank.heap().zeros({q}, DataType::UInt64);
    Tensor block = symmetric_poisoned(rank, {Mb, Nb}, DataType::Float32);
    rank.barrier();
    kernel(a_block, b_block, a_panel, b_panel, a_signal, b_signal, block);
    rank.barrier();
    c[r] = block.to(Device::cpu());
  });
  return check_mesh_product(world, c, a, b, M, N, K, q);
}

}  // namespace

DistributedExample summa_example() {
  return DistributedExample{
      .name = "summa",
      .description = "C = A.B on a sqrt(P) x sqrt(P) mesh (SUMMA): row and column panel broadcasts with "
                     "putmem_signal_nbi_block, consumed as signal_wait_until sees them",
      .default_sizes = {{"M", 256}, {"N", 256}, {"K", 256}},
      .test_sizes = {{"M", 64}, {"N", 64}, {"K", 64}},
      .test_ranks = {4},
      .unsupported = [](const Sizes& s, int p) { return mesh_unsupported(s, p, kBK); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{summa_program(s, p)}; },
      .run = run_summa,
  };
}

}  // namespace tilescale::examples
