// Teacher-forced next-token agreement between a secure run and the LibTorch float model (issue 13's
// acceptance; `marill-train agreement`). Each held-out test example gives one reference sequence:
// the prompt followed by the reference continuation, cut so that its last `rows` rows predict the
// continuation's first `rows` tokens. Every position is predicted from the same reference prefix,
// so one early difference does not cascade. The float side lives here; the secure side is
// runner/scoring.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/package/tokenizer.h"
#include "models/train/llama.h"

namespace marill::ml {

// One teacher-forced sequence: ids = prompt + reference[0 .. rows - 1); the last `rows` rows predict
// reference[0 .. rows).
struct TeacherForced {
  std::vector<int> ids;
  int rows = 0;
  int prompt_len = 0;          // ids[0 .. prompt_len): the prompt alone
  std::vector<int> reference;  // the tokens the scored rows predict (the reference continuation's first `rows`)
};

// A task's held-out test set as evaluation encodes it (models/train/train.cpp): (prompt ids,
// reference continuation ids ending with EOS or a newline), prompts longer than max_prompt cut at
// their start (their first two tokens kept).
std::vector<std::pair<std::vector<int>, std::vector<int>>> encoded_test_set(const std::string& tokenizer_dir, const std::string& data_dir,
                                                                            const std::string& task, int n, int max_prompt);

// A task's held-out test set (data_dir/TASK.test.jsonl, the first n examples) encoded as evaluation
// encodes it, with the tokenizer in tokenizer_dir (a base model's or a data directory); at most
// `positions` positions each (fewer when the reference is shorter), prompts cut at their start so
// that a sequence fits in `context` tokens.
std::vector<TeacherForced> teacher_forced_test_set(const std::string& tokenizer_dir, const std::string& data_dir, const std::string& task,
                                                   int n, int positions, int context);

// The tokenizer a base model or data directory carries (tokenizer.vocab, spm.vocab, byte-level);
// throws naming the directory when there is none.
Tokenizer tokenizer_of(const std::string& dir);

// The float model's logits on the last `rows` rows of `ids` (one forward pass): rows x vocab, row-major.
std::vector<float> float_scored_logits(Llama& m, const std::vector<int>& ids, int rows);

// Agreement of one sequence's secure choices with the float model's logits.
struct RowAgreement {
  int positions = 0, agreements = 0;
  double max_logit_diff = -1;  // max |secure - float| over the rows' logits; -1 when no secure logits
  double min_disagreeing_margin = -1;  // the float top-1 - top-2 margin of the closest disagreement (-1: none)
};
// secure_logits: rows x vocab, or empty (not revealed). The float argmax is the lower index on ties,
// as the secure argmax's.
RowAgreement compare_rows(const std::vector<float>& float_logits, const std::vector<int>& secure_ids,
                          const std::vector<float>& secure_logits, int rows, std::int64_t vocab);

}  // namespace marill::ml
