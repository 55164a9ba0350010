// A training-step trace: the ops one training step of one network runs, each
// tagged with its phase and operand formats. Traces are what the simulator
// consumes; docs/trace-format.md describes the text form.
//
// GEMM convention (all phases): C[m x n] (+)= A[m x k] * B[k x n], repeated
// `groups` times (grouped/depthwise convs, batched matmuls). A is the streamed
// operand and B the stationary one in a weight-stationary array; MACs are
// groups * m * n * k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/graph/conv_window.hpp"
#include "sim/numerics/format.hpp"

namespace nibble::workloads {

using numerics::Format;

enum class OpKind {
  kGemm,        ///< dense (batched) matrix multiply
  kConv,        ///< convolution as implicit GEMM, groups == 1
  kGroupConv,   ///< grouped or depthwise convolution as `groups` implicit GEMMs
  kVector,      ///< element-wise work for the vector unit
};

enum class Phase {
  kForward,     ///< Y = W . X
  kInputGrad,   ///< dX = W^T . dY
  kWeightGrad,  ///< dW = dY . X^T
  kUpdate,      ///< optimizer step over the weights
};

enum class VectorKind {
  kQuantize,        ///< one element converted to a GEMM input format (incl. scale)
  kActivation,      ///< ReLU / Clip / Sigmoid / Tanh / GELU forward
  kActivationGrad,  ///< their backward
  kPool,            ///< max/avg pooling forward (elements = input elements read)
  kPoolGrad,        ///< pooling backward
  kNorm,            ///< batch-norm / layer-norm forward
  kNormGrad,        ///< batch-norm / layer-norm backward
  kEltwise,         ///< add, multiply, col2im scatter-add, concat copies
  kSoftmax,         ///< softmax forward (attention)
  kLoss,            ///< softmax-cross-entropy forward + backward
  kOptimizer,       ///< SGD-momentum update of one weight
  // Trace version 2 (transformers' ops; costed from the kinds above, sim/design/design.hpp):
  kSoftmaxGrad,     ///< softmax backward: dX = Y * (dY - sum(dY * Y)) per row
  kLayerNorm,       ///< layer-norm forward (statistics over the last dimension)
  kLayerNormGrad,   ///< layer-norm input gradient dX
  kGelu,            ///< GELU forward
  kGeluGrad,        ///< GELU backward
  // Trace version 5 (costed from eltwise, sim/design/design.hpp):
  kHadamard,        ///< 16-point random Hadamard transform along a GEMM's reduction (NVFP4's weight gradient)
};

/// Number of VectorKind values.
inline constexpr std::size_t kVectorKindCount = 17;
/// The first trace version that may contain `kind` (1; 2 for the transformer kinds; 5 for hadamard).
int vector_kind_version(VectorKind kind);

/// How a conv op's GEMM gets its im2col operand (trace version 3's `im2col=`;
/// docs/trace-format.md, "im2col"). A file without the key means kDram.
enum class Im2col {
  kDram,    ///< im2col(X) and dCol are DRAM tensors: A streams N*E*F x C*R*S elements, col2im is a vector op
  kOnChip,  ///< addressed on chip: X fetched once, the input gradient a transposed convolution leaving as dX
};
std::string_view im2col_name(Im2col im2col);          ///< dram on-chip
std::optional<Im2col> parse_im2col(std::string_view name);

/// The forward layer's convolution geometry that produced a conv op's GEMM:
/// the input's shape, the filters, and the layer's window (strides, padding,
/// dilation, groups).
struct ConvGeometry : models::ConvWindow {
  std::uint64_t n = 1;           ///< batch
  std::uint64_t c = 1;           ///< input channels
  std::uint64_t h = 1;           ///< input height
  std::uint64_t w = 1;           ///< input width
  std::uint64_t k = 1;           ///< output channels (filters)
  std::uint64_t r = 1;           ///< filter height
  std::uint64_t s = 1;           ///< filter width
  Im2col im2col = Im2col::kDram; ///< how the GEMM gets its im2col operand

  /// Output height: (h + 2 pad_h - dilation_h (r - 1) - 1) / stride_h + 1.
  std::uint64_t out_h() const;
  /// Output width, same rule.
  std::uint64_t out_w() const;
  /// Input rows (resp. columns) some window reads, padding excluded: h (w) unless
  /// a stride skips rows the kernel never covers (a 1x1 stride-2 convolution reads every other row).
  std::uint64_t rows_read() const;
  std::uint64_t cols_read() const;
  /// R = S = 1, both strides 1, no padding: dCol already is dX (no col2im).
  bool is_identity() const { return r == 1 && s == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0; }
  bool operator==(const ConvGeometry& other) const;
};

struct TraceOp {
  std::string layer;                    ///< layer name, unique within the network
  OpKind kind = OpKind::kGemm;          ///< what kind of work
  Phase phase = Phase::kForward;        ///< which part of the training step

  // GEMM ops (kind != kVector)
  std::uint64_t m = 0;                  ///< rows of A and C
  std::uint64_t n = 0;                  ///< columns of B and C
  std::uint64_t k = 0;                  ///< reduction length
  std::uint64_t groups = 1;             ///< independent GEMMs of this shape
  std::optional<ConvGeometry> conv;     ///< set for kConv and kGroupConv
  Format a_format = Format::kFp32;      ///< streamed operand A
  Format b_format = Format::kFp32;      ///< stationary operand B
  Format acc_format = Format::kFp32;    ///< accumulator: the format the sums are formed in
  /// The storage format C is rounded to before it leaves the core (trace version 3's
  /// `out=`); nullopt: the accumulator's (traces before version 3 store C unrounded).
  std::optional<Format> store_format;

  // vector ops (kind == kVector)
  VectorKind vector = VectorKind::kEltwise;  ///< what the vector unit does
  std::uint64_t elements = 0;                ///< elements processed
  Format in_format = Format::kFp32;          ///< element format read
  Format out_format = Format::kFp32;         ///< element format written

  // Tensors (trace version 4's `reads=` and `writes=`; docs/trace-format.md, "Tensors"):
  // what the controller's scoreboard tracks (docs/timing.md, "Dependencies"). Both
  // empty in a trace that names no tensors (before version 4).
  std::vector<std::string> reads;   ///< tensors the op reads, each once
  std::vector<std::string> writes;  ///< tensors the op writes (in place when also read), each once

  bool is_gemm() const { return kind != OpKind::kVector; }
  /// The format a GEMM's C is stored in: store_format, else the accumulator's.
  Format stored_format() const { return store_format.value_or(acc_format); }
  /// groups * m * n * k for GEMM ops, 0 for vector ops (callers that need
  /// overflow safety use the trace reader, which rejects overflowing ops).
  std::uint64_t macs() const;
  bool operator==(const TraceOp& other) const;
};

/// A node of an imported network that was left out of the trace (`--skip-unknown`).
struct SkippedNode {
  std::string node;     ///< node name as written in the trace (sanitized)
  std::string op_type;  ///< the ONNX op type that nibble cannot cost
  bool operator==(const SkippedNode& other) const { return node == other.node && op_type == other.op_type; }
};

struct Trace {
  /// The newest format version this build writes: a trace is written as the oldest
  /// version that holds it (5 only with a hadamard op, 3 when it names no tensors).
  static constexpr int kVersion = 5;
  static constexpr int kOldestVersion = 1;  ///< the oldest version it still reads
  std::string model;                    ///< network name (zoo name, ONNX file stem, ...)
  std::uint64_t batch = 1;              ///< training batch size
  std::string policy;                   ///< precision policy name
  std::vector<TraceOp> ops;             ///< in execution order
  std::vector<SkippedNode> skipped;     ///< imported nodes left out of `ops` (empty for zoo models)
  /// Tensors that exist when the step starts (weights, the batch's images and
  /// labels, carried state): the only tensors an op may read before an op writes them.
  std::vector<std::string> inputs;

  /// True when the trace names its tensors (version 4): ops wait for the
  /// tensors they read and write; otherwise dependencies are inferred from the order.
  bool names_tensors() const;
  bool operator==(const Trace& other) const;
};

std::string_view op_kind_name(OpKind kind);          ///< gemm conv group-conv vector
std::optional<OpKind> parse_op_kind(std::string_view name);
std::string_view phase_name(Phase phase);            ///< forward input_grad weight_grad update
std::optional<Phase> parse_phase(std::string_view name);
std::string_view vector_kind_name(VectorKind kind);  ///< quantize activation activation-grad ...
std::optional<VectorKind> parse_vector_kind(std::string_view name);
const std::vector<Phase>& all_phases();
const std::vector<VectorKind>& all_vector_kinds();
const std::vector<OpKind>& all_op_kinds();

/// True if `name` can be a layer or model name in a trace: 1 to 256 printable
/// ASCII characters, no spaces (the text format separates fields by spaces).
bool is_valid_trace_name(std::string_view name);
/// True if `name` can be a tensor name: 1 to 512 printable ASCII characters
/// without spaces or commas (lists of tensors are comma-separated; a tensor
/// is usually named LAYER.ROLE, so it may be longer than a layer name).
bool is_valid_tensor_name(std::string_view name);
/// `name` with every character that is_valid_tensor_name() rejects replaced by '_'
/// (empty -> "_", cut to 512 characters).
std::string sanitize_tensor_name(std::string_view name);
/// `name` with every character that is_valid_trace_name() rejects replaced by
/// '_' (empty -> "_", cut to 256 characters), for names taken from files.
std::string sanitize_trace_name(std::string_view name);

}  // namespace nibble::workloads
