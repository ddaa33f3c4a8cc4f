// Command-line options of the sub-commands, on Boost.Program_options: each command declares its
// options with a kind (text, integer, number, list, flag); parsing, type conversion and the errors
// (unknown option, missing or bad value, repeated option) are Program_options'; ranges are
// checked here. Every error is a std::invalid_argument that names the option.
#pragma once

#include <boost/program_options.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace marill {

std::vector<std::string> split(const std::string& s, char sep);

// An executable's main: runs dispatch; an exception is "marill: error: ..." on stderr and exit code 1.
int run_main(int argc, char** argv, int (*dispatch)(int, char**));

struct Opt {
  enum Kind {
    text,      // --out DIR
    integer,   // --b 128
    number,    // --lr 3e-4
    ints,      // --merge 1,2,4 (comma-separated integers)
    texts,     // --settings 3pc,2pc-dealer (comma-separated words)
    flag,      // --phantom
  };
  std::string name;  // "--b"
  Kind kind;
};

class Args {
 public:
  // `known` lists the accepted options; words that are not options are positional (commands that
  // take none reject them). --help / -h prints `usage` and the options, and sets help().
  Args(int argc, char** argv, std::vector<Opt> known, std::string usage, bool positional_allowed = false);
  bool help() const { return help_; }
  bool has(const std::string& k) const;  // given on the command line
  std::string get(const std::string& k, const std::string& dflt) const;
  long long get_int(const std::string& k, long long dflt, long long lo, long long hi) const;
  double get_double(const std::string& k, double dflt) const;
  // Comma lists: every element in [lo, hi]; an empty element is an error.
  std::vector<long long> get_ints(const std::string& k, const std::vector<long long>& dflt, long long lo, long long hi) const;
  std::vector<std::string> get_texts(const std::string& k, const std::vector<std::string>& dflt) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // A value read by `parse` (e.g. parse_setting): its std::invalid_argument names the option.
  template <class Parse>
  auto parsed(const std::string& k, const std::string& value, Parse parse) const -> decltype(parse(value)) {
    try {
      return parse(value);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("option '" + k + "': " + e.what());
    }
  }

 private:
  const Opt& known(const std::string& k, Opt::Kind kind) const;
  std::vector<Opt> known_;
  boost::program_options::variables_map vm_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace marill
