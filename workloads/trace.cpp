#include "workloads/trace.hpp"

#include <array>
#include <limits>
#include <utility>

#include "sim/common/text.hpp"

namespace nibble::workloads {

namespace {

constexpr std::array<std::pair<OpKind, std::string_view>, 4> kOpKinds{{
    {OpKind::kGemm, "gemm"},
    {OpKind::kConv, "conv"},
    {OpKind::kGroupConv, "group-conv"},
    {OpKind::kVector, "vector"},
}};

constexpr std::array<std::pair<Phase, std::string_view>, 4> kPhases{{
    {Phase::kForward, "forward"},
    {Phase::kInputGrad, "input_grad"},
    {Phase::kWeightGrad, "weight_grad"},
    {Phase::kUpdate, "update"},
}};

constexpr std::array<std::pair<Im2col, std::string_view>, 2> kIm2cols{{
    {Im2col::kDram, "dram"},
    {Im2col::kOnChip, "on-chip"},
}};

constexpr std::array<std::pair<VectorKind, std::string_view>, kVectorKindCount> kVectorKinds{{
    {VectorKind::kQuantize, "quantize"},
    {VectorKind::kActivation, "activation"},
    {VectorKind::kActivationGrad, "activation-grad"},
    {VectorKind::kPool, "pool"},
    {VectorKind::kPoolGrad, "pool-grad"},
    {VectorKind::kNorm, "norm"},
    {VectorKind::kNormGrad, "norm-grad"},
    {VectorKind::kEltwise, "eltwise"},
    {VectorKind::kSoftmax, "softmax"},
    {VectorKind::kLoss, "loss"},
    {VectorKind::kOptimizer, "optimizer"},
    {VectorKind::kSoftmaxGrad, "softmax-grad"},
    {VectorKind::kLayerNorm, "layer-norm"},
    {VectorKind::kLayerNormGrad, "layer-norm-grad"},
    {VectorKind::kGelu, "gelu"},
    {VectorKind::kGeluGrad, "gelu-grad"},
    {VectorKind::kHadamard, "hadamard"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_of(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::vector<Enum> values_of(const std::array<std::pair<Enum, std::string_view>, N>& table) {
  std::vector<Enum> out;
  for (const auto& entry : table) out.push_back(entry.first);
  return out;
}

/// Sliding-window output size; 0 when the window does not fit or sizes overflow.
std::uint64_t window_out(std::uint64_t in, std::uint64_t kernel, std::uint64_t stride, std::uint64_t pad,
                         std::uint64_t dilation) {
  if (kernel == 0 || stride == 0 || dilation == 0) return 0;
  const auto twice_pad = checked_mul(2, pad);
  const auto padded = twice_pad ? checked_add(in, *twice_pad) : std::nullopt;
  const auto reach = checked_mul(dilation, kernel - 1);
  if (!padded || !reach || *reach >= *padded) return 0;
  return (*padded - *reach - 1) / stride + 1;
}

/// Input positions 0..in-1 that some window position reads (padding excluded).
/// Beyond 2^24 positions x taps it returns `in` (every position: at most that many).
std::uint64_t positions_read(std::uint64_t in, std::uint64_t kernel, std::uint64_t stride, std::uint64_t pad,
                             std::uint64_t dilation) {
  const std::uint64_t out = window_out(in, kernel, stride, pad, dilation);
  if (out == 0) return 0;
  if (in > (std::uint64_t{1} << 24) / kernel) return in;
  std::uint64_t count = 0;
  for (std::uint64_t y = 0; y < in; ++y) {
    for (std::uint64_t i = 0; i < kernel; ++i) {
      const std::uint64_t tap = i * dilation;
      if (y + pad < tap || (y + pad - tap) % stride != 0 || (y + pad - tap) / stride >= out) continue;
      ++count;
      break;
    }
  }
  return count;
}

}  // namespace

std::uint64_t ConvGeometry::rows_read() const { return positions_read(h, r, stride_h, pad_h, dilation_h); }
std::uint64_t ConvGeometry::cols_read() const { return positions_read(w, s, stride_w, pad_w, dilation_w); }

std::uint64_t ConvGeometry::out_h() const { return window_out(h, r, stride_h, pad_h, dilation_h); }
std::uint64_t ConvGeometry::out_w() const { return window_out(w, s, stride_w, pad_w, dilation_w); }

bool ConvGeometry::operator==(const ConvGeometry& o) const {
  return n == o.n && c == o.c && h == o.h && w == o.w && k == o.k && r == o.r && s == o.s &&
         static_cast<const models::ConvWindow&>(*this) == o && im2col == o.im2col;
}

std::uint64_t TraceOp::macs() const {
  if (!is_gemm()) return 0;
  // Saturates instead of wrapping; the trace reader rejects ops where this would overflow.
  std::uint64_t total = groups;
  for (const std::uint64_t factor : {m, n, k}) {
    const auto product = checked_mul(total, factor);
    if (!product) return std::numeric_limits<std::uint64_t>::max();
    total = *product;
  }
  return total;
}

bool TraceOp::operator==(const TraceOp& o) const {
  return layer == o.layer && kind == o.kind && phase == o.phase && m == o.m && n == o.n && k == o.k &&
         groups == o.groups && conv == o.conv && a_format == o.a_format && b_format == o.b_format &&
         acc_format == o.acc_format && store_format == o.store_format && vector == o.vector && elements == o.elements &&
         in_format == o.in_format && out_format == o.out_format && reads == o.reads && writes == o.writes;
}

bool Trace::operator==(const Trace& o) const {
  return model == o.model && batch == o.batch && policy == o.policy && ops == o.ops && skipped == o.skipped &&
         inputs == o.inputs;
}

bool Trace::names_tensors() const {
  if (!inputs.empty()) return true;
  for (const auto& op : ops) {
    if (!op.reads.empty() || !op.writes.empty()) return true;
  }
  return false;
}

std::string_view op_kind_name(OpKind kind) { return name_of(kOpKinds, kind); }
std::optional<OpKind> parse_op_kind(std::string_view name) { return parse_of(kOpKinds, name); }
std::string_view phase_name(Phase phase) { return name_of(kPhases, phase); }
std::optional<Phase> parse_phase(std::string_view name) { return parse_of(kPhases, name); }
std::string_view vector_kind_name(VectorKind kind) { return name_of(kVectorKinds, kind); }
std::optional<VectorKind> parse_vector_kind(std::string_view name) { return parse_of(kVectorKinds, name); }

const std::vector<Phase>& all_phases() {
  static const std::vector<Phase> values = values_of(kPhases);
  return values;
}

const std::vector<VectorKind>& all_vector_kinds() {
  static const std::vector<VectorKind> values = values_of(kVectorKinds);
  return values;
}

std::string_view im2col_name(Im2col im2col) { return name_of(kIm2cols, im2col); }
std::optional<Im2col> parse_im2col(std::string_view name) { return parse_of(kIm2cols, name); }

int vector_kind_version(VectorKind kind) {
  if (kind == VectorKind::kHadamard) return 5;
  return static_cast<std::size_t>(kind) >= static_cast<std::size_t>(VectorKind::kSoftmaxGrad) ? 2 : 1;
}

const std::vector<OpKind>& all_op_kinds() {
  static const std::vector<OpKind> values = values_of(kOpKinds);
  return values;
}

bool is_valid_trace_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (const char c : name) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool is_valid_tensor_name(std::string_view name) {
  if (name.empty() || name.size() > 512) return false;
  for (const char c : name) {
    if (c <= ' ' || c > '~' || c == ',') return false;
  }
  return true;
}

std::string sanitize_tensor_name(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 512)) out += (c <= ' ' || c > '~' || c == ',') ? '_' : c;
  return out.empty() ? "_" : out;
}

std::string sanitize_trace_name(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 256)) out += (c <= ' ' || c > '~') ? '_' : c;
  return out.empty() ? "_" : out;
}

}  // namespace nibble::workloads
