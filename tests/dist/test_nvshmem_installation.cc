// Finding NVSHMEM (jit/nvshmem_installation.h) on fake installations built in a temporary directory:
// the 3.4 and 3.8 layouts, NVSHMEM_HOME before the wheel, the wheel beside a python3 on PATH or in
// ~/.local, python3 only as the last resort, and the messages when nothing usable is found.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "jit/nvshmem_installation.h"
#include "tilescale/errors.h"

namespace tilescale {
namespace {

namespace fs = std::filesystem;
using jit::NvshmemSearch;

void touch(const fs::path& p, const std::string& text = "") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string version_header(int major, int minor, int patch) {
  return "#pragma once\n#define NVSHMEM_VENDOR_MAJOR_VERSION " + std::to_string(major) +
         "\n#define NVSHMEM_VENDOR_MINOR_VERSION " + std::to_string(minor) + "\n#define NVSHMEM_VENDOR_PATCH_VERSION " +
         std::to_string(patch) + "\n#define NVSHMEM_TRANSPORT_PLUGIN_MAJOR_VERSION 7\n";
}

// The pip wheel's layout of NVSHMEM 3.8: device bitcode per arch, transports as .so.7.
void make_nvshmem_38(const fs::path& root) {
  touch(root / "include/nvshmem.h");
  touch(root / "include/non_abi/nvshmem_version.h", version_header(3, 8, 0));
  touch(root / "lib/libnvshmem_host.so.3");
  touch(root / "lib/libnvshmem_device.a");
  for (int sm : {100, 80, 90}) touch(root / ("lib/libnvshmem_device_sm_" + std::to_string(sm) + ".bc"));
  touch(root / "lib/nvshmem_transport_ibrc.so.7");
  touch(root / "lib/nvshmem_bootstrap_uid.so.3");
}

// NVSHMEM 3.4's layout: one device bitcode library for every arch.
void make_nvshmem_34(const fs::path& root) {
  touch(root / "include/nvshmem.h");
  touch(root / "include/non_abi/nvshmem_version.h", version_header(3, 4, 5));
  touch(root / "lib/libnvshmem_host.so.3");
  touch(root / "lib/libnvshmem_device.a");
  touch(root / "lib/libnvshmem_device.bc");
  touch(root / "lib/nvshmem_transport_ibrc.so.3");
}

class NvshmemDiscovery : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (fs::temp_directory_path() / "tilescale-test-nvshmem-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    tmp = fs::canonical(dir);
    env["HOME"] = (tmp / "home").string();
  }
  void TearDown() override { fs::remove_all(tmp); }

  // A python3 in <prefix>/bin, put on PATH; its site-packages directory.
  fs::path python_at(const std::string& prefix, const std::string& site = "lib/python3.12/site-packages") {
    touch(tmp / prefix / "bin/python3");
    fs::create_directories(tmp / prefix / site);
    env["PATH"] += (env["PATH"].empty() ? "" : ":") + (tmp / prefix / "bin").string();
    return tmp / prefix / site;
  }

  NvshmemSearch search() {
    return jit::find_nvshmem_from(
        [&](const char* name) -> const char* {
          auto it = env.find(name);
          return it == env.end() ? nullptr : it->second.c_str();
        },
        [&](const std::string& module) {
          ++python_runs;
          EXPECT_EQ(module, "nvidia.nvshmem");
          return python_answer;
        });
  }

  fs::path tmp;
  std::map<std::string, std::string> env;
  std::string python_answer;  // what `python3 -c 'import nvidia.nvshmem'` prints
  int python_runs = 0;
};

TEST_F(NvshmemDiscovery, Nvshmem38WheelBesideAPythonOnPathIsFoundWithoutRunningPython) {
  touch(tmp / "usr/bin/ls");
  env["PATH"] = (tmp / "usr/bin").string();  // no python3 there: passed over
  const fs::path wheel = python_at("venv") / "nvidia/nvshmem";
  make_nvshmem_38(wheel);
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  const jit::NvshmemInstallation& n = *s.installation;
  EXPECT_EQ(n.root, wheel.string());
  EXPECT_EQ(n.include_dir, (wheel / "include").string());
  EXPECT_EQ(n.version, "3.8.0");
  EXPECT_EQ(n.host_library, (wheel / "lib/libnvshmem_host.so.3").string());
  EXPECT_EQ(n.device_archive, (wheel / "lib/libnvshmem_device.a").string());
  EXPECT_EQ(n.device_bitcode, "");
  EXPECT_EQ(n.device_bitcode_sms, (std::vector<int>{80, 90, 100}));
  EXPECT_EQ(n.found_by, "the site-packages of " + (tmp / "venv/bin/python3").string());
  EXPECT_EQ(python_runs, 0);
  EXPECT_EQ(jit::describe(n), "3.8.0 at " + wheel.string() + " (from the site-packages of " + (tmp / "venv/bin/python3").string() +
                                  "; host library libnvshmem_host.so.3; device library libnvshmem_device.a; device bitcode "
                                  "for sm_80, sm_90, sm_100)");
}

TEST_F(NvshmemDiscovery, Nvshmem38GivesEachArchTheNewestBitcodeNotAboveIt) {
  make_nvshmem_38(tmp / "nvshmem");
  env["NVSHMEM_HOME"] = (tmp / "nvshmem").string();
  const jit::NvshmemInstallation n = *search().installation;
  EXPECT_EQ(jit::nvshmem_device_bitcode(n, "sm_90a"), n.root + "/lib/libnvshmem_device_sm_90.bc");
  EXPECT_EQ(jit::nvshmem_device_bitcode(n, "sm_86"), n.root + "/lib/libnvshmem_device_sm_80.bc");
  EXPECT_EQ(jit::nvshmem_device_bitcode(n, "sm_120"), n.root + "/lib/libnvshmem_device_sm_100.bc");
}

TEST_F(NvshmemDiscovery, AnArchOlderThanEveryBitcodeIsAnErrorNamingWhatIsShipped) {
  make_nvshmem_38(tmp / "nvshmem");
  env["NVSHMEM_HOME"] = (tmp / "nvshmem").string();
  const jit::NvshmemInstallation n = *search().installation;
  try {
    jit::nvshmem_device_bitcode(n, "sm_75");
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot link NVSHMEM's device library for sm_75 because NVSHMEM 3.8.0 at " + n.root +
                                         " ships device bitcode for sm_80, sm_90, sm_100 only; compile for an architecture "
                                         "it ships, or use an NVSHMEM installation that ships lib/libnvshmem_device.bc or "
                                         "lib/libnvshmem_device_sm_XX.bc for sm_75");
  }
}

TEST_F(NvshmemDiscovery, Nvshmem34HasOneBitcodeForEveryArch) {
  make_nvshmem_34(tmp / "nvshmem-3.4");
  env["NVSHMEM_HOME"] = (tmp / "nvshmem-3.4").string();
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  const jit::NvshmemInstallation& n = *s.installation;
  EXPECT_EQ(n.version, "3.4.5");
  EXPECT_EQ(n.found_by, "NVSHMEM_HOME");
  EXPECT_TRUE(n.device_bitcode_sms.empty());
  for (const char* arch : {"sm_80", "sm_90a", "sm_100a"})
    EXPECT_EQ(jit::nvshmem_device_bitcode(n, arch), n.root + "/lib/libnvshmem_device.bc") << arch;
}

TEST_F(NvshmemDiscovery, NvshmemHomeComesBeforeTheWheel) {
  make_nvshmem_38(python_at("venv") / "nvidia/nvshmem");
  make_nvshmem_34(tmp / "opt/nvshmem");
  env["NVSHMEM_HOME"] = (tmp / "opt/nvshmem").string();
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  EXPECT_EQ(s.installation->root, (tmp / "opt/nvshmem").string());
  EXPECT_EQ(s.installation->version, "3.4.5");
}

TEST_F(NvshmemDiscovery, BrokenNvshmemHomeNamesWhatItLacksAndIsNotPassedOver) {
  make_nvshmem_38(python_at("venv") / "nvidia/nvshmem");
  touch(tmp / "opt/nvshmem/include/nvshmem.h");
  env["NVSHMEM_HOME"] = (tmp / "opt/nvshmem").string();
  const NvshmemSearch s = search();
  EXPECT_FALSE(s.installation);
  EXPECT_EQ(s.why_not, "NVSHMEM_HOME=" + env["NVSHMEM_HOME"] +
                           " has no include/non_abi/nvshmem_version.h, no lib/libnvshmem_host.so.N, no device library "
                           "(lib/libnvshmem_device.a, .bc or _sm_XX.bc); point NVSHMEM_HOME at an NVSHMEM installation "
                           "(the directory holding include/ and lib/), or unset it and install the pip wheel: python3 -m "
                           "pip install nvidia-nvshmem-cu13");
}

TEST_F(NvshmemDiscovery, NvshmemHomeThatDoesNotExistSaysSo) {
  env["NVSHMEM_HOME"] = (tmp / "nowhere").string();
  const NvshmemSearch s = search();
  EXPECT_FALSE(s.installation);
  EXPECT_EQ(s.why_not.rfind("NVSHMEM_HOME=" + env["NVSHMEM_HOME"] + " does not exist; point NVSHMEM_HOME at", 0), 0u)
      << s.why_not;
}

TEST_F(NvshmemDiscovery, UnreadableVersionIsNamed) {
  make_nvshmem_38(tmp / "nvshmem");
  touch(tmp / "nvshmem/include/non_abi/nvshmem_version.h", "#define NVSHMEM_VENDOR_MAJOR_VERSION 3\n");
  env["NVSHMEM_HOME"] = (tmp / "nvshmem").string();
  EXPECT_NE(search().why_not.find(" has no NVSHMEM_VENDOR_MAJOR/MINOR/PATCH_VERSION in include/non_abi/nvshmem_version.h;"),
            std::string::npos);
}

TEST_F(NvshmemDiscovery, TheUserSitePackagesAreSearchedAfterThePythonsOnPath) {
  python_at("usr", "lib/python3/dist-packages");
  const fs::path user = tmp / "home/.local/lib/python3.11/site-packages/nvidia/nvshmem";
  make_nvshmem_38(user);
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  EXPECT_EQ(s.installation->root, user.string());
  EXPECT_EQ(s.installation->found_by, "the user site-packages (~/.local)");
}

TEST_F(NvshmemDiscovery, DebianDistPackagesAreSearched) {
  const fs::path system = python_at("usr", "lib/python3/dist-packages") / "nvidia/nvshmem";
  make_nvshmem_34(system);
  make_nvshmem_38(tmp / "usr/local/lib/python3.11/dist-packages/nvidia/nvshmem");
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  EXPECT_EQ(s.installation->root, system.string());
}

TEST_F(NvshmemDiscovery, PythonIsAskedOnlyWhenTheFileSystemShowsNoWheel) {
  python_at("venv");
  make_nvshmem_38(tmp / "elsewhere/nvidia/nvshmem");
  python_answer = (tmp / "elsewhere/nvidia/nvshmem").string();
  const NvshmemSearch s = search();
  ASSERT_TRUE(s.installation) << s.why_not;
  EXPECT_EQ(python_runs, 1);
  EXPECT_EQ(s.installation->root, python_answer);
  EXPECT_EQ(s.installation->found_by, "python3 -c 'import nvidia.nvshmem'");
}

TEST_F(NvshmemDiscovery, NothingFoundNamesBothWaysAndWhereItLooked) {
  const fs::path site = python_at("venv");
  const NvshmemSearch s = search();
  EXPECT_FALSE(s.installation);
  EXPECT_EQ(python_runs, 1);
  EXPECT_EQ(s.why_not, "NVSHMEM_HOME is not set and no python3 on PATH has the pip wheel nvidia-nvshmem-cu13 (or -cu12) "
                       "(searched " + site.string() + "); set NVSHMEM_HOME to an NVSHMEM installation, or install the "
                       "pip wheel: python3 -m pip install nvidia-nvshmem-cu13");
}

TEST_F(NvshmemDiscovery, NoPythonAtAllStillNamesBothWays) {
  env["PATH"] = (tmp / "bin").string();
  const NvshmemSearch s = search();
  EXPECT_FALSE(s.installation);
  EXPECT_NE(s.why_not.find("(no site-packages beside a python3 on PATH or in ~/.local); set NVSHMEM_HOME"), std::string::npos)
      << s.why_not;
}

TEST_F(NvshmemDiscovery, AnIncompleteWheelIsPassedOverAndNamed) {
  const fs::path site = python_at("venv");
  touch(site / "nvidia/nvshmem/include/nvshmem.h");
  touch(site / "nvidia/nvshmem/include/non_abi/nvshmem_version.h", version_header(3, 8, 0));
  touch(site / "nvidia/nvshmem/lib/libnvshmem_device.a");
  const NvshmemSearch s = search();
  EXPECT_FALSE(s.installation);
  EXPECT_NE(s.why_not.find("; passed over the incomplete " + (site / "nvidia/nvshmem").string() +
                           " (it has no lib/libnvshmem_host.so.N)); set NVSHMEM_HOME"),
            std::string::npos)
      << s.why_not;
}

TEST_F(NvshmemDiscovery, TheHighestHostLibraryAbiIsTaken) {
  make_nvshmem_38(tmp / "nvshmem");
  touch(tmp / "nvshmem/lib/libnvshmem_host.so");
  touch(tmp / "nvshmem/lib/libnvshmem_host.so.10");
  env["NVSHMEM_HOME"] = (tmp / "nvshmem").string();
  EXPECT_EQ(search().installation->host_library, (tmp / "nvshmem/lib/libnvshmem_host.so.10").string());
}

}  // namespace
}  // namespace tilescale
