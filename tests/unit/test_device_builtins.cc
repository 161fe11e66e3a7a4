// The device-builtin registry (src/ops/device_builtins.h) against the device headers it names and
// the device calls the CUDA generator emits.
#include "ops/device_builtins.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "example.h"
#include "gemm_sr_kernels.h"
#include "jit/device_headers.h"

namespace tilescale::ops {
namespace {

const jit::EmbeddedHeader* find_header(const std::string& include_name) {
  for (const auto& h : jit::device_headers())
    if (h.include_name == include_name) return &h;
  return nullptr;
}

// The template parameters of the first definition of `function` in `header` ("TL_DEVICE void
// gemm_ss(" after its `template <...>` line), as the registry spells them; nullopt when absent.
std::optional<std::vector<TemplateParam>> declared_template(std::string_view header, const std::string& function) {
  const std::regex def("TL_DEVICE [A-Za-z_0-9]+ " + function + "\\(");
  std::cmatch m;
  if (!std::regex_search(header.data(), header.data() + header.size(), m, def)) return std::nullopt;
  const std::string_view before = header.substr(0, m.position(0));
  const std::size_t line = before.rfind('\n', before.size() - 2);
  const std::string_view prev = before.substr(line + 1);
  std::vector<TemplateParam> out;
  if (prev.rfind("template <", 0) != 0) return out;
  const std::string params(prev.substr(10, prev.find('>') - 10));
  for (std::size_t at = 0; at < params.size();) {
    const std::size_t end = std::min(params.find(',', at), params.size());
    const std::string kind = std::regex_replace(params.substr(at, end - at), std::regex("^\\s*(\\w+).*"), "$1");
    out.push_back(kind == "int" ? TemplateParam::Int : kind == "bool" ? TemplateParam::Bool : TemplateParam::Type);
    at = end + 1;
  }
  return out;
}

TEST(DeviceBuiltins, NamesAreUniqueAndLookedUpByTheIrName) {
  std::set<std::string> names, cpp;
  for (const auto& d : device_builtins()) {
    EXPECT_TRUE(names.insert(d.name).second) << d.name;
    EXPECT_TRUE(cpp.insert(d.cpp).second) << d.cpp;
    EXPECT_EQ(std::string(d.name).rfind("tl.", 0), 0u) << d.name;
    EXPECT_EQ(&device_builtin(d.name), &d);
  }
  EXPECT_THROW(device_builtin("tl.no_such_call"), InternalError);
  EXPECT_EQ(cpp_name(device_builtin("tl.tma_load"), 2), "tl::tma_load_2d");
  EXPECT_EQ(cpp_name(device_builtin("tl.cp_async")), "tl::cp_async");
  EXPECT_THROW(cpp_name(device_builtin("tl.tma_store")), InternalError);
}

// Every entry's header is embedded and defines the function with the registered template
// parameters; CUDA's own functions have no header.
TEST(DeviceBuiltins, EveryHeaderDefinesItsFunctions) {
  for (const auto& d : device_builtins()) {
    SCOPED_TRACE(d.name);
    if (!d.header) {
      EXPECT_NE(std::string(d.cpp).rfind("__", 0), std::string::npos);
      EXPECT_TRUE(d.targs.empty());
      continue;
    }
    const auto* h = find_header(d.header);
    ASSERT_NE(h, nullptr) << d.header << " is not among the device headers";
    std::vector<std::string> functions;
    for (int rank = 1; rank <= (d.rank_suffix ? 5 : 1); ++rank) functions.push_back(cpp_name(d, d.rank_suffix ? rank : 0).substr(4));
    for (const auto& f : functions) {
      const auto declared = declared_template(h->contents, f);
      ASSERT_TRUE(declared) << f << " is not defined in " << d.header;
      EXPECT_EQ(*declared, d.targs) << f;
    }
  }
}

TEST(DeviceBuiltins, AsyncFamiliesHaveTheirSteps) {
  for (auto family : {AsyncFamily::CpAsync, AsyncFamily::Wgmma, AsyncFamily::BulkStore, AsyncFamily::MbarrierTx}) {
    EXPECT_FALSE(async_builtins(family, AsyncStep::Issue).empty());
    EXPECT_FALSE(async_builtins(family, AsyncStep::Wait).empty());
  }
  // A wgmma issue commits its own group.
  EXPECT_TRUE(async_builtins(AsyncFamily::Wgmma, AsyncStep::Commit).empty());
  EXPECT_EQ(async_builtins(AsyncFamily::CpAsync, AsyncStep::Commit).size(), 1u);
  for (const auto& d : device_builtins()) EXPECT_EQ(d.async == AsyncFamily::None, d.step == AsyncStep::None) << d.name;
}

// What the generator emits that is not a registered device call, and why.
const std::map<std::string, std::string>& unregistered() {
  static const std::map<std::string, std::string> why = [] {
    std::map<std::string, std::string> m;
    for (const char* f : {"tl::cast", "tl::swizzle", "tl::floordiv", "tl::floormod", "tl::fast_exp2", "tl::sigmoid",
                          "tl::rasterize"})
      m[f] = "a value inside an expression, printed from the expression";
    m["tl::WarpgroupTurns"] = "a class whose static members the warpgroup-turns schedule calls; registered with that pass (design step 6)";
    return m;
  }();
  return why;
}

// Cheap cover of every device call kind the snapshot cases (scripts/cuda_snapshot.sh) emit: mma.sync
// and cp.async pipelines, warp specialization with TMA, asynchronous wgmma, warpgroup turns, stmatrix
// and TMA-store epilogues, reductions, a persistent kernel, B in registers.
TEST(DeviceBuiltins, EveryDeviceCallTheGeneratorEmitsIsRegistered) {
  std::set<std::string> registered;
  for (const auto& d : device_builtins())
    for (int rank = 1; rank <= (d.rank_suffix ? 5 : 1); ++rank) registered.insert(cpp_name(d, d.rank_suffix ? rank : 0));
  std::vector<std::pair<lang::PrimFunc, std::string>> programs;
  auto example = [&](const char* name, const char* spec, const char* arch) {
    const auto* ex = examples::find_example(name);
    programs.emplace_back(ex->build(examples::parse_sizes(spec, ex->default_sizes)), arch);
  };
  example("gemm", "", "sm_80");
  example("gemm", "", "sm_90a");
  example("gemm", "persistent=1", "sm_90a");
  example("gemm", "M=8192,N=8192,K=8192,BM=128,BN=256,BK=64,threads=256,stages=4", "sm_90a");
  example("flash_attention", "B=4,H=32,S=4096,D=128,BM=128,BN=128,threads=256,stages=3", "sm_90a");
  example("flash_attention", "B=1,H=2,S=100,D=64,causal=1", "sm_90a");
  example("flash_attention", "", "sm_80");
  example("layernorm", "", "sm_80");
  programs.emplace_back(sr_kernels::gemm_b_in_registers(70, 100, 83, false, false, DataType::Float16, true, 3), "sm_80");
  const std::regex call("\\b(tl::[A-Za-z_][A-Za-z_0-9]*|__sync[a-z]+)\\s*[<(]");
  std::set<std::string> seen;
  for (const auto& [f, arch] : programs) {
    const std::string source = generate_cuda(f, arch);
    for (std::sregex_iterator it(source.begin(), source.end(), call), end; it != end; ++it) seen.insert((*it)[1]);
  }
  for (const auto& name : seen)
    EXPECT_TRUE(registered.count(name) || unregistered().count(name)) << name << " is emitted but not in src/ops/device_builtins.cc";
  for (const char* expected : {"tl::gemm_ss", "tl::gemm_sr", "tl::gemm_ss_wgmma_async", "tl::gemm_rs_wgmma_issue", "tl::tma_load_2d",
                               "tl::tma_store_4d", "tl::stsm_x4_from", "tl::setmaxnreg_dec", "__syncthreads", "__syncwarp"})
    EXPECT_TRUE(seen.count(expected)) << expected << ": the cases no longer cover it";
}

}  // namespace
}  // namespace tilescale::ops
