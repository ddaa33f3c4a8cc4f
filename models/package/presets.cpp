#include "models/package/presets.h"

#include <stdexcept>

namespace marill::pkg {

const std::vector<ShapePreset>& shape_presets() {
  // name, arch, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
  // intermediate_size, max_position_embeddings, rope_theta, rms_norm_eps / layer_norm_eps
  static const std::vector<ShapePreset> presets = {
      {"openllama-3b-v2", "llama", 32000, 3200, 26, 32, 32, 8640, 2048, 10000.0, 1e-6, ""},
      {"deepseek-coder-1.3b-base", "llama", 32256, 2048, 24, 16, 16, 5504, 16384, 100000.0, 1e-6,
       "its linear rope_scaling (factor 4) changes the rotary values, not the costs"},
      {"LLaMA-2-7B", "llama", 32000, 4096, 32, 32, 32, 11008, 4096, 10000.0, 1e-5, ""},
      {"Llama-3-8B", "llama", 128256, 4096, 32, 32, 8, 14336, 8192, 500000.0, 1e-5, "grouped-query attention: 8 key/value heads"},
      {"gpt2", "gpt2", 50257, 768, 12, 12, 12, 3072, 1024, 10000.0, 1e-5, "GPT-2 small; learned positions are a public lookup"},
      {"bert-base", "gpt2", 30522, 768, 12, 12, 12, 3072, 512, 10000.0, 1e-12,
       "BERT-base is an encoder (post-norm, bidirectional): costed as its 12 blocks with a causal mask and the same head"},
  };
  return presets;
}

const ShapePreset& shape_preset(const std::string& name) {
  std::string known;
  for (const ShapePreset& p : shape_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw std::invalid_argument("unknown model preset '" + name + "' (" + known + ")");
}

}  // namespace marill::pkg
