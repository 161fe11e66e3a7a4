// A test fixture that points TILESCALE_CACHE_DIR at a fresh directory (so compiles and saved
// failures land there) and clears TILESCALE_CACHE and TILESCALE_JIT; all restored afterwards.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tilescale {

class TempCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("TILESCALE_CACHE_DIR")) old_ = old, had_old_ = true;
    std::string tmpl = (std::filesystem::temp_directory_path() / "tilescale-test-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ::setenv("TILESCALE_CACHE_DIR", dir_.c_str(), 1);
    ::unsetenv("TILESCALE_CACHE");
    ::unsetenv("TILESCALE_JIT");
  }
  void TearDown() override {
    if (had_old_) ::setenv("TILESCALE_CACHE_DIR", old_.c_str(), 1);
    else ::unsetenv("TILESCALE_CACHE_DIR");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::string old_;
  bool had_old_ = false;
};

}  // namespace tilescale
