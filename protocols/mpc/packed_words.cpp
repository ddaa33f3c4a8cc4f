#include "protocols/mpc/packed_words.h"

#include "protocols/ot/block.h"
#include "protocols/ring/work_meter.h"

namespace marill {

void send_low_bits(Comm& comm, Role to, const RingTensor& t, int d) {
  const u64 bits = static_cast<u64>(t.numel()) * static_cast<u64>(d);
  count_work(WorkKind::ring_elem, t.numel());
  if (t.is_phantom()) return comm.send_bytes(to, nullptr, (bits + 7) / 8);
  BitWriter w(bits);
  for (i64 e = 0; e < t.numel(); ++e) w.put(t[e], d);
  comm.send_bytes(to, w.bytes().data(), w.bytes().size());
}

RingTensor recv_low_bits(Comm& comm, Role from, const Shape& shape, int d, bool phantom) {
  const i64 n = shape_numel(shape);
  count_work(WorkKind::ring_elem, n);
  const std::vector<std::uint8_t> bytes = comm.recv_bytes(from, (static_cast<u64>(n) * static_cast<u64>(d) + 7) / 8);
  if (phantom) return RingTensor::phantom(shape);
  BitReader r(bytes.data(), bytes.size());
  RingTensor t(shape);
  for (i64 e = 0; e < n; ++e) t[e] = r.get(d);
  return t;
}

}  // namespace marill
