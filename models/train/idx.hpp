// IDX files (LeCun's MNIST layout, also used by Fashion-MNIST), plain or gzip.
//
// An IDX file is a big-endian header -- two zero bytes, a type byte (0x08 =
// unsigned byte, the only type image datasets use), the number of dimensions
// -- then one 32-bit big-endian size per dimension, then the elements in
// row-major order. Every check reports an InputError naming the file, the
// field and, for binary positions, the byte offset in the decompressed data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nibble::train {

/// One IDX array of unsigned bytes.
struct IdxArray {
  std::vector<std::uint32_t> dims;  ///< sizes, outermost first (e.g. 60000, 28, 28)
  std::vector<std::uint8_t> data;   ///< product(dims) elements, row-major
};

/// Decodes an IDX array from `bytes` (already decompressed); `file` only names
/// the source in errors. `expected_rank` is the number of dimensions required.
IdxArray parse_idx(const std::string& file, const std::vector<std::uint8_t>& bytes, int expected_rank);

/// Reads `path` (gzip-compressed or not; zlib reads both) and decodes it. A
/// truncated gzip stream, a bad magic number, a wrong rank or too few or too
/// many bytes is an InputError.
IdxArray read_idx(const std::string& path, int expected_rank);

/// A labelled image set, pixels as bytes (normalised later by the trainer).
struct ImageSet {
  std::uint32_t count = 0;           ///< number of images
  std::uint32_t rows = 0;            ///< image height
  std::uint32_t cols = 0;            ///< image width
  std::vector<std::uint8_t> pixels;  ///< count * rows * cols, row-major per image
  std::vector<std::uint8_t> labels;  ///< count labels, each < kClasses
};

/// Classes in every dataset the emulator reads (Fashion-MNIST, MNIST).
inline constexpr int kClasses = 10;

/// Reads `images_path` (rank 3) and `labels_path` (rank 1) and checks that
/// they agree: same count, labels below kClasses, images `rows` x `cols`.
ImageSet read_image_set(const std::string& images_path, const std::string& labels_path,
                        std::uint32_t rows, std::uint32_t cols);

/// The training and test sets of an MNIST-layout directory.
struct Dataset {
  ImageSet train;  ///< train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz]
  ImageSet test;   ///< t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]
};

/// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";

/// Loads the four files of `dir` (each name with or without ".gz"); images
/// must be 28 x 28. A missing file is an InputError naming what was looked for.
Dataset load_dataset(const std::string& dir);

}  // namespace nibble::train
