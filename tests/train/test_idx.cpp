// The IDX loader: real Fashion-MNIST files, and every documented error
// (magic, type, rank, truncated data, trailing bytes, truncated gzip, bad label).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "models/train/idx.hpp"
#include "sim/common/error.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble::train {
namespace {

namespace fs = std::filesystem;

/// An IDX image file header for count x rows x cols, followed by `data`.
std::vector<std::uint8_t> idx3(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                               const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out{0, 0, 8, 3};
  for (std::uint32_t v : {count, rows, cols}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<std::uint8_t> idx1(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> out{0, 0, 8, 1};
  const auto n = static_cast<std::uint32_t>(labels.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void write_gzip(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

void write_plain(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

/// Runs `fn`, expects an InputError, returns it.
template <typename Fn>
InputError expect_error(Fn fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return InputError("", 0, "", "");
}

TEST(Idx, ParsesHeaderAndData) {
  const IdxArray a = parse_idx("mem", idx3(2, 2, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), 3);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{2, 2, 3}));
  ASSERT_EQ(a.data.size(), 12u);
  EXPECT_EQ(a.data[11], 12);
}

TEST(Idx, RejectsBadMagicTypeAndRank) {
  auto bytes = idx3(1, 1, 1, {0});
  bytes[0] = 0x1f;  // e.g. a gzip file read as plain IDX
  EXPECT_EQ(expect_error([&] { parse_idx("f", bytes, 3); }).field(), "magic");
  bytes = idx3(1, 1, 1, {0});
  bytes[2] = 0x0d;  // float elements
  const InputError type = expect_error([&] { parse_idx("f", bytes, 3); });
  EXPECT_NE(type.message().find("element type 13, expected 8"), std::string::npos) << type.what();
  const InputError rank = expect_error([&] { parse_idx("f", idx1({1, 2}), 3); });
  EXPECT_NE(rank.message().find("1 dimensions, expected 3"), std::string::npos) << rank.what();
}

TEST(Idx, TruncatedDataNamesTheByteOffset) {
  // 2 x 2 x 2 declares 8 pixels after the 16-byte header; 5 are present, so
  // the file ends at byte 16 + 5 = 21.
  const InputError e = expect_error([&] { parse_idx("cut.idx", idx3(2, 2, 2, {1, 2, 3, 4, 5}), 3); });
  EXPECT_EQ(e.file(), "cut.idx");
  EXPECT_EQ(e.field(), "data");
  EXPECT_EQ(e.message(), "truncated at byte 21: the header declares 8 elements after the 16-byte header, found 5");
}

TEST(Idx, HeaderCutShortAndTrailingBytes) {
  const std::vector<std::uint8_t> header_only{0, 0, 8, 3, 0, 0, 0, 1, 0, 0};
  EXPECT_EQ(expect_error([&] { parse_idx("f", header_only, 3); }).field(), "dims");
  const InputError extra = expect_error([&] { parse_idx("f", idx3(1, 1, 2, {1, 2, 3}), 3); });
  EXPECT_EQ(extra.field(), "data");
  EXPECT_NE(extra.message().find("1 unexpected bytes after byte 18"), std::string::npos) << extra.what();
}

TEST(Idx, TruncatedGzipIsAnInputError) {
  const fs::path dir = test::fresh_dir("test_idx_gzip");
  std::vector<std::uint8_t> pixels(5000);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7919 % 251);
  write_gzip(dir / "whole.gz", idx3(5, 25, 40, pixels));
  EXPECT_EQ(read_idx((dir / "whole.gz").string(), 3).data, pixels);
  // Cut the compressed file in half: zlib reports an unexpected end of stream.
  const auto size = fs::file_size(dir / "whole.gz");
  fs::copy_file(dir / "whole.gz", dir / "cut.gz");
  fs::resize_file(dir / "cut.gz", size / 2);
  const InputError e = expect_error([&] { read_idx((dir / "cut.gz").string(), 3); });
  EXPECT_EQ(e.file(), (dir / "cut.gz").string());
  EXPECT_EQ(e.field(), "gzip");
  EXPECT_EQ(e.message().rfind("truncated compressed stream", 0), 0u) << e.what();
  fs::remove_all(dir);
}

TEST(Idx, ImageSetChecksLabels) {
  const fs::path dir = test::fresh_dir("test_idx_labels");
  write_plain(dir / "img", idx3(3, 28, 28, std::vector<std::uint8_t>(3 * 784, 1)));
  write_plain(dir / "lab", idx1({0, 9, 10}));
  const InputError bad = expect_error([&] { read_image_set((dir / "img").string(), (dir / "lab").string(), 28, 28); });
  // Label 2 sits at byte 8 (header) + 2 = 10.
  EXPECT_EQ(bad.message(), "byte 10: label 10 of image 2, expected 0..9");
  write_plain(dir / "lab", idx1({0, 9}));
  EXPECT_NE(expect_error([&] { read_image_set((dir / "img").string(), (dir / "lab").string(), 28, 28); })
                .message()
                .find("2 labels, expected one per image"),
            std::string::npos);
  const InputError size = expect_error([&] { read_image_set((dir / "img").string(), (dir / "lab").string(), 32, 32); });
  EXPECT_EQ(size.field(), "dims");
  fs::remove_all(dir);
}

// The data folder is a setting (nibble train --data), located in the path it names.
TEST(Idx, MissingDatasetFolderAndFiles) {
  const auto error_of = [](const std::string& dir) {
    try {
      load_dataset(dir);
    } catch (const SettingError& e) {
      return e;
    }
    ADD_FAILURE() << "expected a SettingError";
    return SettingError("", "");
  };
  const SettingError folder = error_of("/nonexistent/nibble-data");
  EXPECT_EQ(folder.setting(), "data");
  EXPECT_EQ(folder.file(), "/nonexistent/nibble-data");
  const fs::path dir = test::fresh_dir("test_idx_missing");
  const SettingError e = error_of(dir.string());
  EXPECT_EQ(e.setting(), "data");
  EXPECT_EQ(e.file(), (dir / "train-images-idx3-ubyte").string() + "[.gz]") << e.what();
  fs::remove_all(dir);
}

TEST(Idx, LoadsFashionMnist) {
  if (!fs::exists(std::string(kDefaultDataDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)";
  }
  const Dataset d = load_dataset(kDefaultDataDir);
  EXPECT_EQ(d.train.count, 60000u);
  EXPECT_EQ(d.test.count, 10000u);
  EXPECT_EQ(d.train.pixels.size(), 60000u * 784u);
  // First labels of the published files: train 9 0 0 3 0, test 9 2 1 1 6.
  EXPECT_EQ(std::vector<int>(d.train.labels.begin(), d.train.labels.begin() + 5), (std::vector<int>{9, 0, 0, 3, 0}));
  EXPECT_EQ(std::vector<int>(d.test.labels.begin(), d.test.labels.begin() + 5), (std::vector<int>{9, 2, 1, 1, 6}));
  // The first training image's pixels sum to 76,247 (checked with an independent reader).
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < 784; ++i) sum += d.train.pixels[i];
  EXPECT_EQ(sum, 76247u);
}

}  // namespace
}  // namespace nibble::train
