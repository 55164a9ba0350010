// Dense float tensors in NCHW order, the only tensor type of the emulator.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nibble::train {

/// Batch, channels, height, width. Fully-connected activations are (n, c, 1, 1).
struct Shape {
  std::size_t n = 0;  ///< samples
  std::size_t c = 0;  ///< channels or features
  std::size_t h = 1;  ///< height
  std::size_t w = 1;  ///< width

  std::size_t per_sample() const { return c * h * w; }  ///< elements of one sample
  std::size_t numel() const { return n * per_sample(); }  ///< elements in all
  std::size_t plane() const { return h * w; }             ///< elements of one channel of one sample
  bool operator==(const Shape& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  /// "n x c x h x w", for messages.
  std::string str() const;
};

/// A shape and its elements; element (n, c, y, x) at ((n * c_ + c) * h + y) * w + x.
struct Tensor {
  Shape shape;              ///< dimensions
  std::vector<float> data;  ///< shape.numel() elements

  /// Sets the shape and sizes the storage (contents unspecified after growth).
  void resize(const Shape& s) {
    shape = s;
    data.resize(s.numel());
  }
  /// Sets the shape and fills with zeros.
  void zeros(const Shape& s) {
    shape = s;
    data.assign(s.numel(), 0.0f);
  }
  float* sample(std::size_t i) { return data.data() + i * shape.per_sample(); }  ///< first element of sample i
  const float* sample(std::size_t i) const { return data.data() + i * shape.per_sample(); }  ///< same, read-only
};

}  // namespace nibble::train
