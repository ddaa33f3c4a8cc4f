// Helpers for the security tests: run a session with every frame recorded, pick out one party's
// words per op, and chi-square statistics (Boost.Math) on their bits and bytes.
//
// The statistics decide at significance 1e-6: a correct protocol fails a check about once in a
// million runs, a broken one (unmasked, reused or input-dependent masks) fails by many orders of
// magnitude. Inputs come from fixed-key PRGs; the protocols' own randomness comes from the OS.
#pragma once

#include <catch2/catch.hpp>

#include <boost/math/distributions/chi_squared.hpp>

#include <array>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "actors/recording_transport.h"
#include "actors/session.h"
#include "protocols/ring/prg.h"

namespace marill::sectest {

constexpr double kSignificance = 1e-6;

struct Recorded {
  SessionResult result;
  std::shared_ptr<FrameLog> log;
};

// The program gets the log too, to mark() which op its frames belong to.
using RecordedProgram = std::function<void(Backend&, FrameLog&)>;

inline Recorded run_recorded(Setting setting, const RecordedProgram& program, bool phantom = false,
                             bool fss_gates = true) {
  SessionConfig cfg;
  cfg.setting = setting;
  cfg.phantom = phantom;
  if (!fss_gates) cfg.policy = default_policy(Setting::three_pc);  // polynomial methods, as before the policy
  cfg.recv_timeout = std::chrono::milliseconds(30000);
  cfg.record_frames = std::make_shared<FrameLog>();
  FrameLog& log = *cfg.record_frames;
  Recorded r;
  r.result = run_session(cfg, [&](Backend& be) { program(be, log); });
  r.log = cfg.record_frames;
  return r;
}

// A party's input, or a phantom of its shape on every other party.
inline RingTensor own(const Backend& be, Role owner, const RingTensor& v) {
  return be.role() == owner ? v : RingTensor::phantom(v.shape());
}

// Fixed-point values uniform in [lo, hi) from a PRG with a fixed key (the same tensor every run).
inline RingTensor seeded_fixed(const Shape& shape, double lo, double hi, std::uint8_t seed, const FixedPoint& fxp = {}) {
  Key128 key{};
  key[0] = seed;
  Prg prg(key);
  RingTensor t(shape);
  for (i64 i = 0; i < t.numel(); ++i) {
    const double u = static_cast<double>(prg.next_u64() >> 11) / 9007199254740992.0;
    t[i] = fxp.encode(lo + (hi - lo) * u);
  }
  return t;
}

// The frames' payloads as ring words. Values packed at their width (the spline gate's masked piece
// index, 3pc's short corrections) may end mid-word: that last word is read zero-padded, one word
// among the thousands a statistic sees, the same in every run it is compared with.
inline std::vector<u64> words_of(const std::vector<RecordedFrame>& frames) {
  std::vector<u64> out;
  for (const auto& f : frames) {
    std::vector<std::uint8_t> bytes = f.payload;
    bytes.resize((bytes.size() + 7) / 8 * 8, 0);
    const size_t at = out.size();
    out.resize(at + bytes.size() / 8);
    if (!bytes.empty()) std::memcpy(out.data() + at, bytes.data(), bytes.size());  // ring words travel little-endian
  }
  return out;
}

// The online words `party` received from `peer` (or sent to it) while `label` was marked.
inline std::vector<u64> received(const FrameLog& log, Role party, Role peer, const std::string& label) {
  return words_of(log.frames(party, FrameDirection::received, peer, label));
}
inline std::vector<u64> sent(const FrameLog& log, Role party, Role peer, const std::string& label) {
  return words_of(log.frames(party, FrameDirection::sent, peer, label));
}

// What `party` learns from an opening with `peer` (each sends its masked share): the sum.
inline std::vector<u64> opened(const FrameLog& log, Role party, Role peer, const std::string& label) {
  std::vector<u64> a = sent(log, party, peer, label), b = received(log, party, peer, label);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

struct ChiSquare {
  double statistic = 0;
  double dof = 0;
  double p = 1;  // P(chi2(dof) >= statistic)
  bool passes() const { return p >= kSignificance; }
};

inline std::ostream& operator<<(std::ostream& os, const ChiSquare& c) {
  return os << "chi2 = " << c.statistic << " on " << c.dof << " degrees of freedom, p = " << c.p;
}

inline ChiSquare chi_square(double statistic, double dof) {
  ChiSquare c;
  c.statistic = statistic;
  c.dof = dof;
  c.p = boost::math::cdf(boost::math::complement(boost::math::chi_squared(dof), statistic));
  return c;
}

// Bit balance: each of the 64 bit positions is 1 in half the words. Sum over positions of
// (ones - n/2)^2 / (n/4), chi-square with 64 degrees of freedom for uniform words.
inline ChiSquare bit_balance(const std::vector<u64>& words) {
  REQUIRE(words.size() >= 64);
  const double n = static_cast<double>(words.size());
  std::array<double, 64> ones{};
  for (u64 w : words)
    for (int b = 0; b < 64; ++b) ones[static_cast<size_t>(b)] += static_cast<double>((w >> b) & 1);
  double stat = 0;
  for (double o : ones) stat += (o - n / 2) * (o - n / 2) / (n / 4);
  return chi_square(stat, 64);
}

// Byte counts per byte position of the words: [position][value].
using ByteCounts = std::vector<std::array<double, 256>>;
inline ByteCounts byte_counts(const std::vector<u64>& words) {
  ByteCounts c(8);
  for (auto& row : c) row.fill(0);
  for (u64 w : words)
    for (int p = 0; p < 8; ++p) c[static_cast<size_t>(p)][(w >> (8 * p)) & 0xff] += 1;
  return c;
}

// Goodness of fit to uniform bytes at every byte position: 8 x 255 degrees of freedom. Needs
// enough words for the expected count per cell (n / 256) to be at least 5.
inline ChiSquare byte_uniformity(const std::vector<u64>& words) {
  REQUIRE(words.size() >= 5 * 256);
  const double e = static_cast<double>(words.size()) / 256;
  double stat = 0;
  for (const auto& row : byte_counts(words))
    for (double o : row) stat += (o - e) * (o - e) / e;
  return chi_square(stat, 8 * 255);
}

// Homogeneity of two samples of words: the same byte distribution at every byte position. A 2 x k
// contingency table per position (k = byte values seen in either sample), (k - 1) degrees of
// freedom each, summed over the 8 positions.
inline ChiSquare same_byte_distribution(const std::vector<u64>& a, const std::vector<u64>& b) {
  REQUIRE(a.size() >= 5 * 256);
  REQUIRE(b.size() >= 5 * 256);
  const ByteCounts ca = byte_counts(a), cb = byte_counts(b);
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size()), n = na + nb;
  double stat = 0, dof = 0;
  for (size_t p = 0; p < 8; ++p) {
    int cells = 0;
    for (size_t v = 0; v < 256; ++v) {
      const double col = ca[p][v] + cb[p][v];
      if (col == 0) continue;
      ++cells;
      const double ea = na * col / n, eb = nb * col / n;
      stat += (ca[p][v] - ea) * (ca[p][v] - ea) / ea + (cb[p][v] - eb) * (cb[p][v] - eb) / eb;
    }
    dof += cells > 1 ? cells - 1 : 0;
  }
  return chi_square(stat, dof > 0 ? dof : 1);
}

// Element-wise difference of two equally long word sequences.
inline std::vector<u64> difference(const std::vector<u64>& a, const std::vector<u64>& b) {
  REQUIRE(a.size() == b.size());
  std::vector<u64> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

inline size_t equal_words(const std::vector<u64>& a, const std::vector<u64>& b) {
  REQUIRE(a.size() == b.size());
  size_t k = 0;
  for (size_t i = 0; i < a.size(); ++i) k += a[i] == b[i];
  return k;
}

}  // namespace marill::sectest
