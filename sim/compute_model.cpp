#include "sim/compute_model.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "protocols/ring/cpu_meter.h"

namespace marill {

extern const char* const kDefaultCalibrationJson;  // generated from sim/calibration/default.json (CMakeLists.txt)

namespace {

constexpr const char* kFormat = "marill-calibration/1";

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw CalibrationError(source + ": " + (key.empty() ? "" : "key '" + key + "': ") + what);
}

// The work kind a section's key names (`section.key` in errors).
WorkKind kind_at(const std::string& source, const std::string& section, const std::string& key) {
  try {
    return parse_work_kind(key);
  } catch (const std::invalid_argument& e) {
    fail(source, section + "." + key, e.what());
  }
}

const nlohmann::json& member(const nlohmann::json& obj, const char* key, const std::string& source, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(source, path + key, "missing");
  return *it;
}

}  // namespace

double ComputeModel::seconds(const WorkCounts& w) const {
  double s = 0;
  for (int i = 0; i < kWorkKinds; ++i)
    s += seconds_per_unit[static_cast<size_t>(i)] * static_cast<double>(w.n[static_cast<size_t>(i)]) / parallel_speedup[static_cast<size_t>(i)];
  return s;
}

std::string ComputeModel::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["machine"] = {{"cpu_model", machine.cpu_model}, {"cores", machine.cores}, {"date", machine.date}, {"commit", machine.commit}};
  nlohmann::ordered_json per;
  for (int i = 0; i < kWorkKinds; ++i) per[work_kind_name(static_cast<WorkKind>(i))] = seconds_per_unit[static_cast<size_t>(i)];
  j["seconds_per_unit"] = per;
  nlohmann::ordered_json par = nlohmann::ordered_json::object();
  for (int i = 0; i < kWorkKinds; ++i)
    if (parallel_speedup[static_cast<size_t>(i)] != 1.0) par[work_kind_name(static_cast<WorkKind>(i))] = parallel_speedup[static_cast<size_t>(i)];
  j["parallel_speedup"] = par;
  j["fit"] = nlohmann::ordered_json::parse(fit_json.empty() ? "{}" : fit_json);
  return j.dump(2) + "\n";
}

ComputeModel ComputeModel::from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, "", std::string("not valid JSON (truncated or damaged?): ") + e.what());
  }
  if (!j.is_object()) fail(source, "", "not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "format" && it.key() != "machine" && it.key() != "seconds_per_unit" && it.key() != "parallel_speedup" && it.key() != "fit")
      fail(source, it.key(), "unknown key (expected format, machine, seconds_per_unit, parallel_speedup, fit)");
  const auto& format = member(j, "format", source, "");
  if (!format.is_string() || format.get<std::string>() != kFormat)
    fail(source, "format", std::string("expected \"") + kFormat + "\"");
  ComputeModel m;
  const auto& mach = member(j, "machine", source, "");
  if (!mach.is_object()) fail(source, "machine", "not an object");
  auto text_of = [&](const char* key) {
    const auto& v = member(mach, key, source, "machine.");
    if (!v.is_string()) fail(source, std::string("machine.") + key, "not a string");
    return v.get<std::string>();
  };
  m.machine.cpu_model = text_of("cpu_model");
  m.machine.date = text_of("date");
  m.machine.commit = text_of("commit");
  const auto& cores = member(mach, "cores", source, "machine.");
  if (!cores.is_number_integer() || cores.get<long long>() < 0) fail(source, "machine.cores", "not a non-negative integer");
  m.machine.cores = cores.get<int>();
  const auto& per = member(j, "seconds_per_unit", source, "");
  if (!per.is_object()) fail(source, "seconds_per_unit", "not an object");
  std::array<bool, kWorkKinds> seen{};
  for (auto it = per.begin(); it != per.end(); ++it) {
    const std::string key = "seconds_per_unit." + it.key();
    const WorkKind k = kind_at(source, "seconds_per_unit", it.key());
    if (!it->is_number()) fail(source, key, "not a number");
    const double v = it->get<double>();
    if (!(v >= 0) || v > 1) fail(source, key, "seconds per unit must be in [0, 1], got " + it->dump());
    m[k] = v;
    seen[static_cast<size_t>(k)] = true;
  }
  for (int i = 0; i < kWorkKinds; ++i)
    if (!seen[static_cast<size_t>(i)]) fail(source, std::string("seconds_per_unit.") + work_kind_name(static_cast<WorkKind>(i)), "missing");
  if (auto par = j.find("parallel_speedup"); par != j.end()) {
    if (!par->is_object()) fail(source, "parallel_speedup", "not an object");
    for (auto it = par->begin(); it != par->end(); ++it) {
      const std::string key = "parallel_speedup." + it.key();
      const WorkKind k = kind_at(source, "parallel_speedup", it.key());
      if (!it->is_number() || !(it->get<double>() >= 1.0) || it->get<double>() > 1024)
        fail(source, key, "speedup must be a number in [1, 1024], got " + it->dump());
      m.parallel_speedup[static_cast<size_t>(k)] = it->get<double>();
    }
  }
  if (auto f = j.find("fit"); f != j.end()) m.fit_json = f->dump();
  return m;
}

ComputeModel ComputeModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CalibrationError(path + ": cannot open calibration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path);
}

void ComputeModel::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw CalibrationError(path + ": cannot write calibration file");
  out << to_json();
  if (!out) throw CalibrationError(path + ": write failed");
}

void apply_parallel_speedups(const ComputeModel& m) {
  for (int i = 0; i < kWorkKinds; ++i) set_parallel_speedup(static_cast<WorkKind>(i), m.parallel_speedup[static_cast<size_t>(i)]);
}

std::shared_ptr<const ComputeModel> builtin_compute_model() {
  static const std::shared_ptr<const ComputeModel> m =
      std::make_shared<const ComputeModel>(ComputeModel::from_json(kDefaultCalibrationJson, "built-in calibration (sim/calibration/default.json)"));
  return m;
}

std::shared_ptr<const ComputeModel> compute_model_from(const std::string& path) {
  if (path.empty()) return builtin_compute_model();
  return std::make_shared<const ComputeModel>(ComputeModel::load(path));
}

}  // namespace marill
