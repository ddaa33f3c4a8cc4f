#include "app/cli.h"

#include <cstdio>
#include <stdexcept>

namespace marill {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

Args::Args(int argc, char** argv, std::set<std::string> known, std::string usage) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", usage.c_str());
      help_ = true;
      return;
    }
    if (a.rfind("--", 0) == 0) {
      if (!known.count(a)) throw std::invalid_argument("unknown option '" + a + "'\n" + usage);
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) values_[a] = argv[++i];
      else values_[a] = "";
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Args::get(const std::string& k, const std::string& dflt) const {
  auto it = values_.find(k);
  return it == values_.end() ? dflt : it->second;
}

int Args::get_int(const std::string& k, int dflt, int lo, int hi) const {
  if (!has(k)) return dflt;
  const std::string v = get(k, "");
  size_t used = 0;
  int x = 0;
  try {
    x = std::stoi(v, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != v.size()) throw std::invalid_argument(k + ": expected an integer, got '" + v + "'");
  if (x < lo || x > hi) throw std::invalid_argument(k + ": " + v + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

double Args::get_double(const std::string& k, double dflt) const {
  if (!has(k)) return dflt;
  const std::string v = get(k, "");
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != v.size()) throw std::invalid_argument(k + ": expected a number, got '" + v + "'");
  return x;
}

}  // namespace marill
