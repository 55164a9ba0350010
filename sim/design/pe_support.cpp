#include "sim/design/pe_support.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/common/error.hpp"
#include "sim/design/trace_names.hpp"
#include "sim/numerics/block_dot.hpp"

namespace nibble::design {

using numerics::Format;
using numerics::PeMode;

namespace {

bool is_int4(Format f) { return f == Format::kInt4 || f == Format::kUint4; }
bool is_fp8(Format f) { return f == Format::kFp8E4M3 || f == Format::kFp8E5M2; }

// Significand bits of a format including a sign bit, the width a slice of a
// multi-pass op must cover (uint4 needs a fifth bit to be signed).
int significand_bits(Format f) {
  switch (f) {
    case Format::kInt4: return 4;
    case Format::kUint4: return 5;
    case Format::kFp4:
    case Format::kFp4Radix2: return 2;   // sign + implicit 1, no mantissa
    case Format::kFp8E4M3: return 5;     // sign + implicit 1 + 3
    case Format::kFp8E5M2: return 4;     // sign + implicit 1 + 2
    case Format::kFp16: return 12;       // sign + implicit 1 + 10
    case Format::kFp32: return 25;       // sign + implicit 1 + 23
    // Block formats: the element's significand; the block scale is an exponent
    // offset the shift datapath applies per block.
    case Format::kMxfp4:
    case Format::kNvfp4: return 3;       // e2m1: sign + implicit 1 + 1
    case Format::kMxfp8E4M3: return 5;
    case Format::kMxfp8E5M2: return 4;
    case Format::kBf16: return 9;        // sign + implicit 1 + 7
    default: return 32;
  }
}

// Significand width (with sign) one pass of the PE kind's multiplier takes.
int slice_bits(PeKind kind) {
  switch (kind) {
    case PeKind::kInt4Fp4: return 4;
    case PeKind::kHfp8: return 5;
    case PeKind::kFp16: return 12;
    case PeKind::kFp32: return 25;
    case PeKind::kFp4Block: return 3;  // e2m1: sign + implicit 1 + 1 (no multi-pass: design validation)
    case PeKind::kBf16: return 9;       // sign + implicit 1 + 7
  }
  return 4;
}

// True when every value of `f` is exactly representable in the PE kind's
// operand format, so the op runs there in one pass (docs/design-file.md).
bool promotable(Format f, PeKind kind, int fp4_bias) {
  switch (kind) {
    case PeKind::kInt4Fp4:
    case PeKind::kFp4Block: return false;  // nothing is narrower than its own 4-bit datapath
    case PeKind::kHfp8:
      // int4/uint4 fit e4m3 (3 mantissa bits cover 0..15); radix-4 FP4 values
      // 4^(1-bias)..4^(7-bias) fit e5m2 (2^-16..2^15) while bias <= 9.
      return is_int4(f) || is_fp8(f) || (f == Format::kFp4 && fp4_bias <= 9) || f == Format::kFp4Radix2;
    case PeKind::kFp16:
      // FP16 holds 2^-24..65504: FP4 down to 4^(1-bias) while bias <= 13; all FP8 values.
      return is_int4(f) || is_fp8(f) || f == Format::kFp16 || (f == Format::kFp4 && fp4_bias <= 13) ||
             f == Format::kFp4Radix2;
    case PeKind::kFp32:
      // Block formats too: element x block scale is exact in FP32 (at most 4
      // significand bits, exponents within FP32's range for FP32 inputs); the
      // NVFP4 tensor scale multiplies the result, as on NVFP4 hardware.
      return f != Format::kInt32 && f != Format::kFp16Chunked;
    case PeKind::kBf16:
      // BF16 has FP32's exponent range and 8 significand bits: INT4, FP8 and
      // radix-4 FP4 values (at most 4 significand bits) are exact in it.
      return is_int4(f) || is_fp8(f) || f == Format::kFp4 || f == Format::kFp4Radix2 || f == Format::kBf16;
  }
  return false;
}

PeMode pe_float_mode(PeKind kind) {
  switch (kind) {
    case PeKind::kHfp8: return PeMode::kFp8xFp8;
    case PeKind::kFp16: return PeMode::kFp16xFp16;
    case PeKind::kFp32: return PeMode::kFp32xFp32;
    case PeKind::kInt4Fp4: return PeMode::kInt4xInt4;
    case PeKind::kFp4Block: return PeMode::kMxfp4;
    case PeKind::kBf16: return PeMode::kBf16xBf16;
  }
  return PeMode::kInt4xInt4;
}

std::string op_label(const workloads::TraceOp& op) {
  return "op '" + op.layer + "' (" + std::string(workloads::phase_name(op.phase)) + ", " +
         std::string(numerics::format_name(op.a_format)) + " x " + std::string(numerics::format_name(op.b_format)) +
         ")";
}

}  // namespace

std::optional<PeMode> native_mode(Format a, Format b) {
  if (is_int4(a) && is_int4(b)) return PeMode::kInt4xInt4;
  if (a == Format::kFp4 && is_int4(b)) return PeMode::kFp4xInt4;
  if (is_int4(a) && b == Format::kFp4) return PeMode::kInt4xFp4;
  if (is_fp8(a) && is_fp8(b)) return PeMode::kFp8xFp8;
  if (a == Format::kFp16 && b == Format::kFp16) return PeMode::kFp16xFp16;
  if (a == Format::kFp32 && b == Format::kFp32) return PeMode::kFp32xFp32;
  if (a == Format::kMxfp4 && b == Format::kMxfp4) return PeMode::kMxfp4;
  if (a == Format::kNvfp4 && b == Format::kNvfp4) return PeMode::kNvfp4;
  if (a == Format::kBf16 && b == Format::kBf16) return PeMode::kBf16xBf16;
  return std::nullopt;
}

std::vector<PeMode> native_modes(PeKind kind) {
  switch (kind) {
    case PeKind::kInt4Fp4: return {PeMode::kInt4xInt4, PeMode::kFp4xInt4, PeMode::kInt4xFp4};
    case PeKind::kHfp8: return {PeMode::kFp8xFp8};
    case PeKind::kFp16: return {PeMode::kFp16xFp16};
    case PeKind::kFp32: return {PeMode::kFp32xFp32};
    case PeKind::kFp4Block: return {PeMode::kMxfp4, PeMode::kNvfp4};
    case PeKind::kBf16: return {PeMode::kBf16xBf16};
  }
  return {};
}

int pe_operand_bits(PeKind kind) {
  switch (kind) {
    case PeKind::kInt4Fp4: return 4;
    case PeKind::kHfp8: return 8;
    case PeKind::kFp16: return 16;
    case PeKind::kFp32: return 32;
    case PeKind::kFp4Block: return 4;  // e2m1 elements; block scales travel beside them (quarter bits)
    case PeKind::kBf16: return 16;
  }
  return 4;
}

bool has_dot_tree(const ArrayConfig& array) { return array.pe_kind == PeKind::kInt4Fp4 && array.dot_product > 1; }

std::uint64_t exact_tree_adder_bits(std::uint64_t terms, std::uint64_t product_bits) {
  std::uint64_t bits = 0;
  std::uint64_t width = product_bits;
  for (; terms > 1; terms -= terms / 2) bits += terms / 2 * ++width;
  return bits;
}

std::uint64_t dot_tree_adder_bits(const ArrayConfig& array) {
  if (!has_dot_tree(array)) return 0;
  // |P| <= 8 x 4^6 = 32768: the INT4 x FP4 shift product is a 17-bit signed
  // word; INT4 x INT4 products use the same tree (one datapath).
  return exact_tree_adder_bits(array.dot_product, 17);
}

std::string_view accumulator_key(PeMode mode) {
  switch (mode) {
    case PeMode::kInt4xInt4: return "int4";
    case PeMode::kFp4xInt4:
    case PeMode::kInt4xFp4: return "fp4";
    default: return "float";
  }
}

int psum_bits(Format acc) { return acc == Format::kFp16Chunked ? 48 : numerics::format_bits(acc); }

bool uses_chunked_accumulator(const Design& d) {
  std::vector<Format> used;
  for (const PeMode mode : native_modes(d.array.pe_kind)) used.push_back(d.accumulator(mode));
  if (d.array.unsupported == UnsupportedOps::kMultiPass) used.push_back(d.array.acc_float);
  for (const Format f : used) {
    if (f == Format::kFp16Chunked) return true;
  }
  return false;
}

Datapath datapath_of(PeMode mode) {
  switch (mode) {
    case PeMode::kInt4xInt4: return Datapath::kInt4Int4;
    case PeMode::kFp4xInt4:
    case PeMode::kInt4xFp4: return Datapath::kInt4Fp4;
    case PeMode::kFp8xFp8: return Datapath::kFp8;
    case PeMode::kFp16xFp16: return Datapath::kFp16;
    case PeMode::kFp32xFp32: return Datapath::kFp32;
    case PeMode::kMxfp4: return Datapath::kMxfp4;
    case PeMode::kNvfp4: return Datapath::kNvfp4;
    case PeMode::kBf16xBf16: return Datapath::kBf16;
  }
  throw std::logic_error("datapath_of: unknown PeMode");
}

const char* datapath_name(Datapath datapath) {
  static const char* const kNames[kDatapaths] = {"int4_int4", "int4_fp4", "fp8", "fp16", "fp32", "mxfp4", "nvfp4", "bf16"};
  return kNames[static_cast<std::size_t>(datapath)];
}

std::string mac_counter_name(Datapath datapath) { return std::string("mac_") + datapath_name(datapath); }

std::string mac_counter_name(PeMode mode) { return mac_counter_name(datapath_of(mode)); }

std::string natural_policy(PeKind kind) {
  return kind == PeKind::kFp4Block ? std::string("mxfp4") : std::string(pe_kind_name(kind));
}

std::uint64_t packed_bytes(std::uint64_t elements, std::uint64_t bits) {
  // elements <= 2^50 and bits <= 64 in every caller; the product stays below 2^57.
  return (elements * bits + 7) / 8;
}

std::uint64_t stored_bytes(std::uint64_t elements, std::uint64_t quarter_bits) {
  // elements <= 2^50 and quarter_bits <= 256 in every caller; the product stays below 2^59.
  return (elements * quarter_bits + 31) / 32;
}

namespace {

// How the PE kind of `a` runs A x B in one pass: natively or promoted; none when
// it needs slices (multi-pass) or cannot run it at all.
std::optional<ExecutionKind> one_pass(const ArrayConfig& a, Format af, Format bf) {
  const std::optional<PeMode> own = native_mode(af, bf);
  if (own) {
    for (const PeMode m : native_modes(a.pe_kind)) {
      if (m == *own) return ExecutionKind::kNative;
    }
  }
  if (promotable(af, a.pe_kind, a.fp4_bias) && promotable(bf, a.pe_kind, a.fp4_bias)) {
    return ExecutionKind::kPromoted;
  }
  return std::nullopt;
}

Execution plan_on_unit(const Design& d, const workloads::TraceOp& op);

}  // namespace

std::size_t route_gemm(const Design& d, const workloads::TraceOp& op) {
  if (d.unit_count() == 1) return 0;
  for (const ExecutionKind wanted : {ExecutionKind::kNative, ExecutionKind::kPromoted}) {
    for (std::size_t i = 0; i < d.unit_count(); ++i) {
      if (one_pass(d.unit(i).array, op.a_format, op.b_format) == wanted) return i;
    }
  }
  for (std::size_t i = 0; i < d.unit_count(); ++i) {
    if (d.unit(i).array.unsupported == UnsupportedOps::kMultiPass) return i;
  }
  std::string units;
  for (std::size_t i = 0; i < d.unit_count(); ++i) {
    units += (i == 0 ? "" : ", ") + d.unit(i).name + " (" + std::string(pe_kind_name(d.unit(i).array.pe_kind)) + ")";
  }
  throw InputError(d.source, 0, "matrix_units",
                   op_label(op) + ": no matrix unit executes these formats natively or in one pass (" + units +
                       "); set unsupported: multi-pass on one of them to run it in slices, or use a precision "
                       "policy that matches the design");
}

Execution plan_execution(const Design& d, const workloads::TraceOp& op) {
  if (!op.is_gemm()) throw std::logic_error("plan_execution: " + op.layer + " is a vector op");
  if (d.unit_count() == 1) return plan_on_unit(d, op);
  const std::size_t unit = route_gemm(d, op);
  Execution e = plan_on_unit(d.unit_view(unit), op);
  e.unit = unit;
  return e;
}

namespace {

Execution plan_on_unit(const Design& d, const workloads::TraceOp& op) {
  for (const Format f : {op.a_format, op.b_format}) {
    if (numerics::is_accumulator_only(f)) {
      throw InputError(d.source, 0, "array.pe_kind",
                       op_label(op) + ": " + std::string(numerics::format_name(f)) +
                           " is an accumulator format, not a GEMM operand format");
    }
  }
  Execution e;
  e.a_bits = numerics::format_bits(op.a_format);
  e.b_bits = numerics::format_bits(op.b_format);
  e.a_quarter_bits = numerics::format_quarter_bits(op.a_format);
  e.b_quarter_bits = numerics::format_quarter_bits(op.b_format);
  const PeKind kind = d.array.pe_kind;
  const std::optional<PeMode> own = native_mode(op.a_format, op.b_format);
  bool native = false;
  if (own) {
    for (const PeMode m : native_modes(kind)) native = native || m == *own;
  }
  if (native) {
    e.kind = ExecutionKind::kNative;
    e.pe_mode = *own;
    e.op_mode = own;
    e.arith = d.pe_arith(*own);
    e.acc = d.accumulator(*own);
    e.pe_acc = e.acc;
    if (numerics::pe_block_mode(*own)) e.block = numerics::pe_block_format(*own).block;
  } else if (promotable(op.a_format, kind, d.array.fp4_bias) &&
             promotable(op.b_format, kind, d.array.fp4_bias)) {
    e.kind = ExecutionKind::kPromoted;
    e.pe_mode = pe_float_mode(kind);
    e.acc = d.array.acc_float;
    e.pe_acc = e.acc;
    // The op's own arithmetic differs from the wider PE's (other accumulator,
    // conversions), so the functional path does not check promoted ops.
  } else if (d.array.unsupported == UnsupportedOps::kMultiPass) {
    e.kind = ExecutionKind::kMultiPass;
    e.pe_mode = native_modes(kind).front();
    const int slice = slice_bits(kind);
    const auto slices = [&](Format f) { return static_cast<std::uint64_t>((significand_bits(f) + slice - 1) / slice); };
    e.passes = slices(op.a_format) * slices(op.b_format);
    // Slice products are aligned by their weights and exponents (the shift
    // datapath) and all add into one partial sum in the float accumulator.
    e.acc = d.array.acc_float;
    e.pe_acc = d.array.acc_float;
    if (own) {
      e.op_mode = own;
      e.arith = d.pe_arith(*own);
      e.arith.acc = d.array.acc_float == Format::kFp16Chunked ? Format::kFp16 : d.array.acc_float;
    }
  } else {
    std::string need = own ? mac_counter_name(*own).substr(4) : std::string("mixed-format");
    throw InputError(d.source, 0, "array.pe_kind",
                     op_label(op) + " needs " + need + " multiplies, which the " + std::string(pe_kind_name(kind)) +
                         " PE cannot execute; set array.unsupported: multi-pass to run it in slices, or use a "
                         "precision policy that matches the design");
  }
  if (e.op_mode == PeMode::kFp8xFp8) {
    e.arith.fp8_a = op.a_format;
    e.arith.fp8_b = op.b_format;
  }
  // Post-ReLU activations are UINT4 codes; sim/numerics reads an unsigned A
  // (a_unsigned) but has no unsigned B, so such an op has no numerics mode.
  e.arith.a_unsigned = op.a_format == Format::kUint4;
  if (op.b_format == Format::kUint4) e.op_mode.reset();
  return e;
}

}  // namespace

MinimumTiles minimum_tiles(const Design& d) {
  const std::uint64_t r = d.array.rows;
  const std::uint64_t c = d.array.cols;
  const int bits = pe_operand_bits(d.array.pe_kind);
  int acc_bits = 0;
  for (const PeMode mode : native_modes(d.array.pe_kind)) acc_bits = std::max(acc_bits, psum_bits(d.accumulator(mode)));
  if (d.array.unsupported == UnsupportedOps::kMultiPass) acc_bits = std::max(acc_bits, psum_bits(d.array.acc_float));
  const std::string w = std::to_string(bits) + "-bit operands";
  const std::string rs = std::to_string(r);
  const std::string cs = std::to_string(c);
  MinimumTiles t;
  switch (d.array.dataflow) {
    case Dataflow::kWs: {
      // A dot-product PE holds N weights and takes N inputs per vector.
      const std::uint64_t n = d.array.dot_product;
      const std::string ns = n > 1 ? " x " + std::to_string(n) : "";
      t.weight_bytes = packed_bytes(r * n * c, bits);
      t.weight_what = "one " + rs + ns + " x " + cs + " stationary tile of " + w;
      t.input_bytes = packed_bytes(r * n, bits);
      t.input_what = "one " + std::to_string(r * n) + "-element input vector of " + w;
      t.output_bytes = packed_bytes(c, acc_bits);
      t.output_what = "one row of " + cs + " partial sums of " + std::to_string(acc_bits) + " bits";
      break;
    }
    case Dataflow::kIs:
      t.input_bytes = packed_bytes(r * c, bits);
      t.input_what = "one " + rs + " x " + cs + " stationary tile of " + w;
      t.weight_bytes = packed_bytes(r, bits);
      t.weight_what = "one " + rs + "-element weight vector of " + w;
      t.output_bytes = packed_bytes(c, acc_bits);
      t.output_what = "one row of " + cs + " partial sums of " + std::to_string(acc_bits) + " bits";
      break;
    case Dataflow::kOs:
      t.input_bytes = packed_bytes(r, bits);
      t.input_what = "one step of " + rs + " input rows of " + w;
      t.weight_bytes = packed_bytes(c, bits);
      t.weight_what = "one step of " + cs + " weight columns of " + w;
      t.output_bytes = packed_bytes(r * c, acc_bits);
      t.output_what = "one " + rs + " x " + cs + " tile of partial sums of " + std::to_string(acc_bits) + " bits";
      break;
  }
  return t;
}

}  // namespace nibble::design
