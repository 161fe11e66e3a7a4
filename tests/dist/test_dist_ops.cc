// Every distributed operator runs on the sim transport with the meaning REFERENCE.md §2 gives it.
#include "test_util.h"

namespace tilescale::test {
namespace {

using dist::Rank;

// Runs fn on `ranks` ranks of a fresh sim world.
void on_ranks(int ranks, const std::function<void(Rank&)>& fn) { dist::World::sim(ranks).run(fn); }

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

}  // namespace
}  // namespace tilescale::test
