// A torch-free float forward of the public LLaMA layers, for the client of a secure generation:
// the embedding lookup and the frozen (public) layers run in plaintext at the client, with their
// KV cache (DESIGN.md, "The secure generation flow"). `marill` does not link LibTorch, so this is
// its own small implementation of HF LLaMA: RMSNorm, rotary embeddings in rotate_half form,
// causal attention over a KV cache (grouped-query when K/V are narrower than Q), SwiGLU.
// Weights in HF orientation ([out, in], y = x·Wᵀ). Tested against LibTorch's model (tests/models).
#pragma once

#include <cstdint>
#include <vector>

#include "models/package/package.h"

namespace marill::pkg {

struct PlainLayer {
  Tensor attn_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down;
};

// The public part a client runs: embedding and the bottom layers; optionally the final norm and
// LM head (a whole-model float reference).
struct PlainLlama {
  ModelConfig config;
  Tensor embed;                    // [vocab, d]
  std::vector<PlainLayer> layers;  // bottom-up, the first layers.size() layers of the model
  Tensor final_norm, lm_head;      // empty unless with_head
};

// The embedding and layers [0, n_layers) of a HF LLaMA model (with_head: also the final norm and
// LM head). Throws std::invalid_argument when n_layers is outside [0, config.n_layers].
PlainLlama plain_llama(const HfModel& hf, int n_layers, bool with_head);

// Per layer, the keys and values of every position so far, (len, kv_width) row-major.
struct PlainKvCache {
  std::vector<std::vector<float>> k, v;
  std::int64_t len = 0;
};

// (T, d) hidden states of `ids` after the embedding and the model's layers, continuing `cache`
// (positions cache.len, cache.len + 1, ...). Throws on an id outside the vocabulary or a context
// longer than config.max_seq.
std::vector<float> plain_forward(const PlainLlama& m, const std::vector<int>& ids, PlainKvCache& cache);

// The last row of hidden states `h` (T, d) -> logits (vocab) through the final norm and LM head.
std::vector<float> plain_logits(const PlainLlama& m, const std::vector<float>& h);

// Greedy decoding with the float model (needs with_head): `new_tokens` ids after the prompt.
std::vector<int> plain_greedy(const PlainLlama& m, const std::vector<int>& prompt, int new_tokens);

}  // namespace marill::pkg
