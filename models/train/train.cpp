// Pre-training, MARILL fine-tuning with distillation, evaluation and the reproduction pipeline.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "models/train/agreement.h"
#include "models/train/api.h"
#include "models/train/data.h"
#include "models/train/grouping.h"
#include "models/train/llama.h"
#include "models/package/tokenizer.h"

namespace marill::ml {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& m) { throw std::runtime_error(m); }

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string hms(double s) {
  const long t = static_cast<long>(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm%02lds", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  return b;
}

// progress line with rate and ETA
void progress(bool quiet, const std::string& what, int step, int total, double loss, double tokens, Clock::time_point t0) {
  if (quiet) return;
  const double s = since(t0);
  std::fprintf(stderr, "%s: step %d/%d loss %.4f | %.0f tok/s | %s elapsed, ETA %s\n", what.c_str(), step, total, loss,
               tokens / std::max(s, 1e-9), hms(s).c_str(), hms(s / std::max(step, 1) * (total - step)).c_str());
  std::fflush(stderr);
}

double lr_at(int step, int total, int warmup, double peak) {  // linear warm-up, cosine decay to 10%
  if (step < warmup) return peak * (step + 1) / warmup;
  const double p = static_cast<double>(step - warmup) / std::max(1, total - warmup);
  return peak * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, p))));
}

void set_lr(torch::optim::AdamW& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

Tokenizer load_tokenizer_from(const std::string& dir) {
  if (fs::exists(dir + "/tokenizer.vocab")) return Tokenizer::load(dir + "/tokenizer.vocab");
  if (fs::exists(dir + "/spm.vocab")) return Tokenizer::load(dir + "/spm.vocab");
  if (fs::exists(dir + "/BYTES_TOKENIZER")) return Tokenizer::bytes_only();
  fail(dir + ": no tokenizer (tokenizer.vocab / spm.vocab; build the data with scripts/data/build.sh)");
}

void copy_tokenizer(const std::string& data_dir, const std::string& out_dir) {
  if (fs::exists(data_dir + "/spm.vocab")) fs::copy_file(data_dir + "/spm.vocab", out_dir + "/tokenizer.vocab", fs::copy_options::overwrite_existing);
  else if (fs::exists(data_dir + "/BYTES_TOKENIZER")) std::ofstream(out_dir + "/BYTES_TOKENIZER") << "byte-level tokenizer\n";
  else fail(data_dir + ": no tokenizer (spm.vocab)");
}

// ---------------------------------------------------------------- task data
struct Seq {
  std::vector<int> ids;
  int loss_from = 1;  // loss on predicting ids[j] for j >= loss_from
};

struct TestItem {
  std::vector<int> prompt;
  std::vector<int> ref_ids;  // reference continuation tokens (for perplexity)
  std::string ref;           // reference text
};

void check_task(const std::string& t) {
  if (t != "translate" && t != "code") fail("unknown task '" + t + "' (translate, code)");
}

std::vector<Seq> train_seqs(const Tokenizer& tok, const std::string& data_dir, const std::string& task, int max_len, int max_train) {
  check_task(task);
  auto ex = data::read_jsonl(data_dir + "/" + task + ".train.jsonl");
  if (max_train > 0 && static_cast<int>(ex.size()) > max_train) ex.resize(static_cast<size_t>(max_train));
  std::vector<Seq> out;
  for (const auto& e : ex) {
    Seq s;
    if (task == "translate") {
      s.ids = {tok.bos, tok.de};
      for (int t : tok.encode(e.prompt)) s.ids.push_back(t);
      s.ids.push_back(tok.en);
      s.loss_from = static_cast<int>(s.ids.size());
      for (int t : tok.encode(e.target)) s.ids.push_back(t);
      s.ids.push_back(tok.eos);
    } else {
      s.ids = {tok.bos, tok.py};
      s.loss_from = 2;
      for (int t : tok.encode(e.target)) s.ids.push_back(t);
      s.ids.push_back(tok.eos);
    }
    if (static_cast<int>(s.ids.size()) > max_len) s.ids.resize(static_cast<size_t>(max_len));
    if (s.loss_from < static_cast<int>(s.ids.size())) out.push_back(std::move(s));
  }
  if (out.empty()) fail(data_dir + "/" + task + ".train.jsonl: no usable training examples");
  return out;
}

// prompts longer than max_prompt keep their first two tokens (<s>, task tag) and their end
std::vector<TestItem> test_items(const Tokenizer& tok, const std::string& data_dir, const std::string& task, int n, int max_prompt) {
  check_task(task);
  auto ex = data::read_jsonl(data_dir + "/" + task + ".test.jsonl");
  if (n > 0 && static_cast<int>(ex.size()) > n) ex.resize(static_cast<size_t>(n));
  std::vector<TestItem> out;
  for (const auto& e : ex) {
    TestItem t;
    t.ref = e.target;
    if (task == "translate") {
      t.prompt = {tok.bos, tok.de};
      for (int x : tok.encode(e.prompt)) t.prompt.push_back(x);
      t.prompt.push_back(tok.en);
      t.ref_ids = tok.encode(e.target);
      t.ref_ids.push_back(tok.eos);
    } else {
      t.prompt = {tok.bos, tok.py};
      for (int x : tok.encode(e.prompt)) t.prompt.push_back(x);
      t.ref_ids = tok.encode(e.target, false);
      t.ref_ids.push_back(tok.nl);
    }
    if (max_prompt > 2 && static_cast<int>(t.prompt.size()) > max_prompt)
      t.prompt.erase(t.prompt.begin() + 2, t.prompt.end() - (max_prompt - 2));
    out.push_back(std::move(t));
  }
  if (out.empty()) fail(data_dir + "/" + task + ".test.jsonl: no test examples");
  return out;
}

struct Batch {
  torch::Tensor input, target, loss_mask, key_mask;  // [B,T]
};

Batch make_batch(const std::vector<const Seq*>& seqs, int pad) {
  size_t T = 0;
  for (auto* s : seqs) T = std::max(T, s->ids.size() - 1);
  const int64_t Bn = static_cast<int64_t>(seqs.size());
  Batch b;
  b.input = torch::full({Bn, static_cast<int64_t>(T)}, pad, torch::kLong);
  b.target = torch::full({Bn, static_cast<int64_t>(T)}, pad, torch::kLong);
  b.loss_mask = torch::zeros({Bn, static_cast<int64_t>(T)});
  b.key_mask = torch::zeros({Bn, static_cast<int64_t>(T)}, torch::kBool);
  auto ia = b.input.accessor<int64_t, 2>();
  auto ta = b.target.accessor<int64_t, 2>();
  auto la = b.loss_mask.accessor<float, 2>();
  auto ka = b.key_mask.accessor<bool, 2>();
  for (int64_t i = 0; i < Bn; ++i) {
    const auto& s = *seqs[static_cast<size_t>(i)];
    for (size_t j = 0; j + 1 < s.ids.size(); ++j) {
      ia[i][static_cast<int64_t>(j)] = s.ids[j];
      ta[i][static_cast<int64_t>(j)] = s.ids[j + 1];
      ka[i][static_cast<int64_t>(j)] = true;
      la[i][static_cast<int64_t>(j)] = static_cast<int>(j + 1) >= s.loss_from ? 1.f : 0.f;
    }
  }
  return b;
}

torch::Tensor masked_nll(const torch::Tensor& logits, const Batch& b) {
  auto lp = torch::log_softmax(logits, -1);
  auto nll = -lp.gather(-1, b.target.unsqueeze(-1)).squeeze(-1);
  return (nll * b.loss_mask).sum() / b.loss_mask.sum().clamp_min(1);
}

// forward KL(teacher || student) per target token (Hinton; "forward KL" in Agarwal et al.)
torch::Tensor masked_kl(const torch::Tensor& s_logits, const torch::Tensor& t_logits, const Batch& b) {
  auto ls = torch::log_softmax(s_logits, -1);
  auto lt = torch::log_softmax(t_logits, -1);
  auto kl = (lt.exp() * (lt - ls)).sum(-1);
  return (kl * b.loss_mask).sum() / b.loss_mask.sum().clamp_min(1);
}

torch::Tensor masked_mse(const torch::Tensor& a, const torch::Tensor& t, const torch::Tensor& key_mask) {
  auto m = key_mask.to(torch::kFloat32).unsqueeze(-1);
  return ((a - t).pow(2) * m).sum() / (m.sum().clamp_min(1) * a.size(-1));
}

class Sampler {
 public:
  Sampler(size_t n, std::uint64_t seed) : rng_(seed), order_(n) { std::iota(order_.begin(), order_.end(), 0), reshuffle(); }
  std::vector<size_t> next(size_t k) {
    std::vector<size_t> out;
    while (out.size() < k) {
      if (pos_ == order_.size()) reshuffle();
      out.push_back(order_[pos_++]);
    }
    return out;
  }
  double epochs() const { return static_cast<double>(served_) / static_cast<double>(order_.size()); }
  void count(size_t k) { served_ += k; }

 private:
  void reshuffle() {
    std::shuffle(order_.begin(), order_.end(), rng_);
    pos_ = 0;
  }
  std::mt19937_64 rng_;  // training data order only (not a security use)
  std::vector<size_t> order_;
  size_t pos_ = 0, served_ = 0;
};

// ---------------------------------------------------------------- model loading
struct Loaded {
  Llama model{nullptr};
  pkg::Package package;  // when loaded from a package
  bool is_package = false;
  std::string base_dir;
};

Loaded load_any(const std::string& dir) {
  Loaded L;
  if (fs::exists(dir + "/marill.json")) {
    L.package = pkg::load_package(dir, true);
    L.is_package = true;
    L.base_dir = L.package.base_path;
    Llama base = load_base(L.base_dir);
    L.model = model_from_package(L.package, base);
  } else if (fs::exists(dir + "/config.json")) {
    L.base_dir = dir;
    L.model = load_base(dir);
  } else {
    fail(dir + ": neither a package (marill.json) nor a model directory (config.json)");
  }
  return L;
}

pkg::MarillConfig marill_config(const Technique& t, const ModelConfig& c) {
  pkg::MarillConfig mc;
  const int pl = static_cast<int>(std::lround(t.prune_layers * c.n_layers));
  pkg::set_freeze(mc, c, t.freeze, pl);
  mc.lora_rank = t.lora_rank;
  mc.lora_alpha = t.lora_alpha;
  mc.lora_targets = t.lora_targets;
  mc.merge = t.merge;
  mc.grouping = t.grouping;
  mc.prune_heads = t.prune_heads;
  mc.softmax = t.softmax;
  mc.act = t.act;
  mc.embed_trained = mc.frozen_layers == 0 && mc.lora_rank == 0;
  if (mc.merge > 1 && c.n_heads % mc.merge)
    fail("n_heads (" + std::to_string(c.n_heads) + ") is not divisible by the merge factor m=" + std::to_string(mc.merge));
  if (mc.prune_heads > 1 && c.n_heads % mc.prune_heads)
    fail("n_heads (" + std::to_string(c.n_heads) + ") is not divisible by the head-pruning factor m=" + std::to_string(mc.prune_heads));
  return mc;
}

// Michel et al. 2019 head importance: |dL/d gate_h| accumulated over batches, normalised per layer
std::vector<std::vector<int>> important_heads(Llama& m, const std::vector<Seq>& data, int from, int keep, int pad, std::uint64_t seed) {
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> imp;
  for (size_t l = static_cast<size_t>(from); l < m->layers.size(); ++l) {
    m->layers[l]->head_gate = torch::ones({m->layers[l]->n_heads}, torch::requires_grad());
    imp.push_back(torch::zeros({m->layers[l]->n_heads}));
  }
  Sampler smp(data.size(), seed);
  for (int it = 0; it < 8; ++it) {
    std::vector<const Seq*> bs;
    for (size_t i : smp.next(16)) bs.push_back(&data[i]);
    Batch b = make_batch(bs, pad);
    auto loss = masked_nll(m->forward(b.input, {}, b.key_mask), b);
    loss.backward();
    for (size_t l = static_cast<size_t>(from), j = 0; l < m->layers.size(); ++l, ++j) {
      imp[j] += m->layers[l]->head_gate.grad().abs();
      m->layers[l]->head_gate.mutable_grad().zero_();
    }
  }
  std::vector<std::vector<int>> kept;
  for (size_t l = static_cast<size_t>(from), j = 0; l < m->layers.size(); ++l, ++j) {
    m->layers[l]->head_gate = torch::Tensor();
    auto s = imp[j] / imp[j].norm().clamp_min(1e-12);
    auto idx = std::get<1>(s.topk(keep)).sort();
    auto sorted = std::get<0>(idx);
    std::vector<int> k;
    for (int64_t i = 0; i < sorted.size(0); ++i) k.push_back(static_cast<int>(sorted[i].item<int64_t>()));
    kept.push_back(k);
  }
  return kept;
}

std::vector<std::vector<std::vector<double>>> task_head_distances(Llama& m, const std::vector<Seq>& data, int from, int pad,
                                                                  std::uint64_t seed) {
  Sampler smp(data.size(), seed);
  std::vector<std::vector<std::vector<double>>> acc;
  const int rounds = 4;
  for (int r = 0; r < rounds; ++r) {
    std::vector<const Seq*> bs;
    for (size_t i : smp.next(16)) bs.push_back(&data[i]);
    Batch b = make_batch(bs, pad);
    auto d = head_distances(m, b.input, b.key_mask, from);
    if (acc.empty()) acc = d;
    else
      for (size_t l = 0; l < d.size(); ++l)
        for (size_t i = 0; i < d[l].size(); ++i)
          for (size_t j = 0; j < d[l].size(); ++j) acc[l][i][j] += d[l][i][j];
  }
  for (auto& L : acc)
    for (auto& row : L)
      for (auto& x : row) x /= rounds;
  return acc;
}

double default_lr(const Technique& t) {
  if (t.lora_rank > 0) return 2e-3;
  if (t.two_stage) return 5e-4;
  return 1e-3;
}

}  // namespace

void set_threads() {
  int n = 2;
  if (const char* e = std::getenv("MARILL_THREADS")) n = std::max(1, std::atoi(e));
  at::set_num_threads(n);
  static bool interop_set = false;  // settable once per process, before any parallel work
  if (!interop_set) {
    interop_set = true;
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
    }
  }
}

// ---------------------------------------------------------------- techniques
std::vector<std::string> technique_names() {
  return {"full", "full-cont", "lf", "lora", "lf+lora", "hm2-adj", "hm2-sim", "hp2", "hm4-adj", "hm4-sim", "hp4", "lp", "lf+hm2",
          "2relu", "2relu+lf+hm2", "2quad", "relu-act", "quad-act"};
}

Technique technique(const std::string& name) {
  Technique t;
  t.name = name;
  const std::vector<std::string> all_targets = {"q", "k", "v", "o", "gate", "up", "down"};
  if (name == "full") return t;
  if (name == "full-cont") {  // the control of the two-stage students: their recipe, no change to the model
    t.two_stage = true;
    return t;
  }
  if (name == "lf") {
    t.freeze = 0.5;
    return t;
  }
  if (name == "lora" || name == "lf+lora") {
    t.lora_rank = 8;
    t.lora_alpha = 16;
    t.lora_targets = all_targets;
    if (name == "lf+lora") t.freeze = 0.5;
    return t;
  }
  if (name == "lp") {
    t.prune_layers = 0.5;
    return t;
  }
  if (name.rfind("hm", 0) == 0 || name.rfind("hp", 0) == 0) {
    const int m = name[2] - '0';
    if (name.size() < 3 || (m != 2 && m != 4)) fail("unknown technique '" + name + "'");
    t.two_stage = true;
    if (name[1] == 'm') {
      t.merge = m;
      t.grouping = name.find("sim") != std::string::npos ? "similar" : "adjacent";
      if (name != "hm2-adj" && name != "hm2-sim" && name != "hm4-adj" && name != "hm4-sim") fail("unknown technique '" + name + "'");
    } else {
      if (name != "hp2" && name != "hp4") fail("unknown technique '" + name + "'");
      t.prune_heads = m;
    }
    return t;
  }
  if (name == "lf+hm2" || name == "2relu+lf+hm2") {
    t.two_stage = true;
    t.freeze = 0.5;
    t.merge = 2;
    t.grouping = "similar";
    t.init = "lf";
    if (name == "2relu+lf+hm2") t.softmax = SoftmaxApprox::relu2;
    return t;
  }
  if (name == "2relu" || name == "2quad") {
    t.two_stage = true;
    t.softmax = parse_softmax_approx(name);
    return t;
  }
  if (name == "relu-act" || name == "quad-act") {
    t.two_stage = true;
    t.act = name == "relu-act" ? ActApprox::relu : ActApprox::quad;
    return t;
  }
  std::string known;
  for (const auto& n : technique_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown technique '" + name + "' (" + known + ")");
}

// ---------------------------------------------------------------- pre-training
void pretrain(const PretrainOptions& o) {
  set_threads();
  if (o.out_dir.empty()) fail("pretrain: --out DIR is required");
  const Tokenizer tok = load_tokenizer_from(o.data_dir);
  auto ids = load_token_file(o.data_dir + "/pretrain.tok", tok.vocab_size());
  if (o.max_tokens > 0 && static_cast<std::int64_t>(ids.size()) > o.max_tokens) ids.resize(static_cast<size_t>(o.max_tokens));
  if (static_cast<int>(ids.size()) < o.seq + 2) fail(o.data_dir + "/pretrain.tok: corpus shorter than one sequence");
  ModelConfig c;
  c.vocab = tok.vocab_size();
  c.d_model = o.d_model;
  c.n_layers = o.n_layers;
  c.n_heads = o.n_heads;
  if (o.n_heads <= 0 || o.d_model % o.n_heads)
    fail("d_model (" + std::to_string(o.d_model) + ") is not divisible by the number of heads (" + std::to_string(o.n_heads) + ")");
  c.head_dim = o.d_model / o.n_heads;
  c.ffn_dim = o.ffn_dim > 0 ? o.ffn_dim : (8 * o.d_model / 3 + 15) / 16 * 16;
  c.max_seq = std::max(o.seq, 384);
  c.pad_id = tok.pad;
  c.bos_id = tok.bos;
  c.eos_id = tok.eos;
  c.validate();
  torch::manual_seed(o.seed);
  Llama m(c);
  if (!o.quiet)
    std::fprintf(stderr, "pretrain: %lld parameters (d=%d, %d layers, %d heads, ffn %d, vocab %d), %zu corpus tokens, %d steps of %dx%d\n",
                 static_cast<long long>(m->num_params()), c.d_model, c.n_layers, c.n_heads, c.ffn_dim, c.vocab, ids.size(), o.steps,
                 o.batch, o.seq);
  // hold out the last 2% of the corpus for validation perplexity
  const size_t n_val = std::max<size_t>(static_cast<size_t>(o.seq) + 1, ids.size() / 50);
  const size_t n_train = ids.size() - n_val;
  auto all = torch::from_blob(ids.data(), {static_cast<int64_t>(ids.size())}, torch::kInt32).to(torch::kLong);
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(0.1).betas({0.9, 0.95}));
  std::mt19937_64 rng(o.seed);  // corpus offsets (not a security use)
  std::uniform_int_distribution<size_t> off(0, n_train - static_cast<size_t>(o.seq) - 1);
  const auto t0 = Clock::now();
  double tokens = 0, ema = 0;
  m->train();
  for (int step = 0; step < o.steps; ++step) {
    std::vector<torch::Tensor> rows;
    for (int b = 0; b < o.batch; ++b) rows.push_back(all.narrow(0, static_cast<int64_t>(off(rng)), o.seq + 1));
    auto x = torch::stack(rows);
    auto logits = m->forward(x.narrow(1, 0, o.seq));
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, c.vocab}), x.narrow(1, 1, o.seq).reshape({-1}));
    set_lr(opt, lr_at(step, o.steps, o.warmup, o.lr));
    opt.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(m->parameters(), 1.0);
    opt.step();
    tokens += static_cast<double>(o.batch) * o.seq;
    const double l = loss.item<double>();
    ema = step == 0 ? l : 0.95 * ema + 0.05 * l;
    if ((step + 1) % o.log_every == 0 || step + 1 == o.steps) progress(o.quiet, "pretrain", step + 1, o.steps, ema, tokens, t0);
  }
  // validation perplexity
  m->eval();
  double nll = 0;
  int cnt = 0;
  {
    torch::NoGradGuard ng;
    for (size_t s = n_train; s + static_cast<size_t>(o.seq) + 1 <= ids.size() && cnt < 32; s += static_cast<size_t>(o.seq), ++cnt) {
      auto x = all.narrow(0, static_cast<int64_t>(s), o.seq + 1).unsqueeze(0);
      auto logits = m->forward(x.narrow(1, 0, o.seq));
      nll += torch::nn::functional::cross_entropy(logits.reshape({-1, c.vocab}), x.narrow(1, 1, o.seq).reshape({-1})).item<double>();
    }
  }
  const double ppl = cnt ? std::exp(nll / cnt) : 0;
  fs::create_directories(o.out_dir);
  save_base(o.out_dir, m);
  copy_tokenizer(o.data_dir, o.out_dir);
  json info = {{"steps", o.steps}, {"batch", o.batch}, {"seq", o.seq}, {"lr", o.lr}, {"seed", o.seed},
               {"params", m->num_params()}, {"tokens_seen", tokens}, {"val_ppl", ppl}, {"seconds", since(t0)}};
  std::ofstream(o.out_dir + "/pretrain.json") << info.dump(2) << "\n";
  if (!o.quiet)
    std::fprintf(stderr, "pretrain: done in %s, validation perplexity %.2f, saved %s\n", hms(since(t0)).c_str(), ppl, o.out_dir.c_str());
}

// ---------------------------------------------------------------- fine-tuning
void finetune(const FinetuneOptions& o) {
  set_threads();
  check_task(o.task);
  if (o.out_dir.empty()) fail("finetune: --out DIR is required");
  const Technique& t = o.tech;
  const bool is_teacher = t.name == "full";
  if (!is_teacher && o.teacher_dir.empty()) fail("finetune: technique '" + t.name + "' distils from a teacher: --teacher PACKAGE is required");
  Llama base = load_base(o.base_dir);
  const Tokenizer tok = load_tokenizer_from(o.base_dir);
  if (tok.vocab_size() != base->cfg.vocab) fail(o.base_dir + ": tokenizer and model vocabularies differ");
  const ModelConfig& c = base->cfg;
  pkg::MarillConfig mc = marill_config(t, c);
  const auto data = train_seqs(tok, o.data_dir, o.task, o.max_len, o.max_train);
  torch::manual_seed(o.seed);

  // teacher (and the starting point of two-stage students)
  Llama teacher{nullptr};
  if (!is_teacher) {
    Loaded T = load_any(o.teacher_dir);
    if (!T.is_package) fail(o.teacher_dir + ": the teacher must be a package written by marill finetune");
    if (pkg::sha256_file(o.base_dir + "/model.safetensors") != T.package.base_sha256)
      fail(o.teacher_dir + ": the teacher was fine-tuned from another base model");
    teacher = T.model;
    teacher->eval();
    for (auto& p : teacher->parameters()) p.set_requires_grad(false);
    if (t.two_stage && T.package.marill.frozen_layers != mc.frozen_layers)
      fail(o.teacher_dir + ": the teacher's frozen layer count (" + std::to_string(T.package.marill.frozen_layers) +
           ") differs from the student's (" + std::to_string(mc.frozen_layers) + ")");
  }
  Llama m{nullptr};
  if (t.two_stage) {  // start from the teacher's weights (App. E)
    m = Llama(c);
    pkg::Package tp = pkg::load_package(o.teacher_dir);
    Llama b2 = load_base(o.base_dir);
    m = model_from_package(tp, b2);
  } else {
    m = Llama(c);
    from_hf(m, to_hf(base));
  }
  if (mc.prune_layers > 0) prune_top_layers(m, mc.prune_layers);

  // head analysis on the teacher, then the architectural change in the private layers
  const int from = mc.frozen_layers;
  if (mc.merge > 1) {
    std::vector<std::vector<std::vector<double>>> D;
    if (mc.grouping == "similar") D = task_head_distances(teacher, data, from, tok.pad, o.seed);
    for (size_t l = static_cast<size_t>(from), j = 0; l < m->layers.size(); ++l, ++j) {
      auto groups = mc.grouping == "similar" ? grouping::similar_groups(D[j], mc.merge, o.seed) : grouping::adjacent_groups(c.n_heads, mc.merge);
      auto perm = grouping::groups_to_perm(groups);
      merge_heads(m->layers[l], perm, mc.merge);
      mc.head_perm.push_back(perm);
    }
  }
  if (mc.prune_heads > 1) {
    mc.kept_heads = important_heads(teacher, data, from, c.n_heads / mc.prune_heads, tok.pad, o.seed);
    for (size_t l = static_cast<size_t>(from), j = 0; l < m->layers.size(); ++l, ++j) prune_heads(m->layers[l], mc.kept_heads[j]);
  }
  set_approx(m, from, mc.softmax, mc.act);
  if (mc.lora_rank > 0) add_lora(m, mc, o.seed);
  mc.validate(c);
  set_trainable(m, mc, mc.embed_trained);
  auto params = trainable_params(m);
  int64_t n_train_params = 0;
  for (auto& p : params) n_train_params += p.numel();
  const double lr = o.lr > 0 ? o.lr : default_lr(t);
  const std::string tag = "finetune[" + o.task + "/" + t.name + "]";
  if (!o.quiet)
    std::fprintf(stderr, "%s: %d frozen + %d private layers, %d attention heads of dim %d, %lld trainable parameters, %zu examples, lr %.1e\n",
                 tag.c_str(), mc.frozen_layers, mc.private_layers, mc.attn_heads(c), mc.attn_head_dim(c),
                 static_cast<long long>(n_train_params), data.size(), lr);
  const auto t0 = Clock::now();
  double tokens = 0;
  Sampler smp(data.size(), o.seed);
  auto next_batch = [&]() {
    std::vector<const Seq*> bs;
    for (size_t i : smp.next(static_cast<size_t>(o.batch))) bs.push_back(&data[i]);
    smp.count(bs.size());
    return make_batch(bs, tok.pad);
  };
  m->train();
  // stage I: attention outputs and hidden states of the private layers
  if (t.two_stage && o.stage1_steps > 0) {
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(lr).weight_decay(0.0));
    double ema = 0;
    for (int step = 0; step < o.stage1_steps; ++step) {
      Batch b = next_batch();
      Capture cs, ct;
      cs.want_attn_out = cs.want_hidden = ct.want_attn_out = ct.want_hidden = true;
      cs.from_layer = ct.from_layer = from;
      {
        torch::NoGradGuard ng;
        teacher->forward(b.input, {}, b.key_mask, nullptr, &ct);
      }
      m->forward(b.input, {}, b.key_mask, nullptr, &cs);
      torch::Tensor la = torch::zeros({}), lh = torch::zeros({});
      for (size_t i = 0; i < cs.attn_outs.size(); ++i) la = la + masked_mse(cs.attn_outs[i], ct.attn_outs[i], b.key_mask);
      for (size_t i = 0; i < cs.hiddens.size(); ++i) lh = lh + masked_mse(cs.hiddens[i], ct.hiddens[i], b.key_mask);
      auto loss = 0.1 * la + 5.0 * lh;  // alpha_attn = 0.1, alpha_hidden = 5.0 (App. E)
      set_lr(opt, lr_at(step, o.stage1_steps, o.warmup, lr));
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      opt.step();
      tokens += b.key_mask.sum().item<double>();
      ema = step == 0 ? loss.item<double>() : 0.9 * ema + 0.1 * loss.item<double>();
      if ((step + 1) % o.log_every == 0 || step + 1 == o.stage1_steps) progress(o.quiet, tag + " stage I", step + 1, o.stage1_steps, ema, tokens, t0);
    }
  }
  // stage II (or plain fine-tuning for the teacher): 0.5 KL + 0.5 NLL
  {
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(lr).weight_decay(0.0));
    double ema = 0;
    const auto t1 = Clock::now();
    double tok1 = 0;
    for (int step = 0; step < o.steps; ++step) {
      Batch b = next_batch();
      auto logits = m->forward(b.input, {}, b.key_mask);
      torch::Tensor loss;
      if (is_teacher) {
        loss = masked_nll(logits, b);
      } else {
        torch::Tensor tl;
        {
          torch::NoGradGuard ng;
          tl = teacher->forward(b.input, {}, b.key_mask);
        }
        loss = 0.5 * masked_kl(logits, tl, b) + 0.5 * masked_nll(logits, b);
      }
      set_lr(opt, lr_at(step, o.steps, o.warmup, lr));
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      opt.step();
      tok1 += b.key_mask.sum().item<double>();
      ema = step == 0 ? loss.item<double>() : 0.9 * ema + 0.1 * loss.item<double>();
      if ((step + 1) % o.log_every == 0 || step + 1 == o.steps)
        progress(o.quiet, tag + (t.two_stage ? " stage II" : ""), step + 1, o.steps, ema, tok1, t1);
    }
    tokens += tok1;
  }
  m->eval();
  const fs::path base_abs = fs::absolute(o.base_dir).lexically_normal();
  pkg::Package p = make_package(m, mc, base_abs.string(), "marill finetune --task " + o.task + " --technique " + t.name);
  // the package names its base relative to itself (e.g. ../base): a tree of base + packages can
  // move or be committed and still load with the SHA-256 check
  p.base_path = base_abs.lexically_relative(fs::absolute(o.out_dir).lexically_normal()).string();
  if (p.base_path.empty()) p.base_path = base_abs.string();  // no relative path (another root)
  pkg::save_package(o.out_dir, p);
  json info = {{"task", o.task}, {"technique", t.name}, {"steps", o.steps}, {"stage1_steps", t.two_stage ? o.stage1_steps : 0},
               {"batch", o.batch}, {"lr", lr}, {"seed", o.seed}, {"epochs", smp.epochs()}, {"trainable_params", n_train_params},
               {"private_layers", mc.private_layers}, {"frozen_layers", mc.frozen_layers}, {"attn_heads", mc.attn_heads(c)},
               {"seconds", since(t0)}};
  std::ofstream(o.out_dir + "/finetune.json") << info.dump(2) << "\n";
  if (!o.quiet) std::fprintf(stderr, "%s: done in %s (%.2f epochs), package %s\n", tag.c_str(), hms(since(t0)).c_str(), smp.epochs(), o.out_dir.c_str());
}

Tokenizer tokenizer_of(const std::string& dir) { return load_tokenizer_from(dir); }

std::vector<std::pair<std::vector<int>, std::vector<int>>> encoded_test_set(const std::string& tokenizer_dir, const std::string& data_dir,
                                                                            const std::string& task, int n, int max_prompt) {
  std::vector<std::pair<std::vector<int>, std::vector<int>>> out;
  for (auto& it : test_items(load_tokenizer_from(tokenizer_dir), data_dir, task, n, max_prompt)) out.emplace_back(std::move(it.prompt), std::move(it.ref_ids));
  return out;
}

// ---------------------------------------------------------------- evaluation
EvalResult evaluate(const EvalOptions& o) {
  set_threads();
  check_task(o.task);
  const auto t0 = Clock::now();
  Loaded L = load_any(o.model_dir);
  const Tokenizer tok = load_tokenizer_from(L.base_dir);
  if (tok.vocab_size() != L.model->cfg.vocab) fail(L.base_dir + ": tokenizer and model vocabularies differ");
  // the context the base was pre-trained on (longer prompts are cut at their start)
  int ctx = L.model->cfg.max_seq;
  {
    std::ifstream pj(L.base_dir + "/pretrain.json");
    if (pj) ctx = std::min(ctx, json::parse(pj).value("seq", ctx));
  }
  const bool tr = o.task == "translate";
  const int max_new = tr ? 64 : 48;
  const auto items = test_items(tok, o.data_dir, o.task, o.n_test, ctx - max_new);
  Llama& m = L.model;
  m->eval();
  // perplexity of the references (teacher forcing)
  double nll = 0, cnt = 0;
  {
    torch::NoGradGuard ng;
    std::vector<Seq> seqs;
    for (const auto& it : items) {
      Seq s;
      s.ids = it.prompt;
      s.ids.insert(s.ids.end(), it.ref_ids.begin(), it.ref_ids.end());
      const size_t keep = static_cast<size_t>(m->cfg.max_seq);
      if (s.ids.size() > keep) s.ids.erase(s.ids.begin(), s.ids.begin() + static_cast<long>(s.ids.size() - keep));
      s.loss_from = std::max(1, static_cast<int>(s.ids.size() - it.ref_ids.size()));
      seqs.push_back(std::move(s));
    }
    for (size_t i = 0; i < seqs.size(); i += static_cast<size_t>(o.batch)) {
      std::vector<const Seq*> bs;
      for (size_t j = i; j < std::min(seqs.size(), i + static_cast<size_t>(o.batch)); ++j) bs.push_back(&seqs[j]);
      Batch b = make_batch(bs, tok.pad);
      auto lp = torch::log_softmax(m->forward(b.input, {}, b.key_mask), -1);
      auto nl = -lp.gather(-1, b.target.unsqueeze(-1)).squeeze(-1);
      nll += (nl * b.loss_mask).sum().item<double>();
      cnt += b.loss_mask.sum().item<double>();
    }
  }
  // greedy generation
  std::vector<std::vector<int>> prompts;
  for (const auto& it : items) prompts.push_back(it.prompt);
  const auto gen = generate(m, prompts, max_new, tr ? -1 : tok.nl, o.batch);
  std::vector<std::string> hyps, refs;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string h = tok.decode(gen[i]);
    if (tr && !h.empty() && h[0] == ' ') h = h.substr(1);
    hyps.push_back(h);
    refs.push_back(items[i].ref);
  }
  EvalResult r;
  r.task = o.task;
  r.n = static_cast<int>(items.size());
  r.chrf = data::chrf(hyps, refs);
  r.exact = data::exact_match(hyps, refs);
  r.ppl = cnt > 0 ? std::exp(nll / cnt) : 0;
  // chrF for both tasks: the code task's exact match is near 0 for every model this size
  r.metric = tr ? "chrF" : "chrF (next line)";
  r.score = r.chrf;
  r.seconds = since(t0);
  if (!o.dump.empty()) {
    std::ofstream out(o.dump);
    for (size_t i = 0; i < hyps.size(); ++i) out << json{{"hyp", hyps[i]}, {"ref", refs[i]}}.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  if (!o.quiet)
    std::fprintf(stderr, "eval[%s] %s: %s %.2f (chrF %.2f, exact match %.2f%%, perplexity %.2f) on %d examples in %s\n", o.task.c_str(),
                 o.model_dir.c_str(), r.metric.c_str(), r.score, r.chrf, r.exact, r.ppl, r.n, hms(r.seconds).c_str());
  return r;
}

}  // namespace marill::ml
