// Additive two-party sharing in Z_2^64 between client and server: the input and opening steps the
// 2pc-dealer and 2pc backends share (each party holds s0; the shares add up to the value).
#pragma once

#include "protocols/comm/comm.h"
#include "protocols/mpc/backend.h"
#include "protocols/ring/prg.h"

namespace marill {

// `owner` shares `value`: it keeps a fresh mask r from `own` and sends value − r to `other`; the
// other party receives it. Booked under "input". `setting` names the backend in errors.
Shared additive_input(Comm& comm, Role other, Prg& own, bool phantom, Role owner, const RingTensor& value, Setting setting);
// Opens x to `to` only (the other party gets a phantom). Booked under "reveal".
RingTensor additive_reveal(Comm& comm, Role other, const Shared& x, Role to);
// Opens x to both. Booked under "reveal".
RingTensor additive_reveal_all(Comm& comm, Role other, const Shared& x);

}  // namespace marill
