#include "sim/common/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "sim/common/text.hpp"

namespace nibble {

Progress::Progress(std::string label, std::uint64_t total, bool enabled)
    : m_label(std::move(label)), m_total(total), m_enabled(enabled), m_tty(::isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
  if (m_enabled && m_tty && !m_finished) std::fputc('\n', stderr);
}

void Progress::update(std::uint64_t done, const std::string& status) {
  if (!m_enabled || m_finished) return;
  const double fraction = m_total ? static_cast<double>(done) / static_cast<double>(m_total) : 0.0;
  if (m_tty) {
    const auto now = std::chrono::steady_clock::now();
    if (done != m_total && now - m_last_draw < std::chrono::milliseconds(100)) return;
    m_last_draw = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::fprintf(stderr, "\r%s [", m_label.c_str());
    for (int i = 0; i < kWidth; ++i) std::fputc(i < filled ? '#' : '.', stderr);
    const std::string percent = pad_left(std::to_string(static_cast<int>(fraction * 100.0)), 3);
    std::fprintf(stderr, "] %s%% %s\033[K", percent.c_str(), status.c_str());
  } else {
    if (m_total && fraction - m_last_fraction < kLineInterval && done != m_total) return;
    m_last_fraction = fraction;
    if (m_total) {
      const std::string count = std::to_string(done) + "/" + std::to_string(m_total);
      std::fprintf(stderr, "%s: %s %s\n", m_label.c_str(), count.c_str(), status.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", m_label.c_str(), status.c_str());
    }
  }
  std::fflush(stderr);
}

void Progress::finish(const std::string& status) {
  if (!m_enabled || m_finished) return;
  if (m_tty) {
    update(m_total, status);
    std::fputc('\n', stderr);
  } else if (!status.empty()) {
    std::fprintf(stderr, "%s: %s\n", m_label.c_str(), status.c_str());
  }
  m_finished = true;
  std::fflush(stderr);
}

}  // namespace nibble
