// `marill-train agreement`: teacher-forced next-token agreement of secure inference with the
// LibTorch float model (issue 13's acceptance). For each package and setting: the task's held-out
// test prompts, each with its reference continuation (models/train/agreement.h); the secure run
// reveals to the client the argmax of each scored row (runner/scoring.h), LibTorch computes the same
// rows in float; printed: positions, agreements, % agreement, the largest |logit difference| (with
// --logits, the test-only path that reveals the logits), the float margin of the closest
// disagreement, time. It lives in marill-train because the float reference needs LibTorch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "models/train/agreement.h"
#include "models/train/api.h"
#include "runner/scoring.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

const char* kAgreementUsage =
    "usage: marill-train agreement --package DIR[,DIR...] [--data data] [--task translate|code] [--prompts 200]\n"
    "                              [--positions 16] [--settings 3pc,2pc-dealer] [--logits] [--show N] [--net lan] [--csv FILE]\n"
    "Teacher-forced next-token agreement of secure inference with the LibTorch float model: each of the\n"
    "first N held-out test prompts of the task with its reference continuation; the last `positions`\n"
    "rows (each predicting the next reference token from the same reference prefix) are scored by both.\n"
    "--show N: also N free-running greedy generations (secure, in the first setting, and float) from the first prompts\n"
    "--logits: also reveal the secure logits to the client (a test-only path: the client then sees the\n"
    "          whole output distribution) and report the largest |secure - float| logit difference\n";

// The context the base was pre-trained on (evaluation cuts prompts to it; the model's max_seq bounds it).
int trained_context(const std::string& base_dir, int max_seq) {
  std::ifstream pj(base_dir + "/pretrain.json");
  if (!pj) return max_seq;
  return std::min(max_seq, nlohmann::json::parse(pj).value("seq", max_seq));
}

// Free-running greedy generations of the first `n` prompts: the secure one (run_generation, the
// token revealed to the client at each step) beside LibTorch's (which stops at EOS; the secure run
// generates `max_new` tokens and is shown up to its first EOS).
void show_generations(const std::string& dir, ml::Llama& model, const std::vector<ml::TeacherForced>& set, int n, int max_new, Setting st,
                      const GenerationPoint& base_point) {
  const Tokenizer tok = ml::tokenizer_of(pkg::load_package(dir).base_path);
  for (size_t i = 0; i < set.size() && static_cast<int>(i) < n; ++i) {
    GenerationPoint p = base_point;
    p.setting = st;
    p.source.kind = ModelSource::package;
    p.source.path = dir;
    p.prompt.assign(set[i].ids.begin(), set[i].ids.begin() + set[i].prompt_len);
    p.new_tokens = std::min<int>(max_new, static_cast<int>(model->cfg.max_seq) - set[i].prompt_len + 1);
    if (p.new_tokens < 1) continue;
    std::vector<int> secure = run_generation(p, load_generation(p)).tokens;
    const auto eos = std::find(secure.begin(), secure.end(), tok.eos);
    secure.erase(eos, secure.end());
    const std::vector<int> plain = ml::generate(model, {p.prompt}, p.new_tokens, -1, 1).at(0);
    std::printf("  greedy %zu [%s] prompt \"%s\"\n    secure: \"%s\"\n    float : \"%s\"%s\n", i + 1, setting_name(st),
                tok.decode(p.prompt).c_str(), tok.decode(secure).c_str(), tok.decode(plain).c_str(),
                secure == plain ? "   (same ids)" : "   (ids differ)");
  }
}

}  // namespace

int cmd_agreement(int argc, char** argv) {
  const int k = argc > 0 && std::string(argv[0]) == "agreement" ? 1 : 0;
  Args a(argc - k, argv + k,
         {{"--package", Opt::texts}, {"--data", Opt::text}, {"--task", Opt::text}, {"--prompts", Opt::integer}, {"--positions", Opt::integer},
          {"--settings", Opt::texts}, {"--logits", Opt::flag}, {"--net", Opt::text}, {"--csv", Opt::text}, {"--frac-bits", Opt::integer},
          {"--show", Opt::integer}},
         kAgreementUsage);
  if (a.help()) return 0;
  if (!a.has("--package")) throw std::invalid_argument(std::string("agreement needs --package DIR\n") + kAgreementUsage);
  const std::vector<std::string> packages = a.get_texts("--package", {});
  const std::string data_dir = a.get("--data", "data"), task = a.get("--task", "translate");
  if (task != "translate" && task != "code") throw std::invalid_argument("option '--task': expected translate or code, got '" + task + "'");
  if (!fs::exists(data_dir + "/" + task + ".test.jsonl"))
    throw std::invalid_argument("option '--data': " + data_dir + "/" + task + ".test.jsonl is missing (build the data: bash scripts/data/build.sh)");
  const int n_prompts = static_cast<int>(a.get_int("--prompts", 200, 1, 100000));
  const int positions = static_cast<int>(a.get_int("--positions", 16, 1, 4096));
  const bool logits = a.has("--logits");
  const int show = static_cast<int>(a.get_int("--show", 0, 0, 1000));
  std::vector<Setting> settings;
  for (const auto& s : a.get_texts("--settings", {"3pc", "2pc-dealer"})) settings.push_back(a.parsed("--settings", s, parse_setting));
  GenerationPoint base_point;
  base_point.network = a.parsed("--net", a.get("--net", "lan"), network_preset);
  base_point.frac_bits = static_cast<int>(a.get_int("--frac-bits", 16, 1, 30));
  std::unique_ptr<std::ofstream> csv;
  if (a.has("--csv")) {
    csv = std::make_unique<std::ofstream>(a.get("--csv", ""));
    if (!*csv) throw std::runtime_error("cannot write " + a.get("--csv", ""));
    *csv << "package,task,setting,prompts,positions,agreements,agreement_pct,max_logit_diff,min_disagreeing_margin,wall_s,sim_s,online_bytes\n";
  }
  ml::set_threads();

  std::printf("marill agreement: task %s, %d held-out prompts x up to %d positions, teacher-forced%s\n", task.c_str(), n_prompts, positions,
              logits ? ", logits revealed (test-only path)" : "");
  std::printf("%-28s %-11s %9s %10s %9s %14s %12s %9s %10s\n", "package", "setting", "positions", "agreements", "%", "max|dlogit|",
              "min margin*", "wall_s", "sim_s");
  std::fflush(stdout);
  for (const std::string& dir : packages) {
    // The float reference: the package applied to its base (SHA-256 checked), as `marill eval` loads it.
    const pkg::Package package = pkg::load_package(dir, true);
    ml::Llama base = ml::load_base(package.base_path);
    ml::Llama model = ml::model_from_package(package, base);
    model->eval();
    const int context = trained_context(package.base_path, package.model.max_seq);
    const std::vector<ml::TeacherForced> set = ml::teacher_forced_test_set(package.base_path, data_dir, task, n_prompts, positions, context);
    std::vector<std::vector<int>> sequences;
    std::vector<i64> rows;
    std::vector<std::vector<float>> float_logits;
    for (const auto& t : set) {
      sequences.push_back(t.ids);
      rows.push_back(t.rows);
      float_logits.push_back(ml::float_scored_logits(model, t.ids, t.rows));
    }
    if (show > 0) show_generations(dir, model, set, show, positions, settings.front(), base_point);
    for (Setting st : settings) {
      GenerationPoint p = base_point;
      p.setting = st;
      p.source.kind = ModelSource::package;
      p.source.path = dir;
      const GenerationInputs in = load_scoring(p, sequences);
      const auto t0 = std::chrono::steady_clock::now();
      auto last = t0;
      // A progress line with rate and ETA (every couple of seconds).
      auto on_sequence = [&](int done, int total) {
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last).count() < 2.0 && done < total) return;
        last = now;
        const double el = std::chrono::duration<double>(now - t0).count(), rate = done / el;
        std::fprintf(stderr, "\r  [%s %s] %d/%d prompts, %.2f prompts/s, ETA %.0f s   ", dir.c_str(), setting_name(st), done, total, rate,
                     (total - done) / rate);
        std::fflush(stderr);
      };
      const ScoringResult r = run_scoring(p, in, sequences, rows, logits, on_sequence);
      std::fprintf(stderr, "\n");
      if (r.scored.size() != set.size()) throw std::runtime_error("agreement: the client received " + std::to_string(r.scored.size()) + " results");
      int pos = 0, agree = 0;
      double max_diff = -1, min_margin = -1;
      for (size_t i = 0; i < set.size(); ++i) {
        const ml::RowAgreement ra = ml::compare_rows(float_logits[i], r.scored[i].ids, r.scored[i].logits, set[i].rows, package.model.vocab);
        pos += ra.positions;
        agree += ra.agreements;
        max_diff = std::max(max_diff, ra.max_logit_diff);
        if (ra.min_disagreeing_margin >= 0) min_margin = min_margin < 0 ? ra.min_disagreeing_margin : std::min(min_margin, ra.min_disagreeing_margin);
      }
      const double pct = 100.0 * agree / pos;
      u64 online = 0;
      for (u64 b : r.score.online_bytes) online += b;
      char diff[32] = "-", margin[32] = "-";
      if (max_diff >= 0) std::snprintf(diff, sizeof diff, "%.4f", max_diff);
      if (min_margin >= 0) std::snprintf(margin, sizeof margin, "%.1e", min_margin);
      std::printf("%-28s %-11s %9d %10d %8.2f%% %14s %12s %9.1f %10.2f\n", dir.c_str(), setting_name(st), pos, agree, pct, diff, margin, r.wall_s,
                  r.setup.sim_s + r.score.sim_s);
      std::fflush(stdout);
      if (csv)
        *csv << dir << ',' << task << ',' << setting_name(st) << ',' << set.size() << ',' << pos << ',' << agree << ',' << pct << ',' << max_diff << ','
             << min_margin << ',' << r.wall_s << ',' << r.setup.sim_s + r.score.sim_s << ',' << online << '\n';
    }
  }
  std::printf("* min margin: the float model's top-1 minus top-2 logit at the closest disagreement (- : none)\n");
  return 0;
}

}  // namespace marill
