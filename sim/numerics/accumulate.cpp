#include "sim/numerics/accumulate.hpp"

#include <string>

#include "sim/numerics/dot.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {

namespace {
void check_chunk(std::size_t chunk) {
  if (chunk == 0) throw FormatError("chunk size", "must be at least 1 (products per FP16 chunk), got 0");
}

/// FP32 bits of an FP16 value (exact).
std::uint32_t widen(std::uint16_t h) { return fp32_bits(fp16_to_float(h)); }
}  // namespace

std::uint16_t sum_fp16(const std::uint16_t* values, std::size_t n) {
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum = fp16_add(sum, values[i]);
  return sum;
}

std::uint32_t sum_fp16_chunked(const std::uint16_t* values, std::size_t n, std::size_t chunk) {
  check_chunk(chunk);
  std::uint32_t total = 0;
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t count = (n - start < chunk) ? n - start : chunk;
    total = fp32_add(total, widen(sum_fp16(values + start, count)));
  }
  return total;
}

ChunkedFp16Accumulator::ChunkedFp16Accumulator(std::size_t chunk) : m_chunk(chunk) { check_chunk(chunk); }

void ChunkedFp16Accumulator::count_term() {
  ++m_terms;
  if (++m_in_chunk == m_chunk) {
    m_total = fp32_add(m_total, widen(m_partial));
    m_partial = 0;
    m_in_chunk = 0;
  }
}

void ChunkedFp16Accumulator::add_fp16(std::uint16_t value) {
  m_partial = fp16_add(m_partial, value);
  count_term();
}

void ChunkedFp16Accumulator::mac(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits) {
  PeArith fp16_arith = arith;
  fp16_arith.acc = Format::kFp16;
  m_partial = static_cast<std::uint16_t>(pe_mac(fp16_arith, mode, m_partial, a_bits, b_bits));
  count_term();
}

void ChunkedFp16Accumulator::dot(const PeArith& arith, PeMode mode, const std::uint32_t* a_bits,
                                 const std::uint32_t* b_bits, std::size_t n) {
  if (m_in_chunk + n > m_chunk) {
    throw FormatError("chunk size", "a dot product of " + std::to_string(n) + " terms would cross the chunk of " +
                                        std::to_string(m_chunk) + " after " + std::to_string(m_in_chunk) +
                                        " terms: chunks must be whole dot products");
  }
  PeArith fp16_arith = arith;
  fp16_arith.acc = Format::kFp16;
  m_partial = static_cast<std::uint16_t>(pe_dot(fp16_arith, mode, m_partial, a_bits, b_bits, n));
  for (std::size_t i = 0; i < n; ++i) count_term();  // the last one closes the chunk if it is full
}

std::uint32_t ChunkedFp16Accumulator::total_fp32() const {
  return m_in_chunk == 0 ? m_total : fp32_add(m_total, widen(m_partial));
}

float ChunkedFp16Accumulator::total() const { return fp32_value(total_fp32()); }

}  // namespace nibble::numerics
