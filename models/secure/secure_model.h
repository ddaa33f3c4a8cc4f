// The whole model as one secure program (DESIGN.md, "The secure generation flow"; the paper's
// Fig. 1, 6, 7): the client tokenizes, runs the embedding and the frozen (public) layers in
// plaintext with its own KV cache, and inputs the hidden state as shares; the private layers run in
// MPC (shared KV caches), then the final norm, the LM head and a secure argmax; the token is
// revealed to the client only, and the decode loop goes on from it. Where the embedding is private
// (full fine-tuning), the lookup is the client's one-hot tokens times the server's embedding in MPC.
//
// Each party runs the same program on what it holds (PartyModel): the server the private weights,
// the client the public layers and the prompt, every party the public plan (shapes, lengths).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/package/package.h"
#include "models/package/plain_llama.h"
#include "models/package/presets.h"
#include "models/secure/secure_transformer.h"

namespace marill {

// What every party knows: the model's structure and the run's lengths.
struct ModelPlan {
  BlockShape block;  // the private layers' shape (merge applied; a package's heads are already grouped)
  i64 vocab = 0;
  int n_layers = 0, frozen_layers = 0;  // the bottom frozen_layers are public, the rest private
  bool private_embed = false;           // the embedding was trained: its lookup runs in MPC
  i64 max_seq = 0;
  i64 prompt_len = 0;  // the prompt's length is public (it sets the shapes)
  int new_tokens = 0;  // tokens generated (prefill gives the first, each decode step one more)
  int private_layers() const { return n_layers - frozen_layers; }
  // Throws std::invalid_argument: empty prompt, context longer than max_seq, a private embedding
  // under public layers, bad shapes.
  void validate() const;
};

// What one party holds for the run.
struct PartyModel {
  ModelPlan plan;
  std::vector<FloatBlock> blocks;  // private layers: values on the server; elsewhere the structure
                                   // (and, with LoRA, the public base weights); shapes only when phantom
  FloatHead head;                  // values on the server only
  std::vector<float> embed;        // private embedding (vocab, d) row-major: the server only
  std::shared_ptr<const pkg::PlainLlama> public_layers;  // the client: embedding + frozen layers
  std::vector<int> prompt;                               // the client only
  // The client: called after each step with (steps done, steps in all); for progress lines.
  std::function<void(int, int)> on_step;
  bool holds_private_values() const;  // any private weight value (blocks, head, embedding)
};

// The ledger scope of generation step `step`: "prefill" (0), then "decode 001", "decode 002", ...
std::string step_scope(int step);

// The program: set-up ("setup"), then plan.new_tokens steps. On the client (cleartext: the one
// party) `tokens` receives the generated ids; elsewhere it is left empty (phantom: empty too).
void secure_generate(Backend& be, const PartyModel& m, std::vector<int>* tokens);

// ---- teacher-forced scoring (the agreement benchmark: marill-train agreement)
//
// Each sequence is a reference text the client holds (prompt + reference continuation); one prefill
// runs over all of it, and the final norm, the LM head and a secure argmax run on its last `rows`
// rows only. Row i of a sequence of length T is the model's next-token choice after the reference
// prefix of T - rows + i + 1 tokens, so one early difference cannot cascade into later positions.
// The choices are revealed to the client only. Lengths and row counts are public (as the prompt
// length is in generation); the set-up (the private weights) runs once for all sequences.
struct ScoringPlan {
  std::vector<i64> lengths;  // tokens of each sequence
  std::vector<i64> rows;     // scored rows of each sequence, in [1, length]
  // TEST ONLY: also reveal each scored row's logits to the client. It shows the client far more
  // than the token (the whole output distribution), so generation never does it; the benchmark and
  // tests use it to bound the secure logits against the float model's.
  bool reveal_logits = false;
  void validate(const ModelPlan& plan) const;  // std::invalid_argument naming the sequence
};
struct ScoredSequence {
  std::vector<int> ids;       // rows: the secure argmax of each scored row
  std::vector<float> logits;  // rows x vocab row-major when reveal_logits, else empty
};

// The program: "setup", then every sequence under the scope "score". On the client (cleartext: the
// one party) `sequences` are its token ids and `out` receives one ScoredSequence each; elsewhere
// both are ignored / left empty (phantom: empty too). m.prompt is not used.
void secure_score(Backend& be, const PartyModel& m, const ScoringPlan& sp, const std::vector<std::vector<int>>& sequences,
                  std::vector<ScoredSequence>* out);

// ---- building the parties' models

// The public plan of a package's model (lengths left to the caller). The private layers' shape is
// block_from_package's (the one definition), read off the lowest private layer.
ModelPlan package_plan(const pkg::Package& p);
// A Hugging Face LLaMA model with its top `freeze` fraction of layers private (the paper's layer
// freezing; the private layers are the base's own weights): a package in memory.
pkg::Package package_from_hf(const pkg::HfModel& hf, double freeze);
// The plan of a shape preset (real scale, no weights) with its top `freeze` fraction private.
ModelPlan preset_plan(const pkg::ShapePreset& preset, double freeze);

// ---- model shapes without weights under MARILL's knobs (presets, a config.json alone; phantom runs)
//
// A preset's public config.json values as a ModelConfig (arch "llama" or "gpt2").
pkg::ModelConfig preset_config(const pkg::ShapePreset& preset);
// The knobs (freeze, lora_rank + lora_targets, merge + grouping, prune_heads, prune_layers, softmax,
// act) on a shape: the layer counts derived (set_freeze) and everything checked by
// MarillConfig::validate (h not divisible by m; grouped-query attention: m must divide the query
// heads per key/value head; f outside (0, 1]; a negative LoRA rank ...). Throws std::invalid_argument.
// LoRA rank > 0 without targets: all seven linears. Head pruning keeps the first h/m heads (the
// costs do not depend on which).
pkg::MarillConfig shape_marill(const pkg::ModelConfig& shape, pkg::MarillConfig knobs);
// The plan of a shape with shape_marill's config: merged heads in the private layers, the pruned top
// layers gone. Head pruning (prune_heads > 1) is refused until the secure block runs pruned heads.
ModelPlan shape_plan(const pkg::ModelConfig& shape, const pkg::MarillConfig& mc);
// The private layers' structure on a shape plan, the same for every party (shapes only): with LoRA,
// each target a public base weight plus a rank-r adapter, the other linears public base weights.
std::vector<FloatBlock> shape_blocks(const ModelPlan& plan, const pkg::MarillConfig& mc);
// One line: "13 of 26 layers private, m = 4 similar, LoRA r = 8 on q+k+v+o, softmax 2relu"
std::string describe_marill(const pkg::MarillConfig& mc, int n_layers);

// The server's private part: the package's private layers, head and (trained) embedding.
// Phantom: the structure only.
void add_server_part(PartyModel& m, const pkg::Package& package, bool phantom);
// The structure every other party uses for the private part; `base` (the public base model) gives
// the public base weights of LoRA layers (head_perm applied as in the package). Phantom: no values.
void add_public_structure(PartyModel& m, const pkg::MarillConfig& mc, const pkg::HfModel* base, bool phantom);
// The client's public part: the embedding and frozen layers of the base, and the prompt.
void add_client_part(PartyModel& m, const pkg::HfModel& base, const std::vector<int>& prompt);

}  // namespace marill
