#include "sim/energy/arch_summary.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::energy {

namespace {

constexpr std::uint64_t kMaxDimension = 1u << 20;  // rows, cols, lanes, cores: a typo guard, not a limit of physics

std::string choices_message(const std::string& got, const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string suggestion = closest_match(got, names);
  return "expected one of " + list + ", got '" + got + "'" +
         (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)");
}

void check_scratchpad(const ScratchpadSummary& s, const std::string& field) {
  if (s.capacity_bytes == 0) throw InputError("", 0, field + ".capacity", "expected a capacity of at least 1 byte");
  if (s.word_bits == 0 || s.word_bits % 8 != 0 || s.word_bits > 65536) {
    throw InputError("", 0, field + ".word_bits", "expected a whole number of bytes per access (8..65536 bits), got " +
                                                      std::to_string(s.word_bits));
  }
  if (s.banks == 0) throw InputError("", 0, field + ".banks", "expected at least 1 bank");
  if (s.capacity_bytes / s.banks < s.word_bits / 8) {
    throw InputError("", 0, field + ".banks",
                     "each of the " + std::to_string(s.banks) + " banks would hold less than one " +
                         std::to_string(s.word_bits) + "-bit word of the " + std::to_string(s.capacity_bytes) +
                         "-byte scratchpad");
  }
}

}  // namespace

const char* pe_kind_name(PeKind kind) {
  switch (kind) {
    case PeKind::kInt4Fp4: return "int4-fp4";
    case PeKind::kHfp8: return "hfp8";
    case PeKind::kFp16: return "fp16";
    case PeKind::kFp32: return "fp32";
  }
  throw std::logic_error("unknown PeKind");
}

const char* acc_format_name(AccFormat format) {
  switch (format) {
    case AccFormat::kInt32: return "int32";
    case AccFormat::kFp16: return "fp16";
    case AccFormat::kFp32: return "fp32";
  }
  throw std::logic_error("unknown AccFormat");
}

PeKind parse_pe_kind(const std::string& name, const std::string& field) {
  for (const PeKind k : {PeKind::kInt4Fp4, PeKind::kHfp8, PeKind::kFp16, PeKind::kFp32}) {
    if (name == pe_kind_name(k)) return k;
  }
  throw InputError("", 0, field, choices_message(name, {"int4-fp4", "hfp8", "fp16", "fp32"}));
}

AccFormat parse_acc_format(const std::string& name, const std::string& field) {
  if (name == "fp16-chunked") return AccFormat::kFp16;
  for (const AccFormat f : {AccFormat::kInt32, AccFormat::kFp16, AccFormat::kFp32}) {
    if (name == acc_format_name(f)) return f;
  }
  throw InputError("", 0, field, choices_message(name, {"int32", "fp16", "fp16-chunked", "fp32"}));
}

int operand_bits(PeKind kind) {
  switch (kind) {
    case PeKind::kInt4Fp4: return 4;
    case PeKind::kHfp8: return 8;
    case PeKind::kFp16: return 16;
    case PeKind::kFp32: return 32;
  }
  throw std::logic_error("unknown PeKind");
}

int acc_bits(AccFormat format) { return format == AccFormat::kFp16 ? 16 : 32; }

void validate(const ArchSummary& arch) {
  const auto dimension = [](std::uint64_t v, const std::string& field) {
    if (v == 0 || v > kMaxDimension) {
      throw InputError("", 0, field, "expected a whole number in [1, " + std::to_string(kMaxDimension) + "], got " +
                                         std::to_string(v));
    }
  };
  dimension(arch.rows, "array.rows");
  dimension(arch.cols, "array.cols");
  dimension(arch.cores, "cores");
  dimension(arch.vector_lanes, "vector.lanes");
  if (!std::isfinite(arch.clock_mhz) || !(arch.clock_mhz > 0.0)) {
    throw InputError("", 0, "clock_mhz", "expected a positive, finite clock, got " + format_double(arch.clock_mhz));
  }
  check_scratchpad(arch.input, "scratchpads.input");
  check_scratchpad(arch.weight, "scratchpads.weight");
  check_scratchpad(arch.output, "scratchpads.output");
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

std::vector<AccFormat> pe_adders(const ArchSummary& arch) {
  bool used[3] = {false, false, false};
  if (arch.pe_kind == PeKind::kInt4Fp4) {
    used[static_cast<std::size_t>(arch.acc_int4)] = true;
    used[static_cast<std::size_t>(arch.acc_fp4)] = true;
    if (arch.float_adder_in_pe) used[static_cast<std::size_t>(arch.acc_float)] = true;
  } else {
    used[static_cast<std::size_t>(arch.acc_float)] = true;
  }
  std::vector<AccFormat> out;
  for (const AccFormat f : {AccFormat::kInt32, AccFormat::kFp16, AccFormat::kFp32}) {
    if (used[static_cast<std::size_t>(f)]) out.push_back(f);
  }
  return out;
}

AccFormat mode_accumulator(const ArchSummary& arch, bool int4_mode, bool fp4_mode) {
  if (int4_mode) return arch.acc_int4;
  if (fp4_mode) return arch.acc_fp4;
  return arch.acc_float;
}

double pe_area_um2(const TechTable& tech, const ArchSummary& arch) {
  double datapath = 0.0;
  switch (arch.pe_kind) {
    case PeKind::kInt4Fp4:
      // Forward GEMMs multiply INT4 x INT4; both backward GEMMs shift: the PE has both.
      datapath = tech.um2(AreaItem::kMultInt4) + tech.um2(AreaItem::kShiftInt4Fp4);
      break;
    case PeKind::kHfp8: datapath = tech.um2(AreaItem::kMultFp8); break;
    case PeKind::kFp16: datapath = tech.um2(AreaItem::kMultFp16); break;
    case PeKind::kFp32: datapath = tech.um2(AreaItem::kMultFp32); break;
  }
  double adders = 0.0;
  int psum_bits = 0;
  for (const AccFormat f : pe_adders(arch)) {
    switch (f) {
      case AccFormat::kInt32: adders += tech.um2(AreaItem::kAddInt32); break;
      case AccFormat::kFp16: adders += tech.um2(AreaItem::kAddFp16); break;
      case AccFormat::kFp32: adders += tech.um2(AreaItem::kAddFp32); break;
    }
    psum_bits = std::max(psum_bits, acc_bits(f));
  }
  // Shadow + active weight registers, the activation register, the partial sum (docs/timing.md).
  const double register_bits = 3.0 * operand_bits(arch.pe_kind) + psum_bits;
  return datapath + adders + register_bits * tech.um2(AreaItem::kRegBit);
}

AreaBreakdown chip_area(const TechTable& tech, const ArchSummary& arch) {
  validate(arch);
  constexpr double kUm2PerMm2 = 1e6;
  const double cores = static_cast<double>(arch.cores);
  const auto spad_mm2 = [&](const ScratchpadSummary& s) {
    return cores * (static_cast<double>(s.capacity_bytes) / 1024.0) * tech.um2(AreaItem::kSramPerKib) / kUm2PerMm2;
  };
  AreaBreakdown out;
  out.pe_um2 = pe_area_um2(tech, arch);
  out.mm2[static_cast<std::size_t>(AreaPart::kPeArray)] =
      cores * static_cast<double>(arch.rows) * static_cast<double>(arch.cols) * out.pe_um2 / kUm2PerMm2;
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadInput)] = spad_mm2(arch.input);
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadWeight)] = spad_mm2(arch.weight);
  out.mm2[static_cast<std::size_t>(AreaPart::kScratchpadOutput)] = spad_mm2(arch.output);
  out.mm2[static_cast<std::size_t>(AreaPart::kVector)] =
      cores * static_cast<double>(arch.vector_lanes) * tech.um2(AreaItem::kVectorLane) / kUm2PerMm2;
  out.mm2[static_cast<std::size_t>(AreaPart::kCoreOverhead)] = cores * tech.um2(AreaItem::kCoreOverhead) / kUm2PerMm2;
  return out;
}

}  // namespace nibble::energy
