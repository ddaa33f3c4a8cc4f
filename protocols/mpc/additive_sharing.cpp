#include "protocols/mpc/additive_sharing.h"

#include <stdexcept>
#include <string>

#include "protocols/mpc/correlation_source.h"

namespace marill {

Shared additive_input(Comm& comm, Role other, Prg& own, bool phantom, Role owner, const RingTensor& value, Setting setting) {
  OpScope op(comm.ledger(), "input");
  require_compute_party(owner, "input from");
  const Shape& shape = value.shape();
  if (owner == comm.role()) {
    if (value.is_phantom() && !phantom) throw std::invalid_argument(std::string(setting_name(setting)) + ": the input owner must pass real data");
    RingTensor r = own.random(shape, phantom);
    comm.send(other, marill::sub(value.is_phantom() ? RingTensor::phantom(shape) : value, r));
    return Shared{std::move(r), {}, {}};
  }
  return Shared{comm.recv(other, shape), {}, {}};
}

RingTensor additive_reveal(Comm& comm, Role other, const Shared& x, Role to) {
  OpScope op(comm.ledger(), "reveal");
  require_compute_party(to, "reveal to");
  if (to != comm.role()) {
    comm.send(to, x.s0);
    return RingTensor::phantom(x.shape());
  }
  return marill::add(x.s0, comm.recv(other, x.shape()));
}

RingTensor additive_reveal_all(Comm& comm, Role other, const Shared& x) {
  OpScope op(comm.ledger(), "reveal");
  comm.send(other, x.s0);
  return marill::add(x.s0, comm.recv(other, x.shape()));
}

}  // namespace marill
