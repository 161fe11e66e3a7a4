// Linking relocatable device code with nvJitLink (jit/nvjitlink.h): no GPU needed.
#include <gtest/gtest.h>

#include <string>

#include "jit/nvjitlink.h"
#include "jit/nvrtc.h"
#include "skips.h"
#include "test_util.h"

namespace tilescale::jit {
namespace {

#define SKIP_WITHOUT_NVJITLINK()                                                                  \
  do {                                                                                            \
    SKIP_WITHOUT_NVRTC();                                                                         \
    if (std::string why = nvjitlink_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;      \
  } while (0)

const char* const kKernel = R"(
extern "C" __device__ int plus_one(int x);
extern "C" __global__ void k(int* out) { out[threadIdx.x] = plus_one(static_cast<int>(threadIdx.x)); }
)";
const char* const kLibrary = R"(
extern "C" __device__ int plus_one(int x) { return x + 1; }
)";

LinkInput relocatable(const std::string& name, const char* source) {
  return {LinkInput::Kind::Cubin, name, compile_nvrtc(source, name, "sm_90a", {"-rdc=true"}).cubin};
}

TEST(NvJitLink, LinksAKernelWithTheDeviceFunctionItCalls) {
  SKIP_WITHOUT_NVJITLINK();
  const std::vector<char> cubin = link_device_code({relocatable("k", kKernel), relocatable("lib", kLibrary)}, "sm_90a", {});
  ASSERT_GT(cubin.size(), 4u);
  EXPECT_EQ(std::string(cubin.data(), 4), "\x7f" "ELF");
}

TEST(NvJitLink, UndefinedDeviceFunctionIsACompileErrorNamingItAndQuotingTheLinker) {
  SKIP_WITHOUT_NVJITLINK();
  EXPECT_COMPILE_ERROR(link_device_code({relocatable("k", kKernel)}, "sm_90a", {}),
                       "cannot link k for sm_90a because nothing defines plus_one; every function the code calls must be "
                       "in one of the inputs; nvJitLink's log:",
                       "Undefined reference to 'plus_one'");
}

TEST(NvJitLink, MissingLibraryFileIsACompileErrorNamingIt) {
  SKIP_WITHOUT_NVJITLINK();
  EXPECT_COMPILE_ERROR(link_device_code({relocatable("k", kKernel), {LinkInput::Kind::Library, "/nonexistent/libdevice.a", {}}},
                                        "sm_90a", {}),
                       "cannot link k, /nonexistent/libdevice.a for sm_90a because nvJitLink failed to add "
                       "/nonexistent/libdevice.a");
}

LinkInput lto(const std::string& name, const char* source) {
  return {LinkInput::Kind::LtoIr, name, compile_nvrtc(source, name, "sm_90a", {"-rdc=true", "-dlto"}).ltoir};
}

// Link-time optimisation: the library function is inlined into the kernel.
TEST(NvJitLink, LinksLtoIrWithLto) {
  SKIP_WITHOUT_NVJITLINK();
  const std::vector<char> cubin = link_device_code({lto("k", kKernel), lto("lib", kLibrary)}, "sm_90a", {"-lto"});
  ASSERT_GT(cubin.size(), 4u);
  EXPECT_EQ(std::string(cubin.data(), 4), "\x7f" "ELF");
}

// The first of two links: PTX in which what no input defines stays .extern, then linked as PTX.
TEST(NvJitLink, LtoToPtxLeavesUndefinedFunctionsForALaterLink) {
  SKIP_WITHOUT_NVJITLINK();
  const std::string ptx = link_to_ptx({lto("k", kKernel)}, "sm_90a");
  EXPECT_NE(ptx.find(".extern .func  (.param .b32 func_retval0) plus_one"), std::string::npos) << ptx;
  const std::vector<char> cubin =
      link_device_code({{LinkInput::Kind::Ptx, "k", std::vector<char>(ptx.begin(), ptx.end())}, relocatable("lib", kLibrary)},
                       "sm_90a", {});
  EXPECT_EQ(std::string(cubin.data(), 4), "\x7f" "ELF");
}

TEST(NvJitLink, IdentityNamesTheLibraryFile) {
  SKIP_WITHOUT_NVJITLINK();
  EXPECT_NE(nvjitlink_identity().find("libnvJitLink 13."), std::string::npos) << nvjitlink_identity();
  EXPECT_NE(nvjitlink_identity().find(" bytes, modified "), std::string::npos) << nvjitlink_identity();
}

}  // namespace
}  // namespace tilescale::jit
