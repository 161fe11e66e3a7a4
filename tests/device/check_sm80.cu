// Standalone check of the sm_80 device headers (device/tilescale/*.h) on a real GPU: swizzle
// (host), tl::cast, lane_allreduce, cp.async, ldmatrix/stmatrix fragments, gemm_ss, gemm_rs and
// gemm_sr against host references, reading the accumulators back through the documented register layout.
// Built and run by scripts/check_device_headers.sh:
//     nvcc -std=c++17 -arch=sm_90a -I device tests/device/check_sm80.cu -o /tmp/check && /tmp/check
// Prints one line per case (max error) and exits nonzero if any case fails.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tilescale/common.h>
#include <tilescale/copy_sm80.h>
#include <tilescale/gemm_sm80.h>
#include <tilescale/ldsm.h>
#include <tilescale/mma_sm80.h>
#include <tilescale/reduce.h>
#include <tilescale/swizzle.h>

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

static void report(const std::string& name, bool ok, const char* fmt = "", double a = 0, double b = 0) {
  ++g_cases;
  if (!ok) ++g_failures;
  std::printf("%-4s %-48s ", ok ? "ok" : "FAIL", name.c_str());
  std::printf(fmt, a, b);
  std::printf("\n");
}

// ------------------------------------------------------------------------------------------------
// Host-side conversions of the element types.

template <class T> static float to_f(T v) { return static_cast<float>(v); }
template <> float to_f<half_t>(half_t v) { return __half2float(v); }
template <> float to_f<bfloat16_t>(bfloat16_t v) { return __bfloat162float(v); }
template <class T> static T from_f(float v) { return static_cast<T>(v); }
template <> half_t from_f<half_t>(float v) { return __float2half_rn(v); }
template <> bfloat16_t from_f<bfloat16_t>(float v) { return __float2bfloat16_rn(v); }
template <> fp8_e4m3_t from_f<fp8_e4m3_t>(float v) { return fp8_e4m3_t(v); }
template <> fp8_e5m2_t from_f<fp8_e5m2_t>(float v) { return fp8_e5m2_t(v); }

template <class T> static const char* type_name();
template <> const char* type_name<half_t>() { return "half"; }
template <> const char* type_name<bfloat16_t>() { return "bf16"; }
template <> const char* type_name<signed char>() { return "int8"; }
template <> const char* type_name<fp8_e4m3_t>() { return "e4m3"; }
template <> const char* type_name<fp8_e5m2_t>() { return "e5m2"; }
template <> const char* type_name<float>() { return "tf32"; }

// ------------------------------------------------------------------------------------------------
// Swizzle: host checks (constexpr, bijection on the tile, stays in its row of its 128-byte panel,
// chunks contiguous, bank-conflict free for a column of chunks over 8 rows).

static_assert(tl::swizzle<64, 64, 2>(3, 10) == 210, "documented example");
static_assert(tl::swizzle<64, 128, 2>(3, 74) == 64 * 64 + 210, "documented example, second panel");
static_assert(tl::swizzle<64, 64, 2>(0, 10) == 10, "row 0 is not permuted");

// The rule as the brief states it, written independently.
static int swizzle_spec(int rows, int cols, int eb, int row, int col) {
  const int row_bytes = cols * eb;
  if (16 % eb != 0 || row_bytes % 16 != 0) return row * cols + col;
  const int per = 16 / eb, chunks = row_bytes / 16;
  if (chunks > 8 && chunks % 8 == 0) {  // 128-byte panels, each a [rows][128 bytes] tile
    const int panel = 128 / eb;
    return (col / panel) * rows * panel + swizzle_spec(rows, panel, eb, row, col % panel);
  }
  int chunk = col / per;
  const int within = col % per;
  if (chunks == 8) chunk ^= row % 8;
  else if (chunks == 4) chunk ^= (row / 2) % 4;
  else if (chunks == 2) chunk ^= (row / 4) % 2;
  return row * cols + chunk * per + within;
}

template <int COLS, int EB>
static void check_swizzle() {
  constexpr int rows = 32;
  const int row_bytes = COLS * EB;
  const int width = row_bytes > 128 && row_bytes % 128 == 0 ? 128 / EB : COLS;  // a row of one panel
  bool ok = true;
  std::set<int> seen;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < COLS; ++c) {
      const int o = tl::swizzle<rows, COLS, EB>(r, c), panel_base = (c / width) * rows * width;
      ok &= o == swizzle_spec(rows, COLS, EB, r, c);
      ok &= o >= panel_base + r * width && o < panel_base + (r + 1) * width;  // stays in its row of its panel
      ok &= seen.insert(o).second;                                           // never hits an offset twice
      if (c % (16 / EB > 0 ? 16 / EB : 1) != 0 && 16 % EB == 0) ok &= o == tl::swizzle<rows, COLS, EB>(r, c - 1) + 1;
    }
  }
  ok &= static_cast<int>(seen.size()) == rows * COLS && *seen.begin() == 0 && *seen.rbegin() == rows * COLS - 1;
  // Bank-conflict freedom: 8 aligned consecutive rows, one chunk column -> 8 distinct 16-byte bank groups.
  const bool swizzled = 16 % EB == 0 && row_bytes % 16 == 0 &&
                        (row_bytes == 16 || row_bytes == 32 || row_bytes == 64 || row_bytes % 128 == 0);
  if (swizzled) {
    const int per = 16 / EB;
    for (int g = 0; g < rows; g += 8)
      for (int c = 0; c < COLS; c += per) {
        std::set<int> groups;
        for (int r = g; r < g + 8; ++r) groups.insert((tl::swizzle<rows, COLS, EB>(r, c) * EB / 16) % 8);
        ok &= groups.size() == 8;
      }
  }
  char name[64];
  std::snprintf(name, sizeof name, "swizzle<%d,%d> (%d-byte rows)%s", COLS, EB, row_bytes, swizzled ? "" : " identity");
  report(name, ok);
}

static void check_swizzles() {
  check_swizzle<8, 2>();
  check_swizzle<16, 2>();
  check_swizzle<32, 2>();
  check_swizzle<64, 2>();
  check_swizzle<128, 2>();
  check_swizzle<256, 2>();
  check_swizzle<48, 2>();
  check_swizzle<16, 1>();
  check_swizzle<32, 1>();
  check_swizzle<64, 1>();
  check_swizzle<128, 1>();
  check_swizzle<256, 1>();
  check_swizzle<4, 4>();
  check_swizzle<8, 4>();
  check_swizzle<16, 4>();
  check_swizzle<32, 4>();
  check_swizzle<64, 4>();
  check_swizzle<12, 4>();
  check_swizzle<16, 8>();
  check_swizzle<6, 2>();
}

// ------------------------------------------------------------------------------------------------
// tl::cast

__global__ void k_cast(long long* out) {
  const float nanf_ = __int_as_float(0x7fc00000);
  int i = 0;
  out[i++] = tl::cast<int>(1e10f);                          // 2147483647
  out[i++] = tl::cast<int>(-1e10f);                         // -2147483648
  out[i++] = tl::cast<int>(nanf_);                          // 0
  out[i++] = tl::cast<int>(-3.7f);                          // -3
  out[i++] = tl::cast<signed char>(300.f);                  // 127
  out[i++] = tl::cast<signed char>(-300.f);                 // -128
  out[i++] = tl::cast<unsigned char>(-5.f);                 // 0
  out[i++] = tl::cast<unsigned char>(1000.f);               // 255
  out[i++] = tl::cast<short>(1e6f);                         // 32767
  out[i++] = tl::cast<unsigned short>(70000.5);             // 65535
  out[i++] = tl::cast<long long>(1e30f);                    // 9223372036854775807
  out[i++] = tl::cast<unsigned int>(-1.0f);                 // 0
  out[i++] = tl::cast<int>(tl::cast<half_t>(2.5f));         // 2
  out[i++] = tl::cast<signed char>(300);                    // 44 (integer wrap)
  out[i++] = tl::cast<bool>(0.5f);                          // 1
  out[i++] = tl::cast<int>(tl::cast<fp8_e4m3_t>(1000.f));   // 448 (satfinite)
  out[i++] = tl::cast<int>(tl::cast<fp8_e5m2_t>(1e6f));     // 57344 (satfinite)
  out[i++] = tl::cast<int>(tl::cast<bfloat16_t>(tl::cast<half_t>(-7.0f)));  // -7
  out[i++] = static_cast<long long>(tl::cast<unsigned long long>(-1.0));    // 0
  out[i++] = tl::cast<int>(tl::cast<half_t>(1e5f));         // 2147483647 (half inf -> saturate)
  out[i++] = tl::cast<bool>(tl::cast<half_t>(0.0f));        // 0
  out[i++] = tl::cast<int>(tl::cast<float>(tl::cast<half_t>(true)) * 3.0f);  // 3
  out[i++] = tl::cast<int>(tl::cast<float>(tl::cast<fp8_e4m3_t>(-0.3f)) * 1000.0f);  // e4m3(-0.3) = -0.3125 -> -312
  out[i++] = tl::cast<unsigned char>(tl::cast<bfloat16_t>(200.0f)); // 200
  out[i++] = tl::cast<long long>(tl::cast<double>(tl::cast<int>(-2000000000)) * 4.0);  // -8000000000
}

static void check_cast() {
  const long long expected[] = {2147483647LL, -2147483648LL, 0, -3, 127, -128, 0, 255, 32767, 65535,
                                9223372036854775807LL, 0, 2, 44, 1, 448, 57344, -7, 0, 2147483647LL, 0, 3, -312, 200,
                                -8000000000LL};
  const int n = sizeof(expected) / sizeof(expected[0]);
  long long* d;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(long long)));
  k_cast<<<1, 1>>>(d);
  CHECK_CUDA(cudaGetLastError());
  std::vector<long long> h(n);
  CHECK_CUDA(cudaMemcpy(h.data(), d, n * sizeof(long long), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaFree(d));
  int bad = 0;
  for (int i = 0; i < n; ++i)
    if (h[i] != expected[i]) {
      std::printf("     cast case %d: got %lld, expected %lld\n", i, h[i], expected[i]);
      ++bad;
    }
  report("tl::cast", bad == 0, "%g wrong of %g", bad, n);
}

// ------------------------------------------------------------------------------------------------
// lane_allreduce

__global__ void k_reduce(float* f, int* i, float* h) {
  const int lane = threadIdx.x;
  f[0 * 32 + lane] = tl::lane_allreduce<0b11111, tl::SumOp>(static_cast<float>(lane));
  f[1 * 32 + lane] = tl::lane_allreduce<0b00011, tl::SumOp>(static_cast<float>(lane));
  f[2 * 32 + lane] = tl::lane_allreduce<0b11100, tl::MaxOp>(static_cast<float>(lane));
  f[3 * 32 + lane] = tl::lane_allreduce<0b00110, tl::MinOp>(static_cast<float>(lane));
  i[0 * 32 + lane] = tl::lane_allreduce<0b11111, tl::SumOp>(lane);
  i[1 * 32 + lane] = tl::lane_allreduce<0b10001, tl::MaxOp>(lane);
  h[0 * 32 + lane] = __half2float(tl::lane_allreduce<0b00011, tl::SumOp>(__float2half(lane * 0.5f)));
  h[1 * 32 + lane] = __half2float(tl::lane_allreduce<0b11111, tl::MaxOp>(__float2half(lane * 0.5f)));
  h[2 * 32 + lane] = __bfloat162float(tl::lane_allreduce<0b01000, tl::MinOp>(__float2bfloat16(lane * 1.0f)));
}

static void check_reduce() {
  float *df, *dh;
  int* di;
  CHECK_CUDA(cudaMalloc(&df, 4 * 32 * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dh, 3 * 32 * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&di, 2 * 32 * sizeof(int)));
  k_reduce<<<1, 32>>>(df, di, dh);
  CHECK_CUDA(cudaGetLastError());
  std::vector<float> f(4 * 32), h(3 * 32);
  std::vector<int> i(2 * 32);
  CHECK_CUDA(cudaMemcpy(f.data(), df, f.size() * sizeof(float), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(h.data(), dh, h.size() * sizeof(float), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(i.data(), di, i.size() * sizeof(int), cudaMemcpyDeviceToHost));
  int bad = 0;
  for (int l = 0; l < 32; ++l) {
    const int g4 = l / 4;
    bad += f[0 * 32 + l] != 496.0f;
    bad += f[1 * 32 + l] != 16.0f * g4 + 6.0f;
    bad += f[2 * 32 + l] != 28.0f + l % 4;
    bad += f[3 * 32 + l] != static_cast<float>(l & ~6);
    bad += i[0 * 32 + l] != 496;
    bad += i[1 * 32 + l] != (l | 17);
    bad += h[0 * 32 + l] != (16.0f * g4 + 6.0f) * 0.5f;
    bad += h[1 * 32 + l] != 15.5f;
    bad += h[2 * 32 + l] != static_cast<float>(l & ~8);
  }
  CHECK_CUDA(cudaFree(df));
  CHECK_CUDA(cudaFree(dh));
  CHECK_CUDA(cudaFree(di));
  report("tl::lane_allreduce (sum/max/min; float/int/half/bf16)", bad == 0, "%g wrong", bad);
}

// ------------------------------------------------------------------------------------------------
// cp.async with zero fill, and the vector load/store helpers.

__global__ void k_copy(const float* src, float* dst) {
  __shared__ __align__(16) float s[3][32 * 4];
  const int l = threadIdx.x;
  const bool pred = l % 3 != 0;
  for (int j = 0; j < 4; ++j) s[0][l * 4 + j] = s[1][l * 4 + j] = s[2][l * 4 + j] = -1.0f;
  __syncthreads();
  tl::cp_async<16>(&s[0][l * 4], src + l * 4, pred);
  tl::cp_async_commit();
  tl::cp_async<8>(&s[1][l * 4], src + l * 4, pred);
  tl::cp_async<8>(&s[1][l * 4 + 2], src + l * 4 + 2, pred);
  tl::cp_async_commit();
  for (int j = 0; j < 4; ++j) tl::cp_async<4>(&s[2][l * 4 + j], src + l * 4 + j, pred);
  tl::cp_async_commit();
  tl::cp_async_wait<1>();
  tl::cp_async_wait_all();
  __syncthreads();
  // Read back through the vector helpers: shared -> registers -> global.
  float regs[4];
  for (int k = 0; k < 3; ++k) {
    tl::ld_shared<16>(regs, &s[k][l * 4]);
    tl::st_global<8>(dst + k * 128 + l * 4, regs);
    tl::st_global<4>(dst + k * 128 + l * 4 + 2, regs + 2);
    tl::st_global<4>(dst + k * 128 + l * 4 + 3, regs + 3);
  }
  float g[4];
  tl::ld_global<16>(g, src + l * 4);
  tl::st_shared<16>(&s[0][l * 4], g);
  __syncwarp();
  unsigned short u;
  tl::ld_shared<2>(&u, reinterpret_cast<const unsigned short*>(&s[0][l * 4]) + 1);
  tl::st_global<2>(reinterpret_cast<unsigned short*>(dst + 3 * 128 + l) + 1, &u);
  tl::st_global<2>(reinterpret_cast<unsigned short*>(dst + 3 * 128 + l), reinterpret_cast<const unsigned short*>(g));
}

static void check_copy() {
  std::vector<float> src(128);
  for (int i = 0; i < 128; ++i) src[i] = 1.0f + i;
  float *ds, *dd;
  CHECK_CUDA(cudaMalloc(&ds, 128 * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dd, 4 * 128 * sizeof(float)));
  CHECK_CUDA(cudaMemcpy(ds, src.data(), 128 * sizeof(float), cudaMemcpyHostToDevice));
  k_copy<<<1, 32>>>(ds, dd);
  CHECK_CUDA(cudaGetLastError());
  std::vector<float> out(4 * 128);
  CHECK_CUDA(cudaMemcpy(out.data(), dd, out.size() * sizeof(float), cudaMemcpyDeviceToHost));
  int bad = 0;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 128; ++i) bad += out[k * 128 + i] != ((i / 4) % 3 != 0 ? src[i] : 0.0f);
  for (int l = 0; l < 32; ++l) bad += out[3 * 128 + l] != src[l * 4];
  CHECK_CUDA(cudaFree(ds));
  CHECK_CUDA(cudaFree(dd));
  report("tl::cp_async (16/8/4, zero fill) + ld/st helpers", bad == 0, "%g wrong", bad);
}

// ------------------------------------------------------------------------------------------------
// ldmatrix / stmatrix fragments on a plain 16x16 half matrix M[r][c] = r * 16 + c. Lane l addresses
// row l % 16, column (l / 16) * 8, so matrix i is the 8x8 block (rows (i % 2) * 8, cols (i / 2) * 8).

__global__ void k_ldsm(unsigned* regs, float* stored) {
  __shared__ __align__(16) half_t m[16 * 16];
  const int l = threadIdx.x;
  for (int i = l; i < 256; i += 32) m[i] = __float2half(static_cast<float>(i));
  __syncthreads();
  const half_t* p = &m[(l % 16) * 16 + (l / 16) * 8];
  uint32_t r1[1], r2[2], r4[4];
  tl::ldsm_x1(r1, p);
  regs[0 * 128 + l * 4] = r1[0];
  tl::ldsm_x2(r2, p);
  for (int i = 0; i < 2; ++i) regs[1 * 128 + l * 4 + i] = r2[i];
  tl::ldsm_x4(r4, p);
  for (int i = 0; i < 4; ++i) regs[2 * 128 + l * 4 + i] = r4[i];
  tl::ldsm_x1_trans(r1, p);
  regs[3 * 128 + l * 4] = r1[0];
  tl::ldsm_x2_trans(r2, p);
  for (int i = 0; i < 2; ++i) regs[4 * 128 + l * 4 + i] = r2[i];
  tl::ldsm_x4_trans(r4, p);
  for (int i = 0; i < 4; ++i) regs[5 * 128 + l * 4 + i] = r4[i];
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  __shared__ __align__(16) half_t o[2][16 * 16];
  // stmatrix of what ldmatrix loaded, at the same addresses, rebuilds the matrix.
  tl::stsm_x4_trans(&o[1][(l % 16) * 16 + (l / 16) * 8], r4);
  tl::ldsm_x4(r4, p);
  tl::stsm_x4(&o[0][(l % 16) * 16 + (l / 16) * 8], r4);
  __syncwarp();
  for (int i = l; i < 256; i += 32) {
    stored[i] = __half2float(o[0][i]);
    stored[256 + i] = __half2float(o[1][i]);
  }
#endif
}

static void check_ldsm(bool has_stmatrix) {
  unsigned* dr;
  float* ds;
  CHECK_CUDA(cudaMalloc(&dr, 6 * 128 * sizeof(unsigned)));
  CHECK_CUDA(cudaMalloc(&ds, 512 * sizeof(float)));
  CHECK_CUDA(cudaMemset(dr, 0, 6 * 128 * sizeof(unsigned)));
  k_ldsm<<<1, 32>>>(dr, ds);
  CHECK_CUDA(cudaGetLastError());
  std::vector<unsigned> r(6 * 128);
  std::vector<float> s(512);
  CHECK_CUDA(cudaMemcpy(r.data(), dr, r.size() * sizeof(unsigned), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(s.data(), ds, s.size() * sizeof(float), cudaMemcpyDeviceToHost));
  auto half_at = [](unsigned reg, int h) {
    const unsigned short bits = static_cast<unsigned short>(reg >> (16 * h));
    __half_raw raw;
    raw.x = bits;
    return __half2float(half_t(raw));
  };
  int bad = 0;
  const int counts[3] = {1, 2, 4};
  for (int v = 0; v < 6; ++v) {
    const bool trans = v >= 3;
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < counts[v % 3]; ++i)
        for (int h = 0; h < 2; ++h) {
          const int br = (i % 2) * 8, bc = (i / 2) * 8;
          const int row = trans ? br + 2 * (l % 4) + h : br + l / 4;
          const int col = trans ? bc + l / 4 : bc + 2 * (l % 4) + h;
          bad += half_at(r[v * 128 + l * 4 + i], h) != static_cast<float>(row * 16 + col);
        }
  }
  report("tl::ldsm_x1/x2/x4 (+ .trans) fragments", bad == 0, "%g wrong", bad);
  if (has_stmatrix) {
    int bad_st = 0;
    for (int i = 0; i < 256; ++i) bad_st += (s[i] != i) + (s[256 + i] != i);
    report("tl::stsm_x4 (+ .trans) round trip", bad_st == 0, "%g wrong", bad_st);
  }
  CHECK_CUDA(cudaFree(dr));
  CHECK_CUDA(cudaFree(ds));
}

// ------------------------------------------------------------------------------------------------
// gemm_ss / gemm_rs

// (row, col) of accumulator register idx, per the layout documented in gemm_sm80.h.
template <int M, int N, int WARPS_M, int WARPS_N>
__device__ void acc_coord(int idx, int& row, int& col) {
  constexpr int WM = M / WARPS_M, WN = N / WARPS_N, NI = WN / 8;
  const int warp = (threadIdx.x / 32) % (WARPS_M * WARPS_N), lane = threadIdx.x % 32;
  const int warp_m = warp % WARPS_M, warp_n = warp / WARPS_M;
  const int r = idx % 4, mi = idx / 4 / NI, ni = idx / 4 % NI;
  row = warp_m * WM + mi * 16 + lane / 4 + 8 * (r / 2);
  col = warp_n * WN + ni * 8 + (lane % 4) * 2 + r % 2;
}

// Global A holds the operand as stored: [K][M] when TRANS_A, else [M][K]; B [N][K] when TRANS_B.
template <int ROWS, int COLS, class AT>
__device__ void fill_swizzled(AT* s, const AT* g) {
  for (int i = threadIdx.x; i < ROWS * COLS; i += blockDim.x) s[tl::swizzle<ROWS, COLS, sizeof(AT)>(i / COLS, i % COLS)] = g[i];
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, bool TA, bool TB, class AT, class CT>
__global__ void k_gemm_ss(const AT* A, const AT* B, const CT* C, CT* D) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 890
  if constexpr (tl::is_fp8_v<AT>) return;
  else
#endif
  {
    extern __shared__ __align__(128) unsigned char smem[];
    AT* As = reinterpret_cast<AT*>(smem);
    AT* Bs = As + M * K;
    fill_swizzled<TA ? K : M, TA ? M : K>(As, A);
    fill_swizzled<TB ? N : K, TB ? K : N>(Bs, B);
    __syncthreads();
    constexpr int REGS = M * N / (WARPS_M * WARPS_N * 32);
    CT acc[REGS];
    int row, col;
#pragma unroll
    for (int i = 0; i < REGS; ++i) {
      acc_coord<M, N, WARPS_M, WARPS_N>(i, row, col);
      acc[i] = C[row * N + col];
    }
    tl::gemm_ss<M, N, K, WARPS_M, WARPS_N, TA, TB>(As, Bs, acc);
#pragma unroll
    for (int i = 0; i < REGS; ++i) {
      acc_coord<M, N, WARPS_M, WARPS_N>(i, row, col);
      D[row * N + col] = acc[i];
    }
  }
}

template <int M, int N, int K, int WARPS_M, bool TB, class AT, class CT>
__global__ void k_gemm_rs(const AT* A, const AT* B, const CT* C, CT* D) {
  extern __shared__ __align__(128) unsigned char smem[];
  AT* Bs = reinterpret_cast<AT*>(smem);
  fill_swizzled<TB ? N : K, TB ? K : N>(Bs, B);
  __syncthreads();
  // A as the accumulator layout of an M x K tile with WARPS_N = 1.
  constexpr int AREGS = M * K / (WARPS_M * 32);
  AT a[AREGS];
  int row, col;
#pragma unroll
  for (int i = 0; i < AREGS; ++i) {
    acc_coord<M, K, WARPS_M, 1>(i, row, col);
    a[i] = A[row * K + col];
  }
  constexpr int REGS = M * N / (WARPS_M * 32);
  CT acc[REGS];
#pragma unroll
  for (int i = 0; i < REGS; ++i) {
    acc_coord<M, N, WARPS_M, 1>(i, row, col);
    acc[i] = C[row * N + col];
  }
  tl::gemm_rs<M, N, K, WARPS_M, 1, TB>(a, Bs, acc);
#pragma unroll
  for (int i = 0; i < REGS; ++i) {
    acc_coord<M, N, WARPS_M, 1>(i, row, col);
    D[row * N + col] = acc[i];
  }
}

template <int M, int N, int K, int WARPS_N, bool TA, class AT, class CT>
__global__ void k_gemm_sr(const AT* A, const AT* B, const CT* C, CT* D) {
  extern __shared__ __align__(128) unsigned char smem[];
  AT* As = reinterpret_cast<AT*>(smem);
  fill_swizzled<TA ? K : M, TA ? M : K>(As, A);
  __syncthreads();
  // B (global [K][N]) as the accumulator layout of the N x K tile B^T with WARPS_M = WARPS_N, WARPS_N = 1.
  constexpr int BREGS = N * K / (WARPS_N * 32);
  AT b[BREGS];
  int row, col;
#pragma unroll
  for (int i = 0; i < BREGS; ++i) {
    acc_coord<N, K, WARPS_N, 1>(i, row, col);
    b[i] = B[col * N + row];
  }
  constexpr int REGS = M * N / (WARPS_N * 32);
  CT acc[REGS];
#pragma unroll
  for (int i = 0; i < REGS; ++i) {
    acc_coord<M, N, 1, WARPS_N>(i, row, col);
    acc[i] = C[row * N + col];
  }
  tl::gemm_sr<M, N, K, 1, WARPS_N, TA>(As, b, acc);
#pragma unroll
  for (int i = 0; i < REGS; ++i) {
    acc_coord<M, N, 1, WARPS_N>(i, row, col);
    D[row * N + col] = acc[i];
  }
}

template <class T>
static T* to_device(const std::vector<T>& h) {
  T* d;
  CHECK_CUDA(cudaMalloc(&d, h.size() * sizeof(T)));
  CHECK_CUDA(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

static std::mt19937 g_rng(12345);

template <class AT>
static std::vector<AT> random_operand(int n) {
  std::vector<AT> v(n);
  if constexpr (tl::is_same_v<AT, signed char>) {
    std::uniform_int_distribution<int> dist(-128, 127);
    for (auto& x : v) x = static_cast<signed char>(dist(g_rng));
  } else {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto& x : v) x = from_f<AT>(dist(g_rng));
  }
  return v;
}

enum GemmKind { SS, RS, SR };

// Runs one gemm and compares D = C + A * B against a double-precision host reference. B in
// registers (SR) is read from global B as [K][N].
template <GemmKind KIND, int M, int N, int K, int WARPS_M, int WARPS_N, bool TA, bool TB, class AT>
static void run_gemm() {
  typedef typename tl::detail::MmaOp<AT>::Acc CT;
  constexpr bool exact = tl::is_same_v<CT, int>;
  const std::vector<AT> A = random_operand<AT>(M * K), B = random_operand<AT>(K * N);
  std::vector<CT> C(M * N);
  if constexpr (exact) {
    std::uniform_int_distribution<int> dist(-100000, 100000);
    for (auto& x : C) x = dist(g_rng);
  } else {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto& x : C) x = dist(g_rng);
  }
  AT *dA = to_device(A), *dB = to_device(B);
  CT *dC = to_device(C), *dD;
  CHECK_CUDA(cudaMalloc(&dD, M * N * sizeof(CT)));
  CHECK_CUDA(cudaMemset(dD, 0xff, M * N * sizeof(CT)));
  const int threads = WARPS_M * WARPS_N * 32;
  if constexpr (KIND == RS) {
    const int smem = K * N * sizeof(AT);
    k_gemm_rs<M, N, K, WARPS_M, TB, AT, CT><<<1, threads, smem>>>(dA, dB, dC, dD);
  } else if constexpr (KIND == SR) {
    static_assert(WARPS_M == 1 && !TB, "gemm_sr check: WARPS_M == 1, B read as [K][N]");
    const int smem = M * K * sizeof(AT);
    k_gemm_sr<M, N, K, WARPS_N, TA, AT, CT><<<1, threads, smem>>>(dA, dB, dC, dD);
  } else {
    const int smem = (M * K + K * N) * sizeof(AT);
    k_gemm_ss<M, N, K, WARPS_M, WARPS_N, TA, TB, AT, CT><<<1, threads, smem>>>(dA, dB, dC, dD);
  }
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<CT> D(M * N);
  CHECK_CUDA(cudaMemcpy(D.data(), dD, M * N * sizeof(CT), cudaMemcpyDeviceToHost));
  double max_err = 0, max_ref = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double ref = C[m * N + n];
      for (int k = 0; k < K; ++k) {
        const AT a = TA ? A[k * M + m] : A[m * K + k];
        const AT b = TB ? B[n * K + k] : B[k * N + n];
        ref += static_cast<double>(to_f(a)) * static_cast<double>(to_f(b));
      }
      const double got = static_cast<double>(D[m * N + n]);
      const double err = std::isnan(got) ? INFINITY : std::fabs(got - ref);
      if (err > max_err) max_err = err;
      if (std::fabs(ref) > max_ref) max_ref = std::fabs(ref);
    }
  const double rel = max_err / (max_ref > 0 ? max_ref : 1.0);
  const bool ok = exact ? max_err == 0 : rel < 1e-2;
  const std::string shape = std::to_string(M) + "," + std::to_string(N) + "," + std::to_string(K) + "," +
                            std::to_string(WARPS_M) + "," + std::to_string(WARPS_N) + "> ";
  const std::string label = KIND == RS   ? "gemm_rs<" + shape + (TB ? "B^T " : "B ") + type_name<AT>()
                            : KIND == SR ? "gemm_sr<" + shape + (TA ? "A^T " : "A ") + type_name<AT>()
                                         : "gemm_ss<" + shape + (TA ? "A^T," : "A,") + (TB ? "B^T " : "B ") + type_name<AT>();
  report(label, ok, "max_abs_err %.3g  rel_err %.3g", max_err, rel);
  CHECK_CUDA(cudaFree(dA));
  CHECK_CUDA(cudaFree(dB));
  CHECK_CUDA(cudaFree(dC));
  CHECK_CUDA(cudaFree(dD));
}

template <int M, int N, int K, int WARPS_M, int WARPS_N, class AT>
static void run_gemm_ss_all_trans() {
  run_gemm<SS, M, N, K, WARPS_M, WARPS_N, false, false, AT>();
  run_gemm<SS, M, N, K, WARPS_M, WARPS_N, false, true, AT>();
  run_gemm<SS, M, N, K, WARPS_M, WARPS_N, true, false, AT>();
  run_gemm<SS, M, N, K, WARPS_M, WARPS_N, true, true, AT>();
}

template <int M, int N, int K, int WARPS_M, int WARPS_N>
static void run_gemm_ss_16bit() {
  run_gemm_ss_all_trans<M, N, K, WARPS_M, WARPS_N, half_t>();
  run_gemm_ss_all_trans<M, N, K, WARPS_M, WARPS_N, bfloat16_t>();
}

int main() {
  check_swizzles();

  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: only the host checks ran\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  const int cc = prop.major * 10 + prop.minor;
  std::printf("device: %s (sm_%d)\n", prop.name, cc);

  check_cast();
  check_reduce();
  check_copy();
  check_ldsm(cc >= 90);

  run_gemm_ss_16bit<128, 128, 32, 2, 2>();
  run_gemm_ss_16bit<64, 64, 32, 2, 2>();
  run_gemm_ss_16bit<128, 128, 32, 4, 1>();
  run_gemm_ss_16bit<64, 128, 64, 1, 4>();
  run_gemm_ss_16bit<64, 48, 32, 2, 2>();  // 3 n-tiles per warp: exercises the ldmatrix.x2 path
  run_gemm_ss_16bit<32, 32, 16, 1, 1>();  // 32-byte rows (k = 16) and 64-byte rows

  // 8-bit and tf32: K-major operands through ldmatrix, MN-major ones gathered element by element.
  run_gemm_ss_all_trans<128, 128, 64, 2, 2, signed char>();
  run_gemm<SS, 64, 64, 32, 2, 2, false, true, signed char>();
  run_gemm_ss_all_trans<64, 48, 64, 2, 2, signed char>();  // 3 n-tiles per warp
  run_gemm_ss_all_trans<64, 64, 32, 2, 2, float>();
  run_gemm_ss_all_trans<64, 48, 16, 2, 2, float>();
  if (cc >= 89) {
    run_gemm_ss_all_trans<64, 64, 64, 2, 2, fp8_e4m3_t>();
    run_gemm_ss_all_trans<128, 64, 128, 4, 1, fp8_e5m2_t>();
  }

  run_gemm<RS, 64, 64, 64, 4, 1, false, false, half_t>();
  run_gemm<RS, 64, 64, 64, 4, 1, false, true, half_t>();
  run_gemm<RS, 64, 64, 64, 4, 1, false, false, bfloat16_t>();
  run_gemm<RS, 64, 64, 64, 4, 1, false, true, bfloat16_t>();
  run_gemm<RS, 64, 48, 32, 2, 1, false, true, half_t>();

  run_gemm<SR, 64, 64, 64, 1, 4, false, false, half_t>();
  run_gemm<SR, 64, 64, 64, 1, 4, true, false, half_t>();
  run_gemm<SR, 64, 64, 64, 1, 4, false, false, bfloat16_t>();
  run_gemm<SR, 64, 64, 64, 1, 4, true, false, bfloat16_t>();
  run_gemm<SR, 48, 96, 32, 1, 2, false, false, half_t>();  // 3 mma rows; 48 columns per warp: 3 B^T tiles
  run_gemm<SR, 16, 32, 16, 1, 1, true, false, bfloat16_t>();

  std::printf("%d of %d cases passed\n", g_cases - g_failures, g_cases);
  return g_failures == 0 ? 0 : 1;
}
