// Progress of long work, on stderr: a redrawn bar when stderr is a terminal,
// plain lines (at most one per `kLineInterval` of progress) otherwise, so logs
// stay readable in CI.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nibble {

class Progress {
 public:
  /// `total` units of work (0 when unknown); `label` prefixes every line.
  Progress(std::string label, std::uint64_t total, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Reports that `done` units are complete, with an optional status text.
  void update(std::uint64_t done, const std::string& status = "");
  /// Ends the bar (prints the final line once).
  void finish(const std::string& status = "");

 private:
  static constexpr double kLineInterval = 0.10;  ///< plain mode: a line per 10 % of the work

  std::string m_label;       ///< printed before every update
  std::uint64_t m_total;     ///< units of work, 0 if unknown
  bool m_enabled;            ///< false: print nothing (quiet runs, tests)
  bool m_tty;                ///< stderr is a terminal: redraw one line
  bool m_finished = false;   ///< finish() already printed
  double m_last_fraction = -1.0;  ///< last fraction printed in plain mode
  std::chrono::steady_clock::time_point m_last_draw;  ///< throttles terminal redraws
};

}  // namespace nibble
