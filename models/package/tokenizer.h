// Tokenizer for a sentencepiece unigram model (torch-free).
//
// The model is trained by sentencepiece's own trainer (`spm_train`, Debian package sentencepiece)
// on the public corpus; this class reads the `.vocab` file it writes (piece<TAB>log-prob, id = line)
// and encodes with the unigram Viterbi segmentation, byte fallback for unknown characters.
// libsentencepiece is not linked into marill: its bundled protobuf clashes with LibTorch's in one
// process (segfault at load time), so training runs as a separate program.
//
// Text conventions: ' ' -> U+2581, '\n' -> U+23CE (a user-defined piece), a dummy U+2581 prefix at
// the start of a text. Control/user pieces: <pad>=0 <unk>=1 <s>=2 </s>=3, then the user symbols
// U+23CE, <de>, <en>, <py>.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace marill {

class Tokenizer {
 public:
  // the spm_train flags that produce a vocabulary this class reads (vocab size added by the caller)
  static std::string spm_train_flags();
  static Tokenizer load(const std::string& vocab_path);  // throws naming the file
  // A byte-level tokenizer (4 controls + 4 user symbols + 256 bytes): for tests and smoke runs.
  static Tokenizer bytes_only();

  std::vector<int> encode(const std::string& text, bool dummy_prefix = true) const;
  std::string decode(const std::vector<int>& ids) const;  // control tokens dropped, dummy prefix kept
  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  const std::string& piece(int id) const { return pieces_.at(static_cast<size_t>(id)); }
  int id(const std::string& piece) const;  // throws when absent

  int pad = 0, unk = 1, bos = 2, eos = 3, nl = 4, de = 5, en = 6, py = 7;

 private:
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::vector<int> byte_id_;  // byte value -> piece id of <0xXX>
  std::unordered_map<std::string, int> index_;
  std::vector<bool> special_;  // control and user pieces are never produced by Viterbi
  size_t max_piece_bytes_ = 1;
  float min_score_ = 0;
  void build_index();
  void encode_segment(const std::string& s, std::vector<int>& out) const;
};

// Token files: "MRLTOK1\0", u64 count, then count int32 ids (little-endian). Clear error on a
// truncated file or an id outside [0, vocab).
void save_token_file(const std::string& path, const std::vector<std::int32_t>& ids);
std::vector<std::int32_t> load_token_file(const std::string& path, int vocab);

}  // namespace marill
