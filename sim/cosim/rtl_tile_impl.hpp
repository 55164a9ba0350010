// RtlTile over one Verilated model class. Private to the variant table CMake
// generates (rtl_variants.cpp.in): only it includes a Verilated header, whose
// old-style <systemc.h> must not leak into the rest of nibble.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include <systemc>

#include "sim/cosim/checked_vcd.hpp"
#include "sim/cosim/rtl_tile.hpp"
#include "verilated.h"

namespace nibble::cosim::detail {

/// The C++ type Verilator 5 gives an N-bit SystemC port (N >= 2): uint32_t up
/// to 32 bits, uint64_t up to 64, sc_bv<N> beyond.
template <int N>
using PortType = std::conditional_t<(N <= 32), std::uint32_t,
                                    std::conditional_t<(N <= 64), std::uint64_t, sc_dt::sc_bv<N>>>;

/// Packs `count` fields of `width` bits (lane i at bits i*width) into a port value.
template <int N>
void pack(PortType<N>& dst, const std::uint32_t* fields, int count, int width) {
  const std::uint32_t mask = width == 32 ? 0xFFFFFFFFu : (1u << width) - 1u;
  if constexpr (N <= 64) {
    PortType<N> value = 0;
    for (int i = 0; i < count; ++i) value |= static_cast<PortType<N>>(fields[i] & mask) << (i * width);
    dst = value;
  } else {
    // sc_bv words are 32 bits; fields never straddle a word (width 4 or 32).
    for (int w = 0; w < (N + 31) / 32; ++w) dst.set_word(w, 0);
    for (int i = 0; i < count; ++i) {
      const int bit = i * width;
      const int word = bit / 32;
      dst.set_word(word, dst.get_word(word) | ((fields[i] & mask) << (bit % 32)));
    }
  }
}

/// Unpacks `count` 32-bit lanes of a port value.
template <int N>
void unpack32(const PortType<N>& src, std::uint32_t* out, int count) {
  if constexpr (N <= 64) {
    for (int i = 0; i < count; ++i) out[i] = static_cast<std::uint32_t>(src >> (32 * i));
  } else {
    for (int i = 0; i < count; ++i) out[i] = src.get_word(i);
  }
}

/// RtlTile for Verilated model `V` (ROWS = R, COLS = C, DOT_N = N) with tracer `Tracer`.
template <class V, class Tracer, int R, int C, int N>
class RtlTileImpl final : public RtlTile {
 public:
  RtlTileImpl(const char* name, sc_core::sc_signal_in_if<bool>& clk)
      : m_rst_n("rst_n"), m_w_valid("w_valid"), m_w_ready("w_ready"), m_w_row("w_row"),
        m_a_valid("a_valid"), m_a_ready("a_ready"), m_a_vec("a_vec"), m_a_psum("a_psum"),
        m_a_mode("a_mode"), m_a_acc_fp16("a_acc_fp16"), m_a_unsigned("a_unsigned"), m_a_last("a_last"), m_o_valid("o_valid"),
        m_o_last("o_last"), m_o_psum("o_psum"), m_fold_done("fold_done") {
    // Tracing must be enabled before time 0 and before the model is built.
    Verilated::traceEverOn(true);
    m_model = std::make_unique<V>(name);
    m_model->clk(clk);
    m_model->rst_n(m_rst_n);
    m_model->w_valid(m_w_valid);
    m_model->w_ready(m_w_ready);
    m_model->w_row(m_w_row);
    m_model->a_valid(m_a_valid);
    m_model->a_ready(m_a_ready);
    m_model->a_vec(m_a_vec);
    m_model->a_psum(m_a_psum);
    m_model->a_mode(m_a_mode);
    m_model->a_acc_fp16(m_a_acc_fp16);
    m_model->a_unsigned(m_a_unsigned);
    m_model->a_last(m_a_last);
    m_model->o_valid(m_o_valid);
    m_model->o_last(m_o_last);
    m_model->o_psum(m_o_psum);
    m_model->fold_done(m_fold_done);
  }

  ~RtlTileImpl() override { close_wave(); }

  std::uint64_t rows() const override { return R; }
  std::uint64_t cols() const override { return C; }
  std::uint64_t dot() const override { return N; }

  void set_reset(bool active) override { m_rst_n.write(!active); }

  void set_weights(bool valid, const std::uint32_t* codes) override {
    m_w_valid.write(valid);
    if (!valid) return;  // the data lanes keep their last value: nothing toggles
    pack<4 * C * N>(m_w_scratch, codes, C * N, 4);
    m_w_row.write(m_w_scratch);
  }

  void set_inputs(bool valid, const std::uint32_t* codes, const std::uint32_t* psum, unsigned mode, bool acc_fp16,
                  bool a_unsigned, bool last) override {
    m_a_valid.write(valid);
    if (!valid) return;
    pack<4 * R * N>(m_a_scratch, codes, R * N, 4);
    m_a_vec.write(m_a_scratch);
    pack<32 * C>(m_psum_scratch, psum, C, 32);
    m_a_psum.write(m_psum_scratch);
    m_a_mode.write(mode);
    m_a_acc_fp16.write(acc_fp16);
    m_a_unsigned.write(a_unsigned);
    m_a_last.write(last);
  }

  bool w_ready() const override { return m_w_ready.read(); }
  bool a_ready() const override { return m_a_ready.read(); }
  bool o_valid() const override { return m_o_valid.read(); }
  bool o_last() const override { return m_o_last.read(); }
  bool fold_done() const override { return m_fold_done.read(); }
  void read_outputs(std::uint32_t* out) const override { unpack32<32 * C>(m_o_psum.read(), out, C); }

  void open_wave(const std::string& path) override {
    close_wave();
    m_tracer = std::make_unique<Tracer>();
    m_model->trace(m_tracer.get(), 99);  // every level of the hierarchy
    m_tracer->open(path.c_str());
  }

  void close_wave() override {
    if (!m_tracer) return;
    m_tracer->flush();
    m_tracer->close();
    m_wave_error = wave_error_of(*m_tracer);
    m_tracer.reset();
  }

  int wave_error() const override { return m_tracer ? wave_error_of(*m_tracer) : m_wave_error; }

 private:
  sc_core::sc_signal<bool> m_rst_n;                      ///< reset, active low
  sc_core::sc_signal<bool> m_w_valid;                    ///< weight port valid
  sc_core::sc_signal<bool> m_w_ready;                    ///< weight port ready
  sc_core::sc_signal<PortType<4 * C * N>> m_w_row;       ///< one PE row of weights
  sc_core::sc_signal<bool> m_a_valid;                    ///< input port valid
  sc_core::sc_signal<bool> m_a_ready;                    ///< input port ready
  sc_core::sc_signal<PortType<4 * R * N>> m_a_vec;       ///< one input vector
  sc_core::sc_signal<PortType<32 * C>> m_a_psum;         ///< its psum_in row
  sc_core::sc_signal<std::uint32_t> m_a_mode;            ///< PeMode value
  sc_core::sc_signal<bool> m_a_acc_fp16;                 ///< accumulator
  sc_core::sc_signal<bool> m_a_unsigned;                 ///< UINT4 streamed codes
  sc_core::sc_signal<bool> m_a_last;                     ///< last vector of its fold
  sc_core::sc_signal<bool> m_o_valid;                    ///< output valid
  sc_core::sc_signal<bool> m_o_last;                     ///< output is a fold's last
  sc_core::sc_signal<PortType<32 * C>> m_o_psum;         ///< output row
  sc_core::sc_signal<bool> m_fold_done;                  ///< fold done pulse
  PortType<4 * C * N> m_w_scratch{};                     ///< reused: no allocation per cycle
  PortType<4 * R * N> m_a_scratch{};                     ///< reused
  PortType<32 * C> m_psum_scratch{};                     ///< reused
  std::unique_ptr<V> m_model;                            ///< the Verilated tile
  std::unique_ptr<Tracer> m_tracer;                      ///< open waveform, if any
  int m_wave_error = 0;                                  ///< wave_error() of the closed waveform
};

}  // namespace nibble::cosim::detail
