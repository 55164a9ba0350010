#include "sim/sweep/sweep_runner.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <optional>
#include <filesystem>
#include <mutex>
#include <thread>

#include "sim/common/files.hpp"
#include "sim/common/progress.hpp"
#include "sim/common/text.hpp"
#include "sim/report/csv.hpp"
#include "sim/sweep/sweep_store.hpp"

namespace nibble::sweep {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string PointOutcome::to_json(const std::string& signature) const {
  Json j;
  j["signature"] = signature;
  j["ok"] = ok;
  j["error"] = error;
  Json metrics_json = Json::array();
  for (const auto& [key, value] : metrics) metrics_json.push_back(Json::array({key, value}));
  j["metrics"] = metrics_json;
  return j.dump(1) + "\n";
}

bool PointOutcome::from_json(const std::string& text, const std::string& signature, PointOutcome* out) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  if (!j.contains("signature") || !j["signature"].is_string() || j["signature"] != signature) return false;
  if (!j.contains("ok") || !j["ok"].is_boolean() || !j.contains("error") || !j["error"].is_string()) return false;
  if (!j.contains("metrics") || !j["metrics"].is_array()) return false;
  PointOutcome outcome;
  outcome.ok = j["ok"];
  outcome.error = j["error"];
  for (const auto& pair : j["metrics"]) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) return false;
    outcome.metrics.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  *out = std::move(outcome);
  return true;
}

PointStore::PointStore(const RunOptions& options, std::size_t total)
    : m_dir((fs::path(options.out_dir) / "points").string()),
      m_total(total),
      m_key(options.key),
      m_metric_columns(options.metric_columns) {
  std::error_code ec;
  fs::create_directories(m_dir, ec);
  if (ec) throw std::runtime_error("cannot create " + m_dir + ": " + ec.message());
}

bool PointStore::load(const SweepPoint& point, PointOutcome* out) const {
  const fs::path file = fs::path(m_dir) / (point.name(m_total) + ".json");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  PointOutcome stored;
  try {
    if (!PointOutcome::from_json(read_file(file.string()), stored_signature(point), &stored)) return false;
  } catch (const std::exception&) {
    return false;  // an unreadable leftover is recomputed, never trusted
  }
  // A failed point may have failed for a reason that is gone: evaluate it
  // again. A stored value that is not a finite number never reaches sweep.csv.
  if (!stored.ok) return false;
  if (!m_metric_columns.empty() && stored.metrics.size() != m_metric_columns.size()) return false;
  for (std::size_t i = 0; i < stored.metrics.size(); ++i) {
    if (!m_metric_columns.empty() && stored.metrics[i].first != m_metric_columns[i]) return false;
    const std::optional<double> value = parse_double(stored.metrics[i].second);
    if (!value || !std::isfinite(*value)) return false;
  }
  *out = std::move(stored);
  return true;
}

std::string PointStore::stored_signature(const SweepPoint& point) const {
  return m_key ? point.signature() + ";key=" + m_key(point) : point.signature();
}

void PointStore::save(const SweepPoint& point, const PointOutcome& outcome) const {
  write_file_now((fs::path(m_dir) / (point.name(m_total) + ".json")).string(), outcome.to_json(stored_signature(point)));
}

PointOutcome evaluate_safely(const Evaluator& evaluate, const SweepPoint& point) {
  try {
    return evaluate(point);
  } catch (const std::exception& e) {
    PointOutcome failed;
    failed.error = e.what();
    return failed;
  }
}

SweepResults run_local(const SweepSpec& spec, const RunOptions& options, const Evaluator& evaluate) {
  SweepResults results;
  results.points = spec.points();
  const std::size_t total = results.points.size();
  results.outcomes.resize(total);
  const PointStore store(options, total);

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < total; ++i) {
    if (options.resume && store.load(results.points[i], &results.outcomes[i])) {
      ++results.reused;
    } else {
      todo.push_back(i);
    }
  }

  Progress progress("sweep " + spec.name, total, options.progress);
  std::atomic<std::size_t> next{0};
  std::size_t done = results.reused;
  std::mutex mutex;
  const auto worker = [&] {
    for (;;) {
      const std::size_t slot = next.fetch_add(1);
      if (slot >= todo.size()) return;
      const SweepPoint& point = results.points[todo[slot]];
      PointOutcome outcome = evaluate_safely(evaluate, point);
      store.save(point, outcome);
      const std::lock_guard<std::mutex> lock(mutex);
      results.outcomes[point.index] = std::move(outcome);
      progress.update(++done, point.name(total));
    }
  };
  const std::size_t threads = std::max<std::size_t>(1, std::min(options.jobs, todo.size()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  progress.finish(std::to_string(total) + " points" +
                  (results.reused ? " (" + std::to_string(results.reused) + " resumed)" : ""));
  return results;
}

std::string results_csv(const SweepSpec& spec, const SweepResults& results) {
  std::vector<std::string> metric_columns;
  for (const auto& outcome : results.outcomes) {
    if (outcome.ok) {
      for (const auto& [key, value] : outcome.metrics) metric_columns.push_back(key);
      break;
    }
  }
  std::vector<std::string> columns{"index", "point", "design"};
  columns.insert(columns.end(), spec.parameter_keys.begin(), spec.parameter_keys.end());
  for (const char* c : {"model", "batch", "seq", "policy", "status", "error"}) columns.emplace_back(c);
  columns.insert(columns.end(), metric_columns.begin(), metric_columns.end());
  report::CsvWriter csv(columns);
  const std::size_t total = results.points.size();
  for (std::size_t i = 0; i < total; ++i) {
    const SweepPoint& point = results.points[i];
    const PointOutcome& outcome = results.outcomes[i];
    std::vector<std::string> row{std::to_string(point.index), point.name(total), point.design};
    for (const auto& key : spec.parameter_keys) {
      std::string value;
      for (const auto& [k, v] : point.overrides) {
        if (k == key) value = v;
      }
      row.push_back(value);
    }
    row.push_back(point.workload.model);
    row.push_back(std::to_string(point.workload.batch));
    row.push_back(std::to_string(point.workload.seq));
    row.push_back(point.policy);
    row.push_back(outcome.ok ? "ok" : "error");
    row.push_back(outcome.error);
    for (const auto& column : metric_columns) {
      std::string value;
      for (const auto& [k, v] : outcome.metrics) {
        if (k == column) value = v;
      }
      row.push_back(value);
    }
    csv.row(row);
  }
  return csv.str();
}

}  // namespace nibble::sweep
