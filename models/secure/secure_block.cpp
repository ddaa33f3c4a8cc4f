#include "models/secure/secure_block.h"

#include <stdexcept>
#include <string>

namespace marill::ml {

namespace {

// [rows, cols] row-major -> [cols, rows] row-major, times `scale`.
std::vector<float> transposed(const pkg::Tensor& t, const std::string& what, double scale = 1.0) {
  if (t.shape.size() != 2) throw std::invalid_argument(what + ": expected a matrix, got " + t.shape_str());
  const std::int64_t r = t.shape[0], c = t.shape[1];
  std::vector<float> out(static_cast<std::size_t>(r * c));
  for (std::int64_t i = 0; i < r; ++i)
    for (std::int64_t j = 0; j < c; ++j)
      out[static_cast<std::size_t>(j * r + i)] = static_cast<float>(t.data[static_cast<std::size_t>(i * c + j)] * scale);
  return out;
}

}  // namespace

FloatBlock block_from_package(const pkg::Package& p, std::size_t i) {
  if (i >= p.layers.size())
    throw std::invalid_argument("package: private layer " + std::to_string(i) + " asked, the package has " +
                                std::to_string(p.layers.size()));
  const pkg::ModelConfig& m = p.model;
  const pkg::MarillConfig& mc = p.marill;
  const pkg::LayerWeights& L = p.layers[i];
  const std::string where = "package layer " + std::to_string(L.index);
  FloatBlock b;
  BlockShape& s = b.shape;
  s.arch = Arch::llama;
  s.d_model = m.d_model;
  s.n_heads = m.n_heads;
  s.n_kv_heads = m.kv_heads();  // grouped-query attention: the package's wk, wv are at the KV width
  s.ffn_dim = m.ffn_dim;
  s.merge = mc.merge;
  s.rope_theta = m.rope_theta;
  s.norm_eps = m.norm_eps;
  // Head pruning: the package holds the kept heads' rows of wq, wk, wv and columns of wo (in
  // kept_heads order), so the block runs over those heads alone.
  s = head_pruned(s, mc.prune_heads);
  s.validate();
  const bool lora = mc.lora_rank > 0;
  auto linear = [&](const std::string& target) {
    const pkg::Tensor& w = L.weight(target);
    FloatLinear f;
    f.out = w.shape.at(0);
    f.in = w.shape.at(1);
    f.has_w = true;
    f.w_public = lora;  // LoRA: the base weight is the public base's
    f.w = transposed(w, where + " " + target);
    auto it = L.lora.find(target);
    if (it != L.lora.end()) {
      const pkg::LoraPair& lp = it->second;
      f.lora_rank = lp.A.shape.at(0);
      if (lp.A.shape.at(1) != f.in || lp.B.shape.at(0) != f.out || lp.B.shape.at(1) != f.lora_rank)
        throw std::invalid_argument(where + " LoRA " + target + ": A " + lp.A.shape_str() + ", B " + lp.B.shape_str() +
                                    " do not fit W " + w.shape_str());
      f.lora_a = transposed(lp.A, where + " LoRA " + target + ".A");
      f.lora_b = transposed(lp.B, where + " LoRA " + target + ".B", mc.lora_alpha / static_cast<double>(f.lora_rank));
    }
    return f;
  };
  b.wq = linear("q");
  b.wk = linear("k");
  b.wv = linear("v");
  b.wo = linear("o");
  b.w_gate = linear("gate");
  b.w_up = linear("up");
  b.w_down = linear("down");
  b.attn_norm = L.attn_norm.data;
  b.mlp_norm = L.mlp_norm.data;
  b.norms_public = lora;  // LoRA trains the adapters alone: the norms are the public base's
  return b;
}

FunctionPolicy package_policy(const pkg::Package& p, FunctionPolicy base) {
  base.softmax = p.marill.softmax;
  base.act = p.marill.act;
  return base;
}

}  // namespace marill::ml
