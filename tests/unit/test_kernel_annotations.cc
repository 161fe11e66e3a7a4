// The kernel annotations' records (src/ops/kernel_annotations.h): what the front end writes, the
// printed form, and the round trip through encode and decode.
#include "ops/kernel_annotations.h"

#include <gtest/gtest.h>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "tilescale/tilescale.h"

namespace tilescale::ops {
namespace {

namespace T = tilescale::lang;

std::vector<const ir::AnnotateNode*> annotations(const ir::Stmt& s) {
  struct Collect : ir::Visitor {
    std::vector<const ir::AnnotateNode*> found;
    void visit(const ir::AnnotateNode* op) override { found.push_back(op); }
  } c;
  c.visit_stmt(s);
  return c.found;
}

TEST(KernelAnnotations, TheFrontEndWritesTheRecords) {
  auto f = T::prim_func("annotated", [&] {
    auto A = T::Tensor("A", {128}, T::float32);
    T::Kernel(4, T::threads(128), [&](T::Expr bx) {
      T::use_swizzle(8, /*column_major=*/true);
      T::min_blocks_per_sm(2);
      T::persistent();
      T::Parallel(128, [&](T::Expr i) { A(i) = 1.0f; });
    });
  });
  const auto found = annotations(f.node()->body);
  ASSERT_EQ(found.size(), 3u);
  const auto swizzle = BlockSwizzle::decode(*found[0]);
  ASSERT_TRUE(swizzle);
  EXPECT_EQ(swizzle->panel_size, 8);
  EXPECT_TRUE(swizzle->column_major);
  EXPECT_EQ(MinBlocksPerSm::decode(*found[1])->blocks, 2);
  EXPECT_TRUE(Persistent::decode(*found[2]));
  const std::string printed = f.to_string();
  EXPECT_NE(printed.find("T.use_swizzle(panel_size=8, order=\"col\")\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("T.annotate(\"min_blocks_per_sm\", blocks=2)\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("T.annotate(\"persistent\")\n"), std::string::npos) << printed;
}

TEST(KernelAnnotations, EachDecodesOnlyItsOwn) {
  const ir::Stmt row = BlockSwizzle{4, false}.encode(), blocks = MinBlocksPerSm{3}.encode(), persistent = Persistent{}.encode();
  const auto& s = *ir::as<ir::AnnotateNode>(row);
  const auto& b = *ir::as<ir::AnnotateNode>(blocks);
  const auto& p = *ir::as<ir::AnnotateNode>(persistent);
  EXPECT_EQ(ir::print(row), "T.use_swizzle(panel_size=4, order=\"row\")\n");
  EXPECT_FALSE(BlockSwizzle::decode(s)->column_major);
  EXPECT_EQ(MinBlocksPerSm::decode(b)->blocks, 3);
  EXPECT_FALSE(BlockSwizzle::decode(b) || BlockSwizzle::decode(p));
  EXPECT_FALSE(MinBlocksPerSm::decode(s) || MinBlocksPerSm::decode(p));
  EXPECT_FALSE(Persistent::decode(s) || Persistent::decode(b));
}

}  // namespace
}  // namespace tilescale::ops
