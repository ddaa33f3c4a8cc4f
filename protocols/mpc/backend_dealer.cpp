#include "protocols/mpc/backend_dealer.h"

#include <cstring>
#include <stdexcept>

#include "protocols/comm/comm.h"
#include "protocols/fss/dcf.h"
#include "protocols/comm/pair_keys.h"
#include "protocols/fss/spline.h"
#include "protocols/fss/trunc_mask.h"

namespace marill {

namespace {

void require_compute_party(Role r, const char* what) {
  if (r != Role::client && r != Role::server)
    throw std::invalid_argument(std::string("2pc-dealer: ") + what + " " + role_name(r) + " (only client and server hold shares)");
}

std::vector<std::uint8_t> ltz_serialize(const LtzKeys& k) {
  std::vector<std::uint8_t> out(k.dcf.bytes);
  size_t at = out.size();
  out.resize(at + k.r_hi.size() * 8);
  if (!k.r_hi.empty()) std::memcpy(out.data() + at, k.r_hi.data(), k.r_hi.size() * 8);
  return out;
}

LtzKeys ltz_deserialize(std::vector<std::uint8_t> bytes, i64 count, int bits) {
  LtzKeys k;
  k.n_bits = bits;
  k.count = count;
  const size_t dcf_bytes = static_cast<size_t>(count) * dcf_key_bytes(bits - 1);
  if (bytes.size() != dcf_bytes + static_cast<size_t>(count) * 8)
    throw ProtocolError("2pc-dealer: comparison keys of " + std::to_string(bytes.size()) + " bytes for " + std::to_string(count) + " elements");
  k.r_hi.resize(static_cast<size_t>(count));
  if (count) std::memcpy(k.r_hi.data(), bytes.data() + dcf_bytes, static_cast<size_t>(count) * 8);
  bytes.resize(dcf_bytes);
  k.dcf.n_bits = bits - 1;
  k.dcf.count = count;
  k.dcf.bytes = std::move(bytes);
  return k;
}

// Online side of a prepared weight: F = W - B opened at set-up, B this party's mask share.
struct OnlinePrepared final : PreparedWeight {
  RingTensor F, B;
};
// Dealer side: the whole mask B (shape only in phantom runs).
struct KeygenPrepared final : PreparedWeight {
  RingTensor B;
};

template <class T>
const T& prepared_as(const Shared& w) {
  const T* p = dynamic_cast<const T*>(w.prepared.get());
  if (!p) throw std::logic_error("2pc-dealer: weight prepared by another backend");
  return *p;
}

void require_matrix(const Shared& w) {
  if (w.shape().size() != 2) throw std::invalid_argument("prepare_weight: weight must be (k,n), got " + shape_str(w.shape()));
}

}  // namespace

// ------------------------------------------------------------------ online parties

DealerOnlineBackend::DealerOnlineBackend(Comm& comm, const BackendOptions& opt)
    : Backend(opt.fxp, opt.policy_for(Setting::two_pc_dealer)),
      comm_(comm),
      is_client_(comm.role() == Role::client),
      other_(comm.role() == Role::client ? Role::server : Role::client),
      phantom_(opt.phantom),
      prg_dealer_(recv_key(comm, Role::dealer)),
      prg_own_(Prg::from_os()) {
  require_compute_party(comm.role(), "online backend for");
}

Role DealerOnlineBackend::role() const { return comm_.role(); }
Ledger& DealerOnlineBackend::ledger() { return comm_.ledger(); }

void DealerOnlineBackend::add_public_inplace(Shared& a, const RingTensor& c) {
  if (is_client_) add_inplace(a.s0, c);
}

RingTensor DealerOnlineBackend::exchange(const RingTensor& mine) {
  comm_.send(other_, mine);
  return comm_.recv(other_, mine.shape());
}

RingTensor DealerOnlineBackend::from_dealer(const Shape& shape) {
  return is_client_ ? prg_dealer_.random(shape, phantom_) : comm_.recv(Role::dealer, shape);
}

Shared DealerOnlineBackend::input(Role owner, const RingTensor& value) {
  OpScope op(ledger(), "input");
  require_compute_party(owner, "input from");
  const Shape& shape = value.shape();
  if (owner == role()) {
    if (value.is_phantom() && !phantom_) throw std::invalid_argument("2pc-dealer: the input owner must pass real data");
    RingTensor r = prg_own_.random(shape, phantom_);
    comm_.send(other_, marill::sub(value.is_phantom() ? RingTensor::phantom(shape) : value, r));
    return Shared{std::move(r), {}};
  }
  return Shared{comm_.recv(other_, shape), {}};
}

RingTensor DealerOnlineBackend::reveal(const Shared& x, Role to) {
  OpScope op(ledger(), "reveal");
  require_compute_party(to, "reveal to");
  if (to != role()) {
    comm_.send(to, x.s0);
    return RingTensor::phantom(x.shape());
  }
  return marill::add(x.s0, comm_.recv(other_, x.shape()));
}

RingTensor DealerOnlineBackend::reveal_all(const Shared& x) {
  OpScope op(ledger(), "reveal");
  return marill::add(x.s0, exchange(x.s0));
}

Shared DealerOnlineBackend::mul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "mul");
  ledger().record_macs(static_cast<u64>(x.numel()));
  require_same(x, y, "mul");
  const Shape& s = x.shape();
  RingTensor a = prg_dealer_.random(s, phantom_), b = prg_dealer_.random(s, phantom_);
  RingTensor c = from_dealer(s);
  const i64 n = x.numel();
  RingTensor ef = marill::concat({marill::sub(x.s0, a).reshaped({n}), marill::sub(y.s0, b).reshaped({n})}, 0);
  ef = marill::add(ef, exchange(ef));
  RingTensor e = slice(ef, 0, 0, n).reshaped(s), f = slice(ef, 0, n, 2 * n).reshaped(s);
  RingTensor z = marill::add(c, marill::add(mul_elem(e, b), mul_elem(f, a)));
  if (is_client_) add_inplace(z, mul_elem(e, f));
  return Shared{std::move(z), {}};
}

Shared DealerOnlineBackend::prepare_weight(const Shared& w) {
  OpScope op(ledger(), "prepare_weight");
  require_matrix(w);
  auto p = std::make_shared<OnlinePrepared>();
  p->B = prg_dealer_.random(w.shape(), phantom_);
  RingTensor f = marill::sub(w.s0, p->B);
  p->F = marill::add(f, exchange(f));
  Shared out = w;
  out.prepared = std::move(p);
  return out;
}

Shared DealerOnlineBackend::square(const Shared& x) {
  OpScope op(ledger(), "square");
  ledger().record_macs(static_cast<u64>(x.numel()));
  // x^2 = (e + a)^2 = e^2 + 2 e a + a^2 with e = x - a opened: one element per party.
  RingTensor a = prg_dealer_.random(x.shape(), phantom_);
  RingTensor c = from_dealer(x.shape());
  RingTensor e = marill::sub(x.s0, a);
  e = marill::add(e, exchange(e));
  RingTensor z = marill::add(c, marill::scale(mul_elem(e, a), 2));
  if (is_client_) add_inplace(z, mul_elem(e, e));
  return Shared{std::move(z), {}};
}

Shared DealerOnlineBackend::matmul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "matmul");
  ledger().record_macs(matmul_macs(x.shape(), y.shape()));
  if (y.prepared) {
    // Z = (E + A)(F + B) with F public since set-up: open only E = X - A.
    const auto& p = prepared_as<OnlinePrepared>(y);
    Shape out = marill::matmul(RingTensor::phantom(x.shape()), RingTensor::phantom(y.shape())).shape();
    RingTensor A = prg_dealer_.random(x.shape(), phantom_);
    RingTensor C = from_dealer(out);
    RingTensor E = marill::sub(x.s0, A);
    E = marill::add(E, exchange(E));
    RingTensor Z = marill::add(C, marill::add(marill::matmul(E, p.B), marill::matmul(A, p.F)));
    if (is_client_) add_inplace(Z, marill::matmul(E, p.F));
    return Shared{std::move(Z), {}};
  }
  RingTensor out_shape_probe = marill::matmul(RingTensor::phantom(x.shape()), RingTensor::phantom(y.shape()));
  RingTensor A = prg_dealer_.random(x.shape(), phantom_), B = prg_dealer_.random(y.shape(), phantom_);
  RingTensor C = from_dealer(out_shape_probe.shape());
  const i64 nx = x.numel(), ny = y.numel();
  RingTensor ef = marill::concat({marill::sub(x.s0, A).reshaped({nx}), marill::sub(y.s0, B).reshaped({ny})}, 0);
  ef = marill::add(ef, exchange(ef));
  RingTensor E = slice(ef, 0, 0, nx).reshaped(x.shape()), F = slice(ef, 0, nx, nx + ny).reshaped(y.shape());
  RingTensor Z = marill::add(C, marill::add(marill::matmul(E, B), marill::matmul(A, F)));
  if (is_client_) add_inplace(Z, marill::matmul(E, F));
  return Shared{std::move(Z), {}};
}

std::vector<Shared> DealerOnlineBackend::matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) {
  OpScope op(ledger(), "matmul");
  // Per product the same dealt material, in the same order, as matmul(); then one exchange of
  // every masked operand.
  struct Job {
    RingTensor A, B, C;
    const OnlinePrepared* prep = nullptr;
  };
  std::vector<Job> jobs;
  std::vector<RingTensor> masked;
  for (const auto& [x, y] : pairs) {
    ledger().record_macs(matmul_macs(x.shape(), y.shape()));
    const Shape out = marill::matmul(RingTensor::phantom(x.shape()), RingTensor::phantom(y.shape())).shape();
    Job j;
    j.A = prg_dealer_.random(x.shape(), phantom_);
    if (y.prepared) {
      j.prep = &prepared_as<OnlinePrepared>(y);
    } else {
      j.B = prg_dealer_.random(y.shape(), phantom_);
    }
    j.C = from_dealer(out);
    masked.push_back(marill::sub(x.s0, j.A).reshaped({x.numel()}));
    if (!j.prep) masked.push_back(marill::sub(y.s0, j.B).reshaped({y.numel()}));
    jobs.push_back(std::move(j));
  }
  if (jobs.empty()) return {};
  RingTensor all = marill::concat(masked, 0);
  all = marill::add(all, exchange(all));
  std::vector<Shared> out;
  i64 at = 0;
  auto take = [&](const Shape& s) {
    RingTensor t = slice(all, 0, at, at + shape_numel(s)).reshaped(s);
    at += shape_numel(s);
    return t;
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [x, y] = pairs[i];
    Job& j = jobs[i];
    RingTensor E = take(x.shape());
    RingTensor opened_f;  // an unprepared product's opened y - B; a prepared one's F is public since set-up
    if (!j.prep) opened_f = take(y.shape());
    const RingTensor& F = j.prep ? j.prep->F : opened_f;
    const RingTensor& B = j.prep ? j.prep->B : j.B;
    RingTensor Z = marill::add(j.C, marill::add(marill::matmul(E, B), marill::matmul(j.A, F)));
    if (is_client_) add_inplace(Z, marill::matmul(E, F));
    out.push_back(Shared{std::move(Z), {}});
  }
  return out;
}

Shared DealerOnlineBackend::trunc(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  check_trunc_bits(d);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  RingTensor r = prg_dealer_.random(s, phantom_);
  RingTensor t, h;
  if (is_client_) {
    t = prg_dealer_.random(s, phantom_);
    h = prg_dealer_.random(s, phantom_);
  } else {
    RingTensor th = comm_.recv(Role::dealer, Shape{2 * n});
    t = slice(th, 0, 0, n).reshaped(s);
    h = slice(th, 0, n, 2 * n).reshaped(s);
  }
  RingTensor mine = marill::add(x.s0, r);
  if (is_client_) mine = marill::add_scalar(mine, kTruncOffset);
  RingTensor c = marill::add(mine, exchange(mine));
  return Shared{trunc_share(c, t, h, d, is_client_), {}};
}

Shared DealerOnlineBackend::ltz(const Shared& x, int bits) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  RingTensor r = prg_dealer_.random(s, phantom_);
  auto key_bytes = comm_.recv_bytes(Role::dealer, static_cast<u64>(n) * ltz_key_bytes(bits));
  RingTensor mine = marill::add(x.s0, r);
  RingTensor xhat = marill::add(mine, exchange(mine));
  if (phantom_) return Shared{RingTensor::phantom(s), {}};
  LtzKeys keys = ltz_deserialize(std::move(key_bytes), n, bits);
  RingTensor out(s);
  ltz_eval(is_client_ ? 0 : 1, keys, xhat.data(), out.data());
  return Shared{std::move(out), {}};
}


// FSS spline gate (backend_dealer.h). Dealt per element: input mask r, coefficient masks s_j
// (both from the share PRGs), shares of r^k (k = 1..d) and of s_j r^k (1 <= k <= j <= d) (client:
// PRG, server: correction), one comparison key on r.
namespace {
inline int spline_q_index(int j, int k) { return j * (j - 1) / 2 + (k - 1); }
}  // namespace

Shared DealerOnlineBackend::spline(const Shared& x, const SplineTable& t) {
  OpScope op(ledger(), "spline");
  check_spline(t);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  const int d = t.degree, nq = d * (d + 1) / 2;
  RingTensor r = prg_dealer_.random(s, phantom_);
  std::vector<RingTensor> sm(static_cast<size_t>(d)), pw(static_cast<size_t>(d)), q(static_cast<size_t>(nq));
  for (auto& v : sm) v = prg_dealer_.random(s, phantom_);
  if (is_client_) {
    for (auto& v : pw) v = prg_dealer_.random(s, phantom_);
    for (auto& v : q) v = prg_dealer_.random(s, phantom_);
  } else {
    RingTensor corr = comm_.recv(Role::dealer, Shape{(d + nq) * n});
    for (int k = 0; k < d; ++k) pw[static_cast<size_t>(k)] = slice(corr, 0, k * n, (k + 1) * n).reshaped(s);
    for (int i = 0; i < nq; ++i) q[static_cast<size_t>(i)] = slice(corr, 0, (d + i) * n, (d + i + 1) * n).reshaped(s);
  }
  auto key_bytes = comm_.recv_bytes(Role::dealer, static_cast<u64>(n) * ltz_key_bytes(t.cmp_bits));
  RingTensor mine = marill::add(x.s0, r);
  RingTensor xhat = marill::add(mine, exchange(mine));
  const int tr = t.scale - t.out_frac;
  if (phantom_) {
    exchange(RingTensor::phantom(Shape{d * n}));
    Shared out{RingTensor::phantom(s), {}};
    return tr > 0 ? trunc(out, tr) : out;
  }
  LtzKeys keys = ltz_deserialize(std::move(key_bytes), n, t.cmp_bits);
  const int party = is_client_ ? 0 : 1;
  const u64 one = is_client_ ? 1 : 0;
  const size_t m = t.pieces.size();
  // c_j = C[0][j] + sum_i [x >= K_i] (C[i+1][j] - C[i][j]), stored c[j * n + e].
  std::vector<u64> c(static_cast<size_t>((d + 1) * n), 0);
  if (is_client_)
    for (i64 e = 0; e < n; ++e)
      for (int j = 0; j <= d; ++j) c[static_cast<size_t>(j * n + e)] = t.coef[0][static_cast<size_t>(j)];
  // One key, every knot: points (x^ >> g) - K_i, evaluated in groups of knots that share the
  // upper levels of the comparison tree (ltz_eval_shifts); the buffers stay small.
  constexpr size_t kGroup = 16;
  const size_t knots = m - 1;
  const u64* xh = xhat.data();
  const int sh = t.cmp_shift;  // the key hides r >> sh: comparisons see (x^ >> sh) - (r >> sh)
  std::vector<u64> base(static_cast<size_t>(n)), lt(std::min(knots, kGroup) * static_cast<size_t>(n)), deltas(kGroup);
  for (size_t g0 = 0; g0 < knots; g0 += kGroup) {
    const size_t g = std::min(kGroup, knots - g0);
    const u64 K0 = t.knot_ring[g0];
    for (i64 e = 0; e < n; ++e) base[static_cast<size_t>(e)] = (xh[e] >> sh) - K0;
    for (size_t p = 0; p < g; ++p) deltas[p] = t.knot_ring[g0 + p] - K0;
    ltz_eval_shifts(party, keys, base.data(), deltas.data(), static_cast<int>(g), lt.data());
    for (size_t p = 0; p < g; ++p) {
      const size_t i = g0 + p;
      const u64* lti = lt.data() + p * static_cast<size_t>(n);
      for (int j = 0; j <= d; ++j) {
        const u64 delta = t.coef[i + 1][static_cast<size_t>(j)] - t.coef[i][static_cast<size_t>(j)];
        if (delta == 0) continue;
        u64* cj = c.data() + j * n;
        for (i64 e = 0; e < n; ++e) cj[e] += (one - lti[e]) * delta;
      }
    }
  }
  // Open c_j + s_j for j = 1..d.
  RingTensor masked(Shape{d * n});
  for (int j = 1; j <= d; ++j) {
    const u64* sj = sm[static_cast<size_t>(j - 1)].data();
    for (i64 e = 0; e < n; ++e) masked.data()[(j - 1) * n + e] = c[static_cast<size_t>(j * n + e)] + sj[e];
  }
  RingTensor chat = marill::add(masked, exchange(masked));
  // out = c_0 + sum_j [c_j x^^j + sum_{k=1..j} C(j,k) (-1)^k x^^(j-k) (c^_j <r^k> - <s_j r^k>)].
  RingTensor out(s);
  u64* o = out.data();
  for (i64 e = 0; e < n; ++e) {
    const u64 xe = xh[e];
    u64 acc = c[static_cast<size_t>(e)];
    u64 xpow[3] = {1, xe, xe * xe};
    for (int j = 1; j <= d; ++j) {
      const u64 cj = c[static_cast<size_t>(j * n + e)], chj = chat.data()[(j - 1) * n + e];
      acc += cj * xpow[j];
      for (int k = 1; k <= j; ++k) {
        const u64 binom = (j == 2 && k == 1) ? 2 : 1;
        const u64 term = binom * xpow[j - k] * (chj * pw[static_cast<size_t>(k - 1)].data()[e] - q[static_cast<size_t>(spline_q_index(j, k))].data()[e]);
        acc += (k % 2) ? u64{0} - term : term;
      }
    }
    o[e] = acc;
  }
  Shared res{std::move(out), {}};
  return tr > 0 ? trunc(res, tr) : res;
}

// ------------------------------------------------------------------ the dealer

namespace {
Prg keyed_prg_to(Comm& comm, Role to) { return Prg(send_fresh_key(comm, to)); }
}  // namespace

KeygenBackend::KeygenBackend(Comm& comm, const BackendOptions& opt)
    : Backend(opt.fxp, opt.policy_for(Setting::two_pc_dealer)),
      comm_(comm),
      mode_phantom_(opt.phantom),
      prg_client_(keyed_prg_to(comm, Role::client)),
      prg_server_(keyed_prg_to(comm, Role::server)),
      prg_own_(Prg::from_os()) {
  comm_.ledger().phase = Phase::offline;
}

Ledger& KeygenBackend::ledger() { return comm_.ledger(); }

Shared KeygenBackend::input(Role owner, const RingTensor& value) {
  require_compute_party(owner, "input from");
  return shape_only(value.shape());
}

RingTensor KeygenBackend::reveal(const Shared& x, Role to) {
  require_compute_party(to, "reveal to");
  return RingTensor::phantom(x.shape());
}

RingTensor KeygenBackend::reveal_all(const Shared& x) { return RingTensor::phantom(x.shape()); }

Shared KeygenBackend::mul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "mul");
  ledger().record_macs(static_cast<u64>(x.numel()));
  require_same(x, y, "mul");
  const Shape& s = x.shape();
  const bool ph = mode_phantom_;
  RingTensor ac = prg_client_.random(s, ph), bc = prg_client_.random(s, ph), cc = prg_client_.random(s, ph);
  RingTensor as = prg_server_.random(s, ph), bs = prg_server_.random(s, ph);
  comm_.send(Role::server, marill::sub(mul_elem(marill::add(ac, as), marill::add(bc, bs)), cc));
  return shape_only(s);
}

Shared KeygenBackend::square(const Shared& x) {
  OpScope op(ledger(), "square");
  ledger().record_macs(static_cast<u64>(x.numel()));
  const Shape& s = x.shape();
  RingTensor ac = prg_client_.random(s, mode_phantom_), cc = prg_client_.random(s, mode_phantom_);
  RingTensor as = prg_server_.random(s, mode_phantom_);
  RingTensor a = marill::add(ac, as);
  comm_.send(Role::server, marill::sub(mul_elem(a, a), cc));
  return shape_only(s);
}

Shared KeygenBackend::prepare_weight(const Shared& w) {
  OpScope op(ledger(), "prepare_weight");
  require_matrix(w);
  auto p = std::make_shared<KeygenPrepared>();
  p->B = marill::add(prg_client_.random(w.shape(), mode_phantom_), prg_server_.random(w.shape(), mode_phantom_));
  Shared out = w;
  out.prepared = std::move(p);
  return out;
}

Shared KeygenBackend::matmul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "matmul");
  ledger().record_macs(matmul_macs(x.shape(), y.shape()));
  const bool ph = mode_phantom_;
  if (y.prepared) {
    const auto& p = prepared_as<KeygenPrepared>(y);
    Shape out = marill::matmul(RingTensor::phantom(x.shape()), RingTensor::phantom(y.shape())).shape();
    RingTensor Ac = prg_client_.random(x.shape(), ph), Cc = prg_client_.random(out, ph);
    RingTensor As = prg_server_.random(x.shape(), ph);
    comm_.send(Role::server, marill::sub(marill::matmul(marill::add(Ac, As), p.B), Cc));
    return shape_only(out);
  }
  RingTensor Ac = prg_client_.random(x.shape(), ph), Bc = prg_client_.random(y.shape(), ph);
  Shape out = marill::matmul(RingTensor::phantom(x.shape()), RingTensor::phantom(y.shape())).shape();
  RingTensor Cc = prg_client_.random(out, ph);
  RingTensor As = prg_server_.random(x.shape(), ph), Bs = prg_server_.random(y.shape(), ph);
  comm_.send(Role::server, marill::sub(marill::matmul(marill::add(Ac, As), marill::add(Bc, Bs)), Cc));
  return shape_only(out);
}

Shared KeygenBackend::trunc(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  check_trunc_bits(d);
  const Shape& s = x.shape();
  const bool ph = mode_phantom_;
  RingTensor rc = prg_client_.random(s, ph), tc = prg_client_.random(s, ph), hc = prg_client_.random(s, ph);
  RingTensor rs = prg_server_.random(s, ph);
  RingTensor r = marill::add(rc, rs);
  const i64 n = x.numel();
  comm_.send(Role::server, marill::concat({marill::sub(shift_right_logical(r, d), tc).reshaped({n}), marill::sub(shift_right_logical(r, 63), hc).reshaped({n})}, 0));
  return shape_only(s);
}

Shared KeygenBackend::ltz(const Shared& x, int bits) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  const bool ph = mode_phantom_;
  RingTensor rc = prg_client_.random(s, ph), rs = prg_server_.random(s, ph);
  const u64 bytes = static_cast<u64>(n) * ltz_key_bytes(bits);
  if (ph) {
    comm_.send_bytes(Role::client, nullptr, bytes);
    comm_.send_bytes(Role::server, nullptr, bytes);
    return shape_only(s);
  }
  RingTensor r = marill::add(rc, rs);
  auto keys = ltz_gen(bits, r.data(), n, prg_own_);
  auto k0 = ltz_serialize(keys.first), k1 = ltz_serialize(keys.second);
  comm_.send_bytes(Role::client, k0.data(), k0.size());
  comm_.send_bytes(Role::server, k1.data(), k1.size());
  return shape_only(s);
}

Shared KeygenBackend::spline(const Shared& x, const SplineTable& t) {
  OpScope op(ledger(), "spline");
  check_spline(t);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  const int d = t.degree, nq = d * (d + 1) / 2;
  const bool ph = mode_phantom_;
  // The same draws, in the same order, as the online parties.
  RingTensor rc = prg_client_.random(s, ph);
  std::vector<RingTensor> smc(static_cast<size_t>(d)), pwc(static_cast<size_t>(d)), qc(static_cast<size_t>(nq));
  for (auto& v : smc) v = prg_client_.random(s, ph);
  for (auto& v : pwc) v = prg_client_.random(s, ph);
  for (auto& v : qc) v = prg_client_.random(s, ph);
  RingTensor rs = prg_server_.random(s, ph);
  std::vector<RingTensor> sms(static_cast<size_t>(d));
  for (auto& v : sms) v = prg_server_.random(s, ph);
  const u64 key_bytes = static_cast<u64>(n) * ltz_key_bytes(t.cmp_bits);
  const int tr = t.scale - t.out_frac;
  if (ph) {
    comm_.send(Role::server, RingTensor::phantom(Shape{(d + nq) * n}));
    comm_.send_bytes(Role::client, nullptr, key_bytes);
    comm_.send_bytes(Role::server, nullptr, key_bytes);
    return tr > 0 ? trunc(shape_only(s), tr) : shape_only(s);
  }
  RingTensor r = marill::add(rc, rs);
  RingTensor corr(Shape{(d + nq) * n});
  u64* out = corr.data();
  for (i64 e = 0; e < n; ++e) {
    const u64 re = r.data()[e];
    const u64 rp[3] = {1, re, re * re};
    for (int k = 1; k <= d; ++k) out[(k - 1) * n + e] = rp[k] - pwc[static_cast<size_t>(k - 1)].data()[e];
    for (int j = 1; j <= d; ++j) {
      const u64 sj = smc[static_cast<size_t>(j - 1)].data()[e] + sms[static_cast<size_t>(j - 1)].data()[e];
      for (int k = 1; k <= j; ++k) {
        const int qi = spline_q_index(j, k);
        out[(d + qi) * n + e] = sj * rp[k] - qc[static_cast<size_t>(qi)].data()[e];
      }
    }
  }
  comm_.send(Role::server, corr);
  RingTensor r_cmp = shift_right_logical(r, t.cmp_shift);
  auto keys = ltz_gen(t.cmp_bits, r_cmp.data(), n, prg_own_);
  auto k0 = ltz_serialize(keys.first), k1 = ltz_serialize(keys.second);
  comm_.send_bytes(Role::client, k0.data(), k0.size());
  comm_.send_bytes(Role::server, k1.data(), k1.size());
  return tr > 0 ? trunc(shape_only(s), tr) : shape_only(s);
}

}  // namespace marill
