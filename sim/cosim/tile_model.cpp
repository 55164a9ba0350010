#include "sim/cosim/tile_model.hpp"

#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/numerics/dot.hpp"

namespace nibble::cosim {

bool ModelPorts::operator==(const ModelPorts& o) const {
  return w_fire == o.w_fire && w_op == o.w_op && w_beat == o.w_beat && a_fire == o.a_fire && a_op == o.a_op &&
         a_vector == o.a_vector && o_valid == o.o_valid && o_last == o.o_last && o_op == o.o_op &&
         o_vector == o.o_vector && done == o.done && done_op == o.done_op;
}

std::ostream& operator<<(std::ostream& out, const ModelPorts& p) {
  out << "{";
  if (p.w_fire) out << " weight op " << p.w_op << " beat " << p.w_beat;
  if (p.a_fire) out << " input op " << p.a_op << " vector " << p.a_vector;
  if (p.o_valid) out << " output op " << p.o_op << " vector " << p.o_vector << (p.o_last ? " (last)" : "");
  if (p.done) out << " done op " << p.done_op;
  return out << " }";
}

void sc_trace(sc_core::sc_trace_file*, const ModelPorts&, const std::string&) {}

TileModel::TileModel(const sc_core::sc_module_name& name, const TileModelParams& params)
    : sc_core::sc_module(name), clk("clk"), expected("expected"), m_params(params),
      m_schedule(params.rows, params.cols) {
  SC_HAS_PROCESS(TileModel);
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

arch::FoldTiming TileModel::submit(std::shared_ptr<const CosimOp> op, std::uint64_t weights_ready,
                                   std::uint64_t inputs_ready) {
  Fold f;
  f.timing = m_schedule.next(op->vectors, weights_ready, inputs_ready);
  const std::uint64_t now = m_edges >= m_params.reset_edges ? m_edges - m_params.reset_edges : 0;
  if (m_edges >= m_params.reset_edges && f.timing.preload_start <= now) {
    throw std::logic_error("TileModel::submit: op " + std::to_string(submitted()) + " preloads in cycle " +
                           std::to_string(f.timing.preload_start) + ", submitted in cycle " + std::to_string(now));
  }
  f.out = arch::compute_tile_fold(m_params.rows * m_params.dot, m_params.cols, op->fold);
  f.op = std::move(op);
  m_folds.push_back(std::move(f));
  return m_folds.back().timing;
}

const TileModel::Fold& TileModel::fold(std::uint64_t op) const {
  if (op < m_first || op >= submitted()) {
    throw std::logic_error("TileModel: op " + std::to_string(op) + " is not held (retired or not submitted)");
  }
  return m_folds[op - m_first];
}

const std::uint32_t* TileModel::output(std::uint64_t op, std::uint64_t m) const {
  return fold(op).out.data() + m * m_params.cols;
}

std::vector<std::uint32_t> TileModel::partial_sums(std::uint64_t op, std::uint64_t m, std::uint64_t c) const {
  const CosimOp& o = *fold(op).op;
  const std::uint64_t n = m_params.dot;
  const std::uint64_t k = m_params.rows * n;  // reduction rows of the fold
  const std::uint64_t cols = m_params.cols;
  std::vector<std::uint32_t> sums{o.fold.psum_in.at(m * cols + c)};
  std::vector<std::uint32_t> b(n);
  for (std::uint64_t p = 0; p < m_params.rows; ++p) {
    for (std::uint64_t j = 0; j < n; ++j) b[j] = o.fold.b.at((p * n + j) * cols + c);
    sums.push_back(numerics::pe_dot(o.fold.arith, o.fold.mode, sums.back(), &o.fold.a.at(m * k + p * n), b.data(), n));
  }
  return sums;
}

void TileModel::retire(std::uint64_t op) {
  while (!m_folds.empty() && m_first <= op) {
    m_folds.pop_front();
    ++m_first;
  }
}

void TileModel::tick() {
  ++m_edges;
  if (m_edges < m_params.reset_edges) return;
  const std::uint64_t t = m_edges - m_params.reset_edges;  // the cycle that begins
  const std::uint64_t rc = m_params.rows + m_params.cols;
  ModelPorts p;
  // Retired ops are over in every respect.
  for (std::uint64_t* next : {&m_next_w, &m_next_a, &m_next_o, &m_next_d}) {
    if (*next < m_first) *next = m_first;
  }
  // Each kind of event moves through the ops in order; an op's window of
  // each kind ends before the next op's begins, so one pointer per kind suffices.
  while (m_next_w < submitted() && t >= timing(m_next_w).preload_start + m_params.rows) ++m_next_w;
  if (m_next_w < submitted()) {
    const auto& ft = timing(m_next_w);
    if (t >= ft.preload_start) {
      p.w_fire = true;
      p.w_op = m_next_w;
      p.w_beat = t - ft.preload_start;
    }
  }
  while (m_next_a < submitted() && t >= timing(m_next_a).stream_start + op(m_next_a).vectors) ++m_next_a;
  if (m_next_a < submitted()) {
    const auto& ft = timing(m_next_a);
    if (t >= ft.stream_start) {
      p.a_fire = true;
      p.a_op = m_next_a;
      p.a_vector = t - ft.stream_start;
    }
  }
  // Output vector m is presented in S + m + R + C - 1 (docs/timing.md, rule 3).
  while (m_next_o < submitted() && t >= timing(m_next_o).stream_start + op(m_next_o).vectors + rc - 1) ++m_next_o;
  if (m_next_o < submitted()) {
    const auto& ft = timing(m_next_o);
    if (t >= ft.stream_start + rc - 1) {
      p.o_valid = true;
      p.o_op = m_next_o;
      p.o_vector = t - (ft.stream_start + rc - 1);
      p.o_last = p.o_vector + 1 == op(m_next_o).vectors;
    }
  }
  while (m_next_d < submitted() && t > timing(m_next_d).done) ++m_next_d;
  if (m_next_d < submitted() && t == timing(m_next_d).done) {
    p.done = true;
    p.done_op = m_next_d;
  }
  expected.write(p);
}

}  // namespace nibble::cosim
