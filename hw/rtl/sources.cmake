# The RTL of the tile, in compilation order (the package first). Included by
# hw/CMakeLists.txt (lint) and sim/cosim/CMakeLists.txt (Verilated models).
set(NIBBLE_RTL_TOP nibble_ws_tile)
set(NIBBLE_RTL_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/nibble_pe_pkg.sv
    ${CMAKE_CURRENT_LIST_DIR}/nibble_pe.sv
    ${CMAKE_CURRENT_LIST_DIR}/nibble_ws_tile.sv)
