// The VCD tracer of the Verilated tiles, writing through a file object of our
// own. Verilator's VerilatedVcdSc makes its own file object, and when a write
// fails (a full disk) it calls its fatal-error handler, which flushes the
// trace again from inside the writer: `nibble cosim --wave` hung there. Here
// the first failed write is recorded and the rest of the waveform dropped; the
// co-simulation stops at its next clock edge and names the file
// (RtlTile::wave_error). Private to the per-variant sources, like
// rtl_tile_impl.hpp: it includes Verilator's headers.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <systemc>

#include "verilated_vcd_c.h"

namespace nibble::cosim::detail {

/// A VCD file that never reports a failed write to Verilator: it keeps the
/// first error (an errno value) for the caller and drops what follows.
class CheckedVcdFile final : public VerilatedVcdFile {
 public:
  bool open(const std::string& name) override {
    m_fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_fd < 0 && m_error == 0) m_error = errno;
    return m_fd >= 0;
  }

  void close() override {
    if (m_fd < 0) return;
    if (::close(m_fd) != 0 && m_error == 0) m_error = errno;
    m_fd = -1;
  }

  ssize_t write(const char* bufp, ssize_t len) override {
    while (m_error == 0 && m_fd >= 0) {
      const ssize_t got = ::write(m_fd, bufp, static_cast<std::size_t>(len));
      if (got > 0) return got;  // Verilator writes the rest
      if (got < 0 && errno == EINTR) continue;
      m_error = got < 0 ? errno : EIO;  // 0 bytes for a non-empty write: nothing more will go
    }
    return len;  // dropped: a negative result would reach Verilator's fatal handler
  }

  /// The errno value of the first failed open, write or close; 0 if none.
  int error() const { return m_error; }

 private:
  int m_fd = -1;     ///< open file, -1 when closed
  int m_error = 0;   ///< first failure's errno
};

/// Holds the file so that it is built before, and destroyed after, the
/// VerilatedVcdC that writes through it (base classes are built in order).
struct CheckedVcdFileHolder {
  CheckedVcdFile m_file;  ///< the file the tracer writes through
};

/// VerilatedVcdSc with a CheckedVcdFile: registered with the SystemC kernel,
/// which calls cycle() at the end of every time step, exactly as Verilator's.
class CheckedVcdSc final : private CheckedVcdFileHolder, public sc_core::sc_trace_file, public VerilatedVcdC {
 public:
  CheckedVcdSc() : VerilatedVcdC(&m_file) {
    sc_core::sc_get_curr_simcontext()->add_trace_file(this);
    // Time unit and resolution as VerilatedVcdSc sets them.
    const sc_core::sc_time second{1, sc_core::SC_SEC};
    if (second.to_default_time_units() != 0) {
      const sc_core::sc_time unit{1.0 / second.to_default_time_units(), sc_core::SC_SEC};
      spTrace()->set_time_unit(unit.to_string());
    }
    spTrace()->set_time_resolution(sc_core::sc_get_time_resolution().to_string());
  }
  ~CheckedVcdSc() override {
    close();
    sc_core::sc_get_curr_simcontext()->remove_trace_file(this);
  }
  CheckedVcdSc(const CheckedVcdSc&) = delete;
  CheckedVcdSc& operator=(const CheckedVcdSc&) = delete;

  /// The errno value of the first failed write; 0 if none.
  int error() const { return m_file.error(); }

  void cycle(bool delta_cycle) override {
    if (!delta_cycle) dump(sc_core::sc_time_stamp().to_double());
  }

 private:
  // sc_trace_file's tracing of SystemC objects: the Verilated model traces its
  // own signals through VerilatedVcdC, so these are never called.
  void set_time_unit(double, sc_core::sc_time_unit) override {}
  void write_comment(const std::string&) override {}
  void trace(const unsigned int&, const std::string&, const char**) override {}
#define NIBBLE_TRACE_A(type) \
  void trace(const type&, const std::string&) override {}
#define NIBBLE_TRACE_B(type) \
  void trace(const type&, const std::string&, int) override {}
  NIBBLE_TRACE_A(sc_core::sc_event)
  NIBBLE_TRACE_A(sc_core::sc_time)
  NIBBLE_TRACE_A(bool)
  NIBBLE_TRACE_A(sc_dt::sc_bit)
  NIBBLE_TRACE_A(sc_dt::sc_logic)
  NIBBLE_TRACE_B(unsigned char)
  NIBBLE_TRACE_B(unsigned short)
  NIBBLE_TRACE_B(unsigned int)
  NIBBLE_TRACE_B(unsigned long)
  NIBBLE_TRACE_B(char)
  NIBBLE_TRACE_B(short)
  NIBBLE_TRACE_B(int)
  NIBBLE_TRACE_B(long)
  NIBBLE_TRACE_B(sc_dt::int64)
  NIBBLE_TRACE_B(sc_dt::uint64)
  NIBBLE_TRACE_A(float)
  NIBBLE_TRACE_A(double)
  NIBBLE_TRACE_A(sc_dt::sc_int_base)
  NIBBLE_TRACE_A(sc_dt::sc_uint_base)
  NIBBLE_TRACE_A(sc_dt::sc_signed)
  NIBBLE_TRACE_A(sc_dt::sc_unsigned)
  NIBBLE_TRACE_A(sc_dt::sc_fxval)
  NIBBLE_TRACE_A(sc_dt::sc_fxval_fast)
  NIBBLE_TRACE_A(sc_dt::sc_fxnum)
  NIBBLE_TRACE_A(sc_dt::sc_fxnum_fast)
  NIBBLE_TRACE_A(sc_dt::sc_bv_base)
  NIBBLE_TRACE_A(sc_dt::sc_lv_base)
#undef NIBBLE_TRACE_A
#undef NIBBLE_TRACE_B
};

/// The first write error of a tracer: only CheckedVcdSc sees its writes.
inline int wave_error_of(const CheckedVcdSc& tracer) { return tracer.error(); }
template <class Tracer>
int wave_error_of(const Tracer&) {
  return 0;
}

}  // namespace nibble::cosim::detail
