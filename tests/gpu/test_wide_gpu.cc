// 64-bit values and indices on the GPU, compared with the CPU backend bit for bit: integer
// reductions (which once went through float32 and lost the low digits of int64 values around
// 1e12), and tensors of more than 2^31 elements (whose indices once wrapped in 32 bits). Inputs are
// fresh random bit patterns (the seed is in the failure message), outputs are poisoned before the
// run. Skips, with the reason, without a GPU.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>

#include "ir/IR.h"
#include "jit/nvrtc.h"
#include "runtime/cuda/driver.h"
#include "tilescale/tilescale.h"
#include "skips.h"
#include "wide_programs.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

std::uint64_t fresh_seed() { return std::random_device{}(); }

// Random bits in every byte: integers of every width over their whole range (sums wrap, 64-bit
// values lie far beyond 2^53), the type's lowest value planted at element 0 (|x| wraps to itself).
void fill_bits(const Tensor& t, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto* p = static_cast<unsigned char*>(t.data());
  const std::size_t n = static_cast<std::size_t>(t.numel()) * bytes(t.dtype());
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t x = rng();
    std::memcpy(p + i, &x, std::min<std::size_t>(8, n - i));
  }
  if (is_signed(t.dtype()) && !is_float(t.dtype())) {
    std::memset(p, 0, bytes(t.dtype()));
    p[bytes(t.dtype()) - 1] = 0x80;
  }
}

// Values of about +-`magnitude` (1e12: the values of the bug report), int64 only.
void fill_int64_around(const Tensor& t, std::uint64_t seed, std::int64_t magnitude) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> d(-magnitude, magnitude);
  for (std::int64_t i = 0; i < t.numel(); ++i) static_cast<std::int64_t*>(t.data())[i] = d(rng);
}

// Runs `func` on the CPU backend and on CUDA with the same inputs (`fill` writes each input); the
// outputs, poisoned with 0xA5 bytes before the run, must agree byte for byte.
void expect_gpu_equals_cpu(const T::PrimFunc& func, const std::vector<Tensor>& cpu, const std::vector<bool>& output) {
  std::vector<Tensor> gpu;
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (output[i]) std::memset(cpu[i].data(), 0xA5, static_cast<std::size_t>(cpu[i].numel()) * bytes(cpu[i].dtype()));
    gpu.push_back(cpu[i].to(Device::cuda()));
  }
  compile(func, Target::CPU).call(cpu);
  compile(func, Target::CUDA).call(gpu);
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!output[i]) continue;
    const Tensor back = gpu[i].to(Device::cpu());
    const std::size_t width = bytes(cpu[i].dtype());
    int shown = 0;
    for (std::int64_t k = 0; k < cpu[i].numel(); ++k) {
      const auto* g = static_cast<const unsigned char*>(back.data()) + k * width;
      const auto* c = static_cast<const unsigned char*>(cpu[i].data()) + k * width;
      if (std::memcmp(g, c, width) == 0) continue;
      std::int64_t gv = 0, cv = 0;  // little endian; shown as signed integers of the width
      std::memcpy(&gv, g, width), std::memcpy(&cv, c, width);
      if (width < 8) gv = gv << (64 - 8 * width) >> (64 - 8 * width), cv = cv << (64 - 8 * width) >> (64 - 8 * width);
      ADD_FAILURE() << func.name() << " output " << i << " element " << k << ": GPU " << gv << ", CPU " << cv;
      if (++shown == 5) break;
    }
  }
}

using Reduce = void (*)(const T::TileRef&, const T::TileRef&, int, bool);
const Reduce kReductions[] = {T::reduce_sum, T::reduce_max, T::reduce_min, T::reduce_abssum, T::reduce_absmax};

// The shapes of a reductions() kernel: src [R, C] on `threads` threads, reduced along dim 0 too
// when `cols`, with clear=false too when `accumulate`. (NVRTC takes seconds per reduction of a
// 128 x 128 int64 fragment on one warp: 512 registers per thread.)
struct Shape {
  std::int64_t R, C;
  int threads;
  bool cols, accumulate;
};

// src [R, C] of `src_t` reduced by every kind along dim 1 (and dim 0) into fragments of `dst_t`
// that start from P (clear=false) or not: O_rows[2k + clear] and O_cols[2k + clear] are kind k's
// results (P where not computed).
T::PrimFunc reductions(DataType src_t, DataType dst_t, const Shape& s) {
  const std::int64_t R = s.R, C = s.C;
  return T::prim_func("int_reductions", [&] {
    auto A = T::Tensor("A", {R, C}, src_t);
    auto P_rows = T::Tensor("P_rows", {R}, dst_t);
    auto P_cols = T::Tensor("P_cols", {C}, dst_t);
    auto O_rows = T::Tensor("O_rows", {10, R}, dst_t);
    auto O_cols = T::Tensor("O_cols", {10, C}, dst_t);
    T::Kernel(1, T::threads(s.threads), [&](T::Expr) {
      auto F = T::alloc_fragment({R, C}, src_t, "F");
      auto Rows = T::alloc_fragment({R}, dst_t, "Rows");
      auto Cols = T::alloc_fragment({C}, dst_t, "Cols");
      T::copy(A, F);
      for (int k = 0; k < 5; ++k)
        for (bool clear : {false, true}) {
          if (!clear && !s.accumulate) continue;
          T::copy(P_rows, Rows);
          T::copy(P_cols, Cols);
          kReductions[k](F, Rows, 1, clear);
          if (s.cols) kReductions[k](F, Cols, 0, clear);
          T::copy(Rows, O_rows(2 * k + clear, 0));
          T::copy(Cols, O_cols(2 * k + clear, 0));
        }
    });
  });
}

// Checks reductions(src_t, dst_t, s) on inputs that `fill` writes.
void check_reductions(DataType src_t, DataType dst_t, const Shape& s, const std::function<void(const Tensor&, std::uint64_t)>& fill) {
  const std::uint64_t seed = fresh_seed();
  SCOPED_TRACE(std::string(name(src_t)) + " -> " + name(dst_t) + " on " + std::to_string(s.threads) + " threads, seed " +
               std::to_string(seed));
  const std::int64_t R = s.R, C = s.C;
  std::vector<Tensor> args = {Tensor::empty({R, C}, src_t), Tensor::empty({R}, dst_t), Tensor::empty({C}, dst_t),
                              Tensor::empty({10, R}, dst_t), Tensor::empty({10, C}, dst_t)};
  for (int i = 0; i < 3; ++i) fill(args[i], seed + i);
  expect_gpu_equals_cpu(reductions(src_t, dst_t, s), args, {false, false, false, true, true});
}

// The bug report: row-wise min/max (and every other kind) of a 128 x 128 int64 fragment with values
// around +-1e12 on 32 threads came back wrong in every row, rounded to float32.
TEST(GpuWide, Int64RowReductionsAreExact) {
  SKIP_WITHOUT_GPU();
  auto around_1e12 = [](const Tensor& t, std::uint64_t seed) { fill_int64_around(t, seed, 1'000'000'000'000); };
  for (int threads : {32, 128}) check_reductions(DataType::Int64, DataType::Int64, {128, 128, threads, false, false}, around_1e12);
}

// int32 values beyond 2^24 (float32's exact range) and int64 values beyond 2^31 and 2^53 (random
// bits), every kind, both dims (rows by shuffles, columns through shared memory), with and without
// clear, on one warp and on four; uint64; and an int32 tile summed into int64 (no wrap at 2^31).
TEST(GpuWide, Int32AndInt64ReductionsAllKindsAreExact) {
  SKIP_WITHOUT_GPU();
  struct Types {
    DataType src, dst;
  };
  for (Types t : {Types{DataType::Int32, DataType::Int32}, Types{DataType::Int64, DataType::Int64},
                  Types{DataType::Int32, DataType::Int64}, Types{DataType::UInt64, DataType::UInt64}})
    for (int threads : {32, 128}) check_reductions(t.src, t.dst, {16, 128, threads, true, true}, fill_bits);
}

// A 1-D int8 tensor of 4.4e9 elements (4.4 GB, and 8.8 GB more for the two results) whose indices
// once wrapped at 2^31 (an illegal address). The inputs are written and the outputs poisoned on the
// GPU; the results are read back in windows across 2^31, 2^32 and the end, straight from device
// memory, and compared with the formula the inputs follow. The extent is a constant, then a
// symbolic int64 dimension.
TEST(GpuWide, Int8TensorBeyond2To31Elements) {
  SKIP_WITHOUT_GPU();
  const std::int64_t N = 4'400'000'077, seed = static_cast<std::int64_t>(fresh_seed() % 251);
  SCOPED_TRACE("seed " + std::to_string(seed));
  auto value = [&](std::int64_t i) { return static_cast<std::int8_t>((i + seed) % 251 - 125); };
  auto init = T::prim_func("init", [&] {
    auto A = T::Tensor("A", {N}, T::int8);
    auto B = T::Tensor("B", {N}, T::int8);
    auto C = T::Tensor("C", {N}, T::int8);
    T::Kernel(T::ceildiv(N, 1024), T::threads(128), [&](T::Expr bx) {
      T::Parallel(1024, [&](T::Expr i) {
        T::Expr at = T::cast(bx, T::int64) * 1024 + i;
        T::If(at < N, [&] {
          A(at) = T::cast((at + seed) % 251 - 125, T::int8);
          B(at) = -77;
          C(at) = -77;
        });
      });
    });
  });
  std::vector<Tensor> args;
  for (int k = 0; k < 3; ++k) args.push_back(Tensor::empty({N}, DataType::Int8, Device::cuda()));
  const std::int64_t window = 8192, two31 = std::int64_t(1) << 31;
  for (const T::Expr& n : {T::Expr(N), T::dynamic("N", T::int64)}) {
    SCOPED_TRACE(ir::as_const_int(n.node()) ? "constant extent" : "symbolic int64 extent");
    compile(init, Target::CUDA).call(args);
    compile(test::wide::add_one_1d(n), Target::CUDA).call(args);
    for (std::int64_t start : {std::int64_t(0), two31 - window / 2, 2 * two31 - window / 2, N - window}) {
      for (int out : {0, 1, 2}) {  // A as init wrote it, then the results
        auto* p = static_cast<std::int8_t*>(args[out].data()) + start;
        const Tensor back = Tensor::wrap(p, {window}, DataType::Int8, {}, Device::cuda()).to(Device::cpu());
        int wrong = 0;
        for (std::int64_t k = 0; k < window; ++k) {
          const auto got = static_cast<const std::int8_t*>(back.data())[k];
          const auto want = static_cast<std::int8_t>(value(start + k) + (out > 0));
          if (got != want && wrong++ < 5)
            ADD_FAILURE() << "ABC"[out] << "[" << start + k << "] = " << int(got) << ", expected " << int(want);
        }
      }
    }
  }
}

// Integer prefix sums on the GPU (they went through float32): int32 and int64 random bits, both
// directions, from global memory into shared and from shared into global.
TEST(GpuWide, IntegerCumsumIsExact) {
  SKIP_WITHOUT_GPU();
  for (DataType dt : {DataType::Int32, DataType::Int64})
    for (bool reverse : {false, true}) {
      const std::uint64_t seed = fresh_seed();
      SCOPED_TRACE(std::string(name(dt)) + (reverse ? " reverse" : "") + ", seed " + std::to_string(seed));
      auto f = T::prim_func("int_cumsum", [&] {
        auto X = T::Tensor("X", {12, 100}, dt);
        auto Y = T::Tensor("Y", {12, 100}, dt);
        auto Z = T::Tensor("Z", {12, 100}, dt);
        T::Kernel(1, T::threads(128), [&](T::Expr) {
          auto S = T::alloc_shared({12, 100}, dt, "S");
          T::cumsum(X, S, 1, reverse);
          T::copy(S, Y);
          T::cumsum(S, Z, 0, reverse);
        });
      });
      std::vector<Tensor> args = {Tensor::empty({12, 100}, dt), Tensor::empty({12, 100}, dt), Tensor::empty({12, 100}, dt)};
      fill_bits(args[0], seed);
      expect_gpu_equals_cpu(f, args, {false, true, true});
    }
}

}  // namespace
}  // namespace tilescale
