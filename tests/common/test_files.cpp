#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"

namespace nibble {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("nibble_test_files_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(Files, AtomicWriteLeavesNoTemporary) {
  const fs::path dir = fresh_dir("atomic");
  fs::create_directories(dir);
  write_file_atomic((dir / "a.txt").string(), "hello\n");
  EXPECT_EQ(read_file((dir / "a.txt").string()), "hello\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}

TEST(Files, OutputDirRefusesForeignFilesUnlessForced) {
  const fs::path dir = fresh_dir("out");
  fs::create_directories(dir);
  std::ofstream(dir / "thesis.tex") << "precious";
  EXPECT_THROW(prepare_output_dir(dir.string(), false), InputError);
  EXPECT_NO_THROW(prepare_output_dir(dir.string(), true));
  // Once nibble has written there, later runs need no --force.
  EXPECT_NO_THROW(prepare_output_dir(dir.string(), false));
  fs::remove_all(dir);
}

TEST(Files, ReadMissingFileNamesIt) {
  try {
    read_file("/nonexistent/nibble.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/nibble.yaml");
  }
}

// Writing into a folder that does not exist is the user's to fix: an
// InputError naming the file they asked for (not the temporary), exit code 2.
TEST(Files, WriteIntoMissingFolderNamesTheFile) {
  const fs::path dir = fresh_dir("missing");
  const std::string path = (dir / "report.csv").string();
  try {
    write_file_atomic(path, "x");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find("cannot create this file: No such file or directory"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace nibble
