#include "protocols/ring/prg.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "protocols/ring/work_meter.h"

namespace marill {

Key128 random_key_from_os() {
  Key128 k{};
  size_t got = 0;
  while (got < k.size()) {
    ssize_t r = getrandom(k.data() + got, k.size() - got, 0);
    if (r < 0) throw std::runtime_error("getrandom failed: cannot key the PRG from the OS");
    got += static_cast<size_t>(r);
  }
  return k;
}

struct Prg::Impl {
  EVP_CIPHER_CTX* ctx = nullptr;
  std::vector<std::uint8_t> zeros;  // CTR keystream = encryption of zeros
};

Prg::Prg(const Key128& key) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_CIPHER_CTX_new();
  if (!impl_->ctx) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  std::uint8_t iv[16] = {0};
  if (EVP_EncryptInit_ex(impl_->ctx, EVP_aes_128_ctr(), nullptr, key.data(), iv) != 1)
    throw std::runtime_error("EVP_EncryptInit_ex(aes-128-ctr) failed");
}

Prg::~Prg() {
  if (impl_ && impl_->ctx) EVP_CIPHER_CTX_free(impl_->ctx);
}
Prg::Prg(Prg&&) noexcept = default;
Prg& Prg::operator=(Prg&&) noexcept = default;

void Prg::fill_bytes(std::uint8_t* out, std::size_t n) {
  count_work(WorkKind::prg_byte, static_cast<u64>(n));
  // Encrypt zeros in place: the output buffer is its own input (EVP allows in == out).
  std::memset(out, 0, n);
  constexpr std::size_t kChunk = 1 << 30;
  while (n > 0) {
    int len = static_cast<int>(n < kChunk ? n : kChunk);
    int outl = 0;
    if (EVP_EncryptUpdate(impl_->ctx, out, &outl, out, len) != 1)
      throw std::runtime_error("EVP_EncryptUpdate failed");
    out += len;
    n -= static_cast<std::size_t>(len);
  }
}

u64 Prg::next_u64() {
  u64 v;
  fill(&v, 1);
  return v;
}

Key128 Prg::next_key() {
  Key128 k;
  fill_bytes(k.data(), k.size());
  return k;
}

RingTensor Prg::random(const Shape& shape, bool phantom) {
  if (phantom) {
    count_work(WorkKind::prg_byte, static_cast<u64>(shape_numel(shape)) * 8);  // what fill() counts
    return RingTensor::phantom(shape);
  }
  RingTensor t(shape);
  fill(t.data(), static_cast<std::size_t>(t.numel()));
  return t;
}

}  // namespace marill
