// Every user error of the distributed operators, the sim transport and the dist host API, with its
// message: misuse is a CompileError when the prim_func is built, a run-time problem (a deadlock, a
// wait out of time, mismatched symmetric allocations, an operand outside its buffer or the heap) a
// RuntimeError — on every rank.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include "distributed/distributed_example.h"
#include "ir/IR.h"
#include "ir/verifier.h"
#include "runtime/dist/sim.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

using dist::Rank;

// The buffers the kernels below use.
struct Bufs {
  T::Buffer f16, flag, u32, sig, i8, i16, f32;
  T::Buffer shared, local, frag;
  T::Expr tx;
};

// Runs `rank_0` on rank 0 while rank 1's host code keeps running (so the watchdog sees no
// deadlock) until rank 0 is done.
void rank_0_while_rank_1_runs(Rank& r, std::atomic<bool>& done, const std::function<void()>& rank_0) {
  if (r.rank() == 0) {
    struct Done {
      std::atomic<bool>& done;
      ~Done() { done = true; }
    } mark{done};
    rank_0();
    return;
  }
  while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// A one-block kernel whose body is `body`: building it runs the verifier.
T::PrimFunc kernel_with(const std::function<void(Bufs&)>& body) {
  return T::prim_func("k", [&] {
    Bufs b{T::Tensor("f16", {64}, T::float16), T::Tensor("flag", {8}, T::int32),  T::Tensor("u32", {4}, T::uint32),
           T::Tensor("sig", {8}, T::uint64),   T::Tensor("i8", {8}, T::int8),      T::Tensor("i16", {8}, T::int16),
           T::Tensor("f32", {8}, T::float32),  T::Buffer(nullptr),                 T::Buffer(nullptr),
           T::Buffer(nullptr),                 T::Expr(0)};
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      b.shared = T::alloc_shared({64}, T::float16, "shared");
      b.local = T::alloc_local({8}, T::float16, "local");
      b.frag = T::alloc_fragment({64}, T::float16, "frag");
      b.tx = T::get_thread_binding();
      body(b);
    });
  });
}

// A sim world stays usable after a run that failed: the barrier arrivals and the allocation that
// the failed run left half done are forgotten, what it allocated in full stays.
TEST(DistErrors, ASimWorldRunsAgainAfterARunThatFailed) {
  const dist::World world = dist::World::sim(2);
  EXPECT_THROW(world.run([](dist::Rank& rank) {
    rank.heap().zeros({4}, DataType::Int32);  // allocation #0: both ranks make it
    if (rank.rank() == 1) throw std::runtime_error("rank 1 gave up");
    rank.heap().zeros({8}, DataType::Int32);  // allocation #1: rank 0 alone
    rank.barrier();
  }), std::runtime_error);
  std::atomic<int> ran{0};
  world.run([&](dist::Rank& rank) {
    EXPECT_EQ(rank.heap().used(), 16u);  // allocation #0 alone: int32[4]
    rank.barrier();
    const Tensor t = rank.heap().zeros({16}, DataType::Int32);  // the next one, on the next 256-byte boundary
    rank.barrier();
    EXPECT_EQ(rank.heap().used(), 256u + 64u);
    ++ran;
  });
  EXPECT_EQ(ran, 2);
}

TEST(DistErrors, PersistentDistributedKernelsAreCompileErrorsForCuda) {
  const auto f = kernel_with([&](Bufs& b) {
    T::persistent();
    b.flag(0) = T::get_rank();
  });
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_90a"), "cannot make distributed kernel k persistent", "remove T::persistent");
}

// ---- ld / st: only the legal combinations ------------------------------------------------------

TEST(DistErrors, IllegalLdAndStSemanticsAreCompileErrorsNamingTheLegalOnes) {
  for (auto sem : {T::MemSem::Release, T::MemSem::AcqRel})
    EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.f16(0) = T::ld(b.f16(1), T::MemScope::GPU, sem); }),
                         "cannot call T::ld with sem=", "because a load takes the semantics weak, volatile, relaxed or acquire");
  for (auto sem : {T::MemSem::Acquire, T::MemSem::AcqRel})
    EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.flag(0), 1, T::MemScope::SYS, sem); }),
                         "cannot call T::st with sem=", "because a store takes the semantics weak, volatile, relaxed or release");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.f16(0) = T::ld(b.f16(1), T::MemScope::GPU, T::MemSem::Acquire, false, true); }),
                       "cannot call T::ld with nc=true and sem=acquire", "ld.global.nc", "is a weak load");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.f16(0) = T::ld(b.f16(1), T::MemScope::GPU, T::MemSem::Volatile, true); }),
                       "cannot call T::ld with na=true and sem=volatile", "weak, relaxed and acquire loads");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.flag(0), 1, T::MemScope::SYS, T::MemSem::Volatile, true); }),
                       "cannot call T::st with na=true and sem=volatile", "weak, relaxed and release stores");
}

TEST(DistErrors, LdAndStMoveTwoToSixteenBytes) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.i8(0) = T::ld(b.i8(1)); }),
                       "cannot call T::ld on i8[1] of int8", "moves 2, 4, 8 or 16 bytes");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) {
                         auto v = T::alloc_local({16}, T::float16, "v");
                         T::ld(b.f16(0), v);
                       }),
                       "cannot call T::ld with the 16 elements of v (32 bytes)", "2, 4, 8 or 16 bytes at once");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.f16(0), b.shared); }),
                       "cannot call T::st with source shared because it is a shared buffer",
                       "the vector form moves a local buffer");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) {
                         auto v = T::alloc_local({4}, T::float32, "v");
                         T::st(b.f16(0), v);
                       }),
                       "cannot call T::st between f16[0] (float16) and v (float32)", "use one dtype on both sides");
}

TEST(DistErrors, LdAndStOperandsAreGlobalTensors) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.f16(0) = T::ld(b.shared(0)); }),
                       "cannot call T::ld with source shared[0] because shared is a shared buffer",
                       "this operand must be an element of a global tensor");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.local(0), 1.0f); }),
                       "cannot call T::st with destination local[0] because local is a local buffer, private to a thread");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.frag(0), 1.0f); }),
                       "because frag is a fragment buffer, spread over the block's registers");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::st(b.flag(0), 1, T::MemScope::SYS, T::MemSem::Release, false, 0.5f); }),
                       "cannot call T::st with the rank 0.5 of type float32; it is an integer");
}

TEST(DistErrors, LoadAVectorFromABufferOfSymbolicShape) {
  EXPECT_COMPILE_ERROR(T::prim_func("k",
                                    [] {
                                      auto n = T::dynamic("n");
                                      auto a = T::Tensor("a", {n}, T::int32);
                                      T::Kernel(1, T::threads(32), [&](T::Expr) { T::ld(a(0), a); });
                                    }),
                       "cannot use a as the values of T::ld because its shape is not constant");
}

// ---- waits, atomics, barriers, warps -----------------------------------------------------------

TEST(DistErrors, WaitsTakeIntegerFlagsGpuOrSysScopeAcquireOrVolatile) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::wait_eq(b.f32(0), 1.0f); }),
                       "cannot call T::wait_eq on f32[0] because f32 is float32", "waits compare 16-, 32- or 64-bit integer");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::wait_ge(b.i8(0), 1); }), "because i8 is int8");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::wait_ne(b.flag(0), 1, -1, T::MemScope::CTA); }),
                       "cannot call T::wait_ne with scope=cta because a wait takes the scopes gpu or sys");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::wait_lt(b.flag(0), 1, -1, T::MemScope::SYS, T::MemSem::Relaxed); }),
                       "cannot call T::wait_lt with sem=relaxed because a wait takes the semantics acquire or volatile");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::wait_gt(b.shared(0), 1); }),
                       "cannot call T::wait_gt with flag shared[0] because shared is a shared buffer");
}

TEST(DistErrors, AtomAddTypesAndSemantics) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::atom_add(b.i16(0), 1); }),
                       "cannot call T::atom_add on i16[0] because i16 is int16",
                       "atom_add adds int32, uint32, int64, uint64, float32 or float64");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::atom_add(b.flag(0), 1, T::MemScope::GPU, T::MemSem::Weak); }),
                       "cannot call T::atom_add with sem=weak because an atomic takes the semantics relaxed, acquire, release or acq_rel");
}

TEST(DistErrors, BarrierOperandsHaveTheirTypes) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::barrier_blocks(b.u32(0)); }),
                       "cannot call T::barrier_blocks with barrier array u32[0] because u32 is uint32",
                       "the barrier array of T::barrier_blocks is int32");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::sync_grid(b.flag(0)); }),
                       "cannot call T::sync_grid with counter flag[0] because flag is int32", "is uint32");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::sync_blocks(b.shared(0)); }),
                       "cannot call T::sync_blocks with barrier array shared[0] because shared is a shared buffer");
}

TEST(DistErrors, ElectionExtentsAreWholeWarps) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.flag(0) = T::cast(T::shuffle_elect(48), T::int32); }),
                       "cannot call T::shuffle_elect(48) because the group extent is a multiple of 32 threads");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { b.flag(0) = T::cast(T::shuffle_elect(1.5f), T::int32); }),
                       "cannot call T::shuffle_elect with the group extent 1.5 of type float32; it is an integer");
}

// ---- where each scope may be called -------------------------------------------------------------

TEST(DistErrors, BlockAndWarpScopePlacement) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::If(b.tx == 0, [&] { T::put_block(b.f16(0), b.f16(32), 8, 1); }); }),
                       "cannot call T::put_block under control flow that depends on the thread index",
                       "the whole block executes it together");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::If(T::shuffle_elect(32), [&] { T::barrier_all_block(); }); }),
                       "cannot call T::barrier_all_block under control flow that depends on the thread index");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::Parallel(4, [&](T::Expr i) { T::get_block(b.f16(i), b.f16(8), 1, 1); }); }),
                       "cannot call T::get_block inside a T::Parallel loop");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::Parallel(4, [&](T::Expr i) { T::put_warp(b.f16(i), b.f16(8), 1, 1); }); }),
                       "cannot call T::put_warp inside a T::Parallel loop because a warp executes it with all 32 lanes");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::putmem_block(b.f16(b.tx), b.f16(0), 2, 1); }),
                       "cannot call T::putmem_block with the argument f16[tx]", "differs between threads",
                       "give it block-uniform arguments");
}

TEST(DistErrors, DistributedOperatorsOutsideAKernel) {
  EXPECT_COMPILE_ERROR(T::prim_func("k", [] { T::get_rank(); }),
                       "cannot call T::get_rank outside T::Kernel; call it inside the kernel body");
  EXPECT_COMPILE_ERROR(T::prim_func("k",
                                    [] {
                                      auto a = T::Tensor("a", {4}, T::int32);
                                      T::quiet();
                                      T::Kernel(1, T::threads(32), [&](T::Expr) { a(0) = 1; });
                                    }),
                       "cannot call T::quiet outside T::Kernel");
}

// The verifier's own checks, on IR built without the front end.
TEST(DistErrors, VerifierRejectsBuiltinsOutsideTheKernel) {
  ir::Buffer a = ir::make_buffer("a", {ir::make_int(4)}, DataType::Int32, ir::Scope::Global);
  ir::Stmt store = ir::make_store(a, {ir::make_int(0)}, ir::make_int(1));
  ir::Stmt kernel = ir::make_kernel({ir::make_int(1), ir::make_int(1), ir::make_int(1)}, 32,
                                    {ir::make_var("bx"), ir::make_var("by"), ir::make_var("bz")}, ir::make_var("tx"), store);
  ir::Stmt fence = ir::make_evaluate(ir::make_builtin(DataType::Int32, "fence_sys", {}));
  EXPECT_COMPILE_ERROR(ir::verify(ir::make_prim_func("f", {a}, ir::make_seq({fence, kernel}))),
                       "cannot call T::fence_sys outside T::Kernel in f");
  ir::Stmt loop = ir::make_for(ir::make_var("i"), ir::make_int(0), ir::make_builtin(DataType::Int32, "get_num_ranks", {}),
                               ir::ForKind::Serial, ir::make_seq({}));
  EXPECT_COMPILE_ERROR(ir::verify(ir::make_prim_func("g", {a}, ir::make_seq({loop, kernel}))),
                       "cannot call T::get_num_ranks outside T::Kernel in g; call it inside the kernel body");
}

// ---- copies and NVSHMEM operands ---------------------------------------------------------------

TEST(DistErrors, CopyOperands) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::put_block(b.f16(0), b.f32(0), 4, 1); }),
                       "cannot call T::put_block from f16 (float16) to f32 (float32)", "use one dtype on both sides");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::put_block(b.f16(0), b.shared(0), 4, 1); }),
                       "cannot call T::put_block with destination shared[0] because shared is a shared buffer");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::get_block(b.f16(0), b.shared(0), -3, 1); }),
                       "cannot call T::get_block with -3 elements; the count is 0 or more");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::If(b.tx < 32, [&] { T::get_warp(b.f16(0), b.shared(0), 4, 1, 0); }); }),
                       "cannot call T::get_warp with unroll=0; unroll is 1 or more");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::put_block(b.f16(0), b.f16(8), 2.0f, 1); }),
                       "cannot call T::put_block with the element count 2.0 of type float32; it is an integer");
}

TEST(DistErrors, NvshmemOperands) {
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::putmem_block(b.f16(0), b.f16(8), 16, -1); }),
                       "cannot call T::putmem_block with rank -1 because NVSHMEM calls name a rank",
                       "pass T::get_rank() for this rank");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::getmem_block(b.f16(0), b.f16(8), -2, 1); }),
                       "cannot call T::getmem_block with -2 bytes; the byte count is 0 or more");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::getmem_nbi_block(b.f16(0), b.shared(0), 16, 1); }),
                       "cannot call T::getmem_nbi_block with source shared[0] because shared is a shared buffer");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::If(b.tx == 0, [&] { T::int_p(b.u32(0), 1, 1); }); }),
                       "cannot call T::int_p with destination u32[0] because u32 is uint32", "is int32");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::putmem_signal_block(b.f16(0), b.f16(8), 16, b.flag(0), 1, T::SignalOp::Set, 1); }),
                       "cannot call T::putmem_signal_block with signal flag[0] because flag is int32", "is uint64");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::putmem_signal_block(b.f16(0), b.f16(8), -16, b.sig(0), 1, T::SignalOp::Set, 1); }),
                       "cannot call T::putmem_signal_block with -16 bytes; the byte count is 0 or more");
  EXPECT_COMPILE_ERROR(kernel_with([&](Bufs& b) { T::If(b.tx == 0, [&] { T::signal_op(b.sig(0), 1, T::SignalOp::Add, -1); }); }),
                       "cannot call T::signal_op with rank -1 because NVSHMEM calls name a rank");
}

TEST(DistErrors, AutoCompilesDistributedKernelsForTheCpuBackend) {
  auto f = kernel_with([](Bufs& b) { b.flag(0) = T::get_rank(); });
  EXPECT_EQ(compile(f, Target::Auto).target(), Target::CPU);
}

// ---- the sim transport at run time -----------------------------------------------------------------

// The deadlock every CI run checks: a wait whose signal is never sent. The run stops with a report
// (rank, block, thread, address, expected and observed value) raised on every rank.
TEST(DistErrors, AWaitWhoseSignalIsNeverSentIsADeadlockReportNotAHang) {
  auto f = T::prim_func("never_signalled", [] {
    auto flag = T::Tensor("flag", {2}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(1), 1, T::get_rank()); });
  });
  Kernel k = cpu(f);
  auto world = dist::World::sim(2);
  std::vector<std::string> messages(2);
  world.run([&](Rank& r) {
    Tensor flag = r.heap().zeros({2}, DataType::Int32);
    r.barrier();
    messages[r.rank()] = message_of([&] { k(flag); });
  });
  for (int r = 0; r < 2; ++r) {
    const std::string& m = messages[r];
    for (const char* part : {"deadlock: every thread of the simulated run (2 ranks) is waiting and none of the waits can be satisfied",
                             "rank 0, block (0, 0, 0): T::wait_eq on flag[1] on rank 0 (this rank) (address 0x",
                             "rank 1, block (0, 0, 0): T::wait_eq on flag[1] on rank 1 (this rank) (address 0x",
                             "in kernel never_signalled, rank 0, block (0, 0, 0) (every thread of the block): expected a value "
                             "== 1, observed 0",
                             "check that every wait's signal is sent"})
      EXPECT_NE(m.find(part), std::string::npos) << "rank " << r << " message lacks \"" << part << "\":\n" << m;
  }
  // Not caught by the rank: run() raises it.
  EXPECT_RUNTIME_ERROR(world.run([&](Rank& r) {
                         Tensor flag = r.heap().zeros({2}, DataType::Int32);
                         k(flag);
                       }),
                       "deadlock", "T::wait_eq on flag[1]", "observed 0");
}

TEST(DistErrors, ADeadlockOutsideAWorldIsReportedToo) {
  auto f = T::prim_func("alone", [] {
    auto flag = T::Tensor("flag", {1}, T::uint64);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) { T::If(bx == 1, [&] { T::signal_wait_until(flag(0), T::Cmp::GE, 3); }); });
  });
  Tensor flag = Tensor::zeros({1}, DataType::UInt64);
  EXPECT_RUNTIME_ERROR(cpu(f)(flag), "deadlock", "(1 rank)", "rank 0, block (1, 0, 0): T::signal_wait_until on flag[0]",
                       "in kernel alone, rank 0, block (1, 0, 0), thread 0: expected a value >= 3, observed 0");
}

TEST(DistErrors, ABarrierOneRankNeverReachesIsADeadlock) {
  auto f = T::prim_func("half_barrier", [] {
    auto bar = T::Tensor("bar", {3}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::barrier_blocks(bar(0)); });
  });
  Kernel k = cpu(f);
  EXPECT_RUNTIME_ERROR(dist::World::sim(3).run([&](Rank& r) {
                         Tensor bar = r.heap().zeros({3}, DataType::Int32);
                         if (r.rank() != 2) k(bar);
                       }),
                       "deadlock", "rank 0, block (0, 0, 0): T::barrier_blocks on bar[0] of rank 0",
                       "waiting for rank(s) 2 (bar[2] = 1)", "rank 2 host code: finished");
}

TEST(DistErrors, AWaitOutOfItsTimeBudget) {
  auto f = T::prim_func("slow", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 1); });
  });
  Kernel k = cpu(f);
  auto world = dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 50});
  std::atomic<bool> done{false};
  EXPECT_RUNTIME_ERROR(world.run([&](Rank& r) {
                         Tensor flag = r.heap().zeros({1}, DataType::Int32);
                         rank_0_while_rank_1_runs(r, done, [&] { k(flag); });
                       }),
                       "a wait ran out of its time budget of 50 ms", "rank 0, block (0, 0, 0)",
                       "T::wait_eq on flag[0] on rank 0 (this rank)", "expected a value == 1, observed 0");
}

// Spin loops over T::ld are bounded by the per-wait budget too (issue 12): a loop on a flag that no
// rank sets stops the run after the budget, naming the load. Rank 1's host code keeps running, so
// the watchdog sees no deadlock; without the budget this loop would spin for ever.
T::PrimFunc spin_on_flag() {
  return T::prim_func("spin", [] {
    auto flag = T::Tensor("flag", {4}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::If(T::get_thread_binding() == 0, [&] { T::While(T::ld(flag(2)) == 0, [] {}); });
    });
  });
}

// A kernel that loads in a spin loop runs its blocks side by side on the CPU backend, as the GPU
// would: block 0 spins until block 1 raises the flag (one after another, block 0 would spin for
// ever).
TEST(DistErrors, ASpinLoopOverLdIsReleasedByAnotherBlockOfItsKernel) {
  auto f = T::prim_func("spin_for_block_1", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    auto out = T::Tensor("out", {2}, T::int32);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) {
      T::If(T::get_thread_binding() == 0, [&] {
        T::If(bx == 0, [&] {
          T::While(T::ld(flag(0)) == 0, [] {});
          out(0) = 1;
        }).Else([&] {
          T::st(flag(0), 1);
          out(1) = 2;
        });
      });
    });
  });
  Tensor flag = Tensor::zeros({1}, DataType::Int32), out = Tensor::zeros({2}, DataType::Int32);
  cpu(f)(flag, out);
  EXPECT_EQ(out.get({0}), 1);
  EXPECT_EQ(out.get({1}), 2);
}

TEST(DistErrors, ASpinLoopOverLdOutOfItsTimeBudget) {
  Kernel k = cpu(spin_on_flag());
  auto world = dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 100});
  std::atomic<bool> done{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_RUNTIME_ERROR(world.run([&](Rank& r) {
                         Tensor flag = r.heap().zeros({4}, DataType::Int32);
                         rank_0_while_rank_1_runs(r, done, [&] { k(flag); });
                       }),
                       "a spin loop over T::ld ran out of its time budget of 100 ms", "rank 0, block (0, 0, 0): ",
                       "T::ld of flag[2] on rank 0 (this rank) (address 0x",
                       ") in kernel spin, rank 0, block (0, 0, 0), thread 0: observed 0",
                       "the values it keeps loading did not change in time");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// The places a spin loop reads may be several, the loads vectors, the spinner a block of a kernel
// that also waits (so each block runs on its own thread), and the flags another rank's.
TEST(DistErrors, ASpinLoopOverSeveralPlacesAndVectorsOutOfItsTimeBudget) {
  auto f = T::prim_func("spin_more", [] {
    auto flag = T::Tensor("flag", {8}, T::int32);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) {
      auto v = T::alloc_local({4}, T::int32, "v");
      T::If(bx == 0, [&] {
        T::If(T::get_thread_binding() == 0, [&] {
          T::While(T::ld(flag(0), T::MemScope::SYS, T::MemSem::Acquire, false, false, 1) +
                           T::ld(flag(1), T::MemScope::SYS, T::MemSem::Acquire, false, false, 1) <
                       2,
                   [&] { T::ld(flag(4), v); });
        });
      }).Else([&] { T::wait_eq(flag(3), 0); });
    });
  });
  Kernel k = cpu(f);
  std::atomic<bool> done{false};
  const std::string m = message_of([&] {
    dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 100}).run([&](Rank& r) {
      Tensor flag = r.heap().zeros({8}, DataType::Int32);
      rank_0_while_rank_1_runs(r, done, [&] { k(flag); });
    });
  });
  EXPECT_NE(m.find("a spin loop over T::ld ran out of its time budget of 100 ms (per-wait timeout, "
                   "TILESCALE_WAIT_TIMEOUT_MS or dist::WorldOptions::wait_timeout_ms): rank 0, block (0, 0, 0): T::ld of "),
            std::string::npos)
      << m;
  // Which of the three loads notices is a matter of timing; each names what it saw.
  EXPECT_TRUE(m.find("T::ld of flag[0] on rank 1 (address") != std::string::npos ||
              m.find("T::ld of flag[1] on rank 1 (address") != std::string::npos ||
              m.find("T::ld of flag[4] on rank 0 (this rank) (address") != std::string::npos)
      << m;
  EXPECT_TRUE(m.find("in kernel spin_more, rank 0, block (0, 0, 0), thread 0: observed 0;") != std::string::npos ||
              m.find("in kernel spin_more, rank 0, block (0, 0, 0), thread 0: observed [0, 0, 0, 0];") != std::string::npos)
      << m;
}

// A spin loop that is released within the budget is no timeout.
TEST(DistErrors, ASpinLoopReleasedInTimeIsNoTimeout) {
  Kernel k = cpu(spin_on_flag());
  auto world = dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 10000});
  world.run([&](Rank& r) {
    Tensor flag = r.heap().zeros({4}, DataType::Int32);
    r.barrier();
    if (r.rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      r.heap().peer(flag, 0).set_flat(2, 1);
    } else {
      k(flag);
    }
  });
}

// Without a budget, a spin loop still ends with the run when another rank fails.
TEST(DistErrors, ASpinLoopStopsWhenAnotherRankFails) {
  Kernel k = cpu(spin_on_flag());
  std::string spinner;
  EXPECT_RUNTIME_ERROR(dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 0}).run([&](Rank& r) {
                         Tensor flag = r.heap().zeros({4}, DataType::Int32);
                         r.barrier();
                         if (r.rank() == 1) {
                           std::this_thread::sleep_for(std::chrono::milliseconds(50));
                           throw RuntimeError("rank 1's own failure");
                         }
                         spinner = message_of([&] { k(flag); });
                       }),
                       "rank 1's own failure");
  EXPECT_NE(spinner.find("the run stopped because rank 1 failed: rank 1's own failure"), std::string::npos) << spinner;
}

// TILESCALE_WAIT_TIMEOUT_MS: digits only; values whose nanoseconds would overflow mean the largest
// budget. WorldOptions::wait_timeout_ms: -1, 0 or more.
class WaitTimeoutVariable {
 public:
  explicit WaitTimeoutVariable(const char* value) { setenv("TILESCALE_WAIT_TIMEOUT_MS", value, 1); }
  ~WaitTimeoutVariable() { unsetenv("TILESCALE_WAIT_TIMEOUT_MS"); }
};

TEST(DistErrors, TheWaitTimeoutVariableTakesDigitsOnly) {
  for (const char* junk : {"junk", "100ms", "-5", " 5", "1e3"}) {
    WaitTimeoutVariable v(junk);
    EXPECT_RUNTIME_ERROR(dist::World::sim(2), "cannot use TILESCALE_WAIT_TIMEOUT_MS=\"" + std::string(junk) +
                                                  "\" because it is not a whole number of milliseconds (digits only)",
                         "set it to the per-wait budget in milliseconds, such as 2000, or to 0 or nothing for none");
  }
  // A waiting kernel called outside a world reads it too.
  WaitTimeoutVariable v("2s");
  auto f = T::prim_func("waits", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 0); });
  });
  EXPECT_RUNTIME_ERROR(cpu(f)(Tensor::zeros({1}, DataType::Int32)), "cannot use TILESCALE_WAIT_TIMEOUT_MS=\"2s\"");
}

// Issue 12: 10000000000000 ms overflowed into nanoseconds and every wait timed out at once.
TEST(DistErrors, HugeWaitTimeoutsMeanTheLargestBudget) {
  for (const char* huge : {"10000000000000", "99999999999999999999999999"}) {
    WaitTimeoutVariable v(huge);
    EXPECT_EQ(sim::wait_timeout_from_environment(), sim::kMaxWaitTimeoutMs) << huge;
  }
  {
    WaitTimeoutVariable v("0");
    EXPECT_EQ(sim::wait_timeout_from_environment(), 0);
  }
  {
    WaitTimeoutVariable v("");
    EXPECT_EQ(sim::wait_timeout_from_environment(), 0);
  }
  // A wait that takes a while, under each huge budget: no timeout.
  auto f = T::prim_func("waits_a_while", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 1); });
  });
  Kernel k = cpu(f);
  auto run = [&](const dist::World& world) {
    world.run([&](Rank& r) {
      Tensor flag = r.heap().zeros({1}, DataType::Int32);
      r.barrier();
      if (r.rank() == 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        r.heap().peer(flag, 0).set_flat(0, 1);
      } else {
        k(flag);
      }
    });
  };
  WaitTimeoutVariable v("10000000000000");
  run(dist::World::sim(2));
  run(dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = 10000000000000}));
  run(dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = INT64_MAX}));
}

TEST(DistErrors, WaitTimeoutOptionBelowMinusOne) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(2, dist::WorldOptions{.heap_bytes = std::size_t(1) << 20, .wait_timeout_ms = -5}),
                       "cannot create a sim world with wait_timeout_ms = -5 because the per-wait budget is a number of "
                       "milliseconds, 0 for none or -1 for TILESCALE_WAIT_TIMEOUT_MS; use one of those");
}

// A heap size that would wrap once the runtime adds its reserved bytes is refused by every factory
// (local and ipc check it before looking for a GPU).
TEST(DistErrors, HeapBeyondTwoToThe52Bytes) {
  const dist::WorldOptions huge{.heap_bytes = SIZE_MAX - 100};
  const std::string why = "-byte heaps because a symmetric heap holds at most 2^52 bytes; use a smaller WorldOptions::heap_bytes";
  EXPECT_RUNTIME_ERROR(dist::World::sim(2, huge), "cannot create a sim world with ", why);
  EXPECT_RUNTIME_ERROR(dist::World::local(2, huge), "cannot create a local world with ", why);
  EXPECT_RUNTIME_ERROR(dist::World::from_env(huge), "cannot create an ipc world with ", why);
}

TEST(DistErrors, MismatchedSymmetricAllocationsRaiseOnEveryRank) {
  std::vector<std::string> messages(3);
  dist::World::sim(3).run([&](Rank& r) {
    messages[r.rank()] = message_of([&] {
      r.heap().empty({4, 4}, r.rank() == 1 ? DataType::Float32 : DataType::Float16);
    });
  });
  for (const auto& m : messages) {
    EXPECT_NE(m.find("cannot make symmetric allocation #0 because the ranks asked for different things: rank 0 asked "
                     "for float16[4, 4] (32 bytes), rank 1 asked for float32[4, 4] (64 bytes), rank 2 asked for "
                     "float16[4, 4] (32 bytes)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("every rank must make the same allocations (shapes and dtypes) in the same order"), std::string::npos);
  }
  // The same allocations in another order.
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         const bool first = r.rank() == 0;
                         r.heap().zeros({8}, first ? DataType::Int32 : DataType::Float64);
                         r.heap().zeros({8}, first ? DataType::Float64 : DataType::Int32);
                       }),
                       "symmetric allocation #0", "rank 0 asked for int32[8] (32 bytes), rank 1 asked for float64[8]");
}

TEST(DistErrors, AnAllocationOneRankNeverMakesIsADeadlock) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         if (r.rank() == 0) r.heap().empty({4}, DataType::Int32);
                       }),
                       "deadlock", "rank 0 host code: symmetric allocation #0 of int32[4], waiting for rank 1 to make theirs",
                       "rank 1 host code: finished");
}

TEST(DistErrors, TheSymmetricHeapRunsOut) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(2, dist::WorldOptions{.heap_bytes = 4096, .wait_timeout_ms = 0}).run([&](Rank& r) {
                         for (int i = 0; i < 3; ++i) r.heap().empty({512}, DataType::Int32);
                       }),
                       "cannot make symmetric allocation #2 of int32[512] (2048 bytes) because the symmetric heap holds "
                       "4096 bytes per rank and 4096 are in use",
                       "raise dist::WorldOptions::heap_bytes");
}

TEST(DistErrors, HostApiMisuse) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(0), "cannot create a world of 0 ranks; tilescale runs 1 to 64 ranks");
  EXPECT_RUNTIME_ERROR(dist::World::sim(65), "cannot create a world of 65 ranks");
  EXPECT_RUNTIME_ERROR(dist::World::sim(1).run([](Rank& r) { r.heap().empty({-1}, DataType::Int32); }),
                       "cannot allocate int32[-1] in the symmetric heap because dimensions are 0 or more");
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([](Rank& r) { r.heap().peer(Tensor::zeros({2}, DataType::Int32), 1); }),
                       "cannot view int32[2] on cpu on rank 1 because it is not in rank", "symmetric heap");
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([](Rank& r) { r.heap().peer(r.heap().zeros({2}, DataType::Int32), 2); }),
                       "cannot view int32[2] on cpu on rank 2 because the world has ranks 0 to 1");
}

// Operands at run time: ranks, the symmetric heap, bounds, alignment.
TEST(DistErrors, RemoteOperandsMustBeInTheSymmetricHeapOfARealRank) {
  auto f = T::prim_func("remote_store", [] {
    auto a = T::Tensor("a", {4}, T::int32);
    auto pe = T::Tensor("pe", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::If(T::get_thread_binding() == 0, [&] { T::st(a(1), 1, T::MemScope::SYS, T::MemSem::Release, false, pe(0)); }); });
  });
  Kernel k = cpu(f);
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         Tensor pe = Tensor::zeros({1}, DataType::Int32);
                         pe.fill(1 - r.rank());
                         k(Tensor::zeros({4}, DataType::Int32), pe);
                       }),
                       "cannot access a[1] in T::st on rank", "because it is not in the symmetric heap");
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         Tensor pe = r.heap().zeros({1}, DataType::Int32);
                         pe.fill(5);
                         k(r.heap().zeros({4}, DataType::Int32), pe);
                       }),
                       "cannot access a[1] in T::st on rank 5", "because the run has 2 ranks (0 to 1)");
}

TEST(DistErrors, CountsOutsideTheirBuffersAndMisalignedAccesses) {
  auto copy = T::prim_func("copy", [] {
    auto a = T::Tensor("a", {10}, T::float32);
    auto n = T::Tensor("n", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::put_block(a(6), a(0), n(0), 0); });
  });
  Tensor a = Tensor::zeros({10}, DataType::Float32), n = Tensor::zeros({1}, DataType::Int32);
  n.fill(5);
  EXPECT_RUNTIME_ERROR(cpu(copy)(a, n), "cannot call T::put_block on 5 elements from a[6]",
                       "because a has only 4 elements from there");
  n.fill(-1);
  EXPECT_RUNTIME_ERROR(cpu(copy)(a, n), "cannot call T::put_block on a[6] with a count of -1", "counts are 0 or more");

  auto mem = T::prim_func("mem", [] {
    auto a = T::Tensor("a", {10}, T::float32);
    auto n = T::Tensor("n", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::putmem_block(a(6), a(0), n(0), 0); });
  });
  n.fill(20);
  EXPECT_RUNTIME_ERROR(cpu(mem)(a, n), "cannot call T::putmem_block on 20 bytes at a[6]", "because a has 16 bytes from there");
  n.fill(4);
  auto bad_rank = T::prim_func("bad_rank", [] {
    auto a = T::Tensor("a", {10}, T::float32);
    auto pe = T::Tensor("pe", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::putmem_block(a(6), a(0), 4, pe(0)); });
  });
  Tensor pe = Tensor::zeros({1}, DataType::Int32);
  pe.fill(-1);
  EXPECT_RUNTIME_ERROR(cpu(bad_rank)(a, pe), "cannot call T::putmem_block with rank -1", "because the run has 1 rank; pass a rank from 0 to 0");
  auto sig_rank = T::prim_func("sig_rank", [] {
    auto a = T::Tensor("a", {10}, T::float32);
    auto s = T::Tensor("s", {1}, T::uint64);
    auto pe = T::Tensor("pe", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::putmem_signal_block(a(6), a(0), 4, s(0), 1, T::SignalOp::Set, pe(0)); });
  });
  pe.fill(3);
  EXPECT_RUNTIME_ERROR(cpu(sig_rank)(a, Tensor::zeros({1}, DataType::UInt64), pe),
                       "cannot call T::putmem_signal_block with rank 3", "pass a rank from 0 to 0");
  auto sig_room = T::prim_func("sig_room", [] {
    auto a = T::Tensor("a", {10}, T::float32);
    auto s = T::Tensor("s", {1}, T::uint64);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::putmem_signal_block(a(6), a(0), 40, s(0), 1, T::SignalOp::Set, 0); });
  });
  EXPECT_RUNTIME_ERROR(cpu(sig_room)(a, Tensor::zeros({1}, DataType::UInt64)),
                       "cannot call T::putmem_signal_block on 40 bytes at a[6]", "because a has 16 bytes from there");

  auto vec = T::prim_func("vec", [] {
    auto a = T::Tensor("a", {16}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto v = T::alloc_local({4}, T::int32, "v");
      T::If(T::get_thread_binding() == 0, [&] { T::ld(a(1), v); });
    });
  });
  EXPECT_RUNTIME_ERROR(cpu(vec)(Tensor::zeros({16}, DataType::Int32)),
                       "cannot call T::ld on a[1]", "because its address is not 16-byte aligned");
  auto oob = T::prim_func("oob", [] {
    auto a = T::Tensor("a", {4}, T::int32);
    auto i = T::Tensor("i", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(a(i(0)), 0); });
  });
  Tensor i = Tensor::zeros({1}, DataType::Int32);
  i.fill(4);
  EXPECT_RUNTIME_ERROR(cpu(oob)(Tensor::zeros({4}, DataType::Int32), i), "out-of-bounds operand a[4] (shape [4])");
}

TEST(DistErrors, AnNvshmemBarrierCalledTwiceByOneRank) {
  auto f = T::prim_func("twice", [] {
    auto x = T::Tensor("x", {1}, T::int32);
    T::Kernel(2, T::threads(32), [&](T::Expr) { T::barrier_all_block(); });
  });
  Kernel k = cpu(f);
  std::atomic<bool> done{false};
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         Tensor x = r.heap().zeros({1}, DataType::Int32);
                         rank_0_while_rank_1_runs(r, done, [&] { k(x); });
                       }),
                       "cannot call T::barrier_all_block in kernel twice, rank 0, block (",
                       "because rank 0 already called it in kernel twice, rank 0, block (", "it takes one call per rank");
}

TEST(DistErrors, AFailingRankStopsTheOthers) {
  auto f = T::prim_func("waits", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 1); });
  });
  Kernel k = cpu(f);
  std::string other;
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([&](Rank& r) {
                         Tensor flag = r.heap().zeros({1}, DataType::Int32);
                         if (r.rank() == 0) throw RuntimeError("rank 0's own failure");
                         other = message_of([&] { k(flag); });
                       }),
                       "rank 0's own failure");
  EXPECT_NE(other.find("the run stopped because rank 0 failed: rank 0's own failure"), std::string::npos) << other;
}

TEST(DistErrors, TooManyBlocksToSimulate) {
  auto f = T::prim_func("huge", [] {
    auto flag = T::Tensor("flag", {1}, T::int32);
    T::Kernel(5000, T::threads(32), [&](T::Expr) { T::wait_eq(flag(0), 0); });
  });
  EXPECT_RUNTIME_ERROR(cpu(f)(Tensor::zeros({1}, DataType::Int32)), "cannot simulate kernel huge with 5000 blocks",
                       "at most 4096");
}

TEST(DistErrors, RunningADistributedExampleAsAsked) {
  EXPECT_RUNTIME_ERROR(examples::run_distributed_example("nope", dist::World::sim(2), {}), "cannot run distributed example nope",
                       "use one of simple_shift, allgather_push");
  const auto* cannon = examples::find_distributed_example("cannon");
  ASSERT_NE(cannon, nullptr);
  EXPECT_RUNTIME_ERROR(examples::run_distributed_example("cannon", dist::World::sim(2), cannon->test_sizes),
                       "cannot run cannon with 2 ranks", "2 ranks do not form a square mesh");
  const auto* gemm_rs = examples::find_distributed_example("gemm_rs");
  EXPECT_RUNTIME_ERROR(examples::run_distributed_example("gemm_rs", dist::World::sim(4),
                                                         examples::parse_sizes("M=96", gemm_rs->test_sizes)),
                       "M=96 is not a multiple of 4 ranks x the tile 32");
  const auto* pre = examples::find_distributed_example("pre_attn_all2all");
  EXPECT_RUNTIME_ERROR(examples::run_distributed_example("pre_attn_all2all", dist::World::sim(3), pre->test_sizes),
                       "H=8 is not a multiple of the 3 ranks");
}

TEST(DistErrors, SymmetricAllocationWhoseSizeOverflows) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(1).run([](Rank& r) { r.heap().empty({std::int64_t{1} << 62, 4}, DataType::Int32); }),
                       "cannot allocate int32[4611686018427387904, 4] in the symmetric heap because its size in bytes "
                       "exceeds 2^63-1");
}

// A rank that throws something that is not a std::exception stops the run with a RuntimeError; the
// process goes on (it used to end in std::terminate).
TEST(DistErrors, ARankThrowingANonStdExceptionIsARuntimeError) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(2).run([](Rank& r) {
                         if (r.rank() == 1) throw 42;
                         r.barrier();
                       }),
                       "rank 1 threw an exception that is not a std::exception");
  // The user's own std exceptions pass through as they were thrown.
  EXPECT_THROW(dist::World::sim(1).run([](Rank&) { throw std::out_of_range("mine"); }), std::out_of_range);
}

TEST(DistErrors, AHeapThatCannotBeAllocatedIsARuntimeError) {
  EXPECT_RUNTIME_ERROR(dist::World::sim(2, dist::WorldOptions{.heap_bytes = dist::kMaxHeapBytes, .wait_timeout_ms = 0}),
                       "cannot create a sim world of 2 ranks with 4503599627370496-byte heaps because memory ran out");
}

TEST(DistErrors, WorldRunInsideWorldRun) {
  auto outer = dist::World::sim(2), inner = dist::World::sim(2);
  EXPECT_RUNTIME_ERROR(outer.run([&](Rank&) { inner.run([](Rank&) {}); }),
                       "cannot call World::run from inside World::run", "after the outer run returns");
  EXPECT_RUNTIME_ERROR(outer.run([&](Rank&) { outer.run([](Rank&) {}); }), "cannot call World::run from inside World::run");
  // Both worlds still run afterwards.
  std::atomic<int> ran{0};
  outer.run([&](Rank&) { ++ran; });
  inner.run([&](Rank&) { ++ran; });
  EXPECT_EQ(ran.load(), 4);
}

}  // namespace
}  // namespace tilescale::test
