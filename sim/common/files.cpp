#include "sim/common/files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "sim/common/error.hpp"

namespace nibble {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMarker = ".nibble-output";
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    // An output path in a folder that does not exist (or is not writable) is the
    // user's to fix: say which file and why, as for any other bad input.
    if (!out) throw InputError(path, 0, "", std::string("cannot create this file: ") + std::strerror(errno) +
                                              " (does its folder exist and is it writable?)");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
}

void check_stdout_writes() {
  std::cout.exceptions(std::ios::badbit);
  // std::cerr flushes std::cout before each message by default; a failed
  // stdout must not stop the message that says so.
  std::cerr.tie(nullptr);
}

bool flush_stdout() {
  std::cout.flush();
  return !std::cout.bad();
}

InputError stdout_write_error(int error_number) {
  return InputError("standard output", 0, "",
                    std::string("cannot write: ") +
                        (error_number != 0 ? std::strerror(error_number) : "the write failed") +
                        " (is the disk full or the file closed?)");
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, 0, "", "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(path, 0, "", "read error");
  return buf.str();
}

void prepare_output_dir(const std::string& dir, bool force) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) throw InputError(dir, 0, "--out", "exists and is not a directory");
    const bool ours = fs::exists(root / kMarker, ec);
    const bool empty = fs::is_empty(root, ec);
    if (!ours && !empty && !force) {
      throw InputError(dir, 0, "--out",
                       "directory holds files nibble did not write; choose another --out or pass --force");
    }
  } else {
    fs::create_directories(root, ec);
    if (ec) throw InputError(dir, 0, "--out", "cannot create directory: " + ec.message());
  }
  write_file_atomic((root / kMarker).string(), "This directory was written by nibble.\n");
}

}  // namespace nibble
