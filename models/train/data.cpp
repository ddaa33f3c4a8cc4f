// Dataset building from Debian package files, chrF / exact match, the data manifest. Torch-free.
#include "models/train/data.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "models/package/package.h"

namespace marill::data {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& m) { throw std::runtime_error(m); }

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string rtrim(const std::string& s) {
  size_t e = s.size();
  while (e > 0 && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(0, e);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + static_cast<size_t>(n) >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) >> 6) != 2) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

// drops bytes that are not part of a valid UTF-8 sequence
std::string sanitize_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    bool ok = n >= 0 && i + static_cast<size_t>(n) < s.size();
    for (int k = 1; ok && k <= n; ++k) ok = (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) >> 6) == 2;
    if (ok) {
      out.append(s, i, static_cast<size_t>(n) + 1);
      i += static_cast<size_t>(n) + 1;
    } else {
      ++i;
    }
  }
  return out;
}

// text normalisation shared by every source: LF line ends, tabs to spaces (8-column stops, as
// Python reads them), no trailing spaces, no control characters, valid UTF-8 only.
std::string normalize_text(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  int col = 0;
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\r') continue;
    if (c == '\t') {
      int n = 8 - col % 8;
      out.append(static_cast<size_t>(n), ' ');
      col += n;
      continue;
    }
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out.push_back('\n');
      col = 0;
      continue;
    }
    if (c < 0x20 || c == 0x7f) continue;
    out.push_back(ch);
    ++col;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  out = sanitize_utf8(out);
  // collapse runs of more than two blank lines
  std::string res;
  int nl = 0;
  for (char c : out) {
    nl = c == '\n' ? nl + 1 : 0;
    if (nl <= 2) res.push_back(c);
  }
  return res;
}

std::uint32_t rd32(const std::string& b, size_t off, bool swap) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  if (swap) v = __builtin_bswap32(v);
  return v;
}

std::vector<std::string> read_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open (missing file list? run scripts/data/build.sh)");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (!trim(line).empty()) out.push_back(trim(line));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// deterministic pseudo-shuffle: order by a hash of the path
std::vector<std::string> hash_order(std::vector<std::string> v) {
  std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
    const auto ha = fnv1a(a), hb = fnv1a(b);
    return ha != hb ? ha < hb : a < b;
  });
  return v;
}

void progress(bool verbose, const std::string& s) {
  if (verbose) {
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }
}

}  // namespace

// ---------------------------------------------------------------- sources
std::vector<MoPair> parse_mo(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (missing file?)");
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 28) fail(path + ": too short for a .mo catalog (" + std::to_string(b.size()) + " bytes)");
  std::uint32_t magic;
  std::memcpy(&magic, b.data(), 4);
  bool swap;
  if (magic == 0x950412deu) swap = false;
  else if (magic == 0xde120495u) swap = true;
  else fail(path + ": not a .mo catalog (bad magic number)");
  const std::uint32_t rev = rd32(b, 4, swap);
  if ((rev >> 16) > 1) fail(path + ": unsupported .mo revision " + std::to_string(rev));
  const std::uint64_t n = rd32(b, 8, swap), oo = rd32(b, 12, swap), to = rd32(b, 16, swap);
  if (oo + 8 * n > b.size() || to + 8 * n > b.size())
    fail(path + ": string tables run past the end of the file (" + std::to_string(n) + " entries, truncated?)");
  auto str = [&](std::uint64_t table, std::uint64_t i) {
    const std::uint64_t len = rd32(b, static_cast<size_t>(table + 8 * i), swap);
    const std::uint64_t off = rd32(b, static_cast<size_t>(table + 8 * i + 4), swap);
    if (off + len > b.size()) fail(path + ": string " + std::to_string(i) + " runs past the end of the file (truncated?)");
    return b.substr(static_cast<size_t>(off), static_cast<size_t>(len));
  };
  std::vector<MoPair> out;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string id = str(oo, i), tr = str(to, i);
    if (id.empty()) continue;  // the catalog header
    const auto ctx = id.find('\x04');
    if (ctx != std::string::npos) id = id.substr(ctx + 1);
    id = id.substr(0, id.find('\0'));
    tr = tr.substr(0, tr.find('\0'));
    out.push_back({id, tr});
  }
  return out;
}

namespace {
std::string drop_accelerators(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '_' || c == '&') && i + 1 < s.size() && std::isalpha(static_cast<unsigned char>(s[i + 1])) &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1])))) {
      if (c == '&' && s.compare(i, 5, "&amp;") == 0) {
        out += "&";
        i += 4;
        continue;
      }
      continue;
    }
    // a mnemonic inside a word: "Dat_ei"; only for '_' between letters of a short label
    out.push_back(c);
  }
  return out;
}
}  // namespace

bool clean_translation_pair(std::string& de, std::string& en) {
  auto prep = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  en = prep(en);
  de = prep(de);
  for (const std::string* s : {&en, &de})
    for (char c : *s)
      if (static_cast<unsigned char>(c) < 0x20) return false;  // multi-line, tabs, escapes
  if (!valid_utf8(en) || !valid_utf8(de)) return false;
  en = trim(drop_accelerators(en));
  de = trim(drop_accelerators(de));
  if (en.size() < 2 || en.size() > 100 || de.size() < 2 || de.size() > 130) return false;
  if (en == de) return false;
  int letters = 0, pct = 0;
  for (char c : en) {
    letters += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
    pct += c == '%' ? 1 : 0;
  }
  if (letters < 2 || pct > 3) return false;
  if (en.find("http") != std::string::npos || en.find('<') != std::string::npos) return false;  // URLs, markup
  return true;
}

std::string strip_roff(const std::string& roff) {
  std::string out;
  for (std::string line : split_lines(roff)) {
    if (line.rfind(".\\\"", 0) == 0 || line.rfind("'\\\"", 0) == 0 || line.rfind("\\\"", 0) == 0) continue;
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) {
      // requests that carry text
      std::string req = line.substr(1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1);
      static const std::set<std::string> text_reqs = {"SH", "SS", "B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM", "TP", "IP", "Nm", "Nd", "Sh", "It", "Fl", "Ar"};
      if (!text_reqs.count(req)) {
        if (req == "PP" || req == "LP" || req == "P" || req == "sp" || req == "Pp") out += "\n";
        continue;
      }
      const auto sp = line.find(' ');
      if (sp == std::string::npos) continue;
      std::string arg = line.substr(sp + 1);
      if (req == "IP" || req == "TP") {  // only the tag
        if (!arg.empty() && arg[0] == '"') arg = arg.substr(1, arg.find('"', 1) == std::string::npos ? std::string::npos : arg.find('"', 1) - 1);
        else arg = arg.substr(0, arg.find(' '));
      }
      std::string a2;
      for (char c : arg)
        if (c != '"') a2.push_back(c);
      line = a2;
      if (req == "SH" || req == "SS" || req == "Sh") line = "\n" + line;
    }
    // inline escapes
    std::string t;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] != '\\' || i + 1 >= line.size()) {
        t.push_back(line[i]);
        continue;
      }
      const char e = line[i + 1];
      if (e == 'f') {  // \fB \fI \fR \fP \f(CW \f[..]
        if (i + 2 < line.size() && line[i + 2] == '(') i += 4;
        else if (i + 2 < line.size() && line[i + 2] == '[') i = line.find(']', i) == std::string::npos ? line.size() : line.find(']', i);
        else i += 2;
      } else if (e == '(') {  // \(xx
        const std::string nm = line.substr(i + 2, 2);
        if (nm == "aq") t += "'";
        else if (nm == "dq") t += "\"";
        else if (nm == "em" || nm == "en" || nm == "hy") t += "-";
        else if (nm == "bu") t += "*";
        else if (nm == "lq" || nm == "rq") t += "\"";
        i += 3;
      } else if (e == '*') {  // \*(xx, \*[..], \*x
        if (i + 2 < line.size() && line[i + 2] == '(') i += 4;
        else if (i + 2 < line.size() && line[i + 2] == '[') i = line.find(']', i) == std::string::npos ? line.size() : line.find(']', i);
        else i += 2;
      } else if (e == 's') {  // \s-1 \s0 \s+2
        i += 2;
        if (i < line.size() && (line[i] == '-' || line[i] == '+')) ++i;
      } else if (e == '-') {
        t += "-";
        ++i;
      } else if (e == 'e' || e == '\\') {
        t += "\\";
        ++i;
      } else if (e == '&' || e == '|' || e == '^' || e == 'c' || e == ':') {
        ++i;
      } else if (e == '~' || e == ' ' || e == '0') {
        t += " ";
        ++i;
      } else if (e == '"') {
        break;  // comment to end of line
      } else {
        ++i;
      }
    }
    out += t;
    out += "\n";
  }
  // join paragraph lines: man text is filled by the formatter
  std::string res;
  for (const auto& para : split_lines(out)) {
    if (trim(para).empty()) {
      if (!res.empty() && res.back() != '\n') res += "\n";
      if (!res.empty() && (res.size() < 2 || res[res.size() - 2] != '\n')) res += "\n";
      continue;
    }
    if (!res.empty() && res.back() != '\n') res += " ";
    res += trim(para);
  }
  return normalize_text(res);
}

std::string read_text_file(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    std::string quoted = "'";
    for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    FILE* p = popen(("gzip -dc -- " + quoted + " 2>/dev/null").c_str(), "r");
    if (!p) fail(path + ": cannot run gzip");
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) fail(path + ": gzip -dc failed (missing or corrupt file?)");
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (missing file?)");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> python_functions(const std::string& source, int max_lines) {
  const std::vector<std::string> lines = split_lines(normalize_text(source));
  std::vector<std::string> out;
  auto indent_of = [](const std::string& l) {
    size_t i = 0;
    while (i < l.size() && l[i] == ' ') ++i;
    return static_cast<int>(i);
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const int ind = indent_of(l);
    if (ind != 0 && ind != 4) continue;  // top-level functions and methods, no nested ones
    const std::string body = l.substr(static_cast<size_t>(ind));
    if (body.rfind("def ", 0) != 0 && body.rfind("async def ", 0) != 0) continue;
    // signature: until parentheses balance and the line ends with ':'
    size_t j = i;
    int depth = 0;
    bool ok = false;
    for (; j < lines.size() && j < i + 12; ++j) {
      for (char c : lines[j]) depth += c == '(' || c == '[' ? 1 : c == ')' || c == ']' ? -1 : 0;
      std::string r = rtrim(lines[j].substr(0, lines[j].find(" #")));
      if (depth <= 0 && !r.empty() && r.back() == ':') {
        ok = true;
        break;
      }
    }
    if (!ok) continue;
    size_t k = j + 1;
    while (k < lines.size() && (trim(lines[k]).empty() || indent_of(lines[k]) > ind)) ++k;
    while (k > j + 1 && trim(lines[k - 1]).empty()) --k;
    const int n = static_cast<int>(k - i);
    if (n < 3 || n > max_lines) continue;
    std::string f;
    for (size_t t = i; t < k; ++t) {
      const std::string& x = lines[t];
      f += (static_cast<int>(x.size()) >= ind ? x.substr(static_cast<size_t>(ind)) : std::string()) + "\n";
    }
    if (f.size() > 1000) continue;
    out.push_back(f);
  }
  return out;
}

// ---------------------------------------------------------------- JSONL
void write_jsonl(const std::string& path, const std::vector<Example>& ex) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path + ": cannot write");
  for (const auto& e : ex) out << json{{"prompt", e.prompt}, {"target", e.target}}.dump() << "\n";
  if (!out) fail(path + ": write failed");
}

std::vector<Example> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open (missing file? build the data with scripts/data/build.sh)");
  std::vector<Example> out;
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    try {
      json j = json::parse(line);
      out.push_back({j.at("prompt").get<std::string>(), j.at("target").get<std::string>()});
    } catch (const json::exception& e) {
      fail(path + ":" + std::to_string(no) + ": bad example line: " + e.what());
    }
  }
  return out;
}

void write_docs_jsonl(const std::string& path, const std::vector<std::string>& docs) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path + ": cannot write");
  for (const auto& d : docs) out << json{{"text", d}}.dump() << "\n";
  if (!out) fail(path + ": write failed");
}

std::vector<std::string> read_docs_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open (missing file? build the data with scripts/data/build.sh)");
  std::vector<std::string> out;
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    try {
      out.push_back(json::parse(line).at("text").get<std::string>());
    } catch (const json::exception& e) {
      fail(path + ":" + std::to_string(no) + ": bad document line: " + e.what());
    }
  }
  return out;
}

// ---------------------------------------------------------------- building
namespace {

// code test example from a function: the prefix up to a chosen body line, and that line
bool code_test_example(const std::string& fn, Example& ex) {
  const std::vector<std::string> lines = split_lines(fn);
  // the signature ends at the first line ending with ':' (parentheses balanced)
  size_t sig = 0;
  int depth = 0;
  for (; sig < lines.size(); ++sig) {
    for (char c : lines[sig]) depth += c == '(' || c == '[' ? 1 : c == ')' || c == ']' ? -1 : 0;
    std::string r = rtrim(lines[sig]);
    if (depth <= 0 && !r.empty() && r.back() == ':') break;
  }
  std::vector<size_t> cand;
  bool in_doc = false;
  for (size_t k = sig + 1; k < lines.size(); ++k) {
    const std::string t = trim(lines[k]);
    size_t q = 0, pos = 0;
    while ((pos = t.find("\"\"\"", pos)) != std::string::npos) ++q, pos += 3;
    pos = 0;
    while ((pos = t.find("'''", pos)) != std::string::npos) ++q, pos += 3;
    const bool doc_line = in_doc || q > 0;
    if (q % 2) in_doc = !in_doc;
    if (doc_line || t.size() < 3 || t.size() > 80 || t[0] == '#') continue;
    cand.push_back(k);
  }
  if (cand.empty()) return false;
  const size_t k = cand[fnv1a(fn) % cand.size()];
  ex.prompt.clear();
  for (size_t t = 0; t < k; ++t) ex.prompt += lines[t] + "\n";
  ex.target = lines[k];
  return true;
}

}  // namespace

BuildReport build_datasets(const BuildOptions& opt) {
  BuildReport rep;
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) fail(opt.out_dir + ": cannot create: " + ec.message());
  const std::string L = opt.lists_dir + "/";

  // --- translation pairs from gettext catalogs
  {
    std::vector<std::pair<std::string, std::string>> pairs;  // de, en
    std::unordered_set<std::string> seen_en, seen_de;
    std::int64_t raw = 0;
    const auto mos = read_list(L + "mo.txt");
    for (const auto& f : mos) {
      for (auto& p : parse_mo(f)) {
        ++raw;
        std::string de = p.msgstr, en = p.msgid;
        if (!clean_translation_pair(de, en)) continue;
        if (seen_en.count(en) || seen_de.count(de)) continue;
        seen_en.insert(en);
        seen_de.insert(de);
        pairs.emplace_back(de, en);
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
      const auto ha = fnv1a(a.first + "\x1f" + a.second), hb = fnv1a(b.first + "\x1f" + b.second);
      return ha != hb ? ha < hb : a < b;
    });
    std::vector<Example> train, test;
    for (size_t i = 0; i < pairs.size(); ++i)
      (static_cast<int>(i) < opt.translate_test ? test : train).push_back({pairs[i].first, pairs[i].second});
    write_jsonl(opt.out_dir + "/translate.train.jsonl", train);
    write_jsonl(opt.out_dir + "/translate.test.jsonl", test);
    rep.counts["translate.catalogs"] = static_cast<std::int64_t>(mos.size());
    rep.counts["translate.raw_pairs"] = raw;
    rep.counts["translate.train"] = static_cast<std::int64_t>(train.size());
    rep.counts["translate.test"] = static_cast<std::int64_t>(test.size());
    progress(opt.verbose, "data: translate: " + std::to_string(mos.size()) + " catalogs, " + std::to_string(raw) +
                              " entries -> " + std::to_string(train.size()) + " train + " + std::to_string(test.size()) + " test pairs");
  }

  // --- code completion from the Python standard library (split by file)
  std::unordered_set<std::string> private_code;
  {
    const auto files = read_list(L + "stdlib.txt");
    std::vector<std::string> train_fns, test_fns;
    std::unordered_set<std::string> seen;
    for (const auto& f : files) {
      const bool test_file = fnv1a(fs::path(f).filename().string() + "|" + f) % 8 == 0;
      for (auto& fn : python_functions(read_text_file(f), 24)) {
        if (!seen.insert(fn).second) continue;
        (test_file ? test_fns : train_fns).push_back(fn);
      }
    }
    std::vector<std::pair<std::uint64_t, Example>> cands;
    for (const auto& fn : test_fns) {
      Example ex;
      if (code_test_example(fn, ex)) cands.emplace_back(fnv1a(fn), ex);
    }
    std::sort(cands.begin(), cands.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second.prompt < b.second.prompt;
    });
    std::vector<Example> train, test;
    for (const auto& fn : train_fns) train.push_back({"", fn});
    for (size_t i = 0; i < cands.size() && static_cast<int>(i) < opt.code_test; ++i) test.push_back(cands[i].second);
    write_jsonl(opt.out_dir + "/code.train.jsonl", train);
    write_jsonl(opt.out_dir + "/code.test.jsonl", test);
    for (const auto& fn : train_fns) private_code.insert(fn);
    for (const auto& fn : test_fns) private_code.insert(fn);
    rep.counts["code.files"] = static_cast<std::int64_t>(files.size());
    rep.counts["code.train"] = static_cast<std::int64_t>(train.size());
    rep.counts["code.test"] = static_cast<std::int64_t>(test.size());
    progress(opt.verbose, "data: code: " + std::to_string(files.size()) + " stdlib files -> " + std::to_string(train.size()) +
                              " train functions + " + std::to_string(test.size()) + " test completions");
  }

  // --- public pre-training corpus
  {
    struct Source {
      std::string name, list;
      double share;
      int kind;  // 0 prose, 1 man page, 2 python
    };
    const std::vector<Source> sources = {{"prose", "prose.txt", 0.25, 0},
                                         {"man_en", "man_en.txt", 0.30, 1},
                                         {"man_de", "man_de.txt", 0.15, 1},
                                         {"pycode", "pycode.txt", 0.30, 2}};
    std::vector<std::string> docs;
    std::unordered_set<std::uint64_t> seen;
    for (const auto& s : sources) {
      const size_t cap = static_cast<size_t>(s.share * static_cast<double>(opt.max_pretrain_bytes));
      size_t bytes = 0;
      std::int64_t n = 0;
      for (const auto& f : hash_order(read_list(L + s.list))) {
        if (bytes >= cap) break;
        std::string raw;
        try {
          raw = read_text_file(f);
        } catch (const std::exception&) {
          continue;  // a dangling link in a package is not fatal
        }
        if (raw.find('\0') != std::string::npos || !valid_utf8(raw)) continue;
        std::string text = s.kind == 1 ? strip_roff(raw) : normalize_text(raw);
        if (text.size() > 48000) text = text.substr(0, text.rfind('\n', 48000));
        if (text.size() < 200) continue;
        if (s.kind == 2) {  // no private task function may leak into the public corpus
          bool leak = false;
          for (const auto& fn : python_functions(text, 1000))
            if (private_code.count(fn)) leak = true;
          if (leak) continue;
        }
        if (!seen.insert(fnv1a(text)).second) continue;
        docs.push_back(text);
        bytes += text.size();
        ++n;
      }
      rep.counts["pretrain." + s.name + ".docs"] = n;
      rep.counts["pretrain." + s.name + ".bytes"] = static_cast<std::int64_t>(bytes);
      progress(opt.verbose, "data: pretrain " + s.name + ": " + std::to_string(n) + " documents, " + std::to_string(bytes >> 10) + " KiB");
    }
    write_docs_jsonl(opt.out_dir + "/pretrain.jsonl", docs);
    rep.counts["pretrain.docs"] = static_cast<std::int64_t>(docs.size());
    // sentencepiece input: one chunk (<= 2000 bytes, newline as U+23CE) a line, a third of the corpus
    std::ofstream spm(opt.out_dir + "/spm_input.txt", std::ios::binary | std::ios::trunc);
    std::int64_t lines = 0;
    for (const auto& d : docs) {
      std::string cur;
      auto flush = [&]() {
        if (!trim(cur).empty() && fnv1a(cur) % 3 == 0) {
          spm << cur << "\n";
          ++lines;
        }
        cur.clear();
      };
      for (const auto& l : split_lines(d)) {
        if (cur.size() + l.size() + 3 > 2000) flush();
        if (l.size() + 3 > 2000) continue;
        if (!cur.empty()) cur += "\xe2\x8f\x8e";  // U+23CE
        cur += l;
      }
      flush();
    }
    rep.counts["spm_input.lines"] = lines;
  }
  return rep;
}

// ---------------------------------------------------------------- metrics
namespace {
std::vector<std::string> utf8_chars_nows(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    n = std::min(n, s.size() - i);
    if (!(n == 1 && std::isspace(c))) out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}
}  // namespace

double chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw std::invalid_argument("chrf: hypotheses and references differ in count");
  constexpr int N = 6;
  constexpr double beta = 2.0;
  double match[N] = {0}, hyp_n[N] = {0}, ref_n[N] = {0};
  for (size_t s = 0; s < hyps.size(); ++s) {
    const auto h = utf8_chars_nows(hyps[s]), r = utf8_chars_nows(refs[s]);
    for (int n = 1; n <= N; ++n) {
      std::map<std::string, int> hc, rc;
      for (size_t i = 0; i + static_cast<size_t>(n) <= h.size(); ++i) {
        std::string g;
        for (int k = 0; k < n; ++k) g += h[i + static_cast<size_t>(k)];
        ++hc[g];
      }
      for (size_t i = 0; i + static_cast<size_t>(n) <= r.size(); ++i) {
        std::string g;
        for (int k = 0; k < n; ++k) g += r[i + static_cast<size_t>(k)];
        ++rc[g];
      }
      for (const auto& [g, c] : hc) {
        auto it = rc.find(g);
        if (it != rc.end()) match[n - 1] += std::min(c, it->second);
        hyp_n[n - 1] += c;
      }
      for (const auto& [g, c] : rc) ref_n[n - 1] += c;
    }
  }
  double score = 0;
  for (int n = 0; n < N; ++n) {
    const double p = hyp_n[n] > 0 ? match[n] / hyp_n[n] : 0, r = ref_n[n] > 0 ? match[n] / ref_n[n] : 0;
    const double den = beta * beta * p + r;
    score += den > 0 ? (1 + beta * beta) * p * r / den : 0;
  }
  return 100.0 * score / N;
}

double exact_match(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw std::invalid_argument("exact_match: hypotheses and references differ in count");
  if (hyps.empty()) return 0;
  int ok = 0;
  for (size_t i = 0; i < hyps.size(); ++i) ok += rtrim(hyps[i]) == rtrim(refs[i]) ? 1 : 0;
  return 100.0 * ok / static_cast<double>(hyps.size());
}

// ---------------------------------------------------------------- manifest
std::string sha256_hex(const std::string& bytes) { return pkg::sha256_hex(bytes.data(), bytes.size()); }

void write_manifest(const std::string& path, const std::string& data_dir, const std::vector<std::string>& files,
                    const std::map<std::string, std::int64_t>& counts, const std::map<std::string, std::string>& packages) {
  json j;
  j["format"] = "marill-data-manifest";
  j["version"] = 1;
  j["counts"] = counts;
  j["packages"] = packages;
  json fj = json::object();
  for (const auto& f : files) {
    const std::string bytes = read_text_file(data_dir + "/" + f);
    fj[f] = {{"bytes", bytes.size()}, {"sha256", sha256_hex(bytes)}};
  }
  j["files"] = fj;
  std::ofstream out(path, std::ios::trunc);
  if (!out) fail(path + ": cannot write");
  out << j.dump(2) << "\n";
}

std::vector<std::string> check_manifest(const std::string& path, const std::string& data_dir) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open the manifest");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail(path + ": invalid JSON: " + e.what());
  }
  std::vector<std::string> bad;
  if (!j.contains("files") || !j["files"].is_object()) fail(path + ": no 'files' section");
  for (auto it = j["files"].begin(); it != j["files"].end(); ++it) {
    const std::string f = data_dir + "/" + it.key();
    if (!fs::exists(f)) {
      bad.push_back(it.key() + ": missing");
      continue;
    }
    const std::string bytes = read_text_file(f);
    const std::string want = it->value("sha256", "");
    if (sha256_hex(bytes) != want)
      bad.push_back(it.key() + ": SHA-256 " + sha256_hex(bytes).substr(0, 16) + "... differs from the manifest's " +
                    want.substr(0, 16) + "... (" + std::to_string(bytes.size()) + " vs " +
                    std::to_string(it->value("bytes", 0)) + " bytes)");
  }
  return bad;
}

}  // namespace marill::data
