// Unigram (sentencepiece vocabulary) tokenizer: Viterbi encode, decode. Torch-free.
#include "models/package/tokenizer.h"

#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace marill {

namespace {
const char* kSpace = "\xe2\x96\x81";    // U+2581
const std::vector<std::string> kControl = {"<pad>", "<unk>", "<s>", "</s>"};
const std::vector<std::string> kUser = {"\xe2\x8f\x8e", "<de>", "<en>", "<py>"};

size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

bool is_byte_piece(const std::string& p, int& value) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return false;
  value = std::stoi(p.substr(3, 2), nullptr, 16);
  return true;
}
}  // namespace

std::string Tokenizer::spm_train_flags() {
  return "--model_type=unigram --character_coverage=0.9995 --normalization_rule_name=identity "
         "--remove_extra_whitespaces=false --add_dummy_prefix=true --byte_fallback=true --split_digits=true "
         "--allow_whitespace_only_pieces=true --max_sentencepiece_length=16 --pad_id=0 --unk_id=1 --bos_id=2 "
         "--eos_id=3 --user_defined_symbols='\xe2\x8f\x8e,<de>,<en>,<py>' --num_threads=1 --random_seed=20240601 "
         "--input_sentence_size=0 --max_sentence_length=4192";
}

void Tokenizer::build_index() {
  index_.clear();
  byte_id_.assign(256, -1);
  special_.assign(pieces_.size(), false);
  max_piece_bytes_ = 1;
  min_score_ = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const std::string& p = pieces_[i];
    int bv = 0;
    if (i < kControl.size() + kUser.size()) {
      special_[i] = true;
    } else if (is_byte_piece(p, bv)) {
      byte_id_[static_cast<size_t>(bv)] = static_cast<int>(i);
      special_[i] = true;
    } else {
      max_piece_bytes_ = std::max(max_piece_bytes_, p.size());
      min_score_ = std::min(min_score_, scores_[i]);
    }
    index_.emplace(p, static_cast<int>(i));
  }
  for (int b = 0; b < 256; ++b)
    if (byte_id_[static_cast<size_t>(b)] < 0) throw std::runtime_error("tokenizer: vocabulary lacks byte piece <0x" + std::to_string(b) + ">");
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the tokenizer vocabulary (missing file? build the data first)");
  Tokenizer t;
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error(path + ":" + std::to_string(no) + ": expected 'piece<TAB>score'");
    t.pieces_.push_back(line.substr(0, tab));
    try {
      t.scores_.push_back(std::stof(line.substr(tab + 1)));
    } catch (...) {
      throw std::runtime_error(path + ":" + std::to_string(no) + ": bad score");
    }
  }
  if (t.pieces_.size() < kControl.size() + kUser.size() + 256)
    throw std::runtime_error(path + ": only " + std::to_string(t.pieces_.size()) + " pieces (truncated file?)");
  for (size_t i = 0; i < kControl.size(); ++i)
    if (t.pieces_[i] != kControl[i]) throw std::runtime_error(path + ": piece " + std::to_string(i) + " must be " + kControl[i] + " (train with Tokenizer::spm_train_flags)");
  for (size_t i = 0; i < kUser.size(); ++i)
    if (t.pieces_[kControl.size() + i] != kUser[i])
      throw std::runtime_error(path + ": piece " + std::to_string(kControl.size() + i) + " must be the user symbol " + kUser[i]);
  try {
    t.build_index();
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return t;
}

Tokenizer Tokenizer::bytes_only() {
  Tokenizer t;
  for (const auto& p : kControl) t.pieces_.push_back(p);
  for (const auto& p : kUser) t.pieces_.push_back(p);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    t.pieces_.push_back(buf);
  }
  t.scores_.assign(t.pieces_.size(), 0.0f);
  t.build_index();
  return t;
}

int Tokenizer::id(const std::string& piece) const {
  auto it = index_.find(piece);
  if (it == index_.end()) throw std::invalid_argument("tokenizer: no piece '" + piece + "'");
  return it->second;
}

void Tokenizer::encode_segment(const std::string& s, std::vector<int>& out) const {
  // Viterbi over byte positions (only UTF-8 character starts are reachable)
  const size_t n = s.size();
  constexpr float kNeg = -std::numeric_limits<float>::infinity();
  std::vector<float> best(n + 1, kNeg);
  std::vector<int> from(n + 1, -1), piece(n + 1, -1);  // piece -1: byte fallback of one character
  best[0] = 0;
  const float fallback = min_score_ - 10.0f;
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    if (best[i] == kNeg) continue;
    const size_t clen = std::min(utf8_len(static_cast<unsigned char>(s[i])), n - i);
    bool any = false;
    for (size_t len = 1; len <= max_piece_bytes_ && i + len <= n; ++len) {
      key.assign(s, i, len);
      auto it = index_.find(key);
      if (it == index_.end() || special_[static_cast<size_t>(it->second)]) continue;
      const float sc = best[i] + scores_[static_cast<size_t>(it->second)];
      if (sc > best[i + len]) {
        best[i + len] = sc;
        from[i + len] = static_cast<int>(i);
        piece[i + len] = it->second;
      }
      if (len >= clen) any = true;
    }
    if (!any) {  // byte fallback for this character
      const float sc = best[i] + fallback * static_cast<float>(clen);
      if (sc > best[i + clen]) {
        best[i + clen] = sc;
        from[i + clen] = static_cast<int>(i);
        piece[i + clen] = -1;
      }
    }
  }
  std::vector<int> rev;
  for (size_t pos = n; pos > 0;) {
    const int f = from[pos];
    if (f < 0) throw std::logic_error("tokenizer: unreachable position");
    if (piece[pos] >= 0) rev.push_back(piece[pos]);
    else
      for (size_t b = pos; b > static_cast<size_t>(f); --b) rev.push_back(byte_id_[static_cast<unsigned char>(s[b - 1])]);
    pos = static_cast<size_t>(f);
  }
  out.insert(out.end(), rev.rbegin(), rev.rend());
}

std::vector<int> Tokenizer::encode(const std::string& text, bool dummy_prefix) const {
  std::vector<int> out;
  std::string seg;
  if (dummy_prefix && !text.empty() && text[0] != '\n') seg = kSpace;
  for (char c : text) {
    if (c == '\n') {
      if (!seg.empty()) encode_segment(seg, out);
      seg.clear();
      out.push_back(nl);
    } else if (c == ' ') {
      seg += kSpace;
    } else {
      seg.push_back(c);
    }
  }
  if (!seg.empty()) encode_segment(seg, out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string raw;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (id == nl) {
      raw += "\n";
      continue;
    }
    if (id < static_cast<int>(kControl.size())) continue;
    if (id == de) raw += "<de>";
    else if (id == en) raw += "<en>";
    else if (id == py) raw += "<py>";
    else {
      int bv;
      if (is_byte_piece(pieces_[static_cast<size_t>(id)], bv)) raw.push_back(static_cast<char>(bv));
      else raw += pieces_[static_cast<size_t>(id)];
    }
  }
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 3, kSpace) == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(raw[i++]);
    }
  }
  return out;
}

void save_token_file(const std::string& path, const std::vector<std::int32_t>& ids) {
  std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path + ": cannot write");
  out.write("MRLTOK1", 8);
  const std::uint64_t n = ids.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(4 * ids.size()));
  out.close();
  if (!out || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": write failed");
}

std::vector<std::int32_t> load_token_file(const std::string& path, int vocab) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(path + ": cannot open (missing file? build the data first)");
  const std::uint64_t size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  char magic[8] = {};
  std::uint64_t n = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&n), 8);
  if (!in || std::string(magic, 7) != "MRLTOK1") throw std::runtime_error(path + ": not a marill token file");
  if (size != 16 + 4 * n)
    throw std::runtime_error(path + ": " + std::to_string(size) + " bytes, but the header announces " + std::to_string(n) +
                             " tokens (" + std::to_string(16 + 4 * n) + " bytes; truncated file?)");
  std::vector<std::int32_t> ids(n);
  in.read(reinterpret_cast<char*>(ids.data()), static_cast<std::streamsize>(4 * n));
  for (std::uint64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::runtime_error(path + ": token " + std::to_string(i) + " has id " + std::to_string(ids[i]) +
                               " outside the vocabulary (" + std::to_string(vocab) + "): built with another tokenizer?");
  return ids;
}

}  // namespace marill
