#include "models/secure/secure_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "models/secure/block_weights.h"
#include "models/secure/secure_block.h"

namespace marill {

namespace {

// [rows, cols] -> [cols, rows] row-major (a package's [out, in] to FloatLinear's (in, out)).
std::vector<float> transposed(const pkg::Tensor& t) {
  const std::int64_t r = t.shape.at(0), c = t.shape.at(1);
  std::vector<float> out(static_cast<size_t>(r * c));
  for (std::int64_t i = 0; i < r; ++i)
    for (std::int64_t j = 0; j < c; ++j) out[static_cast<size_t>(j * r + i)] = t.data[static_cast<size_t>(i * c + j)];
  return out;
}

// Rows (columns: W_o) of `heads`, head_dim wide each, in that order: a merge grouping's permutation,
// or a pruned layer's kept heads, as the training side's merge_heads / prune_heads arrange them.
pkg::Tensor select_heads(const pkg::Tensor& w, const std::vector<int>& heads, std::int64_t dh, bool columns) {
  const std::int64_t rows = w.shape.at(0), cols = w.shape.at(1), n = static_cast<std::int64_t>(heads.size()) * dh;
  pkg::Tensor out = pkg::Tensor::zeros(columns ? std::vector<std::int64_t>{rows, n} : std::vector<std::int64_t>{n, cols});
  for (size_t j = 0; j < heads.size(); ++j)
    for (std::int64_t e = 0; e < dh; ++e) {
      const std::int64_t to = static_cast<std::int64_t>(j) * dh + e, from = static_cast<std::int64_t>(heads[j]) * dh + e;
      if (columns)
        for (std::int64_t r = 0; r < rows; ++r) out.data[static_cast<size_t>(r * n + to)] = w.data[static_cast<size_t>(r * cols + from)];
      else
        std::copy_n(&w.data[static_cast<size_t>(from * cols)], cols, &out.data[static_cast<size_t>(to * cols)]);
    }
  return out;
}

FloatHead head_shape(const ModelPlan& plan) {
  FloatHead h;
  h.arch = plan.block.arch;
  h.d_model = plan.block.d_model;
  h.vocab = plan.vocab;
  h.norm_eps = plan.block.norm_eps;
  h.lm_head.in = plan.block.d_model;
  h.lm_head.out = plan.vocab;
  h.lm_head.has_bias = false;
  return h;
}

}  // namespace

void ModelPlan::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("model: " + m); };
  block.validate();
  if (vocab < 1 || n_layers < 1) bad("vocab and layers must be positive");
  if (frozen_layers < 0 || frozen_layers > n_layers) bad("frozen layers " + std::to_string(frozen_layers) + " outside [0, " + std::to_string(n_layers) + "]");
  if (private_embed && frozen_layers > 0) bad("a private embedding under public layers (the client could not run them)");
  if (prompt_len < 1) bad("the prompt is empty");
  if (new_tokens < 1) bad("at least one new token must be asked");
  if (prompt_len + new_tokens - 1 > max_seq)
    bad("the prompt (" + std::to_string(prompt_len) + " tokens) and " + std::to_string(new_tokens) + " new tokens exceed the context of " +
        std::to_string(max_seq) + " tokens");
}

bool PartyModel::holds_private_values() const {
  if (!embed.empty() || !head.final_norm.empty() || !head.final_norm_bias.empty() || !head.lm_head.w.empty()) return true;
  for (const FloatBlock& b : blocks) {
    if (!b.norms_public && (!b.attn_norm.empty() || !b.mlp_norm.empty() || !b.attn_norm_bias.empty() || !b.mlp_norm_bias.empty())) return true;
    for (const FloatLinear* f : {&b.wq, &b.wk, &b.wv, &b.wo, &b.w_gate, &b.w_up, &b.w_down})
      if ((!f->w_public && !f->w.empty()) || !f->bias.empty() || !f->lora_a.empty() || !f->lora_b.empty()) return true;
  }
  return false;
}

std::string step_scope(int step) {
  if (step == 0) return "prefill";
  char buf[32];
  std::snprintf(buf, sizeof buf, "decode %03d", step);
  return buf;
}

namespace {

bool is_client(const Backend& be) { return be.role() == Role::client || be.setting() == Setting::cleartext; }

// The private part of the model after set-up: the same on every party (values on the server only).
struct SecureModel {
  std::vector<SecureBlock> blocks;
  SecureHead head;
  PrivateWeight embed;  // the trained embedding (plan.private_embed only)
};

// Checks what the party holds against the plan, then inputs the private weights (scope "setup").
SecureModel setup_model(Backend& be, const PartyModel& m) {
  const ModelPlan& plan = m.plan;
  const i64 d = plan.block.d_model, V = plan.vocab;
  if (is_client(be) && !be.phantom() && !plan.private_embed && !m.public_layers)
    throw std::invalid_argument("generate: the client has no public layers");
  if (static_cast<int>(m.blocks.size()) != plan.private_layers())
    throw std::invalid_argument("generate: " + std::to_string(m.blocks.size()) + " private blocks for " + std::to_string(plan.private_layers()) + " private layers");
  SecureModel sm;
  OpScope op(be.ledger(), "setup");
  for (const FloatBlock& b : m.blocks) sm.blocks.push_back(setup_block(be, b));
  sm.head = setup_head(be, m.head);
  if (plan.private_embed) {
    const bool reads = be.role() == Role::server || be.setting() == Setting::cleartext;
    RingTensor w = RingTensor::phantom({V, d});
    if (reads && !be.phantom()) {
      if (static_cast<i64>(m.embed.size()) != V * d) throw std::invalid_argument("generate: the private embedding has the wrong size");
      w = be.fxp().encode(m.embed, {V, d});
    }
    sm.embed = be.setup_private_weight(Private{Role::server, w, be.frac_bits()});
  }
  return sm;
}

// The hidden state (T, d) entering the private layers for the client's `ids` (T of them; empty on
// the other parties): the client's public layers in plaintext (its cache goes on), or, with a
// private embedding, the client's one-hot tokens times the shared embedding.
Shared model_input(Backend& be, const PartyModel& m, const SecureModel& sm, const std::vector<int>& ids, i64 T,
                   pkg::PlainKvCache& public_cache) {
  const i64 d = m.plan.block.d_model, V = m.plan.vocab;
  const bool client_values = is_client(be) && !be.phantom();
  if (m.plan.private_embed) {
    // The client's one-hot tokens (integers: the product with the f-bit embedding is already at f bits).
    RingTensor onehot = RingTensor::phantom({T, V});
    if (client_values) {
      onehot = RingTensor({T, V});
      for (i64 t = 0; t < T; ++t) {
        const int id = ids[static_cast<size_t>(t)];
        if (id < 0 || id >= V) throw std::invalid_argument("generate: token id " + std::to_string(id) + " outside the vocabulary");
        onehot[t * V + id] = 1;
      }
    }
    OpScope emb(be.ledger(), "embedding");
    return be.mmul_sv(be.input(Role::client, onehot), sm.embed);
  }
  RingTensor h = RingTensor::phantom({T, d});
  if (client_values) h = be.fxp().encode(pkg::plain_forward(*m.public_layers, ids, public_cache), {T, d});
  OpScope in(be.ledger(), "input");
  return be.input(Role::client, h);
}

Shared private_layers(Backend& be, const SecureModel& sm, Shared x, std::vector<KvCache>& caches) {
  for (size_t i = 0; i < sm.blocks.size(); ++i) {
    OpScope layer(be.ledger(), "layers");
    x = block_forward(be, sm.blocks[i], x, caches[i]);
  }
  return x;
}

// The last `rows` rows of x (T, d) through the final norm and the LM head: logits (rows, vocab).
// next_token (secure_transformer.h) is this for one row followed by its argmax.
Shared head_logits(Backend& be, const SecureHead& head, const Shared& x, i64 rows) {
  const i64 T = x.shape()[0];
  Shared last = be.map(x, [T, rows](const RingTensor& r) { return slice(r, 0, T - rows, T); });
  NormOptions opt;
  opt.eps = head.norm_eps;
  Shared h = arch_traits(head.arch).rms_norm ? rmsnorm(be, last, head.final_norm, opt)
                                             : layernorm(be, last, head.final_norm, head.final_norm_bias, opt);
  OpScope op(be.ledger(), "lm_head");
  return linear_forward(be, head.lm_head, h);
}

}  // namespace

void secure_generate(Backend& be, const PartyModel& m, std::vector<int>* tokens) {
  const ModelPlan& plan = m.plan;
  plan.validate();
  const bool client = is_client(be);
  const bool client_values = client && !be.phantom();
  if (client_values && static_cast<i64>(m.prompt.size()) != plan.prompt_len)
    throw std::invalid_argument("generate: the client's prompt has " + std::to_string(m.prompt.size()) + " tokens, the plan " +
                                std::to_string(plan.prompt_len));
  const SecureModel sm = setup_model(be, m);
  std::vector<KvCache> caches(sm.blocks.size());
  pkg::PlainKvCache public_cache;  // the client's plaintext cache of the public layers
  std::vector<int> step_ids = client_values ? m.prompt : std::vector<int>{};
  for (int step = 0; step < plan.new_tokens; ++step) {
    OpScope op(be.ledger(), step_scope(step));
    const i64 T = step == 0 ? plan.prompt_len : 1;
    const Shared x = private_layers(be, sm, model_input(be, m, sm, step_ids, T, public_cache), caches);
    const i64 id = next_token(be, sm.head, x);
    if (client_values) {
      if (tokens) tokens->push_back(static_cast<int>(id));
      step_ids = {static_cast<int>(id)};
    }
    if (client && m.on_step) m.on_step(step + 1, plan.new_tokens);
  }
}

void ScoringPlan::validate(const ModelPlan& plan) const {
  auto bad = [](const std::string& msg) { throw std::invalid_argument("scoring: " + msg); };
  if (lengths.empty()) bad("no sequence");
  if (rows.size() != lengths.size()) bad(std::to_string(rows.size()) + " row counts for " + std::to_string(lengths.size()) + " sequences");
  ModelPlan structure = plan;  // the model's structure; the lengths are checked here, each on its own
  structure.prompt_len = 1;
  structure.new_tokens = 1;
  structure.validate();
  for (size_t i = 0; i < lengths.size(); ++i) {
    const std::string which = "sequence " + std::to_string(i + 1);
    if (lengths[i] < 1) bad(which + " is empty");
    if (lengths[i] > plan.max_seq)
      bad(which + " has " + std::to_string(lengths[i]) + " tokens, more than the context of " + std::to_string(plan.max_seq));
    if (rows[i] < 1 || rows[i] > lengths[i]) bad(which + ": " + std::to_string(rows[i]) + " scored rows outside [1, " + std::to_string(lengths[i]) + "]");
  }
}

void secure_score(Backend& be, const PartyModel& m, const ScoringPlan& sp, const std::vector<std::vector<int>>& sequences,
                  std::vector<ScoredSequence>* out) {
  sp.validate(m.plan);
  const bool client = is_client(be);
  const bool client_values = client && !be.phantom();
  if (client_values) {
    if (sequences.size() != sp.lengths.size())
      throw std::invalid_argument("scoring: the client holds " + std::to_string(sequences.size()) + " sequences, the plan " + std::to_string(sp.lengths.size()));
    for (size_t i = 0; i < sequences.size(); ++i)
      if (static_cast<i64>(sequences[i].size()) != sp.lengths[i])
        throw std::invalid_argument("scoring: sequence " + std::to_string(i + 1) + " has " + std::to_string(sequences[i].size()) + " tokens, the plan " +
                                    std::to_string(sp.lengths[i]));
  }
  const SecureModel sm = setup_model(be, m);
  for (size_t i = 0; i < sp.lengths.size(); ++i) {
    OpScope op(be.ledger(), "score");
    std::vector<KvCache> caches(sm.blocks.size());  // each sequence from an empty context
    pkg::PlainKvCache public_cache;
    const std::vector<int> no_ids;
    const Shared x = private_layers(be, sm, model_input(be, m, sm, client_values ? sequences[i] : no_ids, sp.lengths[i], public_cache), caches);
    const Shared logits = head_logits(be, sm.head, x, sp.rows[i]);
    const RingTensor ids = be.reveal(argmax(be, logits).index, Role::client);
    RingTensor revealed_logits;
    if (sp.reveal_logits) revealed_logits = be.reveal(logits, Role::client);  // test only (ScoringPlan)
    if (client_values && out) {
      ScoredSequence s;
      for (i64 r = 0; r < sp.rows[i]; ++r) s.ids.push_back(static_cast<int>(ids[r]));
      if (sp.reveal_logits)
        for (double v : be.fxp().decode(revealed_logits)) s.logits.push_back(static_cast<float>(v));
      out->push_back(std::move(s));
    }
    if (client && m.on_step) m.on_step(static_cast<int>(i + 1), static_cast<int>(sp.lengths.size()));
  }
}

ModelPlan package_plan(const pkg::Package& p) {
  if (p.layers.empty()) throw std::invalid_argument("package: no private layer");
  ModelPlan plan;
  plan.block = ml::block_from_package(p, 0).shape;
  plan.vocab = p.model.vocab;
  plan.n_layers = p.frozen_layers + static_cast<int>(p.layers.size());
  plan.frozen_layers = p.frozen_layers;
  plan.private_embed = p.has_embed;
  plan.max_seq = p.model.max_seq;
  return plan;
}

pkg::Package package_from_hf(const pkg::HfModel& hf, double freeze) {
  pkg::Package p;
  p.model = hf.config;
  pkg::set_freeze(p.marill, hf.config, freeze);
  p.frozen_layers = p.marill.frozen_layers;
  auto get = [&](const std::string& name) -> const pkg::Tensor& {
    auto it = hf.tensors.find(name);
    if (it == hf.tensors.end()) throw std::invalid_argument("hf model: tensor '" + name + "' is missing");
    return it->second;
  };
  for (int l = p.frozen_layers; l < hf.config.n_layers; ++l) {
    pkg::LayerWeights L;
    L.index = l;
    L.attn_norm = get(pkg::hf_name(l, "attn_norm"));
    L.mlp_norm = get(pkg::hf_name(l, "mlp_norm"));
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) L.weight(t) = get(pkg::hf_name(l, t));
    p.layers.push_back(std::move(L));
  }
  p.final_norm = get("model.norm.weight");
  p.lm_head = get("lm_head.weight");
  return p;
}

ModelPlan preset_plan(const pkg::ShapePreset& preset, double freeze) {
  const pkg::ModelConfig shape = preset_config(preset);
  pkg::MarillConfig knobs;
  knobs.freeze = freeze;
  return shape_plan(shape, shape_marill(shape, knobs));
}

pkg::ModelConfig preset_config(const pkg::ShapePreset& preset) {
  pkg::ModelConfig c;
  c.arch = preset.arch;
  c.vocab = preset.vocab;
  c.d_model = preset.d_model;
  c.n_layers = preset.n_layers;
  c.n_heads = preset.n_heads;
  c.n_kv_heads = preset.n_kv_heads;
  c.head_dim = preset.d_model / preset.n_heads;
  c.ffn_dim = preset.ffn_dim;
  c.rope_theta = preset.rope_theta;
  c.norm_eps = preset.norm_eps;
  c.max_seq = preset.max_seq;
  return c;
}

namespace {
const std::vector<std::string> kAllLoraTargets = {"q", "k", "v", "o", "gate", "up", "down"};
}  // namespace

pkg::MarillConfig shape_marill(const pkg::ModelConfig& shape, pkg::MarillConfig knobs) {
  pkg::set_freeze(knobs, shape, knobs.freeze, knobs.prune_layers);
  if (knobs.lora_rank > 0 && knobs.lora_targets.empty()) knobs.lora_targets = kAllLoraTargets;
  if (knobs.lora_rank == 0) knobs.lora_targets.clear();
  // Which heads survive does not change the costs: the first h/m (MarillConfig::validate wants a list per layer).
  knobs.kept_heads.clear();
  if (knobs.prune_heads > 1 && shape.n_heads % knobs.prune_heads == 0) {
    std::vector<int> kept(static_cast<size_t>(shape.n_heads / knobs.prune_heads));
    for (size_t i = 0; i < kept.size(); ++i) kept[i] = static_cast<int>(i);
    knobs.kept_heads.assign(static_cast<size_t>(knobs.private_layers), kept);
  }
  knobs.head_perm.clear();  // grouping is a weight layout: adjacent and similar cost the same
  knobs.embed_trained = false;
  knobs.validate(shape);
  return knobs;
}

ModelPlan shape_plan(const pkg::ModelConfig& shape, const pkg::MarillConfig& mc) {
  ModelPlan plan;
  plan.block.arch = parse_arch(shape.arch);
  plan.block.d_model = shape.d_model;
  plan.block.n_heads = shape.n_heads;
  plan.block.n_kv_heads = shape.gqa() ? shape.kv_heads() : 0;
  plan.block.ffn_dim = shape.ffn_dim;
  plan.block.merge = mc.merge;
  plan.block.rope_theta = shape.rope_theta;
  plan.block.norm_eps = shape.norm_eps;
  plan.vocab = shape.vocab;
  plan.n_layers = shape.n_layers - mc.prune_layers;  // the pruned top layers are gone
  plan.frozen_layers = mc.frozen_layers;
  plan.max_seq = shape.max_seq;
  if (mc.prune_heads > 1) plan.block = head_pruned(plan.block, mc.prune_heads);
  plan.block.validate();
  return plan;
}

std::vector<FloatBlock> shape_blocks(const ModelPlan& plan, const pkg::MarillConfig& mc) {
  FloatBlock b = shape_only_block(plan.block, mc.lora_rank);
  if (mc.lora_rank > 0) {
    const std::pair<const char*, FloatLinear*> linears[] = {{"q", &b.wq},   {"k", &b.wk},  {"v", &b.wv},    {"o", &b.wo},
                                                            {"gate", &b.w_gate}, {"up", &b.w_up}, {"down", &b.w_down}};
    for (const auto& [name, lin] : linears)
      if (std::find(mc.lora_targets.begin(), mc.lora_targets.end(), name) == mc.lora_targets.end()) lin->lora_rank = 0;  // a public base weight alone
  }
  return std::vector<FloatBlock>(static_cast<size_t>(plan.private_layers()), b);
}

std::string describe_marill(const pkg::MarillConfig& mc, int n_layers) {
  std::string out = std::to_string(mc.private_layers) + " of " + std::to_string(n_layers) + " layers private";
  if (mc.prune_layers) out += ", top " + std::to_string(mc.prune_layers) + " pruned";
  if (mc.merge > 1) out += ", m = " + std::to_string(mc.merge) + " " + mc.grouping;
  if (mc.prune_heads > 1) out += ", heads pruned by " + std::to_string(mc.prune_heads);
  if (mc.lora_rank > 0) {
    out += ", LoRA r = " + std::to_string(mc.lora_rank) + " on ";
    for (size_t i = 0; i < mc.lora_targets.size(); ++i) out += (i ? "+" : "") + mc.lora_targets[i];
  }
  if (mc.softmax != SoftmaxApprox::exact) out += ", softmax " + to_string(mc.softmax);
  if (mc.act != ActApprox::exact) out += ", act " + to_string(mc.act);
  return out;
}

void add_server_part(PartyModel& m, const pkg::Package& package, bool phantom) {
  m.blocks.clear();
  for (size_t i = 0; i < package.layers.size(); ++i) {
    FloatBlock b = ml::block_from_package(package, i);
    m.blocks.push_back(phantom ? shapes_of(b) : std::move(b));
  }
  m.head = head_shape(m.plan);
  m.head.lm_head.has_w = true;
  if (!phantom) {
    m.head.final_norm = package.final_norm.data;
    m.head.lm_head.w = transposed(package.lm_head);
    if (package.has_embed) m.embed = package.embed.data;
  }
}

void add_public_structure(PartyModel& m, const pkg::MarillConfig& mc, const pkg::HfModel* base, bool phantom) {
  m.head = head_shape(m.plan);
  m.blocks.clear();
  const int priv = m.plan.private_layers();
  if (mc.lora_rank == 0 || !base) {
    // Every weight of the private layers is private: the structure is all the others know.
    if (mc.lora_rank != 0) throw std::invalid_argument("generate: LoRA layers need the public base model for their base weights");
    for (int i = 0; i < priv; ++i) m.blocks.push_back(shape_only_block(m.plan.block, 0));
    return;
  }
  // LoRA on the public base: x·W is computed locally with the base's weights, heads grouped or
  // pruned as the package's (head_perm and kept_heads are public); the adapters' values stay the server's.
  pkg::Package pub;
  pub.model = base->config;
  pub.marill = mc;
  for (int i = 0; i < priv; ++i) {
    const int l = m.plan.frozen_layers + i;
    pkg::LayerWeights L;
    L.index = l;
    const size_t li = static_cast<size_t>(i);
    const std::vector<int>* heads = mc.prune_heads > 1                            ? &mc.kept_heads.at(li)
                                    : mc.merge > 1 && li < mc.head_perm.size() ? &mc.head_perm[li]
                                                                                 : nullptr;
    const std::int64_t dh = base->config.head_dim;
    L.attn_norm = base->tensors.at(pkg::hf_name(l, "attn_norm"));  // public: LoRA leaves the norms frozen
    L.mlp_norm = base->tensors.at(pkg::hf_name(l, "mlp_norm"));
    for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) {
      pkg::Tensor w = base->tensors.at(pkg::hf_name(l, t));
      const std::string target = t;
      // K and V stay at the KV width under grouped-query attention (never permuted, as in the package).
      const bool kv = target == "k" || target == "v";
      if (heads && (target == "q" || target == "o" || (kv && !base->config.gqa()))) w = select_heads(w, *heads, dh, target == "o");
      L.weight(t) = w;
      for (const std::string& lt : mc.lora_targets)
        if (lt == target) L.lora[lt] = pkg::LoraPair{pkg::Tensor::zeros({mc.lora_rank, w.shape[1]}), pkg::Tensor::zeros({w.shape[0], mc.lora_rank})};
    }
    pub.layers.push_back(std::move(L));
  }
  for (size_t i = 0; i < pub.layers.size(); ++i) {
    FloatBlock b = ml::block_from_package(pub, i);
    for (FloatLinear* f : {&b.wq, &b.wk, &b.wv, &b.wo, &b.w_gate, &b.w_up, &b.w_down}) {
      f->lora_a.clear();
      f->lora_b.clear();
    }
    m.blocks.push_back(phantom ? shapes_of(b) : std::move(b));
  }
}

void add_client_part(PartyModel& m, const pkg::HfModel& base, const std::vector<int>& prompt) {
  m.prompt = prompt;
  if (!m.plan.private_embed) m.public_layers = std::make_shared<const pkg::PlainLlama>(pkg::plain_llama(base, m.plan.frozen_layers, false));
}

}  // namespace marill
