// Fashion-MNIST for the training tests and benchmarks, loaded once per process.
#pragma once

#include <filesystem>
#include <string>

#include "models/train/idx.hpp"

namespace nibble::test {

/// The data set installed at train::kDefaultDataDir (make deps), loaded on the
/// first call; nullptr when it is not installed, so a caller can say so.
inline const train::Dataset* fashion_mnist() {
  static const train::Dataset* data = []() -> const train::Dataset* {
    if (!std::filesystem::exists(std::string(train::kDefaultDataDir) + "/train-images-idx3-ubyte.gz")) return nullptr;
    return new train::Dataset(train::load_dataset(train::kDefaultDataDir));  // lives until exit
  }();
  return data;
}

}  // namespace nibble::test
