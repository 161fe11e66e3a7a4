// plan_shared_memory: every shared buffer placed in the kernel's one allocation, a copy per stage
// for a buffer a Pipelined loop fills, space shared by buffers whose lifetimes do not overlap.
#include <gtest/gtest.h>

#include "ir/IR.h"
#include "pass_test.h"
#include "passes/plan_shared_memory.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

TEST(PlanSharedMemory, StagesForPipelinedCopiesAndSharedSpaceForDisjointLifetimes) {
  const T::PrimFunc f = T::prim_func("staged", [] {
    auto A = T::Tensor("A", {128, 256}, T::float16);
    auto B = T::Tensor("B", {128, 64}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
      T::clear(acc);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), A_shared);
        T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + T::cast(A_shared(i, j), T::float32); });
      });
      auto out = T::alloc_shared({128, 64}, T::float16, "out");  // first used after A_shared's last use
      T::Parallel(128, 64, [&](T::Expr i, T::Expr j) { out(i, j) = T::cast(acc(i, j % 32), T::float16); });
      T::copy(out, B(0, 0));
    });
  });
  const AroundPass p = around_pass(f, "plan_shared_memory");
  EXPECT_EQ(p.before.find("shared_memory"), std::string::npos) << p.before;
  // A_shared: 3 stages of 8192 bytes; out (16384 bytes) lives after A_shared's last use, so both
  // start at offset 0 and the kernel needs max(24576, 16384) bytes.
  EXPECT_EQ(kernel_body(p.after), R"(T.annotate("shared_memory_total", bytes=24576)
A_shared = T.alloc_shared((128, 32), "float16")
T.annotate("shared_memory", A_shared, offset=0, stage_bytes=8192, stages=3)
acc = T.alloc_fragment((128, 32), "float32")
T.annotate("fragment_layout", acc, M=0, family="partition", warps_m=0, warps_n=0)
T.fill(acc, 0.0)
for k in T.Pipelined(8, num_stages=3):
    T.copy(A[0 : +128, k * 32 : +32], A_shared)
    for i, j in T.Parallel(128, 32):
        acc[i, j] = acc[i, j] + T.cast(A_shared[i, j], "float32")
out = T.alloc_shared((128, 64), "float16")
T.annotate("shared_memory", out, offset=0, stage_bytes=16384, stages=1)
for i_1, j_1 in T.Parallel(128, 64):
    out[i_1, j_1] = T.cast(acc[i_1, j_1 % 32], "float16")
T.copy(out, B)
)");
}

// A buffer lives from its first use, not from its T::alloc_shared: TileLang's way of writing
// FlashAttention allocates every shared tile at the top, and the output tile, first used after the
// loop, must still take the bytes of the loop's stages.
TEST(PlanSharedMemory, ABufferAllocatedEarlyLivesFromItsFirstUse) {
  const T::PrimFunc f = T::prim_func("allocated_early", [] {
    auto A = T::Tensor("A", {128, 256}, T::float16);
    auto B = T::Tensor("B", {128, 64}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto out = T::alloc_shared({128, 64}, T::float16, "out");  // allocated here, first used after the loop
      auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
      T::clear(acc);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), A_shared);
        T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + T::cast(A_shared(i, j), T::float32); });
      });
      T::Parallel(128, 64, [&](T::Expr i, T::Expr j) { out(i, j) = T::cast(acc(i, j % 32), T::float16); });
      T::copy(out, B(0, 0));
    });
  });
  const std::string after = kernel_body(around_pass(f, "plan_shared_memory").after);
  EXPECT_NE(after.find(R"(T.annotate("shared_memory", out, offset=0, stage_bytes=16384, stages=1))"), std::string::npos) << after;
  EXPECT_NE(after.find(R"(T.annotate("shared_memory_total", bytes=24576))"), std::string::npos) << after;
}

TEST(PlanSharedMemory, ItsRecordsDecodeAsEncoded) {
  const ir::Buffer b = ir::make_buffer("A_shared", {ir::make_int(128), ir::make_int(32)}, DataType::Float16, ir::Scope::Shared);
  const ir::Stmt placed = passes::SharedPlacement{1024, 8192, 3}.encode(b);
  const auto p = passes::SharedPlacement::decode(*ir::as<ir::AnnotateNode>(placed));
  ASSERT_TRUE(p);
  EXPECT_EQ((std::vector<std::int64_t>{p->offset, p->stage_bytes, p->stages}), (std::vector<std::int64_t>{1024, 8192, 3}));
  EXPECT_FALSE(passes::SharedMemoryTotal::decode(*ir::as<ir::AnnotateNode>(placed)));
  const ir::Stmt total = passes::SharedMemoryTotal{25600}.encode();
  EXPECT_EQ(passes::SharedMemoryTotal::decode(*ir::as<ir::AnnotateNode>(total))->bytes, 25600);
  EXPECT_FALSE(passes::SharedPlacement::decode(*ir::as<ir::AnnotateNode>(total)));
}

}  // namespace
}  // namespace tilescale::testing
