#include "sim/common/stats.hpp"

#include <stdexcept>

namespace nibble {

StatRegistry::Id StatRegistry::add(std::string name, std::string unit, std::string description) {
  if (m_index.count(name) != 0) throw std::logic_error("statistic registered twice: " + name);
  const Id id = m_defs.size();
  m_index.emplace(name, id);
  m_defs.push_back(StatDef{std::move(name), std::move(unit), std::move(description)});
  return id;
}

std::optional<StatRegistry::Id> StatRegistry::find(const std::string& name) const {
  const auto it = m_index.find(name);
  if (it == m_index.end()) return std::nullopt;
  return it->second;
}

StatRegistry::Id StatRegistry::at(const std::string& name) const {
  const auto id = find(name);
  if (!id) throw std::logic_error("no statistic named " + name);
  return *id;
}

StatVector& StatVector::operator+=(const StatVector& other) {
  if (other.m_values.size() != m_values.size()) throw std::logic_error("StatVector sizes differ");
  for (std::size_t i = 0; i < m_values.size(); ++i) m_values[i] += other.m_values[i];
  return *this;
}

}  // namespace nibble
