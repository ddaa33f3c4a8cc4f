#include "protocols/mpc/function_policy.h"

#include <stdexcept>

namespace marill {

namespace {

// Names of an enum's values, in enumerator order: one table per enum is the whole registry.
template <class E>
struct Names;
template <>
struct Names<SoftmaxApprox> {
  static constexpr const char* kind = "softmax approximation";
  static std::vector<const char*> all() { return {"exact", "2relu", "2quad"}; }
};
template <>
struct Names<ActApprox> {
  static constexpr const char* kind = "activation approximation";
  static std::vector<const char*> all() { return {"exact", "relu", "quad"}; }
};
template <>
struct Names<ActMethod> {
  static constexpr const char* kind = "activation method";
  static std::vector<const char*> all() { return {"spline", "poly", "relu", "cubic"}; }
};
template <>
struct Names<ExpMethod> {
  static constexpr const char* kind = "exp method";
  static std::vector<const char*> all() { return {"spline", "squaring", "cubic"}; }
};
template <>
struct Names<InvMethod> {
  static constexpr const char* kind = "reciprocal/rsqrt method";
  static std::vector<const char*> all() { return {"spline", "iteration"}; }
};

template <class E>
const char* name_of(E e) {
  static const std::vector<const char*> names = Names<E>::all();
  const size_t i = static_cast<size_t>(e);
  if (i >= names.size()) throw std::logic_error(std::string("bad ") + Names<E>::kind);
  return names[i];
}

std::string joined(const std::vector<const char*>& names) {
  std::string s;
  for (const char* n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

template <class E>
E parse_name(const std::string& s) {
  const std::vector<const char*> names = Names<E>::all();
  for (size_t i = 0; i < names.size(); ++i)
    if (s == names[i]) return static_cast<E>(i);
  throw std::invalid_argument("unknown " + std::string(Names<E>::kind) + " '" + s + "' (" + joined(names) + ")");
}

template <class E>
std::vector<E> all_values() {
  std::vector<E> v;
  for (size_t i = 0; i < Names<E>::all().size(); ++i) v.push_back(static_cast<E>(i));
  return v;
}

// The policy's entries by name: reading and writing one entry as text.
struct Entry {
  const char* name;
  std::string (*get)(const FunctionPolicy&);
  void (*set)(FunctionPolicy&, const std::string&);
};

#define MARILL_POLICY_ENTRY(field, Enum)                                                               \
  Entry {                                                                                              \
    #field, [](const FunctionPolicy& p) { return std::string(name_of(p.field)); },                     \
        [](FunctionPolicy& p, const std::string& v) { p.field = parse_name<Enum>(v); }                 \
  }

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = {
      MARILL_POLICY_ENTRY(silu, ActMethod),          MARILL_POLICY_ENTRY(gelu, ActMethod),
      MARILL_POLICY_ENTRY(exp, ExpMethod),           MARILL_POLICY_ENTRY(reciprocal, InvMethod),
      MARILL_POLICY_ENTRY(rsqrt, InvMethod),         MARILL_POLICY_ENTRY(softmax, SoftmaxApprox),
      MARILL_POLICY_ENTRY(act, ActApprox),
  };
  return e;
}
#undef MARILL_POLICY_ENTRY

}  // namespace

const char* approx_name(SoftmaxApprox a) { return name_of(a); }
const char* approx_name(ActApprox a) { return name_of(a); }
std::string to_string(SoftmaxApprox a) { return name_of(a); }
std::string to_string(ActApprox a) { return name_of(a); }
SoftmaxApprox parse_softmax_approx(const std::string& s) { return parse_name<SoftmaxApprox>(s); }
ActApprox parse_act_approx(const std::string& s) { return parse_name<ActApprox>(s); }
const std::vector<SoftmaxApprox>& all_softmax_approx() {
  static const std::vector<SoftmaxApprox> v = all_values<SoftmaxApprox>();
  return v;
}
const std::vector<ActApprox>& all_act_approx() {
  static const std::vector<ActApprox> v = all_values<ActApprox>();
  return v;
}

const char* method_name(ActMethod m) { return name_of(m); }
const char* method_name(ExpMethod m) { return name_of(m); }
const char* method_name(InvMethod m) { return name_of(m); }

bool FunctionPolicy::operator==(const FunctionPolicy& o) const {
  return silu == o.silu && gelu == o.gelu && exp == o.exp && reciprocal == o.reciprocal && rsqrt == o.rsqrt &&
         softmax == o.softmax && act == o.act;
}

FunctionPolicy default_policy(Setting s) {
  FunctionPolicy p;
  if (s == Setting::two_pc_dealer) {
    p.silu = p.gelu = ActMethod::spline;
    p.exp = ExpMethod::spline;
    p.reciprocal = p.rsqrt = InvMethod::spline;
  }
  if (s == Setting::two_pc) {
    // Measured (bench layer --settings 2pc --phantom --b 64 --d 256 --policy ...): a spline's knots
    // share their comparisons' leaf OTs, so SiLU by spline sends 635 MB against 1,069 MB by polynomial
    // (64-bit Gilboa products), exp by spline 1.8% less than by squaring and 16 fewer rounds; the
    // reciprocal / inverse square root iterations send slightly fewer bytes than their splines.
    // Cubic splines need well under half the knots, whose comparisons dominate: SiLU 3.5 KB per element against
    // 5.4 KB, 2.1x less time, 21 rounds against 13 (bench functions --settings 2pc --shape 16384
    // --policy silu=spline|cubic); GeLU likewise (3.4 KB against 5.0 KB, 1.7x); exp too (4.2 KB
    // against 7.3 KB per element; softmax 5.3 KB per score against 8.3 KB).
    p.silu = p.gelu = ActMethod::cubic;
    p.exp = ExpMethod::cubic;
  }
  return p;
}

FunctionPolicy parse_policy(const std::string& overrides, FunctionPolicy base) {
  size_t at = 0;
  while (at < overrides.size()) {
    size_t end = overrides.find(',', at);
    if (end == std::string::npos) end = overrides.size();
    const std::string item = overrides.substr(at, end - at);
    at = end + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw std::invalid_argument("function policy: expected name=method, got '" + item + "'");
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    const Entry* hit = nullptr;
    std::string known;
    for (const Entry& e : entries()) {
      if (name == e.name) hit = &e;
      known += (known.empty() ? "" : ", ") + std::string(e.name);
    }
    if (!hit) throw std::invalid_argument("function policy: unknown function '" + name + "' (" + known + ")");
    try {
      hit->set(base, value);
    } catch (const std::invalid_argument& err) {
      throw std::invalid_argument("function policy: " + name + ": " + err.what());
    }
  }
  return base;
}

std::string policy_str(const FunctionPolicy& p) {
  std::string s;
  for (const Entry& e : entries()) s += (s.empty() ? "" : ",") + std::string(e.name) + "=" + e.get(p);
  return s;
}

}  // namespace marill
