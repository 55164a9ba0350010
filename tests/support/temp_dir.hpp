// The one place tests get a scratch folder for the files they write.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace nibble::test {

/// An empty folder `nibble_<name>_<pid>` under the system temp dir: whatever an
/// earlier run left there is removed first. The pid keeps two test processes
/// (ctest -j) apart; `name` keeps the tests of one process apart. The test
/// removes it when it is done.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("nibble_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace nibble::test
