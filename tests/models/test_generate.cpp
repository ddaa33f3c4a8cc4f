// The whole-model secure generation (models/secure/secure_model.h, runner/generation.h): the
// client's torch-free public layers against LibTorch, secure greedy ids against plaintext greedy
// ids on tiny packages and Hugging Face directories built here, phantom = real in bytes and
// rounds, what each role holds, and bad input.
#include "models/train/llama.h"
#undef CHECK
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "models/package/plain_llama.h"
#include "models/package/presets.h"
#include "runner/generation.h"

using namespace marill;
using namespace marill::ml;
namespace fs = std::filesystem;

namespace {

ModelConfig gen_cfg() {
  ModelConfig c;
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

std::string tmpdir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_gen_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A random model whose logits are far apart (a larger LM head), so greedy ids are a fair test of
// the secure program rather than of ties.
Llama random_model(uint64_t seed, int kv_heads = 0) {
  torch::manual_seed(seed);
  ModelConfig cfg = gen_cfg();
  cfg.n_kv_heads = kv_heads;
  Llama m(cfg);
  torch::NoGradGuard ng;
  m->lm_head.mul_(8.0);
  for (auto& b : m->layers)
    for (const char* t : {"q", "k"}) b->proj(t)->weight.mul_(3.0);
  return m;
}

// Greedy ids of a LibTorch model by recomputation (no EOS stop), and the smallest top-1 margin.
std::vector<int> torch_greedy(Llama& m, std::vector<int> seq, int n, double* margin) {
  torch::NoGradGuard ng;
  std::vector<int> out;
  *margin = 1e9;
  for (int s = 0; s < n; ++s) {
    auto t = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end())).view({1, -1});
    auto logits = m->forward(t).select(1, t.size(1) - 1)[0];
    auto top = logits.topk(2);
    *margin = std::min(*margin, (std::get<0>(top)[0] - std::get<0>(top)[1]).item<double>());
    const int next = static_cast<int>(std::get<1>(top)[0].item<int64_t>());
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

GenerationPoint point_of(ModelSource::Kind kind, const std::string& path, double freeze, Setting st, std::vector<int> prompt, int n) {
  GenerationPoint p;
  p.source.kind = kind;
  p.source.path = path;
  p.source.freeze = freeze;
  p.setting = st;
  p.prompt = std::move(prompt);
  p.new_tokens = n;
  return p;
}

const std::vector<int> kPrompt = {2, 17, 5, 30, 9, 41};

}  // namespace

TEST_CASE("the client's torch-free public layers compute LibTorch's LLaMA, KV cache included", "[generate][plain]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("plain");
  Llama m = random_model(3);
  save_base(d + "/base", m);
  const pkg::HfModel hf = pkg::read_hf_llama(d + "/base");
  const pkg::PlainLlama plain = pkg::plain_llama(hf, 4, true);
  std::vector<int> seq = kPrompt;
  pkg::PlainKvCache cache;
  std::vector<int> step = seq;
  for (int s = 0; s < 4; ++s) {
    const std::vector<float> got = pkg::plain_logits(plain, pkg::plain_forward(plain, step, cache));
    torch::NoGradGuard ng;
    auto t = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end())).view({1, -1});
    auto want = m->forward(t).select(1, t.size(1) - 1)[0].contiguous();
    REQUIRE(static_cast<int64_t>(got.size()) == want.size(0));
    double err = 0;
    for (size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(got[i] - want[static_cast<int64_t>(i)].item<double>()));
    INFO("step " << s << ": max |logit err| " << err);
    CHECK(err < 1e-3);
    const int next = static_cast<int>(want.argmax().item<int64_t>());
    seq.push_back(next);
    step = {next};
  }
  // a frozen prefix: the hidden state after 2 layers equals LibTorch's
  Capture cap;
  cap.want_hidden = true;
  {
    torch::NoGradGuard ng;
    m->forward(torch::tensor(std::vector<int64_t>(kPrompt.begin(), kPrompt.end())).view({1, -1}), {}, {}, nullptr, &cap);
  }
  pkg::PlainKvCache c2;
  const std::vector<float> h = pkg::plain_forward(pkg::plain_llama(hf, 2, false), kPrompt, c2);
  auto want = cap.hiddens.at(1)[0].contiguous();
  double err = 0;
  for (size_t i = 0; i < h.size(); ++i) err = std::max(err, static_cast<double>(std::fabs(h[i] - want.data_ptr<float>()[i])));
  CHECK(err < 1e-4);
  CHECK_THROWS_WITH(pkg::plain_forward(plain, {2, 99}, c2), Catch::Contains("token id 99"));
}

TEST_CASE("secure generation on a Hugging Face directory with layer freezing equals plaintext greedy", "[generate][secure]") {
  at::set_num_threads(1);
  const int kv_heads = GENERATE(0, 2);  // multi-head, and grouped-query attention (2 KV heads for 4 query heads)
  INFO("kv heads " << kv_heads);
  const std::string d = tmpdir("hf" + std::to_string(kv_heads));
  Llama m = random_model(5, kv_heads);
  save_base(d + "/base", m);
  double margin = 0;
  const std::vector<int> want = torch_greedy(m, kPrompt, 5, &margin);
  INFO("smallest top-1 logit margin " << margin);
  const pkg::HfModel hf = pkg::read_hf_llama(d + "/base");
  CHECK(pkg::plain_greedy(pkg::plain_llama(hf, 4, true), kPrompt, 5) == want);
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    const GenerationPoint p = point_of(ModelSource::hf, d + "/base", 0.5, st, kPrompt, 5);
    const GenerationInputs in = load_generation(p);
    CHECK(in.plan.frozen_layers == 2);
    const GenerationResult r = run_generation(p, in);
    INFO(setting_name(st));
    CHECK(r.tokens == want);
    REQUIRE(r.steps.size() == 6);  // setup, prefill, 4 decode steps
    CHECK(r.steps[1].step == "prefill");
    CHECK(r.steps[5].step == "decode 004");
    if (st != Setting::cleartext) {
      for (size_t s = 1; s < r.steps.size(); ++s) CHECK(r.steps[s].rounds > 0);
      CHECK(r.steps[1].online_bytes[0] > r.steps[2].online_bytes[0]);  // prefill (6 tokens) costs more than a decode step
    }
  }
}

TEST_CASE("secure generation with packages (LF + merged or pruned heads + LoRA, full fine-tuning) equals the fine-tuned model's greedy ids", "[generate][secure][package]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("pkg");
  Llama base = random_model(7);
  save_base(d + "/base", base);
  SECTION("layer freezing f = 1/2, similar-style grouping m = 2, LoRA") {
    Llama m = random_model(7);
    pkg::MarillConfig mc;
    pkg::set_freeze(mc, m->cfg, 0.5);
    mc.merge = 2;
    mc.grouping = "similar";
    for (int l = 2; l < 4; ++l) {
      std::vector<int> perm = {2, 0, 3, 1};
      merge_heads(m->layers[static_cast<size_t>(l)], perm, 2);
      mc.head_perm.push_back(perm);
    }
    mc.lora_rank = 2;
    mc.lora_targets = {"q", "v", "up"};
    add_lora(m, mc, 11);
    {
      torch::NoGradGuard ng;
      for (int l = 2; l < 4; ++l)
        for (const auto& t : mc.lora_targets) m->layers[static_cast<size_t>(l)]->proj(t)->B.normal_(0, 0.2);
    }
    mc.validate(m->cfg);
    pkg::save_package(d + "/lf_hm2", make_package(m, mc, d + "/base", "test"));
    double margin = 0;
    const std::vector<int> want = torch_greedy(m, kPrompt, 4, &margin);
    INFO("smallest top-1 logit margin " << margin);
    for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
      const GenerationPoint p = point_of(ModelSource::package, d + "/lf_hm2", 0, st, kPrompt, 4);
      const GenerationInputs in = load_generation(p);
      INFO(setting_name(st));
      CHECK(run_generation(p, in).tokens == want);
      // The client's LoRA base weights (from the public base, heads grouped by the public head_perm)
      // are the package's own base weights.
      const PartyModel server = generation_party_model(p, in, Role::server), client = generation_party_model(p, in, Role::client);
      CHECK_FALSE(client.holds_private_values());  // the public base weights only, never the adapters
      CHECK(server.holds_private_values());
      for (size_t i = 0; i < server.blocks.size(); ++i) {
        CHECK(client.blocks[i].wq.w == server.blocks[i].wq.w);
        CHECK(client.blocks[i].wo.w == server.blocks[i].wo.w);
        CHECK(client.blocks[i].wq.lora_rank == server.blocks[i].wq.lora_rank);
      }
    }
  }
  SECTION("layer freezing f = 1/2, heads pruned m = 2 (kept heads out of order), LoRA on the pruned base") {
    Llama m = random_model(7);
    pkg::MarillConfig mc;
    pkg::set_freeze(mc, m->cfg, 0.5);
    mc.prune_heads = 2;
    mc.kept_heads = {{3, 1}, {0, 2}};
    for (int l = 2; l < 4; ++l) prune_heads(m->layers[static_cast<size_t>(l)], mc.kept_heads[static_cast<size_t>(l - 2)]);
    mc.lora_rank = 2;
    mc.lora_targets = {"q", "o", "down"};
    add_lora(m, mc, 13);
    {
      torch::NoGradGuard ng;
      for (int l = 2; l < 4; ++l)
        for (const auto& t : mc.lora_targets) m->layers[static_cast<size_t>(l)]->proj(t)->B.normal_(0, 0.2);
    }
    mc.validate(m->cfg);
    pkg::save_package(d + "/lf_hp2", make_package(m, mc, d + "/base", "test"));
    double margin = 0;
    const std::vector<int> want = torch_greedy(m, kPrompt, 4, &margin);
    INFO("smallest top-1 logit margin " << margin);
    for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
      const GenerationPoint p = point_of(ModelSource::package, d + "/lf_hp2", 0, st, kPrompt, 4);
      const GenerationInputs in = load_generation(p);
      INFO(setting_name(st));
      CHECK(run_generation(p, in).tokens == want);
      // The client's base weights: the public base's rows (q) and columns (o) of the public kept heads.
      const PartyModel server = generation_party_model(p, in, Role::server), client = generation_party_model(p, in, Role::client);
      CHECK_FALSE(client.holds_private_values());
      for (size_t i = 0; i < server.blocks.size(); ++i) {
        CHECK(server.blocks[i].wq.out == 16);  // 2 of 4 heads of 8
        CHECK(client.blocks[i].wq.w == server.blocks[i].wq.w);
        CHECK(client.blocks[i].wo.w == server.blocks[i].wo.w);
      }
    }
  }
  SECTION("layer freezing with the approximations it was trained with (2ReLU softmax, quadratic activation)") {
    Llama m = random_model(7);
    pkg::MarillConfig mc;
    pkg::set_freeze(mc, m->cfg, 0.5);
    mc.softmax = SoftmaxApprox::relu2;
    mc.act = ActApprox::quad;
    set_approx(m, mc.frozen_layers, mc.softmax, mc.act);
    {
      torch::NoGradGuard ng;
      for (int l = 2; l < 4; ++l) m->layers[static_cast<size_t>(l)]->down->weight.mul_(1.3);
    }
    mc.validate(m->cfg);
    pkg::save_package(d + "/approx", make_package(m, mc, d + "/base", "test"));
    double margin = 0;
    const std::vector<int> want = torch_greedy(m, kPrompt, 4, &margin);
    INFO("smallest top-1 logit margin " << margin);
    Llama exact = random_model(7);
    {
      torch::NoGradGuard ng;
      for (int l = 2; l < 4; ++l) exact->layers[static_cast<size_t>(l)]->down->weight.mul_(1.3);
    }
    double m2 = 0;
    INFO("the exact model's ids differ, so the approximations are what is tested");
    CHECK(torch_greedy(exact, kPrompt, 4, &m2) != want);
    for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
      const GenerationPoint p = point_of(ModelSource::package, d + "/approx", 0, st, kPrompt, 4);
      INFO(setting_name(st));
      CHECK(run_generation(p, load_generation(p)).tokens == want);
    }
  }
  SECTION("full fine-tuning: private embedding looked up in MPC") {
    Llama m = random_model(7);
    {
      torch::NoGradGuard ng;
      m->embed.add_(torch::randn_like(m->embed) * 0.5);
      m->layers[0]->up->weight.mul_(1.5);
    }
    pkg::MarillConfig mc;
    pkg::set_freeze(mc, m->cfg, 1.0);
    mc.embed_trained = true;
    mc.validate(m->cfg);
    pkg::save_package(d + "/full", make_package(m, mc, d + "/base", "test"));
    double margin = 0;
    const std::vector<int> want = torch_greedy(m, kPrompt, 4, &margin);
    INFO("smallest top-1 logit margin " << margin);
    for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
      const GenerationPoint p = point_of(ModelSource::package, d + "/full", 0, st, kPrompt, 4);
      const GenerationInputs in = load_generation(p);
      CHECK(in.plan.private_embed);
      const GenerationResult r = run_generation(p, in);
      INFO(setting_name(st));
      CHECK(r.tokens == want);
      const PartyReport& client = r.session.party(Role::client);
      CHECK(client.ledger.by_op(Phase::online).count("prefill/embedding") == 1);  // costed like any other layer
      CHECK(client.ledger.by_op(Phase::online).at("prefill/embedding").bytes_sent > 0);
    }
  }
}

TEST_CASE("a phantom whole-model generation costs what the real one does, step by step", "[generate][phantom]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("phantom");
  Llama m = random_model(9);
  save_base(d + "/base", m);
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    GenerationPoint p = point_of(ModelSource::hf, d + "/base", 0.5, st, kPrompt, 3);
    const GenerationResult real = run_generation(p, load_generation(p));
    p.mode = Mode::phantom;
    const GenerationResult ph = run_generation(p, load_generation(p));
    CHECK(ph.tokens.empty());
    REQUIRE(ph.steps.size() == real.steps.size());
    for (size_t s = 0; s < real.steps.size(); ++s) {
      INFO(setting_name(st) << " " << real.steps[s].step);
      CHECK(ph.steps[s].online_bytes == real.steps[s].online_bytes);
      CHECK(ph.steps[s].offline_bytes == real.steps[s].offline_bytes);
      CHECK(ph.steps[s].rounds == real.steps[s].rounds);
    }
  }
}

TEST_CASE("shape presets run a whole model at real scale in phantom mode", "[generate][preset]") {
  CHECK(pkg::shape_preset("openllama-3b-v2").d_model == 3200);
  CHECK(pkg::shape_preset("Llama-3-8B").n_kv_heads == 8);
  CHECK_THROWS_WITH(pkg::shape_preset("llama-9000"), Catch::Contains("openllama-3b-v2") && Catch::Contains("bert-base"));
  GenerationPoint p = point_of(ModelSource::preset, "gpt2", 1.0 / 6, Setting::two_pc_dealer, {1, 2, 3, 4}, 2);
  CHECK_THROWS_WITH(load_generation(p), Catch::Contains("--phantom"));
  p.mode = Mode::phantom;
  const GenerationInputs in = load_generation(p);
  CHECK(in.plan.private_layers() == 2);
  CHECK(in.plan.vocab == 50257);
  const GenerationResult r = run_generation(p, in);
  CHECK(r.tokens.empty());
  CHECK(r.steps.at(1).online_bytes.at(0) > 0);
  CHECK(r.steps.at(1).rounds > 0);
  for (Role role : {Role::client, Role::server, Role::dealer}) CHECK_FALSE(generation_party_model(p, in, role).holds_private_values());
}

TEST_CASE("each role's program is built from its own inputs only", "[generate][roles]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("roles");
  Llama m = random_model(4);
  save_base(d + "/base", m);
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    const GenerationPoint p = point_of(ModelSource::hf, d + "/base", 0.5, st, kPrompt, 2);
    const GenerationInputs in = load_generation(p);
    const PartyModel server = generation_party_model(p, in, Role::server);
    CHECK(server.prompt.empty());          // never the prompt
    CHECK(server.public_layers == nullptr);  // nor the client's hidden states (it runs no public layer)
    CHECK(server.holds_private_values());
    CHECK_FALSE(server.on_step);
    const PartyModel client = generation_party_model(p, in, Role::client);
    CHECK(client.prompt == kPrompt);
    CHECK(client.public_layers != nullptr);
    CHECK(client.public_layers->layers.size() == 2);  // the frozen layers only
    CHECK_FALSE(client.holds_private_values());
    for (Role other : roles_of(st)) {
      if (other == Role::client || other == Role::server) continue;
      const PartyModel o = generation_party_model(p, in, other);
      CHECK(o.prompt.empty());
      CHECK(o.public_layers == nullptr);
      CHECK_FALSE(o.holds_private_values());
    }
  }
}

TEST_CASE("bad generation input is a clear error", "[generate][errors]") {
  at::set_num_threads(1);
  const std::string d = tmpdir("bad");
  Llama m = random_model(6);
  save_base(d + "/base", m);
  pkg::MarillConfig mc;
  pkg::set_freeze(mc, m->cfg, 0.5);
  mc.validate(m->cfg);
  pkg::save_package(d + "/pkg", make_package(m, mc, d + "/base", "test"));
  auto pkg_point = [&](const std::string& dir, std::vector<int> prompt, int n) {
    return point_of(ModelSource::package, dir, 0, Setting::two_pc_dealer, std::move(prompt), n);
  };
  CHECK_NOTHROW(load_generation(pkg_point(d + "/pkg", kPrompt, 2)));
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/nothing", kPrompt, 2)), Catch::Contains("nothing"));
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/pkg", {}, 2)), Catch::Contains("prompt is empty"));
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/pkg", std::vector<int>(20, 5), 8)), Catch::Contains("exceed the context of 24"));
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/pkg", {2, 48}, 2)), Catch::Contains("token id 48"));
  // damaged: the private tensors truncated
  fs::copy(d + "/pkg", d + "/damaged", fs::copy_options::recursive);
  fs::resize_file(d + "/damaged/private.safetensors", fs::file_size(d + "/damaged/private.safetensors") / 2);
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/damaged", kPrompt, 2)), Catch::Contains("private.safetensors"));
  // a base that is not the package's: its SHA-256 differs
  Llama other = random_model(99);
  save_base(d + "/base", other);
  CHECK_THROWS_WITH(load_generation(pkg_point(d + "/pkg", kPrompt, 2)), Catch::Contains("SHA-256"));
  // an architecture the reader does not take
  {
    std::ifstream in(d + "/base/config.json");
    std::string j((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    j.replace(j.find("\"llama\""), 7, "\"gpt_neox\"");
    std::ofstream(d + "/base/config.json") << j;
  }
  CHECK_THROWS_WITH(load_generation(point_of(ModelSource::hf, d + "/base", 0.5, Setting::three_pc, kPrompt, 2)), Catch::Contains("gpt_neox"));
  CHECK_THROWS_WITH(load_generation(point_of(ModelSource::preset, "Llama-3-8B", 0.5, Setting::three_pc, kPrompt, 2)), Catch::Contains("--phantom"));
}

namespace {

// An independent double-precision LLaMA (no cache: every step recomputes the whole sequence), for
// the plain forward's grouped-query path, which LibTorch's model does not have yet.
std::vector<double> reference_logits(const pkg::PlainLlama& m, const std::vector<int>& seq) {
  const auto& c = m.config;
  const int64_t T = static_cast<int64_t>(seq.size()), d = c.d_model, dh = c.head_dim, H = c.n_heads;
  auto mat = [](const pkg::Tensor& w, const std::vector<double>& x) {  // W [out, in] · x
    std::vector<double> y(static_cast<size_t>(w.shape[0]), 0.0);
    for (int64_t o = 0; o < w.shape[0]; ++o)
      for (int64_t i = 0; i < w.shape[1]; ++i) y[static_cast<size_t>(o)] += w.data[static_cast<size_t>(o * w.shape[1] + i)] * x[static_cast<size_t>(i)];
    return y;
  };
  auto norm = [&](const std::vector<double>& x, const pkg::Tensor& g) {
    double ss = 0;
    for (double v : x) ss += v * v;
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ss / static_cast<double>(x.size()) + c.norm_eps) * g.data[i];
    return y;
  };
  auto rope = [&](std::vector<double> v, int64_t pos) {  // pairs (j, j + dh/2) of each head turn by pos·θ^(-2j/dh)
    for (size_t h0 = 0; h0 < v.size(); h0 += static_cast<size_t>(dh))
      for (int64_t j = 0; j < dh / 2; ++j) {
        const double a = static_cast<double>(pos) / std::pow(c.rope_theta, 2.0 * static_cast<double>(j) / static_cast<double>(dh));
        const double x1 = v[h0 + static_cast<size_t>(j)], x2 = v[h0 + static_cast<size_t>(j + dh / 2)];
        v[h0 + static_cast<size_t>(j)] = x1 * std::cos(a) - x2 * std::sin(a);
        v[h0 + static_cast<size_t>(j + dh / 2)] = x1 * std::sin(a) + x2 * std::cos(a);
      }
    return v;
  };
  std::vector<std::vector<double>> x(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < d; ++i) x[static_cast<size_t>(t)].push_back(m.embed.data[static_cast<size_t>(seq[static_cast<size_t>(t)] * d + i)]);
  for (const auto& L : m.layers) {
    const int64_t group = H / (L.wk.shape[0] / dh);
    std::vector<std::vector<double>> q, k, v;
    for (int64_t t = 0; t < T; ++t) {
      const auto h = norm(x[static_cast<size_t>(t)], L.attn_norm);
      q.push_back(rope(mat(L.wq, h), t));
      k.push_back(rope(mat(L.wk, h), t));
      v.push_back(mat(L.wv, h));
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> ctx(static_cast<size_t>(H * dh), 0.0);
      for (int64_t hd = 0; hd < H; ++hd) {
        const int64_t kvh = hd / group;
        std::vector<double> w;
        double z = 0;
        for (int64_t s = 0; s <= t; ++s) {
          double dot = 0;
          for (int64_t j = 0; j < dh; ++j) dot += q[static_cast<size_t>(t)][static_cast<size_t>(hd * dh + j)] * k[static_cast<size_t>(s)][static_cast<size_t>(kvh * dh + j)];
          w.push_back(std::exp(dot / std::sqrt(static_cast<double>(dh))));
          z += w.back();
        }
        for (int64_t s = 0; s <= t; ++s)
          for (int64_t j = 0; j < dh; ++j)
            ctx[static_cast<size_t>(hd * dh + j)] += w[static_cast<size_t>(s)] / z * v[static_cast<size_t>(s)][static_cast<size_t>(kvh * dh + j)];
      }
      const auto o = mat(L.wo, ctx);
      for (int64_t i = 0; i < d; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
    }
    for (int64_t t = 0; t < T; ++t) {
      const auto h = norm(x[static_cast<size_t>(t)], L.mlp_norm);
      auto g = mat(L.w_gate, h);
      const auto u = mat(L.w_up, h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
      const auto dn = mat(L.w_down, g);
      for (int64_t i = 0; i < d; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += dn[static_cast<size_t>(i)];
    }
  }
  return mat(m.lm_head, norm(x.back(), m.final_norm));
}

}  // namespace

TEST_CASE("the client's public layers with grouped-query attention equal an independent double reference", "[generate][plain][gqa]") {
  pkg::PlainLlama m;
  m.config = gen_cfg();
  m.config.rope_theta = 500000.0;
  const int64_t d = 32, kv = 2 * 8, ffn = 48, V = 48;  // 4 query heads, 2 key/value heads of 8
  std::mt19937 rng(17);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  auto t = [&](std::vector<int64_t> shape, float mean = 0) {
    pkg::Tensor x = pkg::Tensor::zeros(shape);
    for (auto& v : x.data) v = mean + nd(rng);
    return x;
  };
  m.embed = t({V, d});
  for (int l = 0; l < 2; ++l) m.layers.push_back({t({d}, 1), t({d, d}), t({kv, d}), t({kv, d}), t({d, d}), t({d}, 1), t({ffn, d}), t({ffn, d}), t({d, ffn})});
  m.final_norm = t({d}, 1);
  m.lm_head = t({V, d});
  std::vector<int> seq = kPrompt, step = seq;
  pkg::PlainKvCache cache;
  for (int s = 0; s < 4; ++s) {
    const std::vector<float> got = pkg::plain_logits(m, pkg::plain_forward(m, step, cache));
    const std::vector<double> want = reference_logits(m, seq);
    double err = 0;
    for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::fabs(got[i] - want[i]));
    INFO("step " << s << ": max |logit err| " << err);
    CHECK(err < 1e-3);
    const int next = static_cast<int>(std::max_element(want.begin(), want.end()) - want.begin());
    seq.push_back(next);
    step = {next};
  }
}
