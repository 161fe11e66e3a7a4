// Every tile op and example on the GPU, checked against the CPU backend (the reference) on fresh
// random inputs with poisoned outputs, odd sizes included. Skips, with the reason, without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "example.h"
#include "gemm_sr_kernels.h"
#include "jit/nvrtc.h"
#include "runtime/cuda/driver.h"
#include "tilescale/tilescale.h"
#include "thread_level_programs.h"
#include "warp_specialized_kernels.h"
#include "gemm_type_programs.h"
#include "typed_gemm.h"
#include "skips.h"
#include "staged_reads_program.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

struct Arg {
  std::vector<std::int64_t> shape;
  DataType dtype;
  bool output = false;  // poisoned before the run, compared after it
};

// Runs `func` on the CPU backend and on CUDA with the same random inputs (rounded to multiples of
// `quantum` when it is not 0, so that sums are exact); the outputs must agree within `tolerance`
// (max relative error).
void expect_gpu_matches_cpu(const T::PrimFunc& func, const std::vector<Arg>& args, double tolerance = 1e-3,
                            std::uint64_t seed = 7, double quantum = 0) {
  std::vector<Tensor> cpu, gpu_in;
  for (size_t i = 0; i < args.size(); ++i) {
    Tensor t = Tensor::empty(args[i].shape, args[i].dtype);
    if (args[i].output) t.fill(is_float(args[i].dtype) ? NAN : -7);
    else t.fill_random(seed + i, is_float(args[i].dtype) ? -1.0 : -50.0, is_float(args[i].dtype) ? 1.0 : 50.0);
    if (quantum != 0 && !args[i].output)
      for (std::int64_t k = 0; k < t.numel(); ++k) t.set_flat(k, std::round(t.get_flat(k) / quantum) * quantum);
    cpu.push_back(t);
  }
  for (const auto& t : cpu) gpu_in.push_back(t.to(Device::cuda()));
  compile(func, Target::CPU).call(cpu);
  compile(func, Target::CUDA).call(gpu_in);
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].output) continue;
    const Tensor back = gpu_in[i].to(Device::cpu());
    EXPECT_LE(max_relative_error(back, cpu[i]), tolerance) << func.name() << " output " << i;
  }
}

TEST(GpuTileOps, CopyGlobalSharedGlobalOddSizes) {
  SKIP_WITHOUT_GPU();
  for (auto [M, N] : {std::pair<int, int>{64, 64}, {100, 72}, {37, 130}}) {
    auto f = T::prim_func("copy_through_shared", [&] {
      auto A = T::Tensor("A", {M, N}, T::float16);
      auto B = T::Tensor("B", {M, N}, T::float16);
      T::Kernel(T::ceildiv(N, 64), T::ceildiv(M, 32), T::threads(128), [&](T::Expr bx, T::Expr by) {
        auto S = T::alloc_shared({32, 64}, T::float16, "S");
        T::copy(A(by * 32, bx * 64), S);
        T::copy(S, B(by * 32, bx * 64));
      });
    });
    expect_gpu_matches_cpu(f, {{{M, N}, DataType::Float16}, {{M, N}, DataType::Float16, true}}, 0);
  }
}

TEST(GpuTileOps, CopyConvertsThroughFragment) {
  SKIP_WITHOUT_GPU();
  auto f = T::prim_func("copy_convert", [&] {
    auto A = T::Tensor("A", {96, 80}, T::float32);
    auto B = T::Tensor("B", {96, 80}, T::bfloat16);
    T::Kernel(T::ceildiv(80, 32), T::ceildiv(96, 64), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto F = T::alloc_fragment({64, 32}, T::float32, "F");
      T::copy(A(by * 64, bx * 32), F);
      T::Parallel(64, 32, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2 + 1; });
      T::copy(F, B(by * 64, bx * 32));
    });
  });
  expect_gpu_matches_cpu(f, {{{96, 80}, DataType::Float32}, {{96, 80}, DataType::BFloat16, true}}, 0);
}

void gemm_case(int M, int N, int K, bool ta, bool tb, DataType dt, int stages,
               T::GemmWarpPolicy policy = T::GemmWarpPolicy::Square) {
  auto f = T::prim_func("gemm_case", [&] {
    auto A = T::Tensor("A", ta ? T::Shape{K, M} : T::Shape{M, K}, dt);
    auto B = T::Tensor("B", tb ? T::Shape{N, K} : T::Shape{K, N}, dt);
    auto C = T::Tensor("C", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, 64), T::ceildiv(M, 64), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto As = T::alloc_shared(ta ? T::Shape{32, 64} : T::Shape{64, 32}, dt, "As");
      auto Bs = T::alloc_shared(tb ? T::Shape{64, 32} : T::Shape{32, 64}, dt, "Bs");
      auto Cf = T::alloc_fragment({64, 64}, T::float32, "Cf");
      T::clear(Cf);
      T::Pipelined(T::ceildiv(K, 32), stages, [&](T::Expr k) {
        if (ta) T::copy(A(k * 32, by * 64), As);
        else T::copy(A(by * 64, k * 32), As);
        if (tb) T::copy(B(bx * 64, k * 32), Bs);
        else T::copy(B(k * 32, bx * 64), Bs);
        T::gemm(As, Bs, Cf, ta, tb, policy);
      });
      T::copy(Cf, C(by * 64, bx * 64));
    });
  });
  expect_gpu_matches_cpu(f, {{ta ? std::vector<std::int64_t>{K, M} : std::vector<std::int64_t>{M, K}, dt},
                             {tb ? std::vector<std::int64_t>{N, K} : std::vector<std::int64_t>{K, N}, dt},
                             {{M, N}, DataType::Float32, true}},
                         1e-3);
}

// The 64 x 64 tile over 4 warps: with the square policy that is tl::gemm_ss_wgmma on Hopper (one
// warpgroup of 64 rows) and mma.sync elsewhere; FullCol stacks the warps along N, mma.sync everywhere.
TEST(GpuTileOps, GemmAllTransposesAndStages) {
  SKIP_WITHOUT_GPU();
  for (auto policy : {T::GemmWarpPolicy::Square, T::GemmWarpPolicy::FullCol}) {
    SCOPED_TRACE(policy == T::GemmWarpPolicy::Square ? "square policy" : "FullCol policy");
    for (bool ta : {false, true})
      for (bool tb : {false, true}) gemm_case(128, 192, 96, ta, tb, DataType::Float16, 3, policy);
    gemm_case(100, 72, 40, false, true, DataType::BFloat16, 2, policy);  // tails everywhere, K < 2 tiles
    gemm_case(64, 64, 32, false, false, DataType::Float16, 4, policy);   // one iteration, fewer than the stages
    gemm_case(96, 64, 160, false, false, DataType::Float16, 0, policy);  // not pipelined
  }
}

// T::gemm with B in registers (tl::gemm_sr): every transpose, B's tile brought in through shared
// memory or straight from global memory, serial and pipelined K loops, tails on every side, 1 to 8
// warps.
TEST(GpuTileOps, GemmWithBInRegisters) {
  SKIP_WITHOUT_GPU();
  struct Case {
    int M, N, K;
    bool ta, tb, through_shared;
    DataType dt;
    int stages, threads, BM, BN, BK;
  };
  std::uint64_t seed = 101;
  for (const Case& c : {Case{70, 100, 83, false, false, true, DataType::Float16, 0, 128, 32, 64, 32},
                        Case{70, 100, 83, false, true, false, DataType::Float16, 0, 128, 32, 64, 32},
                        Case{70, 100, 83, true, false, false, DataType::Float16, 3, 128, 32, 64, 32},
                        Case{70, 100, 83, true, true, true, DataType::Float16, 3, 128, 32, 64, 32},
                        Case{130, 200, 96, false, false, true, DataType::BFloat16, 2, 256, 64, 128, 32},
                        Case{37, 45, 40, true, false, true, DataType::BFloat16, 0, 64, 16, 32, 16},
                        Case{48, 16, 64, false, true, false, DataType::Float16, 4, 32, 48, 16, 64}}) {
    SCOPED_TRACE(testing::Message() << c.M << "x" << c.N << "x" << c.K << " ta=" << c.ta << " tb=" << c.tb
                                    << " through_shared=" << c.through_shared << " stages=" << c.stages
                                    << " threads=" << c.threads);
    auto f = sr_kernels::gemm_b_in_registers(c.M, c.N, c.K, c.ta, c.tb, c.dt, c.through_shared, c.stages, c.threads, c.BM,
                                             c.BN, c.BK);
    expect_gpu_matches_cpu(f, {{c.ta ? std::vector<std::int64_t>{c.K, c.M} : std::vector<std::int64_t>{c.M, c.K}, c.dt},
                               {c.tb ? std::vector<std::int64_t>{c.N, c.K} : std::vector<std::int64_t>{c.K, c.N}, c.dt},
                               {{c.M, c.N}, DataType::Float32, true}},
                           1e-3, seed);
    seed += 3;
  }
  // B as the converted accumulator of an earlier gemm. Inputs are multiples of 1/2, so the
  // intermediate is exact in 16 bits and both backends must agree exactly.
  for (DataType dt : {DataType::Float16, DataType::BFloat16}) {
    auto f = sr_kernels::gemm_b_from_accumulator(70, 64, 32, 48, dt);
    expect_gpu_matches_cpu(f, {{{70, 32}, dt}, {{64, 48}, dt}, {{48, 32}, dt}, {{70, 64}, DataType::Float32, true}}, 0, seed,
                           0.5);
    seed += 4;
  }
}

TEST(GpuTileOps, ReductionsAllKindsBothDims) {
  SKIP_WITHOUT_GPU();
  for (int dim : {0, 1})
    for (bool clear : {true, false}) {
      auto f = T::prim_func("reductions", [&] {
        auto A = T::Tensor("A", {16, 256}, T::float32);
        auto O = T::Tensor("O", {5, dim == 1 ? 16 : 256}, T::float32);
        T::Kernel(1, T::threads(128), [&](T::Expr) {
          auto F = T::alloc_fragment({16, 256}, T::float32, "F");
          auto R = T::alloc_fragment({dim == 1 ? 16 : 256}, T::float32, "R");
          T::copy(A, F);
          const std::vector<std::function<void()>> ops = {
              [&] { T::reduce_sum(F, R, dim, clear); }, [&] { T::reduce_max(F, R, dim, clear); },
              [&] { T::reduce_min(F, R, dim, clear); }, [&] { T::reduce_abssum(F, R, dim, clear); },
              [&] { T::reduce_absmax(F, R, dim, clear); }};
          for (size_t k = 0; k < ops.size(); ++k) {
            T::fill(R, 0.5);
            ops[k]();
            T::copy(R, O(static_cast<int>(k), 0));
          }
        });
      });
      expect_gpu_matches_cpu(f, {{{16, 256}, DataType::Float32}, {{5, dim == 1 ? 16 : 256}, DataType::Float32, true}}, 1e-4);
    }
}

TEST(GpuTileOps, GemmAccumulatorRowReductions) {
  SKIP_WITHOUT_GPU();
  for (auto policy : {T::GemmWarpPolicy::Square, T::GemmWarpPolicy::FullRow, T::GemmWarpPolicy::FullCol}) {
    auto f = T::prim_func("acc_rows", [&] {
      auto A = T::Tensor("A", {64, 32}, T::float16);
      auto B = T::Tensor("B", {32, 64}, T::float16);
      auto O = T::Tensor("O", {64}, T::float32);
      auto P = T::Tensor("P", {64, 64}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({64, 32}, T::float16, "As");
        auto Bs = T::alloc_shared({32, 64}, T::float16, "Bs");
        auto C = T::alloc_fragment({64, 64}, T::float32, "C");
        auto m = T::alloc_fragment({64}, T::float32, "m");
        T::copy(A, As);
        T::copy(B, Bs);
        T::gemm(As, Bs, C, T::GemmOptions{.policy = policy, .clear_accum = true});
        T::reduce_max(C, m, 1);
        T::Parallel(64, 64, [&](T::Expr i, T::Expr j) { C(i, j) = T::exp(C(i, j) - m(i)); });
        T::copy(m, O);
        T::copy(C, P);
      });
    });
    expect_gpu_matches_cpu(f, {{{64, 32}, DataType::Float16}, {{32, 64}, DataType::Float16}, {{64}, DataType::Float32, true},
                               {{64, 64}, DataType::Float32, true}},
                           1e-4);
  }
}

TEST(GpuTileOps, FillCumsumAtomicAdd) {
  SKIP_WITHOUT_GPU();
  auto f = T::prim_func("misc_ops", [&] {
    auto A = T::Tensor("A", {40, 48}, T::float32);
    auto S = T::Tensor("S", {40, 48}, T::float32);
    auto H = T::Tensor("H", {48}, T::float32);
    auto F = T::Tensor("F", {40, 48}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto sh = T::alloc_shared({40, 48}, T::float32, "sh");
      auto out = T::alloc_shared({40, 48}, T::float32, "out");
      T::copy(A, sh);
      T::cumsum(sh, out, 1, /*reverse=*/true);
      T::copy(out, S);
      T::fill(H, 0);
      T::Parallel(40, 48, [&](T::Expr i, T::Expr j) { T::atomic_add(H(j), sh(i, j)); });
      T::fill(F, 3.5);
      T::atomic_add(F, sh);
    });
  });
  expect_gpu_matches_cpu(f, {{{40, 48}, DataType::Float32}, {{40, 48}, DataType::Float32, true}, {{48}, DataType::Float32, true},
                             {{40, 48}, DataType::Float32, true}},
                         1e-4);
}

// T::cumsum on fragments (through the workspace): in place along either dimension, fragment to
// shared memory, shared memory to fragment, and an int32 1-D fragment in place.
TEST(GpuTileOps, CumsumOnFragments) {
  SKIP_WITHOUT_GPU();
  auto f = T::prim_func("fragment_cumsum", [&] {
    auto X = T::Tensor("X", {24, 40}, T::float32);
    auto Y = T::Tensor("Y", {24, 40}, T::float32);
    auto Z = T::Tensor("Z", {24, 40}, T::float32);
    auto W = T::Tensor("W", {24, 40}, T::float32);
    auto I = T::Tensor("I", {100}, T::int32);
    auto J = T::Tensor("J", {100}, T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto F = T::alloc_fragment({24, 40}, T::float32, "F");
      auto S = T::alloc_shared({24, 40}, T::float32, "S");
      auto G = T::alloc_fragment({24, 40}, T::float32, "G");
      auto K = T::alloc_fragment({100}, T::int32, "K");
      T::copy(X, F);
      T::cumsum(F, F, 1);
      T::copy(F, Y);
      T::cumsum(F, S, 0, /*reverse=*/true);
      T::copy(S, Z);
      T::cumsum(S, G, 1, /*reverse=*/true);
      T::copy(G, W);
      T::copy(I, K);
      T::cumsum(K, K);
      T::copy(K, J);
    });
  });
  expect_gpu_matches_cpu(f, {{{24, 40}, DataType::Float32}, {{24, 40}, DataType::Float32, true}, {{24, 40}, DataType::Float32, true},
                             {{24, 40}, DataType::Float32, true}, {{100}, DataType::Int32}, {{100}, DataType::Int32, true}},
                         1e-4);
}

// float16 operands accumulated in float16, a pipelined main loop with partial tiles. The GPU rounds
// after every mma, the CPU backend after every gemm: inputs in quarters keep every partial sum
// exact in float16 (multiples of 1/16 below 128), so both must agree exactly.
TEST(GpuTileOps, GemmWithAFloat16Accumulator) {
  SKIP_WITHOUT_GPU();
  const std::vector<Arg> args{{{200, 160}, DataType::Float16}, {{160, 136}, DataType::Float16}, {{200, 136}, DataType::Float16, true}};
  expect_gpu_matches_cpu(test::half_accumulator_gemm(200, 136, 160), args, 0, 7, 0.25);
  // The same main loop with a float32 accumulator on mma.sync (FullCol keeps it off wgmma).
  expect_gpu_matches_cpu(test::half_accumulator_gemm(200, 136, 160, DataType::Float32, T::GemmWarpPolicy::FullCol), args, 2e-3);
}

// float32 operands on the tensor cores as tf32, int8 and float8 operands, each stored K-major or
// MN-major (gathered element by element), partial tiles. Inputs in eighths are exact in tf32 and
// float8 and so are the float32 partial sums of tf32, so those must agree exactly; int8 is exact
// anyway; float8's mma accumulates with fewer bits than float32.
TEST(GpuTileOps, GemmWithFloat32Int8AndFloat8OperandsEitherMajor) {
  SKIP_WITHOUT_GPU();
  const auto [major, minor] = cuda::compute_capability(0);
  const bool fp8 = major * 10 + minor >= 89;  // float8 matrix instructions
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(testing::Message() << "transpose_A=" << ta << " transpose_B=" << tb);
      auto args = [&](DataType in, DataType acc) {
        return std::vector<Arg>{{ta ? std::vector<std::int64_t>{160, 200} : std::vector<std::int64_t>{200, 160}, in},
                                {tb ? std::vector<std::int64_t>{136, 160} : std::vector<std::int64_t>{160, 136}, in},
                                {{200, 136}, acc, true}};
      };
      expect_gpu_matches_cpu(examples::typed_gemm(DataType::Float32, DataType::Float32, ta, tb, 200, 136, 160),
                             args(DataType::Float32, DataType::Float32), 0, 17, 0.125);
      expect_gpu_matches_cpu(examples::typed_gemm(DataType::Int8, DataType::Int32, ta, tb, 200, 136, 160),
                             args(DataType::Int8, DataType::Int32), 0, 19);
      if (fp8)
        expect_gpu_matches_cpu(examples::typed_gemm(DataType::Float8E4M3, DataType::Float32, ta, tb, 200, 136, 160),
                               args(DataType::Float8E4M3, DataType::Float32), 1e-3, 23, 0.125);
    }
}

// A read from registers, K-major or M-major (transpose_A), partial tiles, both 16-bit types.
TEST(GpuTileOps, GemmWithAInRegisters) {
  SKIP_WITHOUT_GPU();
  std::uint64_t seed = 131;
  for (DataType dt : {DataType::Float16, DataType::BFloat16})
    for (bool ta : {false, true}) {
      SCOPED_TRACE(testing::Message() << name(dt) << " ta=" << ta);
      expect_gpu_matches_cpu(sr_kernels::gemm_a_in_registers(200, 136, 160, ta, dt),
                             {{ta ? std::vector<std::int64_t>{160, 200} : std::vector<std::int64_t>{200, 160}, dt},
                              {{160, 136}, dt},
                              {{200, 136}, DataType::Float32, true}},
                             1e-3, seed++);
    }
}

// Parallel loops that read fragment elements other threads hold: staged through shared memory.
TEST(GpuTileOps, ParallelLoopsReadOtherThreadsElements) {
  SKIP_WITHOUT_GPU();
  expect_gpu_matches_cpu(test::staged_reads_program(),
                         {{{256}, DataType::Float32}, {{256}, DataType::Int32}, {{32, 32}, DataType::Float32}, {{256}, DataType::Float32, true},
                          {{256}, DataType::Float32, true}, {{32}, DataType::Float32, true}, {{32, 32}, DataType::Float32, true},
                          {{64, 32}, DataType::Float16}, {{32, 64}, DataType::Float16}, {{64}, DataType::Float32, true}},
                         1e-4);
}

TEST(GpuTileOps, ThreadLevelCodeAndControlFlow) {
  SKIP_WITHOUT_GPU();
  auto f = T::prim_func("thread_level", [&] {
    auto A = T::Tensor("A", {256}, T::int32);
    auto B = T::Tensor("B", {256}, T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto tx = T::get_thread_binding();
      auto acc = T::alloc_var(T::int32, 0, "acc");
      T::serial(2, [&](T::Expr k) { acc += A(tx * 2 + k); });
      T::If(tx % 3 == 0, [&] { B(tx * 2) = acc; }).Else([&] { B(tx * 2) = -acc; });
      auto n = T::alloc_var(T::int32, 0, "n");
      T::While(n < 5, [&] {
        n += 1;
        T::If(n == tx % 7, [&] { T::Break(); });
      });
      B(tx * 2 + 1) = n;
    });
  });
  expect_gpu_matches_cpu(f, {{{256}, DataType::Int32}, {{256}, DataType::Int32, true}}, 0);
}

// Per-thread state set from the thread index and updated without naming it: CUDA and the CPU
// backend agree (the CPU backend used to run the updates once per block, with thread 0's values).
TEST(GpuTileOps, PerThreadStateUpdatedWithoutNamingTheThread) {
  SKIP_WITHOUT_GPU();
  using namespace test::thread_level;
  expect_gpu_matches_cpu(local_updated_without_naming_the_thread(), {{{256}, DataType::Int32, true}}, 0);
  expect_gpu_matches_cpu(while_on_a_per_thread_variable(), {{{128}, DataType::Int32, true}}, 0);
  expect_gpu_matches_cpu(split_k_gemv(), {{{kGemvK}, DataType::Float32}, {{kGemvN, kGemvK}, DataType::Float32},
                                          {{kGemvN}, DataType::Float32, true}},
                         1e-4);
  for (auto [bn, bk] : {std::pair{32, 4}, {4, 4}, {12, 4}})
    expect_gpu_matches_cpu(gemv_on_a_2d_block(bn, bk),
                           {{{kGemv2dK}, DataType::Float32}, {{kGemv2dN, kGemv2dK}, DataType::Float32}, {{kGemv2dN}, DataType::Float32, true}},
                           1e-4);
  expect_gpu_matches_cpu(thread_indices_of_a_3d_block(), {{{64, 3}, DataType::Int32, true}}, 0);
}

// Tile ops and Parallel loops on blocks that are not whole warps (16, 48 and 7 threads).
TEST(GpuTileOps, BlocksThatAreNotWholeWarps) {
  SKIP_WITHOUT_GPU();
  for (int threads : {16, 48, 7})
    expect_gpu_matches_cpu(test::thread_level::tile_ops_on_a_block_of(threads),
                           {{{16, 64}, DataType::Float32}, {{16}, DataType::Float32, true}, {{16, 64}, DataType::Float32, true},
                            {{16, 64}, DataType::Float32, true}},
                           1e-5);
}

TEST(GpuTileOps, SymbolicDimensions) {
  SKIP_WITHOUT_GPU();
  auto build = [] {
    T::Expr M = T::dynamic("M");
    return T::prim_func("scale_rows", [&] {
      auto A = T::Tensor("A", {M, 64}, T::float16);
      auto B = T::Tensor("B", {M, 64}, T::float16);
      T::Kernel(T::ceildiv(M, 32), T::threads(128), [&](T::Expr bx) {
        auto F = T::alloc_fragment({32, 64}, T::float16, "F");
        T::copy(A(bx * 32, 0), F);
        T::Parallel(32, 64, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * T::cast(bx * 32 + i, T::float16); });
        T::copy(F, B(bx * 32, 0));
      });
    });
  };
  for (int M : {32, 77}) expect_gpu_matches_cpu(build(), {{{M, 64}, DataType::Float16}, {{M, 64}, DataType::Float16, true}}, 1e-3);
}

class GpuExamples : public testing::TestWithParam<std::string> {};

TEST_P(GpuExamples, MatchesReference) {
  SKIP_WITHOUT_GPU();
  const auto* ex = examples::find_example(GetParam());
  ASSERT_NE(ex, nullptr);
  const auto kernel = compile(ex->build(ex->test_sizes), Target::CUDA);
  const auto r = ex->check(kernel, ex->test_sizes, 11);
  EXPECT_TRUE(r.passed()) << GetParam() << ": max relative error " << r.max_relative_error << " > " << r.tolerance;
}

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& e : examples::all_examples()) names.push_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, GpuExamples, testing::ValuesIn(example_names()));

TEST(GpuExamplesExtra, CausalAttentionAndDefaultSizes) {
  SKIP_WITHOUT_GPU();
  for (const auto& [name, spec] : std::vector<std::pair<std::string, std::string>>{
           {"flash_attention", "B=1,H=2,S=100,D=64,causal=1"}, {"flash_attention", "B=2,H=2,S=256,D=128,causal=0"},
           {"gemm", "M=1024,N=1024,K=1024"}, {"softmax", "M=4096,N=1024"}, {"layernorm", "M=4096,N=1024"},
           // Two warpgroups of 64 rows, each 256 columns (four 128-byte panels of B): wgmma on Hopper.
           {"gemm", "M=300,N=520,K=200,BM=128,BN=256,BK=64,threads=256"},
           {"gemm", "M=256,N=256,K=512,BM=128,BN=128,BK=32,threads=256,stages=4,bf16=1"}}) {
    const auto* ex = examples::find_example(name);
    const auto sizes = examples::parse_sizes(spec, ex->default_sizes);
    const auto r = ex->check(compile(ex->build(sizes), Target::CUDA), sizes, 5);
    EXPECT_TRUE(r.passed()) << name << " " << spec << ": " << r.max_relative_error << " > " << r.tolerance;
  }
}

// Warp specialization on Hopper: a producer warpgroup loads the tiles by TMA, the consumers wait on
// full barriers and release empty ones. The cases where pipelines hang or race: one iteration,
// fewer iterations than stages, tiles past every edge, two stages with asynchronous wgmma, and
// strides TMA cannot take (the kernel runs its cp.async variant). Elsewhere the cases just run.
TEST(GpuExamplesExtra, WarpSpecializedPipelineEdgeCases) {
  SKIP_WITHOUT_GPU();
  const bool hopper = cuda::compute_capability(0).first >= 9;
  struct Case {
    const char* example;
    const char* spec;
    bool fallback;  // on Hopper: the arguments' strides send the call to the cp.async variant
  };
  for (const Case& c : {Case{"gemm", "M=128,N=256,K=64,BM=128,BN=256,BK=64,threads=256,stages=4", false},    // one iteration
                        Case{"gemm", "M=256,N=256,K=128,BM=128,BN=256,BK=64,threads=256,stages=4", false},   // 2 < 4 stages
                        Case{"gemm", "M=200,N=328,K=200,BM=128,BN=256,BK=64,threads=256,stages=4", false},   // tails everywhere
                        Case{"gemm", "M=264,N=136,K=520,BM=128,BN=128,BK=64,threads=256,stages=2,bf16=1", false},  // 2 stages
                        Case{"gemm", "M=130,N=136,K=1000,BM=64,BN=128,BK=64,threads=128,stages=3", false},  // 1 consumer warpgroup
                        Case{"gemm", "M=200,N=264,K=201,BM=128,BN=256,BK=64,threads=256,stages=4", true},    // odd K
                        Case{"gemm", "M=256,N=256,K=256", false},                                            // mma.sync consumers
                        // Persistent: blocks walk several grid points, the stage rounds carry over.
                        Case{"gemm", "M=2000,N=1800,K=520,BM=128,BN=128,BK=64,threads=256,stages=3,persistent=1", false},
                        Case{"gemm", "M=4100,N=2048,K=64,BM=128,BN=256,BK=64,threads=256,stages=4,persistent=1", false},
                        Case{"gemm", "M=1500,N=1500,K=201,persistent=1", true},  // odd K, persistent cp.async variant
                        // C through shared memory: stmatrix, then a TMA store clipped at the edges
                        // (the store's map needs C's rows to be whole 16-byte chunks too).
                        Case{"gemm", "M=200,N=328,K=200,BM=128,BN=256,BK=64,threads=256,stages=4,stage_c=1", false},
                        Case{"gemm", "M=2000,N=1800,K=520,BM=128,BN=128,BK=64,threads=256,stages=3,persistent=1,stage_c=1", false},
                        Case{"gemm", "M=200,N=260,K=200,BM=128,BN=256,BK=64,threads=256,stages=4,stage_c=1", true},
                        Case{"gemm", "M=256,N=256,K=256,stage_c=1,bf16=1", false},
                        Case{"flash_attention", "B=1,H=2,S=100,D=64,causal=1", false},
                        Case{"flash_attention", "B=1,H=1,S=64,D=128,causal=0", false},
                        // Two and three consumer warpgroups taking turns at their gemms: tails, a
                        // block of one key tile, blocks of different lengths (causal), persistent.
                        Case{"flash_attention", "B=2,H=2,S=300,D=128,BM=128,BN=128,threads=256,stages=3,causal=1", false},
                        Case{"flash_attention", "B=1,H=1,S=64,D=64,BM=128,BN=64,threads=256,stages=3,causal=0", false},
                        Case{"flash_attention", "B=1,H=2,S=400,D=64,BM=192,BN=64,threads=384,stages=3,causal=1", false},
                        Case{"flash_attention", "B=2,H=3,S=500,D=128,BM=128,BN=128,threads=256,stages=3,causal=1,persistent=1", false},
                        // Persistent attention: the producer loads the next tile's keys during the epilogue.
                        Case{"flash_attention", "B=2,H=3,S=300,D=64,causal=1,persistent=1", false},
                        Case{"flash_attention", "B=1,H=2,S=200,D=128,BM=128,BN=128,threads=256,persistent=1", false}}) {
    SCOPED_TRACE(testing::Message() << c.example << " " << c.spec);
    const auto* ex = examples::find_example(c.example);
    const auto sizes = examples::parse_sizes(c.spec, ex->default_sizes);
    const Kernel k = compile(ex->build(sizes), Target::CUDA);
    if (hopper) EXPECT_NE(k.cuda_source().find("tl::tma_load_"), std::string::npos);
    testing::internal::CaptureStderr();
    for (std::uint64_t seed : {7, 8}) {  // twice: the barriers' phases start over in every launch
      const auto r = ex->check(k, sizes, seed);
      EXPECT_TRUE(r.passed()) << r.max_relative_error << " > " << r.tolerance;
    }
    const std::string note = testing::internal::GetCapturedStderr();
    if (hopper) EXPECT_EQ(note.find("runs without TMA for these arguments") != std::string::npos, c.fallback) << note;
  }
}

// The staged tile reuses the memory of a tile that is dead before the loop: the producer waits for
// the consumers to reach the loop before its first load (a named barrier); without that wait it
// would overwrite Xs while it is still read.
TEST(GpuExamplesExtra, WarpSpecializedProducerWaitsForReusedMemory) {
  SKIP_WITHOUT_GPU();
  const auto f = ws_kernels::staged_tile_reuses_memory();
  expect_gpu_matches_cpu(f, {{{64, 64}, DataType::Float16}, {{512, 64}, DataType::Float16}, {{64, 64}, DataType::Float32, true}},
                         1e-3);
}

}  // namespace
}  // namespace tilescale
