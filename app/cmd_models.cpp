// `marill data|train|finetune|eval|export`: the ML half (datasets, pre-training, MARILL fine-tuning,
// evaluation, secure-inference packages). Argument parsing only; the work is in models/.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "models/train/api.h"
#include "models/train/data.h"
#include "models/package/package.h"
#include "models/package/tokenizer.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

const char* kDataUsage =
    "usage: marill data build --lists DIR --out DIR [--vocab N] [--max-pretrain-mb N] [--translate-test N] [--code-test N]\n"
    "       marill data manifest --data DIR (--write FILE | --check FILE) [--packages TSV]\n"
    "       marill data encode --data DIR --text TEXT\n"
    "Builds the public pre-training corpus, the private tasks (German->English from gettext catalogs,\n"
    "Python completion from the standard library) and the sentencepiece tokenizer (spm_train) from\n"
    "the file lists that scripts/data/build.sh makes; `manifest` writes or checks counts + SHA-256.\n"
    "Normally run through: bash scripts/data/build.sh";

const std::vector<std::string> kManifestFiles = {"pretrain.jsonl",       "translate.train.jsonl", "translate.test.jsonl",
                                                 "code.train.jsonl",     "code.test.jsonl",       "spm.vocab",
                                                 "pretrain.tok"};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int data_build(const Args& a) {
  if (!a.has("--lists") || !a.has("--out")) throw std::invalid_argument("data build needs --lists DIR and --out DIR\n" + std::string(kDataUsage));
  data::BuildOptions o;
  o.lists_dir = a.get("--lists", "");
  o.out_dir = a.get("--out", "");
  o.max_pretrain_bytes = static_cast<std::size_t>(a.get_int("--max-pretrain-mb", 24, 1, 4096)) << 20;
  o.translate_test = a.get_int("--translate-test", 400, 1, 100000);
  o.code_test = a.get_int("--code-test", 400, 1, 100000);
  const int vocab = a.get_int("--vocab", 4096, 300, 65535);
  if (!fs::is_directory(o.lists_dir)) throw std::invalid_argument("--lists " + o.lists_dir + ": no such directory");
  const auto t0 = std::chrono::steady_clock::now();
  data::BuildReport rep = data::build_datasets(o);

  // tokenizer: sentencepiece's trainer as its own process (see models/package/tokenizer.h)
  if (std::system("command -v spm_train >/dev/null 2>&1") != 0)
    throw std::runtime_error("spm_train not found: install the Debian package 'sentencepiece' (scripts/setup.sh)");
  const std::string cmd = "spm_train --input=" + shell_quote(o.out_dir + "/spm_input.txt") + " --model_prefix=" +
                          shell_quote(o.out_dir + "/spm") + " --vocab_size=" + std::to_string(vocab) + " " +
                          Tokenizer::spm_train_flags() + " >" + shell_quote(o.out_dir + "/spm_train.log") + " 2>&1";
  std::fprintf(stderr, "data: training the tokenizer (spm_train, vocab %d; log in %s/spm_train.log)\n", vocab, o.out_dir.c_str());
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("spm_train failed: see " + o.out_dir + "/spm_train.log");
  const Tokenizer tok = Tokenizer::load(o.out_dir + "/spm.vocab");

  // the pre-training corpus as tokens: <s> doc </s> ...
  const auto docs = data::read_docs_jsonl(o.out_dir + "/pretrain.jsonl");
  std::vector<std::int32_t> ids;
  std::size_t chars = 0;
  const auto t1 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < docs.size(); ++i) {
    ids.push_back(tok.bos);
    for (int t : tok.encode(docs[i])) ids.push_back(t);
    ids.push_back(tok.eos);
    chars += docs[i].size();
    if ((i + 1) % 500 == 0 || i + 1 == docs.size()) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      std::fprintf(stderr, "\rdata: tokenizing %zu/%zu documents, %.1f MB/s, ETA %.0f s   ", i + 1, docs.size(),
                   chars / 1e6 / std::max(s, 1e-9), s / static_cast<double>(i + 1) * static_cast<double>(docs.size() - i - 1));
    }
  }
  std::fprintf(stderr, "\n");
  save_token_file(o.out_dir + "/pretrain.tok", ids);
  rep.counts["pretrain.tokens"] = static_cast<std::int64_t>(ids.size());
  rep.counts["tokenizer.vocab"] = tok.vocab_size();
  nlohmann::json cj = rep.counts;
  std::ofstream(o.out_dir + "/counts.json") << cj.dump(2) << "\n";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("data: built in %.0f s: %lld pre-training tokens (%.2f chars/token), %lld+%lld translation pairs, %lld+%lld code examples\n",
              secs, static_cast<long long>(ids.size()), static_cast<double>(chars) / static_cast<double>(std::max<std::size_t>(ids.size(), 1)),
              static_cast<long long>(rep.counts["translate.train"]), static_cast<long long>(rep.counts["translate.test"]),
              static_cast<long long>(rep.counts["code.train"]), static_cast<long long>(rep.counts["code.test"]));
  return 0;
}

std::map<std::string, std::string> read_packages(const std::string& path) {
  std::map<std::string, std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the package list");
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

int data_manifest(const Args& a) {
  const std::string dir = a.get("--data", "data");
  const auto packages = read_packages(a.get("--packages", ""));
  if (a.has("--write")) {
    std::map<std::string, std::int64_t> counts;
    std::ifstream cin(dir + "/counts.json");
    if (!cin) throw std::runtime_error(dir + "/counts.json: missing (run marill data build first)");
    counts = nlohmann::json::parse(cin).get<std::map<std::string, std::int64_t>>();
    data::write_manifest(a.get("--write", ""), dir, kManifestFiles, counts, packages);
    std::printf("data: manifest written to %s\n", a.get("--write", "").c_str());
    return 0;
  }
  if (!a.has("--check")) throw std::invalid_argument("data manifest needs --write FILE or --check FILE\n" + std::string(kDataUsage));
  const std::string path = a.get("--check", "");
  const auto bad = data::check_manifest(path, dir);
  if (bad.empty()) {
    std::filesystem::remove(dir + "/package_drift.txt");  // a drift note of an earlier build no longer applies
    std::printf("data: all %zu files match %s\n", kManifestFiles.size(), path.c_str());
    return 0;
  }
  // explain: which package versions differ from the ones the manifest was made with
  std::ifstream min(path);
  const auto mj = nlohmann::json::parse(min);
  std::vector<std::string> changed;
  if (mj.contains("packages"))
    for (const auto& [p, v] : packages)
      if (mj["packages"].value(p, std::string()) != v) changed.push_back(p + " " + mj["packages"].value(p, std::string("(none)")) + " -> " + v);
  if (changed.empty()) {
    for (const auto& b : bad) std::fprintf(stderr, "data: MISMATCH %s\n", b.c_str());
    std::fprintf(stderr, "data: same package versions as the manifest: the build is not reproducing (a bug)\n");
    return 1;
  }
  // Debian mirrors keep only current versions: a newer package (a security or point update) can
  // change the data. That is explained drift, a warning recorded beside the data, not a stop.
  const std::string drift_path = dir + "/package_drift.txt";
  std::ofstream drift(drift_path);
  drift << "# marill data: the build differs from " << path << " because these Debian packages are newer\n";
  for (const auto& c : changed) drift << "package " << c << "\n";
  for (const auto& b : bad) drift << "file " << b << "\n";
  std::fprintf(stderr, "data: WARNING: %zu file(s) differ from %s, explained by %zu package version(s) newer than the manifest's:\n",
               bad.size(), path.c_str(), changed.size());
  for (const auto& c : changed) std::fprintf(stderr, "  %s\n", c.c_str());
  for (const auto& b : bad) std::fprintf(stderr, "  differs: %s\n", b.c_str());
  std::fprintf(stderr, "data: recorded in %s (results made from this data should carry it)\n", drift_path.c_str());
  return 0;
}

int data_encode(const Args& a) {
  const Tokenizer tok = Tokenizer::load(a.get("--data", "data") + "/spm.vocab");
  const auto ids = tok.encode(a.get("--text", ""));
  for (int id : ids) std::printf("%d:%s ", id, tok.piece(id).c_str());
  std::printf("\n%s\n", tok.decode(ids).c_str());
  return 0;
}

}  // namespace

int cmd_data(int argc, char** argv) {
  const int skip = argc > 0 && std::string(argv[0]) == "data" ? 1 : 0;
  Args a(argc - skip, argv + skip,
         {{"--lists", Opt::text}, {"--out", Opt::text}, {"--vocab", Opt::integer}, {"--max-pretrain-mb", Opt::integer},
          {"--translate-test", Opt::integer}, {"--code-test", Opt::integer}, {"--data", Opt::text}, {"--write", Opt::text},
          {"--check", Opt::text}, {"--packages", Opt::text}, {"--text", Opt::text}},
         kDataUsage, /*positional_allowed=*/true);
  if (a.help()) return 0;
  if (a.positional().empty()) {
    std::fprintf(stderr, "marill data: which action? (build, manifest, encode)\n%s\n", kDataUsage);
    return 2;
  }
  const std::string what = a.positional()[0];
  if (what == "build") return data_build(a);
  if (what == "manifest") return data_manifest(a);
  if (what == "encode") return data_encode(a);
  std::fprintf(stderr, "marill data: unknown action '%s'\n%s\n", what.c_str(), kDataUsage);
  return 2;
}

// ---------------------------------------------------------------- train / finetune / eval / export
namespace {

const char* kTrainUsage =
    "usage: marill train --out DIR [--data DIR] [--d-model N] [--layers N] [--heads N] [--ffn N] [--seq N]\n"
    "                    [--batch N] [--steps N] [--lr X] [--seed N] [--max-tokens N]\n"
    "       marill train --reproduce [--scale full|small|tiny] [--data DIR] [--work DIR] [--results DIR]\n"
    "                    [--tasks translate,code] [--techniques a,b,...] [--force] [--table-only]\n"
    "Pre-trains the public base model (a LLaMA-style decoder) on data/pretrain.tok and writes a\n"
    "Hugging Face style directory (config.json, model.safetensors, tokenizer.vocab).\n"
    "--reproduce runs the whole pipeline: pre-training, every MARILL technique on every task,\n"
    "evaluation, and writes results.csv + table.md (resumes finished runs unless --force;\n"
    "--table-only rewrites the table from the finished runs and trains nothing).";

const char* kFinetuneUsage =
    "usage: marill finetune --base DIR --task translate|code --technique NAME --out DIR [--teacher PKG]\n"
    "                       [--data DIR] [--steps N] [--stage1-steps N] [--batch N] [--lr X] [--seed N]\n"
    "                       [--freeze F] [--lora-rank R] [--merge M] [--grouping adjacent|similar]\n"
    "                       [--prune-heads M] [--softmax exact|2relu|2quad] [--act exact|relu|quad]\n"
    "Fine-tunes the base model on a private task with one MARILL technique and writes a\n"
    "secure-inference package (marill.json + private.safetensors). Techniques: full (the teacher),\n"
    "lf, lora, lf+lora, hm2-adj, hm2-sim, hp2, hm4-adj, hm4-sim, hp4, lp, lf+hm2, 2relu, 2relu+lf+hm2,\n"
    "2quad, relu-act, quad-act; the --freeze/--lora-rank/... options override a technique's values.\n"
    "Every technique but full distils from --teacher (the package of the full fine-tuning, or of lf\n"
    "for lf+hm2 and 2relu+lf+hm2).";

const char* kEvalUsage =
    "usage: marill eval --model DIR --task translate|code [--data DIR] [--n N] [--batch N] [--dump FILE] [--json FILE]\n"
    "Evaluates a base model directory or a package: chrF (translate) or exact match of the next\n"
    "line (code) with greedy decoding, and the perplexity of the references.";

const char* kExportUsage =
    "usage: marill export --package DIR [--out DIR] [--check-base]\n"
    "       marill export --hf DIR\n"
    "Validates a secure-inference package and prints what the secure transformer gets (public part:\n"
    "base model + frozen layers; private part: layers, LoRA, merged-head groups); --out copies it.\n"
    "--hf reads a Hugging Face LLaMA directory (config.json + safetensors) and prints its config.";

int skip_name(int argc, char** argv, const char* name) { return argc > 0 && std::string(argv[0]) == name ? 1 : 0; }

std::vector<std::string> csv_list(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& x : split(s, ','))
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace

int cmd_train(int argc, char** argv) {
  const int k = skip_name(argc, argv, "train");
  Args a(argc - k, argv + k,
         {{"--out", Opt::text}, {"--data", Opt::text}, {"--d-model", Opt::integer}, {"--layers", Opt::integer},
          {"--heads", Opt::integer}, {"--ffn", Opt::integer}, {"--seq", Opt::integer}, {"--batch", Opt::integer},
          {"--steps", Opt::integer}, {"--lr", Opt::number}, {"--seed", Opt::integer}, {"--max-tokens", Opt::integer},
          {"--reproduce", Opt::flag}, {"--scale", Opt::text}, {"--work", Opt::text}, {"--results", Opt::text},
          {"--tasks", Opt::text}, {"--techniques", Opt::text}, {"--force", Opt::flag}, {"--table-only", Opt::flag},
          {"--quiet", Opt::flag}},
         kTrainUsage);
  if (a.help()) return 0;
  if (a.has("--reproduce")) {
    ml::ReproduceOptions r;
    r.scale = a.get("--scale", "full");
    r.data_dir = a.get("--data", "data");
    r.work_dir = a.get("--work", "build/ml/" + r.scale);
    r.results_dir = a.get("--results", r.scale == "full" ? "results/ml" : "build/ml/" + r.scale + "/results");
    if (a.has("--tasks")) r.tasks = csv_list(a.get("--tasks", ""));
    if (a.has("--techniques")) r.techniques = csv_list(a.get("--techniques", ""));
    r.force = a.has("--force");
    r.table_only = a.has("--table-only");
    r.quiet = a.has("--quiet");
    ml::reproduce(r);
    return 0;
  }
  if (!a.has("--out")) throw std::invalid_argument("train needs --out DIR (or --reproduce)\n" + std::string(kTrainUsage));
  ml::PretrainOptions o;
  o.out_dir = a.get("--out", "");
  o.data_dir = a.get("--data", "data");
  o.d_model = a.get_int("--d-model", o.d_model, 8, 8192);
  o.n_layers = a.get_int("--layers", o.n_layers, 1, 256);
  o.n_heads = a.get_int("--heads", o.n_heads, 1, 256);
  o.ffn_dim = a.get_int("--ffn", 0, 0, 65536);
  o.seq = a.get_int("--seq", o.seq, 8, 8192);
  o.batch = a.get_int("--batch", o.batch, 1, 4096);
  o.steps = a.get_int("--steps", o.steps, 1, 10000000);
  o.lr = a.get_double("--lr", o.lr);
  o.seed = static_cast<std::uint64_t>(a.get_int("--seed", 1, 0, 1 << 30));
  o.max_tokens = a.get_int("--max-tokens", 0, 0, 2000000000);
  o.quiet = a.has("--quiet");
  if (!(o.lr > 0)) throw std::invalid_argument("--lr must be positive");
  if (o.d_model % o.n_heads)
    throw std::invalid_argument("--d-model " + std::to_string(o.d_model) + " is not divisible by --heads " + std::to_string(o.n_heads));
  ml::pretrain(o);
  return 0;
}

int cmd_finetune(int argc, char** argv) {
  const int k = skip_name(argc, argv, "finetune");
  Args a(argc - k, argv + k,
         {{"--base", Opt::text}, {"--task", Opt::text}, {"--technique", Opt::text}, {"--out", Opt::text},
          {"--teacher", Opt::text}, {"--data", Opt::text}, {"--steps", Opt::integer}, {"--stage1-steps", Opt::integer},
          {"--batch", Opt::integer}, {"--lr", Opt::number}, {"--seed", Opt::integer}, {"--freeze", Opt::number},
          {"--lora-rank", Opt::integer}, {"--merge", Opt::integer}, {"--grouping", Opt::text}, {"--prune-heads", Opt::integer},
          {"--softmax", Opt::text}, {"--act", Opt::text}, {"--max-train", Opt::integer}, {"--quiet", Opt::flag}},
         kFinetuneUsage);
  if (a.help()) return 0;
  for (const char* req : {"--base", "--task", "--technique", "--out"})
    if (!a.has(req)) throw std::invalid_argument(std::string("finetune needs ") + req + "\n" + kFinetuneUsage);
  ml::FinetuneOptions o;
  o.base_dir = a.get("--base", "");
  o.task = a.get("--task", "");
  o.out_dir = a.get("--out", "");
  o.teacher_dir = a.get("--teacher", "");
  o.data_dir = a.get("--data", "data");
  o.tech = ml::technique(a.get("--technique", ""));
  if (a.has("--freeze")) {
    o.tech.freeze = a.get_double("--freeze", 1.0);
    if (!(o.tech.freeze > 0.0 && o.tech.freeze <= 1.0))
      throw std::invalid_argument("option '--freeze': " + std::to_string(o.tech.freeze) + ": the fraction f of private layers must be in (0, 1]");
  }
  if (a.has("--lora-rank")) {
    o.tech.lora_rank = a.get_int("--lora-rank", 8, 0, 4096);
    if (o.tech.lora_targets.empty()) o.tech.lora_targets = {"q", "k", "v", "o", "gate", "up", "down"};
  }
  if (a.has("--merge")) o.tech.merge = a.get_int("--merge", 1, 1, 1024), o.tech.two_stage = o.tech.two_stage || o.tech.merge > 1;
  if (a.has("--grouping")) {
    o.tech.grouping = a.get("--grouping", "");
    if (o.tech.grouping != "adjacent" && o.tech.grouping != "similar") throw std::invalid_argument("--grouping must be adjacent or similar");
  }
  if (a.has("--prune-heads")) o.tech.prune_heads = a.get_int("--prune-heads", 1, 1, 1024), o.tech.two_stage = o.tech.two_stage || o.tech.prune_heads > 1;
  if (a.has("--softmax")) o.tech.softmax = parse_softmax_approx(a.get("--softmax", ""));
  if (a.has("--act")) o.tech.act = parse_act_approx(a.get("--act", ""));
  o.steps = a.get_int("--steps", o.steps, 1, 10000000);
  o.stage1_steps = a.get_int("--stage1-steps", o.stage1_steps, 0, 10000000);
  o.batch = a.get_int("--batch", o.batch, 1, 4096);
  o.lr = a.get_double("--lr", 0);
  o.seed = static_cast<std::uint64_t>(a.get_int("--seed", 1, 0, 1 << 30));
  o.max_train = a.get_int("--max-train", 0, 0, 100000000);
  o.quiet = a.has("--quiet");
  if (o.task != "translate" && o.task != "code") throw std::invalid_argument("--task must be translate or code");
  ml::finetune(o);
  return 0;
}

int cmd_eval(int argc, char** argv) {
  const int k = skip_name(argc, argv, "eval");
  Args a(argc - k, argv + k,
         {{"--model", Opt::text}, {"--task", Opt::text}, {"--data", Opt::text}, {"--n", Opt::integer},
          {"--batch", Opt::integer}, {"--dump", Opt::text}, {"--json", Opt::text}, {"--quiet", Opt::flag}}, kEvalUsage);
  if (a.help()) return 0;
  if (!a.has("--model") || !a.has("--task")) throw std::invalid_argument(std::string("eval needs --model DIR and --task\n") + kEvalUsage);
  ml::EvalOptions o;
  o.model_dir = a.get("--model", "");
  o.task = a.get("--task", "");
  o.data_dir = a.get("--data", "data");
  o.n_test = a.get_int("--n", o.n_test, 1, 1000000);
  o.batch = a.get_int("--batch", o.batch, 1, 4096);
  o.dump = a.get("--dump", "");
  o.quiet = a.has("--quiet");
  if (o.task != "translate" && o.task != "code") throw std::invalid_argument("--task must be translate or code");
  const ml::EvalResult r = ml::evaluate(o);
  std::printf("%s %s: %s %.2f | chrF %.2f | exact match %.2f%% | perplexity %.3f | n %d\n", r.task.c_str(), o.model_dir.c_str(),
              r.metric.c_str(), r.score, r.chrf, r.exact, r.ppl, r.n);
  if (a.has("--json")) {
    nlohmann::json j = {{"task", r.task}, {"metric", r.metric}, {"score", r.score}, {"chrf", r.chrf}, {"exact", r.exact},
                        {"ppl", r.ppl}, {"n", r.n}, {"seconds", r.seconds}, {"model", o.model_dir}};
    std::ofstream(a.get("--json", "")) << j.dump(2) << "\n";
  }
  return 0;
}

int cmd_export(int argc, char** argv) {
  const int k = skip_name(argc, argv, "export");
  Args a(argc - k, argv + k,
         {{"--package", Opt::text}, {"--out", Opt::text}, {"--check-base", Opt::flag}, {"--hf", Opt::text}}, kExportUsage);
  if (a.help()) return 0;
  if (a.has("--hf")) {
    const pkg::HfModel m = pkg::read_hf_llama(a.get("--hf", ""));
    const auto& c = m.config;
    std::int64_t n = 0;
    for (const auto& [name, t] : m.tensors) n += t.numel();
    std::printf("HF LLaMA %s: vocab %d, d_model %d, %d layers, %d heads of dim %d, ffn %d, rope_theta %g, eps %g, %lld parameters\n",
                a.get("--hf", "").c_str(), c.vocab, c.d_model, c.n_layers, c.n_heads, c.head_dim, c.ffn_dim, c.rope_theta,
                c.norm_eps, static_cast<long long>(n));
    return 0;
  }
  if (!a.has("--package")) throw std::invalid_argument(std::string("export needs --package DIR or --hf DIR\n") + kExportUsage);
  const std::string dir = a.get("--package", "");
  const pkg::Package p = pkg::load_package(dir, a.has("--check-base"));
  const auto& c = p.model;
  const auto& mc = p.marill;
  std::printf("package %s\n  public : base %s (sha256 %s...), %d frozen layers run by the client\n", dir.c_str(), p.base_path.c_str(),
              p.base_sha256.substr(0, 16).c_str(), p.frozen_layers);
  std::printf("  private: layers %d..%d, %d attention heads of dim %d (merge m=%d %s, prune-heads m=%d), pruned top layers %d\n",
              p.layers.empty() ? -1 : p.layers.front().index, p.layers.empty() ? -1 : p.layers.back().index, mc.attn_heads(c),
              mc.attn_head_dim(c), mc.merge, mc.grouping.c_str(), mc.prune_heads, mc.prune_layers);
  std::printf("           LoRA rank %d on [%s], softmax %s, activation %s, embedding %s\n", mc.lora_rank,
              [&] { std::string s; for (const auto& t : mc.lora_targets) s += (s.empty() ? "" : ",") + t; return s; }().c_str(),
              pkg::to_string(mc.softmax).c_str(), pkg::to_string(mc.act).c_str(), p.has_embed ? "private (fine-tuned)" : "public");
  for (size_t i = 0; i < mc.head_perm.size(); ++i) {
    std::printf("           layer %d head groups:", p.layers[i].index);
    for (size_t j = 0; j < mc.head_perm[i].size(); ++j)
      std::printf("%s%d", j % static_cast<size_t>(mc.merge) == 0 ? " {" : ",", mc.head_perm[i][j]),
          (j + 1) % static_cast<size_t>(mc.merge) == 0 ? (void)std::printf("}") : (void)0;
    std::printf("\n");
  }
  if (a.has("--out")) {
    const std::string out = a.get("--out", "");
    pkg::save_package(out, p);
    std::printf("  copied to %s\n", out.c_str());
  }
  return 0;
}

}  // namespace marill
