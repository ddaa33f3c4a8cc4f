#include "app/cli.h"

#include <cstdio>
#include <stdexcept>

#include "protocols/ring/allocator.h"

namespace po = boost::program_options;

namespace marill {

namespace {

// A comma list as one option value ("1,2,4"); po parses the integers and names the option when one is bad.
struct IntList {
  std::vector<long long> values;
};
struct TextList {
  std::vector<std::string> values;
};

std::string strip_dashes(const std::string& k) { return k.rfind("--", 0) == 0 ? k.substr(2) : k; }

// Program_options finds these by argument-dependent lookup on the value types (same namespace).
void validate(boost::any& v, const std::vector<std::string>& tokens, IntList*, int) {
  po::validators::check_first_occurrence(v);
  const std::string& s = po::validators::get_single_string(tokens);
  IntList out;
  for (const auto& item : split(s, ',')) {
    std::size_t used = 0;
    long long x = 0;
    try {
      x = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size()) throw po::invalid_option_value(s);
    out.values.push_back(x);
  }
  v = out;
}

void validate(boost::any& v, const std::vector<std::string>& tokens, TextList*, int) {
  po::validators::check_first_occurrence(v);
  const std::string& s = po::validators::get_single_string(tokens);
  TextList out;
  for (const auto& item : split(s, ',')) {
    if (item.empty()) throw po::invalid_option_value(s);
    out.values.push_back(item);
  }
  v = out;
}

}  // namespace

int run_main(int argc, char** argv, int (*dispatch)(int, char**)) {
  tune_allocator_for_protocols();
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "marill: error: %s\n", e.what());
    return 1;
  }
}

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

Args::Args(int argc, char** argv, std::vector<Opt> known, std::string usage, bool positional_allowed) : known_(std::move(known)) {
  po::options_description desc("options");
  for (const Opt& o : known_) {
    const std::string name = strip_dashes(o.name);
    switch (o.kind) {
      case Opt::text: desc.add_options()(name.c_str(), po::value<std::string>()); break;
      case Opt::integer: desc.add_options()(name.c_str(), po::value<long long>()); break;
      case Opt::number: desc.add_options()(name.c_str(), po::value<double>()); break;
      case Opt::ints: desc.add_options()(name.c_str(), po::value<IntList>()); break;
      case Opt::texts: desc.add_options()(name.c_str(), po::value<TextList>()); break;
      case Opt::flag: desc.add_options()(name.c_str(), po::bool_switch()); break;
    }
  }
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", usage.c_str());
      help_ = true;
      return;
    }
  }
  desc.add_options()("positional", po::value<std::vector<std::string>>());
  po::positional_options_description pos;  // none declared: a word is "too many positional options"
  if (positional_allowed) pos.add("positional", -1);
  // Long options only, exact names (no abbreviations): "-1" is a value ("--lora -1"), never an option.
  const int style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                    po::command_line_style::long_allow_next;
  try {
    std::vector<std::string> words(argv, argv + argc);
    po::store(po::command_line_parser(words).options(desc).positional(pos).style(style).run(), vm_);
    po::notify(vm_);
  } catch (const po::too_many_positional_options_error&) {
    for (const auto& w : std::vector<std::string>(argv, argv + argc))
      if (w.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + w + "' (options start with --)\n" + usage);
    throw std::invalid_argument("unexpected argument\n" + usage);
  } catch (const po::error& e) {
    throw std::invalid_argument(std::string(e.what()) + "\n" + usage);
  }
  if (vm_.count("positional")) positional_ = vm_["positional"].as<std::vector<std::string>>();
}

const Opt& Args::known(const std::string& k, Opt::Kind kind) const {
  for (const Opt& o : known_)
    if (o.name == k) {
      if (o.kind != kind) throw std::logic_error("option " + k + " is read as another kind than declared");
      return o;
    }
  throw std::logic_error("option " + k + " is read but not declared");
}

bool Args::has(const std::string& k) const {
  const std::string name = strip_dashes(k);
  if (!vm_.count(name)) return false;
  for (const Opt& o : known_)
    if (o.name == k && o.kind == Opt::flag) return vm_[name].as<bool>();
  return true;
}

std::string Args::get(const std::string& k, const std::string& dflt) const {
  known(k, Opt::text);
  return has(k) ? vm_[strip_dashes(k)].as<std::string>() : dflt;
}

long long Args::get_int(const std::string& k, long long dflt, long long lo, long long hi) const {
  known(k, Opt::integer);
  if (!has(k)) return dflt;
  const long long x = vm_[strip_dashes(k)].as<long long>();
  if (x < lo || x > hi)
    throw std::invalid_argument("option '" + k + "': " + std::to_string(x) + " is outside [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return x;
}

double Args::get_double(const std::string& k, double dflt) const {
  known(k, Opt::number);
  return has(k) ? vm_[strip_dashes(k)].as<double>() : dflt;
}

std::vector<long long> Args::get_ints(const std::string& k, const std::vector<long long>& dflt, long long lo, long long hi) const {
  known(k, Opt::ints);
  if (!has(k)) return dflt;
  const auto& xs = vm_[strip_dashes(k)].as<IntList>().values;
  for (long long x : xs)
    if (x < lo || x > hi)
      throw std::invalid_argument("option '" + k + "': " + std::to_string(x) + " is outside [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "]");
  return xs;
}

std::vector<std::string> Args::get_texts(const std::string& k, const std::vector<std::string>& dflt) const {
  known(k, Opt::texts);
  return has(k) ? vm_[strip_dashes(k)].as<TextList>().values : dflt;
}

}  // namespace marill
