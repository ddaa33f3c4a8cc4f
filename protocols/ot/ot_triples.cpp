#include "protocols/ot/ot_triples.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace marill {

namespace {

// The widths of the 64 OTs of one product: OT j carries a mod 2^(64−j).
const std::vector<std::uint8_t>& gilboa_widths() {
  static const std::vector<std::uint8_t> w = [] {
    std::vector<std::uint8_t> v(64);
    for (int j = 0; j < 64; ++j) v[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(64 - j);
    return v;
  }();
  return w;
}

std::vector<u64> repeat_each(const RingTensor& a) {
  std::vector<u64> d(static_cast<std::size_t>(a.numel()) * 64);
  for (i64 i = 0; i < a.numel(); ++i)
    for (int j = 0; j < 64; ++j) d[static_cast<std::size_t>(i) * 64 + static_cast<std::size_t>(j)] = a[i];
  return d;
}

std::vector<std::uint8_t> bits_of(const RingTensor& b) {
  std::vector<std::uint8_t> c(static_cast<std::size_t>(b.numel()) * 64);
  for (i64 i = 0; i < b.numel(); ++i)
    for (int j = 0; j < 64; ++j) c[static_cast<std::size_t>(i) * 64 + static_cast<std::size_t>(j)] = (b[i] >> j) & 1;
  return c;
}

// Σ_j 2^j·v[64i + j] for each i; `sign` −1 for the sender's share.
RingTensor combine(const std::vector<u64>& v, const Shape& shape, bool negate) {
  RingTensor out(shape);
  for (i64 i = 0; i < out.numel(); ++i) {
    u64 s = 0;
    for (int j = 0; j < 64; ++j) s += v[static_cast<std::size_t>(i) * 64 + static_cast<std::size_t>(j)] << j;
    out[i] = negate ? u64{0} - s : s;
  }
  return out;
}

}  // namespace

RingTensor gilboa_product_send(Comm& comm, OtExtSender& ot, const RingTensor& a) {
  if (comm.phantom() || a.is_phantom()) {
    // Same messages, sizes only: 64 correlated OTs per element.
    ot.phantom_correlated_ot(comm, a.numel() * 64, gilboa_widths());
    return RingTensor::phantom(a.shape());
  }
  const auto x = ot.correlated_ot(comm, repeat_each(a), gilboa_widths());
  return combine(x, a.shape(), true);
}

RingTensor gilboa_product_receive(Comm& comm, OtExtReceiver& ot, const RingTensor& b) {
  if (comm.phantom() || b.is_phantom()) {
    (void)ot.correlated_ot_finish(comm, ot.phantom_correlated_ot_start(comm, b.numel() * 64, gilboa_widths()));
    return RingTensor::phantom(b.shape());
  }
  const auto y = ot.correlated_ot(comm, bits_of(b), gilboa_widths());
  return combine(y, b.shape(), false);
}

RingTensor gilboa_cross_products(Comm& comm, OtExtension& ext, const RingTensor& a, const RingTensor& b) {
  if (a.shape() != b.shape()) throw std::invalid_argument("Gilboa cross products: operands of different shapes");
  if (!ext.ready()) throw std::logic_error("Gilboa cross products: the OT extension is not set up");
  const bool phantom = comm.phantom() || a.is_phantom() || b.is_phantom();
  const auto n = static_cast<std::size_t>(a.numel());
  // Both directions at once: my columns for b_me·a_peer go out before I answer the peer's columns
  // for a_me·b_peer, so the call is one round trip whatever the roles.
  PendingCot pending = phantom ? ext.receiver().phantom_correlated_ot_start(comm, static_cast<std::int64_t>(n) * 64, gilboa_widths())
                               : ext.receiver().correlated_ot_start(comm, bits_of(b), gilboa_widths());
  const RingTensor mine_times_peer_b = gilboa_product_send(comm, ext.sender(), phantom ? RingTensor::phantom(a.shape()) : a);
  const auto y = ext.receiver().correlated_ot_finish(comm, std::move(pending));
  if (phantom) return RingTensor::phantom(a.shape());
  RingTensor out = combine(y, a.shape(), false);
  add_inplace(out, mine_times_peer_b);
  return out;
}

BeaverTriples ot_beaver_triples(Comm& comm, OtExtension& ext, std::int64_t n, std::int64_t batch) {
  if (n < 0) throw std::invalid_argument("OT triples: negative count " + std::to_string(n));
  if (batch < 1) throw std::invalid_argument("OT triples: batch size " + std::to_string(batch) + " is not positive");
  if (!ext.ready()) throw std::logic_error("OT triples: the OT extension is not set up");
  PhaseScope offline(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "beaver_triples");
  const bool phantom = comm.phantom();
  BeaverTriples t;
  if (phantom) {
    t.a = RingTensor::phantom({n});
    t.b = RingTensor::phantom({n});
  } else {
    Prg prg = Prg::from_os();
    t.a = prg.random({n});
    t.b = prg.random({n});
  }
  t.c = phantom ? RingTensor::phantom({n}) : mul_elem(t.a, t.b);
  for (std::int64_t begin = 0; begin < n; begin += batch) {
    const std::int64_t end = std::min(n, begin + batch);
    const RingTensor cross = gilboa_cross_products(comm, ext, slice(t.a, 0, begin, end), slice(t.b, 0, begin, end));
    if (phantom) continue;
    for (std::int64_t i = begin; i < end; ++i) t.c[i] += cross[i - begin];
  }
  return t;
}

}  // namespace marill
