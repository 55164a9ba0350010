#include "sim/cosim/cosim.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <systemc>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/progress.hpp"
#include "sim/common/text.hpp"
#include "sim/cosim/rtl_tile.hpp"
#include "sim/cosim/tile_model.hpp"
#include "sim/numerics/fp16.hpp"

namespace nibble::cosim {

namespace {

/// Clock edges with reset asserted before cycle 0 begins (the RTL resets synchronously).
constexpr std::uint64_t kResetEdges = 2;

/// An accumulator word in hex with its value in words.
std::string word_text(std::uint32_t word, AccKind acc) {
  if (acc == Format::kFp16) {
    if (numerics::fp16_is_nan(static_cast<std::uint16_t>(word))) return format_hex(word, 8) + " (fp16 NaN)";
    return format_hex(word, 8) + " (fp16 " + format_double(numerics::fp16_to_double(static_cast<std::uint16_t>(word))) + ")";
  }
  const std::int64_t v = word < 0x80000000u ? static_cast<std::int64_t>(word)
                                            : static_cast<std::int64_t>(word) - 0x100000000ll;
  return format_hex(word, 8) + " (" + std::to_string(v) + ")";
}

std::string op_summary(std::uint64_t index, const CosimOp& op, const arch::FoldTiming& t) {
  return "op " + std::to_string(index) + " (" + op.origin + "; " + std::string(mode_name(op.fold.mode)) + " " +
         std::string(numerics::format_name(op.fold.arith.acc)) + (op.fold.arith.a_unsigned ? ", A uint4" : "") +
         ", T=" + std::to_string(op.vectors) +
         ", P=" + std::to_string(t.preload_start) + " S=" + std::to_string(t.stream_start) +
         " D=" + std::to_string(t.done) + ")";
}

/// The driver, the checker and the two tiles in one SystemC module.
class Bench : public sc_core::sc_module {
 public:
  Bench(const sc_core::sc_module_name& name, const CosimOptions& options, OpSource& source, WaveFormat wave,
        CosimReport& report)
      : sc_core::sc_module(name),
        m_clk("clk", 1, sc_core::SC_NS, 0.5, 1, sc_core::SC_NS, true),
        m_model("model", TileModelParams{options.rows, options.cols, options.dot, kResetEdges}),
        m_options(options), m_source(source), m_report(report),
        m_rows(options.rows), m_cols(options.cols), m_dot(options.dot), m_k(options.rows * options.dot),
        m_row(options.cols * options.dot), m_codes(options.rows * options.dot), m_psum(options.cols),
        m_out(options.cols) {
    m_rtl = make_rtl_tile("rtl", m_clk, options.rows, options.cols, options.dot, wave);
    if (!m_rtl) throw std::logic_error("cosim: no Verilated model for this size (checked before)");
    m_model.clk(m_clk);
    m_rtl->set_reset(true);
    m_rtl->set_weights(false, nullptr);
    m_rtl->set_inputs(false, nullptr, nullptr, 0, false, false, false);
    SC_HAS_PROCESS(Bench);
    SC_METHOD(on_clock);
    sensitive << m_clk.posedge_event();
    dont_initialize();
    m_report.ops_by_mode.assign(tile_modes().size(), 0);
    submit_more(1);  // the model must know an op before its first cycle: keep one op ahead
  }

  RtlTile& rtl() { return *m_rtl; }
  bool empty() const { return m_submitted == 0; }

 private:
  struct Fed {
    std::shared_ptr<const CosimOp> op;  ///< operands
    std::uint64_t weights_ready;        ///< W: first cycle the weights may be presented
    std::uint64_t inputs_ready;         ///< A: first cycle the inputs may be presented
  };

  const Fed& fed(std::uint64_t op) const { return m_fed.at(op - m_fed_first); }

  /// Hands ops to the model until op `upto` is submitted (or the source ends).
  void submit_more(std::uint64_t upto) {
    while (!m_source_done && m_submitted <= upto) {
      auto next = m_source.next();
      if (!next) {
        m_source_done = true;
        break;
      }
      auto op = std::make_shared<const CosimOp>(std::move(*next));
      if (op->vectors == 0 || op->fold.a.size() != op->vectors * m_k || op->fold.b.size() != m_k * m_cols ||
          op->fold.psum_in.size() != op->vectors * m_cols) {
        throw std::logic_error("cosim: op '" + op->origin + "' does not fit the tile");
      }
      // Availability is measured from the previous op's stream start (docs/rtl.md).
      const std::uint64_t base = m_submitted == 0 ? 0 : m_last_timing.stream_start;
      const std::uint64_t w = op->weights_gap ? base + op->weights_gap : 0;
      const std::uint64_t a = op->inputs_gap ? base + op->inputs_gap : 0;
      m_last_timing = m_model.submit(op, w, a);
      m_fed.push_back(Fed{std::move(op), w, a});
      ++m_submitted;
      m_report.ops_fed = m_submitted;
    }
  }

  void on_clock() {
    if (m_rtl->wave_error() != 0) {  // the waveform lost a write: run_cosim() reports it
      sc_core::sc_stop();
      return;
    }
    ++m_edge;
    if (m_edge < kResetEdges) return;
    if (m_edge == kResetEdges) {
      m_rtl->set_reset(false);
      drive(0);
      return;
    }
    const std::uint64_t t = m_edge - kResetEdges - 1;  // the cycle that just ended
    const bool w_fire = m_w_valid && m_rtl->w_ready();
    const bool a_fire = m_a_valid && m_rtl->a_ready();
    if (!check(t, w_fire, a_fire)) {
      m_report.cycles = t;
      sc_core::sc_stop();
      return;
    }
    if (finished()) {
      // The last op is done in cycle t; R + C more idle cycles must stay idle
      // (no stray handshake, output or done pulse) before the run ends.
      if (!m_quiet_until) {
        m_report.cycles = t;
        m_quiet_until = t + m_rows + m_cols;
      }
      if (t >= *m_quiet_until) {
        sc_core::sc_stop();
        return;
      }
    }
    if (w_fire && ++m_w_beat == m_rows) {
      m_w_beat = 0;
      ++m_w_op;
    }
    if (a_fire && ++m_a_vector == fed(m_a_op).op->vectors) {
      m_a_vector = 0;
      ++m_a_op;
    }
    while (m_fed_first < std::min(m_w_op, m_a_op)) {
      m_fed.pop_front();
      ++m_fed_first;
    }
    submit_more(std::max(m_w_op, m_a_op) + 1);
    // Nothing is expected any more, yet the run is not over: the harness itself is wrong.
    if (m_submitted > 0 && t > m_last_timing.done + 4 * (m_rows + m_cols) + 16) {
      throw std::logic_error("cosim: the simulation stalled in cycle " + std::to_string(t));
    }
    drive(t + 1);
  }

  bool finished() const { return m_source_done && m_report.ops == m_submitted; }

  /// Presents the ports' values for cycle t.
  void drive(std::uint64_t t) {
    const Fault& fault = m_options.fault;
    m_w_valid = m_w_op < m_submitted && t >= fed(m_w_op).weights_ready;
    if (m_w_valid) {
      const CosimOp& op = *fed(m_w_op).op;
      const std::uint64_t p = m_rows - 1 - m_w_beat;  // bottom PE row first
      // Lane c*N + j: B row pN + j of column c (the N weights of PE (p, c)).
      for (std::uint64_t c = 0; c < m_cols; ++c) {
        for (std::uint64_t j = 0; j < m_dot; ++j) {
          const std::uint64_t r = p * m_dot + j;
          m_row[c * m_dot + j] = op.fold.b[r * m_cols + c];
          if (fault.kind == Fault::Kind::kWeight && fault.op == m_w_op && fault.row == r && fault.col == c) {
            m_row[c * m_dot + j] ^= 1u;
          }
        }
      }
      m_rtl->set_weights(true, m_row.data());
    } else {
      m_rtl->set_weights(false, nullptr);
    }
    m_a_valid = m_a_op < m_submitted && t >= fed(m_a_op).inputs_ready;
    if (m_a_valid && fault.kind == Fault::Kind::kDelay && fault.op == m_a_op && m_a_vector == 0 &&
        t == m_model.timing(m_a_op).stream_start) {
      m_a_valid = false;  // withheld exactly when the model accepts it
    }
    if (m_a_valid) {
      const CosimOp& op = *fed(m_a_op).op;
      const std::uint64_t m = m_a_vector;
      std::copy_n(op.fold.a.begin() + static_cast<std::ptrdiff_t>(m * m_k), m_k, m_codes.begin());
      std::copy_n(op.fold.psum_in.begin() + static_cast<std::ptrdiff_t>(m * m_cols), m_cols, m_psum.begin());
      if (fault.kind == Fault::Kind::kPsum && fault.op == m_a_op && fault.row == m && fault.col < m_cols) {
        m_psum[fault.col] ^= 1u;
      }
      m_rtl->set_inputs(true, m_codes.data(), m_psum.data(), static_cast<unsigned>(op.fold.mode),
                        op.fold.arith.acc == Format::kFp16, op.fold.arith.a_unsigned, m + 1 == op.vectors);
    } else {
      m_rtl->set_inputs(false, nullptr, nullptr, 0, false, false, false);
    }
  }

  /// Compares cycle t; false (and the report's mismatch set) on the first difference.
  bool check(std::uint64_t t, bool w_fire, bool a_fire) {
    const ModelPorts& exp = m_model.expected.read();
    if (exp.w_fire != w_fire || (w_fire && (exp.w_op != m_w_op || exp.w_beat != m_w_beat))) {
      if (exp.w_fire) {
        return fail(t, exp.w_op,
                    "the model accepts weight beat " + std::to_string(exp.w_beat) + " (B row " +
                        std::to_string(m_rows - 1 - exp.w_beat) + ") in this cycle; the RTL " +
                        (w_fire ? "accepted beat " + std::to_string(m_w_beat) + " of op " + std::to_string(m_w_op)
                                : std::string(m_w_valid ? "did not (w_ready = 0)" : "was not offered it")));
      }
      return fail(t, m_w_op,
                  "the RTL accepted weight beat " + std::to_string(m_w_beat) + " (B row " +
                      std::to_string(m_rows - 1 - m_w_beat) + ") in this cycle; the model accepts it in cycle " +
                      std::to_string(m_model.timing(m_w_op).preload_start + m_w_beat));
    }
    if (exp.a_fire != a_fire || (a_fire && (exp.a_op != m_a_op || exp.a_vector != m_a_vector))) {
      if (exp.a_fire) {
        return fail(t, exp.a_op,
                    "the model accepts input vector " + std::to_string(exp.a_vector) + " in this cycle; the RTL " +
                        (a_fire ? "accepted vector " + std::to_string(m_a_vector) + " of op " + std::to_string(m_a_op)
                                : std::string(m_a_valid ? "did not (a_ready = 0)" : "was not offered it")));
      }
      return fail(t, m_a_op,
                  "the RTL accepted input vector " + std::to_string(m_a_vector) +
                      " in this cycle; the model accepts it in cycle " +
                      std::to_string(m_model.timing(m_a_op).stream_start + m_a_vector));
    }
    const bool o_valid = m_rtl->o_valid();
    if (exp.o_valid != o_valid) {
      if (exp.o_valid) {
        return fail(t, exp.o_op,
                    "the model presents output vector " + std::to_string(exp.o_vector) +
                        " in this cycle; the RTL's o_valid is 0");
      }
      return fail(t, m_report.ops, "the RTL presents an output vector (o_valid = 1); the model presents none");
    }
    if (o_valid) {
      const CosimOp& op = m_model.op(exp.o_op);
      if (m_rtl->o_last() != exp.o_last) {
        return fail(t, exp.o_op,
                    "output vector " + std::to_string(exp.o_vector) + ": o_last is " +
                        (m_rtl->o_last() ? "1" : "0") + ", the model says " + (exp.o_last ? "1" : "0"));
      }
      m_rtl->read_outputs(m_out.data());
      const std::uint32_t* want = m_model.output(exp.o_op, exp.o_vector);
      for (std::uint64_t c = 0; c < m_cols; ++c) {
        if (m_out[c] == want[c]) continue;
        Mismatch mm;
        mm.cycle = t;
        mm.op = exp.o_op;
        mm.row = exp.o_vector;
        mm.column = c;
        mm.expected = want[c];
        mm.actual = m_out[c];
        mm.what = "output row m=" + std::to_string(exp.o_vector) + ", column c=" + std::to_string(c) +
                  " (PE column " + std::to_string(c) + ", rows 0.." + std::to_string(m_k - 1) +
                  "): expected " + word_text(want[c], op.fold.arith.acc) + ", RTL " +
                  word_text(m_out[c], op.fold.arith.acc);
        std::string sums = "model's partial sums down column " + std::to_string(c) + ": psum_in ";
        const auto chain = m_model.partial_sums(exp.o_op, exp.o_vector, c);
        for (std::size_t i = 0; i < chain.size(); ++i) {
          if (i > 0) sums += (m_dot == 1 ? ", after row " : ", after PE row ") + std::to_string(i - 1) + " ";
          sums += format_hex(chain[i], 8);
        }
        mm.detail = op_summary(exp.o_op, op, m_model.timing(exp.o_op)) + "\n" + sums;
        m_report.mismatch = std::move(mm);
        m_report.mismatches = 1;
        return false;
      }
      if (exp.o_op < m_options.capture_ops) {
        if (m_report.captured.size() <= exp.o_op) m_report.captured.resize(exp.o_op + 1);
        auto& rows = m_report.captured[exp.o_op];
        rows.insert(rows.end(), m_out.begin(), m_out.end());
      }
    }
    if (exp.done != m_rtl->fold_done()) {
      if (exp.done) return fail(t, exp.done_op, "the model's fold is done in this cycle; the RTL's fold_done is 0");
      return fail(t, m_report.ops, "the RTL's fold_done pulses in this cycle; no fold is done in the model");
    }
    if (exp.done) {
      const CosimOp& op = m_model.op(exp.done_op);
      ++m_report.ops;
      ++m_report.ops_by_mode.at(static_cast<std::size_t>(op.fold.mode));
      if (op.origin.rfind("random", 0) != 0 && op.origin.rfind("trace", 0) != 0) ++m_report.directed_ops;
      m_model.retire(exp.done_op);
      if (m_progress) m_progress->update(m_report.ops);
    }
    return true;
  }

  bool fail(std::uint64_t t, std::uint64_t op, std::string what) {
    Mismatch mm;
    mm.cycle = t;
    mm.op = op;
    mm.what = std::move(what);
    if (op < m_submitted && op >= m_report.ops) {
      mm.detail = op_summary(op, m_model.op(op), m_model.timing(op));
    }
    m_report.mismatch = std::move(mm);
    m_report.mismatches = 1;
    return false;
  }

 public:
  Progress* m_progress = nullptr;  ///< progress display, if any

 private:
  sc_core::sc_clock m_clk;               ///< the tile clock: 1 ns period, first rising edge at 1 ns
  TileModel m_model;                     ///< the SystemC tile model
  std::unique_ptr<RtlTile> m_rtl;        ///< the Verilated RTL tile
  const CosimOptions& m_options;         ///< the run's options
  OpSource& m_source;                    ///< where ops come from
  CosimReport& m_report;                 ///< filled as the run goes
  std::uint64_t m_rows;                  ///< R
  std::uint64_t m_cols;                  ///< C
  std::uint64_t m_dot;                   ///< N, products per PE
  std::uint64_t m_k;                     ///< R*N, reduction rows of a fold
  std::deque<Fed> m_fed;                 ///< ops m_fed_first.. that the driver still feeds
  std::uint64_t m_fed_first = 0;         ///< index of m_fed.front()
  std::uint64_t m_submitted = 0;         ///< ops handed to the model
  bool m_source_done = false;            ///< the source has no more ops
  arch::FoldTiming m_last_timing;        ///< timing of the last submitted op
  std::uint64_t m_edge = 0;              ///< rising clock edges so far
  std::uint64_t m_w_op = 0;              ///< op whose weights the driver presents
  std::uint64_t m_w_beat = 0;            ///< its beat (0 = B row R-1)
  bool m_w_valid = false;                ///< w_valid during the current cycle
  std::uint64_t m_a_op = 0;              ///< op whose inputs the driver presents
  std::uint64_t m_a_vector = 0;          ///< its vector m
  bool m_a_valid = false;                ///< a_valid during the current cycle
  std::optional<std::uint64_t> m_quiet_until;  ///< all ops done: check idle cycles up to this one
  std::vector<std::uint32_t> m_row;      ///< weight beat being presented (C*N codes)
  std::vector<std::uint32_t> m_codes;    ///< input vector being presented (R*N codes)
  std::vector<std::uint32_t> m_psum;     ///< its psum_in row
  std::vector<std::uint32_t> m_out;      ///< RTL output row read back
};

namespace {
// DIR/.NAME.tmp.PID.EXT for DIR/NAME.EXT.
std::string wave_temporary_name(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.stem().string() + ".tmp." + std::to_string(::getpid()) + p.extension().string()))
      .string();
}

// Creates the temporary (and so checks it writable) before the run: Verilator's
// writers do not report a file they cannot open.
void create_wave_temporary(const ScopedTemporary& temp, const std::string& path) {
  const int fd = ::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(path, 0, setting_ref("wave"), std::string("cannot write: ") + std::strerror(errno));
  ::close(fd);
}
}  // namespace

// Whether the FST file at `path` is whole. Verilator's FST writer (fstapi.c)
// ignores failed writes, so a full disk leaves a cut file behind an exit 0,
// and fstapi's own reader loops forever on one (a section length of 0). The
// file is a chain of sections, each a type byte and a big-endian 64-bit
// length that counts itself, not the type byte (fstapi.c, fstReaderInit): a
// whole file is a header section first, sections that end exactly at the end
// of the file, none still tagged FST_BL_SKIP (255, "being written"), and the
// geometry (3) and hierarchy (4, 6 or 7) sections the writer adds last.
bool fst_is_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const auto size = static_cast<std::uint64_t>(in.tellg());
  std::uint64_t pos = 0;
  bool geometry = false, hierarchy = false;
  for (int section = 0; pos < size; ++section) {
    unsigned char head[9];
    if (size - pos < sizeof head || !in.seekg(static_cast<std::streamoff>(pos)) ||
        !in.read(reinterpret_cast<char*>(head), sizeof head)) {
      return false;
    }
    std::uint64_t length = 0;
    for (int i = 1; i < 9; ++i) length = length << 8 | head[i];
    const unsigned type = head[0];
    if (length < 8 || length > size - pos - 1 || type == 255 || (section == 0) != (type == 0)) return false;
    geometry |= type == 3;
    hierarchy |= type == 4 || type == 6 || type == 7;
    pos += 1 + length;
  }
  return pos == size && geometry && hierarchy;
}

WaveFormat wave_format(const std::string& path) {
  const auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".vcd")) return WaveFormat::kVcd;
  if (ends_with(".fst")) return WaveFormat::kFst;
  throw InputError("", 0, setting_ref("wave"), "expected a file name ending in .vcd or .fst, got '" + path + "'");
}

}  // namespace

Fault parse_fault(const std::string& text) {
  const auto fields = split(text, ':');
  std::vector<std::uint64_t> numbers;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const auto value = parse_u64(fields[i]);
    if (!value) numbers.clear();
    if (!value) break;
    numbers.push_back(*value);
  }
  Fault fault;
  const std::string kind = fields.empty() ? "" : std::string(fields[0]);
  if (kind == "weight" && fields.size() == 4 && numbers.size() == 3) {
    fault = Fault{Fault::Kind::kWeight, numbers[0], numbers[1], numbers[2]};
  } else if (kind == "psum" && fields.size() == 4 && numbers.size() == 3) {
    fault = Fault{Fault::Kind::kPsum, numbers[0], numbers[1], numbers[2]};
  } else if (kind == "delay" && fields.size() == 2 && numbers.size() == 1) {
    fault = Fault{Fault::Kind::kDelay, numbers[0], 0, 0};
  } else {
    throw InputError("", 0, setting_ref("inject_fault"),
                     "expected weight:OP:ROW:COL, psum:OP:VECTOR:COL or delay:OP (whole numbers), got '" + text +
                         "'");
  }
  return fault;
}

std::uint64_t CosimReport::cycles_per_second() const {
  if (seconds <= 0) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(cycles) / seconds);
}

std::string describe(const Mismatch& m) {
  std::string out = "cosim: MISMATCH in cycle " + std::to_string(m.cycle) + ", op " + std::to_string(m.op) + ": " +
                    m.what + "\n";
  std::istringstream lines(m.detail);
  for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
  return out;
}

CosimReport run_cosim(const CosimOptions& options) {
  static bool ran = false;
  if (ran) throw std::logic_error("run_cosim: a SystemC simulation runs once per process");

  // Validate everything before elaborating anything.
  bool size_built = false;
  for (const auto& variant : rtl_variants()) {
    size_built |= variant.rows == options.rows && variant.cols == options.cols && variant.dot == options.dot;
  }
  if (!size_built) {
    const std::string size = setting_ref("rows") + "/" + setting_ref("cols");
    throw InputError("", 0, options.dot == 1 ? size : size + "/" + setting_ref("dot"),
                     "this build has Verilated tiles of " + rtl_size_list() + " only, not " +
                         std::to_string(options.rows) + "x" + std::to_string(options.cols) +
                         (options.dot == 1 ? "" : " " + setting_ref("dot") + " " + std::to_string(options.dot)) +
                         " (sim/cosim/CMakeLists.txt lists the sizes)");
  }
  const WaveFormat wave = options.wave_file.empty() ? WaveFormat::kVcd : wave_format(options.wave_file);
  bool wave_built = false;
  for (const auto& variant : rtl_variants()) {
    wave_built |= variant.rows == options.rows && variant.cols == options.cols && variant.dot == options.dot &&
                  variant.wave == wave;
  }
  if (!wave_built) {
    throw InputError("", 0, setting_ref("wave"),
                     "this build's Verilated tile of that size has a VCD tracer only (sim/cosim/CMakeLists.txt); "
                     "expected a file name ending in .vcd, got '" + options.wave_file + "'");
  }
  const std::vector<OpMode> modes = options.modes.empty() ? tile_modes() : options.modes;
  const std::vector<AccKind> accs = options.accs.empty() ? tile_accs() : options.accs;
  for (const OpMode mode : modes) (void)mode_name(mode);  // logic_error for a mode the tile lacks
  for (const AccKind acc : accs) {
    if (std::find(tile_accs().begin(), tile_accs().end(), acc) == tile_accs().end()) {
      throw std::logic_error("run_cosim: the tile accumulates in int32 or fp16 only");
    }
  }

  CosimReport report;
  // The op sources make folds of k reduction rows: R*N on dot-product PEs.
  const std::uint64_t k = options.rows * options.dot;
  std::uint64_t directed = 0;
  std::unique_ptr<OpSource> source;
  if (options.directed) {
    auto ops = directed_ops(k, options.cols, modes, accs);
    directed = ops.size();
    source = list_ops(std::move(ops));
  }
  std::unique_ptr<OpSource> body;
  std::uint64_t total = directed;
  if (!options.trace_file.empty()) {
    body = trace_ops(options.trace_file, k, options.cols, modes, accs, options.ops_per_mode,
                     options.seed, &report.skipped_trace_ops);
    total = 0;  // unknown in advance
  } else {
    body = random_ops(k, options.cols, modes, accs, options.ops_per_mode, options.seed);
    total += options.ops_per_mode * modes.size();
  }
  source = source ? chain(std::move(source), std::move(body)) : std::move(body);
  if (options.dot > 1) source = with_dot(std::move(source), options.dot);

  ran = true;
  // sc_stop() ends every run; its "Simulation stopped by user" note is noise on stdout.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  Bench bench("cosim", options, *source, wave, report);
  if (bench.empty()) {
    throw InputError(options.trace_file, 0, setting_ref("trace"),
                     "no GEMM of the trace runs on the tile with the chosen " + setting_ref("mode") + "/" +
                         setting_ref("acc") + " (it takes int4/uint4 x "
                     "int4, fp4 x int4 or int4/uint4 x fp4 operands with an int32 or fp16 accumulator)");
  }
  Progress progress("cosim", total, options.progress);
  bench.m_progress = &progress;
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  // The waveform goes to a temporary in the same folder, renamed once it is
  // complete: a killed run leaves no truncated file under the final name, and
  // an interrupted or failed one (SIGINT, SIGTERM, a full disk) no temporary.
  // The FST writer keeps the hierarchy in NAME.hier beside its file until it
  // closes it (fstapi.c): a signal must remove that one too.
  std::optional<ScopedTemporary> wave_temp, fst_hierarchy;
  if (!options.wave_file.empty()) {
    wave_temp.emplace(wave_temporary_name(options.wave_file));
    if (wave == WaveFormat::kFst) fst_hierarchy.emplace(wave_temp->path() + ".hier");
    create_wave_temporary(*wave_temp, options.wave_file);
    bench.rtl().open_wave(wave_temp->path());
  }
  const auto start = std::chrono::steady_clock::now();
  sc_core::sc_start();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bench.rtl().close_wave();
  if (wave_temp) {
    // A failed write stopped the run at the next clock edge (Bench::on_clock).
    if (const int error = bench.rtl().wave_error()) {
      throw InputError(options.wave_file, 0, setting_ref("wave"), write_failure("write", error));
    }
    if (wave == WaveFormat::kFst && !fst_is_whole(wave_temp->path())) {
      throw InputError(options.wave_file, 0, setting_ref("wave"),
                       "cannot write: the FST writer left the file cut short (a full disk or a file size limit?); "
                       "no output of this run was kept");
    }
    if (std::rename(wave_temp->path().c_str(), options.wave_file.c_str()) != 0) {
      throw InputError(options.wave_file, 0, setting_ref("wave"), std::string("cannot write: ") + std::strerror(errno));
    }
    wave_temp->release();
  }
  if (fst_hierarchy) fst_hierarchy->release();  // closed: the writer removed it
  progress.finish(report.mismatches ? "mismatch" : "done");
  return report;
}

}  // namespace nibble::cosim
