#include "runner/scoring.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace marill {

GenerationInputs load_scoring(const GenerationPoint& p, const std::vector<std::vector<int>>& sequences) {
  if (sequences.empty()) throw std::invalid_argument("scoring: no sequence");
  GenerationPoint q = p;
  q.prompt = *std::max_element(sequences.begin(), sequences.end(),
                               [](const std::vector<int>& a, const std::vector<int>& b) { return a.size() < b.size(); });
  q.new_tokens = 1;
  GenerationInputs in = load_generation(q);
  if (p.mode == Mode::real)
    for (size_t i = 0; i < sequences.size(); ++i)
      for (int id : sequences[i])
        if (id < 0 || id >= in.plan.vocab)
          throw std::invalid_argument("scoring: sequence " + std::to_string(i + 1) + ": token id " + std::to_string(id) +
                                      " is outside the vocabulary [0, " + std::to_string(in.plan.vocab) + ")");
  return in;
}

ScoringResult run_scoring(const GenerationPoint& p, const GenerationInputs& in, const std::vector<std::vector<int>>& sequences,
                          const std::vector<i64>& rows, bool reveal_logits, std::function<void(int, int)> on_sequence) {
  ScoringPlan sp;
  for (const auto& s : sequences) sp.lengths.push_back(static_cast<i64>(s.size()));
  sp.rows = rows;
  sp.reveal_logits = reveal_logits;
  sp.validate(in.plan);  // before any party starts
  ScoringResult res;
  res.roles = roles_of(p.setting);
  auto scored = std::make_shared<std::vector<ScoredSequence>>();
  const auto t0 = std::chrono::steady_clock::now();
  res.session = run_parties(generation_session_config(p, in), [&](Role r) -> Program {
    auto model = std::make_shared<PartyModel>(generation_party_model(p, in, r));
    const bool client = p.setting == Setting::cleartext || r == Role::client;
    auto seqs = std::make_shared<const std::vector<std::vector<int>>>(client && p.mode == Mode::real ? sequences : std::vector<std::vector<int>>{});
    if (client) model->on_step = on_sequence;
    model->prompt.clear();  // scoring reads the sequences, not a prompt
    return [model, seqs, sp, scored, client](Backend& be) { secure_score(be, *model, sp, *seqs, client ? scored.get() : nullptr); };
  });
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.scored = *scored;
  res.setup = step_cost(res.session, "setup");
  res.score = step_cost(res.session, "score");
  return res;
}

}  // namespace marill
