// Dealing: how a gate obtains its input-independent correlated randomness, on either side.
//
// Each two-party gate (Beaver product, matmul, truncation, comparison, spline) defines its material
// ONCE, as a function of a Dealing (beaver.h, trunc_gate.h, ltz_gate.h, spline_gate.h). The dealer
// runs that function on its side and holds whole values (the sum of both parties' shares); an online
// party runs the same function on its side and gets its own shares. Both sides therefore draw the
// same masks in the same order by construction, not by keeping two mirrored classes in step.
//
// Where the material travels is not the gate's business (protocols/mpc/correlation_source.h): the
// dealer's live stream, key files a dealer run wrote beforehand, or nothing at all (size-only
// phantom runs). As CrypTen's providers and MP-SPDZ's preprocessing classes, one online protocol
// runs over interchangeable sources.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "protocols/ring/prg.h"
#include "protocols/ring/ring.h"

namespace marill {

using Bytes = std::vector<std::uint8_t>;

class Dealing {
 public:
  virtual ~Dealing() = default;

  virtual bool is_dealer() const = 0;
  // The online party this side serves: 0 = client, 1 = server; -1 on the dealer.
  virtual int party() const = 0;
  // Shape-only values: no randomness is drawn and no key is generated, only sizes travel.
  virtual bool phantom() const = 0;

  // A uniformly random mask whose shares come from the PRGs the dealer shares with each party:
  // costs no bytes. Dealer: the whole mask; party: its share.
  virtual RingTensor mask(const Shape& shape) = 0;

  // Shares of values only the dealer can compute (functions of its masks), delivered in one message:
  // one party's shares are PRG draws, the other receives value - those shares (the one that has
  // received fewer words so far: the material is balanced between the parties). Dealer: calls
  // values() (shapes as given) and returns the values; party: returns its shares.
  virtual std::vector<RingTensor> derived(const std::vector<Shape>& shapes,
                                          const std::function<std::vector<RingTensor>()>& values) = 0;
  RingTensor derived(const Shape& shape, const std::function<RingTensor()>& value) {
    return derived(std::vector<Shape>{shape}, [&] { return std::vector<RingTensor>{value()}; })[0];
  }

  // FSS keys that no PRG can compress: the dealer generates both parties' keys ({client's,
  // server's}, bytes_each bytes each) and each party receives its own. Dealer: returns {}; party:
  // its key bytes (empty in phantom runs).
  virtual Bytes keys(std::uint64_t bytes_each, const std::function<std::pair<Bytes, Bytes>()>& generate) = 0;

  // The dealer's private randomness (DCF root seeds). Throws on a party's side.
  virtual Prg& dealer_prg() = 0;
};

}  // namespace marill
