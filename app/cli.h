// A tiny argument reader shared by the sub-commands: "--key value" and "--flag" options, with
// clear errors for unknown options and bad values.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace marill {

std::vector<std::string> split(const std::string& s, char sep);

class Args {
 public:
  // `known` lists accepted options; an option followed by a value not starting with "--" takes it.
  Args(int argc, char** argv, std::set<std::string> known, std::string usage);
  bool help() const { return help_; }
  bool has(const std::string& k) const { return values_.count(k) > 0; }
  std::string get(const std::string& k, const std::string& dflt) const;
  int get_int(const std::string& k, int dflt, int lo, int hi) const;
  double get_double(const std::string& k, double dflt) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace marill
