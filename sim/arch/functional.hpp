// The functional path (--functional): seeded random operands run through
// sim/numerics' pe_mac in the order the array accumulates them (tile by tile,
// partial sums chained as docs/timing.md says), compared bit for bit with a
// plain triple-loop GEMM that accumulates in the same order.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

#include "sim/arch/engine.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/trace.hpp"

namespace nibble::arch {

/// The array's values differ from the reference: a model bug, reported with
/// the op, the output element and both values. Exit code 1.
class FunctionalMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What happened to one op on the functional path.
enum class FunctionalOutcome {
  kChecked,          ///< array == reference, bit for bit
  kTooLarge,         ///< more MACs than the limit
  kNoArithmetic,     ///< no sim/numerics mode for the op's formats on this design (promoted, mixed)
};

/// Checks one GEMM op (its first group) on `design`; `plan` is the op's
/// whole-op tiling (its reduction chunks set the order). Throws
/// FunctionalMismatch on a difference.
FunctionalOutcome check_functional(const design::Design& design, const design::Execution& exec,
                                   const GemmPlan& plan, const workloads::TraceOp& op, std::uint64_t seed,
                                   std::uint64_t max_macs);

/// sum + value in accumulator format `acc` (the output buffer's add): int32
/// saturating like pe_mac's accumulator, FP16/FP32 by numerics' fp16_add/fp32_add.
std::uint32_t accumulate(numerics::Format acc, std::uint32_t sum, std::uint32_t value);

/// A uniformly random finite code of `format` (4-bit formats: any code;
/// floats: moderate exponents, no NaN or infinity).
std::uint32_t random_code(numerics::Format format, std::mt19937_64& rng);

}  // namespace nibble::arch
