// `nibble`, the program users run: answers `nibble --version` itself and
// hands every other command line to the full program, libexec/nibble-core
// next to it (`nibble scalesim` to its lean libexec/nibble-scalesim), with
// execv (same process id, arguments, environment and open files, so mpirun,
// pipes and exit codes see no difference).
//
// Why two programs: loading the full program costs tens of milliseconds of
// CPU before main() runs (docs/cli.md, "Start-up"): the dynamic loader maps and
// relocates SystemC, MPI, protobuf and ONNX, and libsystemc's static
// initializers zero-fill a 3 MiB heap. This program uses nothing but the C
// library and is linked statically, so a version query or a script that
// checks for nibble pays about what `true` costs.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace {

// Writes all of `text` to `fd`; false (errno set) when a write fails.
bool write_text(int fd, const char* text) {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(fd, text, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    text += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  // The same test as the full program's dispatch: the first argument alone decides.
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    if (write_text(STDOUT_FILENO, "nibble " NIBBLE_VERSION "\n")) return 0;
    // The same message and exit status as the full program's checked standard output.
    const char* why = std::strerror(errno);
    write_text(STDERR_FILENO, "nibble: standard output: cannot write: ");
    write_text(STDERR_FILENO, why);
    write_text(STDERR_FILENO, " (is the disk full or the file closed?)\n");
    return 2;
  }
  // The core lies at libexec/nibble-core beside this program's own file.
  char self[PATH_MAX];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    write_text(STDERR_FILENO, "nibble: internal error: cannot find this program's path (/proc/self/exe)\n");
    return 1;
  }
  self[len] = '\0';
  char* slash = std::strrchr(self, '/');
  if (slash == nullptr) slash = self;
  // `nibble scalesim` has a program of its own that links only what that
  // command uses (sim/cli/CMakeLists.txt); every other command runs in the core.
  const bool scalesim = argc >= 2 && std::strcmp(argv[1], "scalesim") == 0;
  const char* core = scalesim ? "/libexec/nibble-scalesim" : "/libexec/nibble-core";
  const std::size_t core_size = std::strlen(core) + 1;
  if (static_cast<std::size_t>(slash - self) + core_size > sizeof self) {
    write_text(STDERR_FILENO, "nibble: internal error: this program's path is too long\n");
    return 1;
  }
  std::memcpy(slash, core, core_size);
  ::execv(self, argv);
  write_text(STDERR_FILENO, "nibble: internal error: cannot run ");
  write_text(STDERR_FILENO, self);
  write_text(STDERR_FILENO, ": ");
  write_text(STDERR_FILENO, std::strerror(errno));
  write_text(STDERR_FILENO, "\n");
  return 1;
}
