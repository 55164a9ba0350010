// The passive parts of a core: the PE array, the three scratchpads and the
// vector unit. They hold their configuration and the rules that depend only
// on it; the controller (Core) applies them op by op through sim/arch/engine.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>

#include "sim/arch/fold_clock.hpp"
#include "sim/design/design.hpp"

namespace nibble::arch {

/// The R x C systolic array.
class SystolicArray : public sc_core::sc_module {
 public:
  SystolicArray(sc_core::sc_module_name name, const design::Design& design);
  const design::ArrayConfig& config() const { return m_design.array; }
  /// A fresh fold schedule for one op (the dataflow's rules, docs/timing.md).
  std::unique_ptr<FoldClock> new_clock() const { return make_fold_clock(m_design); }

 private:
  design::Design m_design;  ///< the array's dataflow and timing convention live in the whole design
};

/// An on-chip buffer (input, weight or output).
class Scratchpad : public sc_core::sc_module {
 public:
  Scratchpad(sc_core::sc_module_name name, const design::ScratchpadConfig& config);
  const design::ScratchpadConfig& config() const { return m_config; }

 private:
  design::ScratchpadConfig m_config;  ///< capacity, width, banks, ports, double buffering
};

/// The element-wise unit (quantize, activations, norms, loss, optimizer).
class VectorUnit : public sc_core::sc_module {
 public:
  VectorUnit(sc_core::sc_module_name name, const design::VectorConfig& config);
  const design::VectorConfig& config() const { return m_config; }

 private:
  design::VectorConfig m_config;  ///< lanes and cycles per element by kind
};

}  // namespace nibble::arch
