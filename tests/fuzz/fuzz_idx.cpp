// Fuzz target: IDX arrays (models/train/idx.hpp). Any input must decode or
// raise InputError, both as an image file (rank 3) and as a label file
// (rank 1); an array that decodes holds exactly product(dims) bytes, each
// dimension at least 1. parse_idx takes the decompressed bytes, as read_idx
// passes them; an input starting with the gzip magic (1f 8b) is also written
// to a file and read by read_idx, so zlib's errors on a corrupt or truncated
// stream go through the same contract.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "models/train/idx.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

/// The checks on an array decoded with `rank` from a file of `decoded_size` bytes.
void check_array(const nibble::train::IdxArray& array, int rank, std::size_t decoded_size) {
  using nibble::fuzz::check;
  check(array.dims.size() == static_cast<std::size_t>(rank), "decoded with the wrong rank");
  std::uint64_t elements = 1;
  for (const std::uint32_t d : array.dims) {
    check(d >= 1, "a dimension of size 0 was accepted");
    elements *= d;
  }
  check(array.data.size() == elements, "the data does not hold product(dims) bytes");
  check(decoded_size == 4 + 4 * static_cast<std::size_t>(rank) + elements, "bytes left over or missing");
}

/// A file in /tmp named after the process (libFuzzer may run several),
/// removed when the process exits.
struct TempFile {
  std::string path = "/tmp/nibble-fuzz-idx-" + std::to_string(::getpid()) + ".gz";
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  const std::vector<std::uint8_t> bytes(data, data + size);
  for (const int rank : {1, 3}) {
    std::optional<train::IdxArray> array;
    if (fuzz::accepts("parse_idx", [&] { array = train::parse_idx("fuzz.idx", bytes, rank); })) {
      check_array(*array, rank, size);
    }
  }
  if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) return 0;
  static const TempFile temp;  // rewritten for each input
  const std::string& path = temp.path;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  const bool written = std::fwrite(data, 1, size, file) == size;
  std::fclose(file);
  if (!written) return 0;
  for (const int rank : {1, 3}) {
    std::optional<train::IdxArray> array;
    if (fuzz::accepts("read_idx", [&] { array = train::read_idx(path, rank); })) {
      check_array(*array, rank, 4 + 4 * static_cast<std::size_t>(rank) + array->data.size());
    }
  }
  return 0;
}
