// autotune on the CPU backend with the gemm example: failures recorded, the fastest passing config
// chosen, the choice cached on disk by problem.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "codegen/temp_cache.h"
#include "example.h"
#include "tilescale/autotune.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

// The gemm example at M=N=K=size with `config`'s knobs; bug=1 builds a program with gemm's
// signature that only writes zeros, so its result fails the check.
lang::PrimFunc build_gemm(std::int64_t size, const Config& config) {
  examples::Sizes sizes = examples::find_example("gemm")->test_sizes;
  sizes["M"] = sizes["N"] = sizes["K"] = size;
  for (const auto& [k, v] : config) sizes[k] = v;
  if (!config.contains("bug")) return examples::find_example("gemm")->build(sizes);
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", {size, size}, T::float16);
    auto B = T::Tensor("B", {size, size}, T::float16);
    auto C = T::Tensor("C", {size, size}, T::float16);
    T::Kernel(T::ceildiv(size, sizes["BN"]), T::ceildiv(size, sizes["BM"]), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto C_local = T::alloc_fragment({sizes["BM"], sizes["BN"]}, T::float32, "C_local");
      T::clear(C_local);
      T::copy(C_local, C(by * sizes["BM"], bx * sizes["BN"]));
    });
  });
}

// Random inputs, an output and the float64 reference product.
struct Problem {
  explicit Problem(std::int64_t n) : size(n) {
    A = Tensor::empty({n, n}, DataType::Float16), B = Tensor::empty({n, n}, DataType::Float16);
    C = Tensor::empty({n, n}, DataType::Float16), want = Tensor::zeros({n, n}, DataType::Float64);
    A.fill_random(1), B.fill_random(2);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t k = 0; k < n; ++k) s += A.get({i, k}) * B.get({k, j});
        want.set({i, j}, s);
      }
  }
  std::vector<Arg> args() const { return {A, B, C}; }
  std::int64_t size;
  Tensor A, B, C, want;
};

class Autotune : public TempCache {
 protected:
  TuneResult tune(const Problem& p, const std::vector<Config>& configs, bool progress = false) {
    TuneOptions options;
    options.target = Target::CPU;
    options.compile_threads = 2;
    options.progress = progress;
    // Timing is sequential in config order, so the n-th timed config gets times[n].
    options.timer = [this](const Kernel&, const std::vector<Arg>&) { return times.at(timed++); };
    options.check = [&p](const std::vector<Arg>& args) {
      const bool ok = max_relative_error(args[2].tensor(), p.want) < 1e-2;
      args[2].tensor().fill(std::numeric_limits<double>::quiet_NaN());  // so the next config cannot pass on these
      return ok;
    };
    return autotune([&p](const Config& c) { return build_gemm(p.size, c); }, configs, p.args(), options);
  }
  std::vector<double> times = {5.0, 2.0, 3.0};
  std::size_t timed = 0;
};

const Config kBadThreads = {{"BM", 32}, {"BN", 32}, {"threads", 0}};
const Config kWrongResult = {{"BM", 32}, {"BN", 64}, {"bug", 1}};
const Config kSlow = {{"BM", 64}, {"BN", 64}};
const Config kFast = {{"BM", 128}, {"BN", 64}};
const Config kMiddle = {{"BM", 64}, {"BN", 128}};

TEST_F(Autotune, PicksTheFastestConfigThatCompilesAndPassesTheCheck) {
  const Problem p(128);
  const TuneResult r = tune(p, {kBadThreads, kWrongResult, kSlow, kFast, kMiddle});
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(r.best, kFast);
  EXPECT_EQ(r.best_ms, 2.0);
  ASSERT_EQ(r.tried.size(), 5u);
  EXPECT_TRUE(std::isnan(std::get<1>(r.tried[0])));
  EXPECT_NE(std::get<2>(r.tried[0]).find("a block has at least one thread"), std::string::npos) << std::get<2>(r.tried[0]);
  EXPECT_TRUE(std::isnan(std::get<1>(r.tried[1])));
  EXPECT_EQ(std::get<2>(r.tried[1]), "its result failed the check");
  EXPECT_EQ(std::get<1>(r.tried[2]), 5.0);
  EXPECT_EQ(std::get<2>(r.tried[3]), "");
  EXPECT_EQ(timed, 3u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "tune"), {}), 1);
}

TEST_F(Autotune, SecondCallWithTheSameProblemComesFromTheCache) {
  const Problem p(128);
  tune(p, {kSlow, kFast, kMiddle});
  const TuneResult again = tune(p, {kMiddle, kFast, kSlow});  // the same set in another order
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.best, kFast);
  EXPECT_EQ(again.best_ms, 2.0);
  EXPECT_TRUE(again.tried.empty());
  EXPECT_EQ(timed, 3u);  // nothing timed the second time
}

TEST_F(Autotune, OtherShapesOrConfigsMissTheCache) {
  tune(Problem(128), {kSlow, kFast});
  timed = 0;
  EXPECT_FALSE(tune(Problem(64), {kSlow, kFast}).from_cache);
  timed = 0;
  EXPECT_FALSE(tune(Problem(128), {kSlow, kFast, kMiddle}).from_cache);
}

// A kernel with a scalar parameter tunes like any other; the scalar's value is part of the problem.
TEST_F(Autotune, ScalarArgumentsAreArgumentsAndPartOfTheKey) {
  const auto build = [](const Config& c) {
    const std::int64_t block = c.at("block");
    return T::prim_func("scaled_head", [block] {
      auto X = T::Tensor("X", {256}, T::float32);
      T::Expr n = T::ScalarParam("n", T::int32);
      auto Y = T::Tensor("Y", {256}, T::float32);
      T::Kernel(256 / block, T::threads(block), [&](T::Expr bx) {
        T::Parallel(block, [&](T::Expr i) { Y(bx * block + i) = T::if_then_else(bx * block + i < n, X(bx * block + i) * 2.0f, 0.0f); });
      });
    });
  };
  Tensor x = Tensor::empty({256}, DataType::Float32), y = Tensor::zeros({256}, DataType::Float32);
  x.fill_random(3);
  TuneOptions options;
  options.target = Target::CPU;
  options.progress = false;
  options.check = [&](const std::vector<Arg>& args) {
    const std::int64_t n = args[1].int_value();
    for (std::int64_t i = 0; i < 256; ++i)
      if (y.get({i}) != (i < n ? 2.0 * x.get({i}) : 0.0)) return false;
    return true;
  };
  const std::vector<Config> configs = {{{"block", 64}}, {{"block", 128}}};
  const TuneResult first = autotune(build, configs, {x, 100, y}, options);
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(first.tried.size(), 2u);
  for (const auto& [config, ms, why] : first.tried) EXPECT_EQ(why, "") << format_config(config);
  EXPECT_TRUE(autotune(build, configs, {x, 100, y}, options).from_cache);
  EXPECT_FALSE(autotune(build, configs, {x, 200, y}, options).from_cache);
}

TEST_F(Autotune, NoCacheWhenTurnedOff) {
  const Problem p(64);
  ::setenv("TILESCALE_CACHE", "0", 1);
  tune(p, {kSlow, kFast});
  timed = 0;
  EXPECT_FALSE(tune(p, {kSlow, kFast}).from_cache);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "tune"));
}

TEST_F(Autotune, RaisesNamingEveryConfigWhenNoneWorks) {
  const Problem p(64);
  try {
    tune(p, {kBadThreads, kWrongResult});
    FAIL() << "expected RuntimeError";
  } catch (const RuntimeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("autotune found no config that works; of 2 configs:"), std::string::npos) << m;
    EXPECT_NE(m.find("BM=32,BN=32,threads=0: cannot launch"), std::string::npos) << m;
    EXPECT_NE(m.find("BM=32,BN=64,bug=1: its result failed the check"), std::string::npos) << m;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "tune"));
}

TEST_F(Autotune, EmptyConfigListIsAnError) {
  const Problem p(64);
  try {
    tune(p, {});
    FAIL() << "expected CompileError";
  } catch (const CompileError& e) {
    EXPECT_STREQ(e.what(), "cannot autotune because the config list is empty");
  }
}

TEST_F(Autotune, ProgressLineIsRewrittenInPlaceAndEnded) {
  const Problem p(64);
  ::testing::internal::CaptureStderr();
  tune(p, {kSlow, kFast}, /*progress=*/true);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\rautotune: compiled 2/2, timed 2/2, best 2 ms (BM=128,BN=64)"), std::string::npos) << err;
  EXPECT_EQ(err.back(), '\n');
}

TEST(FormatConfig, ListsKnobsInNameOrder) {
  EXPECT_EQ(format_config({{"stages", 3}, {"BM", 128}, {"BN", 256}}), "BM=128,BN=256,stages=3");
}

}  // namespace
}  // namespace tilescale
