// `marill generate`: a secure generation with a whole model (runner/generation.h): the client's
// public layers in plaintext, the private layers, head and argmax in MPC, each token revealed to the
// client only. Prints the text (or the ids), then the cost of each token: prefill, then each decode
// step, with bytes per party online and offline, rounds, simulated time and CPU time.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "app/remote_options.h"
#include "remote/remote_sweep.h"
#include "models/package/tokenizer.h"
#include "runner/generation.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

// The tokenizer a model directory carries, if marill reads it (the trainer's conventions).
std::optional<Tokenizer> tokenizer_in(const std::string& dir) {
  if (dir.empty()) return std::nullopt;
  if (fs::exists(dir + "/tokenizer.vocab")) return Tokenizer::load(dir + "/tokenizer.vocab");
  if (fs::exists(dir + "/spm.vocab")) return Tokenizer::load(dir + "/spm.vocab");
  if (fs::exists(dir + "/BYTES_TOKENIZER")) return Tokenizer::bytes_only();
  return std::nullopt;
}

// Control characters shown as escapes, so a generation of whitespace is visible.
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '"') out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20) out += "?";
    else out += c;
  }
  return out;
}

std::string mb(u64 bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(bytes) / 1e6);
  return buf;
}

// The options that name a generation point: what every party of a remote generation parses too.
std::vector<Opt> generate_point_options() {
  return {{"--package", Opt::text}, {"--hf", Opt::text}, {"--preset", Opt::text}, {"--freeze", Opt::number}, {"--settings", Opt::texts},
          {"--net", Opt::text}, {"--prompt", Opt::text}, {"--task", Opt::text}, {"--prompt-ids", Opt::ints}, {"--max-new-tokens", Opt::integer},
          {"--phantom", Opt::flag}, {"--frac-bits", Opt::integer}, {"--policy", Opt::text}, {"--fss", Opt::text}, {"--dealer-seed", Opt::integer}};
}

// Options of the coordinator alone: not sent to the party servers.
const std::vector<std::string> kCoordinatorOptions = {"--hosts", "--key", "--timeout-ms", "--point-timeout", "--csv", "--calibration", "--settings"};

struct GenerateRequest {
  GenerationPoint base;
  std::vector<Setting> settings;
  std::optional<Tokenizer> tok;
};

GenerateRequest parse_generate(const Args& args) {
  GenerateRequest req;
  GenerationPoint& base = req.base;
  std::optional<Tokenizer>& tok = req.tok;
  const int sources = args.has("--package") + args.has("--hf") + args.has("--preset");
  if (sources != 1) throw std::invalid_argument("generate: give exactly one of --package DIR, --hf DIR, --preset NAME");
  std::string tokenizer_dir;
  if (args.has("--package")) {
    base.source.kind = ModelSource::package;
    base.source.path = args.get("--package", "");
    if (args.has("--freeze")) throw std::invalid_argument("option '--freeze': a package's freezing is fixed by its training");
    tokenizer_dir = base.source.path;
  } else {
    base.source.kind = args.has("--hf") ? ModelSource::hf : ModelSource::preset;
    base.source.path = args.get(args.has("--hf") ? "--hf" : "--preset", "");
    if (!args.has("--freeze")) throw std::invalid_argument("generate: --hf and --preset need --freeze f (the top fraction of private layers)");
    base.source.freeze = args.get_double("--freeze", 0.5);
    if (!(base.source.freeze > 0 && base.source.freeze <= 1)) throw std::invalid_argument("option '--freeze': f must be in (0, 1]");
    if (args.has("--hf")) tokenizer_dir = base.source.path;
  }
  base.mode = args.has("--phantom") ? Mode::phantom : Mode::real;
  base.network = args.parsed("--net", args.get("--net", "lan"), network_preset);
  base.new_tokens = static_cast<int>(args.get_int("--max-new-tokens", 8, 1, 1 << 16));
  base.frac_bits = static_cast<int>(args.get_int("--frac-bits", 16, 1, 30));
  base.policy = args.get("--policy", "");
  const std::string fss = args.get("--fss", "on");
  if (fss != "on" && fss != "off") throw std::invalid_argument("option '--fss': expected on or off, got '" + fss + "'");
  base.fss_gates = fss == "on";
  if (args.has("--dealer-seed")) base.correlations.dealer_seed = static_cast<std::uint64_t>(args.get_int("--dealer-seed", 0, 0, (1LL << 62)));

  if (args.has("--prompt") == args.has("--prompt-ids")) throw std::invalid_argument("generate: give one of --prompt TEXT or --prompt-ids 1,2,3");
  if (args.has("--prompt")) {
    const std::string text = args.get("--prompt", "");
    if (text.empty()) throw std::invalid_argument("option '--prompt': the prompt is empty");
    if (base.source.kind == ModelSource::package) {
      tok = tokenizer_in(tokenizer_dir);
      if (!tok) tok = tokenizer_in(pkg::load_package(tokenizer_dir).base_path);  // the base's tokenizer
    } else {
      tok = tokenizer_in(tokenizer_dir);
    }
    if (!tok) throw std::invalid_argument("option '--prompt': " + (tokenizer_dir.empty() ? std::string("a preset") : tokenizer_dir) +
                                          " carries no tokenizer marill reads (tokenizer.vocab, spm.vocab); give --prompt-ids");
    // As the task's training sequences begin (models/train/train.cpp): <s> <de> German <en> | <s> <py> code.
    const std::string task = args.get("--task", "");
    if (!task.empty() && task != "translate" && task != "code")
      throw std::invalid_argument("option '--task': expected translate or code, got '" + task + "'");
    base.prompt.push_back(tok->bos);
    if (task == "translate") base.prompt.push_back(tok->de);
    if (task == "code") base.prompt.push_back(tok->py);
    for (int id : tok->encode(text)) base.prompt.push_back(id);
    if (task == "translate") base.prompt.push_back(tok->en);
  } else {
    for (long long id : args.get_ints("--prompt-ids", {}, 0, (1LL << 31) - 1)) base.prompt.push_back(static_cast<int>(id));
    if (base.prompt.empty()) throw std::invalid_argument("option '--prompt-ids': the prompt is empty");
  }
  for (const auto& s : args.get_texts("--settings", {"2pc-dealer"})) req.settings.push_back(args.parsed("--settings", s, parse_setting));
  return req;
}


// The command line minus the coordinator's own options, with one setting and absolute model paths:
// what a party parses.
std::vector<std::string> args_to_send(int argc, char** argv, Setting st) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    bool own = false;
    for (const std::string& o : kCoordinatorOptions) {
      if (a == o) own = true, ++i;  // and its value
      else if (a.rfind(o + "=", 0) == 0) own = true;
    }
    if (own) continue;
    // A model directory as an absolute path: the party servers run elsewhere (the same path on every host).
    for (const std::string o : {"--package", "--hf"}) {
      if (a == o && i + 1 < argc) {
        out.push_back(a);
        out.push_back(fs::absolute(argv[++i]).lexically_normal().string());
        own = true;
      } else if (a.rfind(o + "=", 0) == 0) {
        out.push_back(o + "=" + fs::absolute(a.substr(o.size() + 1)).lexically_normal().string());
        own = true;
      }
    }
    if (!own) out.push_back(a);
  }
  out.push_back("--settings");
  out.push_back(setting_name(st));
  return out;
}

}  // namespace

GenerationResult run_remote_generation(Coordinator& coordinator, const GenerationPoint& p, const GenerationInputs& in,
                                       const std::vector<std::string>& args, const std::string& calibration_json) {
  const std::vector<Role> roles = session_roles(p.setting, backend_options(generation_session_config(p, in)));
  PartyJob job;
  job.kind = JobKind::generation;
  job.calibration_json = calibration_json;
  job.args = args;
  const auto t0 = std::chrono::steady_clock::now();
  const Coordinator::Outcome out = coordinator.run(roles, job);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  SessionResult session = Coordinator::session(p.setting, roles, out);
  std::vector<int> tokens;
  for (size_t i = 0; i < roles.size(); ++i)
    if (roles[i] == Role::client) tokens.assign(out.replies[i].tokens.begin(), out.replies[i].tokens.end());
  return generation_result(p, std::move(session), std::move(tokens), wall_s);
}

JobReply run_generation_job(const PartyJob& job, const RemoteParty& me) {
  std::vector<char*> argv;
  for (const std::string& a : job.args) argv.push_back(const_cast<char*>(a.c_str()));
  const Args args(static_cast<int>(argv.size()), argv.data(), generate_point_options(), "generation job");
  GenerateRequest req = parse_generate(args);
  if (req.settings.size() != 1) throw std::invalid_argument("generation job: expected one setting, got " + std::to_string(req.settings.size()));
  GenerationPoint p = req.base;
  p.setting = req.settings[0];
  p.compute_model = job_compute_model(job);
  const GenerationInputs in = load_generation(p);
  const auto timeout = std::chrono::milliseconds(job.timeout_ms);
  const std::vector<Role> roles = session_roles(p.setting, backend_options(generation_session_config(p, in)));
  std::vector<int> tokens;
  // The client's progress, in its own log: a line with rate and ETA every few seconds.
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  auto on_step = [&](int done, int total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(5) && done < total) return;
    last = now;
    const double el = std::chrono::duration<double>(now - t0).count(), rate = done / el;
    std::fprintf(stderr, "marill party client: job %llu: %d/%d tokens, %.2f tokens/s, ETA %.0f s\n", static_cast<unsigned long long>(job.id),
                 done, total, rate, (total - done) / rate);
  };
  const RemoteParty::Run run =
      me.run(roles, timeout, [&](Transport& t) { return run_generation_party(p, in, me.role, t, &tokens, timeout, on_step); });
  if (!tokens.empty()) {  // the client's output, in its own log
    std::printf("marill party client: job %llu generated", static_cast<unsigned long long>(job.id));
    for (size_t i = 0; i < tokens.size(); ++i) std::printf("%s%d", i ? "," : " ", tokens[i]);
    std::printf("\n");
    std::fflush(stdout);
  }
  JobReply reply;
  reply.has_report = true;
  reply.report = report_to_binary(run.report);
  reply.error = run.report.error;
  reply.tokens.assign(tokens.begin(), tokens.end());
  reply.wall_s = run.wall_s;
  return reply;
}

int cmd_generate(int argc, char** argv) {
  std::vector<Opt> options = generate_point_options();
  for (Opt o : {Opt{"--calibration", Opt::text}, Opt{"--csv", Opt::text}, Opt{"--hosts", Opt::text}, Opt{"--key", Opt::text},
                Opt{"--timeout-ms", Opt::integer}, Opt{"--point-timeout", Opt::integer}})
    options.push_back(o);
  Args args(argc, argv, options,
            "usage: marill generate (--package DIR | --hf DIR --freeze f | --preset NAME --freeze f --phantom)\n"
            "                       (--prompt TEXT [--task translate|code] | --prompt-ids 1,2,3) [--max-new-tokens 8] [--settings 2pc-dealer] [--net lan]\n"
            "                       [--phantom] [--calibration FILE] [--csv FILE] [--frac-bits 16] [--policy silu=poly,...] [--fss on|off] [--dealer-seed N]\n"
            "--package: a secure-inference package (its base model's SHA-256 is checked)\n"
            "--hf: a Hugging Face LLaMA directory; --freeze f: the top fraction f of its layers is private\n"
            "--preset: a real model's shapes without weights (openllama-3b-v2, deepseek-coder-1.3b-base, LLaMA-2-7B,\n"
            "          Llama-3-8B, gpt2, bert-base), for phantom runs: the cost of the whole model per token\n"
            "--prompt: text, for a directory with a tokenizer marill reads; else --prompt-ids\n"
            "--task: frame the text as the task's training sequences do (translate: <s> <de> TEXT <en>; code: <s> <py> TEXT)\n"
            "--phantom: shapes only (the same bytes and rounds, no values: no text comes out)\n"
            "--calibration: phantom runs' compute model (`marill calibrate --out FILE`; default: the built-in calibration)\n"
            "--hosts HOSTS.yaml: the parties are party servers (`marill party --serve`) on the hosts the file names; this\n"
            "          process coordinates (its key: the file's coordinator entry or --key FILE); docs/multihost.md\n"
            "--timeout-ms: with --hosts, every wait of the parties (default 120000); --point-timeout S: the longest\n"
            "          a setting's generation may run (default 86400)\n");
  if (args.help()) return 0;
  GenerateRequest req = parse_generate(args);
  GenerationPoint& base = req.base;
  const std::optional<Tokenizer>& tok = req.tok;
  base.compute_model = compute_model_from(args.get("--calibration", ""));
  std::unique_ptr<Coordinator> coordinator;
  std::string calibration_json;
  if (args.has("--hosts")) {
    coordinator = coordinator_from(args);
    calibration_json = calibration_text(args);
  } else {
    for (const char* o : {"--key", "--timeout-ms", "--point-timeout"})
      if (args.has(o)) throw std::invalid_argument(std::string("option '") + o + "': only with --hosts");
  }
  const GenerationInputs in = load_generation(base);
  if (tok && tok->vocab_size() > in.plan.vocab)
    throw std::invalid_argument("generate: the tokenizer has " + std::to_string(tok->vocab_size()) + " pieces, the model " + std::to_string(in.plan.vocab));
  std::unique_ptr<std::ofstream> csv;
  if (args.has("--csv")) {
    csv = std::make_unique<std::ofstream>(args.get("--csv", ""));
    if (!*csv) throw std::runtime_error("cannot write " + args.get("--csv", ""));
    *csv << generation_csv_header() << '\n';
  }
  std::printf("marill generate: %s\n  prompt %zu tokens, %d new, %s on %s\n", in.description.c_str(), base.prompt.size(), base.new_tokens,
              mode_name(base.mode), base.network.name.c_str());
  for (Setting st : req.settings) {
    GenerationPoint p = base;
    p.setting = st;
    const auto t0 = std::chrono::steady_clock::now();
    bool progress_shown = false;
    // A progress line with rate and ETA once a run takes more than a couple of seconds.
    auto on_step = [&](int done, int total) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (el < 2.0 && !progress_shown) return;
      progress_shown = true;
      const double rate = done / el;
      std::fprintf(stderr, "\r  [%s] %d/%d tokens, %.2f tokens/s, ETA %.0f s   ", setting_name(st), done, total, rate, (total - done) / rate);
      std::fflush(stderr);
    };
    const GenerationResult r = coordinator ? run_remote_generation(*coordinator, p, in, args_to_send(argc, argv, st), calibration_json)
                                           : run_generation(p, in, on_step);
    if (progress_shown) std::fprintf(stderr, "\n");
    std::printf("\n[%s] %.2f s wall\n", setting_name(st), r.wall_s);
    if (p.mode == Mode::phantom) std::printf("  (phantom: no values, no tokens; costs only)\n");
    else if (coordinator && r.tokens.empty()) std::printf("  (the tokens stay with the client's party server: start it with --trust-coordinator to send them here)\n");
    else if (tok) {
      // The text up to the end-of-sequence token (the ids below are all that were generated).
      std::vector<int> shown = r.tokens;
      for (size_t i = 0; i < shown.size(); ++i)
        if (shown[i] == tok->eos) {
          shown.resize(i);
          break;
        }
      std::printf("  text: \"%s\"\n  ids: ", escaped(tok->decode(shown)).c_str());
    }
    else if (!r.tokens.empty()) std::printf("  ids: ");
    if (p.mode == Mode::real && !r.tokens.empty()) {
      for (size_t i = 0; i < r.tokens.size(); ++i) std::printf("%s%d", i ? "," : "", r.tokens[i]);
      std::printf("\n");
    }
    std::printf("  %-11s", "step");
    for (Role role : r.roles) std::printf(" %14s", (std::string(role_name(role)) + " MB on").c_str());
    for (Role role : r.roles)
      if (st == Setting::two_pc_dealer && role == Role::dealer) std::printf(" %14s", "dealer MB off");
    std::printf(" %8s %10s %10s\n", "rounds", "sim_s", "cpu_s");
    for (const StepCost& s : r.steps) {
      std::printf("  %-11s", s.step.c_str());
      for (size_t i = 0; i < r.roles.size(); ++i) std::printf(" %14s", mb(s.online_bytes[i]).c_str());
      for (size_t i = 0; i < r.roles.size(); ++i)
        if (st == Setting::two_pc_dealer && r.roles[i] == Role::dealer) std::printf(" %14s", mb(s.offline_bytes[i]).c_str());
      std::printf(" %8llu %10.4f %10.3f\n", static_cast<unsigned long long>(s.rounds), s.sim_s, s.cpu_s);
      if (csv) *csv << generation_csv_line(r, s) << '\n';
    }
    // The decode steps' mean, all parties together: the per-token price once the prompt is in.
    if (r.steps.size() > 2) {
      double on = 0, off = 0, sim = 0;
      for (size_t i = 2; i < r.steps.size(); ++i) {
        for (u64 b : r.steps[i].online_bytes) on += static_cast<double>(b);
        for (u64 b : r.steps[i].offline_bytes) off += static_cast<double>(b);
        sim += r.steps[i].sim_s;
      }
      const double n = static_cast<double>(r.steps.size() - 2);
      std::printf("  decode mean per token: %.3f MB online (all parties), %.3f MB offline, %.4f s simulated\n", on / n / 1e6, off / n / 1e6, sim / n);
    }
  }
  return 0;
}

}  // namespace marill
