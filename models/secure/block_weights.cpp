#include "models/secure/block_weights.h"

#include <cmath>
#include <random>
#include <vector>

namespace marill {

namespace {

std::vector<float> random_floats(std::mt19937* rng, i64 n, double scale) {  // weights, not shares
  if (!rng) return {};  // shapes only
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(u(*rng));
  return v;
}

FloatLinear random_linear(std::mt19937* rng, i64 in, i64 out, i64 lora) {
  FloatLinear f;
  f.in = in;
  f.out = out;
  f.w = random_floats(rng, in * out, 1.0 / std::sqrt(static_cast<double>(in)));
  f.w_public = lora > 0;
  f.lora_rank = lora;
  if (lora) {
    f.lora_a = random_floats(rng, in * lora, 0.1);
    f.lora_b = random_floats(rng, lora * out, 0.1);
  }
  return f;
}

// rng null: the structure with empty value vectors.
FloatBlock make_block(const BlockShape& s, i64 lora, std::mt19937* rng) {
  FloatBlock b;
  b.shape = s;
  b.shape_only = rng == nullptr;
  b.norms_public = lora > 0;  // LoRA: the frozen base's norms
  const i64 d = s.d_model;
  if (rng) {
    b.attn_norm.assign(static_cast<size_t>(d), 1.0f);
    b.mlp_norm.assign(static_cast<size_t>(d), 1.0f);
    b.attn_norm_bias.assign(static_cast<size_t>(d), 0.0f);
    b.mlp_norm_bias.assign(static_cast<size_t>(d), 0.0f);
  }
  b.wq = random_linear(rng, d, s.attn_width(), lora);  // narrower than d when heads were pruned
  b.wk = random_linear(rng, d, s.kv_heads() * s.head_dim(), lora);  // the K/V width (grouped-query attention)
  b.wv = random_linear(rng, d, s.kv_heads() * s.head_dim(), lora);
  b.wo = random_linear(rng, s.attn_width(), d, lora);
  if (arch_traits(s.arch).gated_mlp) b.w_gate = random_linear(rng, d, s.ffn_dim, lora);
  b.w_up = random_linear(rng, d, s.ffn_dim, lora);
  b.w_down = random_linear(rng, s.ffn_dim, d, lora);
  return b;
}

}  // namespace

FloatBlock random_block(const BlockShape& s, i64 lora, std::uint32_t seed) {
  std::mt19937 rng(seed);
  return make_block(s, lora, &rng);
}

FloatBlock shape_only_block(const BlockShape& s, i64 lora) { return make_block(s, lora, nullptr); }

}  // namespace marill
