// Head-pruned packages in the secure model (pkg::MarillConfig prune_heads, kept_heads): a package
// built here from a random Hugging Face base (layer freezing f = 1/2, heads pruned by m = 2, with
// secret weights and with LoRA on the public base) generates in 3pc and 2pc-dealer exactly the
// greedy ids of the float reference of the same pruned model; its private layers cost fewer bytes
// than the unpruned package's. And a merge factor that does not divide the query heads per K/V
// group is named where a package or a shape preset is loaded; LoRA on a grouped-query base with
// merged heads gives the client the base's K/V unpermuted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "models/package/plain_llama.h"
#include "models/package/presets.h"
#include "models/secure/secure_block.h"
#include "runner/generation.h"
#include "runner/point.h"

namespace fs = std::filesystem;
using namespace marill;

namespace {

pkg::ModelConfig tiny_config() {
  pkg::ModelConfig c;
  c.vocab = 48;
  c.d_model = 32;
  c.n_layers = 4;
  c.n_heads = 4;
  c.head_dim = 8;
  c.ffn_dim = 48;
  c.max_seq = 24;
  c.pad_id = 0;
  c.bos_id = 2;
  c.eos_id = 3;
  return c;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_prune_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Test weights (not shares): uniform in +-scale.
pkg::Tensor random_tensor(std::mt19937& rng, std::vector<std::int64_t> shape, double scale) {
  pkg::Tensor t = pkg::Tensor::zeros(std::move(shape));
  std::uniform_real_distribution<double> u(-scale, scale);
  for (float& x : t.data) x = static_cast<float>(u(rng));
  return t;
}

// A random LLaMA base with far-apart logits (a larger LM head, sharper attention), so greedy ids
// test the secure program rather than ties; written as a HF directory.
pkg::HfModel write_random_base(const std::string& dir, unsigned seed, int kv_heads = 0) {
  std::mt19937 rng(seed);
  pkg::HfModel hf;
  hf.config = tiny_config();
  hf.config.n_kv_heads = kv_heads;
  for (const auto& [name, shape] : pkg::hf_expected_shapes(hf.config)) {
    double scale = shape.size() == 2 ? 1.0 / std::sqrt(static_cast<double>(shape[1])) : 0.0;
    if (name == "model.embed_tokens.weight") scale = 1.0;
    if (name == "lm_head.weight") scale = 8.0 / std::sqrt(static_cast<double>(shape[1]));
    if (name.find("q_proj") != std::string::npos || name.find("k_proj") != std::string::npos) scale *= 3.0;
    pkg::Tensor t = random_tensor(rng, shape, scale);
    if (shape.size() == 1) std::fill(t.data.begin(), t.data.end(), 1.0f);  // norm gains
    hf.tensors[name] = std::move(t);
  }
  pkg::write_hf_llama(dir, hf.config, hf.tensors);
  return pkg::read_hf_llama(dir);
}

// Rows (columns: o) of the kept heads, in kept order: what the training side's prune_heads keeps.
pkg::Tensor kept_rows(const pkg::Tensor& w, const std::vector<int>& kept, std::int64_t dh, bool columns) {
  const std::int64_t rows = w.shape[0], cols = w.shape[1], n = static_cast<std::int64_t>(kept.size()) * dh;
  pkg::Tensor out = pkg::Tensor::zeros(columns ? std::vector<std::int64_t>{rows, n} : std::vector<std::int64_t>{n, cols});
  for (size_t j = 0; j < kept.size(); ++j)
    for (std::int64_t e = 0; e < dh; ++e) {
      const std::int64_t to = static_cast<std::int64_t>(j) * dh + e, from = kept[j] * dh + e;
      for (std::int64_t r = 0; r < (columns ? rows : cols); ++r) {
        if (columns) out.data[static_cast<size_t>(r * n + to)] = w.data[static_cast<size_t>(r * cols + from)];
        else out.data[static_cast<size_t>(to * cols + r)] = w.data[static_cast<size_t>(from * cols + r)];
      }
    }
  return out;
}

// A package of the top half of `base` with heads pruned by 2 (kept heads per private layer below),
// its private weights the base's perturbed ("fine-tuned"), or with LoRA (rank 2 on q, v, up) on the
// base's own pruned weights. merge > 1 instead: heads merged in pairs (no pruning), adjacent.
pkg::Package make_package(const pkg::HfModel& base, const std::string& base_dir, bool lora, int prune, unsigned seed) {
  std::mt19937 rng(seed);
  const pkg::ModelConfig& c = base.config;
  pkg::Package p;
  p.model = c;
  pkg::set_freeze(p.marill, c, 0.5);
  p.frozen_layers = p.marill.frozen_layers;
  p.marill.prune_heads = prune;
  const std::vector<std::vector<int>> kept = {{3, 0}, {1, 2}};  // not in index order: the order is the package's
  if (prune > 1) p.marill.kept_heads = kept;
  if (lora) {
    p.marill.lora_rank = 2;
    p.marill.lora_targets = {"q", "v", "up"};
  }
  p.base_path = base_dir;
  p.base_sha256 = pkg::base_model_sha256(base_dir);
  for (int i = 0; i < p.marill.private_layers; ++i) {
    const int l = p.frozen_layers + i;
    pkg::LayerWeights L;
    L.index = l;
    L.attn_norm = base.tensors.at(pkg::hf_name(l, "attn_norm"));
    L.mlp_norm = base.tensors.at(pkg::hf_name(l, "mlp_norm"));
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) {
      pkg::Tensor w = base.tensors.at(pkg::hf_name(l, t));
      const std::string target = t;
      if (prune > 1 && (target == "q" || target == "k" || target == "v" || target == "o"))
        w = kept_rows(w, kept[static_cast<size_t>(i)], c.head_dim, target == "o");
      if (!lora)
        for (float& x : w.data) x = static_cast<float>(x * (1.0 + std::uniform_real_distribution<double>(-0.3, 0.3)(rng)));
      L.weight(t) = w;
    }
    for (const std::string& t : p.marill.lora_targets) {
      const pkg::Tensor& w = L.weight(t);
      L.lora[t] = pkg::LoraPair{random_tensor(rng, {2, w.shape[1]}, 0.3), random_tensor(rng, {w.shape[0], 2}, 0.3)};
    }
    p.layers.push_back(std::move(L));
  }
  p.final_norm = base.tensors.at("model.norm.weight");
  p.lm_head = base.tensors.at("lm_head.weight");
  p.note = "test_head_pruning";
  return p;
}

// The float reference of a package: the base's public layers, then the package's private layers
// (LoRA merged into W), its final norm and LM head. Greedy ids and the smallest top-1 margin.
std::vector<int> float_greedy(const pkg::HfModel& base, const pkg::Package& p, const std::vector<int>& prompt, int n, double* margin) {
  pkg::PlainLlama m = pkg::plain_llama(base, p.frozen_layers, true);
  for (const pkg::LayerWeights& L : p.layers) {
    pkg::PlainLayer pl;
    pl.attn_norm = L.attn_norm;
    pl.mlp_norm = L.mlp_norm;
    auto weight = [&](const std::string& t) {
      auto it = L.lora.find(t);
      return it == L.lora.end() ? L.weight(t) : pkg::merged_lora_weight(L.weight(t), it->second, p.marill.lora_alpha, p.marill.lora_rank);
    };
    pl.wq = weight("q"), pl.wk = weight("k"), pl.wv = weight("v"), pl.wo = weight("o");
    pl.w_gate = weight("gate"), pl.w_up = weight("up"), pl.w_down = weight("down");
    m.layers.push_back(std::move(pl));
  }
  m.final_norm = p.final_norm;
  m.lm_head = p.lm_head;
  pkg::PlainKvCache cache;
  std::vector<int> out, step = prompt;
  *margin = 1e9;
  for (int s = 0; s < n; ++s) {
    const std::vector<float> logits = pkg::plain_logits(m, pkg::plain_forward(m, step, cache));
    std::vector<float> sorted = logits;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    *margin = std::min(*margin, static_cast<double>(sorted[0] - sorted[1]));
    const int next = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    step = {next};
  }
  CHECK(out == pkg::plain_greedy(m, prompt, n));  // the reference agrees with the plain model's own greedy loop
  return out;
}

GenerationPoint package_point(const std::string& dir, Setting st, Mode mode = Mode::real) {
  GenerationPoint p;
  p.source.kind = ModelSource::package;
  p.source.path = dir;
  p.setting = st;
  p.mode = mode;
  p.prompt = {2, 17, 5, 30, 9, 41};
  p.new_tokens = 4;
  return p;
}

// Online bytes of the private layers over every step ("prefill/layers", "decode 001/layers", ...;
// a path's cost includes its sub-paths) and every party.
u64 private_layer_bytes(const GenerationResult& r) {
  const std::string suffix = "/layers";
  u64 sum = 0;
  for (const PartyReport& party : r.session.parties)
    for (const auto& [path, cost] : party.ledger.by_op(Phase::online))
      if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          std::count(path.begin(), path.end(), '/') == 1)
        sum += cost.bytes_sent;
  return sum;
}

}  // namespace

TEST_CASE("head-pruned packages generate the float model's greedy ids in 3pc and 2pc-dealer, for fewer bytes", "[prune][generate][package]") {
  const std::string d = fresh_dir("pkg");
  const pkg::HfModel base = write_random_base(d + "/base", 21u);
  for (bool lora : {false, true}) {
    const std::string name = lora ? "/lf+hp2+lora" : "/lf+hp2";
    const pkg::Package made = make_package(base, d + "/base", lora, 2, 33u);
    pkg::save_package(d + name, made);
    const pkg::Package loaded = pkg::load_package(d + name, true);
    const FloatBlock block = ml::block_from_package(loaded, 0);
    CHECK(block.shape.n_heads == 2);     // the kept heads
    CHECK(block.shape.head_dim() == 8);  // of the pre-trained width
    CHECK(block.wq.out == 16);
    CHECK(block.wo.in == 16);
    double margin = 0;
    const std::vector<int> want = float_greedy(base, loaded, package_point(d + name, Setting::cleartext).prompt, 4, &margin);
    INFO((lora ? "LoRA" : "secret weights") << "; smallest top-1 logit margin of the float model " << margin);
    REQUIRE(margin > 0.02);  // far above the fixed-point error (~1e-3), so equality tests the program
    pkg::Package unpruned_pkg = make_package(base, d + "/base", lora, 1, 33u);
    pkg::save_package(d + name + "_unpruned", unpruned_pkg);
    double unpruned_margin = 0;
    INFO("the unpruned model chooses other ids, so the pruning is what is tested");
    CHECK(float_greedy(base, pkg::load_package(d + name + "_unpruned"), package_point(d, Setting::cleartext).prompt, 4, &unpruned_margin) != want);
    for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
      INFO(setting_name(st));
      const GenerationPoint p = package_point(d + name, st);
      const GenerationInputs in = load_generation(p);
      const GenerationResult r = run_generation(p, in);
      CHECK(r.tokens == want);
      if (st == Setting::cleartext) continue;  // one party holds everything
      if (lora) {  // the client's base weights are the public base's, pruned to the (public) kept heads
        const PartyModel server = generation_party_model(p, in, Role::server), client = generation_party_model(p, in, Role::client);
        CHECK_FALSE(client.holds_private_values());
        for (size_t i = 0; i < server.blocks.size(); ++i) {
          CHECK(client.blocks[i].wq.w == server.blocks[i].wq.w);
          CHECK(client.blocks[i].wk.w == server.blocks[i].wk.w);
          CHECK(client.blocks[i].wo.w == server.blocks[i].wo.w);
          CHECK(client.blocks[i].wq.out == 16);
        }
      }
      // The pruned package's private layers send fewer bytes than the unpruned one's (phantom: exact).
      const GenerationPoint unpruned = package_point(d + name + "_unpruned", st, Mode::phantom);
      const GenerationPoint pruned_phantom = package_point(d + name, st, Mode::phantom);
      const u64 pruned_bytes = private_layer_bytes(run_generation(pruned_phantom, load_generation(pruned_phantom)));
      const u64 full_bytes = private_layer_bytes(run_generation(unpruned, load_generation(unpruned)));
      INFO("private layers' online bytes: pruned " << pruned_bytes << ", unpruned " << full_bytes);
      CHECK(pruned_bytes > 0);
      CHECK(pruned_bytes < full_bytes);
      CHECK(pruned_bytes == private_layer_bytes(r));  // phantom = real
    }
  }
}

TEST_CASE("a merge factor that does not divide the query heads per K/V group is named where a package or a preset is loaded", "[prune][gqa][errors]") {
  // A package: Llama-3's ratio (4 query heads per K/V head on 8 heads), merge m = 8 in marill.json.
  pkg::ModelConfig c = tiny_config();
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  pkg::Package p;
  p.model = c;
  pkg::set_freeze(p.marill, c, 0.25);
  p.marill.merge = 2;
  p.frozen_layers = p.marill.frozen_layers;
  p.base_path = "/nonexistent";
  p.base_sha256 = "0";
  pkg::LayerWeights L;
  L.index = 3;
  L.attn_norm = L.mlp_norm = pkg::Tensor::zeros({32});
  L.wq = L.wo = pkg::Tensor::zeros({32, 32});
  L.wk = L.wv = pkg::Tensor::zeros({8, 32});
  L.w_gate = L.w_up = pkg::Tensor::zeros({48, 32});
  L.w_down = pkg::Tensor::zeros({32, 48});
  p.layers.push_back(L);
  p.final_norm = pkg::Tensor::zeros({32});
  p.lm_head = pkg::Tensor::zeros({48, 32});
  const std::string dir = fresh_dir("gqa_merge");
  pkg::save_package(dir, p);
  CHECK(ml::block_from_package(pkg::load_package(dir), 0).shape.merge == 2);
  std::stringstream text;
  text << std::ifstream(dir + "/marill.json").rdbuf();
  std::string json = text.str();
  const std::string merge_field = "\"merge\": 2";
  REQUIRE(json.find(merge_field) != std::string::npos);
  json.replace(json.find(merge_field), merge_field.size(), "\"merge\": 8");
  std::ofstream(dir + "/marill.json") << json;
  CHECK_THROWS_WITH(pkg::load_package(dir), Catch::Contains(dir + "/marill.json") &&
                                                Catch::Contains("merge factor m=8 does not divide the 4 query heads per key/value head"));
  // Head pruning on grouped-query attention: refused by the package format and the block shape alike.
  pkg::MarillConfig pruned = p.marill;
  pruned.merge = 1;
  pruned.prune_heads = 2;
  pruned.kept_heads = {{0, 1, 2, 3}};
  CHECK_THROWS_WITH(pruned.validate(c), Catch::Contains("head pruning is not supported with grouped-query attention"));

  // A preset: Llama-3-8B (32 query heads on 8 K/V heads) as a point's model, merge m = 8.
  const pkg::ShapePreset& llama3 = pkg::shape_preset("Llama-3-8B");
  Point point;
  point.model = preset_plan(llama3, 0.5).block;
  point.marill.merge = 4;
  CHECK_NOTHROW(point.validate());
  point.marill.merge = 8;
  CHECK_THROWS_WITH(point.validate(), Catch::Contains("the merge factor m = 8 does not divide the 4 query heads per key/value head"));
  ModelPlan plan = preset_plan(llama3, 0.5);
  plan.prompt_len = plan.new_tokens = 1;
  plan.block.merge = 8;
  CHECK_THROWS_WITH(plan.validate(), Catch::Contains("the merge factor m = 8 does not divide the 4 query heads per key/value head"));
}

TEST_CASE("LoRA on a grouped-query base with merged heads: the client's base weights are the package's, K/V unpermuted", "[prune][gqa][generate]") {
  // 4 query heads on 2 K/V heads, merged in pairs inside their groups in a non-adjacent order; the
  // package's W_q rows and W_o columns follow the grouping, its K/V stay at the KV width (as the
  // training side's merge_heads writes them). The client rebuilds its LoRA base weights from the
  // public base and the public head_perm: they must equal the server's.
  const std::string d = fresh_dir("gqa_lora");
  const pkg::HfModel base = write_random_base(d + "/base", 23u, 2);
  std::mt19937 rng(5);
  pkg::Package p;
  p.model = base.config;
  pkg::set_freeze(p.marill, p.model, 0.5);
  p.frozen_layers = p.marill.frozen_layers;
  p.marill.merge = 2;
  p.marill.grouping = "similar";
  const std::vector<int> perm = {1, 0, 3, 2};
  p.marill.head_perm = {perm, perm};
  p.marill.lora_rank = 2;
  p.marill.lora_targets = {"q", "k", "o"};
  p.base_path = d + "/base";
  p.base_sha256 = pkg::base_model_sha256(d + "/base");
  for (int l = p.frozen_layers; l < p.model.n_layers; ++l) {
    pkg::LayerWeights L;
    L.index = l;
    L.attn_norm = base.tensors.at(pkg::hf_name(l, "attn_norm"));
    L.mlp_norm = base.tensors.at(pkg::hf_name(l, "mlp_norm"));
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) {
      const std::string target = t;
      const pkg::Tensor& w = base.tensors.at(pkg::hf_name(l, t));
      L.weight(t) = target == "q" || target == "o" ? kept_rows(w, perm, p.model.head_dim, target == "o") : w;
    }
    for (const std::string& t : p.marill.lora_targets) {
      const pkg::Tensor& w = L.weight(t);
      L.lora[t] = pkg::LoraPair{random_tensor(rng, {2, w.shape[1]}, 0.3), random_tensor(rng, {w.shape[0], 2}, 0.3)};
    }
    p.layers.push_back(std::move(L));
  }
  p.final_norm = base.tensors.at("model.norm.weight");
  p.lm_head = base.tensors.at("lm_head.weight");
  pkg::save_package(d + "/lf_hm2_lora", p);
  std::vector<int> cleartext_ids;
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    const GenerationPoint point = package_point(d + "/lf_hm2_lora", st);
    const GenerationInputs in = load_generation(point);
    const std::vector<int> ids = run_generation(point, in).tokens;
    if (st == Setting::cleartext) {
      cleartext_ids = ids;
      continue;
    }
    CHECK(ids == cleartext_ids);  // the cleartext run holds the package's weights
    const PartyModel server = generation_party_model(point, in, Role::server), client = generation_party_model(point, in, Role::client);
    CHECK_FALSE(client.holds_private_values());
    for (size_t i = 0; i < server.blocks.size(); ++i) {
      CHECK(client.blocks[i].wk.out == 16);  // 2 K/V heads of 8
      CHECK(client.blocks[i].wq.w == server.blocks[i].wq.w);
      CHECK(client.blocks[i].wk.w == server.blocks[i].wk.w);
      CHECK(client.blocks[i].wv.w == server.blocks[i].wv.w);
      CHECK(client.blocks[i].wo.w == server.blocks[i].wo.w);
    }
  }
}
