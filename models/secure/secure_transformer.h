// The private layers of a MARILL model as one secure program (DESIGN.md layer 4), written once
// against the Backend interface so it runs on every setting, real or phantom:
//   LLaMA-style block: RMSNorm, rotary embeddings, attention with merged heads, SwiGLU MLP;
//   GPT-2/BERT-style block: LayerNorm, attention, GeLU MLP (biases);
//   every linear layer: public base weight (free), secret weight, and/or unmerged LoRA (X A) B;
//   KV cache in shares for decode; final norm + LM head + secure argmax.
// Shapes in comments: T = tokens this step, S = cached + new tokens, d = model width,
// h' = n_heads / m merged heads of width D' = m * head_dim (h'·D' = d unless heads were pruned).
// Grouped-query attention (n_kv_heads < n_heads, G = n_heads / n_kv_heads query heads per K/V head):
// K and V are n_kv_heads heads of head_dim, in the cache too; query head j reads K/V head j / G
// (HF's repeat_kv). With merged heads m must divide G: a merged head's m query heads read the same
// K/V head, so its score q_1·k + ... + q_m·k = (q_1 + ... + q_m)·k and its context is the same for
// all m; the set-up folds that sum into W_q's columns and W_o's rows, so the runtime has h' query
// heads of head_dim, r = h' / n_kv_heads per K/V head.
#pragma once

#include <string>
#include <vector>

#include "protocols/functions/functions.h"
#include "protocols/mpc/backend.h"

namespace marill {

enum class Arch { llama, gpt2 };
const char* arch_name(Arch a);
Arch parse_arch(const std::string& s);  // "llama" | "gpt2"; throws std::invalid_argument

// What an architecture's block is made of (the one place that tells the architectures apart). The
// softmax and the MLP activation's method or approximation are the function policy's
// (Backend::policy(): a package's approximations go there, see secure_block.h).
struct ArchTraits {
  bool rms_norm;          // RMSNorm without bias; else LayerNorm with bias
  bool rotary;            // rotary embeddings on q and k
  bool gated_mlp;         // act(x W_gate) * (x W_up) (SwiGLU); else act(x W_up)
  bool has_norm_bias;     // LayerNorm's beta
  Activation activation;  // the exact MLP activation
};
ArchTraits arch_traits(Arch a);

struct BlockShape {
  Arch arch = Arch::llama;
  i64 d_model = 256;
  i64 n_heads = 8;
  i64 n_kv_heads = 0;          // key/value heads (grouped-query attention); 0: n_heads
  i64 ffn_dim = 1024;
  int merge = 1;               // m: heads merged into groups of m (paper §5.3)
  std::vector<i64> head_perm;  // grouping: merged head j = heads head_perm[j*m .. j*m+m-1]; empty = adjacent
  // One head's width when it is not d_model / n_heads: head pruning keeps n_heads / m heads of the
  // pre-trained width (head_pruned), so the attention is narrower than d_model. 0: d_model / n_heads.
  i64 explicit_head_dim = 0;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;

  i64 head_dim() const { return explicit_head_dim ? explicit_head_dim : d_model / n_heads; }
  i64 attn_width() const { return n_heads * head_dim(); }  // Q's columns and W_o's rows (d_model unpruned)
  i64 merged_heads() const { return n_heads / merge; }
  i64 kv_heads() const { return n_kv_heads ? n_kv_heads : n_heads; }
  bool gqa() const { return kv_heads() != n_heads; }
  // Throws std::invalid_argument naming the problem (heads not divisible by m, bad permutation, ...).
  void validate() const;
};

// Head pruning by factor m (paper §5.3's baseline): n_heads / m heads of the same head_dim, their Q,
// K, V columns and W_o rows only. Throws std::invalid_argument when m does not divide the heads, with
// merged heads, or with grouped-query attention (packages refuse both: pkg::MarillConfig::validate).
BlockShape head_pruned(BlockShape s, int m);

// Float weights as a model package holds them (row-major, y = x W with W of shape (in, out)).
// The structure (which parts exist) must be the same on every party; values of private parts are
// read on the server only, so other parties may leave those vectors empty.
struct FloatLinear {
  i64 in = 0, out = 0;
  bool has_w = true;           // a base weight exists
  bool w_public = false;       // ... and is public (LoRA on a frozen base) rather than private
  std::vector<float> w;        // (in, out)
  bool has_bias = false;
  std::vector<float> bias;     // (out), private
  i64 lora_rank = 0;
  std::vector<float> lora_a;   // (in, r), private
  std::vector<float> lora_b;   // (r, out), private, scaling alpha/r already folded in
};

struct FloatBlock {
  BlockShape shape;
  // Shapes only, every value vector empty (block_weights.h: shape_only_block): a phantom run needs
  // nothing else; setup_block refuses it in a real run.
  bool shape_only = false;
  std::vector<float> attn_norm, attn_norm_bias, mlp_norm, mlp_norm_bias;  // biases: gpt2 only
  // LoRA on a frozen base: the norms' gains and biases are the base model's, public to every party
  // (training leaves them frozen), so the norm multiplies by them locally. Else they are the server's.
  bool norms_public = false;
  FloatLinear wq, wk, wv, wo;
  FloatLinear w_gate, w_up, w_down;  // gpt2: w_up = fc, w_down = proj, no gate
};

// A linear layer ready for secure evaluation. Secret parts are inputs of the server.
struct SecureLinear {
  i64 in = 0, out = 0;
  RingTensor w_public;  // empty shape: none
  PrivateWeight w_secret;  // the server's weight, or empty
  Shared bias;
  PrivateWeight lora_a, lora_b;  // the server's LoRA factors, or empty
  bool has_public = false, has_secret = false, has_bias = false, has_lora = false;
};

struct SecureBlock {
  BlockShape shape;
  Shared attn_norm, attn_norm_bias, mlp_norm, mlp_norm_bias;
  bool norms_public = false;  // then these instead (FloatBlock::norms_public)
  RingTensor attn_norm_public, attn_norm_bias_public, mlp_norm_public, mlp_norm_bias_public;
  SecureLinear wq, wk, wv, wo, w_gate, w_up, w_down;
  // Linears reading the same input fused column-wise at set-up (no LoRA, one kind of base weight):
  // one matmul opens the input once and one truncation serves all (2 rounds instead of 6 / 4).
  bool fused_qkv = false, fused_gate_up = false;
  SecureLinear wqkv, w_gate_up;
  // Norm gains folded into the rows of the secret linears that read the norm, LayerNorm's bias into
  // their biases (no LoRA): the norm then skips its per-element product.
  bool attn_norm_folded = false, mlp_norm_folded = false;
};

// The KV cache of one block, in shares: (h', S, D'); grouped-query attention: (n_kv_heads, S, head_dim).
struct KvCache {
  Shared k, v;
  i64 len = 0;
};

// Set-up: the server inputs the block's private weights once (others pass the same FloatBlock for
// its public parts and shapes; private values are read only on the server). Head grouping is
// applied to the weights here, so the runtime layout has merged heads contiguous.
SecureBlock setup_block(Backend& be, const FloatBlock& weights);

// The structure of a block (biases, LoRA, public parts) without any value: what a phantom run needs.
FloatBlock shapes_of(const FloatBlock& w);

// y = x W_pub + x W_sec + (x A) B + bias. x (T, in) -> (T, out). One truncation for the sum.
Shared linear_forward(Backend& be, const SecureLinear& lin, const Shared& x);

// One block: x (T, d) -> (T, d), appending this step's keys/values to cache (prefill: empty cache).
Shared block_forward(Backend& be, const SecureBlock& blk, const Shared& x, KvCache& cache);

// The model's end: final norm, LM head and secure argmax. Float side as a package holds it.
struct FloatHead {
  Arch arch = Arch::llama;
  i64 d_model = 0, vocab = 0;
  double norm_eps = 1e-5;
  std::vector<float> final_norm, final_norm_bias;  // private; bias: gpt2 only
  FloatLinear lm_head;                             // (d_model, vocab)
};

struct SecureHead {
  Arch arch = Arch::llama;
  i64 d_model = 0, vocab = 0;
  double norm_eps = 1e-5;
  Shared final_norm, final_norm_bias;
  SecureLinear lm_head;
};

SecureHead setup_head(Backend& be, const FloatHead& f);

// x (T, d): the last row's next token, revealed to the client only (the paper's Fig. 6-7: the
// client learns the token, the server nothing). Returns the token id on the client, -1 elsewhere.
i64 next_token(Backend& be, const SecureHead& head, const Shared& x);

// Public rotary tables for positions [pos0, pos0 + T): cos and sin (T, d) in fixed point, each
// head's dh columns using HF LLaMA's rotate_half layout; `scale` multiplies both (folds 1/sqrt(D')).
void rotary_tables(const BlockShape& s, i64 pos0, i64 T, double scale, std::vector<double>& cos_out,
                   std::vector<double>& sin_out);

}  // namespace marill
