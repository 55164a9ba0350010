// The RTL PE (hw/rtl/nibble_pe.sv, Verilated as C++) against numerics::pe_mac:
// every 4-bit operand pair of the three modes (and the UINT4 A codes 8..15 of
// the two modes with an unsigned A) with every FP16 accumulator
// pattern (65,536) and 4,096 int32 ones, bit for bit; and the dot-product PE
// (DOT_N = 4) against numerics::pe_dot: millions of random operand vectors and
// accumulator words in every datapath and accumulator, with the operand and
// accumulator corners drawn more often than chance would. Plus values derived
// by hand, so that an error shared by the RTL and the reference would still show.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>

#include "Vnibble_pe.h"
#include "Vnibble_pe_dot4.h"
#include "sim/numerics/dot.hpp"
#include "sim/numerics/pe.hpp"
#include "verilated.h"

namespace {

using nibble::numerics::Format;
using nibble::numerics::PeArith;
using nibble::numerics::PeMode;

/// One clock cycle of a Verilated PE (either DOT_N).
template <class V>
void clock(V& pe) {
  pe.clk = 0;
  pe.eval();
  pe.clk = 1;
  pe.eval();
}

/// The tag_t word of a valid vector: {valid, first, last, mode[1:0], acc_fp16, a_uns} (hw/rtl/nibble_pe_pkg.sv).
std::uint32_t valid_tag(PeMode mode, bool fp16, bool first, bool a_unsigned) {
  return (1u << 6) | (first ? 1u << 5 : 0u) | (static_cast<std::uint32_t>(mode) << 2) | (fp16 ? 1u << 1 : 0u) |
         (a_unsigned ? 1u : 0u);
}

/// The PE with a clock: preload a weight, then one multiply-accumulate per call.
class Pe {
 public:
  Pe() : m_pe(std::make_unique<Vnibble_pe>()) {
    m_pe->rst_n = 0;
    tick();
    m_pe->rst_n = 1;
  }
  ~Pe() { m_pe->final(); }

  /// Shifts `code` into the shadow register (the PE is the top of its chain).
  void load(std::uint32_t code) {
    m_pe->shift_i = 1;
    m_pe->w_i = code;
    m_pe->tag_i = 0;
    tick();
    m_pe->shift_i = 0;
  }

  /// psum_o after one cycle with a valid vector (first = use the shadow weight).
  std::uint32_t mac(PeMode mode, bool fp16, std::uint32_t acc, std::uint32_t a, bool first = false,
                    bool a_unsigned = false) {
    m_pe->tag_i = valid_tag(mode, fp16, first, a_unsigned);
    m_pe->a_i = a;
    m_pe->psum_i = acc;
    tick();
    return m_pe->psum_o;
  }

 private:
  void tick() { clock(*m_pe); }
  std::unique_ptr<Vnibble_pe> m_pe;  ///< the Verilated PE (FP4 bias 7)
};

/// Every datapath: the three modes, and the two whose streamed A is an activation with A read as UINT4.
struct Variant {
  PeMode mode;      ///< datapath
  bool a_unsigned;  ///< PeArith::a_unsigned
};
const Variant kVariants[] = {{PeMode::kInt4xInt4, false}, {PeMode::kFp4xInt4, false}, {PeMode::kInt4xFp4, false},
                             {PeMode::kInt4xInt4, true},  {PeMode::kInt4xFp4, true}};

TEST(RtlPe, EveryOperandPairAndFp16AccumulatorMatchesPeMac) {
  Pe pe;
  PeArith arith;
  arith.acc = Format::kFp16;
  std::uint64_t checked = 0;
  for (const auto [mode, uns] : kVariants) {
    arith.a_unsigned = uns;
    for (std::uint32_t b = 0; b < 16; ++b) {
      pe.load(b);
      pe.mac(mode, true, 0, 0, true);  // copy shadow -> active
      // UINT4 codes 0..7 read as the INT4 ones, already covered: only 8..15 differ.
      for (std::uint32_t a = uns ? 8 : 0; a < 16; ++a) {
        for (std::uint32_t acc = 0; acc < 0x10000u; ++acc) {
          const std::uint32_t want = nibble::numerics::pe_mac(arith, mode, acc, a, b);
          const std::uint32_t got = pe.mac(mode, true, acc, a, false, uns);
          if (got != want) {
            FAIL() << "mode " << static_cast<int>(mode) << (uns ? " (A uint4)" : "") << " a=" << a << " b=" << b << " acc=0x" << std::hex << acc
                   << ": RTL 0x" << got << ", pe_mac 0x" << want;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, (3u * 256u + 2u * 128u) * 65536u);
}

TEST(RtlPe, EveryOperandPairAndInt32AccumulatorsMatchPeMac) {
  Pe pe;
  PeArith arith;
  arith.acc = Format::kInt32;
  for (const auto [mode, uns] : kVariants) {
    arith.a_unsigned = uns;
    for (std::uint32_t b = 0; b < 16; ++b) {
      pe.load(b);
      pe.mac(mode, false, 0, 0, true);
      for (std::uint32_t a = 0; a < 16; ++a) {
        for (std::uint32_t i = 0; i < 4096; ++i) {
          // Near both saturation limits, near zero, and spread over the range.
          const std::uint32_t acc = i < 1024   ? 0x7FFFFFFFu - i
                                    : i < 2048 ? 0x80000000u + (i - 1024)
                                    : i < 3072 ? (i - 2048) - 512u
                                               : (i - 3072) * 4194301u;
          const std::uint32_t want = nibble::numerics::pe_mac(arith, mode, acc, a, b);
          const std::uint32_t got = pe.mac(mode, false, acc, a, false, uns);
          if (got != want) {
            FAIL() << "mode " << static_cast<int>(mode) << (uns ? " (A uint4)" : "") << " a=" << a << " b=" << b << " acc=0x" << std::hex << acc
                   << ": RTL 0x" << got << ", pe_mac 0x" << want;
          }
        }
      }
    }
  }
}

TEST(RtlPe, HandDerivedValues) {
  Pe pe;
  // INT4: -8 x -8 = +64, the one product that needs 8 bits; 0x7FFFFFC0 + 64 saturates at 0x7FFFFFFF.
  pe.load(0x8);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0, 0x8, true), 64u);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0x7FFFFFC0u, 0x8), 0x7FFFFFFFu);
  // -8 x 7 = -56 onto INT32_MIN + 55 = INT32_MIN - 1: saturates at INT32_MIN.
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0x80000037u, 0x7), 0x80000000u);
  // FP16: 65504 (0x7BFF) + 64 = 65568 >= 65520, the rounding boundary to inf: +inf (0x7C00).
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, true, 0x7BFFu, 0x8), 0x7C00u);
  // a = -1, b = -8: +8. 2048 (0x6800, ulp 2) + 8 = 2056 = 2048 x (1 + 4/1024): 0x6804.
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, true, 0x6800u, 0xF), 0x6804u);
  // NaN in: canonical 0x7E00; -inf + 64 = -inf.
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, true, 0xFE55u, 0x8), 0x7E00u);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, true, 0xFC00u, 0x8), 0xFC00u);

  // INT4 x FP4, B = FP4 code 0x1 (+4^(1-7) = 2^-12, shift 0), A = -1: the product is -2^-12.
  // 0x0BFF = (2 - 2^-10) 2^-13 = 2^-12 - 2^-23; minus 2^-12 = -2^-23 = -2 x 2^-24: subnormal 0x8002.
  pe.load(0x1);
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, true, 0x0BFFu, 0xF, true), 0x8002u);
  // 0x0001 (2^-24) - 2^-12 = -(4095 x 2^-24); in [2^-13, 2^-12) the ulp is 2^-23, so 4095/2 ulps is a
  // tie between 2047 (odd) and 2048 (even) ulps: -2048 x 2^-23 = -2^-12 = 0x8C00.
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, true, 0x0001u, 0xF), 0x8C00u);
  // 0.5 (0x3800, ulp 2^-11) + 2^-12 is a tie: stays 0.5 (even); 0x3801 + 2^-12 ties up to 0x3802.
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, true, 0x3800u, 0x1), 0x3800u);
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, true, 0x3801u, 0x1), 0x3802u);
  // int32 accumulator, fixed point with LSB 2^-12: the product is the integer -1.
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, false, 10u, 0xF), 9u);

  // FP4 x INT4, B = INT4 -8, A = FP4 0xF (-4^(7-7), shift 2(7-1) = 12): P = -(-8 << 12) = +32768.
  pe.load(0x8);
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, false, 0, 0xF, true), 32768u);
  // In FP16 that is 32768 x 2^-12 = 8: 0x4800; onto -8 (0xC800) it cancels to +0.
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, true, 0, 0xF), 0x4800u);
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, true, 0xC800u, 0xF), 0x0000u);
  // Either FP4 zero (0x0, 0x8 = -0) gives a zero product: the accumulator passes unchanged.
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, true, 0x1234u, 0x8), 0x1234u);
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, false, 0xDEADBEEFu, 0x0), 0xDEADBEEFu);
  // a_unsigned has no effect in kFp4xInt4 (A is the FP4 gradient, B the signed weight): still +32768.
  EXPECT_EQ(pe.mac(PeMode::kFp4xInt4, false, 0, 0xF, false, true), 32768u);

  // UINT4 activations. B = INT4 7: A = 15 -> 105; A = 0b1000 reads +8 (not -8) -> 56.
  pe.load(0x7);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0, 0xF, true, true), 105u);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0, 0x8, false, true), 56u);
  // B = INT4 -8: 15 x -8 = -120, the most negative UINT4 x INT4 product; in FP16 onto +0: -120 = 0xD780.
  pe.load(0x8);
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, false, 0, 0xF, true, true), static_cast<std::uint32_t>(-120));
  EXPECT_EQ(pe.mac(PeMode::kInt4xInt4, true, 0, 0xF, false, true), 0xD780u);
  // UINT4 15 x FP4 0xF (-4^0, shift 12): -(15 << 12) = -61440, the largest product magnitude; in FP16
  // it is -61440 x 2^-12 = -15 = 0xCB80 (1.875 x 2^3: exponent 18, mantissa 0x380).
  pe.load(0xF);
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, false, 0, 0xF, true, true), static_cast<std::uint32_t>(-61440));
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, true, 0, 0xF, false, true), 0xCB80u);
  // The same code read signed is -1: -(-1 << 12) = +4096.
  EXPECT_EQ(pe.mac(PeMode::kInt4xFp4, false, 0, 0xF), 4096u);
}

// ---- the dot-product PE

constexpr std::size_t kN = 4;  ///< DOT_N of the Verilated PE (tests/cosim/CMakeLists.txt)
using Codes = std::array<std::uint32_t, kN>;

/// Packs N 4-bit codes, lane j at bits 4j+3:4j (the PE's a_i and w_i).
std::uint32_t pack(const Codes& codes) {
  std::uint32_t word = 0;
  for (std::size_t j = 0; j < kN; ++j) word |= (codes[j] & 0xFu) << (4 * j);
  return word;
}

/// The dot-product PE with a clock: preload N weights, then one dot product per call.
class DotPe {
 public:
  DotPe() : m_pe(std::make_unique<Vnibble_pe_dot4>()) {
    m_pe->rst_n = 0;
    tick();
    m_pe->rst_n = 1;
  }
  ~DotPe() { m_pe->final(); }

  /// Shifts the N weights into the shadow register and copies them to the active one.
  void load(const Codes& b, PeMode mode, bool fp16) {
    m_pe->shift_i = 1;
    m_pe->w_i = pack(b);
    m_pe->tag_i = 0;
    tick();
    m_pe->shift_i = 0;
    dot(mode, fp16, 0, Codes{}, true);
  }

  /// psum_o after one cycle with a valid vector (first = use the shadow weights).
  std::uint32_t dot(PeMode mode, bool fp16, std::uint32_t acc, const Codes& a, bool first = false,
                    bool a_unsigned = false) {
    m_pe->tag_i = valid_tag(mode, fp16, first, a_unsigned);
    m_pe->a_i = pack(a);
    m_pe->psum_i = acc;
    tick();
    return m_pe->psum_o;
  }

 private:
  void tick() { clock(*m_pe); }
  std::unique_ptr<Vnibble_pe_dot4> m_pe;  ///< the Verilated PE (FP4 bias 7, DOT_N 4)
};

/// A 4-bit code: half the time a corner (0, the largest magnitudes, FP4 +-0 and the largest shifts).
std::uint32_t draw_code(std::mt19937_64& rng) {
  static const std::uint32_t kCorners[] = {0x0, 0x7, 0x8, 0xF, 0x1, 0x9};
  if (rng() % 2 == 0) return kCorners[rng() % 6];
  return static_cast<std::uint32_t>(rng() % 16);
}

/// An accumulator word: FP16 any pattern (a quarter near the overflow and subnormal ends), int32 a
/// quarter within 2^18 of each saturation limit.
std::uint32_t draw_acc(std::mt19937_64& rng, bool fp16) {
  const auto r = static_cast<std::uint32_t>(rng());
  if (fp16) {
    switch (rng() % 8) {
      case 0: return 0x7B00u | (r & 0x80FFu);  // |acc| near 65504
      case 1: return r & 0x83FFu;              // subnormal
      default: return r & 0xFFFFu;
    }
  }
  switch (rng() % 4) {
    case 0: return 0x7FFFFFFFu - (r & 0x3FFFFu);
    case 1: return 0x80000000u + (r & 0x3FFFFu);
    default: return r;
  }
}

TEST(RtlDotPe, MillionsOfRandomDotProductsMatchPeDot) {
  DotPe pe;
  std::mt19937_64 rng(15);
  std::uint64_t checked = 0;
  for (const bool fp16 : {true, false}) {
    PeArith arith;
    arith.acc = fp16 ? Format::kFp16 : Format::kInt32;
    for (const auto [mode, uns] : kVariants) {
      arith.a_unsigned = uns;
      // 2,000 weight vectors x 250 activation vectors and accumulators per datapath and accumulator.
      for (int w = 0; w < 2000; ++w) {
        Codes b;
        for (auto& code : b) code = draw_code(rng);
        pe.load(b, mode, fp16);
        for (int i = 0; i < 250; ++i) {
          Codes a;
          for (auto& code : a) code = draw_code(rng);
          const std::uint32_t acc = draw_acc(rng, fp16);
          const std::uint32_t want = nibble::numerics::pe_dot(arith, mode, acc, a.data(), b.data(), kN);
          const std::uint32_t got = pe.dot(mode, fp16, acc, a, false, uns);
          if (got != want) {
            FAIL() << "mode " << static_cast<int>(mode) << (uns ? " (A uint4)" : "") << (fp16 ? " fp16" : " int32")
                   << std::hex << " a=0x" << pack(a) << " b=0x" << pack(b) << " acc=0x" << acc << ": RTL 0x" << got
                   << ", pe_dot 0x" << want;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 2u * 5u * 2000u * 250u);  // 5,000,000
}

TEST(RtlDotPe, HandDerivedValues) {
  DotPe pe;
  // docs/timing.md's example: FP16 2048 (0x6800, ulp 2) + 1 + 1. Two MACs round twice (2048 + 1 ties
  // back to 2048 each time); one dot product adds 2 exactly: 2050 = 0x6801.
  pe.load({1, 1, 0, 0}, PeMode::kInt4xInt4, true);
  EXPECT_EQ(pe.dot(PeMode::kInt4xInt4, true, 0x6800u, {1, 1, 1, 1}), 0x6801u);
  // Four -8 x -8 = 4 x 64 = 256 onto INT32_MAX - 255: exactly INT32_MAX; one more saturates.
  pe.load({8, 8, 8, 8}, PeMode::kInt4xInt4, false);
  EXPECT_EQ(pe.dot(PeMode::kInt4xInt4, false, 0x7FFFFF00u - 1u, {8, 8, 8, 8}), 0x7FFFFFFFu);
  EXPECT_EQ(pe.dot(PeMode::kInt4xInt4, false, 0x7FFFFF00u, {8, 8, 8, 8}), 0x7FFFFFFFu);
  // Mixed codes: -8 x -8 + -1 x -8 + -8 x -8 + -1 x -8 = 64 + 8 + 64 + 8 = 144.
  EXPECT_EQ(pe.dot(PeMode::kInt4xInt4, false, 12345u, {8, 0xF, 8, 0xF}), 12345u + 144u);
  // UINT4 15 x FP4 0xF (-4^0, shift 12) four times: -4 x 61440 = -245760, the largest sum magnitude of
  // this PE (19 signed bits at the tree's root); in FP16 that is -245760 x 2^-12 = -60 = 0xD380.
  pe.load({0xF, 0xF, 0xF, 0xF}, PeMode::kInt4xFp4, false);
  EXPECT_EQ(pe.dot(PeMode::kInt4xFp4, false, 0, {0xF, 0xF, 0xF, 0xF}, false, true), static_cast<std::uint32_t>(-245760));
  EXPECT_EQ(pe.dot(PeMode::kInt4xFp4, true, 0, {0xF, 0xF, 0xF, 0xF}, false, true), 0xD380u);
  // FP16 65504 (0x7BFF) - 60 = 65444, ulp 32: 65444 / 32 = 2045.125 -> 2045 x 32 = 65440 = 0x7BFD.
  EXPECT_EQ(pe.dot(PeMode::kInt4xFp4, true, 0x7BFFu, {0xF, 0xF, 0xF, 0xF}, false, true), 0x7BFDu);
  // The smallest products: FP4 code 1 (4^(1-7) = 2^-12) x INT4 1, four of them: 4 x 2^-12 = 2^-10 = 0x1400,
  // where four MACs onto 0.5 (ulp 2^-11) would each tie back to 0.5: one dot product gives 0.5 + 2^-10 = 0x3802.
  pe.load({1, 1, 1, 1}, PeMode::kInt4xFp4, true);
  EXPECT_EQ(pe.dot(PeMode::kInt4xFp4, true, 0, {1, 1, 1, 1}), 0x1400u);
  EXPECT_EQ(pe.dot(PeMode::kInt4xFp4, true, 0x3800u, {1, 1, 1, 1}), 0x3802u);
}

}  // namespace
