// The runner's whole-model workload: a generation point (which model, which setting and network,
// the prompt, how many tokens) -> each party's program built from that party's own inputs (the
// server: the package's private part; the client: the public base layers and the prompt; every
// party: the public plan) -> per-party reports -> one cost row per generated token.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/secure/secure_model.h"
#include "runner/runner.h"

namespace marill {

// Where the model comes from.
struct ModelSource {
  enum Kind { package, hf, preset, config } kind = package;
  // package: its directory; hf: the Hugging Face LLaMA directory; preset: its name; config: a Hugging
  // Face config.json alone (its shapes, no weights: phantom runs)
  std::string path;
  double freeze = 0.5;  // hf, and preset or config without knobs: the top fraction of layers that is private
  // preset and config: MARILL's knobs on the shape (freeze, LoRA, merge, pruning, approximations;
  // shape_marill in models/secure/secure_model.h); when set, its freeze replaces `freeze`.
  std::optional<pkg::MarillConfig> knobs;
};

struct GenerationPoint {
  Setting setting = Setting::two_pc_dealer;
  NetworkModel network = network_preset("lan");
  Mode mode = Mode::real;
  ModelSource source;
  std::vector<int> prompt;  // the client's token ids (phantom: only its length matters)
  int new_tokens = 8;
  bool fss_gates = true;  // 2pc-dealer's spline gates (false: 3pc's polynomial methods)
  std::string policy;     // function method overrides (protocols/mpc/function_policy.h)
  int frac_bits = 16;
  CorrelationOptions correlations;
  // Phantom runs' compute: seconds per unit of counted work (sim/compute_model.h; `marill calibrate`).
  std::shared_ptr<const ComputeModel> compute_model = builtin_compute_model();
};

// The inputs of a generation, loaded once and checked: the public plan, the server's package, the
// public base model. Bad input (unknown or damaged package, a base whose SHA-256 does not match, an
// empty prompt, a prompt longer than the context, an unsupported architecture) is a clear
// std::invalid_argument / std::runtime_error here, before any party starts.
struct GenerationInputs {
  ModelPlan plan;
  std::shared_ptr<const pkg::Package> package;  // the server's private part (none for presets)
  std::shared_ptr<const pkg::HfModel> base;     // the public base model (none for presets)
  FunctionPolicy policy;     // the loading point's (generation_policy gives another setting's)
  pkg::MarillConfig knobs;  // preset and config: the knobs on the shape (shape_marill), layer counts derived
  std::string description;  // one line: what runs
};
GenerationInputs load_generation(const GenerationPoint& p);

// What `role` builds its program from: only that role's own inputs.
PartyModel generation_party_model(const GenerationPoint& p, const GenerationInputs& in, Role role);

// The cost of one generation step, over all parties of the session.
struct StepCost {
  std::string step;                 // "setup", "prefill", "decode 001", ...
  std::vector<u64> online_bytes;    // per party, in session_roles order
  std::vector<u64> offline_bytes;   // per party (the dealer's correlated randomness)
  u64 rounds = 0;                   // session-wide online rounds
  double sim_s = 0;                 // simulated time on the network (the slowest party)
  double cpu_s = 0;                 // CPU seconds of all parties together
  std::vector<double> party_sim_s, party_cpu_s;  // per party
};

struct GenerationResult {
  GenerationPoint point;
  std::vector<int> tokens;  // what the client learned (phantom: empty)
  std::vector<Role> roles;  // session_roles order
  std::vector<StepCost> steps;  // setup, prefill, then each decode step
  SessionResult session;
  double wall_s = 0;
};

// The functions' methods of point p on these inputs: p's setting's default policy (or 3pc's without
// fss_gates), the package's or the knobs' approximations, p.policy's overrides on top.
FunctionPolicy generation_policy(const GenerationPoint& p, const GenerationInputs& in);
// The session of a generation point (setting, network, fixed point, policy, correlations).
SessionConfig generation_session_config(const GenerationPoint& p, const GenerationInputs& in);
// The cost of the ledger scope `name` over all parties of the session.
StepCost step_cost(const SessionResult& session, const std::string& name);

// Runs every party in this process. on_step (optional) is called by the client after each step.
GenerationResult run_generation(const GenerationPoint& p, const GenerationInputs& in,
                                std::function<void(int, int)> on_step = nullptr);

// One party of the generation over any transport (a party process: remote/); the client's tokens
// go to *tokens, and it calls on_step after each step. A recv_timeout replaces the session's.
PartyReport run_generation_party(const GenerationPoint& p, const GenerationInputs& in, Role role, Transport& transport,
                                 std::vector<int>* tokens = nullptr, std::optional<std::chrono::milliseconds> recv_timeout = std::nullopt,
                                 std::function<void(int, int)> on_step = nullptr);
// The result of a generation's session (per-step costs from the parties' ledgers).
GenerationResult generation_result(const GenerationPoint& p, SessionResult session, std::vector<int> tokens, double wall_s);
const char* generation_csv_header();
// One row per party of the step (a line each).
std::string generation_csv_line(const GenerationResult& r, const StepCost& s);

}  // namespace marill
