// Linked into the programs that load libsystemc (libexec/nibble-core and
// libexec/nibble-scalesim), never into a library: .preinit_array only runs in
// an executable.
//
// Why: libsystemc's static initializers allocate and zero-fill a 3 MiB heap
// (sc_temp_heap) before main(). From glibc's default mmap path that is 768
// fresh 4 KiB pages, one page fault each, and on this project's virtual
// machines a fault costs 10-15 us: about 10 ms, more than everything else the
// program does before main (docs/cli.md, "Start-up"). Functions in the
// executable's .preinit_array run before every shared library's initializers,
// so this one can prepare the heap the 3 MiB block will come from: a 2 MiB
// aligned stretch of the program break, advised for transparent huge pages, so
// the zero-fill costs two faults. Only speed changes: every allocation still
// comes from glibc's malloc, and where huge pages are off or the break cannot
// move, the advice simply has no effect.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

// AddressSanitizer's allocator replaces glibc's, so the tuning below has
// nothing to act on there (GCC names it __SANITIZE_ADDRESS__, clang a feature).
#if defined(__SANITIZE_ADDRESS__)
#define NIBBLE_EARLY_HEAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NIBBLE_EARLY_HEAP 0
#endif
#endif
#ifndef NIBBLE_EARLY_HEAP
#define NIBBLE_EARLY_HEAP 1
#endif

#if NIBBLE_EARLY_HEAP
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;  // x86-64's transparent huge page
// Two huge pages for libsystemc's 3 MiB block and what the libraries allocate
// before it (libstdc++'s 73 KiB exception pool, SystemC's registries), plus
// room for the page below them and malloc's first chunks.
constexpr std::size_t kReserve = std::size_t{5} << 20;

void prepare_heap(int, char**, char**) {
  // Blocks up to 8 MiB from the break instead of a mapping each (the 3 MiB one
  // above all), and the break kept when they are freed, so the stretch
  // prepared here is where the next allocations go.
  if (::mallopt(M_MMAP_THRESHOLD, 8 << 20) == 0 || ::mallopt(M_TRIM_THRESHOLD, 16 << 20) == 0) return;
  // A huge page can only back a 2 MiB range no page of which is mapped yet, so
  // the heap's top is moved to one page below a 2 MiB boundary: the chunk
  // headers and the thread cache malloc writes there land in that page, and
  // the huge pages above it stay untouched until the advice below is in place. glibc's malloc
  // accepts a break moved by someone else ("foreign sbrk") and goes on from it.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto brk = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  if (brk == static_cast<std::uintptr_t>(-1)) return;
  const std::uintptr_t top = ((brk + page + kHugePage - 1) & ~(kHugePage - 1)) - page;
  if (::sbrk(static_cast<intptr_t>(top - brk)) == reinterpret_cast<void*>(-1)) return;
  void* block = std::malloc(kReserve);
  if (block == nullptr) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(block) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(block) + kReserve) & ~(kHugePage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  // Back to the top of the heap, untouched: no page is faulted in here.
  std::free(block);
}

}  // namespace

__attribute__((section(".preinit_array"), used)) void (*const nibble_prepare_heap)(int, char**, char**) = prepare_heap;
#endif
