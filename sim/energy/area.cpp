#include "sim/energy/area.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/design/pe_support.hpp"
#include "sim/numerics/block_dot.hpp"

namespace nibble::energy {

using numerics::Format;

std::size_t adder_index(Format acc) {
  switch (acc) {
    case Format::kInt32: return 0;
    case Format::kFp16:
    case Format::kFp16Chunked: return 1;
    case Format::kFp32: return 2;
    default: break;
  }
  throw std::logic_error("format " + std::string(numerics::format_name(acc)) + " is no accumulator");
}

bool float_adder_in_pe(const design::Design& d) {
  return d.array.pe_kind == design::PeKind::kInt4Fp4 && d.array.unsupported == design::UnsupportedOps::kMultiPass;
}

std::vector<Format> pe_adders(const design::Design& d) {
  bool used[kAdderFormats.size()] = {false, false, false};
  for (const numerics::PeMode mode : design::native_modes(d.array.pe_kind)) used[adder_index(d.accumulator(mode))] = true;
  if (float_adder_in_pe(d)) used[adder_index(d.array.acc_float)] = true;
  std::vector<Format> out;
  for (std::size_t i = 0; i < kAdderFormats.size(); ++i) {
    if (used[i]) out.push_back(kAdderFormats[i]);
  }
  return out;
}

const char* area_part_name(AreaPart part) {
  static const char* const names[kAreaPartCount] = {"pe_array",          "scratchpad_input", "scratchpad_weight",
                                                    "scratchpad_output", "vector",           "core_overhead"};
  return names[static_cast<std::size_t>(part)];
}

double AreaBreakdown::total_mm2() const {
  double sum = 0.0;
  for (const double v : mm2) sum += v;
  return sum;
}

double block_tree_bits(std::uint64_t terms) {
  const numerics::ElementFormat& e2m1 = *numerics::find_element_format("e2m1");
  const int product_bits = numerics::block_dot_sum_bits(e2m1, e2m1, 1);  // one product: 9 bits with its sign
  return static_cast<double>(design::exact_tree_adder_bits(terms, static_cast<std::uint64_t>(product_bits)));
}

double pe_area_um2(const TechTable& tech, const design::Design& d) {
  double datapath = 0.0;
  switch (d.array.pe_kind) {
    case design::PeKind::kInt4Fp4:
      // Forward GEMMs multiply INT4 x INT4; both backward GEMMs shift: the PE has both.
      datapath = tech.um2(AreaItem::kMultInt4) + tech.um2(AreaItem::kShiftInt4Fp4);
      break;
    case design::PeKind::kHfp8: datapath = tech.um2(AreaItem::kMultFp8); break;
    case design::PeKind::kFp16: datapath = tech.um2(AreaItem::kMultFp16); break;
    case design::PeKind::kFp32: datapath = tech.um2(AreaItem::kMultFp32); break;
    case design::PeKind::kBf16: datapath = tech.um2(AreaItem::kMultBf16); break;
    case design::PeKind::kFp4Block: {
      // N E2M1 multipliers with their weight (shadow, active) and activation
      // registers, one exact adder tree over the N products, and per 16
      // lanes (an NVFP4 block; MXFP4's 32 uses two of them) a scale unit and
      // an accumulator adder: N/16 block results enter the partial sum per
      // step (docs/energy-model.md, "Block-FP4 PE").
      const double n = static_cast<double>(d.array.dot_product);
      const double per_block_lanes = 16.0;
      double acc_um2 = 0.0;
      int acc_bits = 0;
      for (const Format f : pe_adders(d)) {
        acc_um2 += tech.um2(f == Format::kFp16 ? AreaItem::kAddFp16 : AreaItem::kAddFp32);
        acc_bits = std::max(acc_bits, numerics::format_bits(f));
      }
      return n * (tech.um2(AreaItem::kBlockMultE2m1) + 3.0 * 4.0 * tech.um2(AreaItem::kRegBit)) +
             block_tree_bits(d.array.dot_product) * tech.um2(AreaItem::kBlockTreeAddBit) +
             n / per_block_lanes * (tech.um2(AreaItem::kBlockScaleUnit) + acc_um2) +
             acc_bits * tech.um2(AreaItem::kRegBit);
    }
  }
  static const AreaItem kAdderArea[kAdderFormats.size()] = {AreaItem::kAddInt32, AreaItem::kAddFp16,
                                                            AreaItem::kAddFp32};
  double adders = 0.0;
  int psum_bits = 0;
  for (const Format f : pe_adders(d)) {
    adders += tech.um2(kAdderArea[adder_index(f)]);
    psum_bits = std::max(psum_bits, numerics::format_bits(f));
  }
  // Shadow + active weight registers, the activation register, the partial sum (docs/timing.md).
  const double reg_bit = tech.um2(AreaItem::kRegBit);
  const double operand_register_bits = 3.0 * design::pe_operand_bits(d.array.pe_kind);
  const double n = static_cast<double>(d.array.dot_product);
  if (d.array.dot_product == 1) return datapath + adders + (operand_register_bits + psum_bits) * reg_bit;
  if (!design::has_dot_tree(d.array)) {
    // An exact tree of floating-point products is a wide aligned adder the
    // tables have no figure for: charged as N MAC PEs, an upper bound
    // (docs/energy-model.md, "PE area").
    return n * (datapath + adders + (operand_register_bits + psum_bits) * reg_bit);
  }
  // INT4/FP4 dot-product PE: N multipliers/shifters and their shadow, active
  // and activation registers, one accumulator adder set and partial-sum
  // register, and the exact adder tree (design::dot_tree_adder_bits); an
  // adder bit is 1/32 of the 32-bit adder (adders grow linearly with width,
  // the rule of the tech tables' header).
  const double tree_bits = static_cast<double>(design::dot_tree_adder_bits(d.array));
  return n * (datapath + operand_register_bits * reg_bit) + adders + psum_bits * reg_bit +
         tree_bits * tech.um2(AreaItem::kAddInt32) / 32.0;
}

AreaBreakdown chip_area(const TechTable& tech, const design::Design& d) {
  constexpr double kUm2PerMm2 = 1e6;
  const double cores = static_cast<double>(d.cores);
  const auto spad_mm2 = [&](const design::ScratchpadConfig& s) {
    return cores * (static_cast<double>(s.capacity_bytes) / 1024.0) * tech.um2(AreaItem::kSramPerKib) / kUm2PerMm2;
  };
  AreaBreakdown out;
  out.pe_um2 = pe_area_um2(tech, d);
  // Every matrix unit's PEs, each priced by its own PE kind and accumulators.
  double pe_array_um2 = 0.0;
  for (std::size_t u = 0; u < d.unit_count(); ++u) {
    const design::ArrayConfig& a = d.unit(u).array;
    const double pe_um2 = u == 0 ? out.pe_um2 : pe_area_um2(tech, d.unit_view(u));
    pe_array_um2 += static_cast<double>(a.rows) * static_cast<double>(a.cols) * pe_um2;
  }
  out.mm2[static_cast<std::size_t>(AreaPart::kPeArray)] = cores * pe_array_um2 / kUm2PerMm2;
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadInput)] = spad_mm2(d.input);
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadWeight)] = spad_mm2(d.weight);
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadOutput)] = spad_mm2(d.output);
  out.mm2[static_cast<std::size_t>(AreaPart::kVector)] =
      cores * static_cast<double>(d.vector.lanes) * tech.um2(AreaItem::kVectorLane) / kUm2PerMm2;
  out.mm2[static_cast<std::size_t>(AreaPart::kCoreOverhead)] = cores * tech.um2(AreaItem::kCoreOverhead) / kUm2PerMm2;
  return out;
}

}  // namespace nibble::energy
