// Scenario files and `marill run`: strict parsing (every kind of error names the file, the line and
// the key), the expansion of axes and named configurations into points with their knobs, MARILL's
// knobs on model shapes, the sweep CSV written and re-read, a stopped sweep resumed without
// rerunning its rows (through the marill executable), and --jobs 2 giving the rows of --jobs 1.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "models/package/presets.h"
#include "models/secure/secure_model.h"
#include "runner/scenario.h"
#include "runner/results_reader.h"
#include "runner/sweep.h"
#include "tests/core/process_helpers.h"

using namespace marill;
using marill::test::csv_rows;
using marill::test::marill_exe;
using marill::test::tiny_config;
using Catch::Contains;

namespace {

namespace fs = std::filesystem;

// A fresh directory per test case.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("marill_test_scenario_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scenario of `body` in a file; its errors name the file.
Scenario load(const std::string& body) {
  static const fs::path dir = scratch("errors");
  return load_scenario(write(dir / "s.yaml", body));
}

// The usual head of a test scenario, every required key given.
const std::string kHead =
    "name: t\n"                                   // line 1
    "model: {preset: openllama-3b-v2}\n"          // line 2
    "settings: [3pc, 2pc-dealer]\n"               // line 3
    "networks: [lan]\n"                           // line 4
    "stages: [prefill]\n"                         // line 5
    "b: [64]\n";                                  // line 6

// The bundled tiny model's config.json: a small shape that runs in milliseconds.
std::string tiny_sweep(const std::string& extra = "") {
  return "name: tiny\n"
         "model: {config: " + tiny_config() + "}\n"
         "settings: [3pc, 2pc-dealer]\n"
         "networks: [lan]\n"
         "stages: [prefill, decode]\n"
         "b: [8]\n"
         "configs:\n"
         "  - {label: full}\n"
         "  - {label: lf, freeze: 1/2}\n"
         "  - {label: hm2, merge: 2}\n"
         "baseline: {label: full}\n" + extra;
}

// Runs a shell command; its exit status, stderr+stdout in *out.
int shell(const std::string& cmd, std::string* out) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("scenario: axes and named configurations expand into points with their knobs", "[scenario]") {
  const Scenario sc = load(
      "name: table\n"
      "model: {preset: openllama-3b-v2}\n"
      "settings: [3pc, 2pc-dealer]\n"
      "networks: [lan, {name: slow, bandwidth: 1Gbit, latency: 5ms}]\n"
      "stages: [prefill, decode]\n"
      "b: [64, 128]\n"
      "repeats: 2\n"
      "axes:\n"
      "  merge: [1, 2, 4]\n"
      "  lora_rank: [0, 8]\n"
      "configs:\n"
      "  - {label: full}\n"
      "  - {label: lf, freeze: 13/26, softmax: 2relu}\n"
      "baseline: {label: full, merge: 1, lora_rank: 0}\n");
  CHECK(sc.name == "table");
  CHECK(sc.repeats == 2);
  REQUIRE(sc.points.size() == 2u * 2 * 2 * 2 * 2 * 3 * 2);
  CHECK(sc.networks[1].name == "slow");
  CHECK(sc.networks[1].link.bandwidth_bps == Approx(1e9));
  CHECK(sc.networks[1].link.latency_s == Approx(5e-3));
  // Order: setting, network, stage, b, then configs x axes (first axis outermost).
  const ScenarioPoint& first = sc.points[0];
  CHECK(first.setting == Setting::three_pc);
  CHECK(first.network.name == "lan");
  CHECK(first.stage == Stage::prefill);
  CHECK(first.b == 64);
  CHECK(first.label == "full");
  CHECK(first.marill.merge == 1);
  CHECK(first.marill.lora_rank == 0);
  CHECK(first.marill.private_layers == 26);
  const ScenarioPoint& p = sc.points[6 + 5];  // lf, merge 4, LoRA 8
  CHECK(p.label == "lf");
  CHECK(p.marill.freeze == Approx(0.5));
  CHECK(p.marill.private_layers == 13);
  CHECK(p.marill.frozen_layers == 13);
  CHECK(p.marill.merge == 4);
  CHECK(p.marill.lora_rank == 8);
  CHECK(p.marill.lora_targets.size() == 7u);  // all seven linears when none are named
  CHECK(p.marill.softmax == parse_softmax_approx("2relu"));
  CHECK(sc.points[1].marill.lora_rank == 8);  // the last axis varies fastest
  CHECK(sc.points[2].marill.merge == 2);
  // Every point's baseline: the full, m = 1, r = 0 point of its group; the ids are distinct.
  std::set<std::string> ids;
  for (size_t i = 0; i < sc.points.size(); ++i) {
    ids.insert(sc.points[i].id);
    const ScenarioPoint& base = sc.points[static_cast<size_t>(sc.baseline[i])];
    CHECK(base.label == "full");
    CHECK(base.marill.merge == 1);
    CHECK(base.marill.lora_rank == 0);
    CHECK(base.setting == sc.points[i].setting);
    CHECK(base.network.name == sc.points[i].network.name);
    CHECK(base.stage == sc.points[i].stage);
    CHECK(base.b == sc.points[i].b);
  }
  CHECK(ids.size() == sc.points.size());
  // The same point in another file has the same id (a hash of its parameters, not of the file).
  const Scenario again = load(kHead);
  const Scenario again2 = load(kHead + "repeats: 3\n");
  CHECK(again.points[0].id == again2.points[0].id);
}

TEST_CASE("scenario: knobs on a preset's shape (layer pruning, LoRA targets, merge on a GQA shape)", "[scenario]") {
  const pkg::ModelConfig llama3 = preset_config(pkg::shape_preset("Llama-3-8B"));
  pkg::MarillConfig k;
  k.freeze = 0.5;
  k.merge = 4;  // 32 query heads, 8 KV heads: 4 per group
  k.lora_rank = 16;
  k.lora_targets = {"q", "v"};
  const pkg::MarillConfig mc = shape_marill(llama3, k);
  CHECK(mc.private_layers == 16);
  const ModelPlan plan = shape_plan(llama3, mc);
  CHECK(plan.block.merge == 4);
  CHECK(plan.block.kv_heads() == 8);
  CHECK(plan.private_layers() == 16);
  const std::vector<FloatBlock> blocks = shape_blocks(plan, mc);
  REQUIRE(blocks.size() == 16u);
  CHECK(blocks[0].wq.lora_rank == 16);
  CHECK(blocks[0].wv.lora_rank == 16);
  CHECK(blocks[0].wk.lora_rank == 0);
  CHECK(blocks[0].w_down.lora_rank == 0);
  CHECK(blocks[0].wk.w_public);  // LoRA: the base weights are public
  k.merge = 8;
  CHECK_THROWS_WITH(shape_marill(llama3, k), Contains("does not divide the 4 query heads per key/value head"));
  pkg::MarillConfig pruned;
  pruned.prune_layers = 6;
  const pkg::MarillConfig pl = shape_marill(preset_config(pkg::shape_preset("openllama-3b-v2")), pruned);
  CHECK(pl.private_layers == 20);
  CHECK(shape_plan(preset_config(pkg::shape_preset("openllama-3b-v2")), pl).n_layers == 20);
}

TEST_CASE("scenario: every kind of error names the file, the line and the key", "[scenario][errors]") {
  const std::string file = (fs::temp_directory_path() / ("marill_test_scenario_" + std::to_string(::getpid())) / "errors" / "s.yaml").string();
  // unknown keys: top level, inside axes, inside a configuration
  CHECK_THROWS_WITH(load(kHead + "colour: blue\n"), Contains(file + ":7: colour: unknown key"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merg: [1, 2]\n"), Contains(file + ":8: axes.merg: unknown key"));
  CHECK_THROWS_WITH(load(kHead + "configs:\n  - {label: a, frezee: 1/2}\n"), Contains(file + ":8: configs[0].frezee: unknown key"));
  // wrong types
  CHECK_THROWS_WITH(load(kHead + "repeats: many\n"), Contains(file + ":7: repeats: expected an integer, got 'many'"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: 4\n"), Contains(file + ":8: axes.merge: expected a list"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: [1.5]\n"), Contains(file + ":8: axes.merge[0]: expected an integer, got '1.5'"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  freeze: [half]\n"), Contains(file + ":8: axes.freeze[0]: expected a number or a fraction a/b"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: []\n"), Contains(file + ":8: axes.merge: the list is empty"));
  CHECK_THROWS_WITH(load("name: t\nmodel: openllama\n"), Contains(file + ":2: model: expected a map"));
  // malformed YAML: yaml-cpp's message with the line
  CHECK_THROWS_WITH(load("name: t\nsettings: [3pc\nb: 1\n"), Contains(file + ":3") && Contains("malformed YAML"));
  // missing keys
  CHECK_THROWS_WITH(load("name: t\nsettings: [3pc]\nnetworks: [lan]\nstages: [prefill]\nb: [1]\n"), Contains(file + ":1: model: missing (required)"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nnetworks: [lan]\nstages: [prefill]\nb: [1]\n"), Contains("settings: missing (required)"));
  // impossible values and combinations
  CHECK_THROWS_WITH(load(kHead + "axes:\n  freeze: [1, 3/2]\n"), Contains(file + ":8: axes.freeze[1]: freeze f = 3/2 is outside (0, 1]"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  freeze: [0]\n"), Contains(file + ":8: axes.freeze[0]: freeze f = 0 is outside (0, 1]"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  lora_rank: [8, -4]\n"), Contains(file + ":8: axes.lora_rank[1]: the LoRA rank r = -4 must be positive"));
  CHECK_THROWS_WITH(load(kHead + "configs:\n  - {label: a}\n  - {label: b, merge: 3}\n"),
                    Contains(file + ":9: configs[1].merge: marill config: n_heads (32) is not divisible by the merge factor m=3"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: Llama-3-8B}\nsettings: [3pc]\nnetworks: [lan]\nstages: [prefill]\nb: [8]\naxes:\n  merge: [2, 8]\n"),
                    Contains(file + ":8: axes.merge[1]") && Contains("does not divide the 4 query heads per key/value head"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: [2]\nconfigs:\n  - {label: a, merge: 4}\n"),
                    Contains(file + ":10: configs[0].merge: also an axis"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  prune_layers: [26]\n"), Contains(file + ":8: axes.prune_layers[0]") && Contains("prune_layers=26"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: [2, 2]\n"), Contains("comes twice"));
  CHECK_THROWS_WITH(load(kHead + "mode: real\n"), Contains(file + ":7: mode: a shape preset has no weights"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: openllama-3b-v2}\nsettings: [3pc]\nnetworks: [lan]\nstages: [decode]\nb: [2048]\n"),
                    Contains(file + ":6: b[0]: decode at b = 2048 needs a context of 2049 tokens, the model has 2048"));
  // unknown names
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: openllama-7b}\n"), Contains(file + ":2: model.preset: unknown model preset 'openllama-7b'"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nsettings: [3pc, 4pc]\n"), Contains(file + ":3: settings[1]: unknown setting '4pc'"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nsettings: [2pc, 2pc]\n"), Contains(file + ":3: settings[1]: given twice"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nsettings: [3pc]\nnetworks: [lan, moon]\n"), Contains(file + ":4: networks[1]") && Contains("moon"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nsettings: [3pc]\nnetworks:\n  - {name: x, bandwidth: fast, latency: 1ms}\n"),
                    Contains(file + ":5: networks[0].bandwidth: network: bad bandwidth 'fast'"));
  CHECK_THROWS_WITH(load("name: t\nmodel: {preset: gpt2}\nsettings: [3pc]\nnetworks: [lan]\nstages: [prefill, sideways]\n"),
                    Contains(file + ":5: stages[1]: unknown stage 'sideways'"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  softmax: [exact, 3relu]\n"), Contains(file + ":8: axes.softmax[1]") && Contains("3relu"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  act: [gelu2]\n"), Contains(file + ":8: axes.act[0]") && Contains("gelu2"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  lora_targets: [[q, x]]\n"), Contains(file + ":8: axes.lora_targets[0][1]: unknown LoRA target 'x'"));
  CHECK_THROWS_WITH(load(kHead + "workload: layer\n"), Contains(file + ":7: workload: unknown workload 'layer'"));
  // the baseline must match exactly one point per group
  CHECK_THROWS_WITH(load(kHead + "configs:\n  - {label: a}\nbaseline: {label: full}\n"), Contains(file + ":9: baseline: matches no point of 3pc lan prefill b=64"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  merge: [1, 2]\nbaseline: {freeze: 1}\n"), Contains(file + ":9: baseline: matches 2 points"));
  // an unreadable file
  CHECK_THROWS_WITH(load_scenario("/nonexistent/marill/s.yaml"), Contains("/nonexistent/marill/s.yaml: cannot read the scenario file"));
}

TEST_CASE("scenario: impossible head pruning and block LoRA targets are refused with a clear error", "[scenario][errors]") {
  CHECK(load(kHead + "axes:\n  prune_heads: [1, 2, 4]\n").points.size() == 6u);
  CHECK_THROWS_WITH(load(kHead + "axes:\n  prune_heads: [3]\n"), Contains(":8: axes.prune_heads[0]") && Contains("not divisible by the head-pruning factor m=3"));
  CHECK_THROWS_WITH(load(kHead + "axes:\n  prune_heads: [2]\n  merge: [2]\n"), Contains("head merging and head pruning cannot be combined"));
  CHECK_THROWS_WITH(load(kHead + "workload: block\naxes:\n  freeze: [1/2]\n"), Contains(":9: axes.freeze: a block point runs one private block"));
  CHECK_THROWS_WITH(load(kHead + "workload: block\naxes:\n  lora_rank: [4]\n  lora_targets: [[q]]\n"),
                    Contains(":10: axes.lora_targets[0]") && Contains("all seven linears"));
}

TEST_CASE("marill run: the sweep CSV is written, re-read, and its ratios are to the baseline", "[scenario][sweep]") {
  const fs::path dir = scratch("csv");
  const Scenario sc = load_scenario(write(dir / "tiny.yaml", tiny_sweep()));
  REQUIRE(sc.points.size() == 12u);
  SweepOptions opt;
  opt.out = (dir / "out" / "tiny.csv").string();
  std::ostringstream log;
  const SweepReport rep = run_sweep(sc, opt, log);
  CHECK(rep.failed == 0);
  CHECK(rep.ran == 12u);
  CHECK_THAT(log.str(), Contains("12/12 points") && Contains("ETA"));
  const std::vector<CsvFields> rows = csv_rows(opt.out);
  REQUIRE(rows.size() == 12u);
  CHECK(rows == rep.rows);
  std::map<std::string, const CsvFields*> by_id;
  for (const CsvFields& r : rows) by_id[r[1]] = &r;
  for (size_t i = 0; i < rows.size(); ++i) {
    const CsvFields& r = rows[i];
    REQUIRE(r.size() == 34u);
    CHECK(r[1] == sc.points[i].id);  // in point order
    // per party: the client and server columns add up to the total; a helper only in 3pc
    const u64 helper = r[33].empty() ? 0 : std::stoull(r[33]);
    CHECK(std::stoull(r[31]) + std::stoull(r[32]) + helper == std::stoull(r[22]));
    CHECK(r[33].empty() == (r[5] == "2pc-dealer"));
    CHECK(r[0] == "tiny");
    CHECK(r[4] == "model");
    CHECK(r[19] == "phantom");
    CHECK(std::stoull(r[22]) > 0);
    CHECK(std::stoull(r[21]) <= std::stoull(r[22]));
    CHECK((r[5] == "2pc-dealer") == (std::stoull(r[23]) > 0));  // the dealer's randomness
    REQUIRE(by_id.count(r[28]));
    const CsvFields& base = *by_id[r[28]];
    CHECK(base[2] == "full");
    CHECK(base[5] == r[5]);
    CHECK(base[7] == r[7]);
    CHECK(std::stod(r[30]) == Approx(std::stod(base[22]) / std::stod(r[22])).epsilon(1e-3));
    CHECK(std::stod(r[29]) == Approx(std::stod(base[25]) / std::stod(r[25])).epsilon(1e-3));
    if (r[2] == "lf") CHECK(r[10] == "2");  // 2 of 4 layers private
    if (r[2] == "full") CHECK(r[30] == "1.0000");
    if (r[2] == "lf" && r[7] == "prefill") CHECK(std::stod(r[30]) > 1.3);  // half the layers' traffic gone (the head stays)
  }
  // The op kinds beside it: the layers' attention and MLP of every point.
  const std::string ops = read(dir / "out" / "tiny.ops.csv");
  CHECK_THAT(ops, Contains(std::string(sweep_ops_csv_header()) + "\n"));
  CHECK_THAT(ops, Contains(rows[0][1] + ",layers/attention,") && Contains(rows[11][1] + ",layers/mlp,"));
  // Without --resume an existing output is an error naming it.
  CHECK_THROWS_WITH(run_sweep(sc, opt, log), Contains(opt.out + " exists: --resume continues"));
}

TEST_CASE("marill run: a block workload and a failing point (the sweep goes on)", "[scenario][sweep]") {
  const fs::path dir = scratch("block");
  const Scenario block = load_scenario(write(dir / "block.yaml",
                                             "name: blk\nmodel: {preset: gpt2}\nworkload: block\nsettings: [3pc]\nnetworks: [lan]\n"
                                             "stages: [prefill, decode]\nb: [16]\naxes:\n  merge: [1, 4]\n  lora_rank: [0, 8]\n"));
  SweepOptions opt;
  opt.out = (dir / "block.csv").string();
  std::ostringstream log;
  const SweepReport rep = run_sweep(block, opt, log);
  CHECK(rep.failed == 0);
  REQUIRE(rep.rows.size() == 8u);
  for (const CsvFields& r : rep.rows) {
    CHECK(r[4] == "block");
    CHECK(r[10] == "1");
    CHECK(std::stoull(r[22]) > 0);
    CHECK(r[28].empty());  // no baseline
  }
  // An HF directory whose weights are missing: each point fails when it runs, the sweep reports it and goes on.
  fs::create_directories(dir / "hf");
  fs::copy_file(tiny_config(), dir / "hf" / "config.json");
  const Scenario broken = load_scenario(write(dir / "broken.yaml",
                                              "name: broken\nmodel: {hf: hf}\nmode: real\nsettings: [3pc]\nnetworks: [lan]\n"
                                              "stages: [prefill]\nb: [4]\naxes:\n  freeze: [1/2, 1]\n"));
  opt.out = (dir / "broken.csv").string();
  const SweepReport bad = run_sweep(broken, opt, log);
  CHECK(bad.failed == 2);
  CHECK(bad.rows.empty());
  REQUIRE(bad.errors.size() == 2u);
  CHECK_THAT(bad.errors[0], Contains("freeze=0.5") && Contains("model.safetensors"));
}

TEST_CASE("marill run: a stopped sweep resumes without rerunning its rows, and --jobs 2 gives the rows of --jobs 1", "[scenario][sweep][cli]") {
  const fs::path dir = scratch("resume");
  const std::string scenario = write(dir / "tiny.yaml", tiny_sweep());
  const std::string exe = marill_exe();
  REQUIRE(fs::exists(exe));
  std::string out;
  const std::string csv = (dir / "r.csv").string();
  REQUIRE(shell(exe + " run " + scenario + " --out " + csv + " --stop-after 5", &out) == 0);
  CHECK_THAT(out, Contains("stopped after 5 points"));
  const std::vector<CsvFields> first = csv_rows(csv);
  REQUIRE(first.size() == 5u);
  // Without --resume the output is not overwritten.
  CHECK(shell(exe + " run " + scenario + " --out " + csv, &out) == 1);
  CHECK_THAT(out, Contains(csv + " exists"));
  REQUIRE(shell(exe + " run " + scenario + " --out " + csv + " --resume", &out) == 0);
  CHECK_THAT(out, Contains("5 of 12 points already done"));
  CHECK_THAT(out, Contains("12 rows in " + csv + " (5 already done, 7 ran, 0 failed)"));
  const std::vector<CsvFields> all = csv_rows(csv);
  REQUIRE(all.size() == 12u);
  // The earlier rows' measured columns (wall time included: a rerun would differ) are unchanged.
  for (const CsvFields& r : first) {
    bool found = false;
    for (const CsvFields& a : all)
      if (a[1] == r[1] && a[20] == r[20]) {
        found = true;
        CHECK(CsvFields(a.begin(), a.begin() + 28) == CsvFields(r.begin(), r.begin() + 28));
      }
    CHECK(found);
  }
  const std::string ops = read(ops_csv_path(csv));
  for (const CsvFields& r : all) CHECK_THAT(ops, Contains(r[1] + ",layers/attention,"));

  // --jobs 2: the same bytes and rounds, row for row.
  const std::string csv2 = (dir / "j2.csv").string();
  REQUIRE(shell(exe + " run " + scenario + " --out " + csv2 + " --jobs 2", &out) == 0);
  const std::vector<CsvFields> parallel = csv_rows(csv2);
  REQUIRE(parallel.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(parallel[i][1] == all[i][1]);
    for (size_t c : {21u, 22u, 23u, 24u}) CHECK(parallel[i][c] == all[i][c]);
    CHECK(parallel[i][30] == all[i][30]);
  }
  // A bad scenario through the executable: the error names the file and line, exit status 1.
  const std::string bad = write(dir / "bad.yaml", kHead + "axes:\n  merge: [3]\n");
  CHECK(shell(exe + " run " + bad, &out) == 1);
  CHECK_THAT(out, Contains("error: " + bad + ":8: axes.merge[0]"));
}

TEST_CASE("generation: a preset's knobs reach the secure program (approximations, merge, LoRA targets)", "[scenario][generate]") {
  auto online = [](const pkg::MarillConfig& knobs) {
    GenerationPoint g;
    g.setting = Setting::two_pc_dealer;
    g.mode = Mode::phantom;
    g.source.kind = ModelSource::preset;
    g.source.path = "gpt2";
    g.source.knobs = knobs;
    g.prompt.assign(16, 1);
    g.new_tokens = 1;
    const GenerationInputs in = load_generation(g);
    const StepCost c = run_generation(g, in).steps.at(1);
    u64 bytes = 0;
    for (u64 b : c.online_bytes) bytes += b;
    return std::make_pair(in, bytes);
  };
  pkg::MarillConfig exact;
  exact.freeze = 0.5;
  const auto [exact_in, exact_bytes] = online(exact);
  CHECK(exact_in.plan.private_layers() == 6);
  CHECK_THAT(exact_in.description, Contains("6 of 12 layers private"));
  pkg::MarillConfig relu = exact;
  relu.softmax = parse_softmax_approx("2relu");
  relu.act = parse_act_approx("relu");
  const auto [relu_in, relu_bytes] = online(relu);
  CHECK(relu_in.policy.softmax == relu.softmax);
  CHECK(relu_in.policy.act == relu.act);
  CHECK(relu_bytes < exact_bytes);
  pkg::MarillConfig merged = exact;
  merged.merge = 4;
  const auto [merged_in, merged_bytes] = online(merged);
  CHECK(merged_in.plan.block.merge == 4);
  CHECK(merged_bytes < exact_bytes);
  pkg::MarillConfig lora_qv = exact, lora_all = exact;
  lora_qv.lora_rank = lora_all.lora_rank = 8;
  lora_qv.lora_targets = {"q", "v"};
  CHECK(online(lora_qv).second < online(lora_all).second);  // fewer adapters, fewer secret products
}
