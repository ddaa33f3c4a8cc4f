#include "runner/generation.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "models/secure/block_weights.h"
#include "models/secure/secure_block.h"

namespace marill {

namespace {

bool holds(Setting s, Role role, Role owner) { return s == Setting::cleartext || role == owner; }

FunctionPolicy base_policy(const GenerationPoint& p) {
  return parse_policy(p.policy, default_policy(p.fss_gates ? p.setting : Setting::three_pc));
}

}  // namespace

FunctionPolicy generation_policy(const GenerationPoint& p, const GenerationInputs& in) {
  FunctionPolicy pol = base_policy(p);
  if (in.package && p.source.kind == ModelSource::package) return ml::package_policy(*in.package, pol);
  if (in.package) return pol;  // a Hugging Face model: exact functions
  pol.softmax = in.knobs.softmax;  // a preset or config.json: the knobs' approximations
  pol.act = in.knobs.act;
  return parse_policy(p.policy, pol);  // the explicit overrides stay on top
}

GenerationInputs load_generation(const GenerationPoint& p) {
  if (p.frac_bits < 1 || p.frac_bits > 30) throw std::invalid_argument("generate: frac_bits " + std::to_string(p.frac_bits) + " is outside [1, 30]");
  GenerationInputs in;
  std::ostringstream what;
  switch (p.source.kind) {
    case ModelSource::package: {
      // Validated, with the base's SHA-256 recomputed: a package is only meaningful on its own base.
      auto pk = std::make_shared<pkg::Package>(pkg::load_package(p.source.path, true));
      in.base = std::make_shared<const pkg::HfModel>(pkg::read_hf_llama(pk->base_path));
      if (in.base->config.d_model != pk->model.d_model || in.base->config.vocab != pk->model.vocab)
        throw std::invalid_argument("generate: the base model in " + pk->base_path + " does not have the package's shape");
      in.plan = package_plan(*pk);
      what << "package " << p.source.path << " (" << pk->layers.size() << " of " << pk->model.n_layers << " layers private, m = "
           << pk->marill.merge << ", LoRA r = " << pk->marill.lora_rank << (pk->has_embed ? ", private embedding" : "")
           << ", softmax " << to_string(pk->marill.softmax) << ", act " << to_string(pk->marill.act) << ")";
      in.package = pk;
      break;
    }
    case ModelSource::hf: {
      auto hf = std::make_shared<const pkg::HfModel>(pkg::read_hf_llama(p.source.path));
      auto pk = std::make_shared<pkg::Package>(package_from_hf(*hf, p.source.freeze));
      in.plan = package_plan(*pk);
      what << "Hugging Face model " << p.source.path << " (top " << pk->layers.size() << " of " << hf->config.n_layers << " layers private)";
      in.base = hf;
      in.package = pk;
      break;
    }
    case ModelSource::preset:
    case ModelSource::config: {
      const bool preset = p.source.kind == ModelSource::preset;
      if (p.mode != Mode::phantom)
        throw std::invalid_argument(std::string("generate: a ") + (preset ? "shape preset" : "config.json") + " has no weights; run it with --phantom");
      const pkg::ShapePreset* named = preset ? &pkg::shape_preset(p.source.path) : nullptr;
      const pkg::ModelConfig shape = preset ? preset_config(*named) : pkg::read_hf_config(p.source.path);
      pkg::MarillConfig knobs = p.source.knobs.value_or(pkg::MarillConfig{});
      if (!p.source.knobs) knobs.freeze = p.source.freeze;
      const pkg::MarillConfig mc = shape_marill(shape, knobs);
      in.plan = shape_plan(shape, mc);
      in.knobs = mc;
      what << (preset ? "preset " : "config ") << p.source.path << " (shapes only; " << describe_marill(mc, shape.n_layers) << ")";
      if (named && !named->note.empty()) what << "; " << named->note;
      break;
    }
  }
  in.policy = generation_policy(p, in);
  in.plan.prompt_len = static_cast<i64>(p.prompt.size());
  in.plan.new_tokens = p.new_tokens;
  in.plan.validate();
  if (p.mode == Mode::real)
    for (int id : p.prompt)
      if (id < 0 || id >= in.plan.vocab)
        throw std::invalid_argument("generate: prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(in.plan.vocab) + ")");
  in.description = what.str();
  return in;
}

PartyModel generation_party_model(const GenerationPoint& p, const GenerationInputs& in, Role role) {
  PartyModel m;
  m.plan = in.plan;
  const bool phantom = p.mode == Mode::phantom;
  if (!in.package) {  // a preset or config.json: shapes only, for every party
    add_public_structure(m, pkg::MarillConfig{}, nullptr, true);  // the head's shape
    m.blocks = shape_blocks(in.plan, in.knobs);
    return m;
  }
  if (holds(p.setting, role, Role::server)) add_server_part(m, *in.package, phantom);
  else add_public_structure(m, in.package->marill, in.base.get(), phantom);
  if (holds(p.setting, role, Role::client) && !phantom) add_client_part(m, *in.base, p.prompt);
  return m;
}

SessionConfig generation_session_config(const GenerationPoint& p, const GenerationInputs& in) {
  SessionConfig cfg;
  cfg.setting = p.setting;
  cfg.network = p.network;
  cfg.fxp.frac_bits = p.frac_bits;
  cfg.phantom = p.mode == Mode::phantom;
  cfg.policy = generation_policy(p, in);  // the point's setting's methods (inputs may be shared across settings)
  cfg.correlations = p.correlations;
  if (p.compute_model) cfg.compute_model = p.compute_model;
  return cfg;
}

StepCost step_cost(const SessionResult& session, const std::string& name) {
  StepCost c;
  c.step = name;
  for (const PartyReport& pr : session.parties) {
    u64 on = 0, off = 0;
    double sim = 0, cpu = 0;
    for (Phase ph : {Phase::online, Phase::offline}) {
      auto it = pr.ledger.by_op(ph).find(name);
      if (it == pr.ledger.by_op(ph).end()) continue;
      (ph == Phase::online ? on : off) += it->second.bytes_sent;
      if (ph == Phase::online) sim = it->second.sim_s;
      cpu += it->second.cpu_s;
    }
    c.online_bytes.push_back(on);
    c.offline_bytes.push_back(off);
    c.party_sim_s.push_back(sim);
    c.party_cpu_s.push_back(cpu);
    c.sim_s = std::max(c.sim_s, sim);
    c.cpu_s += cpu;
  }
  c.rounds = session.op_rounds(name);
  return c;
}

namespace {

// The program of `role`: the generation on that party's own model; the client collects the tokens.
Program generation_program(const GenerationPoint& p, const GenerationInputs& in, Role r, std::shared_ptr<std::vector<int>> tokens,
                           std::function<void(int, int)> on_step) {
  auto model = std::make_shared<PartyModel>(generation_party_model(p, in, r));
  const bool client = holds(p.setting, r, Role::client);
  if (client) model->on_step = std::move(on_step);
  return [model, tokens, client](Backend& be) { secure_generate(be, *model, client ? tokens.get() : nullptr); };
}

}  // namespace

GenerationResult generation_result(const GenerationPoint& p, SessionResult session, std::vector<int> tokens, double wall_s) {
  GenerationResult res;
  res.point = p;
  res.roles.clear();
  for (const PartyReport& r : session.parties) res.roles.push_back(r.role);
  res.session = std::move(session);
  res.tokens = std::move(tokens);
  res.wall_s = wall_s;
  std::vector<std::string> names{"setup"};
  for (int s = 0; s < p.new_tokens; ++s) names.push_back(step_scope(s));
  for (const std::string& name : names) res.steps.push_back(step_cost(res.session, name));
  return res;
}

GenerationResult run_generation(const GenerationPoint& p, const GenerationInputs& in, std::function<void(int, int)> on_step) {
  const SessionConfig cfg = generation_session_config(p, in);
  auto tokens = std::make_shared<std::vector<int>>();
  const auto t0 = std::chrono::steady_clock::now();
  SessionResult session = run_parties(cfg, [&p, &in, tokens, on_step](Role r) { return generation_program(p, in, r, tokens, on_step); });
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return generation_result(p, std::move(session), *tokens, wall_s);
}

PartyReport run_generation_party(const GenerationPoint& p, const GenerationInputs& in, Role role, Transport& transport,
                                 std::vector<int>* tokens, std::optional<std::chrono::milliseconds> recv_timeout,
                                 std::function<void(int, int)> on_step) {
  SessionConfig cfg = generation_session_config(p, in);
  if (recv_timeout) cfg.recv_timeout = *recv_timeout;
  auto collected = std::make_shared<std::vector<int>>();
  PartyReport report = run_party(cfg, role, transport, [&](Role r) { return generation_program(p, in, r, collected, on_step); });
  if (tokens) *tokens = *collected;
  return report;
}

const char* generation_csv_header() {
  return "setting,mode,model,prompt_tokens,step,party,online_bytes,offline_bytes,rounds,sim_time_s,cpu_time_s";
}

std::string generation_csv_line(const GenerationResult& r, const StepCost& s) {
  std::ostringstream out;
  for (size_t i = 0; i < r.roles.size(); ++i) {
    if (i) out << '\n';
    out << setting_name(r.point.setting) << ',' << mode_name(r.point.mode) << ',' << r.point.source.path << ',' << r.point.prompt.size() << ','
        << s.step << ',' << role_name(r.roles[i]) << ',' << s.online_bytes[i] << ',' << s.offline_bytes[i] << ',' << s.rounds << ','
        << s.party_sim_s[i] << ',' << s.party_cpu_s[i];
  }
  return out.str();
}

}  // namespace marill
