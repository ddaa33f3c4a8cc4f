// Scenario files (YAML): a model, settings, networks, stages, b and MARILL's knobs as sweep axes
// and named configurations, expanded into typed points (the format: scenarios/README.md).
//
// Parsing is strict: an unknown key, a wrong type, a missing required key, malformed YAML or an
// impossible combination (h not divisible by m, f outside (0, 1], a negative LoRA rank, a baseline
// that matches no point, ...) is a std::invalid_argument "FILE:LINE: KEY: what is wrong".
#pragma once

#include <string>
#include <vector>

#include "models/package/package.h"
#include "runner/generation.h"
#include "runner/point.h"

namespace marill {

// One knob value as the scenario wrote it (freeze, lora_rank, lora_targets, merge, grouping,
// prune_heads, prune_layers, softmax, act), with where it was written (errors name it).
struct KnobValue {
  std::string knob;
  std::string where;  // "FILE:LINE: axes.merge"
  double number = 0;                // freeze, lora_rank, merge, prune_heads, prune_layers
  std::string word;                 // grouping, softmax, act
  std::vector<std::string> words;   // lora_targets
  std::string text() const;         // as the CSV and tables show it
};
// The knob names, in the order they are applied and shown.
const std::vector<std::string>& knob_names();
// Sets one knob on a MARILL config (the layer counts are derived later: shape_marill).
void apply_knob(pkg::MarillConfig& mc, const KnobValue& v);

enum class SweepWorkload { model, block };  // the whole model (runner/generation.h) | one private block
const char* sweep_workload_name(SweepWorkload w);

struct ScenarioModel {
  ModelSource::Kind kind = ModelSource::preset;
  std::string name;  // as the scenario writes it: the CSV's model column
  std::string path;  // preset: its name; else the path, relative ones taken from the scenario's directory
  pkg::ModelConfig shape;  // the model's shape (package: its model config)
  std::optional<pkg::MarillConfig> fixed;  // package: its trained config (no knob may change it)
};

struct ScenarioPoint {
  std::string id;     // a short stable hash (hex) of the point's parameters
  std::string label;  // the named configuration's label, or ""
  Setting setting = Setting::three_pc;
  NetworkModel network;
  Stage stage = Stage::prefill;
  i64 b = 0;  // prefill: prompt tokens; decode: tokens in the KV cache before the new one
  std::vector<KnobValue> knobs;  // the knobs the point sets (the rest keep their defaults)
  pkg::MarillConfig marill;      // the knobs applied, layer counts derived (block: 1 private layer)
};

struct Scenario {
  std::string file;  // as given
  std::string name;
  ScenarioModel model;
  SweepWorkload workload = SweepWorkload::model;
  Mode mode = Mode::phantom;
  std::vector<Setting> settings;
  std::vector<NetworkModel> networks;
  std::vector<Stage> stages;
  std::vector<i64> b;
  int repeats = 1;
  std::string output;  // as written (relative: to the current directory); empty: none given
  std::vector<ScenarioPoint> points;  // settings x networks x stages x b x configs x axes, in that order
  // Per point: the index of its baseline point (same setting, network, stage, b), -1 without a baseline.
  std::vector<int> baseline;
};

// Reads and checks a scenario file. Throws std::invalid_argument "FILE:LINE: KEY: message".
Scenario load_scenario(const std::string& path);
// The same from text; `file` names it in errors, `dir` resolves relative model paths.
Scenario parse_scenario(const std::string& yaml_text, const std::string& file, const std::string& dir);

// The block a block-workload point runs (runner/point.h), and the generation point of a
// whole-model point (prompt of b tokens; new tokens: 1 for prefill, 2 for decode).
Point block_point(const Scenario& sc, const ScenarioPoint& p);
GenerationPoint generation_point(const Scenario& sc, const ScenarioPoint& p);

}  // namespace marill
