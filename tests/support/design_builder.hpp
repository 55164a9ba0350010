// Designs built in code for tests that need a design::Design without a file
// (the energy model, iso-area sizing, the fuzz targets' energy probe).
#pragma once

#include <cstdint>
#include <string>

#include "sim/design/design.hpp"

namespace nibble::test {

/// One scratchpad of `capacity_bytes` in `banks` banks of `word_bits` words,
/// one port, double buffered.
inline design::ScratchpadConfig scratchpad(std::uint64_t capacity_bytes, std::uint64_t word_bits,
                                           std::uint64_t banks) {
  design::ScratchpadConfig s;
  s.capacity_bytes = capacity_bytes;
  s.word_bits = word_bits;
  s.banks = banks;
  return s;
}

/// A design that passes design::validate_design: one core at 1 GHz with a
/// weight-stationary `rows` x `cols` array of `kind` PEs and the default
/// accumulators (int4: int32, fp4: fp16, float: fp32), three 64 KiB
/// scratchpads of one bank of 64-bit words, one vector lane at one cycle per
/// element, a 64-byte-per-cycle DRAM. Tests set the fields they pin.
inline design::Design test_design(const std::string& name, design::PeKind kind, std::uint64_t rows,
                                  std::uint64_t cols) {
  design::Design d;
  d.name = name;
  d.array.pe_kind = kind;
  d.array.rows = rows;
  d.array.cols = cols;
  d.input = d.weight = d.output = scratchpad(64 * 1024, 64, 1);
  d.dram.bandwidth_bytes_per_cycle = 64;
  d.dram.burst_bytes = 64;
  for (const auto kind : design::keyed_vector_kinds()) d.vector.cycles_per_element.at(static_cast<std::size_t>(kind)) = 1;
  return d;
}

}  // namespace nibble::test
