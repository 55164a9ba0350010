// The Verilated RTL tile behind one size-independent interface. Verilator
// compiles one SystemC model per parameter set (ROWS, COLS, DOT_N) and waveform
// format; this header lists the ones this build holds and makes one of them,
// with its ports bound to signals the driver writes and the checker reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <systemc>

namespace nibble::cosim {

/// Waveform format of a Verilated variant (each is compiled with one tracer).
enum class WaveFormat : std::uint8_t { kVcd, kFst };

/// The RTL tile's ports for the driver and the checker. Inputs written in a
/// cycle are seen by the RTL at the clock edge that ends that cycle; outputs
/// read at a clock edge are the values of the cycle that edge ends.
class RtlTile {
 public:
  virtual ~RtlTile() = default;

  virtual std::uint64_t rows() const = 0;  ///< R
  virtual std::uint64_t cols() const = 0;  ///< C
  virtual std::uint64_t dot() const = 0;   ///< N, products per PE (1: MAC PEs)

  /// rst_n = !active.
  virtual void set_reset(bool active) = 0;
  /// Weight port: valid and, when valid, the C*N codes of one PE row (lane
  /// c*N + j = codes[c*N + j] = B[pN + j][c] for PE row p).
  virtual void set_weights(bool valid, const std::uint32_t* codes) = 0;
  /// Input port: valid and, when valid, R*N codes, C psum_in words, the PeMode
  /// value, the accumulator (true = fp16), whether the codes are UINT4
  /// (PeArith::a_unsigned) and whether this is the fold's last vector.
  virtual void set_inputs(bool valid, const std::uint32_t* codes, const std::uint32_t* psum, unsigned mode,
                          bool acc_fp16, bool a_unsigned, bool last) = 0;

  virtual bool w_ready() const = 0;    ///< weight port ready
  virtual bool a_ready() const = 0;    ///< input port ready
  virtual bool o_valid() const = 0;    ///< an output vector is presented
  virtual bool o_last() const = 0;     ///< ... and it is its fold's last
  virtual bool fold_done() const = 0;  ///< a fold is done in this cycle
  /// The C words of the output port into out[0..C).
  virtual void read_outputs(std::uint32_t* out) const = 0;

  /// Starts writing the RTL's every signal to `path` (after elaboration).
  virtual void open_wave(const std::string& path) = 0;
  /// Flushes and closes the waveform, if one is open.
  virtual void close_wave() = 0;
  /// The errno value of the first failed waveform write (a full disk), kept
  /// after close_wave(); 0 if none. The VCD tracer drops the rest of the
  /// waveform after one; the FST tracer (Verilator's) reports none.
  virtual int wave_error() const = 0;
};

/// One Verilated model in this build.
struct RtlVariant {
  std::uint64_t rows;     ///< ROWS parameter
  std::uint64_t cols;     ///< COLS parameter
  std::uint64_t dot;      ///< DOT_N parameter
  WaveFormat wave;        ///< tracer compiled in
  std::unique_ptr<RtlTile> (*make)(const char* name, sc_core::sc_signal_in_if<bool>& clk);  ///< constructor
};

/// Every Verilated model this build holds (sizes x formats).
const std::vector<RtlVariant>& rtl_variants();
/// The sizes, e.g. "8x8, 4x4, 2x3, 8x4 {setting:dot} 4" (setting_ref), for messages.
std::string rtl_size_list();

/// Makes the tile of size rows x cols with N = dot products per PE whose
/// tracer writes `wave`; nullptr if this build has no such model. Call during
/// elaboration.
std::unique_ptr<RtlTile> make_rtl_tile(const char* name, sc_core::sc_signal_in_if<bool>& clk,
                                       std::uint64_t rows, std::uint64_t cols, std::uint64_t dot, WaveFormat wave);

}  // namespace nibble::cosim
