// Mechanics of the MARILL techniques in the LibTorch model, and the tiny end-to-end pipeline.
// torch (through glog) defines a CHECK macro that would replace Catch's: torch first, then undef
#include "models/train/llama.h"
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "actors/session.h"
#include "models/train/api.h"
#include "models/train/data.h"
#include "models/secure/secure_block.h"
#include "models/train/grouping.h"
#include "models/package/tokenizer.h"

using namespace marill;
using namespace marill::ml;
namespace fs = std::filesystem;

namespace {

ModelConfig tiny_cfg() {
  ModelConfig c;
  c.vocab = 50;
  c.d_model = 32;
  c.n_layers = 4;
  c.n_heads = 4;
  c.head_dim = 8;
  c.ffn_dim = 48;
  c.max_seq = 64;
  c.pad_id = 0;
  c.bos_id = 2;
  c.eos_id = 3;
  return c;
}

std::string tmpdir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_ml_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

torch::Tensor random_tokens(int64_t b, int64_t t, int vocab, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(4, vocab, {b, t}, torch::kLong);
}

// the tiny dataset of the pipeline test: byte tokenizer, a little real text and code
std::string write_tiny_data() {
  const std::string d = tmpdir("data");
  std::ofstream(d + "/BYTES_TOKENIZER") << "byte-level\n";
  const Tokenizer tok = Tokenizer::bytes_only();
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "The file was not found. Permission denied. def add(a, b):\n    return a + b\nOpen the file and read it.\n";
  std::vector<std::int32_t> ids = {tok.bos};
  for (int t : tok.encode(text)) ids.push_back(t);
  ids.push_back(tok.eos);
  save_token_file(d + "/pretrain.tok", ids);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Datei nicht gefunden", "File not found"}, {"Zugriff verweigert", "Permission denied"}, {"Datei öffnen", "Open file"},
      {"Speichern", "Save"}, {"Abbrechen", "Cancel"}, {"Fehler", "Error"}, {"Hilfe", "Help"}, {"Beenden", "Quit"}};
  std::vector<data::Example> tr;
  for (int r = 0; r < 4; ++r)
    for (const auto& [de, en] : pairs) tr.push_back({de, en});
  data::write_jsonl(d + "/translate.train.jsonl", tr);
  data::write_jsonl(d + "/translate.test.jsonl", {tr.begin(), tr.begin() + 4});
  std::vector<data::Example> code = {{"", "def add(a, b):\n    return a + b\n"}, {"", "def sub(a, b):\n    c = a - b\n    return c\n"}};
  data::write_jsonl(d + "/code.train.jsonl", code);
  data::write_jsonl(d + "/code.test.jsonl", {{"def add(a, b):\n", "    return a + b"}, {"def sub(a, b):\n    c = a - b\n", "    return c"}});
  return d;
}

}  // namespace

TEST_CASE("layer freezing: frozen layers and the embedding stay bit-identical to the base", "[ml][techniques]") {
  at::set_num_threads(1);
  torch::manual_seed(1);
  Llama base(tiny_cfg());
  Llama m(tiny_cfg());
  from_hf(m, to_hf(base));
  pkg::MarillConfig mc;
  pkg::set_freeze(mc, m->cfg, 0.5);
  set_trainable(m, mc, false);
  auto params = trainable_params(m);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  auto x = random_tokens(2, 12, 50, 3);
  for (int s = 0; s < 3; ++s) {
    auto loss = torch::nn::functional::cross_entropy(m->forward(x).reshape({-1, 50}), x.reshape({-1}));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  CHECK(torch::equal(m->embed, base->embed));
  for (int l = 0; l < 2; ++l)
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) CHECK(torch::equal(m->layers[l]->proj(t)->weight, base->layers[l]->proj(t)->weight));
  for (int l = 0; l < 2; ++l) CHECK(torch::equal(m->layers[l]->attn_norm, base->layers[l]->attn_norm));
  CHECK_FALSE(torch::equal(m->layers[3]->q->weight, base->layers[3]->q->weight));
  CHECK_FALSE(torch::equal(m->lm_head, base->lm_head));
}

TEST_CASE("head merging preserves every parameter and computes the paper's merged attention", "[ml][techniques]") {
  at::set_num_threads(1);
  torch::manual_seed(2);
  Llama m(tiny_cfg());
  Block& b = m->layers[1];
  const auto q0 = b->q->weight.clone(), o0 = b->o->weight.clone();
  const int64_t before = m->num_params();
  const std::vector<int> perm = {2, 0, 3, 1};  // groups {2,0} and {3,1}
  merge_heads(b, perm, 2);
  CHECK(m->num_params() == before);
  CHECK(b->n_heads == 2);
  CHECK(b->head_dim == 16);
  // un-permuting gives back the original rows/columns exactly
  for (int g = 0; g < 4; ++g) {
    CHECK(torch::equal(b->q->weight.narrow(0, g * 8, 8), q0.narrow(0, perm[static_cast<size_t>(g)] * 8, 8)));
    CHECK(torch::equal(b->o->weight.narrow(1, g * 8, 8), o0.narrow(1, perm[static_cast<size_t>(g)] * 8, 8)));
  }
  // merged head j = softmax(sum_l q_l k_l^T / sqrt(m d)) (v_l || ...), RoPE per original head
  auto x = torch::randn({1, 6, 32});
  Capture cap;
  cap.want_attn_out = true;
  cap.from_layer = 0;
  auto allowed = torch::ones({6, 6}, torch::kBool).tril().view({1, 1, 6, 6});
  auto pos = torch::arange(6);
  auto cos = m->rope_cos.index_select(0, pos).view({1, 1, 6, 1, 8}), sin = m->rope_sin.index_select(0, pos).view({1, 1, 6, 1, 8});
  b->forward(x, cos, sin, allowed, nullptr, nullptr, &cap, 1);
  auto h = x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * b->attn_norm;
  auto rope = [&](torch::Tensor t) {  // t [6,8]
    auto c = m->rope_cos.narrow(0, 0, 6), s = m->rope_sin.narrow(0, 0, 6);
    auto rot = torch::cat({-t.narrow(1, 4, 4), t.narrow(1, 0, 4)}, 1);
    return t * c + rot * s;
  };
  std::vector<torch::Tensor> outs;
  for (int j = 0; j < 2; ++j) {
    torch::Tensor scores = torch::zeros({6, 6});
    std::vector<torch::Tensor> vs;
    for (int l = 0; l < 2; ++l) {
      const int head = perm[static_cast<size_t>(2 * j + l)];
      auto qh = rope(torch::matmul(h[0], q0.narrow(0, head * 8, 8).t()));
      auto kh = rope(torch::matmul(h[0], b->k->weight.narrow(0, (2 * j + l) * 8, 8).t()));
      scores = scores + torch::matmul(qh, kh.t());
      vs.push_back(torch::matmul(h[0], b->v->weight.narrow(0, (2 * j + l) * 8, 8).t()));
    }
    auto w = torch::softmax((scores / std::sqrt(16.0)).masked_fill(allowed[0][0].logical_not(), -1e30), -1);
    outs.push_back(torch::matmul(w, torch::cat(vs, 1)));
  }
  auto manual = torch::matmul(torch::cat(outs, 1), b->o->weight.t());
  CHECK(torch::allclose(cap.attn_outs[0][0], manual, 1e-4, 1e-5));
}

TEST_CASE("K-medoids + linear sum assignment: equal-size groups, deterministic for a seed, optimal LSA", "[ml][grouping]") {
  std::mt19937 rng(7);  // test data only
  std::uniform_real_distribution<double> u(0, 1);
  for (int h : {4, 8, 12}) {
    grouping::Matrix D(static_cast<size_t>(h), std::vector<double>(static_cast<size_t>(h), 0));
    for (int i = 0; i < h; ++i)
      for (int j = i + 1; j < h; ++j) D[static_cast<size_t>(i)][static_cast<size_t>(j)] = D[static_cast<size_t>(j)][static_cast<size_t>(i)] = u(rng);
    for (int m : {2, 4}) {
      if (h % m) continue;
      auto g1 = grouping::similar_groups(D, m, 42), g2 = grouping::similar_groups(D, m, 42);
      CHECK(g1 == g2);
      REQUIRE(static_cast<int>(g1.size()) == h / m);
      std::vector<int> all;
      for (const auto& g : g1) {
        CHECK(static_cast<int>(g.size()) == m);
        all.insert(all.end(), g.begin(), g.end());
      }
      std::sort(all.begin(), all.end());
      std::vector<int> want(static_cast<size_t>(h));
      std::iota(want.begin(), want.end(), 0);
      CHECK(all == want);
    }
  }
  // two obvious clusters {0,1} {2,3} are found
  grouping::Matrix D = {{0, .1, .9, .9}, {.1, 0, .9, .9}, {.9, .9, 0, .1}, {.9, .9, .1, 0}};
  CHECK((grouping::similar_groups(D, 2, 1) == std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  CHECK((grouping::adjacent_groups(4, 2) == std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  // the Hungarian algorithm matches brute force
  grouping::Matrix C(6, std::vector<double>(6));
  for (auto& r : C)
    for (auto& x : r) x = u(rng);
  auto a = grouping::linear_sum_assignment(C);
  double got = 0;
  for (int i = 0; i < 6; ++i) got += C[static_cast<size_t>(i)][static_cast<size_t>(a[static_cast<size_t>(i)])];
  std::vector<int> p = {0, 1, 2, 3, 4, 5};
  double best = 1e9;
  do {
    double s = 0;
    for (int i = 0; i < 6; ++i) s += C[static_cast<size_t>(i)][static_cast<size_t>(p[static_cast<size_t>(i)])];
    best = std::min(best, s);
  } while (std::next_permutation(p.begin(), p.end()));
  CHECK(got == Approx(best));
  CHECK(grouping::js_distance({1, 0}, {1, 0}) == Approx(0));
  CHECK(grouping::js_distance({1, 0}, {0, 1}) == Approx(std::sqrt(std::log(2.0))));
}

TEST_CASE("unmerged LoRA equals merged LoRA numerically", "[ml][techniques]") {
  torch::manual_seed(4);
  LoraLinear l(24, 16);
  l->enable_lora(4, 8.0);
  {
    torch::NoGradGuard ng;
    l->B.normal_(0, 0.3);  // B starts at zero: make the adapter non-trivial
  }
  auto x = torch::randn({3, 5, 24});
  auto unmerged = l->forward(x);
  auto merged = torch::nn::functional::linear(x, l->merged_weight());
  CHECK(torch::allclose(unmerged, merged, 1e-5, 1e-5));
  // the torch-free package arithmetic agrees
  pkg::LoraPair lp{from_torch(l->A), from_torch(l->B)};
  auto pm = to_torch(pkg::merged_lora_weight(from_torch(l->weight), lp, 8.0, 4));
  CHECK(torch::allclose(pm, l->merged_weight(), 1e-5, 1e-6));
}

TEST_CASE("a package (LF + merged heads + LoRA + 2ReLU) reloads to the same model, HF directories round-trip", "[ml][package]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("pkg");
  torch::manual_seed(5);
  Llama base(tiny_cfg());
  save_base(d + "/base", base);
  Llama reread = load_base(d + "/base");
  auto x = random_tokens(2, 10, 50, 6);
  {
    torch::NoGradGuard ng;
    CHECK(torch::equal(base->forward(x), reread->forward(x)));
  }
  Llama m(tiny_cfg());
  from_hf(m, to_hf(base));
  pkg::MarillConfig mc;
  pkg::set_freeze(mc, m->cfg, 0.5);
  mc.merge = 2;
  mc.grouping = "adjacent";
  for (int l = 2; l < 4; ++l) {
    std::vector<int> perm = {1, 3, 0, 2};
    merge_heads(m->layers[static_cast<size_t>(l)], perm, 2);
    mc.head_perm.push_back(perm);
  }
  mc.lora_rank = 2;
  mc.lora_targets = {"q", "up"};
  add_lora(m, mc, 9);
  {
    torch::NoGradGuard ng;
    for (int l = 2; l < 4; ++l) m->layers[static_cast<size_t>(l)]->q->B.normal_(0, 0.1);
  }
  mc.softmax = pkg::SoftmaxApprox::relu2;
  set_approx(m, 2, mc.softmax, mc.act);
  mc.validate(m->cfg);
  pkg::Package p = make_package(m, mc, d + "/base", "test");
  pkg::save_package(d + "/pkg", p);
  pkg::Package q = pkg::load_package(d + "/pkg", true);
  CHECK(q.layers.size() == 2);
  CHECK(q.layers[0].index == 2);
  Llama r = model_from_package(q, base);
  {
    torch::NoGradGuard ng;
    CHECK(torch::allclose(m->forward(x), r->forward(x), 1e-5, 1e-5));
  }
  // a truncated base checkpoint is a clear error naming the file
  const std::string st = d + "/base/model.safetensors";
  fs::resize_file(st, fs::file_size(st) / 2);
  CHECK_THROWS_WITH(load_base(d + "/base"), Catch::Contains("model.safetensors") && Catch::Contains("truncated"));
  // a checkpoint of another shape is a clear error naming the tensor
  ModelConfig other = tiny_cfg();
  other.ffn_dim = 40;
  Llama o(other);
  save_base(d + "/other", o);
  Llama wrong(tiny_cfg());
  CHECK_THROWS_WITH(from_hf(wrong, pkg::read_hf_llama(d + "/other").tensors),
                    Catch::Contains("model.layers.0.mlp.gate_proj.weight") && Catch::Contains("40x32"));
}

TEST_CASE("the secure block computes a package's private layers as LibTorch does", "[ml][package][secure]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("secure");
  torch::manual_seed(12);
  Llama m(tiny_cfg());
  save_base(d + "/base", m);
  pkg::MarillConfig mc;
  pkg::set_freeze(mc, m->cfg, 0.5);  // layers 2 and 3 are private
  mc.merge = 2;
  for (int l = 2; l < 4; ++l) {
    std::vector<int> perm = {2, 0, 3, 1};  // similarity-style grouping: not adjacent
    merge_heads(m->layers[static_cast<size_t>(l)], perm, 2);
    mc.head_perm.push_back(perm);
  }
  mc.lora_rank = 4;
  mc.lora_targets = {"q", "v", "gate", "down"};
  add_lora(m, mc, 13);
  {
    torch::NoGradGuard ng;
    for (int l = 2; l < 4; ++l)
      for (const auto& t : mc.lora_targets) m->layers[static_cast<size_t>(l)]->proj(t)->B.normal_(0, 0.2);
  }
  // Exact functions, then MARILL's approximations: the package carries them and package_policy
  // hands them to the secure block (Backend::policy()).
  pkg::Package p;
  for (auto [sm, act] : {std::pair{SoftmaxApprox::exact, ActApprox::exact}, std::pair{SoftmaxApprox::quad2, ActApprox::quad}}) {
    mc.softmax = sm;
    mc.act = act;
    set_approx(m, mc.frozen_layers, sm, act);
    mc.validate(m->cfg);
    p = make_package(m, mc, d + "/base", "secure block test");
    const int64_t T = 12, D = m->cfg.d_model;
    Capture cap;
    cap.want_hidden = true;
    {
      torch::NoGradGuard ng;
      m->forward(random_tokens(1, T, 50, 21), {}, {}, nullptr, &cap);
    }
    REQUIRE(cap.hiddens.size() == 4);
    for (size_t li = 0; li < p.layers.size(); ++li) {
      FloatBlock fb = block_from_package(p, li);
      torch::Tensor in = cap.hiddens[1 + li][0].contiguous(), want = cap.hiddens[2 + li][0].contiguous();
      std::vector<double> x(in.data_ptr<float>(), in.data_ptr<float>() + T * D);
      std::vector<double> ref(want.data_ptr<float>(), want.data_ptr<float>() + T * D);
      for (Setting st : {Setting::cleartext, Setting::two_pc_dealer}) {
        SessionConfig cfg;
        cfg.setting = st;
        cfg.policy = package_policy(p, default_policy(st));  // the approximations the package was trained with
        RingTensor xin = cfg.fxp.encode(x, {T, D});
        std::vector<double> got;
        std::mutex mu;
        run_session(cfg, [&](Backend& be) {
          SecureBlock blk = setup_block(be, fb);
          KvCache cache;
          const bool mine = be.role() == Role::client;
          Shared xs = be.input(Role::client, mine ? xin : RingTensor::phantom({T, D}));
          RingTensor y = be.reveal(block_forward(be, blk, xs, cache), Role::client);
          if (mine) {
            std::lock_guard<std::mutex> lock(mu);
            got = be.fxp().decode(y);
          }
        });
        REQUIRE(got.size() == ref.size());
        // Judged against the block's own contribution y - x (the residual alone would pass anything).
        double err = 0, delta = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          err = std::max(err, std::fabs(got[i] - ref[i]));
          delta = std::max(delta, std::fabs(ref[i] - x[i]));
        }
        INFO("private layer " << li << " (" << to_string(sm) << ", " << to_string(act) << ") in " << setting_name(st) << ": max |err| " << err << ", max |y - x| " << delta);
        CHECK(err < 2e-3);
        CHECK(err < 0.02 * delta);
      }
    }
  }
  pkg::Package pruned = p;
  pruned.marill.prune_heads = 2;
  CHECK_THROWS_WITH(block_from_package(pruned, 0), Catch::Contains("head pruning"));
  CHECK_THROWS_WITH(block_from_package(p, 5), Catch::Contains("private layer 5"));
}

TEST_CASE("greedy generation with the KV cache matches recomputation, left padding included", "[ml][generate]") {
  at::set_num_threads(1);
  torch::manual_seed(8);
  Llama m(tiny_cfg());
  std::vector<std::vector<int>> prompts = {{2, 5, 6, 7, 8}, {2, 9}};
  auto batched = generate(m, prompts, 6, -1, 2);
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int> seq = prompts[i], out;
    torch::NoGradGuard ng;
    for (int s = 0; s < 6; ++s) {
      auto t = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end())).view({1, -1});
      const int next = static_cast<int>(m->forward(t).select(1, t.size(1) - 1).argmax(-1).item<int64_t>());
      if (next == 3) break;
      out.push_back(next);
      seq.push_back(next);
    }
    CHECK(batched[i] == out);
  }
}

TEST_CASE("bad technique settings are clear errors", "[ml][errors]") {
  CHECK_THROWS_WITH(technique("hm3-sim"), Catch::Contains("unknown technique"));
  CHECK_THROWS_WITH(technique("magic"), Catch::Contains("full, full-cont, lf, lora"));
  Llama m(tiny_cfg());
  CHECK_THROWS_WITH(merge_heads(m->layers[0], {0, 1, 2, 3}, 3), Catch::Contains("not divisible by m=3"));
}

TEST_CASE("the tiny pipeline: pre-train, every technique family, evaluation, table", "[ml][pipeline]") {
  const std::string data = write_tiny_data();
  const std::string work = tmpdir("work");
  ReproduceOptions o;
  o.scale = "tiny";
  o.data_dir = data;
  o.work_dir = work;
  o.results_dir = work + "/results";
  o.techniques = {"full", "lf", "lora", "lf+lora", "hm2-adj", "hm2-sim", "hp2", "lp", "lf+hm2", "2relu+lf+hm2", "2quad", "quad-act"};
  o.quiet = true;
  reproduce(o);
  std::ifstream in(o.results_dir + "/results.csv");
  std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& t : o.techniques) CHECK(csv.find("translate," + t + ",") != std::string::npos);
  CHECK(csv.find("code,hm2-sim,") != std::string::npos);
  CHECK(fs::exists(o.results_dir + "/table.md"));
  // the budget rule, as trained: the teacher ran as many optimizer steps as every student
  auto steps_of = [&](const std::string& t) {
    std::ifstream f(work + "/translate/" + t + "/finetune.json");
    const auto j = nlohmann::json::parse(f);
    return j.value("steps", 0) + j.value("stage1_steps", 0);
  };
  for (const auto& t : o.techniques) CHECK(steps_of(t) == steps_of("full"));
  CHECK(steps_of("full") == 11);
  // packages name their base relative to themselves
  std::ifstream lf_json(work + "/translate/lf/marill.json");
  CHECK(nlohmann::json::parse(lf_json)["public"]["base_path"] == "../../base");
  // the packages are readable by the torch-free reader; LF packages hold only the top layers
  pkg::Package lf = pkg::load_package(work + "/translate/lf", true);
  CHECK(lf.frozen_layers == 1);
  CHECK(lf.layers.size() == 1);
  pkg::Package hm = pkg::load_package(work + "/translate/lf+hm2");
  CHECK(hm.marill.attn_heads(hm.model) == 2);
  CHECK(hm.marill.head_perm.size() == 1);
  // frozen layers of the fine-tuned LF model are the base model's (bit-identical)
  Llama base = load_base(work + "/base");
  Llama ft = model_from_package(lf, base);
  CHECK(torch::equal(ft->layers[0]->q->weight, base->layers[0]->q->weight));
  CHECK(torch::equal(ft->embed, base->embed));
  // a trained package's private layer is a block the secure transformer takes
  FloatBlock fb = block_from_package(hm, 0);
  CHECK(fb.shape.merge == 2);
  CHECK(fb.shape.merged_heads() == 2);
  // resuming skips finished runs; --table-only rewrites the table and trains nothing
  const auto t = fs::last_write_time(work + "/translate/lf/eval.json");
  reproduce(o);
  CHECK(fs::last_write_time(work + "/translate/lf/eval.json") == t);
  fs::remove(o.results_dir + "/table.md");
  o.table_only = true;
  reproduce(o);
  CHECK(fs::exists(o.results_dir + "/table.md"));
  CHECK(fs::last_write_time(work + "/translate/lf/eval.json") == t);
}
