// Teacher-forced next-token agreement (models/train/agreement.h, runner/scoring.h,
// secure_score in models/secure/secure_model.h): on packages of every technique family built here
// (full fine-tuning, LF, LoRA, similar head merging, LF+HM, LF+LoRA), the secure argmax of each
// scored row equals LibTorch's float argmax in 3pc and 2pc-dealer, and the logits revealed by the
// test-only path are within a stated bound of the float logits.
#include "models/train/agreement.h"
#undef CHECK
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "models/package/tokenizer.h"
#include "models/train/data.h"
#include "runner/scoring.h"

using namespace marill;
using namespace marill::ml;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_agree_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A base over the byte-level tokenizer (its vocabulary), saved with the tokenizer marker, and a
// small translate test set in `dir`.
ModelConfig byte_cfg() {
  ModelConfig c;
  c.vocab = Tokenizer::bytes_only().vocab_size();
  c.d_model = 32;
  c.n_layers = 4;
  c.n_heads = 4;
  c.head_dim = 8;
  c.ffn_dim = 48;
  c.max_seq = 48;
  return c;
}

// Random weights with logits far apart (a larger LM head) and sharper attention, so that agreement
// tests the secure program rather than near ties.
Llama random_model(uint64_t seed) {
  torch::manual_seed(seed);
  Llama m(byte_cfg());
  torch::NoGradGuard ng;
  m->lm_head.mul_(8.0);
  for (auto& b : m->layers)
    for (const char* t : {"q", "k"}) b->proj(t)->weight.mul_(3.0);
  return m;
}

void write_test_data(const std::string& dir) {
  data::write_jsonl(dir + "/translate.test.jsonl",
                    {{"Datei nicht gefunden", "File not found"}, {"Zugriff verweigert", "Permission denied"}, {"Speichern", "Save"}});
}

// A fine-tuning stand-in: the trainable part moved away from the base (with LoRA the layers' base
// weights stay the public base's; the adapters move instead).
void perturb_private(Llama& m, int from_layer, bool lora, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard ng;
  for (int l = from_layer; l < m->cfg.n_layers && !lora; ++l)
    for (const char* t : {"q", "v", "o", "up", "down"}) {
      auto& w = m->layers[static_cast<size_t>(l)]->proj(t)->weight;
      w.add_(torch::randn_like(w) * 0.3 * w.std());
    }
  m->lm_head.add_(torch::randn_like(m->lm_head) * 0.3);
}

// The package of one technique family, written to dir/name.
std::string make_family(const std::string& dir, const std::string& name) {
  Llama m = random_model(7);
  pkg::MarillConfig mc;
  const bool lf = name.rfind("lf", 0) == 0;
  pkg::set_freeze(mc, m->cfg, lf ? 0.5 : 1.0);
  const bool lora = name == "lora" || name == "lf+lora";
  perturb_private(m, mc.frozen_layers, lora, 13);
  if (name == "full") {
    mc.embed_trained = true;
    torch::NoGradGuard ng;
    m->embed.add_(torch::randn_like(m->embed) * 0.3);
  }
  if (name == "hm2" || name == "lf+hm2") {
    mc.merge = 2;
    mc.grouping = "similar";
    for (int l = mc.frozen_layers; l < m->cfg.n_layers; ++l) {
      const std::vector<int> perm = {2, 0, 3, 1};  // a non-adjacent grouping, as similar merging finds
      merge_heads(m->layers[static_cast<size_t>(l)], perm, 2);
      mc.head_perm.push_back(perm);
    }
  }
  if (lora) {
    mc.lora_rank = 2;
    mc.lora_targets = {"q", "v", "up", "down"};
    add_lora(m, mc, 11);
    torch::NoGradGuard ng;
    for (int l = mc.frozen_layers; l < m->cfg.n_layers; ++l)
      for (const auto& t : mc.lora_targets) m->layers[static_cast<size_t>(l)]->proj(t)->B.normal_(0, 0.2);
  }
  mc.validate(m->cfg);
  pkg::save_package(dir + "/" + name, make_package(m, mc, dir + "/base", "test"));
  return dir + "/" + name;
}

// The bound on |secure logit - float logit| this test states: fixed point at 16 fractional bits
// (1.5e-5 a step, truncations of ~1 ulp per product), the polynomial / spline approximations of
// exp, SiLU and rsqrt (1e-3..1e-2 relative error on their ranges, protocols/functions/functions.h),
// and the error they carry through the layers, grown by the larger LM head here. Measured max
// |diff| on these models: full 5e-4, LF 5e-3, HM 9e-3, LF+HM 6e-3, LF+LoRA 0.03, LoRA 0.06 (its
// adapters are large); the bound leaves 5x headroom over the largest.
constexpr double kLogitBound = 0.3;

}  // namespace

TEST_CASE("teacher-forced secure next tokens equal LibTorch's float argmax for every technique family", "[agreement][secure]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("families");
  Llama base = random_model(7);
  save_base(d + "/base", base);
  std::ofstream(d + "/base/BYTES_TOKENIZER") << "byte-level\n";
  write_test_data(d);
  const auto set = teacher_forced_test_set(d + "/base", d, "translate", 3, 4, 48);
  REQUIRE(set.size() == 3);
  CHECK(set[2].rows == 4);  // "Save" + EOS: 5 reference tokens, 4 positions scored
  for (const std::string family : {"full", "lf", "lora", "hm2", "lf+hm2", "lf+lora"}) {
    const std::string dir = make_family(d, family);
    const pkg::Package package = pkg::load_package(dir, true);
    Llama b = load_base(d + "/base");
    Llama model = model_from_package(package, b);
    model->eval();
    std::vector<std::vector<int>> seqs;
    std::vector<i64> rows;
    std::vector<std::vector<float>> want;
    for (const auto& t : set) {
      seqs.push_back(t.ids);
      rows.push_back(t.rows);
      want.push_back(float_scored_logits(model, t.ids, t.rows));
    }
    for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
      GenerationPoint p;
      p.setting = st;
      p.source.path = dir;
      const GenerationInputs in = load_scoring(p, seqs);
      const ScoringResult r = run_scoring(p, in, seqs, rows, true);
      REQUIRE(r.scored.size() == set.size());
      int positions = 0, agreements = 0;
      double max_diff = 0;
      for (size_t i = 0; i < set.size(); ++i) {
        const RowAgreement a = compare_rows(want[i], r.scored[i].ids, r.scored[i].logits, set[i].rows, package.model.vocab);
        positions += a.positions;
        agreements += a.agreements;
        max_diff = std::max(max_diff, a.max_logit_diff);
        // A disagreement is only allowed where the float top-2 are within twice the bound (a near tie).
        if (a.min_disagreeing_margin >= 0) CHECK(a.min_disagreeing_margin < 2 * kLogitBound);
      }
      INFO(family << " " << setting_name(st) << ": " << agreements << "/" << positions << " agree, max |logit diff| " << max_diff);
      CHECK(positions == 4 + 4 + 4);
      CHECK(agreements == positions);  // 100%: these models have no near tie (the margin check above says why one could differ)
      CHECK(max_diff < kLogitBound);
      CHECK(r.score.rounds > 0);
      CHECK(r.score.online_bytes.at(0) > 0);
    }
  }
}

TEST_CASE("the scoring program: cleartext logits, phantom costs, what the client learns, bad input", "[agreement][scoring]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("program");
  Llama base = random_model(5);
  save_base(d + "/base", base);
  const std::string dir = make_family(d, "lf");
  const std::vector<std::vector<int>> seqs = {{2, 5, 40, 41, 42, 6, 70, 71}, {2, 5, 50, 6, 80}};
  const std::vector<i64> rows = {3, 1};
  GenerationPoint p;
  p.source.path = dir;
  p.setting = Setting::cleartext;
  const GenerationInputs in = load_scoring(p, seqs);
  CHECK(in.plan.frozen_layers == 2);
  Llama b = load_base(d + "/base");
  Llama model = model_from_package(pkg::load_package(dir), b);
  const ScoringResult clear = run_scoring(p, in, seqs, rows, true);
  REQUIRE(clear.scored.size() == 2);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto want = float_scored_logits(model, seqs[i], static_cast<int>(rows[i]));
    const RowAgreement a = compare_rows(want, clear.scored[i].ids, clear.scored[i].logits, static_cast<int>(rows[i]), in.plan.vocab);
    INFO("cleartext (fixed point and approximations only): max |logit diff| " << a.max_logit_diff);
    CHECK(a.agreements == a.positions);
    CHECK(a.max_logit_diff < kLogitBound);
  }
  // Without the test-only path the client learns the ids only; the costs do not depend on the values.
  p.setting = Setting::two_pc_dealer;
  const GenerationInputs in2 = load_scoring(p, seqs);  // the setting's own function policy
  const ScoringResult ids_only = run_scoring(p, in2, seqs, rows, false);
  for (const auto& s : ids_only.scored) CHECK(s.logits.empty());
  CHECK(ids_only.scored[0].ids == clear.scored[0].ids);
  GenerationPoint ph = p;
  ph.mode = Mode::phantom;
  const ScoringResult phantom = run_scoring(ph, load_scoring(ph, seqs), seqs, rows, false);
  CHECK(phantom.scored.empty());
  CHECK(phantom.score.online_bytes == ids_only.score.online_bytes);
  CHECK(phantom.score.rounds == ids_only.score.rounds);
  // Revealing the logits costs more than the ids (the whole rows x vocab opened to the client).
  const ScoringResult with_logits = run_scoring(p, in2, seqs, rows, true);
  auto server_sent = [](const ScoringResult& r) { return r.session.party(Role::server).ledger.by_op(Phase::online).at("score").bytes_sent; };
  CHECK(server_sent(with_logits) > server_sent(ids_only));  // the server sends its logit shares
  // Bad input: clear errors before any party starts.
  CHECK_THROWS_WITH(run_scoring(p, in, seqs, {3, 6}, false), Catch::Contains("sequence 2") && Catch::Contains("outside [1, 5]"));
  CHECK_THROWS_WITH(run_scoring(p, in, seqs, {3}, false), Catch::Contains("1 row counts for 2 sequences"));
  CHECK_THROWS_WITH(run_scoring(p, in, {std::vector<int>(49, 5)}, {1}, false), Catch::Contains("more than the context of 48"));
  CHECK_THROWS_WITH(load_scoring(p, {{2, 5, 9999}}), Catch::Contains("token id 9999"));
  CHECK_THROWS_WITH(load_scoring(p, {}), Catch::Contains("no sequence"));
  CHECK_THROWS_WITH(compare_rows({1, 2}, {0}, {}, 2, 1), Catch::Contains("wrong size"));
  CHECK_THROWS_WITH(teacher_forced_test_set(d + "/base", d, "translate", 3, 4, 48), Catch::Contains("tokenizer"));
}
