// Torch-free entry points of the ML half, called by the `marill` CLI (app/cmd_models.cpp).
//   pretrain   : the public base model (HF LLaMA directory + tokenizer.vocab)
//   finetune   : one MARILL technique on one private task -> a secure-inference package
//   evaluate   : task metric (chrF / exact match) and perplexity of a base model or a package
//   reproduce  : the whole table (pre-train, every technique on every task, evaluation)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocols/mpc/function_policy.h"

namespace marill::ml {

struct PretrainOptions {
  std::string data_dir = "data";
  std::string out_dir;
  int d_model = 128, n_layers = 4, n_heads = 8, ffn_dim = 0;  // ffn 0: 8/3·d rounded up to 16
  int seq = 256, batch = 16, steps = 3000, warmup = 100;
  double lr = 1.5e-3;
  std::uint64_t seed = 1;
  int log_every = 50;
  std::int64_t max_tokens = 0;  // use only the first N corpus tokens (0: all)
  bool quiet = false;
};
void pretrain(const PretrainOptions& o);

// One MARILL configuration (a row of the table).
struct Technique {
  std::string name;
  double freeze = 1.0;  // fraction of top layers that are trainable / private
  int lora_rank = 0;
  double lora_alpha = 16.0;
  std::vector<std::string> lora_targets;
  int merge = 1;
  std::string grouping = "adjacent";
  int prune_heads = 1;
  double prune_layers = 0;  // fraction of top layers removed
  SoftmaxApprox softmax = SoftmaxApprox::exact;  // the approximation registry's values
  ActApprox act = ActApprox::exact;
  // how it is trained (paper App. E): from the base with logit KD, or from the teacher with
  // two-stage KD (head merging/pruning, approximations); `init` names the technique whose
  // fine-tuned model is the starting point and teacher ("" = base / full fine-tuning)
  bool two_stage = false;
  std::string init;
};
// Known names: full, full-cont, lf, lora, lf+lora, hm2-adj, hm2-sim, hp2, hm4-adj, hm4-sim, hp4, lp, lf+hm2,
// 2relu, 2relu+lf+hm2, 2quad, relu-act, quad-act. Throws listing them on an unknown name.
Technique technique(const std::string& name);
std::vector<std::string> technique_names();

struct FinetuneOptions {
  std::string base_dir;     // the pre-trained public model (HF directory)
  std::string data_dir = "data";
  std::string task;         // translate | code
  std::string out_dir;      // the package directory written
  std::string teacher_dir;  // package of the teacher (needed unless technique = full)
  Technique tech;
  int steps = 600, stage1_steps = 200, batch = 16, max_len = 256, warmup = 30;
  double lr = 0;  // 0: the technique's default
  std::uint64_t seed = 1;
  int log_every = 50;
  int max_train = 0;  // 0: all training examples
  bool quiet = false;
};
void finetune(const FinetuneOptions& o);

struct EvalOptions {
  std::string model_dir;  // a base model directory or a package directory
  std::string data_dir = "data";
  std::string task;
  int n_test = 400, batch = 50;
  std::string dump;  // write hypotheses / references here (JSONL) when set
  bool quiet = false;
};
struct EvalResult {
  std::string task, metric;  // metric: "chrF" or "exact match"
  double score = 0;          // the task metric (chrF for translate, exact match for code)
  double chrf = 0, exact = 0, ppl = 0;
  int n = 0;
  double seconds = 0;
};
EvalResult evaluate(const EvalOptions& o);

struct ReproduceOptions {
  std::string scale = "full";  // full | small | tiny
  std::string data_dir = "data";
  std::string work_dir = "build/ml";
  std::string results_dir = "results/ml";
  std::vector<std::string> tasks = {"translate", "code"};
  std::vector<std::string> techniques;  // empty: all of the scale
  bool force = false;                   // redo finished runs
  bool table_only = false;              // only rewrite results.csv + table.md from finished runs
  bool quiet = false;
};
// Runs (or resumes) the pipeline and writes results.csv + table.md into results_dir.
void reproduce(const ReproduceOptions& o);

// The optimizer steps one run of the reproduction trains: `stage1` (stage I, two-stage students
// only) + `steps` (stage II, or the one stage). The rule (models/train/pipeline.cpp, run_budget):
// every run of a task, the teacher included, trains the same total.
struct RunBudget {
  int steps = 0, stage1 = 0;
  int total() const { return steps + stage1; }
};
// What the pipeline plans for each technique of a task at a scale (full | small | tiny), in the
// scale's technique order. Throws on an unknown scale or task.
std::vector<std::pair<std::string, RunBudget>> planned_budgets(const std::string& scale, const std::string& task);

// torch threads (default 2; MARILL_THREADS overrides)
void set_threads();

}  // namespace marill::ml
