// Block-scaled formats: OCP Microscaling (MX) v1.0 and NVIDIA's NVFP4, plus
// BF16, as rows of one table. A row names an element format, a scale format,
// a block length and whether a per-tensor FP32 scale sits above the block
// scales; one quantizer, parameterized by the row, serves every format (the
// layout of microsoft/microxcaling's format table). Elements and scales are
// binary floats of binary_float.hpp (one rounding routine for all) except
// MXINT8's 8-bit two's complement and the exponent-only E8M0.
//
//   MX     shared exponent s = floor(log2(amax of the block)) - emax(element),
//          clamped to E8M0's [-127, 127] (an all-zero block: amax read as
//          2^-126, as microxcaling does); elements V / 2^s rounded onto the
//          element grid and saturated to +-max normal. A block with a NaN or
//          an infinity gets the NaN scale 0xFF and element codes 0.
//   NVFP4  T = FP32(amax of the tensor / (6 x 448)) per tensor; block scale
//          S = UE4M3(amax of the block / (6 T)) rounded to nearest-even;
//          elements V / (S T) rounded onto E2M1, saturated to +-6. S = 0 (the
//          block amax is below half UE4M3's smallest step times 6 T) gives
//          codes 0.
//   BF16   one element per "block", no scale: IEEE-style rounding, inf and NaN kept.
// Every choice the spec leaves open, with its reason: docs/numerics.md,
// "Block-scaled formats".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/numerics/binary_float.hpp"

namespace nibble::numerics {

/// One element format of the table.
struct ElementFormat {
  std::string_view name;  ///< e2m1 e2m3 e3m2 e4m3 e5m2 int8 bf16
  int bits;               ///< storage width of a code
  bool is_int;            ///< two's complement integer x 2^-int_frac_bits (MXINT8) instead of a binary float
  FloatSpec spec;         ///< field widths, bias and specials (binary float elements)
  int int_frac_bits;      ///< MXINT8: 6 (value = code x 2^-6)
};

/// The scale a block carries.
enum class ScaleKind : std::uint8_t {
  kNone,   ///< no block scale (bf16)
  kE8M0,   ///< OCP MX: 8-bit biased exponent 2^(code - 127), 0xFF = NaN
  kUe4m3,  ///< NVFP4: E4M3 without its sign bit (max 448), 0x7F = NaN
};

/// One row of the block-format table.
struct BlockFormat {
  std::string_view name;         ///< mxfp4 mxfp6-e2m3 mxfp6-e3m2 mxfp8-e4m3 mxfp8-e5m2 mxint8 nvfp4 bf16
  const ElementFormat* element;  ///< element format
  ScaleKind scale;               ///< block scale format
  std::size_t block;             ///< elements per 1-D block (1 for bf16)
  bool tensor_scale;             ///< an FP32 per-tensor scale above the block scales (NVFP4)
};

/// Every element format, in table order.
const std::vector<ElementFormat>& element_formats();
/// The element format `name`; nullopt for an unknown name.
const ElementFormat* find_element_format(std::string_view name);
/// Every block format, in table order.
const std::vector<BlockFormat>& block_formats();
/// The block format `name`; nullptr for an unknown name.
const BlockFormat* find_block_format(std::string_view name);
/// The names of every block format joined by ", " (for messages).
std::string block_format_names();

/// Largest exponent of a normal element (emax of the MX spec): 2 for e2m1 and
/// e2m3, 4 for e3m2, 8 for e4m3, 15 for e5m2, 0 for int8 (its codes are below 2).
int element_emax(const ElementFormat& format);
/// Largest finite element value: 6, 7.5, 28, 448, 57344, 127/64; bf16 (2 - 2^-7) x 2^127.
double element_max(const ElementFormat& format);
/// Exact value of a code (low `bits` bits): +-inf and NaN where the format has them.
double element_value(const ElementFormat& format, std::uint32_t code);
/// Code of the finite value (-1)^negative x mag x 2^exp rounded onto the
/// element grid (nearest-even, or stochastic with `u24` as float_round_stochastic),
/// magnitudes beyond the largest finite saturated when `saturate` (the MX
/// conversion), else overflowing as the format's specials say (bf16: inf).
std::uint32_t element_round(const ElementFormat& format, bool negative, std::uint64_t mag, int exp, bool saturate,
                            bool stochastic, std::uint32_t u24);

inline constexpr std::uint32_t kE8m0Nan = 0xFF;   ///< the E8M0 NaN
inline constexpr int kE8m0Bias = 127;             ///< X = 2^(code - 127)
inline constexpr std::uint32_t kUe4m3Nan = 0x7F;  ///< the UE4M3 NaN (E4M3's S.1111.111 without S)
/// FloatSpec of UE4M3 (the sign bit is never set).
inline constexpr FloatSpec kUe4m3Spec{4, 3, 7, FloatSpecials::kSaturatingNan};
/// Storage bits of one block scale: 8 (E8M0 and UE4M3), 0 for kNone.
int scale_bits(ScaleKind kind);
/// Value of a scale code: 2^(code - 127) (E8M0) or the UE4M3 value; NaN for the NaN codes; 1 for kNone.
double scale_value(ScaleKind kind, std::uint32_t code);

/// How element magnitudes between two grid points are rounded.
enum class BlockRounding : std::uint8_t {
  kNearestEven,  ///< nearest grid point, ties to the even code
  kStochastic,   ///< up iff r > u x 2^-24 (float_round_stochastic), u from CounterRng(seed) at the element's index
};
/// "nearest-even" or "stochastic".
std::string_view block_rounding_name(BlockRounding rounding);
/// Inverse of block_rounding_name(); nullopt for an unknown name.
std::optional<BlockRounding> parse_block_rounding(std::string_view name);

/// The shape of one block in a row-major matrix: rows x cols elements share a scale.
struct BlockShape {
  std::size_t rows = 1;   ///< block height (32 along a reduction that runs down the columns)
  std::size_t cols = 32;  ///< block width (the format's block along a reduction that runs along rows)
};

/// A quantized matrix: element codes in the source's layout and one scale
/// code per block, blocks in row-major order of the block grid.
struct BlockQuantized {
  std::size_t rows = 0;                ///< matrix rows
  std::size_t cols = 0;                ///< matrix columns
  BlockShape shape;                    ///< block shape used
  std::vector<std::uint32_t> codes;    ///< element codes, rows x cols row-major
  std::vector<std::uint32_t> scales;   ///< block scale codes, ceil(rows / shape.rows) x ceil(cols / shape.cols)
  float tensor_scale = 1.0f;           ///< FP32 per-tensor scale (1 where the format has none)
};

/// Quantizes the row-major `rows` x `cols` matrix x (row stride `ld`) into
/// blocks of `shape` (edge blocks are partial: a last partial block is a
/// block of its own). Element (i, j) draws its stochastic number at index
/// i x cols + j of CounterRng(seed). FormatError for an empty block shape.
BlockQuantized block_quantize(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                              std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed);
/// Exact real value of element (i, j): code x block scale x tensor scale (NaN
/// for a NaN scale), as a double (every product is exact in double).
double block_value(const BlockFormat& format, const BlockQuantized& q, std::size_t i, std::size_t j);
/// The value the PEs multiply for element (i, j): code x block scale, exact
/// in float for every table format (the tensor scale is applied to the GEMM's
/// result instead, as NVFP4 hardware does).
float block_unit(const BlockFormat& format, const BlockQuantized& q, std::size_t i, std::size_t j);

/// Fast fake quantization for the training emulator: out (row-major, row
/// stride `cols`) receives block_unit() of every element and the return value
/// is the tensor scale; the same numbers as block_quantize() + block_unit(),
/// without keeping the codes.
float block_quantize_units(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                           std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed, float* out);
/// The tensor scale block_quantize() would choose for x (1 for formats without one).
float block_tensor_scale(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                         std::size_t ld);
/// block_quantize_units() for the bands of block rows [band_begin,
/// band_end) only (band b: rows b x shape.rows ..), given the tensor scale:
/// bands are independent, so callers may spread them over threads and get the
/// same bits.
void block_quantize_units_bands(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                                std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed,
                                float tensor_scale, std::size_t band_begin, std::size_t band_end, float* out);

}  // namespace nibble::numerics
