// Writing results so that a crash never leaves half a file and nothing the
// user wrote is overwritten without being asked.
#pragma once

#include <string>

namespace nibble {

/// Writes `content` to `path` through a temporary file in the same directory
/// and an atomic rename. Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads a whole file; a missing or unreadable file is an InputError naming it.
std::string read_file(const std::string& path);

/// Prepares `dir` as an output directory. It is created if missing. If it
/// exists and holds files nibble did not write (no `.nibble-output` marker),
/// this throws an InputError unless `force` is set. The marker is written so
/// that later runs into the same directory are allowed.
void prepare_output_dir(const std::string& dir, bool force);

}  // namespace nibble
