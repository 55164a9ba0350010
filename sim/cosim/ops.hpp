// The tile operations (folds) a co-simulation feeds to the RTL and the model:
// directed corner cases, seeded random ones, or the operand tiles of a
// trace's GEMMs. No SystemC here: sources are plain generators.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/arch/tile.hpp"
#include "sim/numerics/format.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::cosim {

using numerics::Format;
using OpMode = numerics::PeMode;
using AccKind = numerics::Format;

/// One fold as the driver feeds it to both sides.
struct CosimOp {
  arch::TileFold fold;            ///< mode, accumulator, b[r*C+c], a[m*R+r], psum_in[m*C+c]
  std::uint64_t vectors = 0;      ///< T, the number of streamed vectors (>= 1)
  std::uint64_t weights_gap = 0;  ///< > 0: weights available from S_prev + gap (docs/rtl.md, "Availability")
  std::uint64_t inputs_gap = 0;   ///< > 0: inputs available from S_prev + gap
  std::string origin;             ///< "random", the directed case's name, or the trace op
};

/// The three datapaths of the tile: fwd (kInt4xInt4), bwd-odd (kFp4xInt4, the
/// input-gradient GEMM) and bwd-even (kInt4xFp4, the weight-gradient GEMM).
const std::vector<OpMode>& tile_modes();
/// "fwd", "bwd-odd" or "bwd-even"; std::logic_error for a mode the tile lacks.
std::string_view mode_name(OpMode mode);
/// Inverse of mode_name(); nullopt for another word.
std::optional<OpMode> parse_mode(std::string_view name);
/// The tile's accumulators: int32 (saturating) and fp16.
const std::vector<AccKind>& tile_accs();

/// A stream of ops; next() returns nullopt when it is exhausted.
class OpSource {
 public:
  virtual ~OpSource() = default;
  virtual std::optional<CosimOp> next() = 0;
};

/// The directed corner cases for an R x C tile whose mode and accumulator are
/// in `modes` and `accs` (docs/rtl.md lists them): -8*-8, -8*7, UINT4 15*7,
/// 15*-8 and 15 x the largest FP4 shift, the largest and
/// smallest FP4 shifts, int32 saturation, FP16 subnormals, overflow, NaN/inf
/// and ties, back-to-back folds of every length class, mode switches in
/// flight, availability gaps, and +1 products onto FP16 2048 (one rounding per
/// PE: MAC and dot-product PEs differ).
std::vector<CosimOp> directed_ops(std::uint64_t rows, std::uint64_t cols, const std::vector<OpMode>& modes,
                                  const std::vector<AccKind>& accs);

/// Seeded random ops: `per_mode` ops of each mode in `modes`, interleaved at
/// random; accumulator, T (1 .. 2(2R+C-1)), UINT4 activations (a quarter of
/// the fwd and bwd-even ops), codes, psum_in and availability gaps drawn from `seed`.
std::unique_ptr<OpSource> random_ops(std::uint64_t rows, std::uint64_t cols, const std::vector<OpMode>& modes,
                                     const std::vector<AccKind>& accs, std::uint64_t per_mode,
                                     std::uint64_t seed);

/// The folds of the trace's GEMMs whose formats map onto a tile datapath
/// (int4/uint4 x int4, fp4 x int4, int4/uint4 x fp4 with an int32 or fp16
/// accumulator; a uint4 A sets PeArith::a_unsigned, as in the SystemC model),
/// mode and accumulator in the filters: each GEMM split into ceil(n/C) x
/// ceil(k/R) folds of T = m vectors, zero-padded, the output of one k-fold
/// the psum_in of the next; operand codes random from `seed` (a trace holds
/// shapes, not data). At most `per_mode` folds per mode. `skipped` counts the
/// GEMMs left out for their formats. InputError for an unreadable trace.
std::unique_ptr<OpSource> trace_ops(const std::string& path, std::uint64_t rows, std::uint64_t cols,
                                    const std::vector<OpMode>& modes, const std::vector<AccKind>& accs,
                                    std::uint64_t per_mode, std::uint64_t seed, std::uint64_t* skipped);

/// Ops of `first` then of `second`.
std::unique_ptr<OpSource> chain(std::unique_ptr<OpSource> first, std::unique_ptr<OpSource> second);
/// A source over a fixed list.
std::unique_ptr<OpSource> list_ops(std::vector<CosimOp> ops);
/// The ops of `source` on dot-product PEs of N = `dot` products: each op's
/// fold.dot set to N. The source must have made them for R*N reduction rows
/// (docs/timing.md, "Dot-product PEs": a fold of R PE rows reduces R*N).
std::unique_ptr<OpSource> with_dot(std::unique_ptr<OpSource> source, std::uint64_t dot);

}  // namespace nibble::cosim
