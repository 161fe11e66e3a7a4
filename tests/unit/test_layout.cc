#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "ir/eval.h"
#include "layout/gemm_fragments.h"
#include "layout/layout.h"

namespace tilescale::layout {
namespace {

using Index = std::vector<std::int64_t>;
using LayoutPtr = std::shared_ptr<const Layout>;

void for_each_index(const Index& shape, const std::function<void(const Index&)>& fn) {
  Index x(shape.size(), 0);
  while (true) {
    fn(x);
    size_t k = shape.size();
    while (k > 0 && ++x[k - 1] == shape[k - 1]) x[--k] = 0;
    if (k == 0) return;
  }
}

Index const_shape(const std::vector<ir::Expr>& shape) {
  Index s;
  for (const auto& e : shape) s.push_back(*ir::as_const_int(e));
  return s;
}

// The layout algebra's contract: bijective, and inverse∘forward and forward∘inverse are identities.
void expect_invertible(const LayoutPtr& l) {
  SCOPED_TRACE(l->to_string());
  ASSERT_TRUE(l->is_bijective());
  LayoutPtr inv = l->inverse();
  SCOPED_TRACE(inv->to_string());
  EXPECT_EQ(const_shape(inv->input_shape()), l->output_shape());
  EXPECT_EQ(inv->output_shape(), const_shape(l->input_shape()));
  for_each_index(const_shape(l->input_shape()), [&](const Index& x) { ASSERT_EQ(inv->map(l->map(x)), x); });
  for_each_index(l->output_shape(), [&](const Index& y) { ASSERT_EQ(l->map(inv->map(y)), y); });
}

// For an unreplicated fragment: the inverse maps (thread, register) back to the logical index.
void expect_fragment_invertible(const Fragment& f) {
  SCOPED_TRACE(f.to_string());
  ASSERT_TRUE(f.is_bijective());
  LayoutPtr inv = f.inverse();
  SCOPED_TRACE(inv->to_string());
  EXPECT_EQ(const_shape(inv->input_shape()), (Index{f.thread_count(), f.register_count()}));
  for_each_index(const_shape(f.input_shape()), [&](const Index& x) {
    Index slot{f.map_thread(x)};
    for (auto r : f.map(x)) slot.push_back(r);
    ASSERT_EQ(inv->map(slot), x);
  });
}

TEST(Layout, RowMajorIsContiguousAlongTheLastDimension) {
  auto l = row_major({4, 8});
  EXPECT_EQ(l->to_string(), "Layout((4, 8) -> (i, j) => (i * 8 + j,))");
  EXPECT_EQ(l->map(Index{2, 3}), Index{19});
  EXPECT_EQ(l->output_shape(), Index{32});
  auto e = l->map(std::vector<ir::Expr>{ir::make_int(1), ir::make_int(2)});
  EXPECT_EQ(ir::eval_int(e[0]), 10);
}

TEST(Layout, ColumnMajorIsContiguousAlongTheFirstDimension) {
  auto l = column_major({4, 8});
  EXPECT_EQ(l->map(Index{2, 3}), Index{14});
  EXPECT_EQ(l->output_shape(), Index{32});
}

TEST(Layout, RowAndColumnMajorAreInvertible) {
  for (const Index& shape : {Index{1}, Index{7}, Index{4, 8}, Index{3, 5}, Index{1, 6}, Index{2, 3, 4}, Index{6, 1, 10}}) {
    expect_invertible(row_major(shape));
    expect_invertible(column_major(shape));
  }
}

TEST(Layout, TransposesAndReshapesAreInvertible) {
  auto i = ir::make_var("i"), j = ir::make_var("j");
  auto mul = [](ir::Expr a, std::int64_t k) { return ir::make_binary(ir::BinaryOp::Mul, a, ir::make_int(k)); };
  auto add = [](ir::Expr a, ir::Expr b) { return ir::make_binary(ir::BinaryOp::Add, a, b); };
  auto div = [](ir::Expr a, std::int64_t k) { return ir::make_binary(ir::BinaryOp::Div, a, ir::make_int(k)); };
  auto mod = [](ir::Expr a, std::int64_t k) { return ir::make_binary(ir::BinaryOp::Mod, a, ir::make_int(k)); };
  // (i, j) -> (j, i)
  expect_invertible(Layout::make({ir::make_int(6), ir::make_int(10)}, {i, j}, {j, i}));
  // (i, j) over 6 x 10 -> a 15 x 4 row-major view of the same elements
  auto flat = add(mul(i, 10), j);
  expect_invertible(Layout::make({ir::make_int(6), ir::make_int(10)}, {i, j}, {div(flat, 4), mod(flat, 4)}));
  // interleaved digits: i's low bit is the most significant
  expect_invertible(Layout::make({ir::make_int(4), ir::make_int(3)}, {i, j}, {add(add(mul(mod(i, 2), 6), mul(div(i, 2), 3)), j)}));
}

TEST(Layout, SwizzleIsABankConflictFreeBijection) {
  for (int bytes : {1, 2, 4, 8, 16})
    for (std::int64_t row_bytes : {16, 32, 64, 128, 256, 512})
      for (std::int64_t rows : {1, 4, 8, 16, 24}) {
        const std::int64_t cols = row_bytes / bytes;
        auto l = swizzled(rows, cols, bytes);
        SCOPED_TRACE(l->to_string());
        expect_invertible(l);
        // 16-byte chunks stay whole and in order.
        const std::int64_t per_chunk = 16 / bytes;
        for_each_index({rows, cols}, [&](const Index& x) {
          if (x[1] % per_chunk) { ASSERT_EQ(l->map(x)[0], l->map(Index{x[0], x[1] - 1})[0] + 1); }
        });
        // ldmatrix: one chunk column of 8 consecutive rows touches 8 distinct 16-byte bank groups.
        for (std::int64_t r0 = 0; r0 + 8 <= rows; r0 += 8)
          for (std::int64_t c = 0; c < cols; c += per_chunk) {
            std::set<std::int64_t> groups;
            for (std::int64_t r = r0; r < r0 + 8; ++r) groups.insert(l->map(Index{r, c})[0] * bytes / 16 % 8);
            EXPECT_EQ(groups.size(), 8u) << "chunk column " << c / per_chunk << " from row " << r0;
          }
      }
}

// Rows wider than 128 bytes are 128-byte column panels, one [rows][128 bytes] tile after the other
// (the documented example of device/tilescale/swizzle.h).
TEST(Layout, WideSwizzledRowsAreStoredAsPanels) {
  EXPECT_EQ(swizzled(64, 64, 2)->map(Index{3, 10})[0], 210);
  EXPECT_EQ(swizzled(64, 128, 2)->map(Index{3, 74})[0], 64 * 64 + 210);
  EXPECT_EQ(swizzled(16, 256, 1)->map(Index{9, 130})[0], 16 * 128 + 9 * 128 + (0 ^ 1) * 16 + 2);
}

TEST(Layout, SwizzlePrintsAsTheXorOfChunkAndRow) {
  EXPECT_EQ(swizzled(8, 64, 2)->to_string(), "Layout((8, 64) -> (i, j) => (i * 64 + (j / 8 ^ i % 8) * 8 + j % 8,))");
}

TEST(Layout, SwizzleRejectsShapesItCannotSwizzle) {
  try {
    swizzled(8, 12, 2);
    FAIL() << "expected a CompileError";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot build a swizzled layout for a 8 x 12 tile of 2-byte elements because a row of 24 bytes"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(swizzled(8, 96, 2), CompileError);  // 192-byte rows: 12 chunks
  EXPECT_THROW(swizzled(8, 64, 3), CompileError);
  EXPECT_THROW(swizzled(12, 64, 2), CompileError);  // a partial 8-row period
}

TEST(Layout, RepeatStacksCopiesAlongTheSameDimension) {
  auto l = row_major({4, 8})->repeat(0, 2);
  EXPECT_EQ(const_shape(l->input_shape()), (Index{8, 8}));
  for_each_index({8, 8}, [&](const Index& x) { EXPECT_EQ(l->map(x), row_major({8, 8})->map(x)); });
  auto wide = row_major({4, 8})->repeat(1, 3);
  EXPECT_EQ(wide->map(Index{1, 10}), Index{32 + 8 + 2});

  auto i = ir::make_var("i"), j = ir::make_var("j");
  auto square = Layout::make({ir::make_int(4), ir::make_int(4)}, {i, j}, {j, i});
  EXPECT_EQ(square->repeat(1, 2)->map(Index{1, 6}), (Index{2, 5}));
}

TEST(Layout, RepeatedLayoutsAreInvertible) {
  expect_invertible(row_major({4, 8})->repeat(1, 2));
  expect_invertible(row_major({3, 5})->repeat(0, 3)->repeat(1, 2));
  expect_invertible(column_major({4, 6})->repeat(1, 3));
  expect_invertible(swizzled(8, 64, 2)->repeat(0, 3));
  expect_invertible(swizzled(8, 64, 2)->repeat(1, 2));
  expect_invertible(swizzled(16, 32, 2)->repeat(1, 3));
  expect_invertible(swizzled(8, 32, 4)->repeat(0, 2)->repeat(1, 4));
}

TEST(Layout, NonInjectiveLayoutCannotBeInverted) {
  auto i = ir::make_var("i"), j = ir::make_var("j");
  auto l = Layout::make({ir::make_int(4), ir::make_int(4)}, {i, j}, {ir::make_binary(ir::BinaryOp::Add, i, j)});
  EXPECT_FALSE(l->is_bijective());
  try {
    l->inverse();
    FAIL() << "expected a CompileError";
  } catch (const CompileError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot invert layout Layout((4, 4) -> (i, j) => (i + j,)) because logical indices (0, 1) and (1, 0) "
              "both map to physical index (1,); only a one-to-one layout onto its output box can be inverted");
  }
}

TEST(Layout, LayoutWithGapsIsNotBijective) {
  auto i = ir::make_var("i");
  auto l = Layout::make({ir::make_int(4)}, {i}, {ir::make_binary(ir::BinaryOp::Mul, i, ir::make_int(2))});
  EXPECT_EQ(l->output_shape(), Index{7});
  EXPECT_FALSE(l->is_bijective());
  EXPECT_THROW(l->inverse(), CompileError);
}

TEST(Layout, UnrecognisedBijectionCannotBeInverted) {
  // A bijection of [0, 3) that is neither digits nor bits: 0 -> 1, 1 -> 0, 2 -> 2.
  auto i = ir::make_var("i");
  auto swap01 = ir::make_select(ir::make_binary(ir::BinaryOp::LT, i, ir::make_int(2)),
                                ir::make_binary(ir::BinaryOp::Sub, ir::make_int(1), i), i);
  auto l = Layout::make({ir::make_int(3)}, {i}, {swap01});
  EXPECT_TRUE(l->is_bijective());
  try {
    l->inverse();
    FAIL() << "expected a CompileError";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot invert layout Layout((3,) -> (i,)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("neither a permutation of mixed-radix digits nor an XOR swizzle"), std::string::npos);
  }
}

TEST(Layout, MakeChecksSizes) {
  auto i = ir::make_var("i");
  EXPECT_THROW(Layout::make({ir::make_int(4), ir::make_int(4)}, {i}, {i}), InternalError);
  EXPECT_THROW(row_major({4, 8})->map(Index{1}), InternalError);
}

TEST(Layout, TableShowsThePhysicalIndexOfEveryCell) {
  EXPECT_EQ(row_major({2, 3})->table(),
            "   0  1  2\n"
            "0  0  1  2\n"
            "1  3  4  5\n");
  EXPECT_EQ(swizzled(2, 16, 4)->table(),
            "    0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15\n"
            "0   0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15\n"
            "1  16  17  18  19  20  21  22  23  24  25  26  27  28  29  30  31\n");
}

TEST(Fragment, RowMajorPartitionDealsVectorsRoundRobin) {
  auto f = Fragment::row_major_partition({128, 32}, 128, 4);
  EXPECT_EQ(f->to_string(),
            "Fragment((128, 32) -> (i, j) => thread (i * 32 + j) / 4 % 128, register ((i * 32 + j) / 512 * 4 + (i * 32 + j) % 4,))");
  EXPECT_EQ(f->thread_count(), 128);
  EXPECT_EQ(f->register_count(), 32);
  EXPECT_TRUE(f->every_element_owned_once_per_replica());
  EXPECT_EQ(f->map_thread({0, 5}), 1);
  EXPECT_EQ(f->map(Index{0, 5}), Index{1});
  EXPECT_EQ(f->map_thread({16, 0}), 0);
  EXPECT_EQ(f->map(Index{16, 0}), Index{4});
}

TEST(Fragment, RowMajorPartitionOwnsEveryElementOnce) {
  struct Case {
    Index shape;
    std::int64_t threads, width, expect_threads, expect_registers;
  };
  for (const Case& c : {Case{{64, 64}, 128, 8, 128, 32}, Case{{16, 16}, 32, 2, 32, 8}, Case{{128}, 128, 1, 128, 1},
                        Case{{3, 5}, 4, 1, 4, 4}, Case{{4, 6}, 256, 2, 12, 2}, Case{{2, 3, 8}, 8, 4, 8, 8}}) {
    auto f = Fragment::row_major_partition(c.shape, c.threads, c.width);
    SCOPED_TRACE(f->to_string());
    EXPECT_TRUE(f->every_element_owned_once_per_replica());
    EXPECT_EQ(f->thread_count(), c.expect_threads);
    EXPECT_EQ(f->register_count(), c.expect_registers);
  }
}

TEST(Fragment, EvenPartitionIsInvertible) {
  expect_fragment_invertible(*Fragment::row_major_partition({8, 16}, 32, 2));
  expect_fragment_invertible(*Fragment::row_major_partition({6, 10}, 5, 3));
  // 15 elements over 4 threads: one thread holds fewer, so there is no (thread, register) box.
  EXPECT_FALSE(Fragment::row_major_partition({3, 5}, 4, 1)->is_bijective());
}

TEST(Fragment, ReplicationGivesEachReplicaItsOwnThreads) {
  // A 64-row vector held by 32 threads, twice: rows i and i + 32 in one thread, replicas 32 apart.
  auto i = ir::make_var("i"), r = ir::make_var("r");
  auto thread = ir::make_binary(ir::BinaryOp::Add, ir::make_binary(ir::BinaryOp::Mod, i, ir::make_int(32)),
                                ir::make_binary(ir::BinaryOp::Mul, r, ir::make_int(32)));
  auto reg = ir::make_binary(ir::BinaryOp::Div, i, ir::make_int(32));
  auto f = Fragment::make({ir::make_int(64)}, {i}, thread, {reg}, 2, r);
  EXPECT_EQ(f->to_string(), "Fragment((64,) -> (i,) => thread i % 32 + r * 32, register (i / 32,), replicate r < 2)");
  EXPECT_EQ(f->thread_count(), 64);
  EXPECT_EQ(f->register_count(), 2);
  EXPECT_TRUE(f->every_element_owned_once_per_replica());
  EXPECT_FALSE(f->is_bijective());
  EXPECT_THROW(f->inverse(), CompileError);

  // Both replicas on the same thread: an element would be held twice in one slot.
  auto clash = Fragment::make({ir::make_int(64)}, {i}, ir::make_binary(ir::BinaryOp::Mod, i, ir::make_int(32)), {reg}, 2, r);
  EXPECT_FALSE(clash->every_element_owned_once_per_replica());
  // Two elements in one slot.
  auto shared = Fragment::make({ir::make_int(64)}, {i}, ir::make_binary(ir::BinaryOp::Mod, i, ir::make_int(32)), {ir::make_int(0)});
  EXPECT_FALSE(shared->every_element_owned_once_per_replica());
  // The register index may not depend on the replica.
  EXPECT_THROW(Fragment::make({ir::make_int(64)}, {i}, thread, {r}, 2, r), InternalError);
}

TEST(Fragment, RepeatAddsRegistersToTheSameThreads) {
  auto f = Fragment::row_major_partition({4, 8}, 8, 2);
  auto g = std::dynamic_pointer_cast<const Fragment>(f->repeat(0, 2));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->thread_count(), 8);
  EXPECT_EQ(g->register_count(), 8);
  EXPECT_TRUE(g->every_element_owned_once_per_replica());
  for_each_index({8, 8}, [&](const Index& x) { EXPECT_EQ(g->map_thread(x), f->map_thread({x[0] % 4, x[1]})); });
  expect_fragment_invertible(*g);
}

// Register t's slot r holds what the owner map says, and the forward map sends it back there.
void expect_owner_map_inverts_forward(const Fragment& f) {
  SCOPED_TRACE(f.to_string());
  const ir::Var tv = ir::make_var("t"), rv = ir::make_var("r");
  const auto owned = f.owned(tv, rv);
  ASSERT_FALSE(owned.valid);
  const std::int64_t threads = f.thread_count(), registers = f.register_count();
  for (std::int64_t t = 0; t < threads; ++t)
    for (std::int64_t r = 0; r < registers; ++r) {
      const std::map<const ir::VarNode*, std::int64_t> env{{tv.get(), t}, {rv.get(), r}};
      Index x;
      for (const auto& e : owned.index) x.push_back(*ir::eval_int(e, env));
      ASSERT_EQ(f.map_thread(x), t);
      ASSERT_EQ(f.map(x), Index{r});
    }
}

// The B operand of a gemm reading B [K][N] from registers (gemm_sr): the accumulator layout of
// B^T, indexed the other way round.
TEST(Fragment, TransposedMmaAccumulatorOwnsEveryElementOnce) {
  struct Case {
    std::int64_t M, N;
    int warps_m, warps_n;
  };
  for (const Case& c : {Case{64, 32, 4, 1}, Case{64, 64, 2, 1}, Case{128, 16, 8, 1}, Case{16, 48, 1, 1}, Case{64, 64, 2, 2}}) {
    auto t = mma_accumulator_transposed(c.M, c.N, c.warps_m, c.warps_n);
    auto acc = mma_accumulator(c.M, c.N, c.warps_m, c.warps_n);
    SCOPED_TRACE(t->to_string());
    EXPECT_EQ(const_shape(t->input_shape()), (Index{c.N, c.M}));
    EXPECT_TRUE(t->every_element_owned_once_per_replica());
    EXPECT_EQ(t->thread_count(), 32 * c.warps_m * c.warps_n);
    EXPECT_EQ(t->register_count(), c.M * c.N / t->thread_count());
    expect_fragment_invertible(*t);
    expect_owner_map_inverts_forward(*t);
    expect_owner_map_inverts_forward(*acc);
    // The same registers as the accumulator.
    for_each_index({c.N, c.M}, [&](const Index& x) {
      ASSERT_EQ(t->map_thread(x), acc->map_thread({x[1], x[0]}));
      ASSERT_EQ(t->map(x), acc->map(Index{x[1], x[0]}));
    });
  }
}

// Where tl::gemm_sr (device/tilescale/gemm_sm80.h) reads the mma B operand from: b[h] of the 8
// columns ni at k step k0 packs b_regs[((ni / 2) * K / 8 + k0 / 8 + h) * 4 + (ni % 2) * 2 + e],
// e = 0, 1, which must hold B[k0 + (lane % 4) * 2 + e + 8 * h][warp * WN + ni * 8 + lane / 4].
TEST(Fragment, TransposedMmaAccumulatorIsTheMmaBOperand) {
  for (auto [K, N, warps] : {std::tuple<std::int64_t, std::int64_t, int>{32, 64, 4}, {64, 96, 2}, {16, 16, 1}, {48, 256, 8}}) {
    auto f = mma_accumulator_transposed(N, K, warps, 1);  // over B's [K][N]
    SCOPED_TRACE(f->to_string());
    const std::int64_t WN = N / warps, KI = K / 8;
    for (int warp = 0; warp < warps; ++warp)
      for (int lane = 0; lane < 32; ++lane)
        for (std::int64_t k0 = 0; k0 < K; k0 += 16)
          for (std::int64_t ni = 0; ni < WN / 8; ++ni)
            for (int h = 0; h < 2; ++h)
              for (int e = 0; e < 2; ++e) {
                const Index element{k0 + (lane % 4) * 2 + e + 8 * h, warp * WN + ni * 8 + lane / 4};
                ASSERT_EQ(f->map_thread(element), warp * 32 + lane);
                ASSERT_EQ(f->map(element), Index{((ni / 2) * KI + k0 / 8 + h) * 4 + (ni % 2) * 2 + e});
              }
  }
}

// tl::gemm_ss_wgmma (device/tilescale/gemm_sm90.h) with MT = M / (16 * warps_m) m64 tiles per
// warpgroup: tile t of warpgroup g covers rows g * 64 * MT + 64 t .. +63, and in it thread v * 32 + l
// of the warpgroup holds wgmma's D fragment at acc + t * WN / 2: register 4 n + 2 h + e is row
// 16 v + l / 4 + 8 h, column 8 n + 2 (l % 4) + e of the warpgroup's WN columns.
TEST(Fragment, M64TilesAccumulatorIsTheWgmmaFragmentOfEachTile) {
  struct Case {
    std::int64_t M, N;
    int warps_m, warps_n;
  };
  for (const Case& c : {Case{128, 128, 4, 1}, Case{256, 64, 8, 1}, Case{256, 64, 4, 2}, Case{192, 32, 4, 1}}) {
    auto f = mma_accumulator(c.M, c.N, c.warps_m, c.warps_n, WarpRows::M64Tiles);
    auto rows = mma_rows(c.M, c.warps_m, c.warps_n, WarpRows::M64Tiles);
    SCOPED_TRACE(f->to_string());
    EXPECT_TRUE(f->every_element_owned_once_per_replica());
    expect_fragment_invertible(*f);
    expect_owner_map_inverts_forward(*f);
    const std::int64_t MT = c.M / (16 * c.warps_m), WN = c.N / c.warps_n;
    for (int warp = 0; warp < c.warps_m * c.warps_n; ++warp)
      for (int lane = 0; lane < 32; ++lane)
        for (std::int64_t t = 0; t < MT; ++t)
          for (std::int64_t n = 0; n < WN / 8; ++n)
            for (int h = 0; h < 2; ++h)
              for (int e = 0; e < 2; ++e) {
                const int wm = warp % c.warps_m, g = wm / 4, v = wm % 4;
                const std::int64_t row = g * 64 * MT + 64 * t + 16 * v + lane / 4 + 8 * h;
                const Index element{row, (warp / c.warps_m) * WN + 8 * n + 2 * (lane % 4) + e};
                ASSERT_EQ(f->map_thread(element), warp * 32 + lane);
                ASSERT_EQ(f->map(element), Index{t * (WN / 2) + 4 * n + 2 * h + e});
                // Its rows layout: the row's value in the register of the same 16-row group and half.
                if (n == 0 && e == 0 && lane % 4 == 0) ASSERT_EQ(rows->map(Index{row}), Index{2 * t + h});
              }
  }
  // With one tile per warp the arrangements coincide.
  auto one = mma_accumulator(128, 64, 8, 1, WarpRows::M64Tiles), contiguous = mma_accumulator(128, 64, 8, 1);
  for_each_index({128, 64}, [&](const Index& x) {
    ASSERT_EQ(one->map_thread(x), contiguous->map_thread(x));
    ASSERT_EQ(one->map(x), contiguous->map(x));
  });
}

TEST(Fragment, TableShowsThreadAndRegister) {
  auto f = Fragment::row_major_partition({2, 4}, 2, 2);
  EXPECT_EQ(f->table(),
            "       0      1      2      3\n"
            "0  T0:R0  T0:R1  T1:R0  T1:R1\n"
            "1  T0:R2  T0:R3  T1:R2  T1:R3\n");
}

}  // namespace
}  // namespace tilescale::layout
