// Standalone check of the Hopper device headers (mbarrier.h, tma.h, wgmma_sm90.h) on a real sm_90
// GPU: tensor maps built on the host with cuTensorMapEncodeTiled, TMA loads (128B swizzle and
// out-of-bounds fill) completing on mbarriers, TMA stores, wgmma ss/rs for f16, bf16 and fp8 read
// back through the accumulator layout documented in wgmma_sm90.h, K-major and M/N-major operands,
// and a warp-specialized two-stage pipeline (elect_one, setmaxnreg, full/empty mbarriers).
// Built and run by scripts/check_sm90_headers.sh:
//     nvcc -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I device tests/device/check_sm90.cu -lcuda -o /tmp/x
// (-arch=sm_90a works too). Prints PASS/FAIL per case and exits nonzero if any case fails.
#include <cuda.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <tilescale/common.h>
#include <tilescale/mbarrier.h>
#include <tilescale/swizzle.h>
#include <tilescale/tma.h>
#include <tilescale/wgmma_sm90.h>

// Kernel bodies exist only in the sm_90a device pass (the host pass needs only their signatures);
// a toolchain that also runs a plain sm_90 pass then compiles empty kernels there.
#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SM90A_BODY 0
#else
#define SM90A_BODY 1
#endif

#define CHECK_CUDA(x)                                                                                  \
  do {                                                                                                 \
    cudaError_t err_ = (x);                                                                            \
    if (err_ != cudaSuccess) {                                                                         \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(err_), __FILE__, __LINE__,         \
                  cudaGetErrorString(err_));                                                           \
      std::exit(3);                                                                                    \
    }                                                                                                  \
  } while (0)

static int g_failures = 0;
static int g_cases = 0;

// cudaDeviceSynchronize with a watchdog: a kernel whose mbarrier wait never completes (wrong byte
// count, wrong parity) hangs, and that is reported and ends the program (which frees the GPU).
// (tl::mbarrier_wait traps after TL_MBARRIER_TIMEOUT_NS too, 10 s by default; this watchdog also
// catches waits outside it and names the check.)
static void sync_or_die(const char* what) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const cudaError_t e = cudaStreamQuery(0);
    if (e == cudaSuccess) return;
    if (e != cudaErrorNotReady) CHECK_CUDA(e);
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) {
      std::printf("FAIL %s: the kernel did not finish within 10 s (an mbarrier wait that never completes?)\n", what);
      std::fflush(stdout);
      std::_Exit(4);
    }
  }
}

static void report(const std::string& name, bool ok, const std::string& detail) {
  ++g_cases;
  if (!ok) ++g_failures;
  std::printf("%-4s %-52s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
}

// ------------------------------------------------------------------------------------------------
// Host checks of the descriptor encoding against the PTX ISA bit positions, written out by hand.

static_assert(sizeof(tl::TmaDescriptor) == sizeof(CUtensorMap), "TmaDescriptor is CUtensorMap's size");
static_assert(alignof(tl::TmaDescriptor) == alignof(CUtensorMap), "TmaDescriptor is CUtensorMap's alignment");
// start 0x400 -> 0x40 in bits 0-13; LBO 16 -> 1 at bit 16; SBO 1024 -> 64 at bit 32; 128B -> 1 at bit 62.
static_assert(tl::wgmma_desc_encode(0x400, 16, 1024, tl::kWgmmaSwizzle128B) ==
                  (0x40ull | (1ull << 16) | (64ull << 32) | (1ull << 62)),
              "descriptor bits");
static_assert(tl::wgmma_desc_encode(0x3FFF0, 0x3FFF0, 0x3FFF0, tl::kWgmmaSwizzle32B, 7) ==
                  (0x3FFFull | (0x3FFFull << 16) | (0x3FFFull << 32) | (7ull << 49) | (3ull << 62)),
              "descriptor field widths");
static_assert(tl::wgmma_desc_encode(0x40000, 0, 0, tl::kWgmmaSwizzleNone) == 0, "address wraps at 256 KB");
static_assert(tl::wgmma_desc_encode(0, 0, 0, tl::kWgmmaSwizzle64B) == (2ull << 62), "64B swizzle code");

// ------------------------------------------------------------------------------------------------
// Element types on the host.

template <class T> static float to_f(T v) { return static_cast<float>(v); }
template <> float to_f<half_t>(half_t v) { return __half2float(v); }
template <> float to_f<bfloat16_t>(bfloat16_t v) { return __bfloat162float(v); }
template <class T> static T from_f(float v) { return T(v); }
template <> half_t from_f<half_t>(float v) { return __float2half_rn(v); }
template <> bfloat16_t from_f<bfloat16_t>(float v) { return __float2bfloat16_rn(v); }
template <> signed char from_f<signed char>(float v) { return static_cast<signed char>(std::lround(4 * v)); }  // -4 .. 4

template <class T> static const char* type_name();
template <> const char* type_name<half_t>() { return "f16"; }
template <> const char* type_name<bfloat16_t>() { return "bf16"; }
template <> const char* type_name<fp8_e4m3_t>() { return "e4m3"; }
template <> const char* type_name<fp8_e5m2_t>() { return "e5m2"; }
template <> const char* type_name<float>() { return "tf32"; }
template <> const char* type_name<signed char>() { return "s8"; }

template <class T> static CUtensorMapDataType tma_type();
template <> CUtensorMapDataType tma_type<half_t>() { return CU_TENSOR_MAP_DATA_TYPE_FLOAT16; }
template <> CUtensorMapDataType tma_type<bfloat16_t>() { return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16; }
template <> CUtensorMapDataType tma_type<fp8_e4m3_t>() { return CU_TENSOR_MAP_DATA_TYPE_UINT8; }
template <> CUtensorMapDataType tma_type<fp8_e5m2_t>() { return CU_TENSOR_MAP_DATA_TYPE_UINT8; }
template <> CUtensorMapDataType tma_type<float>() { return CU_TENSOR_MAP_DATA_TYPE_FLOAT32; }
template <> CUtensorMapDataType tma_type<signed char>() { return CU_TENSOR_MAP_DATA_TYPE_UINT8; }

// Values exactly representable in every element type here: multiples of 1/4 in [-1, 1] (signed
// char: the integers -4 .. 4, from_f scales by 4).
template <class T>
static std::vector<T> random_matrix(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-4, 4);
  std::vector<T> v(n);
  for (auto& x : v) x = from_f<T>(dist(rng) / 4.0f);
  return v;
}

template <class T>
static T* to_device(const std::vector<T>& h) {
  T* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, h.size() * sizeof(T)));
  CHECK_CUDA(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

template <class T>
static std::vector<T> to_host(const T* d, size_t n) {
  std::vector<T> h(n);
  CHECK_CUDA(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

// A row-major [rows][cols] matrix of T at gptr, tiles of box_rows x box_cols, 128-byte swizzle.
template <class T>
static tl::TmaDescriptor make_map_2d(const void* gptr, uint64_t rows, uint64_t cols, uint32_t box_rows, uint32_t box_cols,
                                     CUtensorMapSwizzle swizzle = CU_TENSOR_MAP_SWIZZLE_128B) {
  CUtensorMap map;
  const cuuint64_t dims[2] = {cols, rows};
  const cuuint64_t strides[1] = {cols * sizeof(T)};
  const cuuint32_t box[2] = {box_cols, box_rows};
  const cuuint32_t elem_strides[2] = {1, 1};
  const CUresult r = cuTensorMapEncodeTiled(&map, tma_type<T>(), 2, const_cast<void*>(gptr), dims, strides, box,
                                            elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                                            CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    const char* msg = nullptr;
    cuGetErrorString(r, &msg);
    std::printf("cuTensorMapEncodeTiled failed: %s\n", msg ? msg : "?");
    std::exit(3);
  }
  tl::TmaDescriptor d;
  std::memcpy(&d, &map, sizeof d);
  return d;
}

// The 1024-aligned start of dynamic shared memory (the kernels ask for 1024 bytes of slack).
extern __shared__ __align__(1024) unsigned char g_smem_raw[];
__device__ __forceinline__ unsigned char* smem_1024() {
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(g_smem_raw));
  return g_smem_raw + ((1024u - (addr & 1023u)) & 1023u);
}

// ------------------------------------------------------------------------------------------------
// elect_one: exactly one lane per warp.

__global__ void k_elect(int* count) {
#if SM90A_BODY
  if (tl::elect_one()) atomicAdd(&count[threadIdx.x / 32], 1);
#endif
}

static void check_elect() {
  int* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, 8 * sizeof(int)));
  CHECK_CUDA(cudaMemset(d, 0, 8 * sizeof(int)));
  k_elect<<<1, 256>>>(d);
  CHECK_CUDA(cudaGetLastError());
  sync_or_die("elect_one");
  auto h = to_host(d, 8);
  bool ok = true;
  for (int c : h) ok = ok && c == 1;
  report("elect_one: one lane per warp", ok, ok ? "8 warps" : "a warp elected != 1 lane");
  CHECK_CUDA(cudaFree(d));
}

// ------------------------------------------------------------------------------------------------
// TMA load of a 64 x 64 half tile with 128B swizzle: the raw shared-memory bytes must be
// tl::swizzle<64, 64, 2> of the tile, and elements outside the tensor must read as zero.

__global__ void k_tma_load(const __grid_constant__ tl::TmaDescriptor desc, half_t* raw, int c0, int c1) {
#if SM90A_BODY
  __shared__ uint64_t bar;
  half_t* tile = reinterpret_cast<half_t*>(smem_1024());
  if (threadIdx.x == 0) {
    tl::mbarrier_init(&bar, 1);
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x < 32 && tl::elect_one()) {
    tl::tma_prefetch_descriptor(&desc);
    tl::mbarrier_arrive_expect_tx(&bar, 64 * 64 * sizeof(half_t));
    tl::tma_load_2d(tile, &desc, &bar, c0, c1);
  }
  tl::mbarrier_wait(&bar, 0);
  for (int i = threadIdx.x; i < 64 * 64; i += blockDim.x) raw[i] = tile[i];
#endif
}

static void check_tma_load() {
  constexpr int R = 128, C = 128;
  auto A = random_matrix<half_t>(R * C, 1);
  half_t* dA = to_device(A);
  half_t* draw = nullptr;
  CHECK_CUDA(cudaMalloc(&draw, 64 * 64 * sizeof(half_t)));
  const tl::TmaDescriptor desc = make_map_2d<half_t>(dA, R, C, 64, 64);
  struct At { int c0, c1; const char* name; };
  for (At at : {At{64, 32, "tma load 64x64 f16, 128B swizzle"}, At{96, 80, "tma load out of bounds fills zeros"}}) {
    k_tma_load<<<1, 128, 64 * 64 * sizeof(half_t) + 1024>>>(desc, draw, at.c0, at.c1);
    CHECK_CUDA(cudaGetLastError());
    sync_or_die(at.name);
    auto raw = to_host(draw, 64 * 64);
    int bad = 0;
    for (int r = 0; r < 64; ++r)
      for (int c = 0; c < 64; ++c) {
        const int gr = at.c1 + r, gc = at.c0 + c;
        const float want = (gr < R && gc < C) ? to_f(A[gr * C + gc]) : 0.0f;
        if (to_f(raw[tl::swizzle<64, 64, 2>(r, c)]) != want) ++bad;
      }
    report(at.name, bad == 0, bad == 0 ? "layout = tl::swizzle<64, 64, 2>" : std::to_string(bad) + " elements differ");
  }
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(draw));
}

// ------------------------------------------------------------------------------------------------
// TMA store round trip: load a tile, double it in shared memory with ordinary stores
// (fence.proxy.async before the store), store it at other coordinates; out-of-bounds parts of the
// destination box are skipped.

__global__ void k_tma_store(const __grid_constant__ tl::TmaDescriptor src, const __grid_constant__ tl::TmaDescriptor dst,
                            int s0, int s1, int d0, int d1) {
#if SM90A_BODY
  __shared__ uint64_t bar;
  half_t* tile = reinterpret_cast<half_t*>(smem_1024());
  if (threadIdx.x == 0) {
    tl::mbarrier_init(&bar, 1);
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    tl::mbarrier_arrive_expect_tx(&bar, 64 * 64 * sizeof(half_t));
    tl::tma_load_2d(tile, &src, &bar, s0, s1);
  }
  tl::mbarrier_wait(&bar, 0);
  for (int i = threadIdx.x; i < 64 * 64; i += blockDim.x) tile[i] = __hadd(tile[i], tile[i]);
  tl::fence_proxy_async();
  __syncthreads();
  if (threadIdx.x == 0) {
    tl::tma_store_2d(&dst, tile, d0, d1);
    tl::tma_store_commit();
    tl::tma_store_wait_read<0>();
    tl::tma_store_wait<0>();
  }
#endif
}

static void check_tma_store() {
  constexpr int R = 128, C = 128;
  auto A = random_matrix<half_t>(R * C, 2);
  const half_t sentinel = from_f<half_t>(7.0f);
  std::vector<half_t> O(R * C, sentinel);
  half_t* dA = to_device(A);
  half_t* dO = to_device(O);
  const tl::TmaDescriptor src = make_map_2d<half_t>(dA, R, C, 64, 64);
  const tl::TmaDescriptor dst = make_map_2d<half_t>(dO, R, C, 64, 64);
  struct At { int s0, s1, d0, d1; const char* name; };
  for (At at : {At{64, 32, 0, 64, "tma store round trip (x2 in smem, fence.proxy.async)"},
                At{0, 0, 96, 100, "tma store clips out-of-bounds parts"}}) {
    CHECK_CUDA(cudaMemcpy(dO, O.data(), O.size() * sizeof(half_t), cudaMemcpyHostToDevice));
    k_tma_store<<<1, 128, 64 * 64 * sizeof(half_t) + 1024>>>(src, dst, at.s0, at.s1, at.d0, at.d1);
    CHECK_CUDA(cudaGetLastError());
    sync_or_die(at.name);
    auto out = to_host(dO, R * C);
    int bad = 0;
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        const int tr = r - at.d1, tc = c - at.d0;
        float want = to_f(sentinel);
        if (tr >= 0 && tr < 64 && tc >= 0 && tc < 64) want = 2.0f * to_f(A[(at.s1 + tr) * C + at.s0 + tc]);
        if (to_f(out[r * C + c]) != want) ++bad;
      }
    report(at.name, bad == 0, bad == 0 ? "exact" : std::to_string(bad) + " elements differ");
  }
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(dO));
}

// ------------------------------------------------------------------------------------------------
// One warpgroup, one 64 x 128 x K tile: C = A * B with A 64 x K and B K x 128, K * sizeof(AT) = 128
// bytes (64 for 16-bit types, 128 for fp8), in K / KS wgmma k steps.
//   A K-major (TRANS_A false): global [128][2K], tile rows 64.., cols K..;   one box {K, 64}.
//   A M-major (TRANS_A true):  global [2K][128], tile rows K.., cols 64..;   one box {64, K}.
//   B K-major (TRANS_B false): global [256][2K] (B^T), tile rows 128.., cols K..; one box {K, 128}.
//   B N-major (TRANS_B true):  global [2K][256], tile rows K.., cols 128..; two boxes {64, K}
//     (one per 128-byte panel of N), panel j at B_s + j * 64 * K elements.
// RS: A comes from registers, gathered from the K-major A tile in shared memory by each thread
// through the documented A-register layout.
// C is written through the documented accumulator layout; acc starts at 12345 so that the first
// k step (accumulate = false) must overwrite it.

constexpr int kM = 64, kN = 128;

template <class AT, bool TRANS_A, bool TRANS_B, bool RS>
__global__ void __launch_bounds__(128, 1)
    k_wgmma(const __grid_constant__ tl::TmaDescriptor da, const __grid_constant__ tl::TmaDescriptor db, float* C,
            uint32_t lbo_mn, uint32_t sbo_mn) {
#if SM90A_BODY
  constexpr int E = sizeof(AT), K = 128 / E, KS = 32 / E, STEPS = K / KS;
  constexpr uint32_t A_BYTES = kM * K * E, B_BYTES = kN * K * E;
  __shared__ uint64_t bar;
  AT* As = reinterpret_cast<AT*>(smem_1024());
  AT* Bs = As + kM * K;
  if (threadIdx.x == 0) {
    tl::mbarrier_init(&bar, 1);
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x < 32 && tl::elect_one()) {
    tl::mbarrier_arrive_expect_tx(&bar, A_BYTES + B_BYTES);
    if (TRANS_A) tl::tma_load_2d(As, &da, &bar, kM, K);
    else tl::tma_load_2d(As, &da, &bar, K, kM);
    if (TRANS_B) {
      tl::tma_load_2d(Bs, &db, &bar, kN, K);
      tl::tma_load_2d(Bs + 64 * K, &db, &bar, kN + 64, K);
    } else {
      tl::tma_load_2d(Bs, &db, &bar, K, kN);
    }
  }
  tl::mbarrier_wait(&bar, 0);

  const int t = threadIdx.x, w = t / 32, l = t % 32;
  typedef std::conditional_t<tl::is_same_v<AT, signed char>, int, float> CT;  // s8 accumulates in int
  CT acc[kN / 2];
#pragma unroll
  for (int i = 0; i < kN / 2; ++i) acc[i] = CT(12345);

  uint32_t a[STEPS][4];
  if constexpr (RS) {
#pragma unroll
    for (int s = 0; s < STEPS; ++s)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        uint32_t packed = 0;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int e = 2 * q + h;
          const int row = 16 * w + l / 4 + 8 * ((e / 2) % 2), col = s * KS + 8 * (e / 4) + 2 * (l % 4) + e % 2;
          const AT v = As[tl::swizzle<64, K, E>(row, col)];
          packed |= static_cast<uint32_t>(*reinterpret_cast<const unsigned short*>(&v)) << (16 * h);
        }
        a[s][q] = packed;
      }
  }

  tl::wgmma_fence();
#pragma unroll
  for (int s = 0; s < STEPS; ++s) {
    // K-major: a k step is 32 bytes further along each 128-byte row. M/N-major: KS rows of 128 bytes.
    const uint64_t desc_a = TRANS_A ? tl::wgmma_desc(As + s * KS * kM, lbo_mn, sbo_mn, tl::kWgmmaSwizzle128B)
                                    : tl::wgmma_desc_kmajor<128>(As + s * KS);
    const uint64_t desc_b = TRANS_B ? tl::wgmma_desc(Bs + s * KS * 64, lbo_mn, sbo_mn, tl::kWgmmaSwizzle128B)
                                    : tl::wgmma_desc_kmajor<128>(Bs + s * KS);
    if constexpr (RS) tl::wgmma_rs<kN, AT, TRANS_B>(acc, a[s], desc_b, s > 0);
    else tl::wgmma_ss<kN, AT, TRANS_A, TRANS_B>(acc, desc_a, desc_b, s > 0);
  }
  tl::wgmma_commit();
  tl::wgmma_wait<0>();
  tl::wgmma_fence_regs<kN / 2>(acc);

#pragma unroll
  for (int i = 0; i < kN / 2; ++i) {
    const int row = 16 * w + l / 4 + 8 * ((i / 2) % 2), col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
    C[row * kN + col] = acc[i];
  }
#endif
}

struct GemmResult {
  double max_err, max_ref;
  bool ok() const { return max_err <= 1e-2 * (max_ref > 1 ? max_ref : 1); }
  std::string detail() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "max |err| %.3g (max |ref| %.3g)", max_err, max_ref);
    return buf;
  }
};

template <class AT, bool TRANS_A, bool TRANS_B, bool RS>
static GemmResult run_wgmma(uint32_t lbo_mn, uint32_t sbo_mn) {
  constexpr int E = sizeof(AT), K = 128 / E;
  const int a_rows = TRANS_A ? 2 * K : 2 * kM, a_cols = TRANS_A ? 2 * kM : 2 * K;
  const int b_rows = TRANS_B ? 2 * K : 2 * kN, b_cols = TRANS_B ? 2 * kN : 2 * K;
  auto A = random_matrix<AT>(size_t(a_rows) * a_cols, 10 + E);
  auto B = random_matrix<AT>(size_t(b_rows) * b_cols, 20 + E);
  AT* dA = to_device(A);
  AT* dB = to_device(B);
  float* dC = nullptr;
  CHECK_CUDA(cudaMalloc(&dC, kM * kN * sizeof(float)));
  const tl::TmaDescriptor da = TRANS_A ? make_map_2d<AT>(dA, a_rows, a_cols, K, 64) : make_map_2d<AT>(dA, a_rows, a_cols, kM, K);
  const tl::TmaDescriptor db = TRANS_B ? make_map_2d<AT>(dB, b_rows, b_cols, K, 64) : make_map_2d<AT>(dB, b_rows, b_cols, kN, K);
  k_wgmma<AT, TRANS_A, TRANS_B, RS><<<1, 128, (kM + kN) * K * E + 1024>>>(da, db, dC, lbo_mn, sbo_mn);
  CHECK_CUDA(cudaGetLastError());
  sync_or_die("wgmma");
  auto C = to_host(dC, kM * kN);
  GemmResult res{0, 0};
  for (int m = 0; m < kM; ++m)
    for (int n = 0; n < kN; ++n) {
      double ref = 0;
      for (int k = 0; k < K; ++k) {
        const float a = TRANS_A ? to_f(A[(K + k) * a_cols + kM + m]) : to_f(A[(kM + m) * a_cols + K + k]);
        const float b = TRANS_B ? to_f(B[(K + k) * b_cols + kN + n]) : to_f(B[(kN + n) * b_cols + K + k]);
        ref += double(a) * b;
      }
      res.max_err = std::fmax(res.max_err, std::fabs(C[m * kN + n] - ref));
      res.max_ref = std::fmax(res.max_ref, std::fabs(ref));
    }
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(dB));
  CHECK_CUDA(cudaFree(dC));
  return res;
}

template <class AT, bool TRANS_A, bool TRANS_B, bool RS>
static void check_wgmma() {
  constexpr int K = 128 / sizeof(AT);
  std::string name = std::string("wgmma ") + (RS ? "rs " : "ss ") + type_name<AT>() + " 64x128x" + std::to_string(K);
  if (TRANS_A) name += " M-major A";
  if (TRANS_B) name += " N-major B";
  if (!TRANS_A && !TRANS_B) name += " K-major";
  // M/N-major: LBO = distance between 128-byte panels along M/N (64 * K elements), SBO = 8 rows.
  const uint32_t lbo = 64 * K * sizeof(AT), sbo = 1024;
  const GemmResult r = run_wgmma<AT, TRANS_A, TRANS_B, RS>(lbo, sbo);
  report(name, r.ok(), r.detail());
  if (!r.ok() && (TRANS_A || TRANS_B)) {
    const GemmResult s = run_wgmma<AT, TRANS_A, TRANS_B, RS>(sbo, lbo);
    std::printf("     note: with LBO and SBO swapped (LBO %u, SBO %u): %s -> %s\n", sbo, lbo, s.detail().c_str(),
                s.ok() ? "the M/N-major description in wgmma_sm90.h has them the wrong way round" : "still wrong");
  }
}

// ------------------------------------------------------------------------------------------------
// Warp-specialized pipeline: warpgroup 0 produces (setmaxnreg_dec, one elected thread issues TMA
// into 2 stages guarded by full/empty mbarriers), warpgroup 1 consumes (setmaxnreg_inc, waits on
// "full" with parity (kt / 2) % 2, runs 4 wgmma per k tile, arrives on "empty"). C = A * B^T with
// A [64][512], B^T [128][512] half.

constexpr int kPipeK = 512, kStages = 2;

__global__ void __launch_bounds__(256, 1)
    k_pipeline(const __grid_constant__ tl::TmaDescriptor da, const __grid_constant__ tl::TmaDescriptor db, float* C) {
#if SM90A_BODY
  constexpr int K = 64, KT = kPipeK / K;
  constexpr uint32_t A_BYTES = kM * K * 2, B_BYTES = kN * K * 2;
  __shared__ uint64_t full[kStages], empty[kStages];
  half_t* As = reinterpret_cast<half_t*>(smem_1024());  // [stage][64][64]
  half_t* Bs = As + kStages * kM * K;                    // [stage][128][64]
  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      tl::mbarrier_init(&full[s], 1);
      tl::mbarrier_init(&empty[s], 128);
    }
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x < 128) {
    tl::setmaxnreg_dec<40>();
    if (threadIdx.x < 32 && tl::elect_one()) {
      for (int kt = 0; kt < KT; ++kt) {
        const int s = kt % kStages, j = kt / kStages;
        if (j > 0) tl::mbarrier_wait(&empty[s], (j - 1) % 2);
        tl::mbarrier_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);
        tl::tma_load_2d(As + s * kM * K, &da, &full[s], kt * K, 0);
        tl::tma_load_2d(Bs + s * kN * K, &db, &full[s], kt * K, 0);
      }
    }
  } else {
    tl::setmaxnreg_inc<232>();
    const int t = threadIdx.x - 128, w = t / 32, l = t % 32;
    float acc[kN / 2];
#pragma unroll
    for (int i = 0; i < kN / 2; ++i) acc[i] = 0.0f;
    for (int kt = 0; kt < KT; ++kt) {
      const int s = kt % kStages, j = kt / kStages;
      tl::mbarrier_wait(&full[s], j % 2);
      tl::wgmma_fence();
#pragma unroll
      for (int ks = 0; ks < K / 16; ++ks)
        tl::wgmma_ss<kN, half_t>(acc, tl::wgmma_desc_kmajor<128>(As + s * kM * K + ks * 16),
                                 tl::wgmma_desc_kmajor<128>(Bs + s * kN * K + ks * 16), true);
      tl::wgmma_commit();
      tl::wgmma_wait<0>();
      tl::wgmma_fence_regs<kN / 2>(acc);
      tl::mbarrier_arrive(&empty[s]);
    }
#pragma unroll
    for (int i = 0; i < kN / 2; ++i) {
      const int row = 16 * w + l / 4 + 8 * ((i / 2) % 2), col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
      C[row * kN + col] = acc[i];
    }
  }
#endif
}

static void check_pipeline() {
  auto A = random_matrix<half_t>(size_t(kM) * kPipeK, 31);
  auto B = random_matrix<half_t>(size_t(kN) * kPipeK, 32);
  half_t* dA = to_device(A);
  half_t* dB = to_device(B);
  float* dC = nullptr;
  CHECK_CUDA(cudaMalloc(&dC, kM * kN * sizeof(float)));
  const tl::TmaDescriptor da = make_map_2d<half_t>(dA, kM, kPipeK, kM, 64);
  const tl::TmaDescriptor db = make_map_2d<half_t>(dB, kN, kPipeK, kN, 64);
  const int smem = kStages * (kM + kN) * 64 * 2 + 1024;
  CHECK_CUDA(cudaFuncSetAttribute(k_pipeline, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  k_pipeline<<<1, 256, smem>>>(da, db, dC);
  CHECK_CUDA(cudaGetLastError());
  sync_or_die("warp-specialized pipeline");
  auto C = to_host(dC, kM * kN);
  GemmResult res{0, 0};
  for (int m = 0; m < kM; ++m)
    for (int n = 0; n < kN; ++n) {
      double ref = 0;
      for (int k = 0; k < kPipeK; ++k) ref += double(to_f(A[m * kPipeK + k])) * to_f(B[n * kPipeK + k]);
      res.max_err = std::fmax(res.max_err, std::fabs(C[m * kN + n] - ref));
      res.max_ref = std::fmax(res.max_ref, std::fabs(ref));
    }
  report("warp-specialized pipeline 64x128x512 (2 stages)", res.ok(), res.detail());
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(dB));
  CHECK_CUDA(cudaFree(dC));
}

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: only the compile-time checks ran\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  const int cc = prop.major * 10 + prop.minor;
  std::printf("device: %s (sm_%d)\n", prop.name, cc);
  if (cc != 90) {
    std::printf("FAIL these checks need an sm_90 GPU (H100/H200)\n");
    return 2;
  }

  check_elect();
  check_tma_load();
  check_tma_store();

  check_wgmma<half_t, false, false, false>();
  check_wgmma<bfloat16_t, false, false, false>();
  check_wgmma<fp8_e4m3_t, false, false, false>();
  check_wgmma<fp8_e5m2_t, false, false, false>();
  check_wgmma<float, false, false, false>();
  check_wgmma<signed char, false, false, false>();
  check_wgmma<half_t, false, false, true>();
  check_wgmma<bfloat16_t, false, false, true>();
  check_wgmma<half_t, false, true, false>();
  check_wgmma<half_t, true, false, false>();
  check_wgmma<half_t, true, true, false>();
  check_wgmma<bfloat16_t, false, true, true>();

  check_pipeline();

  std::printf("%d of %d cases passed\n", g_cases - g_failures, g_cases);
  return g_failures == 0 ? 0 : 1;
}
