// The runner reproduces the costs pinned in tests/baselines/ (written by main before the layers
// restructuring; see its README): every row's bytes and rounds, and exactly the pinned rows. The
// grids run in phantom mode, which sends exactly the bytes and rounds of real runs.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "runner/rows.h"

using namespace marill;

namespace {

// A pinned CSV as maps from each row's key columns to its bytes_sent and rounds.
using Costs = std::map<std::string, std::pair<std::string, std::string>>;

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(f);
  return out;
}

Costs read_pinned(const std::string& name, const std::vector<std::string>& key_columns) {
  const std::string path = std::string(MARILL_SOURCE_DIR) + "/tests/baselines/" + name;
  std::ifstream in(path);
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = fields(line);
  auto column = [&](const std::string& c) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == c) return i;
    FAIL("column " << c << " missing in " << path);
    return size_t{0};
  };
  std::vector<size_t> keys;
  for (const auto& c : key_columns) keys.push_back(column(c));
  const size_t bytes = column("bytes_sent"), rounds = column("rounds");
  Costs out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto f = fields(line);
    REQUIRE(f.size() == header.size());
    std::string key;
    for (size_t k : keys) key += f[k] + ",";
    out[key] = {f[bytes], f[rounds]};
  }
  return out;
}

// Compares run rows with the pinned ones: the same keys, and the same bytes and rounds per key.
void check_same(const Costs& pinned, const Costs& run) {
  CHECK(run.size() == pinned.size());
  for (const auto& [key, cost] : pinned) {
    INFO("pinned row " << key);
    auto it = run.find(key);
    REQUIRE(it != run.end());
    CHECK(it->second.first == cost.first);    // bytes_sent
    CHECK(it->second.second == cost.second);  // rounds
  }
}

const std::vector<std::string> kLayerKey = {"setting", "arch", "stage", "b", "d", "heads", "merge", "lora", "fss", "kind", "party"};

// tests/baselines/README.md: b 128, d 256, 8 heads, ffn 1024; m 1,2,4 (decode: 1,4); LoRA 0,8;
// 3pc and 2pc-dealer; FSS on,off (off: 2pc-dealer only).
Costs run_layer_grid(Arch arch, Stage stage) {
  Costs out;
  const std::vector<int> merges = stage == Stage::prefill ? std::vector<int>{1, 2, 4} : std::vector<int>{1, 4};
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer})
    for (bool fss : {true, false})
      for (int m : merges)
        for (i64 lora : {0, 8}) {
          if (!fss && st != Setting::two_pc_dealer) continue;
          Point p;
          p.setting = st;
          p.model.arch = arch;
          p.model.d_model = 256;
          p.model.n_heads = 8;
          p.model.ffn_dim = 1024;
          p.stage = stage;
          p.b = 128;
          p.marill.merge = m;
          p.marill.lora = lora;
          p.fss_gates = fss;
          p.mode = Mode::phantom;
          for (const LayerRow& r : layer_rows(run_point(p))) {
            const auto f = fields(csv_line(r));
            std::string key;
            for (size_t i = 0; i < kLayerKey.size(); ++i) key += f[i] + ",";
            out[key] = {std::to_string(r.bytes_sent), std::to_string(r.rounds)};
          }
        }
  return out;
}

}  // namespace

TEST_CASE("bench layer reproduces the pinned llama prefill costs", "[baselines]") {
  check_same(read_pinned("layer_llama_prefill.csv", kLayerKey), run_layer_grid(Arch::llama, Stage::prefill));
}

TEST_CASE("bench layer reproduces the pinned llama decode costs", "[baselines]") {
  check_same(read_pinned("layer_llama_decode.csv", kLayerKey), run_layer_grid(Arch::llama, Stage::decode));
}

TEST_CASE("bench layer reproduces the pinned gpt2 prefill costs", "[baselines]") {
  check_same(read_pinned("layer_gpt2_prefill.csv", kLayerKey), run_layer_grid(Arch::gpt2, Stage::prefill));
}

TEST_CASE("bench layer reproduces the pinned gpt2 decode costs", "[baselines]") {
  check_same(read_pinned("layer_gpt2_decode.csv", kLayerKey), run_layer_grid(Arch::gpt2, Stage::decode));
}

TEST_CASE("bench primitives reproduces the pinned bytes and rounds per party and phase", "[baselines]") {
  const std::vector<std::string> key = {"setting", "op", "shape", "party", "phase"};
  Costs run;
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer})
    for (const PrimitiveOp& op : primitive_bench_ops(false)) {
      Point p;
      p.workload = Workload::primitive;
      p.setting = st;
      p.primitive = op;
      p.mode = Mode::phantom;
      for (const PrimitiveRow& r : primitive_rows(run_point(p)))
        run[r.setting + "," + r.op + "," + r.shape + "," + r.party + "," + r.phase + ","] = {std::to_string(r.bytes_sent),
                                                                                           std::to_string(r.rounds)};
    }
  check_same(read_pinned("primitives_lan.csv", key), run);
}
