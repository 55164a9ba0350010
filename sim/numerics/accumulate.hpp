// Accumulating long sums of products in low precision. Plain FP16
// accumulation rounds after every add, so once the sum is large its ulp
// swallows small addends (2048 + 1 = 2048 in FP16). Chunked accumulation
// sums chunks of N products in FP16, then adds each chunk's sum into an
// FP32 total, so an FP16 partial sum never grows beyond one chunk's worth.
// In the array N is the number of PE rows: one fold's column sum is a chunk.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/pe.hpp"

namespace nibble::numerics {

/// Sum of FP16 values added left to right in FP16, each add rounded (fp16_add), from +0.
std::uint16_t sum_fp16(const std::uint16_t* values, std::size_t n);
/// Sum in chunks of `chunk` values: each chunk summed as sum_fp16, each chunk
/// sum added (fp32_add) into an FP32 total from +0. Returns FP32 bits.
/// FormatError for chunk == 0.
std::uint32_t sum_fp16_chunked(const std::uint16_t* values, std::size_t n, std::size_t chunk);

/// Streaming chunked accumulator: terms enter an FP16 partial sum; after every
/// `chunk` terms the partial sum is added into the FP32 total and restarts at +0.
class ChunkedFp16Accumulator {
 public:
  /// FormatError for chunk == 0.
  explicit ChunkedFp16Accumulator(std::size_t chunk);

  /// Adds one FP16 value (fp16_add into the partial sum).
  void add_fp16(std::uint16_t value);
  /// Adds one product the way an FP16-accumulating PE does: pe_mac with the
  /// accumulator forced to fp16 (FormatError for modes no FP16-accumulating PE has).
  void mac(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits);
  /// Adds n products the way an FP16-accumulating dot-product PE does: one
  /// pe_dot into the partial sum, n terms. FormatError when the n terms would
  /// cross a chunk boundary (a chunk is a whole number of dot products).
  void dot(const PeArith& arith, PeMode mode, const std::uint32_t* a_bits, const std::uint32_t* b_bits, std::size_t n);

  /// FP32 bits of total + current partial sum (the partial chunk is included, not flushed).
  std::uint32_t total_fp32() const;
  /// total_fp32() as a float.
  float total() const;
  std::uint16_t partial_fp16() const { return m_partial; }  ///< the running chunk's FP16 sum
  std::size_t chunk() const { return m_chunk; }              ///< N
  std::uint64_t terms() const { return m_terms; }            ///< terms added so far

 private:
  void count_term();

  std::size_t m_chunk;                ///< terms per chunk
  std::uint16_t m_partial = 0;        ///< FP16 sum of the current chunk
  std::uint32_t m_total = 0;          ///< FP32 sum of the finished chunks
  std::size_t m_in_chunk = 0;         ///< terms in the current chunk
  std::uint64_t m_terms = 0;          ///< all terms
};

}  // namespace nibble::numerics
