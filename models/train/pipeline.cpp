// The reproduction pipeline (marill train --reproduce): pre-training, every technique on every
// task, evaluation, results.csv + table.md. Torch-free: it only calls models/train/api.h.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "models/train/api.h"

namespace marill::ml {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// `total` optimizer steps per run, the same for every run of a task (see run_budget)
struct TaskBudget {
  int total, stage1, batch, max_len, n_test;
  std::vector<std::string> techniques;
};

struct Scale {
  PretrainOptions pre;
  std::map<std::string, TaskBudget> task;
};

const std::vector<std::string> kCore = {"full", "full-cont", "lf", "lora", "lf+lora", "hm2-adj", "hm2-sim", "hp2", "lp", "lf+hm2", "2relu", "2relu+lf+hm2"};

Scale scale_preset(const std::string& name) {
  Scale s;
  std::vector<std::string> all = technique_names();
  std::vector<std::string> core = kCore;
  if (name == "full" || name == "small") {
    const bool full = name == "full";
    s.pre.d_model = 128;
    s.pre.n_layers = 4;
    s.pre.n_heads = 8;
    s.pre.seq = 256;
    s.pre.batch = 16;
    s.pre.steps = full ? 520 : 120;
    s.pre.warmup = full ? 40 : 20;
    s.pre.lr = 2e-3;
    s.pre.log_every = full ? 20 : 10;
    // the code task carries the paper's Table 1b (m = 4) and §6.3 approximations; translation the core
    // total = stage I + stage II of a distilled student (150 + 500 on translate)
    s.task["translate"] = {full ? 650 : 130, full ? 150 : 30, 32, 128, full ? 400 : 100, core};
    s.task["code"] = {full ? 190 : 26, full ? 40 : 6, 12, 192, full ? 400 : 100, all};
  } else if (name == "tiny") {
    s.pre.d_model = 32;
    s.pre.n_layers = 2;
    s.pre.n_heads = 4;
    s.pre.seq = 64;
    s.pre.batch = 8;
    s.pre.steps = 30;
    s.pre.warmup = 5;
    s.pre.lr = 3e-3;
    s.pre.log_every = 10;
    s.task["translate"] = {11, 3, 4, 64, 6, all};
    s.task["code"] = {11, 3, 4, 96, 6, all};
  } else {
    throw std::invalid_argument("unknown scale '" + name + "' (full, small, tiny)");
  }
  return s;
}

// The budget rule: every run of a task trains the same number of optimizer steps. Runs trained
// in one stage (full fine-tuning, the teacher; lf, lora, lf+lora, lp from the base) train `total`
// steps; two-stage students (head merging/pruning, approximations, lf+hm2) spend the same total
// on stage I + stage II. So the teacher is not trained for fewer steps than a student, and
// "% of full fine-tuning" compares equal budgets (students still start from their teacher's
// weights, as in the paper's App. E: docs/training.md says how to read that).
RunBudget run_budget(const TaskBudget& b, const Technique& t) {
  if (b.stage1 < 0 || b.total <= b.stage1) throw std::logic_error("budget: stage I must be shorter than the total");
  if (t.two_stage) return {b.total - b.stage1, b.stage1};
  return {b.total, 0};
}

std::string describe(const std::string& t) {
  static const std::map<std::string, std::string> d = {
      {"base", "pre-trained base, no fine-tuning"},
      {"full", "full fine-tuning (teacher)"},
      {"full-cont", "full fine-tuning continued with the students' two-stage KD (control)"},
      {"lf", "layer freezing, f = 1/2"},
      {"lora", "LoRA r = 8 (unmerged), all projections"},
      {"lf+lora", "layer freezing f = 1/2 + LoRA r = 8"},
      {"hm2-adj", "head merging m = 2, adjacent groups"},
      {"hm2-sim", "head merging m = 2, similar groups"},
      {"hp2", "head pruning m = 2"},
      {"hm4-adj", "head merging m = 4, adjacent groups"},
      {"hm4-sim", "head merging m = 4, similar groups"},
      {"hp4", "head pruning m = 4"},
      {"lp", "top-layer pruning 1/2 (ablation of LF)"},
      {"lf+hm2", "layer freezing f = 1/2 + head merging m = 2 (sim.)"},
      {"2relu", "2ReLU softmax"},
      {"2relu+lf+hm2", "2ReLU + layer freezing 1/2 + head merging m = 2"},
      {"2quad", "2Quad softmax"},
      {"relu-act", "ReLU activation (SwiGLU gate)"},
      {"quad-act", "Quad activation (SwiGLU gate)"}};
  auto it = d.find(t);
  return it == d.end() ? t : it->second;
}

json read_json(const std::string& p) {
  std::ifstream in(p);
  if (!in) return json();
  try {
    return json::parse(in);
  } catch (...) {
    return json();
  }
}

void write_json(const std::string& p, const json& j) {
  std::ofstream out(p + ".tmp");
  out << j.dump(2) << "\n";
  out.close();
  fs::rename(p + ".tmp", p);
}

json eval_json(const EvalResult& r) {
  return {{"task", r.task}, {"metric", r.metric}, {"score", r.score}, {"chrf", r.chrf}, {"exact", r.exact},
          {"ppl", r.ppl},   {"n", r.n},           {"seconds", r.seconds}};
}

std::string fmt(double v, int prec = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

// The score of equal total training for technique t (0 if none): a student distilled from the
// teacher trained the teacher's steps and then its own, as did full-cont; one-stage runs trained
// as many as full. Students of lf (lf+hm2) have no such reference here.
double equal_training_reference(const std::map<std::string, json>& ev, const std::string& t) {
  auto chrf = [&](const std::string& k) {
    auto it = ev.find(k);
    return it != ev.end() && it->second.is_object() ? it->second.value("chrf", 0.0) : 0.0;
  };
  if (t == "base") return 0;
  const Technique k = technique(t);
  if (!k.two_stage) return chrf("full");
  return k.init.empty() ? chrf("full-cont") : 0;
}

void write_results(const ReproduceOptions& o, const Scale& s, const std::vector<std::string>& tasks) {
  fs::create_directories(o.results_dir);
  std::ofstream csv(o.results_dir + "/results.csv");
  csv << "task,technique,description,metric,score,pct_of_full,pct_of_equal_training,chrf,exact_match,perplexity,frozen_layers,private_layers,"
         "attn_heads,trainable_params,train_steps,train_seconds,n_test\n";
  std::ostringstream md;
  const json pj = read_json(o.work_dir + "/base/pretrain.json");
  md << "# MARILL fine-tuning results (" << o.scale << " scale)\n\n";
  md << "Produced by `marill train --reproduce --scale " << o.scale << "` (see docs/training.md). Base model: "
     << "LLaMA-style decoder, d = " << s.pre.d_model << ", " << s.pre.n_layers << " layers, " << s.pre.n_heads
     << " heads, " << (pj.is_object() ? std::to_string(pj.value("params", 0LL)) : std::string("?")) << " parameters, pre-trained "
     << s.pre.steps << " steps x " << s.pre.batch << " x " << s.pre.seq << " tokens on the public corpus"
     << (pj.is_object() ? " (validation perplexity " + fmt(pj.value("val_ppl", 0.0), 1) + ", " + fmt(pj.value("seconds", 0.0) / 60, 1) + " min)" : std::string())
     << ". Scores: chrF of the greedy output against the reference: the English translation (translate, German -> "
        "English gettext strings) and the completed next line (code, Python standard library; its exact match, also "
        "shown, is near 0 for every model at this size and cannot rank techniques); % = share of full fine-tuning's "
        "score.\n\n";
  {  // the whole reproduction's time: pre-training plus every run's fine-tuning and evaluation
    double secs = pj.is_object() ? pj.value("seconds", 0.0) : 0.0;
    int runs = 0;
    for (const auto& task : tasks) {
      std::vector<std::string> rows = {"base"};
      const auto& techs = s.task.at(task).techniques;
      rows.insert(rows.end(), techs.begin(), techs.end());
      for (const auto& t : rows) {
        const json e = read_json(o.work_dir + "/" + task + "/" + t + "/eval.json"), f = read_json(o.work_dir + "/" + task + "/" + t + "/finetune.json");
        if (e.is_object()) ++runs, secs += e.value("seconds", 0.0);
        if (f.is_object()) secs += f.value("seconds", 0.0);
      }
    }
    md << "Time: " << fmt(secs / 60, 0) << " min for pre-training and " << runs
       << " fine-tuning + evaluation runs (sum of the runs, on 2 threads; data building adds ~1.5 min).\n\n";
  }
  std::map<std::string, std::map<std::string, json>> ev, ft;
  for (const auto& task : tasks) {
    const TaskBudget& b = s.task.at(task);
    std::vector<std::string> rows = {"base"};
    rows.insert(rows.end(), b.techniques.begin(), b.techniques.end());
    for (const auto& t : rows) {
      ev[task][t] = read_json(o.work_dir + "/" + task + "/" + t + "/eval.json");
      ft[task][t] = read_json(o.work_dir + "/" + task + "/" + t + "/finetune.json");
    }
    // The headline score is chrF for both tasks (read from the stored fields, whatever metric an
    // eval.json names as its score).
    const double full = ev[task]["full"].is_object() ? ev[task]["full"].value("chrf", 0.0) : 0.0;
    auto equal_ref = [&](const std::string& t) { return equal_training_reference(ev[task], t); };
    const std::string metric = task == "translate" ? "chrF" : "chrF of the completed line";
    md << "## " << task << " (" << metric << ", " << b.n_test << " test examples)\n\n";
    md << "Budget: every run trains " << b.total << " optimizer steps of " << b.batch << " examples, the teacher (full) included; "
       << "distilled students split them into stage I " << b.stage1 << " + stage II " << b.total - b.stage1
       << " and start from their teacher's weights, so they train the teacher's steps and then their own: "
       << "% of equal training compares them with full-cont, the teacher trained on for as many steps with their recipe.\n\n";
    md << "| technique | what | score | % of full FT | % of equal training | chrF | exact match | perplexity | private layers | MPC heads/layer | trainable params | steps | train time |\n";
    md << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& t : rows) {
      const json& e = ev[task][t];
      if (!e.is_object()) {
        md << "| " << t << " | " << describe(t) << " | (not run) | | | | | | | | | | |\n";
        continue;
      }
      const json& f = ft[task][t];
      const double sc = e.value("chrf", 0.0);
      // optimizer steps of the run itself (stage I + II for a student)
      const std::string steps = f.is_object() ? std::to_string(f.value("steps", 0) + f.value("stage1_steps", 0)) : "";
      const std::string pct = full > 0 ? fmt(100.0 * sc / full, 0) + "%" : "-";
      const double eq = equal_ref(t);
      const std::string pct_eq = eq > 0 ? fmt(100.0 * sc / eq, 0) + "%" : "-";
      md << "| " << t << " | " << describe(t) << " | " << fmt(sc, 2) << " | " << pct << " | " << pct_eq << " | " << fmt(e.value("chrf", 0.0), 2) << " | "
         << fmt(e.value("exact", 0.0), 2) << " | " << fmt(e.value("ppl", 0.0), 2) << " | "
         << (f.is_object() ? std::to_string(f.value("private_layers", 0)) : "-") << " | "
         << (f.is_object() ? std::to_string(f.value("attn_heads", 0)) : "-") << " | "
         << (f.is_object() ? std::to_string(f.value("trainable_params", 0LL)) : "-") << " | " << (steps.empty() ? "-" : steps) << " | "
         << (f.is_object() ? fmt(f.value("seconds", 0.0), 0) + " s" : "-") << " |\n";
      csv << task << "," << t << ",\"" << describe(t) << "\",chrF," << fmt(sc, 3) << ","
          << (full > 0 ? fmt(100.0 * sc / full, 1) : "") << "," << (eq > 0 ? fmt(100.0 * sc / eq, 1) : "") << "," << fmt(e.value("chrf", 0.0), 3) << "," << fmt(e.value("exact", 0.0), 3)
          << "," << fmt(e.value("ppl", 0.0), 3) << "," << (f.is_object() ? std::to_string(f.value("frozen_layers", 0)) : "") << ","
          << (f.is_object() ? std::to_string(f.value("private_layers", 0)) : "") << ","
          << (f.is_object() ? std::to_string(f.value("attn_heads", 0)) : "") << ","
          << (f.is_object() ? std::to_string(f.value("trainable_params", 0LL)) : "") << "," << steps << ","
          << (f.is_object() ? fmt(f.value("seconds", 0.0), 1) : "") << "," << e.value("n", 0) << "\n";
    }
    md << "\n";
  }
  // the acceptance statements, checked on these numbers
  md << "## Checks (issue 5 acceptance, on these numbers)\n\n";
  auto score = [&](const std::string& task, const std::string& t) -> double {
    const json& e = ev[task][t];
    return e.is_object() ? e.value("chrf", -1.0) : -1.0;
  };
  for (const auto& task : tasks) {
    const double full = score(task, "full"), base = score(task, "base");
    auto line = [&](const std::string& what, bool have, bool ok) {
      md << "- " << task << ": " << what << ": " << (!have ? "not run" : ok ? "holds" : "**does not hold**") << "\n";
    };
    line("fine-tuning beats the base (" + fmt(full, 2) + " vs " + fmt(base, 2) + ")", full >= 0 && base >= 0, full > base);
    for (const char* t : {"lf", "lora", "hm2-sim", "hm2-adj"}) {
      const double v = score(task, t);
      line(std::string(t) + " keeps >= 85% of full fine-tuning (" + (full > 0 && v >= 0 ? fmt(100 * v / full, 0) + "%" : "-") + ")",
           v >= 0 && full > 0, v >= 0.85 * full);
      const double eq = equal_training_reference(ev[task], t);
      if (eq != full)
        line(std::string(t) + " keeps >= 85% of equal training, full-cont (" + (eq > 0 && v >= 0 ? fmt(100 * v / eq, 0) + "%" : "-") + ")",
             v >= 0 && eq > 0, v >= 0.85 * eq);
    }
    for (const char* m : {"2", "4"}) {
      const double sim = score(task, std::string("hm") + m + "-sim"), adj = score(task, std::string("hm") + m + "-adj"),
                   hp = score(task, std::string("hp") + m);
      if (sim < 0 && adj < 0 && hp < 0) continue;
      line(std::string("similar merging >= adjacent merging at m = ") + m + " (" + fmt(sim, 2) + " vs " + fmt(adj, 2) + ")", sim >= 0 && adj >= 0,
           sim >= adj);
      line(std::string("similar merging >= head pruning at m = ") + m + " (" + fmt(sim, 2) + " vs " + fmt(hp, 2) + ")", sim >= 0 && hp >= 0,
           sim >= hp);
    }
    const double lf = score(task, "lf"), lp = score(task, "lp");
    line("layer freezing beats top-layer pruning (" + fmt(lf, 2) + " vs " + fmt(lp, 2) + ")", lf >= 0 && lp >= 0, lf > lp);
  }
  md << "\nSee docs/training.md for how to read these numbers at this scale.\n";
  std::ofstream(o.results_dir + "/table.md") << md.str();
}

}  // namespace

std::vector<std::pair<std::string, RunBudget>> planned_budgets(const std::string& scale, const std::string& task) {
  const Scale s = scale_preset(scale);
  auto it = s.task.find(task);
  if (it == s.task.end()) throw std::invalid_argument("unknown task '" + task + "' (translate, code)");
  std::vector<std::pair<std::string, RunBudget>> out;
  for (const auto& t : it->second.techniques) out.emplace_back(t, run_budget(it->second, technique(t)));
  return out;
}

void reproduce(const ReproduceOptions& o) {
  const Scale s = scale_preset(o.scale);
  for (const auto& t : o.tasks)
    if (!s.task.count(t)) throw std::invalid_argument("unknown task '" + t + "' (translate, code)");
  for (const auto& t : o.techniques) (void)technique(t);  // unknown names fail before any work
  if (!fs::exists(o.data_dir + "/pretrain.tok"))
    throw std::runtime_error(o.data_dir + "/pretrain.tok is missing: build the data first (bash scripts/data/build.sh)");
  fs::create_directories(o.work_dir);
  if (o.table_only) {
    write_results(o, s, o.tasks);
    std::fprintf(stderr, "reproduce[%s]: wrote %s/table.md and results.csv from the finished runs in %s\n", o.scale.c_str(),
                 o.results_dir.c_str(), o.work_dir.c_str());
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&]() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  // the run list
  struct Run {
    std::string task, tech;
  };
  std::vector<Run> runs;
  for (const auto& task : o.tasks) {
    std::vector<std::string> techs;
    for (const auto& t : s.task.at(task).techniques)
      if (o.techniques.empty() || std::find(o.techniques.begin(), o.techniques.end(), t) != o.techniques.end()) techs.push_back(t);
    // teachers first: full, then lf (the teacher of lf+hm2)
    std::stable_sort(techs.begin(), techs.end(), [](const std::string& a, const std::string& b) {
      auto rank = [](const std::string& x) { return x == "full" ? 0 : x == "lf" ? 1 : 2; };
      return rank(a) < rank(b);
    });
    runs.push_back({task, "base"});
    for (const auto& t : techs) runs.push_back({task, t});
  }

  const std::string base_dir = o.work_dir + "/base";
  if (o.force || !fs::exists(base_dir + "/pretrain.json")) {
    PretrainOptions p = s.pre;
    p.data_dir = o.data_dir;
    p.out_dir = base_dir;
    p.quiet = o.quiet;
    std::fprintf(stderr, "reproduce[%s]: pre-training the base model\n", o.scale.c_str());
    pretrain(p);
  } else {
    std::fprintf(stderr, "reproduce[%s]: base model %s exists (use --force to redo)\n", o.scale.c_str(), base_dir.c_str());
  }
  // The ETA comes from this invocation's own seconds per training step of each task (its sequence
  // length sets the cost) and per evaluation; pre-training and runs kept from before do not count.
  struct Rate {
    double train_s = 0, steps = 0, eval_s = 0, evals = 0;
  };
  std::map<std::string, Rate> rate;
  Rate pooled;
  auto planned_steps = [&](const Run& r) { return r.tech == "base" ? 0 : run_budget(s.task.at(r.task), technique(r.tech)).total(); };
  auto eta_text = [&](size_t next) -> std::string {
    double left = 0;
    bool any = false;
    for (size_t i = next; i < runs.size(); ++i) {
      const Run& r = runs[i];
      if (!o.force && fs::exists(o.work_dir + "/" + r.task + "/" + r.tech + "/eval.json")) continue;
      const auto it = rate.find(r.task);
      const Rate& k = it != rate.end() && it->second.steps > 0 ? it->second : pooled;
      if (k.steps <= 0 || k.evals <= 0) return "ETA after the first fine-tuning run";
      any = true;
      left += planned_steps(r) * k.train_s / k.steps + k.eval_s / k.evals;
    }
    if (!any) return "the last run";
    return "ETA ~" + std::to_string(static_cast<int>(std::ceil(left / 60))) + " min";
  };
  size_t done = 0;
  for (const auto& r : runs) {
    ++done;
    const TaskBudget& b = s.task.at(r.task);
    const std::string dir = o.work_dir + "/" + r.task + "/" + r.tech;
    fs::create_directories(dir);
    if (!o.force && fs::exists(dir + "/eval.json")) continue;
    const double e0 = elapsed();
    std::fprintf(stderr, "reproduce[%s]: [%zu/%zu] %s / %s (%s elapsed)\n", o.scale.c_str(), done, runs.size(), r.task.c_str(), r.tech.c_str(),
                 std::to_string(static_cast<int>(e0 / 60)).append(" min").c_str());
    std::string model = base_dir;
    if (r.tech != "base") {
      FinetuneOptions f;
      f.base_dir = base_dir;
      f.data_dir = o.data_dir;
      f.task = r.task;
      f.out_dir = dir;
      f.tech = technique(r.tech);
      if (r.tech != "full") {
        const std::string teacher = o.work_dir + "/" + r.task + "/" + (f.tech.init.empty() ? "full" : f.tech.init);
        if (!fs::exists(teacher + "/marill.json"))
          throw std::runtime_error(r.tech + " needs its teacher " + teacher + ": include '" + (f.tech.init.empty() ? "full" : f.tech.init) +
                                   "' in --techniques");
        f.teacher_dir = teacher;
      }
      const RunBudget rb = run_budget(b, f.tech);
      f.steps = rb.steps;
      f.stage1_steps = rb.stage1;
      f.batch = b.batch;
      f.max_len = b.max_len;
      f.log_every = std::max(1, rb.steps / 4);
      f.quiet = o.quiet;
      const double t_train = elapsed();
      finetune(f);
      for (Rate* k : {&rate[r.task], &pooled}) {
        k->train_s += elapsed() - t_train;
        k->steps += rb.total();
      }
      model = dir;
    }
    const double t_eval = elapsed();
    EvalOptions e;
    e.model_dir = model;
    e.data_dir = o.data_dir;
    e.task = r.task;
    e.n_test = b.n_test;
    e.quiet = o.quiet;
    e.dump = dir + "/hyps.jsonl";
    const EvalResult res = evaluate(e);
    for (Rate* k : {&rate[r.task], &pooled}) {
      k->eval_s += elapsed() - t_eval;
      k->evals += 1;
    }
    write_json(dir + "/eval.json", eval_json(res));
    write_results(o, s, o.tasks);
    std::fprintf(stderr, "reproduce[%s]: %s / %s: %s %.2f (run %.0f s; %.0f min elapsed, %s)\n", o.scale.c_str(), r.task.c_str(),
                 r.tech.c_str(), res.metric.c_str(), res.score, elapsed() - e0, elapsed() / 60, eta_text(done).c_str());
  }
  write_results(o, s, o.tasks);
  std::fprintf(stderr, "reproduce[%s]: done in %.1f min; table in %s/table.md\n", o.scale.c_str(), elapsed() / 60, o.results_dir.c_str());
}

}  // namespace marill::ml
