// Shape presets of real models (no weights), from their public Hugging Face config.json values:
// what a phantom run needs to cost a whole model at real scale (`marill generate --preset NAME`).
#pragma once

#include <string>
#include <vector>

namespace marill::pkg {

struct ShapePreset {
  std::string name;    // "openllama-3b-v2"
  std::string arch;    // "llama" (RMSNorm, rotary, SwiGLU) | "gpt2" (LayerNorm, GeLU, biases)
  int vocab = 0, d_model = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, ffn_dim = 0, max_seq = 0;
  double rope_theta = 10000.0, norm_eps = 1e-5;
  std::string note;  // what the shape leaves out (e.g. BERT is an encoder: costed as its blocks with a causal mask)
};

const std::vector<ShapePreset>& shape_presets();
// Throws std::invalid_argument listing the known names.
const ShapePreset& shape_preset(const std::string& name);

}  // namespace marill::pkg
