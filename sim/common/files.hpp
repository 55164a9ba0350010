// Writing results so that a crash never leaves half a file and nothing the
// user wrote is overwritten without being asked.
#pragma once

#include <string>

#include "sim/common/error.hpp"

namespace nibble {

/// Writes `content` to `path` through a temporary file in the same directory
/// and an atomic rename. Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

/// Makes every write to std::cout throw std::ios_base::failure when it fails
/// (a full disk, a closed file), so no command goes on as if its output had
/// been written; the command line calls it once before any command runs.
void check_stdout_writes();
/// Flushes std::cout and says whether every write to it reached the kernel;
/// with check_stdout_writes() a failure throws instead. The message for a
/// failed write is stdout_write_error().
bool flush_stdout();
/// "standard output: cannot write: <strerror(errno)>" as an InputError (exit 2).
InputError stdout_write_error(int error_number);

/// Reads a whole file; a missing or unreadable file is an InputError naming it.
std::string read_file(const std::string& path);

/// Prepares `dir` as an output directory. It is created if missing. If it
/// exists and holds files nibble did not write (no `.nibble-output` marker),
/// this throws an InputError unless `force` is set. The marker is written so
/// that later runs into the same directory are allowed.
void prepare_output_dir(const std::string& dir, bool force);

}  // namespace nibble
