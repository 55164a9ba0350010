// How a convolution's window steps over its input. One definition for the
// network layer (models::ConvParams) and the trace's conv op
// (workloads::ConvGeometry), which both carry it.
#pragma once

#include <cstdint>

namespace nibble::models {

/// Strides, padding, dilation and channel groups of a convolution.
struct ConvWindow {
  std::uint64_t stride_h = 1;    ///< vertical stride
  std::uint64_t stride_w = 1;    ///< horizontal stride
  std::uint64_t pad_h = 0;       ///< padding, top and bottom
  std::uint64_t pad_w = 0;       ///< padding, left and right
  std::uint64_t dilation_h = 1;  ///< vertical dilation
  std::uint64_t dilation_w = 1;  ///< horizontal dilation
  std::uint64_t groups = 1;      ///< channel groups (C for depthwise)
};

inline bool operator==(const ConvWindow& a, const ConvWindow& b) {
  return a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_h == b.pad_h && a.pad_w == b.pad_w &&
         a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w && a.groups == b.groups;
}

}  // namespace nibble::models
