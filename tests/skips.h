// Skips for tests that need NVRTC (compile-only tests: no GPU needed) or a GPU, each with the
// reason the library gives, so that the summary of scripts/test.sh shows why.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "jit/nvjitlink.h"
#include "jit/nvrtc.h"
#include "jit/nvshmem.h"
#include "runtime/cuda/driver.h"

#define SKIP_WITHOUT_NVRTC()                                                                              \
  do {                                                                                                    \
    if (std::string why = ::tilescale::jit::nvrtc_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

#define SKIP_WITHOUT_GPU()                                                                                \
  do {                                                                                                    \
    if (std::string why = ::tilescale::cuda::cuda_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
    SKIP_WITHOUT_NVRTC();                                                                                 \
  } while (0)

// Kernels that call NVSHMEM need NVSHMEM (found as `tilescale doctor` shows) and nvJitLink.
#define SKIP_WITHOUT_NVSHMEM()                                                                                \
  do {                                                                                                        \
    if (std::string why = ::tilescale::jit::nvshmem_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;   \
    if (std::string why = ::tilescale::jit::nvjitlink_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)
