#include "sim/report/timeline_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::report {

namespace {

// Sort key of a name with a trailing number ("core12", "ch3"): the text
// before the digits, then the number, so core10 follows core9.
std::pair<std::string, std::uint64_t> natural_key(const std::string& name) {
  std::size_t digits = name.size();
  while (digits > 0 && std::isdigit(static_cast<unsigned char>(name[digits - 1])) != 0) --digits;
  if (digits == name.size() || name.size() - digits > 18) return {name, 0};
  return {name.substr(0, digits), std::stoull(name.substr(digits))};
}

std::pair<std::string, std::string> split_track(const std::string& track) {
  const std::size_t dot = track.find('.');
  if (dot == std::string::npos) return {track, track};
  return {track.substr(0, dot), track.substr(dot + 1)};
}

// Processes: cores by number, then DRAM, then anything else by name.
auto process_key(const std::string& process) {
  const int rank = process.rfind("core", 0) == 0 ? 0 : process == "dram" ? 1 : 2;
  return std::make_tuple(rank, natural_key(process));
}

// Threads of a process: array, vector, dma, then the others by name.
auto unit_key(const std::string& unit) {
  const int rank = unit == "array" ? 0 : unit == "vector" ? 1 : unit == "dma" ? 2 : 3;
  return std::make_tuple(rank, natural_key(unit));
}

bool track_before(const std::string& a, const std::string& b) {
  const auto [pa, ua] = split_track(a);
  const auto [pb, ub] = split_track(b);
  const auto ka = process_key(pa);
  const auto kb = process_key(pb);
  if (ka != kb) return ka < kb;
  const auto va = unit_key(ua);
  const auto vb = unit_key(ub);
  if (va != vb) return va < vb;
  return a < b;
}

/// A JSON string literal; invalid UTF-8 is replaced, as in summary.json.
/// Names are printable ASCII almost always (trace names are): those are
/// escaped here, cheaply; anything else goes through nlohmann::json.
std::string quoted(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    if (c < 0x20 || c == 0x7F || (static_cast<unsigned char>(c) & 0x80) != 0) {
      return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

/// Simulated microseconds of `cycles` at `clock_mhz`: the shortest decimal
/// that reads back as the same double, in one std::to_chars call (a file
/// holds two per event, too many for format_double's precision search).
std::string micros(std::uint64_t cycles, double clock_mhz) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, static_cast<double>(cycles) / clock_mhz);
  return std::string(buf, result.ptr);
}

}  // namespace

const char* timeline_detail_name(arch::TimelineDetail detail) {
  switch (detail) {
    case arch::TimelineDetail::kNone: return "none";
    case arch::TimelineDetail::kLayers: return "layers";
    case arch::TimelineDetail::kOps: return "ops";
  }
  return "none";
}

std::optional<arch::TimelineDetail> parse_timeline_detail(const std::string& name) {
  for (const auto d : {arch::TimelineDetail::kNone, arch::TimelineDetail::kLayers, arch::TimelineDetail::kOps}) {
    if (name == timeline_detail_name(d)) return d;
  }
  return std::nullopt;
}

std::vector<TimelineSpan> timeline_spans(const std::vector<arch::TimelineEvent>& events,
                                         const std::vector<TimelineOp>& ops, arch::TimelineDetail detail) {
  std::vector<TimelineSpan> spans;
  if (detail == arch::TimelineDetail::kNone) return spans;
  // Rank the few distinct tracks once, then sort the many events by rank.
  std::map<std::string, std::size_t> rank;
  for (const auto& e : events) {
    if (e.op >= ops.size()) throw std::logic_error("timeline event of op " + std::to_string(e.op) + " beyond the trace");
    rank.emplace(e.track, 0);
  }
  std::vector<std::string> tracks;
  for (const auto& [track, unused] : rank) tracks.push_back(track);
  std::sort(tracks.begin(), tracks.end(), track_before);
  for (std::size_t i = 0; i < tracks.size(); ++i) rank[tracks[i]] = i;
  std::vector<std::pair<std::size_t, const arch::TimelineEvent*>> order;
  order.reserve(events.size());
  for (const auto& e : events) order.emplace_back(rank.at(e.track), &e);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second->start, a.second->end, a.second->op) <
           std::tie(b.first, b.second->start, b.second->end, b.second->op);
  });
  spans.reserve(order.size());
  for (const auto& [unused, e] : order) {
    spans.push_back(TimelineSpan{e->track, e->op, 1, e->start, e->end, e->end - e->start, e->what});
  }
  return detail == arch::TimelineDetail::kLayers ? merge_layer_runs(spans, ops) : spans;
}

std::vector<TimelineSpan> merge_layer_runs(const std::vector<TimelineSpan>& spans, const std::vector<TimelineOp>& ops) {
  std::vector<TimelineSpan> out;
  for (const auto& s : spans) {
    if (!out.empty()) {
      TimelineSpan& last = out.back();
      const TimelineOp& a = ops.at(last.op);
      const TimelineOp& b = ops.at(s.op);
      if (last.track == s.track && a.layer == b.layer && a.phase == b.phase) {
        last.end = std::max(last.end, s.end);
        last.busy += s.busy;
        last.ops += s.ops;
        if (last.what != s.what) last.what = "mixed";
        continue;
      }
    }
    out.push_back(s);
  }
  return out;
}

std::optional<std::string> timeline_json(const std::vector<TimelineSpan>& spans, const std::vector<TimelineOp>& ops,
                                         double clock_mhz, arch::TimelineDetail detail, std::uint64_t limit_bytes) {
  // pids and tids in the order of the spans (already sorted by track).
  std::map<std::string, std::size_t> pid_of;
  std::map<std::string, std::pair<std::size_t, std::size_t>> ids_of;  // track -> (pid, tid)
  std::vector<std::string> lines;
  std::map<std::string, std::size_t> threads_in;
  for (const auto& s : spans) {
    if (ids_of.count(s.track) != 0) continue;
    const std::string process = split_track(s.track).first;
    auto [p, new_process] = pid_of.emplace(process, pid_of.size() + 1);
    const std::string pid = std::to_string(p->second);
    if (new_process) {
      lines.push_back("{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " + pid +
                      ", \"tid\": 0, \"args\": {\"name\": " + quoted(process) + "}}");
      lines.push_back("{\"name\": \"process_sort_index\", \"ph\": \"M\", \"pid\": " + pid +
                      ", \"tid\": 0, \"args\": {\"sort_index\": " + pid + "}}");
    }
    const std::size_t tid = ++threads_in[process];
    ids_of.emplace(s.track, std::make_pair(p->second, tid));
    lines.push_back("{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " + pid + ", \"tid\": " +
                    std::to_string(tid) + ", \"args\": {\"name\": " + quoted(s.track) + "}}");
    lines.push_back("{\"name\": \"thread_sort_index\", \"ph\": \"M\", \"pid\": " + pid + ", \"tid\": " +
                    std::to_string(tid) + ", \"args\": {\"sort_index\": " + std::to_string(tid) + "}}");
  }
  std::string text = "{\"traceEvents\": [\n";
  text.reserve(std::min<std::uint64_t>(limit_bytes, 400 * (spans.size() + lines.size()) + 256));
  bool first = true;
  const auto add = [&](const std::string& line) {
    if (!first) text += ",\n";
    first = false;
    text += line;
    return text.size() <= limit_bytes;
  };
  for (const auto& line : lines) {
    if (!add(line)) return std::nullopt;
  }
  const bool layers = detail == arch::TimelineDetail::kLayers;
  for (const auto& s : spans) {
    const TimelineOp& op = ops.at(s.op);
    const auto [pid, tid] = ids_of.at(s.track);
    std::string line = "{\"name\": " + quoted(op.layer + " " + (layers ? op.phase : op.kind)) +
                       ", \"cat\": " + quoted(op.phase) + ", \"ph\": \"X\", \"pid\": " + std::to_string(pid) +
                       ", \"tid\": " + std::to_string(tid) + ", \"ts\": " + micros(s.start, clock_mhz) +
                       ", \"dur\": " + micros(s.end - s.start, clock_mhz) + ", \"args\": {\"layer\": " +
                       quoted(op.layer) + ", \"phase\": " + quoted(op.phase);
    if (layers) {
      line += ", \"first_op\": " + std::to_string(s.op) + ", \"ops\": " + std::to_string(s.ops);
    } else {
      line += ", \"op\": " + std::to_string(s.op) + ", \"kind\": " + quoted(op.kind);
    }
    line += ", \"what\": " + quoted(s.what) + ", \"start_cycle\": " + std::to_string(s.start) +
            ", \"end_cycle\": " + std::to_string(s.end) + ", \"busy_cycles\": " + std::to_string(s.busy) + "}}";
    if (!add(line)) return std::nullopt;
  }
  text += "\n],\n\"displayTimeUnit\": \"ns\",\n\"otherData\": {\"clock_mhz\": " + format_double(clock_mhz) +
          ", \"detail\": \"" + timeline_detail_name(detail) + "\", \"time_unit\": \"us of simulated time\"}}\n";
  if (text.size() > limit_bytes) return std::nullopt;
  return text;
}

TimelineDoc read_timeline_json(const std::string& text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, 0, "", std::string("not valid JSON: ") + e.what());
  }
  const auto bad = [&](const std::string& field, const std::string& what) {
    return InputError(file, 0, field, what + "; expected the timeline.json that nibble writes");
  };
  TimelineDoc doc;
  try {
    if (!j.is_object() || !j.contains("traceEvents") || !j.at("traceEvents").is_array()) {
      throw bad("traceEvents", "missing or not a list");
    }
    doc.clock_mhz = j.at("otherData").at("clock_mhz").get<double>();
    doc.detail = j.at("otherData").at("detail").get<std::string>();
    std::map<std::pair<std::int64_t, std::int64_t>, std::string> threads;
    for (const auto& e : j.at("traceEvents")) {
      if (e.at("ph") == "M" && e.at("name") == "thread_name") {
        threads[{e.at("pid").get<std::int64_t>(), e.at("tid").get<std::int64_t>()}] =
            e.at("args").at("name").get<std::string>();
      }
    }
    for (const auto& e : j.at("traceEvents")) {
      if (e.at("ph") != "X") continue;
      const auto thread = threads.find({e.at("pid").get<std::int64_t>(), e.at("tid").get<std::int64_t>()});
      if (thread == threads.end()) throw bad("traceEvents", "an event of a thread without thread_name");
      const auto& args = e.at("args");
      TimelineSpan span;
      span.track = thread->second;
      span.op = static_cast<std::uint32_t>(doc.ops.size());
      span.start = args.at("start_cycle").get<std::uint64_t>();
      span.end = args.at("end_cycle").get<std::uint64_t>();
      span.busy = args.at("busy_cycles").get<std::uint64_t>();
      span.ops = args.value("ops", std::uint64_t{1});
      span.what = args.at("what").get<std::string>();
      if (span.end <= span.start || span.busy > span.end - span.start) {
        throw bad("traceEvents", "an event with end_cycle <= start_cycle or busy_cycles beyond them");
      }
      doc.ops.push_back({args.at("layer").get<std::string>(), args.at("phase").get<std::string>(),
                         args.value("kind", std::string())});
      doc.spans.push_back(std::move(span));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad("traceEvents", std::string("malformed (") + e.what() + ")");
  }
  return doc;
}

}  // namespace nibble::report
