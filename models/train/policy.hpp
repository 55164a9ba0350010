// Precision policies of the training emulator. The formats of every GEMM come
// from the trace expansion's policies (workloads/policy.hpp: fp32, fp16,
// hfp8, int4-fp4, and YAML policy files with per-layer overrides), so the
// emulator trains exactly what `nibble trace` costs. Three ablations exist
// only here, to measure what each ingredient of 4-bit training contributes;
// they change the int4-fp4 layers only:
//   int4-fp4-no-tpr        both backward GEMMs use the even FP4 phase
//   int4-fp4-radix2        FP4 gradients with radix 2 (+-2^(e-bias), same 4 bits, no TPR)
//   int4-fp4-no-gradscale  FP4 gradient scale fixed at 1
// Accumulators: the policy's (fp16 for int4-fp4 and hfp8, fp32 for fp16 and
// fp32) unless a design is given; then, for every GEMM, the accumulator the
// design's array uses for it (design::plan_execution: native ops the PE
// mode's accumulator, promoted and multi-pass ops accumulators.float), so
// `nibble train` and `nibble simulate` agree on each GEMM.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "models/graph/graph.hpp"
#include "models/train/block_quant.hpp"
#include "models/train/gemm_layer.hpp"
#include "sim/design/design.hpp"
#include "sim/numerics/format.hpp"
#include "workloads/policy.hpp"
#include "workloads/trace.hpp"

namespace nibble::train {

/// The hardware whose arithmetic the emulator follows: a design (its
/// accumulators per GEMM, chunk and FP4 bias), or none (the policy's
/// accumulators, FP4 bias 7).
struct HardwareArith {
  std::optional<design::Design> design;  ///< accumulators from design::plan_execution, per GEMM
  int fp4_bias = 7;                      ///< FP4 exponent bias (the design's when given)
  std::size_t chunk = 128;               ///< fp16-chunked: products per chunk (the design's when given)
  numerics::Fp4Rounding fp4_rounding = numerics::Fp4Rounding::kNearestLog2;  ///< FP4 gradient rounding
  std::string source = "policy";         ///< where the accumulators came from: "policy" or the design path
};

/// The hardware of `design` read from `path`: its FP4 bias, and its chunk
/// (array.chunk, or array.rows when 0: one fold's column sum is a chunk).
HardwareArith hardware_of(const design::Design& design, const std::string& path);

/// Emulator-only changes to a policy's int4-fp4 layers.
struct Ablation {
  bool tpr = true;        ///< two-phase rounding of FP4 gradients
  bool gradscale = true;  ///< per-layer GradScale of FP4 gradients
  bool radix2 = false;    ///< radix-2 FP4 gradients
};

/// A policy as the emulator runs it.
struct TrainPolicy {
  std::string name;         ///< the name the user gave (written to the trace and summary)
  workloads::Policy base;   ///< the trace expansion's policy (formats per layer)
  Ablation ablation;        ///< emulator-only changes
  std::optional<BlockPolicy> block;  ///< block-scaled operands (mxfp4, nvfp4, mxfp8, bf16) over an fp32 base
};

/// Every policy name the emulator accepts, in a fixed order: the trace
/// expansion's names, then the ablations.
const std::vector<std::string>& train_policy_names();
/// One line per policy, for --help.
std::string train_policy_summary();

/// The policy `name`, optionally refined by a YAML policy file (per-layer
/// overrides, docs/trace-format.md). Unknown names: SettingError "policy"
/// with the valid names and a "did you mean".
TrainPolicy make_train_policy(const std::string& name, const std::optional<std::string>& policy_file);

/// The arithmetic of every layer of `graph` (entries of non-GEMM layers are
/// unused). An accumulator no PE offers for a GEMM's operands is an
/// InputError naming the layer.
std::vector<LayerArith> plan_arithmetic(const models::Graph& graph, const TrainPolicy& policy,
                                        const HardwareArith& hw);

/// The trace of the training step the emulator ran: the trace expansion of
/// `graph` under `policy.base`, named after `policy.name`, with every GEMM op's
/// operand and accumulator formats replaced by the ones of `plan` (so a
/// design's accumulators and the radix-2 ablation show), FP4 quantize ops
/// turned into fp4-r2 where the plan uses radix 2, and the second gradient
/// quantization dropped where TPR is off (one FP4 copy serves both GEMMs).
workloads::Trace trace_of_run(const models::Graph& graph, const TrainPolicy& policy,
                              const std::vector<LayerArith>& plan);

}  // namespace nibble::train
