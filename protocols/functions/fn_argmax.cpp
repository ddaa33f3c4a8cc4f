// Argmax over the last axis (functions.h).
#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

ArgmaxResult argmax(Backend& be, const Shared& x, double bound) {
  OpScope scope(be.ledger(), "argmax");
  const i64 V = x.shape().back(), R = x.numel() / V;
  fn::MaxResult m = fn::tournament_max(be, fn::reshape(be, x, {R, V}), bound, true);
  Shape out = x.shape();
  out.back() = 1;
  return ArgmaxResult{fn::reshape(be, m.index, out), fn::reshape(be, m.value, out)};
}

}  // namespace marill
