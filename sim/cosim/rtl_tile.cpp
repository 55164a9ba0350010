#include "sim/cosim/rtl_tile.hpp"

#include <algorithm>
#include <utility>

namespace nibble::cosim {

std::string rtl_size_list() {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sizes;
  for (const auto& variant : rtl_variants()) {
    const std::pair<std::uint64_t, std::uint64_t> size{variant.rows, variant.cols};
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) sizes.push_back(size);
  }
  std::string out;
  for (const auto& [rows, cols] : sizes) {
    if (!out.empty()) out += ", ";
    out += std::to_string(rows) + "x" + std::to_string(cols);
  }
  return out;
}

std::unique_ptr<RtlTile> make_rtl_tile(const char* name, sc_core::sc_signal_in_if<bool>& clk,
                                       std::uint64_t rows, std::uint64_t cols, WaveFormat wave) {
  for (const auto& variant : rtl_variants()) {
    if (variant.rows == rows && variant.cols == cols && variant.wave == wave) return variant.make(name, clk);
  }
  return nullptr;
}

}  // namespace nibble::cosim
