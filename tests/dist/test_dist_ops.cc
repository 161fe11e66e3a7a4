// Every distributed operator runs on the sim transport with the meaning REFERENCE.md §2 gives it.
#include "test_util.h"

namespace tilescale::test {
namespace {

using dist::Rank;

// Runs fn on `ranks` ranks of a fresh sim world, which it returns: tensors of its symmetric heaps
// stay valid while it lives.
dist::World on_ranks(int ranks, const std::function<void(Rank&)>& fn) {
  dist::World world = dist::World::sim(ranks);
  world.run(fn);
  return world;
}

TEST(DistOps, RankAndNumRanks) {
  auto f = T::prim_func("ranks", [] {
    auto out = T::Tensor("out", {2}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      out(0) = T::get_rank();
      out(1) = T::get_num_ranks();
    });
  });
  Kernel k = cpu(f);
  on_ranks(3, [&](Rank& r) {
    Tensor out = r.heap().zeros({2}, DataType::Int32);
    k(out);
    EXPECT_EQ(out.get({0}), r.rank());
    EXPECT_EQ(out.get({1}), 3);
  });
}

TEST(DistOps, PutBlockShiftsToTheNextRank) {
  const std::int64_t M = 10, N = 7;
  auto f = T::prim_func("shift", [&] {
    auto src = T::Tensor("src", {M, N}, T::float32);
    auto dst = T::Tensor("dst", {M, N}, T::float32);
    T::Kernel(2, T::threads(64), [&](T::Expr bx) {
      T::Expr peer = (T::get_rank() + 1) % T::get_num_ranks();
      T::Expr rows = T::min(5, M - bx * 5);
      T::put_block(src(bx * 5, 0), dst(bx * 5, 0), rows * N, peer);
    });
  });
  Kernel k = cpu(f);
  const int P = 3;
  std::vector<Tensor> srcs(P), dsts(P);
  on_ranks(P, [&](Rank& r) {
    srcs[r.rank()] = r.heap().empty({M, N}, DataType::Float32);
    srcs[r.rank()].fill_random(r.rank() + 1);
    dsts[r.rank()] = r.heap().zeros({M, N}, DataType::Float32);
    r.barrier();
    k(srcs[r.rank()], dsts[r.rank()]);
    r.barrier();
    EXPECT_TRUE(equal(dsts[r.rank()], srcs[(r.rank() + P - 1) % P]));
  });
}

TEST(DistOps, WaitSeesTheDataPublishedBeforeARelease) {
  const std::int64_t N = 256;
  auto f = T::prim_func("pingpong", [&] {
    auto data = T::Tensor("data", {N}, T::float32);
    auto flag = T::Tensor("flag", {1}, T::int32);
    auto out = T::Tensor("out", {N}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      T::Expr me = T::get_rank();
      T::If(me == 0, [&] {
        T::Parallel(N, [&](T::Expr i) { T::st(data(i), T::cast(i, T::float32), T::MemScope::SYS, T::MemSem::Weak, false, 1); });
        T::fence_sys();
        T::If(T::get_thread_binding() == 0, [&] { T::st(flag(0), 1, T::MemScope::SYS, T::MemSem::Release, false, 1); });
      }).Else([&] {
        T::wait_eq(flag(0), 1);
        T::Parallel(N, [&](T::Expr i) { out(i) = data(i); });
      });
    });
  });
  Kernel k = cpu(f);
  on_ranks(2, [&](Rank& r) {
    Tensor data = r.heap().zeros({N}, DataType::Float32);
    Tensor flag = r.heap().zeros({1}, DataType::Int32);
    Tensor out = r.heap().zeros({N}, DataType::Float32);
    r.barrier();
    k(data, flag, out);
    if (r.rank() == 1) {
      for (int i = 0; i < N; ++i) ASSERT_EQ(out.get({i}), i);
    }
  });
}

// Every legal ld/st combination moves the value, for 2-, 4- and 8-byte elements and 16-byte vectors,
// to and from the next rank.
TEST(DistOps, LdAndStOfEverySemanticsScopeAndSize) {
  struct Variant {
    T::MemScope scope;
    T::MemSem ld_sem, st_sem;
    bool na, nc;
  };
  std::vector<Variant> variants;
  for (auto scope : {T::MemScope::CTA, T::MemScope::GPU, T::MemScope::SYS}) {
    variants.push_back({scope, T::MemSem::Relaxed, T::MemSem::Relaxed, false, false});
    variants.push_back({scope, T::MemSem::Acquire, T::MemSem::Release, true, false});
  }
  variants.push_back({T::MemScope::SYS, T::MemSem::Weak, T::MemSem::Weak, false, false});
  variants.push_back({T::MemScope::SYS, T::MemSem::Weak, T::MemSem::Weak, true, true});
  variants.push_back({T::MemScope::GPU, T::MemSem::Volatile, T::MemSem::Volatile, false, false});
  for (DataType t : {DataType::Float16, DataType::Int32, DataType::UInt64, DataType::Float64}) {
    const std::int64_t lanes = 16 / bytes(t);
    for (const auto& v : variants) {
      // Each rank stores its values into the next rank's `in` (scalar and vector form), then,
      // after a host barrier, a second kernel loads them back into `out` with ld.
      auto put = T::prim_func("put", [&] {
        auto src = T::Tensor("src", {2 * lanes}, t);
        auto in = T::Tensor("in", {2 * lanes}, t);
        T::Kernel(1, T::threads(32), [&](T::Expr) {
          T::Expr next = (T::get_rank() + 1) % T::get_num_ranks();
          auto vec = T::alloc_local({lanes}, t, "vec");
          T::Parallel(lanes, [&](T::Expr i) { T::st(in(i), src(i), v.scope, v.st_sem, v.na, next); });
          T::If(T::get_thread_binding() == 0, [&] {
            T::ld(src(lanes), vec, v.scope, v.ld_sem, v.na, v.nc);
            T::st(in(lanes), vec, v.scope, v.st_sem, v.na, next);
          });
        });
      });
      auto get = T::prim_func("get", [&] {
        auto in = T::Tensor("in", {2 * lanes}, t);
        auto out = T::Tensor("out", {2 * lanes}, t);
        T::Kernel(1, T::threads(32), [&](T::Expr) {
          auto vec = T::alloc_local({lanes}, t, "vec");
          T::Expr me = T::get_rank();
          T::If(T::get_thread_binding() == 0, [&] {
            T::ld(in(0), out(0), v.scope, v.ld_sem, v.na, v.nc, me);
            T::ld(in(lanes), vec, v.scope, v.ld_sem, v.na, v.nc);
            T::st(out(lanes), vec, v.scope, v.st_sem, v.na);
          });
          T::Parallel(lanes - 1, [&](T::Expr i) { out(i + 1) = T::ld(in(i + 1), v.scope, v.ld_sem, v.na, v.nc); });
        });
      });
      Kernel kput = cpu(put), kget = cpu(get);
      std::vector<Tensor> src(2), out(2);
      const auto world = on_ranks(2, [&](Rank& r) {
        src[r.rank()] = r.heap().empty({2 * lanes}, t);
        src[r.rank()].fill_random(7 + r.rank(), 0, 100);
        Tensor in = r.heap().zeros({2 * lanes}, t);
        out[r.rank()] = r.heap().zeros({2 * lanes}, t);
        r.barrier();
        kput(src[r.rank()], in);
        r.barrier();
        kget(in, out[r.rank()]);
      });
      for (int r = 0; r < 2; ++r) EXPECT_TRUE(equal(out[r], src[1 - r])) << name(t) << " sem " << static_cast<int>(v.ld_sem);
    }
  }
}

TEST(DistOps, EveryWaitRelationWaitsForItsValue) {
  for (const char* rel : {"eq", "ne", "ge", "le", "gt", "lt"}) {
    // Rank 1 sets the flag to 5 after publishing data; rank 0's wait holds for 5, not the start value.
    auto f = T::prim_func("waits", [&] {
      auto flag = T::Tensor("flag", {1}, T::int64);
      auto data = T::Tensor("data", {1}, T::int32);
      auto out = T::Tensor("out", {1}, T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::If(T::get_rank() == 1, [&] {
          T::If(T::get_thread_binding() == 0, [&] {
            T::st(data(0), 42, T::MemScope::SYS, T::MemSem::Weak, false, 0);
            T::st(flag(0), 5, T::MemScope::SYS, T::MemSem::Release, false, 0);
          });
        }).Else([&] {
          const std::string r = rel;
          if (r == "eq") T::wait_eq(flag(0), 5);
          if (r == "ne") T::wait_ne(flag(0), 10, -1, T::MemScope::GPU);
          if (r == "ge") T::wait_ge(flag(0), 5, 0);
          if (r == "le") T::wait_le(flag(0), 5, -1, T::MemScope::SYS, T::MemSem::Volatile);
          if (r == "gt") T::wait_gt(flag(0), 4);
          if (r == "lt") T::wait_lt(flag(0), 6);
          out(0) = data(0);
        });
      });
    });
    Kernel k = cpu(f);
    on_ranks(2, [&](Rank& r) {
      Tensor flag = r.heap().empty({1}, DataType::Int64);
      flag.fill(std::string(rel) == "ge" || std::string(rel) == "gt" ? 0 : 10);  // the wait must not hold yet
      Tensor data = r.heap().zeros({1}, DataType::Int32), out = r.heap().zeros({1}, DataType::Int32);
      r.barrier();
      k(flag, data, out);
      if (r.rank() == 0) {
        EXPECT_EQ(out.get({0}), 42) << rel;
      }
    });
  }
}

TEST(DistOps, AtomAddReturnsDistinctOldValuesAcrossRanksAndThreads) {
  auto f = T::prim_func("count", [] {
    auto counter = T::Tensor("counter", {1}, T::int32);
    auto total = T::Tensor("total", {1}, T::float64);
    auto olds = T::Tensor("olds", {64}, T::int32);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) {
      T::Expr tx = T::get_thread_binding();
      olds(bx * 32 + tx) = T::atom_add(counter(0), 1, T::MemScope::SYS, T::MemSem::AcqRel, 0);
      T::If(tx == 0, [&] { T::atom_add(total(0), 0.5, T::MemScope::GPU, T::MemSem::Release, 0); });
    });
  });
  Kernel k = cpu(f);
  const int P = 3;
  std::vector<Tensor> olds(P);
  Tensor counter0, total0;
  const auto world = on_ranks(P, [&](Rank& r) {
    Tensor counter = r.heap().zeros({1}, DataType::Int32), total = r.heap().zeros({1}, DataType::Float64);
    olds[r.rank()] = r.heap().zeros({64}, DataType::Int32);
    if (r.rank() == 0) counter0 = counter, total0 = total;
    r.barrier();
    k(counter, total, olds[r.rank()]);
    r.barrier();
  });
  EXPECT_EQ(counter0.get({0}), P * 64);
  EXPECT_EQ(total0.get({0}), P * 2 * 0.5);
  std::vector<bool> seen(P * 64, false);
  for (const auto& o : olds)
    for (int i = 0; i < 64; ++i) {
      const auto v = static_cast<std::int64_t>(o.get({i}));
      ASSERT_TRUE(v >= 0 && v < P * 64 && !seen[v]) << "old value " << v;
      seen[v] = true;
    }
}

// Repeated barriers separate the rounds of a ring exchange: a round's value is read only after
// every rank has written it, and overwritten only after every rank has read it.
TEST(DistOps, BarrierBlocksAndSyncBlocksSeparateRounds) {
  const int rounds = 5;
  auto f = T::prim_func("rounds", [&] {
    auto slot = T::Tensor("slot", {1}, T::int32);
    auto bar = T::Tensor("bar", {4}, T::int32);
    auto seen = T::Tensor("seen", {rounds}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr me = T::get_rank(), n = T::get_num_ranks();
      T::serial(rounds, [&](T::Expr i) {
        T::If(T::get_thread_binding() == 0, [&] { T::st(slot(0), i * 100 + me, T::MemScope::SYS, T::MemSem::Weak, false, (me + 1) % n); });
        T::barrier_blocks(bar(0));
        seen(i) = slot(0);
        T::sync_blocks(bar(0));
      });
    });
  });
  Kernel k = cpu(f);
  const int P = 4;
  on_ranks(P, [&](Rank& r) {
    Tensor slot = r.heap().zeros({1}, DataType::Int32), bar = r.heap().zeros({4}, DataType::Int32);
    Tensor seen = r.heap().zeros({rounds}, DataType::Int32);
    r.barrier();
    k(slot, bar, seen);
    for (int i = 0; i < rounds; ++i) EXPECT_EQ(seen.get({i}), i * 100 + (r.rank() + P - 1) % P);
    for (int p = 0; p < 4; ++p) EXPECT_EQ(bar.get({p}), 0) << "the barrier array returns to zero";
  });
}

TEST(DistOps, SyncGridOrdersTheBlocksOfAKernel) {
  auto f = T::prim_func("grid", [] {
    auto cells = T::Tensor("cells", {6}, T::int32);
    auto out = T::Tensor("out", {6}, T::int32);
    auto counter = T::Tensor("counter", {1}, T::uint32);
    T::Kernel(6, T::threads(32), [&](T::Expr bx) {
      cells(bx) = bx + 1;
      T::sync_grid(counter(0));
      out(bx) = cells((bx + 1) % 6);
      T::sync_grid(counter(0));
      cells(bx) = 0;
      T::sync_grid(counter(0));
    });
  });
  Tensor cells = Tensor::zeros({6}, DataType::Int32), out = Tensor::zeros({6}, DataType::Int32);
  Tensor counter = Tensor::zeros({1}, DataType::UInt32);
  cpu(f)(cells, out, counter);  // outside a world: a world of one rank of its own
  for (int b = 0; b < 6; ++b) EXPECT_EQ(out.get({b}), (b + 1) % 6 + 1);
}

TEST(DistOps, WarpVotesElectionAndSyncWarp) {
  auto f = T::prim_func("warps", [] {
    auto v = T::Tensor("v", {64}, T::int32);
    auto any = T::Tensor("any", {64}, T::int32);
    auto all = T::Tensor("all", {64}, T::int32);
    auto elect = T::Tensor("elect", {64}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      any(tx) = T::cast(T::warp_any(v(tx) > 0), T::int32);
      all(tx) = T::cast(T::warp_all(v(tx) > 0, 0x0000ffffu), T::int32);
      T::sync_warp();
      elect(tx) = T::cast(T::shuffle_elect(32), T::int32) + 2 * T::cast(T::shuffle_elect(), T::int32);
    });
  });
  // Warp 0: lane 3 positive, lanes 0-15 positive; warp 1: nothing positive.
  Tensor v = tensor_from({64}, DataType::Int32, [](const Shape& i) { return i[0] < 16 ? 1.0 : 0.0; });
  Tensor any = Tensor::zeros({64}, DataType::Int32), all = Tensor::zeros({64}, DataType::Int32);
  Tensor elect = Tensor::zeros({64}, DataType::Int32);
  cpu(f)(v, any, all, elect);
  for (int t = 0; t < 64; ++t) {
    EXPECT_EQ(any.get({t}), t < 32) << t;
    EXPECT_EQ(all.get({t}), t < 32) << t;  // lanes 0-15 of warp 0 are all positive
    EXPECT_EQ(elect.get({t}), (t % 32 == 0 ? 1 : 0) + (t == 0 ? 2 : 0)) << t;
  }
}

// The four TileScale copies, at counts that are not multiples of the warp or the vector width.
TEST(DistOps, PutAndGetByWarpAndBlock) {
  const std::int64_t n = 77;
  auto f = T::prim_func("copies", [&] {
    auto src = T::Tensor("src", {n}, T::float16);
    auto a = T::Tensor("a", {n}, T::float16);
    auto b = T::Tensor("b", {n}, T::float16);
    auto c = T::Tensor("c", {n}, T::float16);
    auto d = T::Tensor("d", {n}, T::float16);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr me = T::get_rank(), next = (me + 1) % T::get_num_ranks(), prev = (me + T::get_num_ranks() - 1) % T::get_num_ranks();
      auto staged = T::alloc_shared({n}, T::float16, "staged");
      T::If(T::get_thread_binding() < 32, [&] { T::put_warp(src(0), a(0), n, next, 3, true); });
      T::put_block(src(0), b(0), n, next);
      T::get_block(src(0), staged(0), n, prev);
      T::If(T::get_thread_binding() >= 32, [&] { T::get_warp(staged(0), c(0), n, -1, 1, false); });
      T::If(T::get_thread_binding() < 32, [&] { T::get_warp(src(1), d(1), n - 1, prev); });
    });
  });
  Kernel k = cpu(f);
  const int P = 3;
  std::vector<Tensor> src(P), got(P);
  on_ranks(P, [&](Rank& r) {
    src[r.rank()] = r.heap().empty({n}, DataType::Float16);
    src[r.rank()].fill_random(r.rank());
    std::vector<Tensor> outs;
    for (int i = 0; i < 4; ++i) outs.push_back(r.heap().zeros({n}, DataType::Float16));
    r.barrier();
    k(src[r.rank()], outs[0], outs[1], outs[2], outs[3]);
    r.barrier();
    const Tensor& prev = src[(r.rank() + P - 1) % P];
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(equal(outs[i], prev)) << "output " << i;
    Tensor want = copy_of(prev);
    want.set({0}, 0);
    EXPECT_TRUE(equal(outs[3], want));
  });
}

// NVSHMEM's puts, gets, int_p and signals on the sim transport, each variant moving one slice.
TEST(DistOps, NvshmemPutsGetsAndSignals) {
  const std::int64_t n = 16;  // elements per variant
  const std::vector<std::string> puts = {"putmem", "putmem_nbi", "putmem_warp", "putmem_nbi_warp", "putmem_block", "putmem_nbi_block"};
  auto f = T::prim_func("nvshmem", [&] {
    auto src = T::Tensor("src", {n}, T::float32);
    auto put_dst = T::Tensor("put_dst", {6, n}, T::float32);
    auto get_dst = T::Tensor("get_dst", {6, n}, T::float32);
    auto sig_dst = T::Tensor("sig_dst", {6, n}, T::float32);
    auto sig = T::Tensor("sig", {8}, T::uint64);
    auto ints = T::Tensor("ints", {1}, T::int32);
    auto seen = T::Tensor("seen", {1}, T::uint64);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr me = T::get_rank(), n_ranks = T::get_num_ranks(), next = (me + 1) % n_ranks, prev = (me + n_ranks - 1) % n_ranks;
      T::Expr tx = T::get_thread_binding();
      const std::int64_t bytes = n * 4;
      T::If(tx == 0, [&] {
        T::putmem(put_dst(0, 0), src(0), bytes, next);
        T::putmem_nbi(put_dst(1, 0), src(0), bytes, next);
        T::getmem(get_dst(0, 0), src(0), bytes, prev);
        T::getmem_nbi(get_dst(1, 0), src(0), bytes, prev);
        T::putmem_signal(sig_dst(0, 0), src(0), bytes, sig(0), 1, T::SignalOp::Set, next);
        T::putmem_signal_nbi(sig_dst(1, 0), src(0), bytes, sig(1), 2, T::SignalOp::Add, next);
        T::int_p(ints(0), me + 10, next);
        T::signal_op(sig(6), 5, T::SignalOp::Add, next);
        T::signal_op(sig(6), 5, T::SignalOp::Add, next);
        T::fence();
      });
      T::If(tx < 32, [&] {
        T::putmem_warp(put_dst(2, 0), src(0), bytes, next);
        T::putmem_nbi_warp(put_dst(3, 0), src(0), bytes, next);
        T::getmem_warp(get_dst(2, 0), src(0), bytes, prev);
        T::getmem_nbi_warp(get_dst(3, 0), src(0), bytes, prev);
        T::putmem_signal_warp(sig_dst(2, 0), src(0), bytes, sig(2), 3, T::SignalOp::Set, next);
        T::putmem_signal_nbi_warp(sig_dst(3, 0), src(0), bytes, sig(3), 4, T::SignalOp::Set, next);
      });
      T::putmem_block(put_dst(4, 0), src(0), bytes, next);
      T::putmem_nbi_block(put_dst(5, 0), src(0), bytes, next);
      T::getmem_block(get_dst(4, 0), src(0), bytes, prev);
      T::getmem_nbi_block(get_dst(5, 0), src(0), bytes, prev);
      T::putmem_signal_block(sig_dst(4, 0), src(0), bytes, sig(4), 5, T::SignalOp::Set, next);
      T::putmem_signal_nbi_block(sig_dst(5, 0), src(0), bytes, sig(5), 6, T::SignalOp::Add, next);
      T::quiet();
      T::If(tx == 0, [&] { seen(0) = T::signal_wait_until(sig(6), T::Cmp::GE, 10); });
      T::signal_wait_until(sig(5), T::Cmp::EQ, 6);
      T::signal_wait_until(sig(0), T::Cmp::NE, 0);
      T::signal_wait_until(sig(1), T::Cmp::GT, 1);
      T::signal_wait_until(sig(2), T::Cmp::LT, 4);
      T::signal_wait_until(sig(3), T::Cmp::LE, 4);
      T::barrier_all_block();
    });
  });
  Kernel k = cpu(f);
  const int P = 2;
  std::vector<Tensor> src(P);
  on_ranks(P, [&](Rank& r) {
    const int me = r.rank(), prev = (me + P - 1) % P;
    src[me] = r.heap().empty({n}, DataType::Float32);
    src[me].fill_random(me);
    Tensor put_dst = r.heap().zeros({6, n}, DataType::Float32), get_dst = r.heap().zeros({6, n}, DataType::Float32);
    Tensor sig_dst = r.heap().zeros({6, n}, DataType::Float32), sig = r.heap().zeros({8}, DataType::UInt64);
    Tensor ints = r.heap().zeros({1}, DataType::Int32), seen = r.heap().zeros({1}, DataType::UInt64);
    r.barrier();
    k(src[me], put_dst, get_dst, sig_dst, sig, ints, seen);
    r.barrier();
    for (int v = 0; v < 6; ++v)
      for (int i = 0; i < n; ++i) {
        ASSERT_EQ(put_dst.get({v, i}), src[prev].get({i})) << puts[v];
        ASSERT_EQ(get_dst.get({v, i}), src[prev].get({i})) << "get variant " << v;
        ASSERT_EQ(sig_dst.get({v, i}), src[prev].get({i})) << "signal variant " << v;
      }
    const std::vector<double> signals = {1, 2, 3, 4, 5, 6, 10, 0};
    for (int s = 0; s < 8; ++s) EXPECT_EQ(sig.get({s}), signals[s]) << "signal " << s;
    EXPECT_EQ(ints.get({0}), prev + 10);
    EXPECT_EQ(seen.get({0}), 10);
  });
}

TEST(DistOps, NvshmemBarriersTakeOneCallPerRank) {
  auto f = T::prim_func("barriers", [] {
    auto data = T::Tensor("data", {4}, T::int32);
    auto out = T::Tensor("out", {4}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr me = T::get_rank(), n = T::get_num_ranks(), tx = T::get_thread_binding();
      T::If(tx == 0, [&] { T::int_p(data(0), me + 1, (me + 1) % n); });
      T::If(tx == 0, [&] { T::barrier_all(); });
      T::If(tx < 32, [&] { T::sync_all_warp(); });
      T::If(tx == 0, [&] { T::int_p(data(1), me + 1, (me + 1) % n); });
      T::If(tx < 32, [&] { T::barrier_all_warp(); });
      T::sync_all_block();
      T::If(tx == 0, [&] { T::int_p(data(2), me + 1, (me + 1) % n); });
      T::If(tx == 0, [&] { T::sync_all(); });
      T::barrier_all_block();
      T::Parallel(4, [&](T::Expr i) { out(i) = data(i); });
    });
  });
  Kernel k = cpu(f);
  const int P = 3;
  on_ranks(P, [&](Rank& r) {
    Tensor data = r.heap().zeros({4}, DataType::Int32), out = r.heap().zeros({4}, DataType::Int32);
    r.barrier();
    k(data, out);
    const int prev = (r.rank() + P - 1) % P;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(out.get({i}), prev + 1) << i;
  });
}

TEST(DistOps, FencesRun) {
  auto f = T::prim_func("fences", [] {
    auto x = T::Tensor("x", {1}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      x(0) = 1;
      T::fence_cta();
      T::fence_gpu();
      T::fence_sys();
      x(0) = 2;
    });
  });
  Tensor x = Tensor::zeros({1}, DataType::Int32);
  cpu(f)(x);
  EXPECT_EQ(x.get({0}), 2);
}

// A distributed kernel called outside a world runs as rank 0 of 1.
TEST(DistOps, OutsideAWorldAKernelRunsAsTheOnlyRank) {
  auto f = T::prim_func("alone", [] {
    auto out = T::Tensor("out", {3}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      out(0) = T::get_rank();
      out(1) = T::get_num_ranks();
      T::If(T::get_thread_binding() == 0, [&] { T::st(out(2), 7, T::MemScope::GPU, T::MemSem::Release, false, 0); });
    });
  });
  Tensor out = Tensor::zeros({3}, DataType::Int32);
  cpu(f)(out);
  EXPECT_EQ(out.get({0}), 0);
  EXPECT_EQ(out.get({1}), 1);
  EXPECT_EQ(out.get({2}), 7);
}

TEST(DistOps, PeerViewsAndHeapAccounting) {
  on_ranks(2, [&](Rank& r) {
    const std::size_t before = r.heap().used();
    Tensor t = r.heap().zeros({10}, DataType::Int32);
    EXPECT_GE(r.heap().used(), before + 40);
    EXPECT_EQ(r.heap().capacity(), std::size_t(256) << 20);
    t.fill(r.rank() + 1);
    r.barrier();
    Tensor other = r.heap().peer(t, 1 - r.rank());
    EXPECT_EQ(other.get({9}), 2 - r.rank());
    r.barrier();
  });
}

}  // namespace
}  // namespace tilescale::test
