// Epilogues through shared memory (src/ops/copy.cc, codegen/cuda/tma.h): on sm_90a an accumulator
// goes to a 16-bit shared tile by stmatrix and the tile to global memory by TMA store; on sm_80
// the same program stores with threads. And barriers follow memory, not names: a buffer that
// reuses a dead buffer's bytes waits for that buffer's last readers. No GPU needed.
#include <gtest/gtest.h>

#include "codegen/cuda/codegen.h"
#include "example.h"
#include "jit/nvrtc.h"
#include "pipeline.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

cuda::KernelSpec spec_for(const T::PrimFunc& f, int sm) {
  return cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", sm}), cuda::Target{sm});
}

cuda::KernelSpec example_spec(const std::string& name, const std::string& knobs, int sm) {
  const auto* ex = examples::find_example(name);
  return spec_for(ex->build(examples::parse_sizes(knobs, ex->default_sizes)), sm);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Epilogue, GemmStagesCThroughSharedMemoryByStmatrixAndTmaStore) {
  const std::string why = jit::nvrtc_unavailable_reason();
  // C [128 x 256] fp16: 512-byte rows, four 128-byte panels, one store each.
  const auto s = example_spec("gemm", "M=1000,N=1000,K=1000,BM=128,BN=256,BK=64,threads=256,stages=4,stage_c=1", 90);
  ASSERT_EQ(s.tensor_maps.size(), 3u);  // A and B loads, then the C store
  EXPECT_EQ(s.tensor_maps[2].param, 2);
  EXPECT_EQ(s.tensor_maps[2].box, (std::vector<std::int64_t>{64, 128}));
  EXPECT_EQ(s.tensor_maps[2].swizzle_bytes, 128);
  EXPECT_NE(s.source.find("const __grid_constant__ tl::TmaDescriptor C_tma_2"), std::string::npos);
  // 128 float registers per thread, 8 per stmatrix.x4.
  EXPECT_EQ(count(s.source, "tl::stsm_x4_from<half_t, float>("), 16u);
  // The last panel starts where the swizzled layout puts column 192 (passes/expand_tma_stores.h).
  EXPECT_NE(s.source.find("tl::tma_store_2d(&C_tma_2, &C_shared[tl::swizzle<128, 256, 2>(0, 192)], bx * 256 + 192, by * 128);"),
            std::string::npos);
  EXPECT_NE(s.source.find("tl::tma_store_wait_read<0>();"), std::string::npos);
  // C_shared reuses the stages' bytes: the consumers meet after the last wgmma before writing it,
  // and the writes reach the async proxy before the store, one barrier between.
  const auto drain = s.source.find("tl::gemm_ss_wgmma_drain"), first_write = s.source.find("tl::stsm_x4_from<half_t, float>(");
  ASSERT_NE(drain, std::string::npos);
  EXPECT_NE(s.source.substr(drain, first_write - drain).find("tl::named_barrier_sync<1, 256>();"), std::string::npos);
  EXPECT_NE(s.source.find("tl::stsm_x4_from<half_t, float>(&C_shared[tl::swizzle<128, 256, 2>"), std::string::npos);
  const std::string epilogue = s.source.substr(s.source.rfind("tl::stsm_x4_from<half_t, float>("));
  EXPECT_NE(epilogue.find(";\n    }\n    tl::fence_proxy_async();\n    tl::named_barrier_sync<1, 256>();\n    if (tx == 0) {"), std::string::npos)
      << epilogue;
  if (why.empty()) EXPECT_FALSE(jit::compile_nvrtc(s.source, s.name, "sm_90a", {}).cubin.empty());

  // sm_80: the threads write the tile and store it, 16 bytes at a time.
  const auto a = example_spec("gemm", "M=1000,N=1000,K=1000,BM=128,BN=256,BK=64,threads=256,stages=3,stage_c=1", 80);
  EXPECT_TRUE(a.tensor_maps.empty());
  EXPECT_EQ(a.source.find("stsm"), std::string::npos);
  EXPECT_EQ(a.source.find("tma_store"), std::string::npos);
  EXPECT_NE(a.source.find("tl::copy_vector<16>(&C["), std::string::npos);
  if (why.empty()) EXPECT_FALSE(jit::compile_nvrtc(a.source, a.name, "sm_80", {}).cubin.empty());
}

TEST(Epilogue, AttentionOutputGoesByTmaStoreOnHopper) {
  const auto s = example_spec("flash_attention", "B=2,H=4,S=1000,D=128,BM=128,BN=128,threads=256,bf16=1", 90);
  ASSERT_EQ(s.tensor_maps.size(), 3u);  // K and V loads, the O store (Q is loaded before the loop)
  EXPECT_EQ(s.tensor_maps[2].param, 3);
  EXPECT_EQ(s.tensor_maps[2].box, (std::vector<std::int64_t>{64, 128, 1, 1}));
  EXPECT_EQ(count(s.source, "tl::tma_store_4d(&O_tma_2, "), 2u);
  EXPECT_EQ(count(s.source, "tl::stsm_x4_from<bfloat16_t, float>("), 8u);
}

// Not by TMA: a store the kernel reads back, a partial tile, a converting copy.
TEST(Epilogue, StoresThatStayWithTheThreads) {
  auto f = T::prim_func("readback", [&] {
    auto X = T::Tensor("X", {64, 64}, T::float16);
    auto Y = T::Tensor("Y", {64, 64}, T::float16);
    auto Z = T::Tensor("Z", {64, 64}, T::float32);
    auto W = T::Tensor("W", {64, 64}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto Xs = T::alloc_shared({64, 64}, T::float16, "Xs");
      auto Ys = T::alloc_shared({64, 64}, T::float16, "Ys");
      T::copy(X, Xs);
      T::copy(Xs, Y);                                        // Y is read below
      T::copy(Y, Ys);
      T::copy(T::region(Ys, {0, 0}, {32, 64}), T::region(W, {0, 0}, {32, 64}));  // half the tile
      T::copy(Ys, Z);                                        // float16 -> float32
    });
  });
  const auto s = spec_for(f, 90);
  EXPECT_TRUE(s.tensor_maps.empty());
  EXPECT_EQ(s.source.find("tma_store"), std::string::npos);
  // The source says why, store by store.
  for (const char* note : {"// the threads store Xs into Y, not TMA, because the kernel also reads Y",
                           "// the threads store Ys into W, not TMA, because it moves part of Ys",
                           "// the threads store Ys into Z, not TMA, because it converts between dtypes"})
    EXPECT_NE(s.source.find(note), std::string::npos) << note;
}

// Two stores into one tensor: the TMA would not order them, so threads store both.
TEST(Epilogue, ATensorWrittenTwiceStaysWithTheThreads) {
  auto f = T::prim_func("twice", [&] {
    auto X = T::Tensor("X", {64, 64}, T::float16);
    auto Y = T::Tensor("Y", {64, 64}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto Xs = T::alloc_shared({64, 64}, T::float16, "Xs");
      T::copy(X, Xs);
      T::copy(Xs, Y);
      T::copy(Xs, Y);
    });
  });
  const std::string source = spec_for(f, 90).source;
  EXPECT_EQ(source.find("tma_store"), std::string::npos);
  EXPECT_NE(source.find("// the threads store Xs into Y, not TMA, because another statement also writes Y"), std::string::npos);
}

// stmatrix writes rows of 16 aligned bytes: a shared tile whose rows are not whole 16-byte chunks
// is written element-wise.
TEST(Epilogue, StmatrixNeedsRowsOfWholeChunks) {
  auto build = [](std::int64_t shared_cols) {
    return T::prim_func("acc_to_shared", [&] {
      auto A = T::Tensor("A", {64, 32}, T::float16);
      auto B = T::Tensor("B", {32, 32}, T::float16);
      auto O = T::Tensor("O", {64, shared_cols}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({64, 32}, T::float16, "As");
        auto Bs = T::alloc_shared({32, 32}, T::float16, "Bs");
        auto acc = T::alloc_fragment({64, 32}, T::float32, "acc");
        auto Cs = T::alloc_shared({64, shared_cols}, T::float16, "Cs");
        T::copy(A, As);
        T::copy(B, Bs);
        T::clear(acc);
        T::gemm(As, Bs, acc);
        T::copy(acc, T::region(Cs, {0, 0}, {64, 32}));
        T::copy(Cs, O);
      });
    });
  };
  EXPECT_NE(spec_for(build(40), 90).source.find("tl::stsm_x4_from<half_t, float>("), std::string::npos);
  EXPECT_EQ(spec_for(build(36), 90).source.find("stsm"), std::string::npos);
}

// A buffer that reuses the bytes of a dead one: the write of Bs after the last read of As needs a
// barrier even though no statement touches both names.
TEST(Epilogue, BarriersFollowMemoryNotNames) {
  auto f = T::prim_func("reuse_bytes", [&] {
    auto X = T::Tensor("X", {64, 64}, T::float16);
    auto O = T::Tensor("O", {64, 64}, T::float16);
    auto P = T::Tensor("P", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto As = T::alloc_shared({64, 64}, T::float16, "As");
      auto acc = T::alloc_fragment({64, 64}, T::float32, "acc");
      T::copy(X, As);
      T::copy(As, acc);
      auto Bs = T::alloc_shared({64, 64}, T::float16, "Bs");
      T::copy(acc, Bs);
      T::copy(Bs, O);
      T::copy(acc, P);
    });
  });
  for (int sm : {80, 90}) {
    SCOPED_TRACE(sm);
    const auto s = spec_for(f, sm);
    const auto as = s.source.find("half_t* As = reinterpret_cast<half_t*>(smem + 0);"),
               bs = s.source.find("half_t* Bs = reinterpret_cast<half_t*>(smem + 0);");
    ASSERT_NE(as, std::string::npos);
    ASSERT_NE(bs, std::string::npos);
    const std::string between = s.source.substr(bs, s.source.find("Bs[", bs + 10) - bs);
    EXPECT_NE(between.find("__syncthreads();"), std::string::npos) << s.source;
  }
}

}  // namespace
}  // namespace tilescale
