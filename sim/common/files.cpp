#include "sim/common/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMarker = ".nibble-output";
constexpr const char* kMarkerText = "This directory was written by nibble.\n";
constexpr const char* kLock = ".nibble-lock";

// Temporaries in flight, for the signal handler: fixed slots of plain char
// arrays, since a handler may call unlink() but must not allocate or lock.
// A slot is 0 (free), 1 (being filled) or 2 (holds a path).
constexpr std::size_t kSlots = 256;
constexpr std::size_t kPathMax = 4096;
std::atomic<int> g_slot_state[kSlots];
char g_slot_path[kSlots][kPathMax];

// Returns the slot index, or kSlots when the path is too long or every slot
// is taken (the file is then only not removed on a signal).
std::size_t register_temporary(const std::string& path) {
  if (path.size() >= kPathMax) return kSlots;
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slot_state[i].compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slot_path[i], path.c_str(), path.size() + 1);
      g_slot_state[i].store(2);
      return i;
    }
  }
  return kSlots;
}

void unregister_temporary(std::size_t slot) {
  if (slot < kSlots) g_slot_state[slot].store(0);
}

extern "C" void remove_temporaries_and_die(int signal_number) {
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (g_slot_state[i].load() == 2) ::unlink(g_slot_path[i]);
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

struct Staged {
  std::string temporary;  ///< written, not yet renamed
  std::string final;      ///< its name after commit()
  std::size_t slot;       ///< its signal-cleanup slot
};

// The open OutputDir's folder (absolute) and the files staged in it.
std::mutex g_staging_mutex;
std::optional<fs::path> g_staging_dir;
std::vector<Staged> g_staged;

fs::path absolute_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return (ec ? fs::path(path) : p).lexically_normal();
}

bool is_inside(const fs::path& file, const fs::path& dir) {
  auto d = dir.begin();
  auto f = file.begin();
  for (; d != dir.end(); ++d, ++f) {
    if (d->empty() && std::next(d) == dir.end()) return true;  // "dir/" ends in an empty element
    if (f == file.end() || *d != *f) return false;
  }
  return true;
}

[[noreturn]] void throw_write_error(const std::string& path, const std::string& what, int error_number) {
  throw InputError(path, 0, "", write_failure(what, error_number));
}

// Writes `content` to a fresh temporary next to `path`; returns its name and
// slot. On failure nothing is left behind and an InputError names `path`.
Staged write_temporary(const std::string& path, const std::string& content) {
  static std::atomic<std::uint64_t> counter{0};
  Staged staged;
  staged.final = path;
  staged.temporary = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  staged.slot = register_temporary(staged.temporary);
  const int fd = ::open(staged.temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int error_number = errno;
    unregister_temporary(staged.slot);
    throw_write_error(path, "create this file", error_number);
  }
  std::size_t done = 0;
  int error_number = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_number = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && error_number == 0) error_number = errno;
  if (error_number != 0) {
    ::unlink(staged.temporary.c_str());
    unregister_temporary(staged.slot);
    throw_write_error(path, "write", error_number);
  }
  return staged;
}

void rename_into_place(const Staged& staged) {
  if (::rename(staged.temporary.c_str(), staged.final.c_str()) != 0) {
    const int error_number = errno;
    ::unlink(staged.temporary.c_str());
    unregister_temporary(staged.slot);
    throw_write_error(staged.final, "rename " + staged.temporary + " to this name", error_number);
  }
  unregister_temporary(staged.slot);
}

// Creates `dir` or checks that nibble may write into it: it is empty, or
// holds nibble's marker or lock file, or `force` is set.
void claim_output_dir(const std::string& dir, bool force) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) throw SettingError("out", "exists and is not a directory", dir);
    const bool ours = fs::exists(root / kMarker, ec) || fs::exists(root / kLock, ec);
    if (!ours && !fs::is_empty(root, ec) && !force) {
      throw SettingError("out", "directory holds files nibble did not write; choose another " + setting_ref("out") +
                                  " or pass " + setting_ref("force"),
                         dir);
    }
  } else {
    fs::create_directories(root, ec);
    if (ec) throw SettingError("out", "cannot create directory: " + ec.message(), dir);
  }
}

void remove_staged(const std::vector<Staged>& staged, std::size_t from) {
  for (std::size_t i = from; i < staged.size(); ++i) {
    ::unlink(staged[i].temporary.c_str());
    unregister_temporary(staged[i].slot);
  }
}
}  // namespace

std::string write_failure(const std::string& what, int error_number) {
  std::string hint = " (does its folder exist and is it writable?)";
  if (error_number == ENOSPC || error_number == EDQUOT) {
    hint = " (free some space and run again; no output of this run was kept)";
  } else if (error_number == EFBIG) {
    hint = " (the file size limit, ulimit -f, was reached; no output of this run was kept)";
  }
  return "cannot " + what + ": " + std::strerror(error_number) + hint;
}

void write_file_now(const std::string& path, const std::string& content) {
  rename_into_place(write_temporary(path, content));
}

void write_file_atomic(const std::string& path, const std::string& content) {
  Staged staged = write_temporary(path, content);
  {
    const std::lock_guard<std::mutex> lock(g_staging_mutex);
    if (g_staging_dir && is_inside(absolute_of(path), *g_staging_dir)) {
      g_staged.push_back(std::move(staged));
      return;
    }
  }
  rename_into_place(staged);
}

void remove_temporaries_on_signals() {
  struct sigaction action {};
  action.sa_handler = remove_temporaries_and_die;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal_number, &action, nullptr);
}

ScopedTemporary::ScopedTemporary(std::string path) : m_path(std::move(path)), m_slot(register_temporary(m_path)) {}

ScopedTemporary::~ScopedTemporary() {
  if (!m_released) ::unlink(m_path.c_str());
  unregister_temporary(m_slot);
}

void ScopedTemporary::release() {
  m_released = true;
  unregister_temporary(m_slot);
  m_slot = kSlots;
}

OutputDir::OutputDir(const std::string& dir, bool force) : m_dir(dir), m_lock_fd(-1) {
  claim_output_dir(dir, force);
  const fs::path root(dir);
  const std::string lock_path = (root / kLock).string();
  m_lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (m_lock_fd < 0) throw_write_error(lock_path, "create the lock file", errno);
  if (::flock(m_lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int error_number = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(m_lock_fd, holder, sizeof holder - 1, 0);
    ::close(m_lock_fd);
    if (error_number != EWOULDBLOCK) throw_write_error(lock_path, "lock", error_number);
    const std::string pid = n > 0 ? std::string(trim(std::string_view(holder, static_cast<std::size_t>(n)))) : "";
    throw SettingError("out",
                       "another nibble run" + (pid.empty() ? std::string() : " (pid " + pid + ")") +
                           " is writing into this folder; wait for it to end or choose another " +
                           setting_ref("out"),
                       dir);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(m_lock_fd, 0) != 0 || ::pwrite(m_lock_fd, pid.data(), pid.size(), 0) < 0) {
    const int error_number = errno;
    ::close(m_lock_fd);
    throw_write_error(lock_path, "write the lock file", error_number);
  }
  try {
    write_file_now((root / kMarker).string(), kMarkerText);
  } catch (...) {
    ::close(m_lock_fd);
    throw;
  }
  const std::lock_guard<std::mutex> lock(g_staging_mutex);
  if (g_staging_dir) {
    ::close(m_lock_fd);
    throw std::logic_error("OutputDir: " + dir + " opened while " + g_staging_dir->string() + " is open");
  }
  g_staging_dir = absolute_of(dir);
}

void OutputDir::commit() {
  std::vector<Staged> staged;
  {
    const std::lock_guard<std::mutex> lock(g_staging_mutex);
    staged.swap(g_staged);
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    try {
      rename_into_place(staged[i]);
    } catch (...) {
      remove_staged(staged, i + 1);
      throw;
    }
  }
}

OutputDir::~OutputDir() {
  std::vector<Staged> staged;
  {
    const std::lock_guard<std::mutex> lock(g_staging_mutex);
    staged.swap(g_staged);
    g_staging_dir.reset();
  }
  remove_staged(staged, 0);
  // Closing the descriptor releases the flock; the file stays, so that the
  // next run finds the folder as nibble's.
  ::close(m_lock_fd);
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

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, 0, "", "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  // Read in pieces up to the cap: the size a file reports says nothing about
  // /dev/zero or a pipe, which never end.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      throw InputError(path, 0, "",
                       "larger than " + std::to_string(max_bytes >> 20) + " MiB, the most nibble reads from such a file");
    }
  }
  if (in.bad()) throw InputError(path, 0, "", "read error");
  return text;
}

void prepare_output_dir(const std::string& dir, bool force) {
  claim_output_dir(dir, force);
  write_file_now((fs::path(dir) / kMarker).string(), kMarkerText);
}

}  // namespace nibble
