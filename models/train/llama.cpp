// LLaMA-style decoder, MARILL transforms, package conversion and greedy generation (LibTorch).
#include "models/train/llama.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace marill::ml {

namespace F = torch::nn::functional;

namespace {

torch::Tensor rmsnorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

// x [B,H,T,Dh] with Dh = m·rope_dim; cos/sin [B,1,T,1,rope_dim]
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, int rope_dim) {
  const auto s = x.sizes();
  auto xr = x.reshape({s[0], s[1], s[2], s[3] / rope_dim, rope_dim});
  return (xr * cos + rotate_half(xr) * sin).reshape(s);
}

[[noreturn]] void fail(const std::string& m) { throw std::runtime_error(m); }

}  // namespace

// ---------------------------------------------------------------- LoRA linear
LoraLinearImpl::LoraLinearImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::randn({out, in}) * 0.02);
}

void LoraLinearImpl::enable_lora(int r, double a) {
  if (r <= 0) throw std::invalid_argument("LoRA rank must be positive");
  const int64_t in = weight.size(1), out = weight.size(0);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  A = register_parameter("lora_A", torch::empty({r, in}).uniform_(-bound, bound));
  B = register_parameter("lora_B", torch::zeros({out, r}));
  rank = r;
  alpha = a;
  scale = a / r;
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  auto y = F::linear(x, weight);
  if (A.defined()) y = y + scale * F::linear(F::linear(x, A), B);  // (x·Aᵀ)·Bᵀ: never forms B·A
  return y;
}

torch::Tensor LoraLinearImpl::merged_weight() const {
  torch::NoGradGuard ng;
  if (!A.defined()) return weight.clone();
  return weight + scale * torch::mm(B, A);
}

// ---------------------------------------------------------------- block
BlockImpl::BlockImpl(const ModelConfig& c)
    : n_heads(c.n_heads), kv_heads(c.kv_heads()), head_dim(c.head_dim), rope_dim(c.head_dim), scale(1.0 / std::sqrt(static_cast<double>(c.head_dim))),
      eps(c.norm_eps) {
  const int64_t d = c.d_model, a = static_cast<int64_t>(c.n_heads) * c.head_dim, f = c.ffn_dim;
  const int64_t kv = static_cast<int64_t>(c.kv_heads()) * c.head_dim;  // K/V width
  attn_norm = register_parameter("attn_norm", torch::ones({d}));
  mlp_norm = register_parameter("mlp_norm", torch::ones({d}));
  q = register_module("q", LoraLinear(d, a));
  k = register_module("k", LoraLinear(d, kv));
  v = register_module("v", LoraLinear(d, kv));
  o = register_module("o", LoraLinear(a, d));
  gate = register_module("gate", LoraLinear(d, f));
  up = register_module("up", LoraLinear(d, f));
  down = register_module("down", LoraLinear(f, d));
}

LoraLinear& BlockImpl::proj(const std::string& t) {
  if (t == "q") return q;
  if (t == "k") return k;
  if (t == "v") return v;
  if (t == "o") return o;
  if (t == "gate") return gate;
  if (t == "up") return up;
  if (t == "down") return down;
  throw std::invalid_argument("unknown projection '" + t + "' (q, k, v, o, gate, up, down)");
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                 const torch::Tensor& allowed, torch::Tensor* k_cache, torch::Tensor* v_cache, Capture* cap,
                                 int layer) {
  const int64_t Bn = x.size(0), T = x.size(1);
  const bool rec = cap && layer >= cap->from_layer;
  auto h = rmsnorm(x, attn_norm, eps);
  auto qh = q->forward(h).view({Bn, T, n_heads, head_dim}).transpose(1, 2);
  // K/V at their own width: kv_heads heads of rope_dim (merging leaves them alone under GQA)
  const int k_dim = kv_heads == n_heads ? head_dim : rope_dim;
  auto kh = k->forward(h).view({Bn, T, kv_heads, k_dim}).transpose(1, 2);
  auto vh = v->forward(h).view({Bn, T, kv_heads, k_dim}).transpose(1, 2);
  qh = apply_rope(qh, cos, sin, rope_dim);
  kh = apply_rope(kh, cos, sin, rope_dim);
  if (k_cache) {
    if (k_cache->defined()) {
      kh = torch::cat({*k_cache, kh}, 2);
      vh = torch::cat({*v_cache, vh}, 2);
    }
    *k_cache = kh;
    *v_cache = vh;
  }
  if (kv_heads != n_heads) {  // HF's repeat_kv: query head j reads K/V head j / (n_heads / kv_heads)
    kh = kh.repeat_interleave(n_heads / kv_heads, 1);
    vh = vh.repeat_interleave(n_heads / kv_heads, 1);
    if (head_dim != k_dim) {  // a merged head of m query heads of one group: its K/V are the group's, m times
      kh = kh.repeat({1, 1, 1, head_dim / k_dim});
      vh = vh.repeat({1, 1, 1, head_dim / k_dim});
    }
  }
  auto scores = torch::matmul(qh, kh.transpose(-2, -1)) * scale;  // [B,H,T,Tk]
  torch::Tensor w;
  switch (softmax) {
    case SoftmaxApprox::exact:
      w = torch::softmax(scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity()), -1);
      break;
    case SoftmaxApprox::relu2: {  // 2ReLU (SecureML, MPCFormer): relu(x) / sum relu(x)
      auto r = torch::relu(scores) * allowed.to(scores.dtype());
      w = r / (r.sum(-1, true) + 1e-6);
      break;
    }
    case SoftmaxApprox::quad2: {  // 2Quad (MPCFormer): (x + c)^2 / sum (x + c)^2, c = 5
      auto r = (scores + 5.0).pow(2) * allowed.to(scores.dtype());
      w = r / (r.sum(-1, true) + 1e-6);
      break;
    }
  }
  if (rec && cap->want_probs) cap->probs.push_back(w.detach());
  auto ctx = torch::matmul(w, vh);  // [B,H,T,Dh]
  if (head_gate.defined()) ctx = ctx * head_gate.view({1, -1, 1, 1});
  ctx = ctx.transpose(1, 2).reshape({Bn, T, static_cast<int64_t>(n_heads) * head_dim});
  auto a = o->forward(ctx);
  if (rec && cap->want_attn_out) cap->attn_outs.push_back(a);
  auto h2 = x + a;
  auto m = rmsnorm(h2, mlp_norm, eps);
  auto g = gate->forward(m);
  torch::Tensor actv;
  switch (act) {
    case ActApprox::exact: actv = torch::silu(g); break;
    case ActApprox::relu: actv = torch::relu(g); break;
    case ActApprox::quad: actv = 0.125 * g.pow(2) + 0.25 * g + 0.5; break;  // Quad (MPCFormer)
  }
  auto out = h2 + down->forward(actv * up->forward(m));
  if (rec && cap->want_hidden) cap->hiddens.push_back(out);
  return out;
}

// ---------------------------------------------------------------- model
LlamaImpl::LlamaImpl(const ModelConfig& c) : cfg(c) {
  cfg.validate();
  embed = register_parameter("embed", torch::randn({c.vocab, c.d_model}) * 0.02);
  for (int i = 0; i < c.n_layers; ++i) layers.push_back(register_module("layer" + std::to_string(i), Block(c)));
  final_norm = register_parameter("final_norm", torch::ones({c.d_model}));
  lm_head = register_parameter("lm_head", torch::randn({c.vocab, c.d_model}) * 0.02);
  // scaled init of the residual projections (GPT-2)
  {
    torch::NoGradGuard ng;
    for (auto& b : layers) {
      b->o->weight.mul_(1.0 / std::sqrt(2.0 * c.n_layers));
      b->down->weight.mul_(1.0 / std::sqrt(2.0 * c.n_layers));
    }
  }
  const int rd = c.head_dim;
  auto inv = torch::pow(c.rope_theta, -torch::arange(0, rd, 2, torch::kFloat64) / rd);
  auto pos = torch::arange(0, c.max_seq, torch::kFloat64);
  auto fr = torch::outer(pos, inv);
  auto emb = torch::cat({fr, fr}, -1);
  rope_cos = register_buffer("rope_cos", emb.cos().to(torch::kFloat32));
  rope_sin = register_buffer("rope_sin", emb.sin().to(torch::kFloat32));
}

torch::Tensor LlamaImpl::forward(const torch::Tensor& tokens, const torch::Tensor& pos_in, const torch::Tensor& key_mask_in,
                                 KVCache* cache, Capture* cap) {
  const int64_t Bn = tokens.size(0), T = tokens.size(1);
  const int64_t past = cache && !cache->k.empty() && cache->k[0].defined() ? cache->k[0].size(2) : 0;
  torch::Tensor pos = pos_in.defined() ? pos_in : torch::arange(past, past + T, torch::kLong).unsqueeze(0).expand({Bn, T});
  if (pos.max().item<int64_t>() >= cfg.max_seq)
    fail("sequence position " + std::to_string(pos.max().item<int64_t>()) + " exceeds the model's max_seq " + std::to_string(cfg.max_seq));
  const int rd = cfg.head_dim;
  auto flat = pos.reshape({-1});
  auto cos = rope_cos.index_select(0, flat).view({Bn, 1, T, 1, rd});
  auto sin = rope_sin.index_select(0, flat).view({Bn, 1, T, 1, rd});
  const int64_t Tk = past + T;
  torch::Tensor key_mask = key_mask_in.defined() ? key_mask_in : torch::ones({Bn, Tk}, torch::kBool);
  auto qi = torch::arange(past, Tk, torch::kLong).view({T, 1});
  auto kj = torch::arange(0, Tk, torch::kLong).view({1, Tk});
  auto causal = kj.le(qi);
  auto diag = kj.eq(qi);
  auto allowed = (causal.view({1, 1, T, Tk}).logical_and(key_mask.view({Bn, 1, 1, Tk}))).logical_or(diag.view({1, 1, T, Tk}));
  auto x = embed.index_select(0, tokens.reshape({-1})).view({Bn, T, cfg.d_model});
  if (cache && cache->k.size() != layers.size()) {
    cache->k.assign(layers.size(), torch::Tensor());
    cache->v.assign(layers.size(), torch::Tensor());
  }
  for (size_t l = 0; l < layers.size(); ++l)
    x = layers[l]->forward(x, cos, sin, allowed, cache ? &cache->k[l] : nullptr, cache ? &cache->v[l] : nullptr, cap,
                           static_cast<int>(l));
  x = rmsnorm(x, final_norm, cfg.norm_eps);
  return torch::matmul(x, lm_head.t());
}

int64_t LlamaImpl::num_params() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

// ---------------------------------------------------------------- weights in and out
torch::Tensor to_torch(const pkg::Tensor& t) {
  return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat32).clone();
}

pkg::Tensor from_torch(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat32).contiguous().cpu();
  pkg::Tensor out;
  out.shape.assign(c.sizes().begin(), c.sizes().end());
  out.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return out;
}

pkg::TensorMap to_hf(Llama& m) {
  pkg::TensorMap t;
  t["model.embed_tokens.weight"] = from_torch(m->embed);
  t["model.norm.weight"] = from_torch(m->final_norm);
  t["lm_head.weight"] = from_torch(m->lm_head);
  for (size_t i = 0; i < m->layers.size(); ++i) {
    auto& b = m->layers[i];
    if (b->n_heads != m->cfg.n_heads || b->q->A.defined())
      fail("to_hf: layer " + std::to_string(i) + " is merged, pruned or has LoRA: export it as a package");
    const int li = static_cast<int>(i);
    for (const char* w : {"q", "k", "v", "o", "gate", "up", "down"}) t[pkg::hf_name(li, w)] = from_torch(b->proj(w)->weight);
    t[pkg::hf_name(li, "attn_norm")] = from_torch(b->attn_norm);
    t[pkg::hf_name(li, "mlp_norm")] = from_torch(b->mlp_norm);
  }
  return t;
}

namespace {
void assign(torch::Tensor& dst, const pkg::TensorMap& t, const std::string& name) {
  auto it = t.find(name);
  if (it == t.end()) fail("tensor '" + name + "' is missing");
  std::vector<int64_t> want(dst.sizes().begin(), dst.sizes().end());
  if (it->second.shape != want)
    fail("tensor '" + name + "' has shape " + it->second.shape_str() + ", the model expects " + pkg::Tensor::zeros(want).shape_str());
  torch::NoGradGuard ng;
  dst.copy_(to_torch(it->second));
}
}  // namespace

void from_hf(Llama& m, const pkg::TensorMap& t) {
  assign(m->embed, t, "model.embed_tokens.weight");
  assign(m->final_norm, t, "model.norm.weight");
  assign(m->lm_head, t, t.count("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight");
  for (size_t i = 0; i < m->layers.size(); ++i) {
    auto& b = m->layers[i];
    const int li = static_cast<int>(i);
    for (const char* w : {"q", "k", "v", "o", "gate", "up", "down"}) assign(b->proj(w)->weight, t, pkg::hf_name(li, w));
    assign(b->attn_norm, t, pkg::hf_name(li, "attn_norm"));
    assign(b->mlp_norm, t, pkg::hf_name(li, "mlp_norm"));
  }
}

Llama load_base(const std::string& dir) {
  pkg::HfModel hf = pkg::read_hf_llama(dir);
  Llama m(hf.config);
  try {
    from_hf(m, hf.tensors);
  } catch (const std::exception& e) {
    fail(dir + ": " + e.what());
  }
  return m;
}

void save_base(const std::string& dir, Llama& m) { pkg::write_hf_llama(dir, m->cfg, to_hf(m)); }

// ---------------------------------------------------------------- transforms
void set_trainable(Llama& m, const MarillConfig& mc, bool full) {
  for (auto& p : m->parameters()) p.set_requires_grad(full);
  if (full) return;
  const int first_private = mc.frozen_layers;
  for (size_t i = 0; i < m->layers.size(); ++i) {
    if (static_cast<int>(i) < first_private) continue;
    auto& b = m->layers[i];
    if (mc.lora_rank > 0) {
      for (const auto& t : mc.lora_targets) {
        auto& p = b->proj(t);
        if (p->A.defined()) {
          p->A.set_requires_grad(true);
          p->B.set_requires_grad(true);
        }
      }
    } else {
      for (auto& p : b->parameters()) p.set_requires_grad(true);
    }
  }
  if (mc.lora_rank == 0) {
    m->final_norm.set_requires_grad(true);
    m->lm_head.set_requires_grad(true);
  }
}

std::vector<torch::Tensor> trainable_params(Llama& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m->parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

void add_lora(Llama& m, const MarillConfig& mc, uint64_t seed) {
  torch::manual_seed(seed);
  for (size_t i = static_cast<size_t>(mc.frozen_layers); i < m->layers.size(); ++i)
    for (const auto& t : mc.lora_targets) m->layers[i]->proj(t)->enable_lora(mc.lora_rank, mc.lora_alpha);
}

void merge_heads(Block& b, const std::vector<int>& perm, int mf) {
  const int H = b->n_heads, d = b->head_dim;
  if (mf < 1 || H % mf) fail("merge_heads: " + std::to_string(H) + " heads are not divisible by m=" + std::to_string(mf));
  if (static_cast<int>(perm.size()) != H) fail("merge_heads: the permutation must list all " + std::to_string(H) + " heads");
  if (b->q->A.defined()) fail("merge_heads: merge before adding LoRA");
  const bool gqa = b->kv_heads != H;
  const int per_group = H / b->kv_heads;
  if (gqa && per_group % mf)
    fail("merge_heads: m=" + std::to_string(mf) + " does not divide the " + std::to_string(per_group) +
         " query heads per key/value head (grouped-query attention)");
  if (gqa)
    for (int j = 0; j < H; ++j)
      if (perm.at(static_cast<size_t>(j)) / per_group != j / per_group)
        fail("merge_heads: the permutation moves head " + std::to_string(perm[static_cast<size_t>(j)]) +
             " out of its key/value group (grouped-query attention)");
  torch::NoGradGuard ng;
  std::vector<int64_t> rows;
  for (int h : perm)
    for (int j = 0; j < d; ++j) rows.push_back(static_cast<int64_t>(h) * d + j);
  auto idx = torch::tensor(rows, torch::kLong);
  for (auto* p : {&b->q, &b->k, &b->v})
    if (!gqa || p == &b->q) (*p)->weight.set_data((*p)->weight.index_select(0, idx).contiguous());
  b->o->weight.set_data(b->o->weight.index_select(1, idx).contiguous());
  if (!gqa) b->kv_heads = H / mf;  // multi-head: K/V merge with Q
  b->n_heads = H / mf;
  b->head_dim = d * mf;
  b->scale = 1.0 / std::sqrt(static_cast<double>(b->head_dim));  // 1/sqrt(m·d) as in the paper
}

void prune_heads(Block& b, const std::vector<int>& kept) {
  const int H = b->n_heads, d = b->head_dim;
  if (kept.empty() || static_cast<int>(kept.size()) > H) fail("prune_heads: bad list of kept heads");
  if (b->q->A.defined()) fail("prune_heads: prune before adding LoRA");
  if (b->kv_heads != H) fail("prune_heads: head pruning is not supported with grouped-query attention");
  torch::NoGradGuard ng;
  std::vector<int64_t> rows;
  for (int h : kept) {
    if (h < 0 || h >= H) fail("prune_heads: head " + std::to_string(h) + " out of range");
    for (int j = 0; j < d; ++j) rows.push_back(static_cast<int64_t>(h) * d + j);
  }
  auto idx = torch::tensor(rows, torch::kLong);
  for (auto* p : {&b->q, &b->k, &b->v}) (*p)->weight.set_data((*p)->weight.index_select(0, idx).contiguous());
  b->o->weight.set_data(b->o->weight.index_select(1, idx).contiguous());
  b->n_heads = static_cast<int>(kept.size());
  b->kv_heads = b->n_heads;
}

void prune_top_layers(Llama& m, int k) {
  if (k < 0 || k >= static_cast<int>(m->layers.size())) fail("prune_top_layers: k out of range");
  for (int i = 0; i < k; ++i) {
    const size_t last = m->layers.size() - 1;
    m->unregister_module("layer" + std::to_string(last));
    m->layers.pop_back();
  }
}

void set_approx(Llama& m, int from_layer, SoftmaxApprox s, ActApprox a) {
  for (size_t i = static_cast<size_t>(std::max(0, from_layer)); i < m->layers.size(); ++i) {
    m->layers[i]->softmax = s;
    m->layers[i]->act = a;
  }
}

std::vector<std::vector<std::vector<double>>> head_distances(Llama& m, const torch::Tensor& tokens, const torch::Tensor& key_mask,
                                                              int from_layer) {
  torch::NoGradGuard ng;
  Capture cap;
  cap.want_probs = true;
  cap.from_layer = from_layer;
  m->forward(tokens, {}, key_mask, nullptr, &cap);
  std::vector<std::vector<std::vector<double>>> out;
  auto rows = key_mask.reshape({-1});  // valid query rows
  for (auto& P : cap.probs) {  // [B,H,T,T]
    const int64_t H = P.size(1), T = P.size(2);
    auto Pr = P.permute({1, 0, 2, 3}).reshape({H, -1, T}).index({torch::indexing::Slice(), rows, torch::indexing::Slice()});
    Pr = Pr.to(torch::kFloat64).clamp_min(0);
    std::vector<std::vector<double>> D(static_cast<size_t>(H), std::vector<double>(static_cast<size_t>(H), 0.0));
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = i + 1; j < H; ++j) {
        auto p = Pr[i], q = Pr[j], mm = 0.5 * (p + q);
        auto kl = [&](const torch::Tensor& a) {
          return torch::where(a > 0, a * torch::log(a / mm.clamp_min(1e-300)), torch::zeros_like(a)).sum(-1);
        };
        const double js = (0.5 * kl(p) + 0.5 * kl(q)).clamp_min(0).sqrt().mean().item<double>();
        D[static_cast<size_t>(i)][static_cast<size_t>(j)] = D[static_cast<size_t>(j)][static_cast<size_t>(i)] = js;
      }
    out.push_back(std::move(D));
  }
  return out;
}

// ---------------------------------------------------------------- packages
pkg::Package make_package(Llama& m, const MarillConfig& mc, const std::string& base_dir, const std::string& note) {
  pkg::Package p;
  p.model = m->cfg;
  p.marill = mc;
  p.base_path = base_dir;
  p.base_sha256 = pkg::base_model_sha256(base_dir);  // a sharded HF base too
  p.frozen_layers = mc.frozen_layers;
  p.note = note;
  for (size_t i = static_cast<size_t>(mc.frozen_layers); i < m->layers.size(); ++i) {
    auto& b = m->layers[i];
    pkg::LayerWeights l;
    l.index = static_cast<int>(i);
    l.attn_norm = from_torch(b->attn_norm);
    l.mlp_norm = from_torch(b->mlp_norm);
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) {
      l.weight(t) = from_torch(b->proj(t)->weight);
      if (b->proj(t)->A.defined()) l.lora[t] = {from_torch(b->proj(t)->A), from_torch(b->proj(t)->B)};
    }
    p.layers.push_back(std::move(l));
  }
  p.final_norm = from_torch(m->final_norm);
  p.lm_head = from_torch(m->lm_head);
  p.has_embed = mc.embed_trained;
  if (p.has_embed) p.embed = from_torch(m->embed);
  return p;
}

Llama model_from_package(const pkg::Package& p, Llama& base) {
  const ModelConfig& c = p.model;
  const ModelConfig& bc = base->cfg;
  if (c.vocab != bc.vocab || c.d_model != bc.d_model || c.n_layers != bc.n_layers || c.n_heads != bc.n_heads ||
      c.kv_heads() != bc.kv_heads() ||
      c.ffn_dim != bc.ffn_dim)
    fail("package model config does not match its base model (" + p.base_path + ")");
  Llama m(c);
  from_hf(m, to_hf(base));
  const MarillConfig& mc = p.marill;
  if (mc.prune_layers > 0) prune_top_layers(m, mc.prune_layers);
  torch::NoGradGuard ng;
  for (size_t li = 0; li < p.layers.size(); ++li) {
    const auto& lw = p.layers[li];
    auto& b = m->layers.at(static_cast<size_t>(lw.index));
    if (mc.merge > 1) {
      std::vector<int> id(static_cast<size_t>(c.n_heads));
      std::iota(id.begin(), id.end(), 0);
      merge_heads(b, id, mc.merge);  // the package's weights are already in merged order
    }
    if (mc.prune_heads > 1) prune_heads(b, mc.kept_heads.at(li));
    b->softmax = mc.softmax;
    b->act = mc.act;
    b->attn_norm.copy_(to_torch(lw.attn_norm));
    b->mlp_norm.copy_(to_torch(lw.mlp_norm));
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) {
      b->proj(t)->weight.copy_(to_torch(lw.weight(t)));
      auto it = lw.lora.find(t);
      if (it != lw.lora.end()) {
        b->proj(t)->enable_lora(mc.lora_rank, mc.lora_alpha);
        b->proj(t)->A.copy_(to_torch(it->second.A));
        b->proj(t)->B.copy_(to_torch(it->second.B));
      }
    }
  }
  m->final_norm.copy_(to_torch(p.final_norm));
  m->lm_head.copy_(to_torch(p.lm_head));
  if (p.has_embed) m->embed.copy_(to_torch(p.embed));
  return m;
}

// ---------------------------------------------------------------- generation
std::vector<std::vector<int>> generate(Llama& m, const std::vector<std::vector<int>>& prompts, int max_new, int stop, int batch) {
  torch::NoGradGuard ng;
  m->eval();
  std::vector<std::vector<int>> out(prompts.size());
  const int eos = m->cfg.eos_id;
  for (size_t s = 0; s < prompts.size(); s += static_cast<size_t>(batch)) {
    const size_t e = std::min(prompts.size(), s + static_cast<size_t>(batch));
    const int64_t Bn = static_cast<int64_t>(e - s);
    size_t L = 0;
    for (size_t i = s; i < e; ++i) L = std::max(L, prompts[i].size());
    if (static_cast<int>(L) + max_new > m->cfg.max_seq) L = static_cast<size_t>(m->cfg.max_seq - max_new);  // keep the prompt's end
    auto tok = torch::full({Bn, static_cast<int64_t>(L)}, m->cfg.pad_id < 0 ? 0 : m->cfg.pad_id, torch::kLong);
    auto mask = torch::zeros({Bn, static_cast<int64_t>(L)}, torch::kBool);
    auto ta = tok.accessor<int64_t, 2>();
    auto ma = mask.accessor<bool, 2>();
    for (size_t i = s; i < e; ++i) {
      const auto& p = prompts[i];
      const size_t n = std::min(p.size(), L);
      for (size_t j = 0; j < n; ++j) {
        ta[static_cast<int64_t>(i - s)][static_cast<int64_t>(L - n + j)] = p[p.size() - n + j];
        ma[static_cast<int64_t>(i - s)][static_cast<int64_t>(L - n + j)] = true;
      }
    }
    auto pos = (mask.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
    KVCache cache;
    auto logits = m->forward(tok, pos, mask, &cache);
    auto next = logits.select(1, static_cast<int64_t>(L) - 1).argmax(-1);
    auto last_pos = pos.select(1, static_cast<int64_t>(L) - 1);
    std::vector<bool> done(static_cast<size_t>(Bn), false);
    for (int step = 0; step < max_new; ++step) {
      auto na = next.accessor<int64_t, 1>();
      bool all = true;
      for (int64_t b = 0; b < Bn; ++b) {
        if (done[static_cast<size_t>(b)]) continue;
        const int t = static_cast<int>(na[b]);
        if (t == eos || t == stop) done[static_cast<size_t>(b)] = true;
        else out[s + static_cast<size_t>(b)].push_back(t);
        all = all && done[static_cast<size_t>(b)];
      }
      if (all || step + 1 == max_new) break;
      last_pos = last_pos + 1;
      mask = torch::cat({mask, torch::ones({Bn, 1}, torch::kBool)}, 1);
      logits = m->forward(next.view({Bn, 1}), last_pos.view({Bn, 1}), mask, &cache);
      next = logits.select(1, 0).argmax(-1);
    }
  }
  return out;
}

}  // namespace marill::ml
