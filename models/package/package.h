// The secure-inference package and the tensor files it is made of. Torch-free on purpose: the
// secure transformer (MPC core) reads these structs without LibTorch.
//
// File formats
// - *.safetensors: 8-byte little-endian header length N, an N-byte JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}
//   then the raw little-endian data (offsets relative to the end of the header). This is the
//   Hugging Face format, so one reader serves our checkpoints, packages and HF LLaMA weights.
//   Read: F32, F16, BF16, F64 (converted to float). Written: F32.
// - A model directory (base model, checkpoint): HF layout, config.json + model.safetensors
//   (or model.safetensors.index.json + shards when reading), LLaMA tensor names
//   (model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight, ..., lm_head.weight).
// - A secure-inference package directory: marill.json (model + MARILL config, the public part:
//   base model path and its SHA-256, frozen layer count) + private.safetensors.
//
// Weight conventions (identical to HF LLaMA / torch.nn.Linear): a linear weight W has shape
// [out, in] and y = x · Wᵀ. RoPE is HF's rotate_half form, applied to each block of
// `rope_dim` (= the pre-trained head_dim) consecutive dims of q and k independently, so a merged
// head of dim m·head_dim is m rotary blocks. LoRA on a target with weight W: A [r, in], B [out, r],
// y = x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ, kept unmerged (the server multiplies x·A then ·B in MPC while
// x·W uses W as in the base model).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocols/mpc/function_policy.h"

namespace marill::pkg {

// ---------------------------------------------------------------- tensors and safetensors files
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // row-major
  std::int64_t numel() const;
  std::string shape_str() const;  // e.g. "64x128"
  static Tensor zeros(std::vector<std::int64_t> shape);
};
using TensorMap = std::map<std::string, Tensor>;  // sorted by name: files are written deterministically

// Writes F32 tensors (and optional string metadata) in safetensors format. Throws on I/O errors.
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Lazily readable safetensors file: the header is parsed and validated on open (size, JSON,
// dtypes, shapes, offsets in range and consistent with dtype × shape, no overlaps); tensors are
// read on demand. Every error names the file (and the tensor where there is one).
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  struct Entry {
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
  };
  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  Tensor read(const std::string& name) const;  // converted to float
  // read + check the shape ("<file>: tensor 'x' has shape 4x8, expected 8x8")
  Tensor read(const std::string& name, const std::vector<std::int64_t>& expected_shape) const;
  TensorMap read_all() const;

 private:
  std::string path_;
  std::uint64_t data_start_ = 0, file_size_ = 0;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// SHA-256 of a file's bytes, lowercase hex.
std::string sha256_file(const std::string& path);
// SHA-256 of n bytes in memory, lowercase hex.
std::string sha256_hex(const void* data, std::size_t n);
// A base model directory's SHA-256: of model.safetensors when there is one (so packages written
// before keep their hash), else of a manifest listing the SHA-256 of the index and of each shard.
std::string base_model_sha256(const std::string& dir);

// ---------------------------------------------------------------- configurations
struct ModelConfig {
  std::string arch = "llama";
  int vocab = 0;
  int d_model = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;  // key/value heads (grouped-query attention); 0: n_heads
  int head_dim = 0;  // d_model / n_heads
  int ffn_dim = 0;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  int max_seq = 512;
  bool tie_embeddings = false;
  // BOS/EOS/PAD ids of the tokenizer the model was trained with (-1: none)
  int bos_id = 1, eos_id = 2, pad_id = 0;
  int kv_heads() const { return n_kv_heads ? n_kv_heads : n_heads; }
  bool gqa() const { return kv_heads() != n_heads; }
  void validate() const;  // throws std::invalid_argument naming the bad field
};

// The MARILL approximations and their names: the one registry (protocols/mpc/function_policy.h).
using marill::ActApprox;
using marill::SoftmaxApprox;
using marill::parse_act_approx;
using marill::parse_softmax_approx;
using marill::to_string;

struct MarillConfig {
  // Layer freezing: the top `private_layers` = round(freeze · n_layers) layers are trainable and
  // private; the bottom `frozen_layers` stay identical to the public base model.
  double freeze = 1.0;  // f in (0, 1]
  int frozen_layers = 0;
  int private_layers = 0;
  bool embed_trained = false;  // only full fine-tuning (f = 1, no LoRA) trains the embedding
  // LoRA kept unmerged
  int lora_rank = 0;  // 0: no LoRA
  double lora_alpha = 16.0;
  std::vector<std::string> lora_targets;  // subset of q,k,v,o,gate,up,down
  // Head merging: m heads -> 1 head of dim m·head_dim. head_perm[l] (per private layer, in order
  // of private layers) lists the original heads so that group j = perm[j·m .. j·m+m-1].
  // Grouped-query attention: m must divide the query heads per key/value head, and a permutation
  // must keep every head inside its key/value group (the m heads of a merged head then share their
  // group's K/V, which stays at the KV width).
  int merge = 1;
  std::string grouping = "adjacent";  // adjacent | similar
  std::vector<std::vector<int>> head_perm;
  // Head pruning by factor m: kept_heads[l] are the original heads kept in private layer l.
  int prune_heads = 1;
  std::vector<std::vector<int>> kept_heads;
  // Top-layer pruning: the top `prune_layers` layers are removed.
  int prune_layers = 0;
  SoftmaxApprox softmax = SoftmaxApprox::exact;
  ActApprox act = ActApprox::exact;
  // Derived attention shape of the private layers.
  int attn_heads(const ModelConfig& m) const;     // heads the MPC softmax runs over
  int attn_head_dim(const ModelConfig& m) const;  // merge · head_dim
  double attn_scale(const ModelConfig& m) const;  // 1/sqrt(attn_head_dim)
  void validate(const ModelConfig& m) const;
};

// frozen/private layer counts for a freeze fraction: throws when f is outside (0, 1]
void set_freeze(MarillConfig& mc, const ModelConfig& m, double f, int prune_layers = 0);

// ---------------------------------------------------------------- the package
struct LoraPair {
  Tensor A;  // [r, in]
  Tensor B;  // [out, r]
};

struct LayerWeights {
  int index = 0;  // absolute layer index in the base model
  Tensor attn_norm;          // [d]
  Tensor wq, wk, wv;         // [attn_heads·attn_head_dim, d], heads permuted into groups
                             // (grouped-query attention: wk, wv [kv_heads·head_dim, d], never permuted)
  Tensor wo;                 // [d, attn_heads·attn_head_dim]
  Tensor mlp_norm;           // [d]
  Tensor w_gate, w_up;       // [ffn, d]
  Tensor w_down;             // [d, ffn]
  std::map<std::string, LoraPair> lora;  // target ("q","k","v","o","gate","up","down") -> A, B
  Tensor& weight(const std::string& target);  // "q" -> wq, ...
  const Tensor& weight(const std::string& target) const;
};

struct Package {
  ModelConfig model;
  MarillConfig marill;
  // public part
  std::string base_path;    // the base model directory (HF layout); a relative path in marill.json is
                            // relative to the package directory, load_package resolves it
  std::string base_sha256;  // base_model_sha256(base_path): model.safetensors, or the index and its shards
  int frozen_layers = 0;
  // private part
  std::vector<LayerWeights> layers;  // the private layers, bottom-up
  Tensor final_norm;                 // [d]
  Tensor lm_head;                    // [vocab, d]
  bool has_embed = false;            // embedding was fine-tuned: it is private too
  Tensor embed;                      // [vocab, d] when has_embed
  std::string note;                  // free text (which run produced it)
};

void save_package(const std::string& dir, const Package& p);
// Loads and validates (shapes against the configs, every tensor present). When check_base is set,
// the base model's SHA-256 is recomputed and compared.
Package load_package(const std::string& dir, bool check_base = false);

// W + (alpha/r)·B·A for one LoRA target (the merged weight), for tests and the cleartext reference.
Tensor merged_lora_weight(const Tensor& w, const LoraPair& lp, double alpha, int rank);

// ---------------------------------------------------------------- Hugging Face LLaMA
// config.json of a HF LLaMA model -> ModelConfig (model_type llama, or mistral whose sliding window
// is never reached (>= max_position_embeddings, or null); silu; grouped-query attention through
// num_key_value_heads). rope_scaling other than null is refused, naming the field.
ModelConfig read_hf_config(const std::string& config_json_path);
void write_hf_config(const std::string& config_json_path, const ModelConfig& cfg);
// HF tensor names
std::string hf_name(int layer, const std::string& what);  // what: q,k,v,o,gate,up,down,attn_norm,mlp_norm
// Reads a HF LLaMA directory (config.json + model.safetensors or an index + shards), checks
// that every tensor is present with its shape, returns the config and the tensors (float).
struct HfModel {
  ModelConfig config;
  TensorMap tensors;  // HF names; lm_head.weight filled from embed_tokens when tied
};
HfModel read_hf_llama(const std::string& dir);
// Writes config.json + model.safetensors.
void write_hf_llama(const std::string& dir, const ModelConfig& cfg, const TensorMap& tensors);
// Expected HF tensor shapes for a config (name -> shape).
std::map<std::string, std::vector<std::int64_t>> hf_expected_shapes(const ModelConfig& cfg);

}  // namespace marill::pkg
