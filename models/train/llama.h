// LLaMA-style decoder in LibTorch (RMSNorm, rotary embeddings, SwiGLU) with the MARILL changes:
// unmerged LoRA, merged heads (m heads -> one head of dim m·d, RoPE kept per original head),
// pruned heads, pruned top layers, 2ReLU/2Quad softmax and ReLU/Quad activation approximations.
// Includes torch: only for models/train/*.cpp and tests/models/*.cpp, never for the MPC core.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/package/package.h"

namespace marill::ml {

using pkg::ActApprox;
using pkg::MarillConfig;
using pkg::ModelConfig;
using pkg::SoftmaxApprox;

// y = x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ; A [r,in] Kaiming-uniform, B [out,r] zero at the start (LoRA paper).
struct LoraLinearImpl : torch::nn::Module {
  LoraLinearImpl(int64_t in, int64_t out);
  torch::Tensor weight, A, B;  // A, B undefined without LoRA
  double scale = 0;
  int rank = 0;
  double alpha = 0;
  void enable_lora(int rank, double alpha);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor merged_weight() const;  // W + scale·B·A (no grad)
};
TORCH_MODULE(LoraLinear);

// Per-layer values recorded by a forward pass when asked (for distillation and head analysis).
struct Capture {
  bool want_attn_out = false, want_hidden = false, want_probs = false;
  int from_layer = 0;  // record layers >= from_layer
  std::vector<torch::Tensor> attn_outs, hiddens, probs;  // probs: [B,H,T,T] attention weights
};

struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer [B,kv_heads,T,rope_dim]
};

struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(const ModelConfig& c);
  torch::Tensor attn_norm, mlp_norm;
  LoraLinear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, gate{nullptr}, up{nullptr}, down{nullptr};
  int n_heads;     // heads the softmax runs over (after merging / pruning)
  int kv_heads;    // key/value heads of width rope_dim (grouped-query attention: fewer than the query heads)
  int head_dim;    // per merged head (m·rope_dim)
  int rope_dim;    // the pre-trained head dim: RoPE is applied per block of rope_dim
  double scale;    // 1/sqrt(head_dim)
  double eps;
  SoftmaxApprox softmax = SoftmaxApprox::exact;
  ActApprox act = ActApprox::exact;
  torch::Tensor head_gate;  // optional [n_heads] multiplier on head outputs (importance for pruning)
  LoraLinear& proj(const std::string& target);
  // x [B,T,d]; cos/sin [B,1,T,1,rope_dim]; allowed [B,1,T,Tk] bool
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& allowed, torch::Tensor* k_cache, torch::Tensor* v_cache, Capture* cap,
                        int layer);
};
TORCH_MODULE(Block);

struct LlamaImpl : torch::nn::Module {
  explicit LlamaImpl(const ModelConfig& c);
  ModelConfig cfg;
  torch::Tensor embed, final_norm, lm_head;
  std::vector<Block> layers;
  torch::Tensor rope_cos, rope_sin;  // [max_seq, rope_dim] (halves duplicated)
  // tokens [B,T] (int64). pos [B,T] positions (default 0..T-1 after the cache); key_mask [B,Tk] true =
  // real token (default all). Returns logits [B,T,V].
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& pos = {}, const torch::Tensor& key_mask = {},
                        KVCache* cache = nullptr, Capture* cap = nullptr);
  int64_t num_params() const;
};
TORCH_MODULE(Llama);

// ---------------------------------------------------------------- weights in and out
// HF LLaMA names (model.layers.{i}.self_attn.q_proj.weight, ...). Only for an unmodified architecture.
pkg::TensorMap to_hf(Llama& m);
void from_hf(Llama& m, const pkg::TensorMap& t);  // shapes checked, clear error naming the tensor
torch::Tensor to_torch(const pkg::Tensor& t);
pkg::Tensor from_torch(const torch::Tensor& t);
Llama load_base(const std::string& dir);  // HF directory -> model
void save_base(const std::string& dir, Llama& m);

// ---------------------------------------------------------------- MARILL transforms
// Marks the trainable parameters for a config: bottom frozen layers and (unless full fine-tuning)
// the embedding are frozen; with LoRA only A/B train.
void set_trainable(Llama& m, const MarillConfig& mc, bool full_finetune);
std::vector<torch::Tensor> trainable_params(Llama& m);
void add_lora(Llama& m, const MarillConfig& mc, uint64_t seed);  // on the private layers' targets
// Head merging on one layer: heads reordered by `perm` (group j = perm[j·m..]), m per group.
// Grouped-query attention: K/V stay as they are; m must divide the query heads per K/V head and
// `perm` keep each head in its K/V group (a merged head then attends to its group's K/V).
void merge_heads(Block& b, const std::vector<int>& perm, int m);
void prune_heads(Block& b, const std::vector<int>& kept);
void prune_top_layers(Llama& m, int k);  // drop the top k layers (a new, smaller model)
void set_approx(Llama& m, int from_layer, SoftmaxApprox s, ActApprox a);

// Jensen–Shannon distances between the heads of each layer from their attention maps on `tokens`
// (rows of padded positions ignored). Returns per layer an h×h matrix.
std::vector<std::vector<std::vector<double>>> head_distances(Llama& m, const torch::Tensor& tokens,
                                                              const torch::Tensor& key_mask, int from_layer);

// Package <-> model
pkg::Package make_package(Llama& m, const MarillConfig& mc, const std::string& base_dir, const std::string& note);
// Applies a package to its base model (loaded by the caller), giving the fine-tuned model.
Llama model_from_package(const pkg::Package& p, Llama& base);

// ---------------------------------------------------------------- generation and scoring
// Greedy decoding of a batch of prompts (left-padded, KV cache). Stops at eos or `stop` (if >= 0).
std::vector<std::vector<int>> generate(Llama& m, const std::vector<std::vector<int>>& prompts, int max_new, int stop,
                                       int batch);

}  // namespace marill::ml
