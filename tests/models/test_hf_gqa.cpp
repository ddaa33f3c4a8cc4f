// Hugging Face LLaMA directories with grouped-query attention (Llama-3 / TinyLlama shapes), BF16
// weights and sharded safetensors, built here: the LibTorch model's logits against an independent
// double-precision implementation of HF LLaMA written in this file (not the model code); the config
// reader's Mistral, rope_scaling and head-count rules; packages with and without n_kv_heads; the
// secure block on a GQA package's private layers (merged heads, LoRA) against LibTorch.
// torch (through glog) defines a CHECK macro that would replace Catch's: torch first, then undef
#include "models/train/llama.h"
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "actors/session.h"
#include "models/package/package.h"
#include "models/secure/secure_block.h"

using namespace marill;
using namespace marill::pkg;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_hf_gqa_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// float -> bfloat16 bits, round to nearest even (as torch's .to(bfloat16))
std::uint16_t to_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<std::uint16_t>(u >> 16);
}
double from_bf16(std::uint16_t b) {
  std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A BF16 safetensors shard written byte by byte (our writer writes F32 only), as HF's save does.
void write_bf16_shard(const std::string& path, const std::map<std::string, std::vector<std::int64_t>>& shapes,
                      const std::map<std::string, std::vector<std::uint16_t>>& values) {
  nlohmann::json h;
  std::uint64_t off = 0;
  for (const auto& [name, shape] : shapes) {
    const std::uint64_t n = values.at(name).size() * 2;
    h[name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  h["__metadata__"] = {{"format", "pt"}};
  const std::string hs = h.dump();
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((static_cast<std::uint64_t>(hs.size()) >> (8 * i)) & 0xff));
  out << hs;
  for (const auto& [name, shape] : shapes)
    for (std::uint16_t v : values.at(name)) {
      out.put(static_cast<char>(v & 0xff));
      out.put(static_cast<char>(v >> 8));
    }
}

struct TinyGqa {
  int vocab = 97, d = 64, layers = 2, heads = 8, kv_heads = 2, ffn = 96, max_pos = 64;
  double theta = 500000.0, eps = 1e-5;  // Llama-3's rope_theta
  std::map<std::string, std::vector<std::int64_t>> shapes;
  std::map<std::string, std::vector<double>> w;  // the BF16 values, exactly
};

// Writes config.json (model_type `type`, extra JSON fields), an index and 2 BF16 shards.
TinyGqa write_tiny_gqa(const std::string& dir, const std::string& type, const nlohmann::json& extra) {
  TinyGqa m;
  fs::create_directories(dir);
  const int hd = m.d / m.heads, kvw = m.kv_heads * hd;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape) { m.shapes[name] = std::move(shape); };
  add("model.embed_tokens.weight", {m.vocab, m.d});
  add("model.norm.weight", {m.d});
  add("lm_head.weight", {m.vocab, m.d});
  for (int l = 0; l < m.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "self_attn.q_proj.weight", {m.d, m.d});
    add(p + "self_attn.k_proj.weight", {kvw, m.d});
    add(p + "self_attn.v_proj.weight", {kvw, m.d});
    add(p + "self_attn.o_proj.weight", {m.d, m.d});
    add(p + "mlp.gate_proj.weight", {m.ffn, m.d});
    add(p + "mlp.up_proj.weight", {m.ffn, m.d});
    add(p + "mlp.down_proj.weight", {m.d, m.ffn});
    add(p + "input_layernorm.weight", {m.d});
    add(p + "post_attention_layernorm.weight", {m.d});
  }
  std::mt19937 rng(2024);  // test weights
  std::map<std::string, std::vector<std::uint16_t>> bits;
  for (const auto& [name, shape] : m.shapes) {
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    const bool is_norm = shape.size() == 1;
    const double scale = is_norm ? 0.2 : (name.find("embed") != std::string::npos ? 1.0 : 1.0 / std::sqrt(static_cast<double>(shape[1])));
    std::uniform_real_distribution<double> u(-scale, scale);
    auto& b = bits[name];
    auto& v = m.w[name];
    for (std::int64_t i = 0; i < n; ++i) {
      b.push_back(to_bf16(static_cast<float>((is_norm ? 1.0 : 0.0) + u(rng))));
      v.push_back(from_bf16(b.back()));
    }
  }
  // shard 1: embedding and layer 0; shard 2: the rest
  std::map<std::string, std::vector<std::int64_t>> s1, s2;
  nlohmann::json index;
  index["metadata"] = {{"total_size", 0}};
  for (const auto& [name, shape] : m.shapes) {
    const bool first = name.find("embed") != std::string::npos || name.find("layers.0.") != std::string::npos;
    (first ? s1 : s2)[name] = shape;
    index["weight_map"][name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_bf16_shard(dir + "/model-00001-of-00002.safetensors", s1, bits);
  write_bf16_shard(dir + "/model-00002-of-00002.safetensors", s2, bits);
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  nlohmann::json c = {{"architectures", {"LlamaForCausalLM"}},
                      {"model_type", type},
                      {"vocab_size", m.vocab},
                      {"hidden_size", m.d},
                      {"num_hidden_layers", m.layers},
                      {"num_attention_heads", m.heads},
                      {"num_key_value_heads", m.kv_heads},
                      {"intermediate_size", m.ffn},
                      {"hidden_act", "silu"},
                      {"max_position_embeddings", m.max_pos},
                      {"rms_norm_eps", m.eps},
                      {"rope_theta", m.theta},
                      {"rope_scaling", nullptr},
                      {"tie_word_embeddings", false},
                      {"bos_token_id", 1},
                      {"eos_token_id", 2},
                      {"torch_dtype", "bfloat16"}};
  c.update(extra);
  std::ofstream(dir + "/config.json") << c.dump(2);
  return m;
}

// ---- the independent reference: HF modeling_llama in doubles, written out loop by loop
using Vec = std::vector<double>;

// y (T, out) = x (T, in) · Wᵀ, W [out, in]
Vec linear(const Vec& x, const Vec& W, int T, int in, int out) {
  Vec y(static_cast<size_t>(T) * out, 0.0);
  for (int t = 0; t < T; ++t)
    for (int o = 0; o < out; ++o) {
      double acc = 0;
      for (int i = 0; i < in; ++i) acc += x[static_cast<size_t>(t) * in + i] * W[static_cast<size_t>(o) * in + i];
      y[static_cast<size_t>(t) * out + o] = acc;
    }
  return y;
}

Vec rms(const Vec& x, const Vec& g, int T, int d, double eps) {
  Vec y(x.size());
  for (int t = 0; t < T; ++t) {
    double ss = 0;
    for (int i = 0; i < d; ++i) ss += x[static_cast<size_t>(t) * d + i] * x[static_cast<size_t>(t) * d + i];
    const double r = 1.0 / std::sqrt(ss / d + eps);
    for (int i = 0; i < d; ++i) y[static_cast<size_t>(t) * d + i] = g[static_cast<size_t>(i)] * (x[static_cast<size_t>(t) * d + i] * r);
  }
  return y;
}

// HF apply_rotary_pos_emb on each head of hd columns: x·cos + rotate_half(x)·sin, angle p·θ^(-2i/hd)
void rope(Vec& x, int T, int heads, int hd, double theta) {
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h) {
      double* v = &x[(static_cast<size_t>(t) * heads + h) * hd];
      std::vector<double> orig(v, v + hd);
      for (int i = 0; i < hd; ++i) {
        const int f = i % (hd / 2);
        const double ang = t * std::pow(theta, -2.0 * f / hd);
        const double rot = i < hd / 2 ? -orig[static_cast<size_t>(i + hd / 2)] : orig[static_cast<size_t>(i - hd / 2)];
        v[i] = orig[static_cast<size_t>(i)] * std::cos(ang) + rot * std::sin(ang);
      }
    }
}

Vec reference_logits(const TinyGqa& m, const std::vector<int>& tokens) {
  const int T = static_cast<int>(tokens.size()), d = m.d, hd = d / m.heads, kvw = m.kv_heads * hd, rep = m.heads / m.kv_heads;
  Vec x(static_cast<size_t>(T) * d);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < d; ++i)
      x[static_cast<size_t>(t) * d + i] = m.w.at("model.embed_tokens.weight")[static_cast<size_t>(tokens[static_cast<size_t>(t)]) * d + i];
  for (int l = 0; l < m.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    Vec h = rms(x, m.w.at(p + "input_layernorm.weight"), T, d, m.eps);
    Vec q = linear(h, m.w.at(p + "self_attn.q_proj.weight"), T, d, d);
    Vec k = linear(h, m.w.at(p + "self_attn.k_proj.weight"), T, d, kvw);
    Vec v = linear(h, m.w.at(p + "self_attn.v_proj.weight"), T, d, kvw);
    rope(q, T, m.heads, hd, m.theta);
    rope(k, T, m.kv_heads, hd, m.theta);
    Vec ctx(static_cast<size_t>(T) * d, 0.0);
    for (int hq = 0; hq < m.heads; ++hq) {
      const int hk = hq / rep;  // repeat_kv
      for (int t = 0; t < T; ++t) {
        Vec sc(static_cast<size_t>(t) + 1);
        double mx = -1e300;
        for (int j = 0; j <= t; ++j) {
          double acc = 0;
          for (int e = 0; e < hd; ++e)
            acc += q[static_cast<size_t>(t) * d + hq * hd + e] * k[static_cast<size_t>(j) * kvw + hk * hd + e];
          sc[static_cast<size_t>(j)] = acc / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, sc[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (double& s : sc) sum += (s = std::exp(s - mx));
        for (int e = 0; e < hd; ++e) {
          double acc = 0;
          for (int j = 0; j <= t; ++j) acc += sc[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j) * kvw + hk * hd + e];
          ctx[static_cast<size_t>(t) * d + hq * hd + e] = acc;
        }
      }
    }
    Vec o = linear(ctx, m.w.at(p + "self_attn.o_proj.weight"), T, d, d);
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    Vec h2 = rms(x, m.w.at(p + "post_attention_layernorm.weight"), T, d, m.eps);
    Vec g = linear(h2, m.w.at(p + "mlp.gate_proj.weight"), T, d, m.ffn);
    Vec u = linear(h2, m.w.at(p + "mlp.up_proj.weight"), T, d, m.ffn);
    for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    Vec dn = linear(g, m.w.at(p + "mlp.down_proj.weight"), T, m.ffn, d);
    for (size_t i = 0; i < x.size(); ++i) x[i] += dn[i];
  }
  return linear(rms(x, m.w.at("model.norm.weight"), T, d, m.eps), m.w.at("lm_head.weight"), T, d, m.vocab);
}

double max_logit_error(ml::Llama& model, const TinyGqa& m, const std::vector<int>& tokens) {
  torch::NoGradGuard ng;
  std::vector<int64_t> ids(tokens.begin(), tokens.end());
  auto logits = model->forward(torch::tensor(ids, torch::kLong).view({1, static_cast<int64_t>(ids.size())})).to(torch::kFloat64);
  const Vec ref = reference_logits(m, tokens);
  REQUIRE(logits.numel() == static_cast<int64_t>(ref.size()));
  auto acc = logits.contiguous();
  double err = 0;
  for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(acc.data_ptr<double>()[i] - ref[i]));
  return err;
}

const std::vector<int> kTokens = {1, 17, 42, 5, 96, 33, 33, 8, 71, 60, 2, 13};

}  // namespace

TEST_CASE("a HF LLaMA directory with grouped-query attention, BF16 shards: LibTorch logits equal a double-precision reference", "[ml][hf][gqa]") {
  const std::string dir = fresh_dir("llama");
  const TinyGqa m = write_tiny_gqa(dir, "llama", nlohmann::json::object());
  HfModel hf = read_hf_llama(dir);
  CHECK(hf.config.n_heads == 8);
  CHECK(hf.config.kv_heads() == 2);
  CHECK(hf.tensors.at(hf_name(1, "k")).shape == std::vector<std::int64_t>{16, 64});  // the KV width
  ml::Llama model = ml::load_base(dir);
  const double err = max_logit_error(model, m, kTokens);
  INFO("max |LibTorch - reference| over " << kTokens.size() << " x " << m.vocab << " logits: " << err);
  if (std::getenv("MARILL_BLOCK_REPORT")) std::cout << "gqa hf logits: max |LibTorch - reference| " << err << "\n";
  // float32 against double on a 2-layer model: measured ~1e-6; the bound is the 1e-3.
  CHECK(err < 1e-3);

  // the KV cache at the KV width: prefill then one-token decode steps give the same logits
  torch::NoGradGuard ng;
  ml::KVCache cache;
  std::vector<int64_t> ids(kTokens.begin(), kTokens.end());
  auto full = model->forward(torch::tensor(ids, torch::kLong).view({1, -1}));
  auto first = model->forward(torch::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + 8), torch::kLong).view({1, -1}), {}, {}, &cache);
  CHECK(torch::allclose(first[0], full[0].slice(0, 0, 8), 1e-4, 1e-4));
  CHECK(std::vector<int64_t>(cache.k[0].sizes().begin(), cache.k[0].sizes().end()) ==
        std::vector<int64_t>{1, 2, 8, 8});  // [B, kv_heads, T, head_dim]: the KV width
  for (size_t t = 8; t < ids.size(); ++t) {
    auto step = model->forward(torch::tensor({ids[t]}, torch::kLong).view({1, 1}), {}, {}, &cache);
    CHECK(torch::allclose(step[0][0], full[0][static_cast<int64_t>(t)], 1e-4, 1e-4));
  }
  CHECK(cache.k[1].size(2) == static_cast<int64_t>(ids.size()));
}

TEST_CASE("mistral with an unreached sliding window is LLaMA with grouped-query attention, other configs are named", "[ml][hf][gqa][errors]") {
  const std::string dir = fresh_dir("mistral");
  // a window at the context length is never reached: same model, same logits
  TinyGqa m = write_tiny_gqa(dir, "mistral", {{"sliding_window", 64}});
  ml::Llama model = ml::load_base(dir);
  CHECK(max_logit_error(model, m, kTokens) < 1e-3);
  write_tiny_gqa(dir, "mistral", {{"sliding_window", nullptr}});
  CHECK(read_hf_config(dir + "/config.json").kv_heads() == 2);

  write_tiny_gqa(dir, "mistral", {{"sliding_window", 32}});
  CHECK_THROWS_WITH(read_hf_llama(dir), Catch::Contains("sliding_window 32 is smaller than max_position_embeddings 64"));
  write_tiny_gqa(dir, "llama", {{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}});
  CHECK_THROWS_WITH(read_hf_llama(dir), Catch::Contains("rope_scaling") && Catch::Contains("linear"));
  write_tiny_gqa(dir, "llama", {{"num_key_value_heads", 3}});
  CHECK_THROWS_WITH(read_hf_llama(dir), Catch::Contains("num_attention_heads (8) is not divisible by num_key_value_heads (3)"));
  write_tiny_gqa(dir, "llama", {{"num_key_value_heads", 0}});
  CHECK_THROWS_WITH(read_hf_llama(dir), Catch::Contains("num_key_value_heads must be a positive integer"));
  write_tiny_gqa(dir, "qwen2", nlohmann::json::object());
  CHECK_THROWS_WITH(read_hf_llama(dir), Catch::Contains("model_type 'qwen2' is not supported (llama, mistral)"));
}

TEST_CASE("packages carry the K/V heads, read old packages as multi-head, refuse merges that cross K/V groups", "[package][gqa][errors]") {
  ModelConfig c;
  c.vocab = 40;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.ffn_dim = 48;
  c.max_seq = 32;
  MarillConfig mc;
  set_freeze(mc, c, 0.5);
  mc.merge = 8;  // 4 query heads per K/V head
  CHECK_THROWS_WITH(mc.validate(c), Catch::Contains("merge factor m=8 does not divide the 4 query heads per key/value head"));
  mc.merge = 2;
  mc.head_perm = {{0, 4, 1, 2, 3, 5, 6, 7}};
  CHECK_THROWS_WITH(mc.validate(c), Catch::Contains("head_perm moves head 4 out of its key/value group"));
  mc.head_perm = {{1, 0, 3, 2, 6, 7, 4, 5}};
  CHECK_NOTHROW(mc.validate(c));
  mc.merge = 1;
  mc.head_perm.clear();
  mc.prune_heads = 2;
  mc.kept_heads = {{0, 1, 2, 3}};
  CHECK_THROWS_WITH(mc.validate(c), Catch::Contains("head pruning is not supported with grouped-query attention"));
  ModelConfig bad = c;
  bad.n_kv_heads = 3;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("n_heads (8) is not divisible by n_kv_heads (3)"));

  // A GQA package: K/V at the KV width, with LoRA on k; round trip keeps n_kv_heads.
  mc = MarillConfig{};
  set_freeze(mc, c, 0.5);
  mc.merge = 2;
  mc.lora_rank = 2;
  mc.lora_targets = {"q", "k"};
  Package p;
  p.model = c;
  p.marill = mc;
  p.frozen_layers = mc.frozen_layers;
  p.base_path = "/nonexistent";
  p.base_sha256 = "0";
  LayerWeights l;
  l.index = 1;
  l.attn_norm = l.mlp_norm = Tensor::zeros({32});
  l.wq = Tensor::zeros({32, 32});
  l.wk = l.wv = Tensor::zeros({8, 32});
  l.wo = Tensor::zeros({32, 32});
  l.w_gate = l.w_up = Tensor::zeros({48, 32});
  l.w_down = Tensor::zeros({32, 48});
  l.lora["q"] = {Tensor::zeros({2, 32}), Tensor::zeros({32, 2})};
  l.lora["k"] = {Tensor::zeros({2, 32}), Tensor::zeros({8, 2})};
  p.layers.push_back(l);
  p.final_norm = Tensor::zeros({32});
  p.lm_head = Tensor::zeros({40, 32});
  const std::string dir = fresh_dir("package");
  save_package(dir, p);
  Package r = load_package(dir);
  CHECK(r.model.kv_heads() == 2);
  CHECK(r.layers[0].wk.shape == std::vector<std::int64_t>{8, 32});
  CHECK(r.layers[0].lora.at("k").B.shape == std::vector<std::int64_t>{8, 2});

  // A package written before n_kv_heads existed: one K/V head per head.
  nlohmann::json j;
  std::ifstream(dir + "/marill.json") >> j;
  CHECK(j["model"]["n_kv_heads"] == 2);
  p.model.n_kv_heads = 0;
  p.layers[0].wk = p.layers[0].wv = Tensor::zeros({32, 32});
  p.layers[0].lora["k"].B = Tensor::zeros({32, 2});
  save_package(dir, p);
  std::ifstream(dir + "/marill.json") >> j;
  j["model"].erase("n_kv_heads");
  std::ofstream(dir + "/marill.json") << j.dump(2);
  Package old = load_package(dir);
  CHECK(old.model.kv_heads() == 8);
  CHECK_FALSE(old.model.gqa());
}

TEST_CASE("the secure block computes a grouped-query package's private layers (merged heads, LoRA) as LibTorch does", "[ml][package][secure][gqa]") {
  at::set_num_threads(1);
  const std::string dir = fresh_dir("secure");
  write_tiny_gqa(dir + "/base", "llama", nlohmann::json::object());
  ml::Llama m = ml::load_base(dir + "/base");
  MarillConfig mc;
  set_freeze(mc, m->cfg, 0.5);  // layer 1 is private
  mc.merge = 2;
  const std::vector<int> perm = {1, 3, 0, 2, 6, 4, 7, 5};  // grouping inside each K/V group of 4
  ml::merge_heads(m->layers[1], perm, 2);
  mc.head_perm.push_back(perm);
  mc.lora_rank = 4;
  mc.lora_targets = {"q", "k", "v", "o"};
  ml::add_lora(m, mc, 5);
  {
    torch::NoGradGuard ng;
    for (const auto& t : mc.lora_targets) m->layers[1]->proj(t)->B.normal_(0, 0.2);
  }
  mc.validate(m->cfg);
  Package p = ml::make_package(m, mc, dir + "/base", "gqa secure block test");
  REQUIRE(p.layers[0].wk.shape == std::vector<std::int64_t>{16, 64});  // K at the KV width in the package
  // the sharded base's hash covers the index and both shards; a changed shard is caught on load
  save_package(dir + "/pkg", p);
  CHECK(load_package(dir + "/pkg", true).base_sha256 == p.base_sha256);
  {
    std::fstream shard(dir + "/base/model-00002-of-00002.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    shard.seekg(-1, std::ios::end);
    const char last = static_cast<char>(shard.get());
    shard.seekp(-1, std::ios::end);
    shard.put(static_cast<char>(last ^ 0x5a));  // one byte of one weight differs
  }
  CHECK_THROWS_WITH(load_package(dir + "/pkg", true), Catch::Contains("has SHA-256") && Catch::Contains("but the package expects"));
  const int64_t T = 10, D = m->cfg.d_model;
  ml::Capture cap;
  cap.want_hidden = true;
  {
    torch::NoGradGuard ng;
    std::vector<int64_t> ids(kTokens.begin(), kTokens.begin() + T);
    m->forward(torch::tensor(ids, torch::kLong).view({1, T}), {}, {}, nullptr, &cap);
  }
  REQUIRE(cap.hiddens.size() == 2);
  FloatBlock fb = ml::block_from_package(p, 0);
  CHECK(fb.shape.kv_heads() == 2);
  torch::Tensor in = cap.hiddens[0][0].contiguous(), want = cap.hiddens[1][0].contiguous();
  std::vector<double> x(in.data_ptr<float>(), in.data_ptr<float>() + T * D);
  std::vector<double> ref(want.data_ptr<float>(), want.data_ptr<float>() + T * D);
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    SessionConfig cfg;
    cfg.setting = st;
    cfg.policy = ml::package_policy(p, default_policy(st));
    std::vector<double> got;
    std::mutex mu;
    run_session(cfg, [&](Backend& be) {
      SecureBlock blk = setup_block(be, fb);
      KvCache cache;
      const bool mine = be.role() == Role::client || be.setting() == Setting::cleartext;
      for (int64_t t0 : {int64_t{0}, int64_t{7}, int64_t{8}, int64_t{9}}) {  // prefill 7, then decode with the cache
        const int64_t n = t0 == 0 ? 7 : 1, from = t0 == 0 ? 0 : t0;
        std::vector<double> rows(x.begin() + from * D, x.begin() + (from + n) * D);
        Shared xs = be.input(Role::client, mine ? be.fxp().encode(rows, {n, D}) : RingTensor::phantom({n, D}));
        RingTensor y = be.reveal(block_forward(be, blk, xs, cache), Role::client);
        if (be.role() == Role::client) {
          std::lock_guard<std::mutex> lock(mu);
          auto dec = be.fxp().decode(y);
          got.insert(got.end(), dec.begin(), dec.end());
        }
      }
      CHECK(cache.k.shape() == Shape{2, T, 8});  // the shared cache at the KV width
    });
    REQUIRE(got.size() == ref.size());
    double err = 0, delta = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      err = std::max(err, std::fabs(got[i] - ref[i]));
      delta = std::max(delta, std::fabs(ref[i] - x[i]));
    }
    INFO(setting_name(st) << ": max |err| " << err << ", max |y - x| " << delta);
    if (std::getenv("MARILL_BLOCK_REPORT"))
      std::cout << "gqa package block " << setting_name(st) << ": max |err| " << err << ", max |y - x| " << delta << "\n";
    // the multi-head package test's bounds (tests/models/test_techniques.cpp)
    CHECK(err < 2e-3);
    CHECK(err < 0.02 * delta);
  }
}
