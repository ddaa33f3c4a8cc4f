#include "runner/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "models/package/presets.h"
#include "models/secure/secure_model.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLoraTargets = {"q", "k", "v", "o", "gate", "up", "down"};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Where a node is: "FILE:LINE" (yaml-cpp's marks are 0-based).
std::string at(const std::string& file, const YAML::Node& n) {
  if (!n.IsDefined() || n.Mark().is_null()) return file;
  return file + ":" + std::to_string(n.Mark().line + 1);
}

// The reader of one scenario file: every error names the file, the line and the key.
struct Reader {
  std::string file;

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& msg) const {
    throw std::invalid_argument(at(file, n) + ": " + key + ": " + msg);
  }

  static std::string kind_of(const YAML::Node& n) {
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    if (n.IsNull()) return "nothing";
    return "'" + n.Scalar() + "'";
  }

  // A map whose keys are all in `allowed`, none twice.
  void check_map(const YAML::Node& n, const std::string& key, const std::vector<std::string>& allowed) const {
    if (!n.IsMap()) fail(n, key, "expected a map, got " + kind_of(n));
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) fail(it->first, key, "a key must be a word");
      const std::string k = it->first.Scalar();
      const std::string path = key.empty() ? k : key + "." + k;
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
        fail(it->first, path, "unknown key (expected " + join(allowed, ", ") + ")");
      if (!seen.insert(k).second) fail(it->first, path, "given twice");
    }
  }

  void require(const YAML::Node& map, const std::string& parent, const std::string& k) const {
    if (!map[k]) fail(map, parent.empty() ? k : parent + "." + k, "missing (required)");
  }

  std::string word(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(n, key, "expected a word, got " + kind_of(n));
    return n.Scalar();
  }

  long long integer(const YAML::Node& n, const std::string& key, long long lo, long long hi) const {
    if (!n.IsScalar()) fail(n, key, "expected an integer, got " + kind_of(n));
    long long v = 0;
    try {
      v = n.as<long long>();
    } catch (const YAML::Exception&) {
      fail(n, key, "expected an integer, got '" + n.Scalar() + "'");
    }
    if (v < lo || v > hi) fail(n, key, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }

  // A number, or a fraction "a/b" (freeze: 13/26).
  double number(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "expected a number or a fraction a/b, got " + kind_of(n));
    const std::string s = n.Scalar();
    const size_t slash = s.find('/');
    try {
      if (slash == std::string::npos) return n.as<double>();
      size_t used_a = 0, used_b = 0;
      const double a = std::stod(s.substr(0, slash), &used_a), b = std::stod(s.substr(slash + 1), &used_b);
      if (used_a != slash || used_b != s.size() - slash - 1 || b == 0) throw std::invalid_argument(s);
      return a / b;
    } catch (const std::exception&) {
      fail(n, key, "expected a number or a fraction a/b, got '" + s + "'");
    }
  }

  // A non-empty list (each element read by the caller).
  const YAML::Node& list(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) fail(n, key, "expected a list, got " + kind_of(n));
    if (n.size() == 0) fail(n, key, "the list is empty");
    return n;
  }
  std::string item(const std::string& key, size_t i) const { return key + "[" + std::to_string(i) + "]"; }
};

// One knob value, checked on its own (the checks that need the model's shape come later).
KnobValue read_knob(const Reader& r, const std::string& knob, const YAML::Node& n, const std::string& key) {
  KnobValue v;
  v.knob = knob;
  v.where = at(r.file, n) + ": " + key;
  if (knob == "freeze") {
    v.number = r.number(n, key);
    if (!(v.number > 0 && v.number <= 1)) r.fail(n, key, "freeze f = " + n.Scalar() + " is outside (0, 1]");
  } else if (knob == "lora_rank") {
    v.number = static_cast<double>(r.integer(n, key, -(1LL << 30), 1 << 20));
    if (v.number < 0) r.fail(n, key, "the LoRA rank r = " + n.Scalar() + " must be positive (0: no LoRA)");
  } else if (knob == "merge" || knob == "prune_heads") {
    v.number = static_cast<double>(r.integer(n, key, -(1LL << 30), 1 << 20));
    if (v.number < 1) r.fail(n, key, "the factor m = " + n.Scalar() + " must be at least 1");
  } else if (knob == "prune_layers") {
    v.number = static_cast<double>(r.integer(n, key, 0, 1 << 20));
  } else if (knob == "lora_targets") {
    for (size_t i = 0; i < r.list(n, key).size(); ++i) {
      const std::string t = r.word(n[i], r.item(key, i));
      if (std::find(kLoraTargets.begin(), kLoraTargets.end(), t) == kLoraTargets.end())
        r.fail(n[i], r.item(key, i), "unknown LoRA target '" + t + "' (" + join(kLoraTargets, ", ") + ")");
      if (std::find(v.words.begin(), v.words.end(), t) != v.words.end()) r.fail(n[i], r.item(key, i), "target '" + t + "' given twice");
      v.words.push_back(t);
    }
  } else if (knob == "grouping") {
    v.word = r.word(n, key);
    if (v.word != "adjacent" && v.word != "similar") r.fail(n, key, "unknown grouping '" + v.word + "' (adjacent, similar)");
  } else if (knob == "softmax" || knob == "act") {
    v.word = r.word(n, key);
    try {
      if (knob == "softmax") parse_softmax_approx(v.word);
      else parse_act_approx(v.word);
    } catch (const std::invalid_argument& e) {
      r.fail(n, key, e.what());
    }
  }
  return v;
}

bool same_value(const KnobValue& a, const pkg::MarillConfig& mc) {
  const std::string& k = a.knob;
  if (k == "freeze") return std::fabs(a.number - mc.freeze) < 1e-9;
  if (k == "lora_rank") return static_cast<int>(a.number) == mc.lora_rank;
  if (k == "lora_targets") {
    std::vector<std::string> x = a.words, y = mc.lora_targets;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
  }
  if (k == "merge") return static_cast<int>(a.number) == mc.merge;
  if (k == "grouping") return a.word == mc.grouping;
  if (k == "prune_heads") return static_cast<int>(a.number) == mc.prune_heads;
  if (k == "prune_layers") return static_cast<int>(a.number) == mc.prune_layers;
  if (k == "softmax") return parse_softmax_approx(a.word) == mc.softmax;
  if (k == "act") return parse_act_approx(a.word) == mc.act;
  return false;
}

std::string fmt_double(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// The point's parameters, canonical: its id is a hash of this (not of any result).
std::string canonical(const Scenario& sc, const ScenarioPoint& p) {
  const pkg::MarillConfig& mc = p.marill;
  std::ostringstream s;
  s << "model=" << sc.model.name << "|workload=" << sweep_workload_name(sc.workload) << "|mode=" << mode_name(sc.mode)
    << "|setting=" << setting_name(p.setting) << "|network=" << p.network.name << ':' << fmt_double(p.network.link.bandwidth_bps) << ':'
    << fmt_double(p.network.link.latency_s) << "|stage=" << stage_name(p.stage) << "|b=" << p.b << "|label=" << p.label
    << "|freeze=" << fmt_double(mc.freeze) << "|private=" << mc.private_layers << "|lora=" << mc.lora_rank << ':' << join(mc.lora_targets, "+")
    << "|merge=" << mc.merge << ':' << mc.grouping << "|prune_heads=" << mc.prune_heads << "|prune_layers=" << mc.prune_layers
    << "|softmax=" << to_string(mc.softmax) << "|act=" << to_string(mc.act);
  return s.str();
}

ScenarioModel read_model(const Reader& r, const YAML::Node& n, const std::string& dir) {
  r.check_map(n, "model", {"preset", "config", "package", "hf"});
  if (n.size() != 1) r.fail(n, "model", "give exactly one of preset, config, package, hf");
  const std::string kind = n.begin()->first.Scalar();
  const YAML::Node v = n.begin()->second;
  const std::string key = "model." + kind;
  ScenarioModel m;
  m.name = r.word(v, key);
  auto resolved = [&](const std::string& p) { return fs::path(p).is_absolute() || dir.empty() ? p : (fs::path(dir) / p).string(); };
  try {
    if (kind == "preset") {
      m.kind = ModelSource::preset;
      m.path = m.name;
      m.shape = preset_config(pkg::shape_preset(m.name));
    } else if (kind == "config") {
      m.kind = ModelSource::config;
      m.path = resolved(m.name);
      m.shape = pkg::read_hf_config(m.path);
    } else if (kind == "hf") {
      m.kind = ModelSource::hf;
      m.path = resolved(m.name);
      m.shape = pkg::read_hf_config(m.path + "/config.json");
    } else {
      m.kind = ModelSource::package;
      m.path = resolved(m.name);
      const pkg::Package p = pkg::load_package(m.path);
      m.shape = p.model;
      m.fixed = p.marill;
    }
  } catch (const std::exception& e) {
    r.fail(v, key, e.what());
  }
  return m;
}

NetworkModel read_network(const Reader& r, const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) {
    try {
      return network_preset(n.Scalar());
    } catch (const std::invalid_argument& e) {
      r.fail(n, key, std::string(e.what()) + " (presets: lan, wan; or {name, bandwidth, latency})");
    }
  }
  r.check_map(n, key, {"name", "bandwidth", "latency"});
  for (const char* k : {"name", "bandwidth", "latency"}) r.require(n, key, k);
  const std::string name = r.word(n["name"], key + ".name");
  NetworkModel m;
  try {
    m = network_preset("custom:bw=" + r.word(n["bandwidth"], key + ".bandwidth") + ",lat=0");
  } catch (const std::invalid_argument& e) {
    r.fail(n["bandwidth"], key + ".bandwidth", e.what());
  }
  try {
    m.link.latency_s = network_preset("custom:bw=1,lat=" + r.word(n["latency"], key + ".latency")).link.latency_s;
  } catch (const std::invalid_argument& e) {
    r.fail(n["latency"], key + ".latency", e.what());
  }
  m.name = name;
  return m;
}

// The knobs of a map (an entry of configs, the baseline): every key other than `label`.
std::vector<KnobValue> read_knob_map(const Reader& r, const YAML::Node& n, const std::string& key) {
  std::vector<std::string> allowed = knob_names();
  allowed.insert(allowed.begin(), "label");
  r.check_map(n, key, allowed);
  std::vector<KnobValue> out;
  for (const std::string& k : knob_names())
    if (n[k]) out.push_back(read_knob(r, k, n[k], key + "." + k));
  return out;
}

// The knobs on the model: derived counts, the shape's checks. An impossible combination names the
// knob whose value makes it so (applied in knob order, the first that fails).
pkg::MarillConfig effective_config(const Scenario& sc, const std::vector<KnobValue>& knobs, const std::string& fallback_where) {
  if (sc.model.fixed) return *sc.model.fixed;
  pkg::MarillConfig mc;
  auto derive = [&](pkg::MarillConfig c) {
    if (sc.workload == SweepWorkload::block) c.freeze = 1.0;  // one block, private
    pkg::ModelConfig shape = sc.model.shape;
    if (sc.workload == SweepWorkload::block) shape.n_layers = 1;
    c = shape_marill(shape, c);
    shape_plan(shape, c);  // what the secure model cannot run yet (head pruning)
    if (sc.workload == SweepWorkload::block && c.lora_rank > 0 && c.lora_targets.size() != kLoraTargets.size())
      throw std::invalid_argument("a block point puts LoRA on all seven linears (q, k, v, o, gate, up, down); other targets need workload: model");
    return c;
  };
  for (const KnobValue& v : knobs) {
    apply_knob(mc, v);
    try {
      derive(mc);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(v.where + ": " + e.what());
    }
  }
  try {
    return derive(mc);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fallback_where + ": " + e.what());
  }
}

}  // namespace

const std::vector<std::string>& knob_names() {
  static const std::vector<std::string> names = {"freeze", "prune_layers", "lora_rank", "lora_targets", "merge",
                                                 "grouping", "prune_heads", "softmax", "act"};
  return names;
}

std::string KnobValue::text() const {
  if (knob == "lora_targets") return join(words, "+");
  if (!word.empty()) return word;
  return knob == "freeze" ? fmt_double(number) : std::to_string(static_cast<long long>(number));
}

void apply_knob(pkg::MarillConfig& mc, const KnobValue& v) {
  const std::string& k = v.knob;
  if (k == "freeze") mc.freeze = v.number;
  else if (k == "lora_rank") mc.lora_rank = static_cast<int>(v.number);
  else if (k == "lora_targets") mc.lora_targets = v.words;
  else if (k == "merge") mc.merge = static_cast<int>(v.number);
  else if (k == "grouping") mc.grouping = v.word;
  else if (k == "prune_heads") mc.prune_heads = static_cast<int>(v.number);
  else if (k == "prune_layers") mc.prune_layers = static_cast<int>(v.number);
  else if (k == "softmax") mc.softmax = parse_softmax_approx(v.word);
  else if (k == "act") mc.act = parse_act_approx(v.word);
  else throw std::invalid_argument("unknown knob '" + k + "'");
}

const char* sweep_workload_name(SweepWorkload w) { return w == SweepWorkload::model ? "model" : "block"; }

Scenario parse_scenario(const std::string& text, const std::string& file, const std::string& dir) {
  const Reader r{file};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw std::invalid_argument(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) throw std::invalid_argument(file + ": a scenario is a map of keys (name, model, settings, ...)");
  r.check_map(root, "", {"name", "model", "workload", "mode", "settings", "networks", "stages", "b", "repeats", "axes", "configs",
                         "baseline", "output"});
  // Required keys are checked as they are read: the first error in the file's order is the one shown.

  Scenario sc;
  sc.file = file;
  r.require(root, "", "name");
  sc.name = r.word(root["name"], "name");
  r.require(root, "", "model");
  sc.model = read_model(r, root["model"], dir);
  const bool weights = sc.model.kind == ModelSource::package || sc.model.kind == ModelSource::hf;
  if (root["workload"]) {
    const std::string w = r.word(root["workload"], "workload");
    if (w == "model") sc.workload = SweepWorkload::model;
    else if (w == "block") sc.workload = SweepWorkload::block;
    else r.fail(root["workload"], "workload", "unknown workload '" + w + "' (model, block)");
    if (sc.workload == SweepWorkload::block && weights)
      r.fail(root["workload"], "workload", "a block point runs a model's shape with random weights: give a preset or a config.json");
  }
  if (root["mode"]) {
    try {
      sc.mode = parse_mode(r.word(root["mode"], "mode"));
    } catch (const std::invalid_argument& e) {
      r.fail(root["mode"], "mode", e.what());
    }
    const bool shape_only = sc.model.kind == ModelSource::preset || sc.model.kind == ModelSource::config;
    if (sc.mode == Mode::real && shape_only && sc.workload == SweepWorkload::model)
      r.fail(root["mode"], "mode", "a " + std::string(sc.model.kind == ModelSource::preset ? "shape preset" : "config.json") +
                                       " has no weights: the whole model runs in phantom mode only (or workload: block, random weights)");
  }
  r.require(root, "", "settings");
  const YAML::Node settings = r.list(root["settings"], "settings");
  for (size_t i = 0; i < settings.size(); ++i) {
    Setting s{};
    try {
      s = parse_setting(r.word(settings[i], r.item("settings", i)));
    } catch (const std::invalid_argument& e) {
      r.fail(settings[i], r.item("settings", i), e.what());
    }
    if (std::find(sc.settings.begin(), sc.settings.end(), s) != sc.settings.end()) r.fail(settings[i], r.item("settings", i), "given twice");
    sc.settings.push_back(s);
  }
  r.require(root, "", "networks");
  const YAML::Node networks = r.list(root["networks"], "networks");
  for (size_t i = 0; i < networks.size(); ++i) {
    NetworkModel m = read_network(r, networks[i], r.item("networks", i));
    for (const NetworkModel& o : sc.networks)
      if (o.name == m.name) r.fail(networks[i], r.item("networks", i), "network '" + m.name + "' given twice");
    sc.networks.push_back(m);
  }
  r.require(root, "", "stages");
  const YAML::Node stages = r.list(root["stages"], "stages");
  for (size_t i = 0; i < stages.size(); ++i) {
    try {
      sc.stages.push_back(parse_stage(r.word(stages[i], r.item("stages", i))));
    } catch (const std::invalid_argument& e) {
      r.fail(stages[i], r.item("stages", i), e.what());
    }
  }
  r.require(root, "", "b");
  const YAML::Node bs = r.list(root["b"], "b");
  for (size_t i = 0; i < bs.size(); ++i) {
    const i64 b = r.integer(bs[i], r.item("b", i), 1, 1 << 20);
    if (sc.workload == SweepWorkload::model)
      for (Stage st : sc.stages) {
        const i64 context = st == Stage::prefill ? b : b + 1;  // decode: the cache and the new token
        if (context > sc.model.shape.max_seq)
          r.fail(bs[i], r.item("b", i), std::string(stage_name(st)) + " at b = " + std::to_string(b) + " needs a context of " +
                                            std::to_string(context) + " tokens, the model has " + std::to_string(sc.model.shape.max_seq));
      }
    sc.b.push_back(b);
  }
  if (root["repeats"]) sc.repeats = static_cast<int>(r.integer(root["repeats"], "repeats", 1, 1000));
  if (root["output"]) sc.output = r.word(root["output"], "output");

  // Which knobs the model admits: a package's are fixed by its training, an HF model takes freeze.
  auto check_knob_allowed = [&](const YAML::Node& n, const std::string& key, const std::string& knob) {
    if (sc.model.kind == ModelSource::package) r.fail(n, key, "a package's MARILL configuration is fixed by its training");
    if (sc.model.kind == ModelSource::hf && knob != "freeze") r.fail(n, key, "an HF model runs with its own weights: only freeze applies");
    if (sc.workload == SweepWorkload::block && (knob == "freeze" || knob == "prune_layers"))
      r.fail(n, key, "a block point runs one private block: " + knob + " applies to the whole model (workload: model)");
  };

  // axes: knob -> values (the cartesian product, first axis outermost)
  std::vector<std::vector<KnobValue>> axes;
  if (root["axes"]) {
    const YAML::Node ax = root["axes"];
    r.check_map(ax, "axes", knob_names());
    for (auto it = ax.begin(); it != ax.end(); ++it) {
      const std::string knob = it->first.Scalar(), key = "axes." + knob;
      check_knob_allowed(it->first, key, knob);
      const YAML::Node values = r.list(it->second, key);
      std::vector<KnobValue> vs;
      for (size_t i = 0; i < values.size(); ++i) vs.push_back(read_knob(r, knob, values[i], r.item(key, i)));
      axes.push_back(vs);
    }
  }
  // configs: named points, each combined with every axes combination
  struct Named {
    std::string label;
    std::vector<KnobValue> knobs;
  };
  std::vector<Named> configs;
  if (root["configs"]) {
    const YAML::Node cs = r.list(root["configs"], "configs");
    for (size_t i = 0; i < cs.size(); ++i) {
      const std::string key = r.item("configs", i);
      Named c;
      c.knobs = read_knob_map(r, cs[i], key);
      r.require(cs[i], key, "label");
      c.label = r.word(cs[i]["label"], key + ".label");
      for (const Named& o : configs)
        if (o.label == c.label) r.fail(cs[i]["label"], key + ".label", "label '" + c.label + "' given twice");
      for (const KnobValue& v : c.knobs) {
        check_knob_allowed(cs[i][v.knob], key + "." + v.knob, v.knob);
        if (root["axes"] && root["axes"][v.knob])
          r.fail(cs[i][v.knob], key + "." + v.knob, "also an axis (axes." + v.knob + "): set a knob in one place");
      }
      configs.push_back(c);
    }
  } else {
    configs.push_back({});
  }

  // The axes' combinations, then the points.
  std::vector<std::vector<KnobValue>> combos{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<KnobValue>> next;
    for (const auto& c : combos)
      for (const KnobValue& v : axis) {
        next.push_back(c);
        next.back().push_back(v);
      }
    combos = std::move(next);
  }
  std::vector<std::pair<std::vector<KnobValue>, pkg::MarillConfig>> variants;  // per (config, combo)
  std::vector<std::string> labels;
  for (const Named& c : configs)
    for (const auto& combo : combos) {
      std::vector<KnobValue> knobs = c.knobs;
      knobs.insert(knobs.end(), combo.begin(), combo.end());
      std::stable_sort(knobs.begin(), knobs.end(), [](const KnobValue& a, const KnobValue& b) {
        const auto& n = knob_names();
        return std::find(n.begin(), n.end(), a.knob) < std::find(n.begin(), n.end(), b.knob);
      });
      const pkg::MarillConfig mc = effective_config(sc, knobs, at(file, root["model"]) + ": model");
      variants.emplace_back(knobs, mc);
      labels.push_back(c.label);
    }
  std::set<std::string> ids;
  for (Setting s : sc.settings)
    for (const NetworkModel& net : sc.networks)
      for (Stage st : sc.stages)
        for (i64 b : sc.b)
          for (size_t v = 0; v < variants.size(); ++v) {
            ScenarioPoint p;
            p.label = labels[v];
            p.setting = s;
            p.network = net;
            p.stage = st;
            p.b = b;
            p.knobs = variants[v].first;
            p.marill = variants[v].second;
            p.id = pkg::sha256_hex(canonical(sc, p).data(), canonical(sc, p).size()).substr(0, 12);
            if (!ids.insert(p.id).second) {
              std::string what;
              for (const KnobValue& k : p.knobs) what += " " + k.knob + "=" + k.text();
              throw std::invalid_argument(file + ": axes: the point" + (p.label.empty() ? "" : " '" + p.label + "'") + what +
                                          " comes twice (a value repeated in an axis?)");
            }
            sc.points.push_back(p);
          }

  // baseline: one point per (setting, network, stage, b)
  sc.baseline.assign(sc.points.size(), -1);
  if (root["baseline"]) {
    const YAML::Node bn = root["baseline"];
    const std::vector<KnobValue> want = read_knob_map(r, bn, "baseline");
    const bool by_label = static_cast<bool>(bn["label"]);
    const std::string label = by_label ? r.word(bn["label"], "baseline.label") : "";
    if (!by_label && want.empty()) r.fail(bn, "baseline", "give a label or knob values");
    std::map<std::string, std::vector<int>> groups;  // group -> matching points
    std::vector<std::string> group_of(sc.points.size()), group_order;
    for (size_t i = 0; i < sc.points.size(); ++i) {
      const ScenarioPoint& p = sc.points[i];
      group_of[i] = std::string(setting_name(p.setting)) + " " + p.network.name + " " + stage_name(p.stage) + " b=" + std::to_string(p.b);
      bool match = !by_label || p.label == label;
      for (const KnobValue& k : want) match = match && same_value(k, p.marill);
      if (!groups.count(group_of[i])) group_order.push_back(group_of[i]);
      auto& g = groups[group_of[i]];
      if (match) g.push_back(static_cast<int>(i));
    }
    for (const std::string& group : group_order) {
      const std::vector<int>& matches = groups[group];
      if (matches.empty()) r.fail(bn, "baseline", "matches no point of " + group);
      if (matches.size() > 1)
        r.fail(bn, "baseline", "matches " + std::to_string(matches.size()) + " points of " + group + " (give a label or more knobs)");
    }
    for (size_t i = 0; i < sc.points.size(); ++i) sc.baseline[i] = groups[group_of[i]].front();
  }
  return sc;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::invalid_argument(path + ": cannot read the scenario file");
  return parse_scenario(text.str(), path, fs::path(path).parent_path().string());
}

Point block_point(const Scenario& sc, const ScenarioPoint& p) {
  Point pt;
  pt.setting = p.setting;
  pt.network = p.network;
  pt.workload = Workload::block;
  pkg::ModelConfig shape = sc.model.shape;
  shape.n_layers = 1;
  pt.model = shape_plan(shape, p.marill).block;
  pt.marill.merge = p.marill.merge;
  pt.marill.lora = p.marill.lora_rank;
  pt.marill.softmax = p.marill.softmax;
  pt.marill.act = p.marill.act;
  pt.stage = p.stage;
  pt.b = p.b;
  pt.mode = sc.mode;
  return pt;
}

GenerationPoint generation_point(const Scenario& sc, const ScenarioPoint& p) {
  GenerationPoint g;
  g.setting = p.setting;
  g.network = p.network;
  g.mode = sc.mode;
  g.source.kind = sc.model.kind;
  g.source.path = sc.model.path;
  g.source.freeze = p.marill.freeze;
  if (sc.model.kind == ModelSource::preset || sc.model.kind == ModelSource::config) g.source.knobs = p.marill;
  // The prompt's length is what costs; real runs need ids inside the vocabulary.
  g.prompt.assign(static_cast<size_t>(p.b), std::min(1, sc.model.shape.vocab - 1));
  g.new_tokens = p.stage == Stage::prefill ? 1 : 2;
  return g;
}

}  // namespace marill
