// The JIT without a GPU: NVRTC (and nvcc) compiling for sm_80 and sm_90a, the on-disk cache, the
// embedded device headers, compile-failure reports, and the driver's "no CUDA device" answer.
#include <gtest/gtest.h>

#include "codegen/temp_cache.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "jit/cache.h"
#include "jit/device_headers.h"
#include "jit/entry_lock.h"
#include "jit/hash.h"
#include "jit/nvcc.h"
#include "jit/nvrtc.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"
#include "tilescale/tensor.h"
#include "skips.h"

namespace tilescale {
namespace {

namespace fs = std::filesystem;


std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool is_elf(const std::vector<char>& bin) { return bin.size() > 4 && bin[0] == 0x7f && bin[1] == 'E' && bin[2] == 'L' && bin[3] == 'F'; }

const char* kTestHeader = R"(#pragma once
namespace test_only {
__device__ __forceinline__ float twice(float x) { return 2.0f * x; }
}
)";

const char* kSaxpy = R"(#include "tilescale/test_only.h"
extern "C" __global__ void saxpy(float* __restrict__ y, const float* __restrict__ x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = test_only::twice(x[i]) + y[i];
}
)";

// ---- hashing -----------------------------------------------------------------------------------

TEST(Hash, IsDeterministicAndDelimitsStrings) {
  EXPECT_EQ(jit::Hasher().add("abc").hex(), jit::Hasher().add("abc").hex());
  EXPECT_EQ(jit::Hasher().add("abc").hex().size(), 32u);
  EXPECT_NE(jit::Hasher().add("ab").add("c").hex(), jit::Hasher().add("a").add("bc").hex());
  EXPECT_NE(jit::Hasher().add("").hex(), jit::Hasher().hex());
  // One bit of difference anywhere changes both halves.
  std::string a(1000, 'x'), b = a;
  b[517] ^= 1;
  jit::Hasher ha, hb;
  ha.add(a), hb.add(b);
  EXPECT_NE(ha.high(), hb.high());
  EXPECT_NE(ha.low(), hb.low());
}

// ---- embedded device headers -------------------------------------------------------------------

TEST(DeviceHeaders, AreSortedAndNamedUnderTilescale) {
  const auto& hs = jit::device_headers();
  for (size_t i = 0; i < hs.size(); ++i) {
    EXPECT_EQ(hs[i].include_name.rfind("tilescale/", 0), 0u) << hs[i].include_name;
    EXPECT_FALSE(hs[i].contents.empty()) << hs[i].include_name;
    if (i) {
      EXPECT_LT(hs[i - 1].include_name, hs[i].include_name);
    }
  }
  EXPECT_EQ(jit::device_headers_hash(), jit::device_headers_hash());
}

// NVRTC also sees each device header under its bare name ("common.h"), for the headers' own
// includes; such a name must not hide a toolkit header.
TEST(DeviceHeaders, BareNamesDoNotShadowToolkitHeaders) {
  const std::string inc = jit::cuda_include_dir();
  if (inc.empty()) GTEST_SKIP() << "no CUDA toolkit include directory found";
  for (const auto& h : jit::device_headers()) {
    const std::string bare(h.include_name.substr(std::string("tilescale/").size()));
    EXPECT_FALSE(fs::exists(fs::path(inc) / bare)) << h.include_name << " would hide the toolkit's " << bare;
  }
}

// Each device header compiles on its own, for the oldest and the newest architecture we target.
TEST(DeviceHeaders, EachCompilesAloneForSm80AndSm90a) {
  SKIP_WITHOUT_NVRTC();
  if (jit::device_headers().empty()) GTEST_SKIP() << "device/tilescale/ has no headers yet";
  for (const auto& h : jit::device_headers()) {
    const std::string src = "#include \"" + std::string(h.include_name) + "\"\n"
                            "extern \"C\" __global__ void probe(int* p) { p[threadIdx.x] = 1; }\n";
    for (const char* arch : {"sm_80", "sm_90a"}) {
      SCOPED_TRACE(std::string(h.include_name) + " for " + arch);
      jit::CompiledBinary b;
      ASSERT_NO_THROW(b = jit::compile_nvrtc(src, "probe", arch, {}));
      EXPECT_TRUE(is_elf(b.cubin));
    }
  }
}

// ---- NVRTC -------------------------------------------------------------------------------------

TEST(Nvrtc, CompilesAKernelWithAnInMemoryHeaderForSm80AndSm90a) {
  SKIP_WITHOUT_NVRTC();
  const std::vector<jit::EmbeddedHeader> extra = {{"tilescale/test_only.h", kTestHeader}};
  for (const char* arch : {"sm_80", "sm_90a"}) {
    SCOPED_TRACE(arch);
    jit::CompiledBinary b = jit::compile_nvrtc(kSaxpy, "saxpy", arch, {}, extra);
    EXPECT_TRUE(is_elf(b.cubin));
  }
}

// NVRTC refuses a header name given twice; an extra header of an embedded header's name replaces it.
TEST(Nvrtc, AnExtraHeaderReplacesAnEmbeddedOneOfTheSameName) {
  SKIP_WITHOUT_NVRTC();
  const std::vector<jit::EmbeddedHeader> extra = {{"tilescale/common.h", "#define REPLACED_COMMON 1\n"}};
  const std::string src = "#include \"tilescale/common.h\"\n"
                          "#ifndef REPLACED_COMMON\n#error the embedded common.h was used\n#endif\n"
                          "extern \"C\" __global__ void k(int* p) { p[0] = REPLACED_COMMON; }\n";
  EXPECT_TRUE(is_elf(jit::compile_nvrtc(src, "k", "sm_90a", {}, extra).cubin));
}

TEST(Nvrtc, CompilesAKernelUsingTheEmbeddedCommonHeader) {
  SKIP_WITHOUT_NVRTC();
  bool has_common = false;
  for (const auto& h : jit::device_headers()) has_common |= h.include_name == "tilescale/common.h";
  if (!has_common) GTEST_SKIP() << "device/tilescale/common.h does not exist yet";
  const std::string src = R"(#include "tilescale/common.h"
extern "C" __global__ void to_half(half_t* __restrict__ y, const float* __restrict__ x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __float2half_rn(x[i]);
}
)";
  for (const char* arch : {"sm_80", "sm_90a"}) {
    SCOPED_TRACE(arch);
    EXPECT_TRUE(is_elf(jit::compile_nvrtc(src, "to_half", arch, {}).cubin));
  }
}

TEST(Nvrtc, PtxForTargetsTheVirtualArchitecture) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = "extern \"C\" __global__ void k(float* p) { p[threadIdx.x] *= 2.0f; }\n";
  const std::string ptx = jit::ptx_for(src, "sm_90a");
  EXPECT_NE(ptx.find(".target sm_90a"), std::string::npos) << ptx.substr(0, 400);
  EXPECT_NE(ptx.find(".entry k"), std::string::npos);
  EXPECT_NE(jit::ptx_for(src).find(".target sm_90a"), std::string::npos);
}

TEST(Nvrtc, PtxForErrorsNameTheKernelPastItsLaunchBounds) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = "extern \"C\" __global__ void __launch_bounds__(128, 1) scale(float* p) { p[0] = nothing; }\n";
  try {
    jit::ptx_for(src, "sm_90a");
    FAIL() << "expected a CompileError";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("scale"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("kernel __launch_bounds__"), std::string::npos) << e.what();
  }
}

TEST(Nvrtc, VersionIsKnown) {
  SKIP_WITHOUT_NVRTC();
  EXPECT_NE(jit::nvrtc_version().find('.'), std::string::npos);
}

TEST_F(TempCache, NvrtcFailureSavesTheSourceAndNamesThePath) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = "extern \"C\" __global__ void broken(float* p) { p[0] = undefined_thing; }\n";
  try {
    jit::compile_nvrtc(src, "broken", "sm_90a", {"-lineinfo"});
    FAIL() << "expected CompileError";
  } catch (const CompileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("NVRTC failed to compile kernel broken for sm_90a; source and log saved to "), std::string::npos) << msg;
    EXPECT_NE(msg.find("undefined_thing"), std::string::npos) << msg;  // the first lines of the log
    const fs::path failed = dir_ / "failed";
    ASSERT_TRUE(fs::is_directory(failed)) << msg;
    int cu = 0, log = 0;
    for (const auto& entry : fs::directory_iterator(failed)) {
      const std::string path = entry.path().string();
      EXPECT_NE(msg.find(path), std::string::npos) << path << " not named in: " << msg;
      if (entry.path().extension() == ".cu") {
        ++cu;
        EXPECT_EQ(read_file(entry.path()), src);
      }
      if (entry.path().extension() == ".log") {
        ++log;
        const std::string text = read_file(entry.path());
        EXPECT_NE(text.find("-lineinfo"), std::string::npos) << text;
        EXPECT_NE(text.find("--gpu-architecture=sm_90a"), std::string::npos) << text;
        EXPECT_NE(text.find("undefined_thing"), std::string::npos) << text;
      }
    }
    EXPECT_EQ(cu, 1);
    EXPECT_EQ(log, 1);
  }
}

// ---- the cache ---------------------------------------------------------------------------------

std::string with_header(const std::string& kernel_body) {
  return "extern \"C\" __global__ void cached(float* p, int n) {" + kernel_body + "}\n";
}

TEST_F(TempCache, SecondCompileIsAHit) {
  SKIP_WITHOUT_NVRTC();
  jit::JitRequest req{"cached", with_header("if (threadIdx.x < n) p[threadIdx.x] += 1.0f;"), "sm_90a", {}};
  jit::JitResult first = jit::compile_cached(req);
  EXPECT_FALSE(first.cache_hit);
  EXPECT_TRUE(is_elf(first.cubin));
  ASSERT_FALSE(first.cache_path.empty());
  EXPECT_TRUE(fs::exists(first.cache_path));
  EXPECT_EQ(fs::path(first.cache_path).parent_path().parent_path(), dir_);
  jit::JitResult second = jit::compile_cached(req);
  EXPECT_TRUE(second.cache_hit);
  EXPECT_EQ(second.cubin, first.cubin);
  EXPECT_EQ(second.cache_path, first.cache_path);
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(first.cache_path).parent_path())) ++files, (void)e;
  EXPECT_EQ(files, 1);
}

TEST_F(TempCache, CorruptEntriesAreDetectedAndRecompiled) {
  SKIP_WITHOUT_NVRTC();
  jit::JitRequest req{"cached", with_header("if (threadIdx.x < n) p[threadIdx.x] *= 3.0f;"), "sm_80", {}};
  const jit::JitResult good = jit::compile_cached(req);
  const std::string path = good.cache_path;
  ASSERT_FALSE(path.empty());
  const std::string bytes = read_file(path);

  // A flipped byte in the payload: the checksum fails.
  {
    std::string bad = bytes;
    bad[bad.size() / 2] ^= 0x5a;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    jit::JitResult r = jit::compile_cached(req);
    EXPECT_FALSE(r.cache_hit);
    EXPECT_EQ(r.cubin, good.cubin);
    EXPECT_EQ(read_file(path), bytes);  // rewritten whole
  }
  // A truncated file (a torn write from another tool): the length fails.
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 100);
    jit::JitResult r = jit::compile_cached(req);
    EXPECT_FALSE(r.cache_hit);
    EXPECT_EQ(r.cubin, good.cubin);
  }
  // Garbage of the right size: the magic fails.
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(bytes.size(), 'z');
    EXPECT_FALSE(jit::compile_cached(req).cache_hit);
  }
  EXPECT_TRUE(jit::compile_cached(req).cache_hit);
}

TEST_F(TempCache, KeyCoversSourceArchAndEveryOption) {
  SKIP_WITHOUT_NVRTC();
  jit::JitRequest base{"cached", with_header("p[0] = 1.0f;"), "sm_90a", {}};
  const std::string k = jit::cache_key(base);
  EXPECT_EQ(k, jit::cache_key(base));
  EXPECT_EQ(k.size(), 32u);

  auto with = [&](auto change) {
    jit::JitRequest r = base;
    change(r);
    return jit::cache_key(r);
  };
  EXPECT_NE(k, with([](auto& r) { r.options = {"--use_fast_math"}; }));
  EXPECT_NE(with([](auto& r) { r.options = {"--use_fast_math"}; }), with([](auto& r) { r.options = {"-lineinfo"}; }));
  EXPECT_NE(with([](auto& r) { r.options = {"-a", "-b"}; }), with([](auto& r) { r.options = {"-b", "-a"}; }));
  EXPECT_NE(k, with([](auto& r) { r.arch = "sm_80"; }));
  EXPECT_NE(k, with([](auto& r) { r.source += " "; }));
  EXPECT_EQ(k, with([](auto& r) { r.name = "another_name"; }));  // the name is only for messages

  // Different options give different entries, both hits afterwards.
  jit::JitRequest fast = base;
  fast.options = {"--use_fast_math"};
  const auto a = jit::compile_cached(base), b = jit::compile_cached(fast);
  EXPECT_NE(a.cache_path, b.cache_path);
  EXPECT_TRUE(jit::compile_cached(base).cache_hit);
  EXPECT_TRUE(jit::compile_cached(fast).cache_hit);
}

// Issue 12, item 8: the key covers the exact compiler build, the toolkit headers' contents, the
// options every compile gets, and tilescale's own source revision; changing any of them changes it.
TEST_F(TempCache, KeyChangesWithEachPartOfTheCompilerIdentity) {
  SKIP_WITHOUT_NVRTC();
  jit::JitRequest req{"cached", with_header("p[0] = 3.0f;"), "sm_90a", {}};
  const jit::CompilerIdentity id = jit::compiler_identity(req);
  const std::string k = jit::cache_key(req, id);
  EXPECT_EQ(k, jit::cache_key(req));
  auto with = [&](auto change) {
    jit::CompilerIdentity other = id;
    change(other);
    return jit::cache_key(req, other);
  };
  EXPECT_NE(k, with([](auto& i) { i.compiler += " (another update of the same version)"; }));
  EXPECT_NE(k, with([](auto& i) { i.toolkit_headers = jit::Hasher().add("other headers").hex(); }));
  EXPECT_NE(k, with([](auto& i) { i.library_revision += "-changed"; }));
  EXPECT_NE(k, with([](auto& i) { i.fixed_options.push_back("-G"); }));
  EXPECT_NE(k, with([](auto& i) { i.fixed_options.pop_back(); }));

  // What the parts are made of: the NVRTC version and the library file loaded, the toolkit's include
  // directory, the library's version and source revision.
  EXPECT_NE(id.compiler.find("libnvrtc " + jit::nvrtc_version() + " at /"), std::string::npos) << id.compiler;
  EXPECT_NE(id.compiler.find(" bytes, modified "), std::string::npos) << id.compiler;
  EXPECT_EQ(id.toolkit_headers, jit::hash_include_dir(jit::cuda_include_dir()));
  EXPECT_EQ(id.fixed_options, jit::base_nvrtc_options("sm_90a"));
  EXPECT_EQ(id.library_revision, jit::library_revision());
  EXPECT_EQ(std::string(jit::source_revision()).size(), 32u);
  EXPECT_EQ(id.library_revision.find(TILESCALE_VERSION "+"), 0u) << id.library_revision;
}

TEST(CacheKey, ToolkitHeaderContentsChangeTheirHash) {
  const fs::path dir = fs::temp_directory_path() / ("tilescale-test-include-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "crt");
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary | std::ios::trunc) << text; };
  write(dir / "cuda_fp16.h", "#define X 1\n");
  write(dir / "crt" / "host_defines.h", "#define Y 1\n");
  const std::string h = jit::hash_include_dir(dir.string());
  EXPECT_EQ(h, jit::hash_include_dir(dir.string()));
  // The same size and time, other contents: a header read by generated code.
  const auto time = fs::last_write_time(dir / "cuda_fp16.h");
  write(dir / "cuda_fp16.h", "#define X 2\n");
  fs::last_write_time(dir / "cuda_fp16.h", time);
  const std::string h2 = jit::hash_include_dir(dir.string());
  EXPECT_NE(h, h2);
  // A file below the directory: by size and time.
  write(dir / "crt" / "host_defines.h", "#define Y 22\n");
  const std::string h3 = jit::hash_include_dir(dir.string());
  EXPECT_NE(h2, h3);
  write(dir / "new_header.h", "");
  EXPECT_NE(h3, jit::hash_include_dir(dir.string()));
  EXPECT_NE(jit::hash_include_dir((dir / "missing").string()), jit::hash_include_dir(""));
  fs::remove_all(dir);
}

// The source revision is the contents' hash that cmake/source_revision.cmake writes at build time:
// it changes with a file's contents, also without a git repository.
TEST(CacheKey, SourceRevisionFollowsTheSourcesContents) {
  const fs::path dir = fs::temp_directory_path() / ("tilescale-test-revision-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "src");
  std::ofstream(dir / "list.txt") << "src/a.cc\nsrc/b.h\n";
  auto revision = [&](const std::string& a, const std::string& b) {
    std::ofstream(dir / "src" / "a.cc", std::ios::trunc) << a;
    std::ofstream(dir / "src" / "b.h", std::ios::trunc) << b;
    const std::string command = std::string("'" TILESCALE_CMAKE_COMMAND "' -DROOT=") + dir.string() + " -DLIST=" +
                                (dir / "list.txt").string() + " -DOUTPUT=" + (dir / "out.cc").string() +
                                " -P '" TILESCALE_SOURCE_DIR "/cmake/source_revision.cmake'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return read_file(dir / "out.cc");
  };
  const std::string r = revision("int a;", "int b;");
  EXPECT_NE(r.find("source_revision() { return \""), std::string::npos) << r;
  EXPECT_EQ(r, revision("int a;", "int b;"));
  EXPECT_NE(r, revision("int a = 1;", "int b;"));
  EXPECT_NE(r, revision("int a;", "int c;"));
  fs::remove_all(dir);
}

// Something that is not an entry file at the entry's path (a directory) is neither read nor
// replaced: the kernel is compiled and not cached, with no exception from the stream.
TEST_F(TempCache, EntryPathThatIsADirectoryIsACacheMiss) {
  SKIP_WITHOUT_NVRTC();
  jit::JitRequest req{"cached", with_header("p[0] = 5.0f;"), "sm_80", {}};
  fs::create_directories(jit::cache_entry_path(jit::cache_key(req)));
  jit::JitResult r;
  ASSERT_NO_THROW(r = jit::compile_cached(req));
  EXPECT_TRUE(is_elf(r.cubin));
  EXPECT_FALSE(r.cache_hit);
  EXPECT_TRUE(r.cache_path.empty());
  EXPECT_TRUE(fs::is_directory(jit::cache_entry_path(jit::cache_key(req))));
}

TEST_F(TempCache, CacheCanBeTurnedOff) {
  SKIP_WITHOUT_NVRTC();
  ::setenv("TILESCALE_CACHE", "0", 1);
  jit::JitRequest req{"cached", with_header("p[1] = 2.0f;"), "sm_90a", {}};
  const auto a = jit::compile_cached(req), b = jit::compile_cached(req);
  ::unsetenv("TILESCALE_CACHE");
  EXPECT_FALSE(a.cache_hit);
  EXPECT_FALSE(b.cache_hit);
  EXPECT_TRUE(a.cache_path.empty());
  EXPECT_FALSE(fs::exists(dir_ / "kernels"));
}

// Issue 13, item 5: threads of one process that miss the same entry at the same moment compile it
// once; the others wait for the entry's lock, find the entry written and report a hit.
TEST_F(TempCache, ThreadsMissingTheSameEntryCompileItOnce) {
  SKIP_WITHOUT_NVRTC();
  const jit::JitRequest req{"cached", with_header("p[threadIdx.x] = sqrtf(p[threadIdx.x]) + 7.0f;"), "sm_90a", {}};
  const std::string entry = jit::cache_entry_path(jit::cache_key(req));  // NVRTC loaded before the race
  constexpr int kThreads = 4;
  std::vector<jit::JitResult> results(kThreads);
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      try {
        results[t] = jit::compile_cached(req);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  int misses = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "");
    misses += !results[t].cache_hit;
    EXPECT_TRUE(is_elf(results[t].cubin));
    EXPECT_EQ(results[t].cubin, results[0].cubin);
    EXPECT_EQ(results[t].cache_path, entry);
  }
  EXPECT_EQ(misses, 1);
  EXPECT_FALSE(fs::exists(entry + ".lock"));
}

// A process that dies holding an entry's lock leaves nothing stale behind: the kernel drops its lock,
// the next compile takes it, compiles, and deletes the lock file the dead process left.
TEST_F(TempCache, LockOfAProcessThatDiedIsTakenOver) {
  SKIP_WITHOUT_NVRTC();
  const jit::JitRequest req{"cached", with_header("p[threadIdx.x] = 11.0f;"), "sm_80", {}};
  const std::string entry = jit::cache_entry_path(jit::cache_key(req));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const auto* held = new jit::EntryLock(entry);  // never released: the process dies holding it
    if (held->held()) ::kill(::getpid(), SIGKILL);
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child could not take the lock (exit status " << WEXITSTATUS(status) << ")";
  ASSERT_TRUE(fs::exists(entry + ".lock"));
  const jit::JitResult r = jit::compile_cached(req);
  EXPECT_FALSE(r.cache_hit);
  EXPECT_EQ(r.cache_path, entry);
  EXPECT_FALSE(fs::exists(entry + ".lock"));
  EXPECT_TRUE(jit::compile_cached(req).cache_hit);
}

// Locking is best effort: where no lock file can be made (here, a cache directory that cannot be
// created) the kernel is compiled without the lock and without caching, never an error.
TEST_F(TempCache, CompilesWithoutTheLockWhereNoLockFileCanBeMade) {
  SKIP_WITHOUT_NVRTC();
  ::setenv("TILESCALE_CACHE_DIR", "/proc/tilescale-cache-cannot-exist", 1);
  const jit::JitRequest req{"cached", with_header("p[threadIdx.x] = 13.0f;"), "sm_90a", {}};
  EXPECT_FALSE(jit::EntryLock(jit::cache_entry_path(jit::cache_key(req))).held());
  for (int i = 0; i < 2; ++i) {
    jit::JitResult r;
    ASSERT_NO_THROW(r = jit::compile_cached(req));
    EXPECT_TRUE(is_elf(r.cubin));
    EXPECT_FALSE(r.cache_hit);
    EXPECT_TRUE(r.cache_path.empty());
  }
}

TEST_F(TempCache, UnknownJitBackendIsAClearError) {
  ::setenv("TILESCALE_JIT", "clang", 1);
  try {
    jit::default_backend();
    FAIL() << "expected CompileError";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("TILESCALE_JIT=clang"), std::string::npos) << e.what();
  }
  ::unsetenv("TILESCALE_JIT");
  EXPECT_EQ(jit::default_backend(), jit::Backend::NVRTC);
}

TEST(CacheDir, FollowsTheEnvironment) {
  const char* old = std::getenv("TILESCALE_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("TILESCALE_CACHE_DIR", "/somewhere/else", 1);
  EXPECT_EQ(jit::cache_dir(), "/somewhere/else");
  ::unsetenv("TILESCALE_CACHE_DIR");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) {
    EXPECT_EQ(jit::cache_dir(), std::string(xdg) + "/tilescale");
  } else if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(jit::cache_dir(), std::string(home) + "/.cache/tilescale");
  }
  if (old) ::setenv("TILESCALE_CACHE_DIR", saved.c_str(), 1);
}

// ---- nvcc --------------------------------------------------------------------------------------

TEST_F(TempCache, NvccCompilesTheSameKernelsAndIsCachedSeparately) {
  if (jit::nvcc_path().empty()) GTEST_SKIP() << "no nvcc found (CUDA_HOME, /usr/local/cuda/bin, PATH)";
  std::string src = "extern \"C\" __global__ void twice(float* p, int n) {\n"
                    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) p[i] *= 2.0f;\n}\n";
  bool has_common = false;
  for (const auto& h : jit::device_headers()) has_common |= h.include_name == "tilescale/common.h";
  if (has_common) src = "#include \"tilescale/common.h\"\n" + src;
  jit::JitRequest req{"twice", src, "sm_90a", {}, jit::Backend::NVCC};
  const auto a = jit::compile_cached(req);
  EXPECT_TRUE(is_elf(a.cubin));
  EXPECT_FALSE(a.cache_hit);
  EXPECT_TRUE(jit::compile_cached(req).cache_hit);
  // nvcc's identity: its path and whole --version output (release and build), its fixed options.
  const jit::CompilerIdentity id = jit::compiler_identity(req);
  EXPECT_EQ(id.compiler.find(jit::nvcc_path() + "\n"), 0u) << id.compiler;
  EXPECT_NE(id.compiler.find("Cuda compilation tools"), std::string::npos) << id.compiler;
  EXPECT_NE(id.compiler.find("Build "), std::string::npos) << id.compiler;
  EXPECT_EQ(id.fixed_options, (std::vector<std::string>{"-cubin", "-arch=sm_90a", "-std=c++17"}));
  EXPECT_EQ(id.toolkit_headers, jit::hash_include_dir(jit::nvcc_include_dir()));
  if (jit::nvrtc_unavailable_reason().empty()) {
    const std::string nvcc_key = jit::cache_key(req);
    req.backend = jit::Backend::NVRTC;
    EXPECT_NE(jit::cache_key(req), nvcc_key);
    EXPECT_FALSE(jit::compile_cached(req).cache_hit);
  }
}

TEST_F(TempCache, NvccFailureSavesTheSource) {
  if (jit::nvcc_path().empty()) GTEST_SKIP() << "no nvcc found (CUDA_HOME, /usr/local/cuda/bin, PATH)";
  const std::string src = "extern \"C\" __global__ void broken(float* p) { p[0] = missing_name; }\n";
  try {
    jit::compile_nvcc(src, "broken", "sm_80", {});
    FAIL() << "expected CompileError";
  } catch (const CompileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nvcc failed to compile kernel broken for sm_80; source and log saved to " + (dir_ / "failed").string()),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("missing_name"), std::string::npos) << msg;
  }
}

// ---- the driver --------------------------------------------------------------------------------

TEST(Driver, ReportsWhyThereIsNoDevice) {
  const std::string why = cuda::cuda_unavailable_reason();
  if (why.empty()) {
    EXPECT_GT(cuda::driver().device_count, 0);
    EXPECT_EQ(cuda::arch_for_device(0).rfind("sm_", 0), 0u);
    GTEST_SKIP() << "a CUDA device is present; the no-device path is not testable here";
  }
  try {
    cuda::driver();
    FAIL() << "expected RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device: " + why), std::string::npos) << e.what();
  }
  try {
    Tensor::empty({4}, DataType::Float32, Device::cuda());
    FAIL() << "expected RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(Driver, ErrorsNameTheCallAndKernel) {
  if (!cuda::cuda_unavailable_reason().empty()) {
    // Without a driver the names come from a small built-in table.
    EXPECT_EQ(cuda::describe(CUDA_ERROR_OUT_OF_MEMORY).rfind("CUDA_ERROR_OUT_OF_MEMORY", 0), 0u);
  }
  try {
    cuda::check(CUDA_ERROR_OUT_OF_MEMORY, "cuLaunchKernel", "gemm");
    FAIL() << "expected RuntimeError";
  } catch (const RuntimeError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("CUDA error CUDA_ERROR_OUT_OF_MEMORY", 0), 0u) << msg;
    EXPECT_NE(msg.find(" in cuLaunchKernel of kernel gemm"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(cuda::check(CUDA_SUCCESS, "cuInit"));
}

}  // namespace
}  // namespace tilescale
