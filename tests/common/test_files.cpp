#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble {
namespace {

namespace fs = std::filesystem;

TEST(Files, AtomicWriteLeavesNoTemporary) {
  const fs::path dir = test::fresh_dir("test_files_atomic");
  write_file_atomic((dir / "a.txt").string(), "hello\n");
  EXPECT_EQ(read_file((dir / "a.txt").string()), "hello\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}

TEST(Files, OutputDirRefusesForeignFilesUnlessForced) {
  const fs::path dir = test::fresh_dir("test_files_out");
  std::ofstream(dir / "thesis.tex") << "precious";
  try {
    prepare_output_dir(dir.string(), false);
    ADD_FAILURE() << "expected a SettingError";
  } catch (const SettingError& e) {  // the output folder is a setting (--out), located in the folder
    EXPECT_EQ(e.setting(), "out");
    EXPECT_EQ(e.file(), dir.string());
  }
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
  const fs::path dir = test::fresh_dir("test_files_missing") / "absent";
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
  fs::remove_all(dir.parent_path());
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// An OutputDir's files appear together at commit(); without it (an error
// part-way) none of them appears and no temporary is left.
TEST(Files, OutputDirRenamesTheSetTogetherOrNotAtAll) {
  const fs::path dir = test::fresh_dir("test_files_set");
  {
    OutputDir out(dir.string(), false);
    write_file_atomic((dir / "summary.json").string(), "{}\n");
    EXPECT_FALSE(fs::exists(dir / "summary.json"));  // staged, not yet in place
    write_file_now((dir / "point.json").string(), "1\n");
    EXPECT_TRUE(fs::exists(dir / "point.json"));  // write_file_now is not staged
    out.commit();
    EXPECT_TRUE(fs::exists(dir / "summary.json"));
  }
  {
    OutputDir out(dir.string(), false);
    write_file_atomic((dir / "summary.json").string(), "{\"new\": 1}\n");
    write_file_atomic((dir / "report.html").string(), "<html>");
    // Destroyed without commit(): the previous complete set stays.
  }
  EXPECT_EQ(read_file((dir / "summary.json").string()), "{}\n");
  EXPECT_EQ(entries_of(dir),
            (std::vector<std::string>{".nibble-lock", ".nibble-output", "point.json", "summary.json"}));
  fs::remove_all(dir);
}

// The lock is per open file description: a second OutputDir on the same
// folder from another process is refused while the first is open.
TEST(Files, OutputDirRefusesASecondRun) {
  const fs::path dir = test::fresh_dir("test_files_lock");
  OutputDir out(dir.string(), false);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The staging state was copied by fork; only the lock matters here.
    try {
      prepare_output_dir(dir.string(), false);  // no lock: allowed
      const int fd = ::open((dir / ".nibble-lock").c_str(), O_RDWR);
      ::_exit(::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 3 : 0);
    } catch (...) {
      ::_exit(4);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the folder's lock was not held";
  fs::remove_all(dir);
}

// SIGTERM during a run: the handler removes the staged temporaries and the
// process still dies by SIGTERM.
TEST(Files, SignalRemovesStagedTemporaries) {
  const fs::path dir = test::fresh_dir("test_files_signal");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    remove_temporaries_on_signals();
    OutputDir out(dir.string(), false);
    write_file_atomic((dir / "summary.json").string(), "{}\n");
    ::raise(SIGTERM);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(entries_of(dir), (std::vector<std::string>{".nibble-lock", ".nibble-output"}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nibble
