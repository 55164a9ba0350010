#include "sim/arch/components.hpp"

namespace nibble::arch {

SystolicArray::SystolicArray(sc_core::sc_module_name name, const design::Design& design)
    : sc_core::sc_module(name), m_design(design) {}

Scratchpad::Scratchpad(sc_core::sc_module_name name, const design::ScratchpadConfig& config)
    : sc_core::sc_module(name), m_config(config) {}

VectorUnit::VectorUnit(sc_core::sc_module_name name, const design::VectorConfig& config)
    : sc_core::sc_module(name), m_config(config) {}

}  // namespace nibble::arch
