// Writing results so that a crash never leaves half a file and nothing the
// user wrote is overwritten without being asked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/common/error.hpp"

namespace nibble {

/// Writes `content` to `path` through a temporary file in the same directory
/// and an atomic rename. A file that cannot be created or written (a missing
/// folder, a full disk) is an InputError naming it (exit 2), and no temporary
/// is left. While an OutputDir holding `path`'s folder is open, the rename waits
/// for its commit(), so a run's outputs appear together or not at all.
void write_file_atomic(const std::string& path, const std::string& content);
/// write_file_atomic() renamed at once even inside an OutputDir: for files that
/// must survive an interrupted run (the sweep's per-point results).
void write_file_now(const std::string& path, const std::string& content);

/// "cannot WHAT: <strerror>" and what to do: free some space (a full disk),
/// check the folder (anything else). The message of every failed write.
std::string write_failure(const std::string& what, int error_number);

/// On SIGINT, SIGTERM or SIGHUP: removes the temporary files of the writes in
/// flight and of an uncommitted OutputDir, then ends the process by the same
/// signal (so the exit status still says which). The command line installs it once.
void remove_temporaries_on_signals();

/// A temporary file written by other means than write_file_atomic() (a
/// waveform, renamed into place by its writer once complete): the SIGINT,
/// SIGTERM and SIGHUP handler removes it, and so does the destructor (an error
/// on the way) unless release() was called first.
class ScopedTemporary {
 public:
  explicit ScopedTemporary(std::string path);
  ~ScopedTemporary();
  ScopedTemporary(const ScopedTemporary&) = delete;
  ScopedTemporary& operator=(const ScopedTemporary&) = delete;

  const std::string& path() const { return m_path; }
  /// The file is no longer a temporary (renamed, or removed by the caller).
  void release();

 private:
  std::string m_path;  ///< the temporary
  std::size_t m_slot;  ///< its signal-cleanup slot
  bool m_released = false;  ///< release() called
};

/// An output folder held by one run. The constructor prepares it (as
/// prepare_output_dir) and locks it: flock on DIR/.nibble-lock, so a second
/// run into the same folder is refused with an InputError (exit 2) naming the
/// holder's pid while this one lives. Files written into it with
/// write_file_atomic() are staged as temporaries until commit() renames them
/// all; destroyed without commit() (an error, a full disk) it removes them, so
/// the folder keeps its previous complete set. One at a time per process.
class OutputDir {
 public:
  OutputDir(const std::string& dir, bool force);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  /// Renames every file staged so far to its name; later writes stage again.
  void commit();
  const std::string& path() const { return m_dir; }

 private:
  std::string m_dir;  ///< the folder, as given
  int m_lock_fd;      ///< open DIR/.nibble-lock holding the flock
};

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

/// The most read_file() reads from a text input (trace, design, YAML, CSV).
constexpr std::uint64_t kMaxTextFileBytes = 256ull << 20;
/// The most read from an ONNX model (protobuf parses at most 2 GiB).
constexpr std::uint64_t kMaxModelFileBytes = 2047ull << 20;

/// Reads a whole file; a missing or unreadable file, or one larger than
/// `max_bytes` (/dev/zero), is an InputError naming it.
std::string read_file(const std::string& path, std::uint64_t max_bytes = kMaxTextFileBytes);

/// Prepares `dir` as an output directory. It is created if missing. If it
/// exists and holds files nibble did not write (no `.nibble-output` marker),
/// this throws an InputError unless `force` is set. The marker is written so
/// that later runs into the same directory are allowed.
void prepare_output_dir(const std::string& dir, bool force);

}  // namespace nibble
