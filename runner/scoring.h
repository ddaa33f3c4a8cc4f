// The runner's teacher-forced scoring workload (the agreement benchmark, `marill-train agreement`):
// a model (package or Hugging Face directory) in one setting, the client's reference sequences ->
// one session whose set-up inputs the private weights once, then each sequence scored
// (models/secure/secure_model.h, secure_score) -> the client's secure next-token choices (and, on
// the test-only path, the logits) with the session's costs.
#pragma once

#include <functional>
#include <vector>

#include "runner/generation.h"

namespace marill {

struct ScoringResult {
  std::vector<ScoredSequence> scored;  // what the client learned, one per sequence (phantom: empty)
  std::vector<Role> roles;             // session_roles order
  StepCost setup, score;               // the set-up, and all sequences together
  SessionResult session;
  double wall_s = 0;
};

// The inputs of a scoring run: load_generation on `p` with the longest sequence as its prompt and one
// new token, so the same checks apply (package and base, context, token ids); every sequence's ids
// are checked against the vocabulary too. p.prompt and p.new_tokens are not otherwise used.
GenerationInputs load_scoring(const GenerationPoint& p, const std::vector<std::vector<int>>& sequences);

// Scores the last rows[i] rows of sequences[i] (ScoringPlan). Only the client's program holds the
// sequences. on_sequence (optional) is called by the client after each sequence (done, total).
ScoringResult run_scoring(const GenerationPoint& p, const GenerationInputs& in, const std::vector<std::vector<int>>& sequences,
                          const std::vector<i64>& rows, bool reveal_logits, std::function<void(int, int)> on_sequence = nullptr);

}  // namespace marill
