#include "models/package/plain_llama.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace marill::pkg {

namespace {

using Vec = std::vector<float>;

// x (T, in) · Wᵀ with W [out, in] -> (T, out); double accumulation.
Vec linear(const Vec& x, std::int64_t T, const Tensor& w) {
  const std::int64_t out = w.shape.at(0), in = w.shape.at(1);
  Vec y(static_cast<size_t>(T * out));
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t o = 0; o < out; ++o) {
      double acc = 0;
      const float* xr = &x[static_cast<size_t>(t * in)];
      const float* wr = &w.data[static_cast<size_t>(o * in)];
      for (std::int64_t i = 0; i < in; ++i) acc += static_cast<double>(xr[i]) * wr[i];
      y[static_cast<size_t>(t * out + o)] = static_cast<float>(acc);
    }
  return y;
}

Vec rms_norm(const Vec& x, std::int64_t T, std::int64_t d, const Tensor& g, double eps) {
  Vec y(x.size());
  for (std::int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (std::int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[static_cast<size_t>(t * d + i)]) * x[static_cast<size_t>(t * d + i)];
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
    for (std::int64_t i = 0; i < d; ++i)
      y[static_cast<size_t>(t * d + i)] = static_cast<float>(x[static_cast<size_t>(t * d + i)] * r * g.data[static_cast<size_t>(i)]);
  }
  return y;
}

// HF rotate_half on each head of width dh: x·cos + rotate_half(x)·sin, position pos0 + t.
void rotary(Vec& x, std::int64_t T, std::int64_t width, std::int64_t dh, std::int64_t pos0, double theta) {
  const std::int64_t half = dh / 2;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t h0 = 0; h0 < width; h0 += dh) {
      float* r = &x[static_cast<size_t>(t * width + h0)];
      for (std::int64_t j = 0; j < half; ++j) {
        const double inv_freq = std::pow(theta, -2.0 * static_cast<double>(j) / static_cast<double>(dh));
        const double a = static_cast<double>(pos0 + t) * inv_freq, c = std::cos(a), s = std::sin(a);
        const double x1 = r[j], x2 = r[j + half];
        r[j] = static_cast<float>(x1 * c - x2 * s);
        r[j + half] = static_cast<float>(x2 * c + x1 * s);
      }
    }
}

Vec layer_forward(const PlainLayer& L, const ModelConfig& c, const Vec& x, std::int64_t T, std::vector<float>& kc,
                  std::vector<float>& vc, std::int64_t pos0) {
  // H from W_q's rows: a head-pruned layer keeps fewer heads than the config's (same head_dim)
  const std::int64_t d = c.d_model, dh = c.head_dim, H = L.wq.shape.at(0) / dh;
  const std::int64_t kv_width = L.wk.shape.at(0), kv_heads = kv_width / dh, group = H / kv_heads;
  Vec h = rms_norm(x, T, d, L.attn_norm, c.norm_eps);
  Vec q = linear(h, T, L.wq), k = linear(h, T, L.wk), v = linear(h, T, L.wv);
  rotary(q, T, H * dh, dh, pos0, c.rope_theta);
  rotary(k, T, kv_width, dh, pos0, c.rope_theta);
  kc.insert(kc.end(), k.begin(), k.end());
  vc.insert(vc.end(), v.begin(), v.end());
  const std::int64_t S = pos0 + T;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  Vec ctx(static_cast<size_t>(T * H * dh), 0.0f);
  std::vector<double> p(static_cast<size_t>(S));
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t hd = 0; hd < H; ++hd) {
      const std::int64_t kvh = hd / group, last = pos0 + t;  // causal: keys 0..pos0+t
      double mx = -1e300;
      for (std::int64_t s = 0; s <= last; ++s) {
        double dot = 0;
        for (std::int64_t j = 0; j < dh; ++j)
          dot += static_cast<double>(q[static_cast<size_t>(t * H * dh + hd * dh + j)]) * kc[static_cast<size_t>(s * kv_width + kvh * dh + j)];
        p[static_cast<size_t>(s)] = dot * scale;
        mx = std::max(mx, p[static_cast<size_t>(s)]);
      }
      double sum = 0;
      for (std::int64_t s = 0; s <= last; ++s) sum += (p[static_cast<size_t>(s)] = std::exp(p[static_cast<size_t>(s)] - mx));
      for (std::int64_t j = 0; j < dh; ++j) {
        double acc = 0;
        for (std::int64_t s = 0; s <= last; ++s) acc += p[static_cast<size_t>(s)] * vc[static_cast<size_t>(s * kv_width + kvh * dh + j)];
        ctx[static_cast<size_t>(t * H * dh + hd * dh + j)] = static_cast<float>(acc / sum);
      }
    }
  Vec attn = linear(ctx, T, L.wo);
  Vec x1(x.size());
  for (size_t i = 0; i < x.size(); ++i) x1[i] = x[i] + attn[i];
  Vec h2 = rms_norm(x1, T, d, L.mlp_norm, c.norm_eps);
  Vec g = linear(h2, T, L.w_gate), u = linear(h2, T, L.w_up);
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i]);  // SiLU(g)·u
  Vec down = linear(g, T, L.w_down);
  for (size_t i = 0; i < x1.size(); ++i) x1[i] += down[i];
  return x1;
}

}  // namespace

PlainLlama plain_llama(const HfModel& hf, int n_layers, bool with_head) {
  const ModelConfig& c = hf.config;
  if (n_layers < 0 || n_layers > c.n_layers)
    throw std::invalid_argument("plain model: " + std::to_string(n_layers) + " layers asked, the model has " + std::to_string(c.n_layers));
  auto get = [&](const std::string& name) -> const Tensor& {
    auto it = hf.tensors.find(name);
    if (it == hf.tensors.end()) throw std::invalid_argument("plain model: tensor '" + name + "' is missing");
    return it->second;
  };
  PlainLlama m;
  m.config = c;
  m.embed = get("model.embed_tokens.weight");
  for (int l = 0; l < n_layers; ++l) {
    PlainLayer L;
    L.attn_norm = get(hf_name(l, "attn_norm"));
    L.wq = get(hf_name(l, "q"));
    L.wk = get(hf_name(l, "k"));
    L.wv = get(hf_name(l, "v"));
    L.wo = get(hf_name(l, "o"));
    L.mlp_norm = get(hf_name(l, "mlp_norm"));
    L.w_gate = get(hf_name(l, "gate"));
    L.w_up = get(hf_name(l, "up"));
    L.w_down = get(hf_name(l, "down"));
    m.layers.push_back(std::move(L));
  }
  if (with_head) {
    m.final_norm = get("model.norm.weight");
    m.lm_head = get("lm_head.weight");
  }
  return m;
}

std::vector<float> plain_forward(const PlainLlama& m, const std::vector<int>& ids, PlainKvCache& cache) {
  const ModelConfig& c = m.config;
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), d = c.d_model;
  if (T == 0) throw std::invalid_argument("plain model: no tokens");
  if (cache.len + T > c.max_seq)
    throw std::invalid_argument("plain model: context of " + std::to_string(cache.len + T) + " tokens exceeds the model's " +
                                std::to_string(c.max_seq));
  Vec x(static_cast<size_t>(T * d));
  for (std::int64_t t = 0; t < T; ++t) {
    const int id = ids[static_cast<size_t>(t)];
    if (id < 0 || id >= c.vocab)
      throw std::invalid_argument("plain model: token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(c.vocab) + ")");
    std::copy_n(&m.embed.data[static_cast<size_t>(id) * static_cast<size_t>(d)], d, &x[static_cast<size_t>(t * d)]);
  }
  cache.k.resize(m.layers.size());
  cache.v.resize(m.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l) x = layer_forward(m.layers[l], c, x, T, cache.k[l], cache.v[l], cache.len);
  cache.len += T;
  return x;
}

std::vector<float> plain_logits(const PlainLlama& m, const std::vector<float>& h) {
  const std::int64_t d = m.config.d_model;
  if (m.lm_head.shape.empty()) throw std::invalid_argument("plain model: built without its head");
  if (h.empty() || static_cast<std::int64_t>(h.size()) % d) throw std::invalid_argument("plain model: hidden states are not (T, d)");
  Vec last(h.end() - d, h.end());
  return linear(rms_norm(last, 1, d, m.final_norm, m.config.norm_eps), 1, m.lm_head);
}

std::vector<int> plain_greedy(const PlainLlama& m, const std::vector<int>& prompt, int new_tokens) {
  PlainKvCache cache;
  std::vector<int> out, step = prompt;
  for (int i = 0; i < new_tokens; ++i) {
    const Vec logits = plain_logits(m, plain_forward(m, step, cache));
    int best = 0;
    for (size_t j = 1; j < logits.size(); ++j)
      if (logits[j] > logits[static_cast<size_t>(best)]) best = static_cast<int>(j);
    out.push_back(best);
    step = {best};
  }
  return out;
}

}  // namespace marill::pkg
