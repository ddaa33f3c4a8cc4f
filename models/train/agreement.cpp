#include "models/train/agreement.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace marill::ml {

std::vector<TeacherForced> teacher_forced_test_set(const std::string& tokenizer_dir, const std::string& data_dir, const std::string& task,
                                                   int n, int positions, int context) {
  if (positions < 1) throw std::invalid_argument("agreement: positions must be at least 1");
  if (context < positions + 3) throw std::invalid_argument("agreement: a context of " + std::to_string(context) + " tokens is too short for " + std::to_string(positions) + " positions");
  std::vector<TeacherForced> out;
  // The prompt may take what the scored positions leave (the last one's token is not fed).
  for (auto& [prompt, ref] : encoded_test_set(tokenizer_dir, data_dir, task, n, context - positions + 1)) {
    TeacherForced t;
    t.rows = std::min(positions, static_cast<int>(ref.size()));
    if (t.rows < 1) continue;
    t.ids = prompt;
    t.prompt_len = static_cast<int>(prompt.size());
    t.ids.insert(t.ids.end(), ref.begin(), ref.begin() + (t.rows - 1));
    t.reference.assign(ref.begin(), ref.begin() + t.rows);
    out.push_back(std::move(t));
  }
  if (out.empty()) throw std::invalid_argument(data_dir + "/" + task + ".test.jsonl: no test example with a reference");
  return out;
}

std::vector<float> float_scored_logits(Llama& m, const std::vector<int>& ids, int rows) {
  const auto T = static_cast<std::int64_t>(ids.size());
  if (rows < 1 || rows > T) throw std::invalid_argument("agreement: " + std::to_string(rows) + " rows of a " + std::to_string(T) + "-token sequence");
  torch::NoGradGuard ng;
  auto tokens = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end())).view({1, T});
  auto logits = m->forward(tokens)[0].narrow(0, T - rows, rows).contiguous().to(torch::kFloat);
  return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

RowAgreement compare_rows(const std::vector<float>& float_logits, const std::vector<int>& secure_ids, const std::vector<float>& secure_logits,
                          int rows, std::int64_t vocab) {
  const auto n = static_cast<size_t>(rows) * static_cast<size_t>(vocab);
  if (float_logits.size() != n || secure_ids.size() != static_cast<size_t>(rows) || (!secure_logits.empty() && secure_logits.size() != n))
    throw std::invalid_argument("agreement: logits or ids of the wrong size");
  RowAgreement a;
  for (int r = 0; r < rows; ++r) {
    const float* f = &float_logits[static_cast<size_t>(r) * static_cast<size_t>(vocab)];
    const auto best = std::max_element(f, f + vocab) - f;  // the first maximum: the lower index on ties
    ++a.positions;
    if (best == secure_ids[static_cast<size_t>(r)]) {
      ++a.agreements;
    } else {
      float second = -INFINITY;
      for (std::int64_t v = 0; v < vocab; ++v)
        if (v != best) second = std::max(second, f[v]);
      const double margin = f[best] - second;
      a.min_disagreeing_margin = a.min_disagreeing_margin < 0 ? margin : std::min(a.min_disagreeing_margin, margin);
    }
  }
  if (!secure_logits.empty()) {
    a.max_logit_diff = 0;
    for (size_t i = 0; i < n; ++i) a.max_logit_diff = std::max(a.max_logit_diff, static_cast<double>(std::fabs(secure_logits[i] - float_logits[i])));
  }
  return a;
}

}  // namespace marill::ml
