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

TEST(NvJitLink, UndefinedDeviceFunctionIsACompileErrorQuotingTheLinker) {
  SKIP_WITHOUT_NVJITLINK();
  EXPECT_COMPILE_ERROR(link_device_code({relocatable("k", kKernel)}, "sm_90a", {}),
                       "cannot link device code for sm_90a because nvJitLink failed to link:", "plus_one");
}

TEST(NvJitLink, MissingLibraryFileIsACompileErrorNamingIt) {
  SKIP_WITHOUT_NVJITLINK();
  EXPECT_COMPILE_ERROR(link_device_code({relocatable("k", kKernel), {LinkInput::Kind::Library, "/nonexistent/libdevice.a", {}}},
                                        "sm_90a", {}),
                       "cannot link device code for sm_90a because nvJitLink failed to add /nonexistent/libdevice.a");
}

}  // namespace
}  // namespace tilescale::jit
