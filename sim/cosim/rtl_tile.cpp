#include "sim/cosim/rtl_tile.hpp"

#include <algorithm>
#include <utility>

#include "sim/common/error.hpp"

namespace nibble::cosim {

std::string rtl_size_list() {
  std::vector<std::string> sizes;
  for (const auto& variant : rtl_variants()) {
    std::string size = std::to_string(variant.rows) + "x" + std::to_string(variant.cols);
    if (variant.dot != 1) size += " " + setting_ref("dot") + " " + std::to_string(variant.dot);
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) sizes.push_back(size);
  }
  std::string out;
  for (const auto& size : sizes) {
    if (!out.empty()) out += ", ";
    out += size;
  }
  return out;
}

std::unique_ptr<RtlTile> make_rtl_tile(const char* name, sc_core::sc_signal_in_if<bool>& clk,
                                       std::uint64_t rows, std::uint64_t cols, std::uint64_t dot, WaveFormat wave) {
  for (const auto& variant : rtl_variants()) {
    if (variant.rows == rows && variant.cols == cols && variant.dot == dot && variant.wave == wave) {
      return variant.make(name, clk);
    }
  }
  return nullptr;
}

}  // namespace nibble::cosim
