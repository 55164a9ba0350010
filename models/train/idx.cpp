#include "models/train/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/common/error.hpp"

namespace nibble::train {

namespace {

constexpr std::uint8_t kTypeUnsignedByte = 0x08;
constexpr std::size_t kMaxDecompressed = std::size_t{1} << 31;  ///< 2 GiB: far above any image set

std::uint32_t be32(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
         (std::uint32_t{bytes[offset + 2]} << 8) | std::uint32_t{bytes[offset + 3]};
}

std::string at_byte(std::size_t offset) { return "byte " + std::to_string(offset); }

/// Decompresses (or copies, for a plain file) the whole of `path`.
std::vector<std::uint8_t> read_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError(path, 0, "", "no such file (expected an IDX file, gzip-compressed or not)");
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw InputError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::uint8_t> out;
  // 64 KiB: zero-filling a larger buffer cost more than reading small files.
  std::vector<std::uint8_t> chunk(std::size_t{1} << 16);
  for (;;) {
    const int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const std::string what = gzerror(file, &code);
      gzclose(file);
      // zlib says Z_BUF_ERROR ("unexpected end of file") when the compressed
      // stream stops before its end marker: the file was cut short.
      if (code == Z_BUF_ERROR) {
        throw InputError(path, 0, "gzip", "truncated compressed stream: it ends after " + std::to_string(out.size()) +
                                              " decompressed bytes; expected a complete gzip file");
      }
      throw InputError(path, 0, "gzip", "corrupt compressed stream after " + std::to_string(out.size()) +
                                            " decompressed bytes: " + what);
    }
    if (got == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + got);
    if (out.size() > kMaxDecompressed) {
      gzclose(file);
      throw InputError(path, 0, "", "decompresses to more than 2 GiB; expected an image dataset");
    }
  }
  // gzread returns 0 both at a clean end and at a stream cut short; only
  // gzerror tells them apart ("unexpected end of file" is Z_BUF_ERROR).
  int code = Z_OK;
  const std::string what = gzerror(file, &code);
  gzclose(file);
  if (code == Z_BUF_ERROR) {
    throw InputError(path, 0, "gzip", "truncated compressed stream: it ends after " + std::to_string(out.size()) +
                                          " decompressed bytes; expected a complete gzip file");
  }
  if (code != Z_OK && code != Z_STREAM_END) {
    throw InputError(path, 0, "gzip", "corrupt compressed stream after " + std::to_string(out.size()) +
                                          " decompressed bytes: " + what);
  }
  return out;
}

std::string pick_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const std::string& candidate : {name + ".gz", name}) {
    const fs::path path = fs::path(dir) / candidate;
    if (fs::is_regular_file(path, ec)) return path.string();
  }
  throw SettingError("data",
                     "missing; expected the four MNIST-layout IDX files (train-images-idx3-ubyte, "
                     "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), gzip or plain",
                     (fs::path(dir) / name).string() + "[.gz]");
}

}  // namespace

IdxArray parse_idx(const std::string& file, const std::vector<std::uint8_t>& bytes, int expected_rank) {
  if (bytes.size() < 4) {
    throw InputError(file, 0, "magic", "file is " + std::to_string(bytes.size()) +
                                           " bytes long; expected at least the 4-byte IDX magic number");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw InputError(file, 0, "magic", at_byte(0) + ": expected the IDX magic 00 00 08 0" +
                                           std::to_string(expected_rank) + ", found a file that is not IDX");
  }
  if (bytes[2] != kTypeUnsignedByte) {
    throw InputError(file, 0, "magic", at_byte(2) + ": element type " + std::to_string(bytes[2]) +
                                           ", expected 8 (unsigned byte)");
  }
  const int rank = bytes[3];
  if (rank != expected_rank) {
    throw InputError(file, 0, "magic", at_byte(3) + ": " + std::to_string(rank) + " dimensions, expected " +
                                           std::to_string(expected_rank) +
                                           (expected_rank == 3 ? " (an image file)" : " (a label file)"));
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
  if (bytes.size() < header) {
    throw InputError(file, 0, "dims", "header cut short at " + at_byte(bytes.size()) + ": expected " +
                                          std::to_string(header) + " header bytes");
  }
  IdxArray out;
  std::uint64_t elements = 1;
  for (int d = 0; d < rank; ++d) {
    const std::uint32_t size = be32(bytes, 4 + 4 * static_cast<std::size_t>(d));
    if (size == 0) {
      throw InputError(file, 0, "dims[" + std::to_string(d) + "]",
                       at_byte(4 + 4 * static_cast<std::size_t>(d)) + ": size 0, expected at least 1");
    }
    out.dims.push_back(size);
    elements *= size;  // at most three 32-bit factors checked below against the real length
    if (elements > kMaxDecompressed) {
      throw InputError(file, 0, "dims", "declares " + std::to_string(elements) +
                                            "+ elements; expected an image dataset under 2 GiB");
    }
  }
  const std::size_t have = bytes.size() - header;
  if (have < elements) {
    throw InputError(file, 0, "data", "truncated at " + at_byte(bytes.size()) + ": the header declares " +
                                          std::to_string(elements) + " elements after the " +
                                          std::to_string(header) + "-byte header, found " +
                                          std::to_string(have));
  }
  if (have > elements) {
    throw InputError(file, 0, "data", std::to_string(have - elements) + " unexpected bytes after " +
                                          at_byte(header + elements) + " (the header declares " +
                                          std::to_string(elements) + " elements)");
  }
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

IdxArray read_idx(const std::string& path, int expected_rank) {
  return parse_idx(path, read_maybe_gzip(path), expected_rank);
}

ImageSet read_image_set(const std::string& images_path, const std::string& labels_path, std::uint32_t rows,
                        std::uint32_t cols) {
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  if (images.dims[1] != rows || images.dims[2] != cols) {
    throw InputError(images_path, 0, "dims",
                     "images are " + std::to_string(images.dims[1]) + " x " + std::to_string(images.dims[2]) +
                         ", expected " + std::to_string(rows) + " x " + std::to_string(cols));
  }
  if (labels.dims[0] != images.dims[0]) {
    throw InputError(labels_path, 0, "dims[0]",
                     std::to_string(labels.dims[0]) + " labels, expected one per image of " + images_path + " (" +
                         std::to_string(images.dims[0]) + ")");
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kClasses) {
      throw InputError(labels_path, 0, "data",
                       at_byte(8 + i) + ": label " + std::to_string(labels.data[i]) + " of image " +
                           std::to_string(i) + ", expected 0.." + std::to_string(kClasses - 1));
    }
  }
  ImageSet set;
  set.count = images.dims[0];
  set.rows = rows;
  set.cols = cols;
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

Dataset load_dataset(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw SettingError("data", "not a directory; expected a folder of MNIST-layout IDX files", dir);
  }
  // Looked up one after the other, so the first missing file is the one named.
  const std::string train_images = pick_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = pick_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = pick_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = pick_file(dir, "t10k-labels-idx1-ubyte");
  Dataset data;
  data.train = read_image_set(train_images, train_labels, 28, 28);
  data.test = read_image_set(test_images, test_labels, 28, 28);
  return data;
}

}  // namespace nibble::train
