// cannon: C = A · B on a √P × √P mesh with Cannon's algorithm (float16 inputs, float32 output).
//
// Rank (i, j) starts with A block (i, i + j) and B block (i + j, j) (the initial skew, done by the
// host as it distributes the matrices), and for q steps multiplies its current blocks into C while
// passing A one rank left and B one rank up. Blocks travel into double buffers: step s computes on
// buffer s % 2 while the neighbours' step-s puts fill buffer (s + 1) % 2. Signals, all release
// stores to the receiver: flag_a/flag_b[s] "your step-s block has landed", done_a/done_b[s] "I have
// finished step s, you may overwrite my step-s buffer" (the sender waits for it before putting).
#include "distributed_list.h"
#include "mesh.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kBK = 32;

T::PrimFunc cannon_program(const Sizes& sizes, int P) {
  const int q = mesh_side(P);
  const std::int64_t Mb = size_of(sizes, "M") / q, Nb = size_of(sizes, "N") / q, Kb = size_of(sizes, "K") / q;
  return T::prim_func("cannon", [&] {
    auto abuf = T::Tensor("abuf", {2, Mb, Kb}, T::float16);
    auto bbuf = T::Tensor("bbuf", {2, Kb, Nb}, T::float16);
    auto flag_a = T::Tensor("flag_a", {q}, T::int32);
    auto flag_b = T::Tensor("flag_b", {q}, T::int32);
    auto done_a = T::Tensor("done_a", {q}, T::int32);
    auto done_b = T::Tensor("done_b", {q}, T::int32);
    auto C = T::Tensor("C", {Mb, Nb}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({Mb, kBK}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({kBK, Nb}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({Mb, Nb}, T::float32, "C_local");
      T::Expr me = T::get_rank(), tx = T::get_thread_binding();
      T::Expr i = me / q, j = me % q;
      T::Expr left = i * q + (j + q - 1) % q, right = i * q + (j + 1) % q;
      T::Expr up = (i + q - 1) % q * q + j, down = (i + 1) % q * q + j;
      T::clear(C_local);
      T::serial(q, [&](T::Expr step) {
        T::Expr cur = step % 2, next = 1 - step % 2;
        T::If(step > 0, [&] {
          T::wait_eq(flag_a(step), 1);
          T::wait_eq(flag_b(step), 1);
        });
        T::If(step < q - 1, [&] {
          T::If(step > 0, [&] {
            T::wait_eq(done_a(step - 1), 1);
            T::wait_eq(done_b(step - 1), 1);
          });
          T::put_block(abuf(cur, 0, 0), abuf(next, 0, 0), Mb * Kb, left);
          T::put_block(bbuf(cur, 0, 0), bbuf(next, 0, 0), Kb * Nb, up);
          T::If(tx == 0, [&] {
            T::st(flag_a(step + 1), 1, T::MemScope::SYS, T::MemSem::Release, false, left);
            T::st(flag_b(step + 1), 1, T::MemScope::SYS, T::MemSem::Release, false, up);
          });
        });
        T::serial(Kb / kBK, [&](T::Expr k) {
          T::copy(abuf(cur, 0, k * kBK), A_shared);
          T::copy(bbuf(cur, k * kBK, 0), B_shared);
          T::gemm(A_shared, B_shared, C_local);
        });
        T::If(step < q - 1 && tx == 0, [&] {
          T::st(done_a(step), 1, T::MemScope::SYS, T::MemSem::Release, false, right);
          T::st(done_b(step), 1, T::MemScope::SYS, T::MemSem::Release, false, down);
        });
      });
      T::copy(C_local, C);
    });
  });
}

CheckResult run_cannon(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size(), q = mesh_side(P);
  const std::int64_t M = size_of(sizes, "M"), N = size_of(sizes, "N"), K = size_of(sizes, "K");
  const std::int64_t Mb = M / q, Nb = N / q, Kb = K / q;
  const Kernel kernel = compile(cannon_program(sizes, P), world.target());
  const std::vector<double> a = values(random_input({M, K}, DataType::Float16, seed, 0));
  const std::vector<double> b = values(random_input({K, N}, DataType::Float16, seed, 1));
  std::vector<Tensor> c(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    const int r = rank.rank(), i = r / q, j = r % q;
    // Buffer 0 holds the skewed starting blocks; buffer 1 stays poisoned until the first shift.
    Tensor a_start = poisoned_output({2, Mb, Kb}, DataType::Float16);
    Tensor b_start = poisoned_output({2, Kb, Nb}, DataType::Float16);
    store_values(a_start, 0, block_of(a, K, i, (i + j) % q, Mb, Kb));
    store_values(b_start, 0, block_of(b, N, (i + j) % q, j, Kb, Nb));
    Tensor abuf = symmetric_copy(rank, a_start);
    Tensor bbuf = symmetric_copy(rank, b_start);
    std::vector<Tensor> flags;
    for (int f = 0; f < 4; ++f) flags.push_back(rank.heap().zeros({q}, DataType::Int32));
    Tensor block = symmetric_poisoned(rank, {Mb, Nb}, DataType::Float32);
    rank.barrier();
    kernel(abuf, bbuf, flags[0], flags[1], flags[2], flags[3], block);
    rank.barrier();
    c[r] = block.to(Device::cpu());
  });
  return check_mesh_product(world, c, a, b, M, N, K, q);
}

}  // namespace

DistributedExample cannon_example() {
  return DistributedExample{
      .name = "cannon",
      .description = "C = A.B on a sqrt(P) x sqrt(P) mesh (Cannon): blocks shifted left/up with put_block into double "
                     "buffers, release-store signals and back-pressure",
      .default_sizes = {{"M", 256}, {"N", 256}, {"K", 256}},
      .test_sizes = {{"M", 64}, {"N", 64}, {"K", 64}},
      .test_ranks = {4},
      .unsupported = [](const Sizes& s, int p) { return mesh_unsupported(s, p, kBK); },
      .build = [](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{cannon_program(s, p)}; },
      .run = run_cannon,
  };
}

}  // namespace tilescale::examples
