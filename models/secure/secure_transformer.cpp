#include "models/secure/secure_transformer.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

const char* arch_name(Arch a) { return a == Arch::llama ? "llama" : "gpt2"; }

Arch parse_arch(const std::string& s) {
  if (s == "llama") return Arch::llama;
  if (s == "gpt2") return Arch::gpt2;
  throw std::invalid_argument("unknown architecture '" + s + "' (llama, gpt2)");
}

ArchTraits arch_traits(Arch a) {
  switch (a) {
    case Arch::llama: return ArchTraits{true, true, true, false, Activation::silu};
    case Arch::gpt2: return ArchTraits{false, false, false, true, Activation::gelu};
  }
  throw std::logic_error("architecture");
}

void BlockShape::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("block shape: " + m); };
  if (d_model <= 0 || n_heads <= 0 || ffn_dim <= 0) bad("d_model, n_heads and ffn_dim must be positive");
  if (explicit_head_dim < 0) bad("head_dim " + std::to_string(explicit_head_dim) + " is negative");
  if (!explicit_head_dim && d_model % n_heads)
    bad("d_model " + std::to_string(d_model) + " is not divisible by n_heads " + std::to_string(n_heads));
  if (n_kv_heads < 0 || n_heads % kv_heads())
    bad("n_heads " + std::to_string(n_heads) + " is not a multiple of the key/value heads " + std::to_string(n_kv_heads));
  if (merge < 1 || n_heads % merge)
    bad("n_heads " + std::to_string(n_heads) + " is not divisible by the merge factor m = " + std::to_string(merge));
  const i64 per_group = n_heads / kv_heads();
  if (gqa() && per_group % merge)
    bad("the merge factor m = " + std::to_string(merge) + " does not divide the " + std::to_string(per_group) +
        " query heads per key/value head (grouped-query attention: " + std::to_string(n_heads) + " query heads, " +
        std::to_string(kv_heads()) + " key/value heads)");
  if (arch_traits(arch).rotary && head_dim() % 2) bad("rotary embeddings need an even head_dim, got " + std::to_string(head_dim()));
  if (!head_perm.empty()) {
    if (static_cast<i64>(head_perm.size()) != n_heads) bad("head_perm has " + std::to_string(head_perm.size()) + " entries for " + std::to_string(n_heads) + " heads");
    std::vector<bool> seen(static_cast<size_t>(n_heads), false);
    for (i64 h : head_perm) {
      if (h < 0 || h >= n_heads || seen[static_cast<size_t>(h)]) bad("head_perm is not a permutation of 0.." + std::to_string(n_heads - 1));
      seen[static_cast<size_t>(h)] = true;
    }
    if (gqa())  // the m heads of a merged head must share one K/V head
      for (i64 j = 0; j < n_heads; j += merge)
        for (i64 i = 1; i < merge; ++i)
          if (head_perm[static_cast<size_t>(j + i)] / per_group != head_perm[static_cast<size_t>(j)] / per_group)
            bad("head_perm merges heads " + std::to_string(head_perm[static_cast<size_t>(j)]) + " and " +
                std::to_string(head_perm[static_cast<size_t>(j + i)]) + " of different key/value groups (" +
                std::to_string(per_group) + " query heads per key/value head)");
  }
}

BlockShape head_pruned(BlockShape s, int m) {
  auto bad = [](const std::string& msg) { throw std::invalid_argument("head pruning: " + msg); };
  if (m < 1 || s.n_heads % m)
    bad("the factor m = " + std::to_string(m) + " does not divide the " + std::to_string(s.n_heads) + " heads");
  if (m == 1) return s;
  if (s.merge > 1) bad("head merging and head pruning cannot be combined");
  if (s.gqa()) bad("not supported with grouped-query attention (" + std::to_string(s.kv_heads()) + " key/value heads)");
  if (!s.head_perm.empty()) bad("a head permutation belongs to head merging");
  s.explicit_head_dim = s.head_dim();
  s.n_heads /= m;
  s.n_kv_heads = 0;  // multi-head (n_kv_heads was 0 or n_heads): K/V keep one head per kept query head
  s.validate();
  return s;
}

namespace {
// Rotary tables for `d` columns of heads of head_dim (q and k differ in width under grouped-query attention).
void rotary_tables_cols(const BlockShape& s, i64 d, i64 pos0, i64 T, double scale, std::vector<double>& cos_out,
                        std::vector<double>& sin_out) {
  const i64 dh = s.head_dim(), half = dh / 2;
  cos_out.assign(static_cast<size_t>(T * d), 0);
  sin_out.assign(static_cast<size_t>(T * d), 0);
  for (i64 t = 0; t < T; ++t)
    for (i64 c = 0; c < d; ++c) {
      i64 i = (c % dh) % half;  // HF LLaMA: frequency index repeats over the two halves
      double inv_freq = std::pow(s.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(dh));
      double ang = static_cast<double>(pos0 + t) * inv_freq;
      cos_out[static_cast<size_t>(t * d + c)] = scale * std::cos(ang);
      sin_out[static_cast<size_t>(t * d + c)] = scale * std::sin(ang);
    }
}
}  // namespace

void rotary_tables(const BlockShape& s, i64 pos0, i64 T, double scale, std::vector<double>& cos_out, std::vector<double>& sin_out) {
  rotary_tables_cols(s, s.d_model, pos0, T, scale, cos_out, sin_out);
}

namespace {

// rotate_half per head block of width dh: (x1, x2) -> (-x2, x1). Local on shares.
RingTensor rotate_half_cols(const RingTensor& t, i64 dh) {
  if (t.is_phantom()) return RingTensor::phantom(t.shape());
  const i64 cols = t.dim(-1), rows = t.numel() / cols, half = dh / 2;
  RingTensor out(t.shape());
  for (i64 r = 0; r < rows; ++r)
    for (i64 c = 0; c < cols; ++c) {
      i64 base = c - c % dh, j = c % dh;
      out[r * cols + c] = j < half ? u64{0} - t[r * cols + base + j + half] : t[r * cols + base + j - half];
    }
  return out;
}

// Columns in merged-head order: merged head g holds heads perm[g*m .. g*m+m-1], each dh wide.
std::vector<i64> merged_column_order(const BlockShape& s) {
  std::vector<i64> perm = s.head_perm;
  if (perm.empty()) {
    perm.resize(static_cast<size_t>(s.n_heads));
    std::iota(perm.begin(), perm.end(), 0);
  }
  std::vector<i64> cols;
  const i64 dh = s.head_dim();
  for (i64 h : perm)
    for (i64 j = 0; j < dh; ++j) cols.push_back(h * dh + j);
  return cols;
}

// The runtime attention layout: query heads and K/V heads of `width` columns each, `q_heads /
// kv_heads` query heads per K/V head (adjacent). Multi-head: h' merged heads of D' both sides.
struct AttnLayout {
  i64 q_heads, kv_heads, width;
};
AttnLayout attn_layout(const BlockShape& s) {
  if (!s.gqa()) return {s.merged_heads(), s.merged_heads(), s.merge * s.head_dim()};
  return {s.merged_heads(), s.kv_heads(), s.head_dim()};
}

// Grouped-query attention: the query heads each runtime head sums (each head_dim wide), merged
// heads ordered by their K/V head so that every K/V head's query heads are adjacent.
std::vector<std::vector<i64>> gqa_head_sums(const BlockShape& s) {
  std::vector<i64> perm = s.head_perm;
  if (perm.empty()) {
    perm.resize(static_cast<size_t>(s.n_heads));
    std::iota(perm.begin(), perm.end(), 0);
  }
  const i64 per_group = s.n_heads / s.kv_heads();
  std::vector<std::vector<i64>> merged;
  for (i64 j = 0; j < s.n_heads; j += s.merge) merged.emplace_back(perm.begin() + j, perm.begin() + j + s.merge);
  std::stable_sort(merged.begin(), merged.end(),
                   [per_group](const std::vector<i64>& a, const std::vector<i64>& b) { return a[0] / per_group < b[0] / per_group; });
  return merged;
}

// out column (h, j) = sum over heads g in sums[h] of column (g, j), heads dh wide; m (rows, n·dh).
std::vector<float> sum_head_cols(const std::vector<float>& m, i64 rows, i64 dh, const std::vector<std::vector<i64>>& sums) {
  if (m.empty()) return m;
  const i64 in_cols = static_cast<i64>(m.size()) / rows, out_cols = static_cast<i64>(sums.size()) * dh;
  std::vector<float> out(static_cast<size_t>(rows * out_cols), 0.0f);
  for (i64 r = 0; r < rows; ++r)
    for (size_t h = 0; h < sums.size(); ++h)
      for (i64 g : sums[h])
        for (i64 j = 0; j < dh; ++j)
          out[static_cast<size_t>(r * out_cols + static_cast<i64>(h) * dh + j)] += m[static_cast<size_t>(r * in_cols + g * dh + j)];
  return out;
}

// out row (h, j) = sum over heads g in sums[h] of row (g, j); m (n·dh, width).
std::vector<float> sum_head_rows(const std::vector<float>& m, i64 width, i64 dh, const std::vector<std::vector<i64>>& sums) {
  if (m.empty()) return m;
  std::vector<float> out(static_cast<size_t>(static_cast<i64>(sums.size()) * dh * width), 0.0f);
  for (size_t h = 0; h < sums.size(); ++h)
    for (i64 g : sums[h])
      for (i64 j = 0; j < dh; ++j)
        for (i64 c = 0; c < width; ++c)
          out[static_cast<size_t>((static_cast<i64>(h) * dh + j) * width + c)] += m[static_cast<size_t>((g * dh + j) * width + c)];
  return out;
}

std::vector<float> permute_cols(const std::vector<float>& m, i64 rows, const std::vector<i64>& cols) {
  if (m.empty()) return m;
  const i64 n = static_cast<i64>(cols.size());
  std::vector<float> out(m.size());
  for (i64 r = 0; r < rows; ++r)
    for (i64 c = 0; c < n; ++c) out[static_cast<size_t>(r * n + c)] = m[static_cast<size_t>(r * n + cols[static_cast<size_t>(c)])];
  return out;
}

std::vector<float> permute_rows(const std::vector<float>& m, i64 width, const std::vector<i64>& rows) {
  if (m.empty()) return m;
  std::vector<float> out(m.size());
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy(m.begin() + rows[r] * width, m.begin() + (rows[r] + 1) * width, out.begin() + static_cast<i64>(r) * width);
  return out;
}

void scale_vec(std::vector<float>& v, double c) {
  for (float& x : v) x = static_cast<float>(x * c);
}

void check_size(const std::vector<float>& v, i64 n, const std::string& what) {
  if (!v.empty() && static_cast<i64>(v.size()) != n)
    throw std::invalid_argument(what + ": " + std::to_string(v.size()) + " values where the shape needs " + std::to_string(n));
}

// Fixed-point tensor of a private value: real on the server, shape-only elsewhere.
RingTensor private_tensor(Backend& be, const std::vector<float>& v, const Shape& shape, const std::string& what) {
  const bool holder = be.role() == Role::server || be.setting() == Setting::cleartext;
  if (be.phantom() || !holder) return RingTensor::phantom(shape);
  if (static_cast<i64>(v.size()) != shape_numel(shape))
    throw std::invalid_argument(what + ": " + std::to_string(v.size()) + " values where the shape " + shape_str(shape) + " needs " +
                                std::to_string(shape_numel(shape)));
  return be.fxp().encode(v, shape);
}

// Fixed-point tensor of a public value: every party holds it (phantom runs: its shape).
RingTensor public_tensor(Backend& be, const std::vector<float>& v, const Shape& shape, const std::string& what) {
  if (be.phantom()) return RingTensor::phantom(shape);
  if (static_cast<i64>(v.size()) != shape_numel(shape))
    throw std::invalid_argument(what + " (public): " + std::to_string(v.size()) + " values where the shape " + shape_str(shape) +
                                " needs " + std::to_string(shape_numel(shape)));
  return be.fxp().encode(v, shape);
}

Shared input_private(Backend& be, const std::vector<float>& v, const Shape& shape, const std::string& what) {
  return be.input(Role::server, private_tensor(be, v, shape, what));
}

// A weight matrix of the server's, set up once for products with shared activations.
PrivateWeight private_weight(Backend& be, const std::vector<float>& v, const Shape& shape, const std::string& what) {
  return be.setup_private_weight(Private{Role::server, private_tensor(be, v, shape, what), be.frac_bits()});
}

SecureLinear setup_linear(Backend& be, const FloatLinear& f, const std::string& name) {
  SecureLinear s;
  s.in = f.in;
  s.out = f.out;
  if (f.in <= 0 || f.out <= 0) throw std::invalid_argument(name + ": shape (" + std::to_string(f.in) + "," + std::to_string(f.out) + ") is empty");
  if (f.has_w) {
    if (f.w_public) {
      if (!be.phantom()) check_size(f.w, f.in * f.out, name + ".w (public)");
      s.w_public = be.phantom() ? RingTensor::phantom({f.in, f.out}) : be.fxp().encode(f.w, {f.in, f.out});
      s.has_public = true;
    } else {
      s.w_secret = private_weight(be, f.w, {f.in, f.out}, name + ".w");
      s.has_secret = true;
    }
  }
  if (f.has_bias) {
    s.bias = input_private(be, f.bias, {f.out}, name + ".bias");
    s.has_bias = true;
  }
  if (f.lora_rank < 0) throw std::invalid_argument(name + ": negative LoRA rank");
  if (f.lora_rank > 0) {
    s.lora_a = private_weight(be, f.lora_a, {f.in, f.lora_rank}, name + ".lora_a");
    s.lora_b = private_weight(be, f.lora_b, {f.lora_rank, f.out}, name + ".lora_b");
    s.has_lora = true;
  }
  if (!s.has_public && !s.has_secret && !s.has_lora) throw std::invalid_argument(name + ": no weight at all");
  return s;
}

// (T, h'*D') <-> (h', T, D'), local on shares.
Shared to_heads(Backend& be, const Shared& t, i64 heads) {
  const i64 T = t.shape()[0], w = t.shape()[1] / heads;
  return be.map(t, [=](const RingTensor& r) { return permute(r.reshaped({T, heads, w}), {1, 0, 2}); });
}
Shared from_heads(Backend& be, const Shared& t) {
  const i64 H = t.shape()[0], T = t.shape()[1], w = t.shape()[2];
  return be.map(t, [=](const RingTensor& r) { return permute(r, {1, 0, 2}).reshaped({T, H * w}); });
}

Shared norm(Backend& be, const BlockShape& s, const Shared& x, const Shared& gamma, const Shared& beta, bool folded = false) {
  NormOptions opt;
  opt.eps = s.norm_eps;
  if (arch_traits(s.arch).rms_norm) return folded ? rmsnorm(be, x, opt) : rmsnorm(be, x, gamma, opt);
  return folded ? layernorm(be, x, opt) : layernorm(be, x, gamma, beta, opt);
}

// The block's norm before attention (first) or the MLP, by where its gain lives.
Shared block_norm(Backend& be, const SecureBlock& blk, const Shared& x, bool before_attention) {
  const BlockShape& s = blk.shape;
  if (blk.norms_public) {
    NormOptions opt;
    opt.eps = s.norm_eps;
    const RingTensor& gamma = before_attention ? blk.attn_norm_public : blk.mlp_norm_public;
    if (arch_traits(s.arch).rms_norm) return rmsnorm(be, x, gamma, opt);
    return layernorm(be, x, gamma, before_attention ? blk.attn_norm_bias_public : blk.mlp_norm_bias_public, opt);
  }
  return before_attention ? norm(be, s, x, blk.attn_norm, blk.attn_norm_bias, blk.attn_norm_folded)
                          : norm(be, s, x, blk.mlp_norm, blk.mlp_norm_bias, blk.mlp_norm_folded);
}

// A norm's gain folds into the rows of the linears reading the norm, (x g) W = x (diag(g) W), and
// LayerNorm's bias into their biases, (x g + beta) W + b = x (diag(g) W) + (beta W + b), when they
// are all secret (the server owns both) and carry no LoRA.
bool norm_foldable(const std::vector<FloatLinear*>& fs) {
  for (const FloatLinear* f : fs)
    if (!f->has_w || f->w_public || f->lora_rank != 0) return false;
  return true;
}

// beta: LayerNorm's bias, empty for RMSNorm. Every party marks the bias (structure); the holder of
// the private values computes it.
void fold_norm(FloatLinear& f, const std::vector<float>& g, const std::vector<float>* beta) {
  const bool had_bias = f.has_bias;
  if (beta) f.has_bias = true;
  if (f.w.empty()) return;  // not the holder of these private values
  if (static_cast<i64>(g.size()) != f.in)
    throw std::invalid_argument("norm gain: " + std::to_string(g.size()) + " values for a layer of width " + std::to_string(f.in));
  if (beta) {
    if (static_cast<i64>(beta->size()) != f.in)
      throw std::invalid_argument("norm bias: " + std::to_string(beta->size()) + " values for a layer of width " + std::to_string(f.in));
    if (!had_bias) f.bias.assign(static_cast<size_t>(f.out), 0.0f);
    check_size(f.bias, f.out, "folded linear bias");
  }
  for (i64 i = 0; i < f.in; ++i)
    for (i64 j = 0; j < f.out; ++j) {
      float& w = f.w[static_cast<size_t>(i * f.out + j)];
      if (beta) f.bias[static_cast<size_t>(j)] += (*beta)[static_cast<size_t>(i)] * w;  // beta W, with W unscaled
      w *= g[static_cast<size_t>(i)];
    }
}

// Fusable: same input width, no LoRA, base weights all private or all public, biases all or none.
bool fusable(const std::vector<const FloatLinear*>& fs) {
  for (const FloatLinear* f : fs)
    if (f->lora_rank != 0 || !f->has_w || f->w_public != fs[0]->w_public || f->has_bias != fs[0]->has_bias || f->in != fs[0]->in)
      return false;
  return true;
}

// Columns side by side: W = [W_1 | W_2 | ...] (in, sum out), bias likewise. Parties that do not
// hold a private part pass empty vectors and get an empty one.
FloatLinear fuse_cols(const std::vector<const FloatLinear*>& fs) {
  FloatLinear out = *fs[0];
  out.out = 0;
  for (const FloatLinear* f : fs) out.out += f->out;
  bool have_w = true, have_b = true;
  for (const FloatLinear* f : fs) {
    have_w = have_w && !f->w.empty();
    have_b = have_b && !f->bias.empty();
  }
  out.w.assign(have_w ? static_cast<size_t>(out.in * out.out) : 0, 0.0f);
  out.bias.clear();
  i64 off = 0;
  for (const FloatLinear* f : fs) {
    check_size(f->w, f->in * f->out, "fused linear");
    if (have_w)
      for (i64 i = 0; i < f->in; ++i)
        std::copy(f->w.begin() + i * f->out, f->w.begin() + (i + 1) * f->out, out.w.begin() + i * out.out + off);
    if (have_b) out.bias.insert(out.bias.end(), f->bias.begin(), f->bias.end());
    off += f->out;
  }
  return out;
}

// Columns [from, from + n) of y (T, N).
Shared cols(Backend& be, const Shared& y, i64 from, i64 n) {
  return be.map(y, [=](const RingTensor& t) { return slice(t, 1, from, from + n); });
}

// The structure of a linear without its values.
FloatLinear linear_shape(const FloatLinear& f) {
  FloatLinear o;
  o.in = f.in;
  o.out = f.out;
  o.has_w = f.has_w;
  o.w_public = f.w_public;
  o.has_bias = f.has_bias;
  o.lora_rank = f.lora_rank;
  return o;
}

}  // namespace

FloatBlock shapes_of(const FloatBlock& w) {
  FloatBlock o;
  o.shape = w.shape;
  o.shape_only = true;
  o.norms_public = w.norms_public;
  for (auto [to, from] : {std::pair{&o.wq, &w.wq}, {&o.wk, &w.wk}, {&o.wv, &w.wv}, {&o.wo, &w.wo}, {&o.w_gate, &w.w_gate},
                          {&o.w_up, &w.w_up}, {&o.w_down, &w.w_down}})
    *to = linear_shape(*from);
  return o;
}

SecureBlock setup_block(Backend& be, const FloatBlock& w) {
  // The server reads the private values (cleartext: all of them); a party that holds none passes shapes.
  const bool reads_private = be.role() == Role::server || be.setting() == Setting::cleartext;
  if (w.shape_only && !be.phantom() && reads_private)
    throw std::invalid_argument("setup_block: the weights are shapes only (shape_only_block); only a phantom run, or a party that holds no private weight, can take them");
  // A phantom run never reads values: work on the shapes, so nothing here copies the weights.
  if (be.phantom() && !w.shape_only) return setup_block(be, shapes_of(w));
  OpScope op(be.ledger(), "setup");
  const BlockShape& s = w.shape;
  s.validate();
  const ArchTraits arch = arch_traits(s.arch);
  const i64 d = s.d_model, aw = s.attn_width();  // aw = d unless heads were pruned
  SecureBlock b;
  b.shape = s;
  // Head grouping and the attention scale 1/sqrt(D') are folded into the weights (both linear).
  const std::vector<i64> cols = merged_column_order(s);
  const double qscale = 1.0 / std::sqrt(static_cast<double>(s.merge * s.head_dim()));
  const i64 dh = s.head_dim(), kv_width = s.kv_heads() * dh;
  // Grouped-query attention: each runtime query head sums its merged heads' columns (W_q) and rows
  // (W_o); K/V keep their layout. Multi-head: the merged column order on Q, K, V alike.
  const std::vector<std::vector<i64>> sums = s.gqa() ? gqa_head_sums(s) : std::vector<std::vector<i64>>{};
  auto arrange_cols = [&](const std::vector<float>& m, i64 rows) {
    return s.gqa() ? sum_head_cols(m, rows, dh, sums) : permute_cols(m, rows, cols);
  };
  auto qkv = [&](FloatLinear f, double c, const char* name, bool is_q) {
    const i64 want_out = is_q || !s.gqa() ? aw : kv_width;
    if (f.in != d || f.out != want_out)
      throw std::invalid_argument(std::string(name) + ": expected (" + std::to_string(d) + "," + std::to_string(want_out) + "), got (" +
                                  std::to_string(f.in) + "," + std::to_string(f.out) + ")");
    if (is_q || !s.gqa()) {
      check_size(f.w, f.in * f.out, std::string(name) + ".w");
      f.w = arrange_cols(f.w, f.in);
      f.bias = arrange_cols(f.bias, 1);
      f.lora_b = arrange_cols(f.lora_b, f.lora_rank);
      f.out = attn_layout(s).q_heads * attn_layout(s).width;
    }
    scale_vec(f.w, c);
    scale_vec(f.bias, c);
    scale_vec(f.lora_b, c);
    return f;
  };
  FloatLinear fq = qkv(w.wq, qscale, "wq", true), fk = qkv(w.wk, 1.0, "wk", false), fv = qkv(w.wv, 1.0, "wv", false);
  const std::vector<float>* attn_beta = arch.has_norm_bias ? &w.attn_norm_bias : nullptr;
  b.attn_norm_folded = !w.norms_public && norm_foldable({&fq, &fk, &fv});
  if (b.attn_norm_folded)
    for (FloatLinear* f : {&fq, &fk, &fv}) fold_norm(*f, w.attn_norm, attn_beta);
  if (fusable({&fq, &fk, &fv})) {
    b.wqkv = setup_linear(be, fuse_cols({&fq, &fk, &fv}), "wqkv");
    b.fused_qkv = true;
  } else {
    b.wq = setup_linear(be, fq, "wq");
    b.wk = setup_linear(be, fk, "wk");
    b.wv = setup_linear(be, fv, "wv");
  }
  FloatLinear wo = w.wo;
  if (wo.in != aw || wo.out != d)
    throw std::invalid_argument("wo: expected (" + std::to_string(aw) + "," + std::to_string(d) + "), got (" + std::to_string(wo.in) + "," +
                                std::to_string(wo.out) + ")");
  if (s.gqa()) {
    check_size(wo.w, wo.in * wo.out, "wo.w");
    wo.w = sum_head_rows(wo.w, wo.out, dh, sums);
    wo.lora_a = sum_head_rows(wo.lora_a, wo.lora_rank, dh, sums);
    wo.in = attn_layout(s).q_heads * dh;
  } else {
    wo.w = permute_rows(wo.w, wo.out, cols);
    wo.lora_a = permute_rows(wo.lora_a, wo.lora_rank, cols);
  }
  b.wo = setup_linear(be, wo, "wo");
  FloatLinear fgate = w.w_gate, fup = w.w_up;
  const std::vector<float>* mlp_beta = arch.has_norm_bias ? &w.mlp_norm_bias : nullptr;
  std::vector<FloatLinear*> mlp_in{&fup};
  if (arch.gated_mlp) mlp_in.push_back(&fgate);
  b.mlp_norm_folded = !w.norms_public && norm_foldable(mlp_in);
  if (b.mlp_norm_folded)
    for (FloatLinear* f : mlp_in) fold_norm(*f, w.mlp_norm, mlp_beta);
  if (arch.gated_mlp && fusable({&fgate, &fup})) {
    b.w_gate_up = setup_linear(be, fuse_cols({&fgate, &fup}), "w_gate_up");
    b.fused_gate_up = true;
  } else {
    if (arch.gated_mlp) b.w_gate = setup_linear(be, fgate, "w_gate");
    b.w_up = setup_linear(be, fup, "w_up");
  }
  b.w_down = setup_linear(be, w.w_down, "w_down");
  b.norms_public = w.norms_public;
  if (w.norms_public) {
    b.attn_norm_public = public_tensor(be, w.attn_norm, {d}, "attn_norm");
    b.mlp_norm_public = public_tensor(be, w.mlp_norm, {d}, "mlp_norm");
    if (arch.has_norm_bias) {
      b.attn_norm_bias_public = public_tensor(be, w.attn_norm_bias, {d}, "attn_norm_bias");
      b.mlp_norm_bias_public = public_tensor(be, w.mlp_norm_bias, {d}, "mlp_norm_bias");
    }
  } else {
    if (!b.attn_norm_folded) {
      b.attn_norm = input_private(be, w.attn_norm, {d}, "attn_norm");
      if (arch.has_norm_bias) b.attn_norm_bias = input_private(be, w.attn_norm_bias, {d}, "attn_norm_bias");
    }
    if (!b.mlp_norm_folded) {
      b.mlp_norm = input_private(be, w.mlp_norm, {d}, "mlp_norm");
      if (arch.has_norm_bias) b.mlp_norm_bias = input_private(be, w.mlp_norm_bias, {d}, "mlp_norm_bias");
    }
  }
  return b;
}

namespace {
std::vector<Shared> linear_forward_many(Backend& be, const std::vector<const SecureLinear*>& lins, const Shared& x);
}  // namespace

Shared linear_forward(Backend& be, const SecureLinear& lin, const Shared& x) {
  // x (T, in) -> (T, out)
  const int f = be.frac_bits();
  if (lin.has_lora && 3 * f <= 48) return linear_forward_many(be, {&lin}, x)[0];
  if (lin.has_secret && !lin.has_public && !lin.has_lora) {  // the product and its truncation fused where the setting can
    Shared y = be.mmul_sv_trunc(x, lin.w_secret, f);
    return lin.has_bias ? be.add(y, fn::tile_rows(be, lin.bias, x.shape()[0])) : y;
  }
  Shared acc;
  bool any = false;
  auto accumulate = [&](Shared t) {
    acc = any ? be.add(acc, t) : std::move(t);
    any = true;
  };
  if (lin.has_public) accumulate(be.matmul_public(x, lin.w_public));  // free
  if (lin.has_secret) accumulate(be.mmul_sv(x, lin.w_secret));
  if (lin.has_lora) {  // more than 16 fractional bits leave no room for 3f bits: truncate X A first
    OpScope op(be.ledger(), "lora");
    accumulate(be.mmul_sv(be.trunc(be.mmul_sv(x, lin.lora_a), f), lin.lora_b));
  }
  Shared y = be.trunc(acc, f);
  if (lin.has_bias) y = be.add(y, fn::tile_rows(be, lin.bias, x.shape()[0]));
  return y;
}

namespace {

// Linears reading the same x (one LoRA linear; LoRA Q,K,V; gate, up), their secure products
// batched: x W_secret and x A of all in one round, (x A) B of all in the next, one truncation for
// all. (X A) B, never A B first: O(T r (in + out)) secure multiplications (paper §5.2). X A stays at
// 2f bits (no truncation round between the two products), (X A) B is at 3f; X W moves to 3f by a
// public shift and one truncation by 2f serves all (needs |y| < 2^(61 - 3f)).
std::vector<Shared> linear_forward_many(Backend& be, const std::vector<const SecureLinear*>& lins, const Shared& x) {
  const int f = be.frac_bits();
  std::vector<Shared> out;
  // Nothing to batch, or no room for 3f bits (more than 16 fractional bits): one by one.
  if (3 * f > 48 || (lins.size() == 1 && !lins[0]->has_lora)) {
    for (const SecureLinear* l : lins) out.push_back(linear_forward(be, *l, x));
    return out;
  }
  std::vector<const PrivateWeight*> first;  // all read x: it is masked and opened once (mmul_sv_x)
  for (const SecureLinear* l : lins) {
    if (l->has_secret) first.push_back(&l->w_secret);
    if (l->has_lora) first.push_back(&l->lora_a);
  }
  std::vector<Shared> r1 = be.mmul_sv_x(x, first), r2;
  std::vector<std::pair<Shared, const PrivateWeight*>> second;
  {
    size_t at = 0;
    for (const SecureLinear* l : lins) {
      if (l->has_secret) ++at;
      if (l->has_lora) second.emplace_back(r1[at++], &l->lora_b);
    }
    OpScope op(be.ledger(), "lora");
    r2 = be.mmul_sv_many(second);
  }
  // Every output at 3f bits: (x W_public + x W_secret) 2^f + (x A) B; one truncation by 2f.
  std::vector<Shared> pre;
  size_t a1 = 0, a2 = 0;
  for (const SecureLinear* l : lins) {
    Shared acc;
    bool any = false;
    auto accumulate = [&](Shared t) {
      acc = any ? be.add(acc, t) : std::move(t);
      any = true;
    };
    if (l->has_public) accumulate(be.matmul_public(x, l->w_public));
    if (l->has_secret) accumulate(r1[a1++]);
    if (l->has_lora) ++a1;
    Shared y = be.scale(acc, u64{1} << f);
    if (l->has_lora) y = be.add(y, r2[a2++]);
    pre.push_back(y);
  }
  out = fn::trunc_many(be, pre, 2 * f);
  for (size_t i = 0; i < lins.size(); ++i)
    if (lins[i]->has_bias) out[i] = be.add(out[i], fn::tile_rows(be, lins[i]->bias, x.shape()[0]));
  return out;
}

}  // namespace

Shared block_forward(Backend& be, const SecureBlock& blk, const Shared& x, KvCache& cache) {
  const BlockShape& s = blk.shape;
  const ArchTraits arch = arch_traits(s.arch);
  if (x.shape().size() != 2 || x.shape()[1] != s.d_model)
    throw std::invalid_argument("block input must be (T, " + std::to_string(s.d_model) + "), got " + shape_str(x.shape()));
  const i64 T = x.shape()[0];
  const AttnLayout lay = attn_layout(s);
  const i64 q_cols = lay.q_heads * lay.width, kv_cols = lay.kv_heads * lay.width;
  const i64 per_kv = lay.q_heads / lay.kv_heads;  // runtime query heads per K/V head (1 without GQA)
  const i64 pos0 = cache.len;
  Shared attn_out;
  {
    OpScope op(be.ledger(), "attention");
    Shared h = block_norm(be, blk, x, true);  // (T, d)
    Shared q, k, v;
    {
      OpScope lin(be.ledger(), "linear");
      if (blk.fused_qkv) {
        Shared y = linear_forward(be, blk.wqkv, h);  // (T, q_cols + 2 kv_cols)
        q = cols(be, y, 0, q_cols);
        k = cols(be, y, q_cols, kv_cols);
        v = cols(be, y, q_cols + kv_cols, kv_cols);
      } else {
        std::vector<Shared> qkv = linear_forward_many(be, {&blk.wq, &blk.wk, &blk.wv}, h);
        q = qkv[0];
        k = qkv[1];
        v = qkv[2];
      }
    }
    if (arch.rotary) {
      OpScope rot(be.ledger(), "rotary");
      const i64 dh = s.head_dim();
      auto rope = [&](const Shared& t) {
        const i64 width = t.shape()[1];
        std::vector<double> c, sn;
        if (!be.phantom()) rotary_tables_cols(s, width, pos0, T, 1.0, c, sn);  // phantom: public_tensor takes the shape only
        RingTensor cos_t = public_tensor(be, c, {T, width}), sin_t = public_tensor(be, sn, {T, width});
        Shared rh = be.map(t, [dh](const RingTensor& r) { return rotate_half_cols(r, dh); });
        return be.trunc(be.add(be.mul_public(t, cos_t), be.mul_public(rh, sin_t)), be.frac_bits());
      };
      q = rope(q);
      k = rope(k);
    }
    Shared qh = to_heads(be, q, lay.q_heads), kh = to_heads(be, k, lay.kv_heads), vh = to_heads(be, v, lay.kv_heads);  // (h', T, D')
    // The cache grows by rows kept prepared where the setting can (Backend::append_rows: 2pc-dealer
    // opens each cached row once, not at every step).
    cache.k = be.append_rows(cache.len > 0 ? cache.k : Shared{}, kh);  // (h', S, D')
    cache.v = be.append_rows(cache.len > 0 ? cache.v : Shared{}, vh);
    cache.len += T;
    // Grouped-query attention: the query heads of one K/V head are stacked as rows, (kv, r·T, D'),
    // so one batched product per K/V head serves them all (local reshapes; r = 1 leaves them as is).
    auto regroup = [&](const Shared& t, Shape shape) {
      if (per_kv == 1) return t;
      return be.map(t, [shape](const RingTensor& r) { return r.reshaped(shape); });
    };
    const i64 S = cache.len;
    SoftmaxOptions sm;
    sm.causal = true;
    sm.query_offset = pos0;
    // Only the scores the causal softmax reads are truncated (the (kv, r·T, S) product has the
    // (h', T, S) layout), and only their probabilities are opened in the context product; a decode
    // step reads them all. The positions are listed wherever material is real (the dealer deals the
    // context product's mask zero elsewhere); a phantom run passes the count alone.
    const Shape score_shape{lay.q_heads, T, S};
    const fn::KeepList keep = fn::causal_keep(score_shape, sm.causal, sm.query_offset, be.real_run());
    const Shared q_grouped = regroup(qh, {lay.kv_heads, per_kv * T, lay.width});
    const OutputSubset kept{keep.count, keep.pos};  // (query, key) pairs the causal mask keeps
    Shared scores = regroup(keep.all ? be.matmul_cache_trunc(q_grouped, cache.k, true)
                                     : be.matmul_cache_trunc_kept(q_grouped, cache.k, true, kept),
                            score_shape);  // (h', T, S)
    Shared probs = regroup(softmax_by_policy(be, scores, sm), {lay.kv_heads, per_kv * T, S});  // masked ones 0
    Shared ctx = regroup(keep.all ? be.matmul_cache_trunc(probs, cache.v, false) : be.matmul_cache_trunc_sparse(probs, cache.v, false, kept),
                         {lay.q_heads, T, lay.width});  // (h', T, D')
    Shared merged = from_heads(be, ctx);                          // (T, h'·D')
    OpScope lin(be.ledger(), "linear");
    attn_out = linear_forward(be, blk.wo, merged);
  }
  Shared x1 = be.add(x, attn_out);
  Shared mlp_out;
  {
    OpScope op(be.ledger(), "mlp");
    Shared h = block_norm(be, blk, x1, false);
    Shared mid;
    if (arch.gated_mlp) {
      Shared g, u;
      {
        OpScope lin(be.ledger(), "linear");
        if (blk.fused_gate_up) {
          Shared y = linear_forward(be, blk.w_gate_up, h);  // (T, 2 ffn)
          g = cols(be, y, 0, s.ffn_dim);
          u = cols(be, y, s.ffn_dim, s.ffn_dim);
        } else {
          std::vector<Shared> gu = linear_forward_many(be, {&blk.w_gate, &blk.w_up}, h);
          g = gu[0];
          u = gu[1];
        }
      }
      mid = be.mul_trunc(activation(be, g, arch.activation), u);  // SwiGLU
    } else {
      Shared u;
      {
        OpScope lin(be.ledger(), "linear");
        u = linear_forward(be, blk.w_up, h);
      }
      mid = activation(be, u, arch.activation);
    }
    OpScope lin(be.ledger(), "linear");
    mlp_out = linear_forward(be, blk.w_down, mid);
  }
  return be.add(x1, mlp_out);
}

SecureHead setup_head(Backend& be, const FloatHead& f) {
  OpScope op(be.ledger(), "setup");
  if (f.d_model <= 0 || f.vocab <= 0) throw std::invalid_argument("head: d_model and vocab must be positive");
  if (f.lm_head.in != f.d_model || f.lm_head.out != f.vocab)
    throw std::invalid_argument("lm_head: expected (" + std::to_string(f.d_model) + "," + std::to_string(f.vocab) + "), got (" +
                                std::to_string(f.lm_head.in) + "," + std::to_string(f.lm_head.out) + ")");
  SecureHead h;
  h.arch = f.arch;
  h.d_model = f.d_model;
  h.vocab = f.vocab;
  h.norm_eps = f.norm_eps;
  h.final_norm = input_private(be, f.final_norm, {f.d_model}, "final_norm");
  if (arch_traits(f.arch).has_norm_bias) h.final_norm_bias = input_private(be, f.final_norm_bias, {f.d_model}, "final_norm_bias");
  h.lm_head = setup_linear(be, f.lm_head, "lm_head");
  return h;
}

i64 next_token(Backend& be, const SecureHead& head, const Shared& x) {
  if (x.shape().size() != 2 || x.shape()[1] != head.d_model)
    throw std::invalid_argument("head input must be (T, " + std::to_string(head.d_model) + "), got " + shape_str(x.shape()));
  const i64 T = x.shape()[0];
  Shared last = be.map(x, [T](const RingTensor& r) { return slice(r, 0, T - 1, T); });  // (1, d)
  BlockShape s;
  s.arch = head.arch;
  s.norm_eps = head.norm_eps;
  Shared h = norm(be, s, last, head.final_norm, head.final_norm_bias);
  Shared logits;
  {
    OpScope op(be.ledger(), "lm_head");
    logits = linear_forward(be, head.lm_head, h);  // (1, vocab)
  }
  ArgmaxResult am = argmax(be, logits);
  RingTensor id = be.reveal(am.index, Role::client);
  if (id.is_phantom()) return -1;
  return static_cast<i64>(id[0]);
}

}  // namespace marill
