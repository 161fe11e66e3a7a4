// The generated CUDA of every distributed example compiles with NVRTC for sm_90a and sm_80 (no GPU
// needed) without NVSHMEM: the NVSHMEM-level builtins lower to tl::dist's own functions
// (device/tilescale/dist_shmem.h). Their other form, NVSHMEM's device calls (the `nvshmem`
// transport's, cuda::Target::nvshmem_calls), calls the wrappers of device/tilescale/nvshmem_calls.h
// and is linked with them and NVSHMEM's device library (jit/nvshmem.h: the pip wheel
// nvidia-nvshmem-cu13, or NVSHMEM_HOME); the tests that link are skipped, saying why, when NVSHMEM
// or nvJitLink is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "codegen/cuda/codegen.h"
#include "codegen/temp_cache.h"
#include "distributed/distributed_example.h"
#include "ir/visitor.h"
#include "jit/nvcc.h"
#include "jit/nvjitlink.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem.h"
#include "skips.h"
#include "test_util.h"
#include "ops/builtin.h"
#include "pipeline.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

// The kernel `func` becomes for `arch`, the NVSHMEM-level builtins lowered to NVSHMEM's device calls
// when `nvshmem_calls`.
cuda::KernelSpec generate_for(const lang::PrimFunc& func, const std::string& arch, bool nvshmem_calls) {
  cuda::Target target = cuda::target_for_arch(arch);
  target.nvshmem_calls = nvshmem_calls;
  return cuda::generate(run_pipeline(func.node(), PipelineOptions{Target::CUDA, "", target.sm}), target);
}

bool is_elf(const std::vector<char>& bin) { return bin.size() > 4 && std::string(bin.data(), 4) == "\x7f" "ELF"; }

// Whether `source` includes NVSHMEM's headers or our wrappers' (nvshmem_calls.h), or calls NVSHMEM
// (nvshmem_*, nvshmemx_*, NVSHMEM_*) or the wrappers (ts_nvshmem_*, tl::nvshmem::).
bool mentions_nvshmem(const std::string& source) {
  static const std::regex nvshmem("<nvshmem|nvshmem_calls\\.h|ts_nvshmem_|tl::nvshmem::|(^|[^A-Za-z0-9_])(nvshmemx?|NVSHMEM)_");
  return std::regex_search(source, nvshmem);
}

// Compiles `func` for `arch` as generate_cuda gives it: a distributed kernel that needs no NVSHMEM.
void compile_for(const lang::PrimFunc& func, const std::string& arch) {
  const cuda::KernelSpec spec = generate_for(func, arch, false);
  EXPECT_EQ(spec.source, generate_cuda(func, arch));
  EXPECT_NE(spec.source.find("const tl::dist::Context ts_dist"), std::string::npos) << "no distributed context parameter";
  EXPECT_FALSE(mentions_nvshmem(spec.source)) << func.name() << " includes or calls NVSHMEM";
  EXPECT_FALSE(spec.nvshmem);
  const auto bin = jit::compile_nvrtc(spec.source, func.name(), arch, {});
  EXPECT_FALSE(bin.cubin.empty());
}

struct Case {
  std::string example;
  int kernel;  // index into the example's kernels
};

class DistributedCodegen : public testing::TestWithParam<Case> {};

TEST_P(DistributedCodegen, CompilesWithNvrtcForSm90aAndSm80WithoutNvshmem) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* ex = examples::find_distributed_example(GetParam().example);
  ASSERT_NE(ex, nullptr);
  const auto kernels = ex->build(ex->test_sizes, ex->test_ranks.back());
  for (const char* arch : {"sm_90a", "sm_80"}) compile_for(kernels.at(GetParam().kernel), arch);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& ex : examples::distributed_examples()) {
    const auto n = ex.build(ex.test_sizes, ex.test_ranks.back()).size();
    for (size_t k = 0; k < n; ++k) out.push_back({ex.name, static_cast<int>(k)});
  }
  return out;
}

std::string label(const testing::TestParamInfo<Case>& info) {
  return info.param.example + "_kernel" + std::to_string(info.param.kernel);
}

INSTANTIATE_TEST_SUITE_P(All, DistributedCodegen, testing::ValuesIn(cases()), label);

namespace T = tilescale::lang;

// Every builtin but NVSHMEM's, with every legal combination of semantics, scope, cache hints and
// sizes.
lang::PrimFunc every_core_builtin() {
  return T::prim_func("every_core_builtin", [] {
    auto h = T::Tensor("h", {64}, T::float16);
    auto i16 = T::Tensor("i16", {8}, T::int16);
    auto i32 = T::Tensor("i32", {64}, T::int32);
    auto u32 = T::Tensor("u32", {8}, T::uint32);
    auto i64 = T::Tensor("i64", {8}, T::int64);
    auto u64 = T::Tensor("u64", {8}, T::uint64);
    auto f32 = T::Tensor("f32", {8}, T::float32);
    auto f64 = T::Tensor("f64", {8}, T::float64);
    T::Kernel(2, T::threads(128), [&](T::Expr bx) {
      auto staged = T::alloc_shared({64}, T::float16, "staged");
      T::Expr tx = T::get_thread_binding(), peer = (T::get_rank() + 1) % T::get_num_ranks();
      const std::vector<T::MemScope> scopes = {T::MemScope::CTA, T::MemScope::GPU, T::MemScope::SYS};
      T::If(tx == 0, [&] {
        for (auto scope : scopes)
          for (bool na : {false, true}) {
            for (auto sem : {T::MemSem::Relaxed, T::MemSem::Acquire}) {
              h(0) = T::ld(h(1), scope, sem, na, false, peer);
              i32(0) = T::ld(i32(1), scope, sem, na);
              f64(0) = T::ld(f64(1), scope, sem, na, false, peer);
            }
            for (auto sem : {T::MemSem::Relaxed, T::MemSem::Release}) {
              T::st(h(2), h(3), scope, sem, na, peer);
              T::st(u64(2), 5, scope, sem, na);
            }
          }
        for (bool na : {false, true})
          for (bool nc : {false, true}) i32(2) = T::ld(i32(3), T::MemScope::GPU, T::MemSem::Weak, na, nc, peer);
        T::st(i32(4), 1, T::MemScope::SYS, T::MemSem::Weak, true, peer);
        T::st(i32(4), 1, T::MemScope::SYS, T::MemSem::Weak);
        i64(0) = T::ld(i64(1), T::MemScope::SYS, T::MemSem::Volatile);
        T::st(i64(2), 3, T::MemScope::SYS, T::MemSem::Volatile, false, peer);
        auto v16 = T::alloc_local({4}, T::int32, "v16");
        auto v8 = T::alloc_local({4}, T::float16, "v8");
        auto v4 = T::alloc_local({2}, T::float16, "v4");
        auto v2 = T::alloc_local({2}, T::int8, "v2");
        T::ld(i32(8), v16, T::MemScope::SYS, T::MemSem::Acquire, true, false, peer);
        T::st(i32(12), v16, T::MemScope::GPU, T::MemSem::Release, false, peer);
        T::ld(h(8), v8, T::MemScope::GPU, T::MemSem::Weak, false, true);
        T::st(h(16), v8, T::MemScope::CTA, T::MemSem::Relaxed, true);
        T::ld(h(20), v4, T::MemScope::SYS, T::MemSem::Volatile);
        T::st(h(24), v4, T::MemScope::SYS, T::MemSem::Volatile);
        T::st(i32(16), v2.at({0}), T::MemScope::SYS, T::MemSem::Weak);
        for (auto scope : scopes)
          for (auto sem : {T::MemSem::Relaxed, T::MemSem::Acquire, T::MemSem::Release, T::MemSem::AcqRel}) {
            i32(5) = T::atom_add(i32(6), 1, scope, sem, peer);
            u32(0) = T::atom_add(u32(1), 1, scope, sem);
            i64(3) = T::atom_add(i64(4), 1, scope, sem, peer);
            u64(3) = T::atom_add(u64(4), 1, scope, sem);
            f32(0) = T::atom_add(f32(1), 0.5f, scope, sem, peer);
            f64(2) = T::atom_add(f64(3), 0.5, scope, sem);
          }
      });
      for (auto [scope, sem] : {std::pair{T::MemScope::GPU, T::MemSem::Acquire}, {T::MemScope::SYS, T::MemSem::Acquire},
                                {T::MemScope::SYS, T::MemSem::Volatile}}) {
        T::wait_eq(i32(20), 1, peer, scope, sem);
        T::wait_ne(u64(5), 1, -1, scope, sem);
        T::wait_ge(i16(0), 1, peer, scope, sem);
        T::wait_le(u32(2), 1, -1, scope, sem);
        T::wait_gt(i64(5), 1, peer, scope, sem);
        T::wait_lt(i32(21), 1, -1, scope, sem);
      }
      T::fence_cta();
      T::fence_gpu();
      T::fence_sys();
      T::barrier_blocks(i32(32));
      T::sync_blocks(i32(32));
      T::sync_grid(u32(4));
      i32(22) = T::cast(T::warp_any(tx > 3), T::int32) + T::cast(T::warp_all(tx > 3, 0xffu), T::int32);
      T::sync_warp();
      T::If(T::shuffle_elect(64), [&] { i32(23) = bx; });
      T::If(tx < 32, [&] {
        T::put_warp(h(0), h(32), 16, peer, 4, true);
        T::put_warp(staged(0), h(32), 16, peer, 2, false);
        T::get_warp(h(32), staged(0), 16, peer, 1, true);
        T::get_warp(staged(0), staged(16), 16, -1);
      });
      T::put_block(staged(0), h(32), 32, peer);
      T::get_block(h(32), staged(0), 32, peer);
    });
  });
}

// Every NVSHMEM builtin.
lang::PrimFunc every_nvshmem_builtin() {
  return T::prim_func("every_nvshmem_builtin", [] {
    auto a = T::Tensor("a", {64}, T::float32);
    auto b = T::Tensor("b", {64}, T::float32);
    auto ints = T::Tensor("ints", {4}, T::int32);
    auto sig = T::Tensor("sig", {8}, T::uint64);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto staged = T::alloc_shared({64}, T::float32, "staged");
      T::Expr tx = T::get_thread_binding(), peer = (T::get_rank() + 1) % T::get_num_ranks();
      T::If(tx == 0, [&] {
        T::putmem(a(0), b(0), 64, peer);
        T::putmem_nbi(a(0), staged(0), 64, peer);
        T::getmem(staged(0), a(0), 64, peer);
        T::getmem_nbi(b(0), a(0), 64, peer);
        T::int_p(ints(0), 3, peer);
        T::putmem_signal(a(0), b(0), 64, sig(0), 1, T::SignalOp::Set, peer);
        T::putmem_signal_nbi(a(0), b(0), 64, sig(0), 1, T::SignalOp::Add, peer);
        T::signal_op(sig(1), 2, T::SignalOp::Add, peer);
        T::signal_op(sig(1), 2, T::SignalOp::Set, peer);
        for (auto cmp : {T::Cmp::EQ, T::Cmp::NE, T::Cmp::GT, T::Cmp::GE, T::Cmp::LT, T::Cmp::LE})
          T::signal_wait_until(sig(2), cmp, 1);
        T::barrier_all();
        T::sync_all();
      });
      T::If(tx < 32, [&] {
        T::putmem_warp(a(0), b(0), 64, peer);
        T::putmem_nbi_warp(a(0), b(0), 64, peer);
        T::getmem_warp(b(0), a(0), 64, peer);
        T::getmem_nbi_warp(b(0), a(0), 64, peer);
        T::putmem_signal_warp(a(0), b(0), 64, sig(3), 1, T::SignalOp::Set, peer);
        T::putmem_signal_nbi_warp(a(0), b(0), 64, sig(3), 1, T::SignalOp::Add, peer);
        T::barrier_all_warp();
        T::sync_all_warp();
      });
      T::putmem_block(a(0), b(0), 64, peer);
      T::putmem_nbi_block(a(0), b(0), 64, peer);
      T::getmem_block(b(0), a(0), 64, peer);
      T::getmem_nbi_block(b(0), a(0), 64, peer);
      T::putmem_signal_block(a(0), b(0), 64, sig(4), 1, T::SignalOp::Set, peer);
      T::putmem_signal_nbi_block(a(0), b(0), 64, sig(4), 1, T::SignalOp::Add, peer);
      T::quiet();
      T::fence();
      T::barrier_all_block();
      T::sync_all_block();
    });
  });
}

std::set<std::string> builtins_in(const lang::PrimFunc& f) {
  struct Names : ir::Visitor {
    std::set<std::string> names;
    void visit(const ir::BuiltinNode* op) override {
      names.insert(op->op);
      Visitor::visit(op);
    }
  } n;
  n.visit_stmt(f.node()->body);
  return n.names;
}

TEST(BuiltinCodegen, TheseTestsUseEveryRegisteredBuiltin) {
  auto used = builtins_in(every_core_builtin());
  for (const auto& n : builtins_in(every_nvshmem_builtin())) used.insert(n);
  for (const auto* def : ops::all_builtins()) EXPECT_TRUE(used.count(def->name)) << def->name << " is not compiled by any test";
}

TEST(BuiltinCodegen, EveryCoreBuiltinCompilesForSm90aAndSm80) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto f = every_core_builtin();
  for (const char* arch : {"sm_90a", "sm_80"}) compile_for(f, arch);
}

TEST(BuiltinCodegen, EveryNvshmemBuiltinCompilesForSm90aAndSm80WithoutNvshmem) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto f = every_nvshmem_builtin();
  for (const char* arch : {"sm_90a", "sm_80"}) compile_for(f, arch);
}

// The NVSHMEM-level builtins: their names, as the families register them.
std::vector<std::string> nvshmem_level_builtins() {
  std::vector<std::string> out;
  for (const auto* family : {&ops::nvshmem_rma_builtins(), &ops::nvshmem_signal_builtins(), &ops::nvshmem_sync_builtins()})
    for (const auto& d : *family) out.push_back(d.name);
  return out;
}

TEST(BuiltinCodegen, EveryNvshmemBuiltinLowersToTheTlDistFunctionOfItsName) {
  const std::string source = generate_for(every_nvshmem_builtin(), "sm_90a", false).source;
  EXPECT_NE(source.find("#include \"tilescale/dist_shmem.h\""), std::string::npos);
  for (const auto& op : nvshmem_level_builtins()) {
    const std::string call =
        op == "signal_wait_until" ? "tl::dist::signal_wait_until<tl::dist::" : "tl::dist::" + op + "(ts_dist";
    EXPECT_NE(source.find(call), std::string::npos) << op << " does not lower to " << call;
  }
  for (const char* cmp : {"EQ", "NE", "GT", "GE", "LT", "LE"})
    EXPECT_NE(source.find(std::string("tl::dist::signal_wait_until<tl::dist::") + cmp + ">"), std::string::npos) << cmp;
  for (const char* op : {"tl::dist::SIGNAL_SET", "tl::dist::SIGNAL_ADD"}) EXPECT_NE(source.find(op), std::string::npos) << op;
}

// tl::dist's NVSHMEM-level functions have the semantics of the CPU backend's, at system scope: a
// put's signal is a release store or add after a fence, signal_op relaxed, int_p a relaxed store,
// signal_wait_until acquire loads, quiet/fence/barriers fence.acq_rel.sys.
TEST(BuiltinCodegen, NvshmemBuiltinsUseThePtxOfTheirSemantics) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const std::string ptx = generate_ptx(every_nvshmem_builtin(), "sm_90a");
  for (const char* s : {"st.release.sys.global.b64", "atom.release.sys.global.add.u64", "st.relaxed.sys.global.b64",
                        "atom.relaxed.sys.global.add.u64", "st.relaxed.sys.global.b32", "ld.acquire.sys.global.b64",
                        "fence.acq_rel.sys", "atom.sys.add.u32", "ld.acquire.sys.global.b32"})
    EXPECT_NE(ptx.find(s), std::string::npos) << s;
}

TEST(BuiltinCodegen, DistributedKernelsWithoutNvshmemBuiltinsIncludeOnlyDistH) {
  const std::string source = generate_for(every_core_builtin(), "sm_90a", true).source;
  EXPECT_NE(source.find("#include \"tilescale/dist.h\""), std::string::npos);
  EXPECT_EQ(source.find("dist_shmem.h"), std::string::npos);
  EXPECT_FALSE(mentions_nvshmem(source));
}

// The `nvshmem` transport's form: the wrappers of NVSHMEM's device calls (nvshmem_calls.h), one per
// builtin, with tl::nvshmem's constants; it compiles to LTO IR without NVSHMEM's headers.
TEST(BuiltinCodegen, EveryNvshmemBuiltinLowersToNvshmemCallsWhenTheTargetAsks) {
  const cuda::KernelSpec spec = generate_for(every_nvshmem_builtin(), "sm_90a", true);
  EXPECT_TRUE(spec.nvshmem);
  EXPECT_TRUE(mentions_nvshmem(spec.source));
  EXPECT_NE(spec.source.find("#include \"tilescale/nvshmem_calls.h\""), std::string::npos);
  EXPECT_EQ(spec.source.find("<nvshmem"), std::string::npos);
  EXPECT_EQ(spec.source.find("tl::dist::putmem"), std::string::npos);
  for (const auto& op : nvshmem_level_builtins())
    EXPECT_NE(spec.source.find("ts_nvshmem_" + op + "("), std::string::npos) << op << " does not lower to ts_nvshmem_" << op;
  for (const char* constant : {"SIGNAL_SET", "SIGNAL_ADD", "CMP_EQ", "CMP_NE", "CMP_GT", "CMP_GE", "CMP_LT", "CMP_LE"})
    EXPECT_NE(spec.source.find(std::string("tl::nvshmem::") + constant), std::string::npos) << constant;
  SKIP_WITHOUT_NVRTC();
  EXPECT_FALSE(jit::compile_nvrtc(spec.source, spec.name, "sm_90a", {"-rdc=true", "-dlto"}).ltoir.empty());
}

// Linking kernels that call NVSHMEM (jit/nvshmem.h), each test with a fresh cache directory.
class NvshmemLink : public TempCache {
 protected:
  void SetUp() override {
    TempCache::SetUp();
    SKIP_WITHOUT_NVRTC();
    if (std::string why = jit::nvshmem_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  static cuda::KernelSpec simple_shift() {
    const auto* ex = examples::find_distributed_example("simple_shift");
    return generate_for(ex->build(ex->test_sizes, 2).at(0), "sm_90a", true);
  }
};

// Put with signal included: it links against NVSHMEM 3.4's and 3.8's device library alike.
TEST_F(NvshmemLink, EveryNvshmemBuiltinLinksForSm80AndSm90aThroughTheLtoRoute) {
  for (const char* arch : {"sm_80", "sm_90a"}) {
    SCOPED_TRACE(arch);
    const cuda::KernelSpec spec = generate_for(every_nvshmem_builtin(), arch, true);
    const jit::JitResult r = jit::compile_nvshmem_cached({spec.name, spec.source, arch, {}, jit::Backend::NVRTC});
    EXPECT_TRUE(is_elf(r.cubin));
    EXPECT_FALSE(r.cache_hit);
    EXPECT_TRUE(r.compiled_wrappers);
  }
}

TEST_F(NvshmemLink, ASecondKernelReusesTheCachedWrappersAndTheSameKernelIsAHit) {
  const cuda::KernelSpec first = simple_shift(), second = generate_for(every_nvshmem_builtin(), "sm_90a", true);
  const jit::JitResult a = jit::compile_nvshmem_cached({first.name, first.source, "sm_90a", {}, jit::Backend::NVRTC});
  EXPECT_TRUE(a.compiled_wrappers);
  EXPECT_FALSE(a.cache_hit);
  const jit::JitResult b = jit::compile_nvshmem_cached({second.name, second.source, "sm_90a", {}, jit::Backend::NVRTC});
  EXPECT_FALSE(b.compiled_wrappers);
  EXPECT_FALSE(b.cache_hit);
  EXPECT_TRUE(is_elf(b.cubin));
  const jit::JitResult c = jit::compile_nvshmem_cached({first.name, first.source, "sm_90a", {}, jit::Backend::NVRTC});
  EXPECT_TRUE(c.cache_hit);
  EXPECT_EQ(c.cubin, a.cubin);
  EXPECT_EQ(c.cache_path, a.cache_path);
  EXPECT_TRUE(std::filesystem::exists(c.cache_path));
}

TEST_F(NvshmemLink, AFunctionNoInputDefinesIsAnErrorNamingTheKernelAndTheFunction) {
  const std::string source = "#include \"tilescale/nvshmem_calls.h\"\n"
                             "extern \"C\" __device__ void not_a_wrapper(int* p);\n"
                             "extern \"C\" __global__ void calls_nothing(int* p) { not_a_wrapper(p); ts_nvshmem_quiet(); }\n";
  EXPECT_COMPILE_ERROR(jit::compile_nvshmem_cached({"calls_nothing", source, "sm_90a", {}, jit::Backend::NVRTC}),
                       "cannot link calls_nothing",
                       "because nothing defines not_a_wrapper");
}

// nvcc, when asked for: the kernel and its wrappers as one unit, linked with the device library.
TEST_F(NvshmemLink, NvccRouteLinksEveryNvshmemBuiltin) {
  if (jit::nvcc_path().empty()) GTEST_SKIP() << "no nvcc found";
  const cuda::KernelSpec spec = generate_for(every_nvshmem_builtin(), "sm_90a", true);
  const jit::JitResult r = jit::compile_nvshmem_cached({spec.name, spec.source, "sm_90a", {}, jit::Backend::NVCC});
  EXPECT_TRUE(is_elf(r.cubin));
  EXPECT_FALSE(r.compiled_wrappers);
  EXPECT_TRUE(jit::compile_nvshmem_cached({spec.name, spec.source, "sm_90a", {}, jit::Backend::NVCC}).cache_hit);
}

TEST(NvshmemCacheKey, ChangesWithTheNvshmemVersionLibraryAndLinker) {
  const jit::JitRequest req{"k", "extern \"C\" __global__ void k() {}", "sm_90a", {}, jit::Backend::NVRTC};
  const jit::CompilerIdentity id{"libnvrtc 13.0 at /fake", {"-std=c++17"}, "headers", "0.1.0+abc"};
  const jit::NvshmemIdentity nvshmem{"3.4.5", "libnvshmem_device.a hash 1", "libnvJitLink 13.0 at /fake"};
  const std::string key = jit::nvshmem_cache_key(req, id, nvshmem);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key, jit::nvshmem_cache_key(req, id, nvshmem));
  EXPECT_NE(key, jit::cache_key(req, id));
  jit::NvshmemIdentity other = nvshmem;
  other.version = "3.8.0";
  EXPECT_NE(key, jit::nvshmem_cache_key(req, id, other));
  other = nvshmem;
  other.device_library = "libnvshmem_device.a hash 2";
  EXPECT_NE(key, jit::nvshmem_cache_key(req, id, other));
  other = nvshmem;
  other.linker = "libnvJitLink 13.1 at /fake";
  EXPECT_NE(key, jit::nvshmem_cache_key(req, id, other));
  jit::JitRequest arch = req;
  arch.arch = "sm_80";
  EXPECT_NE(key, jit::nvshmem_cache_key(arch, id, nvshmem));
  jit::JitRequest option = req;
  option.options = {"-lineinfo"};
  EXPECT_NE(key, jit::nvshmem_cache_key(option, id, nvshmem));
}

// Where NVSHMEM is missing, the error says so for the kernel, with the search's reason and remedy.
// ctest also runs it with NVSHMEM_HOME pointing nowhere (tests/CMakeLists.txt), where it cannot skip.
TEST(NvshmemLinkErrors, MissingNvshmemIsACompileErrorNamingTheKernel) {
  const std::string why = jit::nvshmem_unavailable_reason();
  if (why.empty()) GTEST_SKIP() << "NVSHMEM and nvJitLink are here; this test runs where one is missing";
  EXPECT_COMPILE_ERROR(jit::compile_nvshmem_cached({"shift", "", "sm_90a", {}, jit::Backend::NVRTC}),
                       "cannot compile kernel shift, which calls NVSHMEM, because", why);
}

// The PTX of the loads and stores is what REFERENCE.md §2 says assembles; a weak load has no scope.
TEST(BuiltinCodegen, LoadsAndStoresUseThePtxOfTheirSemantics) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const std::string ptx = generate_ptx(every_core_builtin(), "sm_90a");
  for (const char* s : {"ld.acquire.sys.global.L1::no_allocate.b16", "ld.relaxed.cta.global.b32", "ld.global.nc.L1::no_allocate.b32",
                        "ld.volatile.global.b64", "st.release.gpu.global.v4.b32", "st.relaxed.cta.global.L1::no_allocate.b64",
                        "st.volatile.global.b32", "atom.acq_rel.sys.global.add.u64", "atom.release.cta.global.add.f32",
                        "fence.acq_rel.sys", "elect.sync"})
    EXPECT_NE(ptx.find(s), std::string::npos) << s;
  EXPECT_EQ(ptx.find("ld.weak"), std::string::npos);
}

// Waits are bounded (device/tilescale/dist.h, "Bounded waits"): a wait_eq, a barrier_blocks and a
// sync_grid, each alone in its kernel, read %globaltimer, claim the report with a system-scope CAS
// and trap; they compile for sm_80 and sm_90a.
TEST(BuiltinCodegen, EveryWaitIsBoundedByItsBudgetAndTheHostsStop) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  for (const std::string name : {"wait_eq", "barrier_blocks", "sync_grid"}) {
    SCOPED_TRACE(name);
    const auto f = T::prim_func("bounded_" + name, [&] {
      auto flag = T::Tensor("flag", {1}, T::int64);
      auto bar = T::Tensor("bar", {8}, T::int32);
      auto counter = T::Tensor("counter", {1}, T::uint32);
      T::Kernel(2, T::threads(64), [&](T::Expr) {
        if (name == "wait_eq") T::wait_eq(flag(0), 1);
        else if (name == "barrier_blocks") T::barrier_blocks(bar(0));
        else T::sync_grid(counter(0));
      });
    });
    for (const char* arch : {"sm_90a", "sm_80"}) compile_for(f, arch);
    const std::string ptx = generate_ptx(f, "sm_90a");
    for (const char* s : {"%globaltimer", "atom.global.sys.cas.b32", "trap;"}) EXPECT_NE(ptx.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace tilescale
