// The SystemC tile model of the co-simulation: an sc_module around the
// weight-stationary rules of sim/arch (WsTileSchedule for the cycles,
// compute_tile_fold for the values). It is handed each op as the driver hands
// it to the RTL, and at every clock edge publishes what the tile's ports must
// do in the cycle that begins: which weight row and input vector are
// accepted, which output vector is presented, which fold is done.
#pragma once

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "sim/arch/tile.hpp"
#include "sim/cosim/ops.hpp"

namespace nibble::cosim {

/// The port activity the model expects in one cycle.
struct ModelPorts {
  bool w_fire = false;         ///< a weight row is accepted ...
  std::uint64_t w_op = 0;      ///< ... of this op
  std::uint64_t w_beat = 0;    ///< ... beat j, carrying B row R-1-j
  bool a_fire = false;         ///< an input vector is accepted ...
  std::uint64_t a_op = 0;      ///< ... of this op
  std::uint64_t a_vector = 0;  ///< ... vector m
  bool o_valid = false;        ///< an output vector is presented ...
  bool o_last = false;         ///< ... the op's last
  std::uint64_t o_op = 0;      ///< ... of this op
  std::uint64_t o_vector = 0;  ///< ... vector m
  bool done = false;           ///< an op is done in this cycle ...
  std::uint64_t done_op = 0;   ///< ... this one

  bool operator==(const ModelPorts& other) const;
};
/// For sc_signal<ModelPorts>: the fields that are active.
std::ostream& operator<<(std::ostream& out, const ModelPorts& ports);
/// For sc_signal<ModelPorts>: waveforms show the model through the RTL's, not this.
void sc_trace(sc_core::sc_trace_file* file, const ModelPorts& ports, const std::string& name);

/// Parameters of the model.
struct TileModelParams {
  std::uint64_t rows = 8;            ///< R, PE rows
  std::uint64_t cols = 8;            ///< C
  std::uint64_t dot = 1;             ///< N, products per PE: a fold reduces R*N rows
  std::uint64_t reset_edges = 2;     ///< clock edges before cycle 0 begins
};

class TileModel : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk;                  ///< the tile clock
  sc_core::sc_signal<ModelPorts> expected;   ///< port activity of the current cycle

  TileModel(const sc_core::sc_module_name& name, const TileModelParams& params);

  /// Schedules the next op (indices count from 0 in submission order) with
  /// its weights available from cycle `weights_ready` and inputs from
  /// `inputs_ready`, and computes its outputs. Must come before the op's
  /// first cycle (std::logic_error otherwise).
  arch::FoldTiming submit(std::shared_ptr<const CosimOp> op, std::uint64_t weights_ready,
                          std::uint64_t inputs_ready);

  std::uint64_t submitted() const { return m_first + m_folds.size(); }  ///< ops submitted so far
  /// Timing of a submitted, not yet retired op.
  const arch::FoldTiming& timing(std::uint64_t op) const { return fold(op).timing; }
  /// The op itself.
  const CosimOp& op(std::uint64_t op) const { return *fold(op).op; }
  /// Its output vector m: C words.
  const std::uint32_t* output(std::uint64_t op, std::uint64_t m) const;
  /// The partial sums down column c for vector m: psum_in, then after PE rows 0..R-1.
  std::vector<std::uint32_t> partial_sums(std::uint64_t op, std::uint64_t m, std::uint64_t c) const;
  /// Forgets every op up to and including `op` (the checker is done with them).
  void retire(std::uint64_t op);

 private:
  struct Fold {
    std::shared_ptr<const CosimOp> op;  ///< operands
    arch::FoldTiming timing;            ///< P, S, D
    std::vector<std::uint32_t> out;     ///< out[m * C + c]
  };

  const Fold& fold(std::uint64_t op) const;
  void tick();

  TileModelParams m_params;           ///< R, C, reset length
  arch::WsTileSchedule m_schedule;    ///< the timing rules
  std::deque<Fold> m_folds;           ///< ops m_first, m_first + 1, ...
  std::uint64_t m_first = 0;          ///< index of m_folds.front()
  std::uint64_t m_edges = 0;          ///< clock edges seen
  std::uint64_t m_next_w = 0;         ///< first op whose preload is not over
  std::uint64_t m_next_a = 0;         ///< first op whose stream is not over
  std::uint64_t m_next_o = 0;         ///< first op whose outputs are not over
  std::uint64_t m_next_d = 0;         ///< first op not yet done
};

}  // namespace nibble::cosim
