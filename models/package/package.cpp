// Torch-free safetensors reader/writer, HF LLaMA config/weights, and the secure-inference package.
#include "models/package/package.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace marill::pkg {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

constexpr std::uint64_t kMaxHeader = 100ull << 20;  // 100 MiB of JSON is certainly not a real header

std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16_to_float(std::uint16_t b) {
  std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

int dtype_size(const std::string& dt) {
  if (dt == "F32") return 4;
  if (dt == "F16" || dt == "BF16") return 2;
  if (dt == "F64") return 8;
  return 0;
}

std::string shape_string(const std::vector<std::int64_t>& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& where) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) fail(where + ": negative dimension in shape");
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) fail(where + ": shape overflows");
    n *= d;
  }
  return n;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open (missing file?)");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail(path + ": invalid JSON: " + e.what());
  }
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path + ": cannot write");
  out << text;
  if (!out) fail(path + ": write failed");
}

const std::vector<std::string> kTargets = {"q", "k", "v", "o", "gate", "up", "down"};

}  // namespace

// ---------------------------------------------------------------- Tensor
std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}
std::string Tensor::shape_str() const { return shape_string(shape); }
Tensor Tensor::zeros(std::vector<std::int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  t.data.assign(static_cast<size_t>(t.numel()), 0.0f);
  return t;
}

// ---------------------------------------------------------------- safetensors
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::uint64_t off = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") fail(path + ": '__metadata__' is not a tensor name");
    const std::int64_t n = checked_numel(t.shape, path + ": tensor '" + name + "'");
    if (static_cast<std::int64_t>(t.data.size()) != n)
      fail(path + ": tensor '" + name + "' has " + std::to_string(t.data.size()) + " values for shape " +
           t.shape_str());
    json e;
    e["dtype"] = "F32";
    e["shape"] = t.shape;
    e["data_offsets"] = {off, off + 4ull * static_cast<std::uint64_t>(n)};
    header[name] = e;
    off += 4ull * static_cast<std::uint64_t>(n);
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string h = header.dump();
  while (h.size() % 8) h.push_back(' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(tmp + ": cannot write");
    unsigned char len[8];
    std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& [name, t] : tensors)  // x86-64 is little-endian: the float bytes are the file bytes
      out.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(4 * t.data.size()));
    out.flush();
    if (!out) fail(tmp + ": write failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // atomic: a reader never sees a half-written file under the final name
  if (ec) fail(path + ": cannot rename from " + tmp + ": " + ec.message());
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (missing file?)");
  in.seekg(0, std::ios::end);
  file_size_ = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size_ < 8) fail(path + ": " + std::to_string(file_size_) + " bytes is too short for a safetensors header (truncated file?)");
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  const std::uint64_t n = read_u64_le(len);
  if (n > kMaxHeader) fail(path + ": header length " + std::to_string(n) + " is implausible (not a safetensors file?)");
  if (n > file_size_ - 8)
    fail(path + ": header length " + std::to_string(n) + " exceeds the file size " + std::to_string(file_size_) +
         " (truncated file?)");
  std::string h(static_cast<size_t>(n), '\0');
  in.read(h.data(), static_cast<std::streamsize>(n));
  if (!in) fail(path + ": cannot read the header");
  data_start_ = 8 + n;
  const std::uint64_t data_size = file_size_ - data_start_;
  json header;
  try {
    header = json::parse(h);
  } catch (const json::exception& e) {
    fail(path + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) fail(path + ": header is not a JSON object");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) fail(path + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(path + ": __metadata__ value '" + m.key() + "' is not a string");
        metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    const json& e = *it;
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      fail(where + ": entry needs dtype, shape and data_offsets");
    Entry en;
    if (!e["dtype"].is_string()) fail(where + ": dtype is not a string");
    en.dtype = e["dtype"].get<std::string>();
    if (dtype_size(en.dtype) == 0) fail(where + ": unsupported dtype '" + en.dtype + "' (F32, F16, BF16, F64)");
    if (!e["shape"].is_array()) fail(where + ": shape is not an array");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) fail(where + ": shape has a non-integer or negative entry");
      en.shape.push_back(d.get<std::int64_t>());
    }
    const auto& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(where + ": data_offsets must be two non-negative integers");
    en.begin = off[0].get<std::uint64_t>();
    en.end = off[1].get<std::uint64_t>();
    if (en.begin > en.end) fail(where + ": data_offsets begin > end");
    if (en.end > data_size)
      fail(where + ": data_offsets [" + std::to_string(en.begin) + ", " + std::to_string(en.end) +
           "] run past the data section (" + std::to_string(data_size) + " bytes; truncated file?)");
    const std::int64_t numel = checked_numel(en.shape, where);
    const std::uint64_t want = static_cast<std::uint64_t>(numel) * static_cast<std::uint64_t>(dtype_size(en.dtype));
    if (want != en.end - en.begin)
      fail(where + ": " + std::to_string(en.end - en.begin) + " bytes of data but dtype " + en.dtype + " x shape " +
           shape_string(en.shape) + " needs " + std::to_string(want));
    ranges.emplace_back(en.begin, en.end);
    entries_[name] = std::move(en);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second && ranges[i].first != ranges[i].second)
      fail(path + ": tensors' data ranges overlap");
}

Tensor SafetensorsFile::read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail(path_ + ": tensor '" + name + "' is missing");
  const Entry& e = it->second;
  std::ifstream in(path_, std::ios::binary);
  if (!in) fail(path_ + ": cannot open (missing file?)");
  in.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
  std::vector<unsigned char> buf(e.end - e.begin);
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  if (!in) fail(path_ + ": tensor '" + name + "': cannot read its data (file changed or truncated?)");
  Tensor t;
  t.shape = e.shape;
  const size_t n = static_cast<size_t>(t.numel());
  t.data.resize(n);
  if (e.dtype == "F32") {
    std::memcpy(t.data.data(), buf.data(), 4 * n);
  } else if (e.dtype == "F64") {
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, buf.data() + 8 * i, 8);
      t.data[i] = static_cast<float>(d);
    }
  } else {
    const bool bf = e.dtype == "BF16";
    for (size_t i = 0; i < n; ++i) {
      std::uint16_t u = static_cast<std::uint16_t>(buf[2 * i] | (buf[2 * i + 1] << 8));
      t.data[i] = bf ? bf16_to_float(u) : f16_to_float(u);
    }
  }
  return t;
}

Tensor SafetensorsFile::read(const std::string& name, const std::vector<std::int64_t>& expected) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail(path_ + ": tensor '" + name + "' is missing");
  if (it->second.shape != expected)
    fail(path_ + ": tensor '" + name + "' has shape " + shape_string(it->second.shape) + ", expected " +
         shape_string(expected));
  return read(name);
}

TensorMap SafetensorsFile::read_all() const {
  TensorMap out;
  for (const auto& [name, e] : entries_) out[name] = read(name);
  return out;
}

TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsFile f(path);
  if (metadata) *metadata = f.metadata();
  return f.read_all();
}

namespace {
std::string hex(const unsigned char* md, unsigned len) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 15]);
  }
  return out;
}

std::string sha256_stream(std::istream& in) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) fail("sha256: OpenSSL init failed");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return hex(md, len);
}
}  // namespace

std::string sha256_hex(const void* data, std::size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (missing file?)");
  return sha256_stream(in);
}

std::string base_model_sha256(const std::string& dir) {
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  if (fs::exists(single)) return sha256_file(single);
  if (!fs::exists(index)) fail(dir + ": neither model.safetensors nor model.safetensors.index.json is present");
  json j = read_json_file(index);
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index + ": missing weight_map");
  std::set<std::string> shards;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it)
    if (it->is_string()) shards.insert(it->get<std::string>());
  // one line per file, in a fixed order: a changed index or shard changes the hash
  std::string manifest = "model.safetensors.index.json " + sha256_file(index) + "\n";
  for (const auto& f : shards) {
    if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
      fail(index + ": weight_map file name '" + f + "' must be a plain file name");
    manifest += f + " " + sha256_file(dir + "/" + f) + "\n";
  }
  std::istringstream in(manifest);
  return sha256_stream(in);
}

// ---------------------------------------------------------------- configs
void ModelConfig::validate() const {
  auto pos = [](int v, const char* n) {
    if (v <= 0) throw std::invalid_argument(std::string("model config: ") + n + " must be positive (got " + std::to_string(v) + ")");
  };
  if (arch != "llama") throw std::invalid_argument("model config: arch '" + arch + "' is not supported (llama)");
  pos(vocab, "vocab");
  pos(d_model, "d_model");
  pos(n_layers, "n_layers");
  pos(n_heads, "n_heads");
  pos(ffn_dim, "ffn_dim");
  pos(max_seq, "max_seq");
  if (d_model % n_heads)
    throw std::invalid_argument("model config: d_model (" + std::to_string(d_model) + ") is not divisible by n_heads (" +
                                std::to_string(n_heads) + ")");
  if (head_dim != d_model / n_heads)
    throw std::invalid_argument("model config: head_dim (" + std::to_string(head_dim) + ") != d_model / n_heads (" +
                                std::to_string(d_model / n_heads) + ")");
  if (n_kv_heads < 0 || n_heads % kv_heads())
    throw std::invalid_argument("model config: n_heads (" + std::to_string(n_heads) + ") is not divisible by n_kv_heads (" +
                                std::to_string(n_kv_heads) + ")");
  if (head_dim % 2) throw std::invalid_argument("model config: head_dim must be even for rotary embeddings");
  if (!(rope_theta > 0)) throw std::invalid_argument("model config: rope_theta must be positive");
  if (!(norm_eps > 0)) throw std::invalid_argument("model config: norm_eps must be positive");
  for (int id : {bos_id, eos_id, pad_id})
    if (id >= vocab) throw std::invalid_argument("model config: special token id " + std::to_string(id) + " >= vocab");
}

int MarillConfig::attn_heads(const ModelConfig& m) const { return m.n_heads / merge / prune_heads; }
int MarillConfig::attn_head_dim(const ModelConfig& m) const { return m.head_dim * merge; }
double MarillConfig::attn_scale(const ModelConfig& m) const { return 1.0 / std::sqrt(static_cast<double>(attn_head_dim(m))); }

void set_freeze(MarillConfig& mc, const ModelConfig& m, double f, int prune_layers) {
  if (!(f > 0.0 && f <= 1.0)) throw std::invalid_argument("freeze fraction f=" + std::to_string(f) + " is outside (0, 1]");
  if (prune_layers < 0 || prune_layers >= m.n_layers)
    throw std::invalid_argument("prune_layers=" + std::to_string(prune_layers) + " must be in [0, n_layers)");
  mc.freeze = f;
  mc.prune_layers = prune_layers;
  const int kept = m.n_layers - prune_layers;
  int priv = static_cast<int>(std::lround(f * m.n_layers));
  priv = std::max(1, std::min(priv, kept));
  if (prune_layers > 0) priv = kept;  // top-layer pruning keeps every remaining layer trainable
  mc.private_layers = priv;
  mc.frozen_layers = kept - priv;
}

void MarillConfig::validate(const ModelConfig& m) const {
  auto bad = [](const std::string& s) { throw std::invalid_argument("marill config: " + s); };
  if (!(freeze > 0.0 && freeze <= 1.0)) bad("freeze fraction f=" + std::to_string(freeze) + " is outside (0, 1]");
  if (frozen_layers < 0 || private_layers < 1 || prune_layers < 0 ||
      frozen_layers + private_layers + prune_layers != m.n_layers)
    bad("frozen (" + std::to_string(frozen_layers) + ") + private (" + std::to_string(private_layers) + ") + pruned (" +
        std::to_string(prune_layers) + ") layers != n_layers (" + std::to_string(m.n_layers) + ")");
  if (merge < 1 || m.n_heads % merge)
    bad("n_heads (" + std::to_string(m.n_heads) + ") is not divisible by the merge factor m=" + std::to_string(merge));
  if (prune_heads < 1 || m.n_heads % prune_heads)
    bad("n_heads (" + std::to_string(m.n_heads) + ") is not divisible by the head-pruning factor m=" + std::to_string(prune_heads));
  if (merge > 1 && prune_heads > 1) bad("head merging and head pruning cannot be combined");
  const int per_group = m.n_heads / m.kv_heads();  // query heads per key/value head
  if (m.gqa() && prune_heads > 1)
    bad("head pruning is not supported with grouped-query attention (" + std::to_string(m.kv_heads()) + " key/value heads)");
  if (m.gqa() && per_group % merge)
    bad("the merge factor m=" + std::to_string(merge) + " does not divide the " + std::to_string(per_group) +
        " query heads per key/value head (grouped-query attention: " + std::to_string(m.n_heads) + " heads, " +
        std::to_string(m.kv_heads()) + " key/value heads)");
  if (grouping != "adjacent" && grouping != "similar") bad("grouping '" + grouping + "' (adjacent, similar)");
  if (!head_perm.empty()) {
    if (static_cast<int>(head_perm.size()) != private_layers) bad("head_perm needs one permutation per private layer");
    for (const auto& p : head_perm) {
      std::vector<int> s = p;
      std::sort(s.begin(), s.end());
      for (int i = 0; i < m.n_heads; ++i)
        if (static_cast<int>(s.size()) != m.n_heads || s[static_cast<size_t>(i)] != i) bad("head_perm entry is not a permutation of the heads");
      if (m.gqa())
        for (int j = 0; j < m.n_heads; ++j)
          if (p[static_cast<size_t>(j)] / per_group != j / per_group)
            bad("head_perm moves head " + std::to_string(p[static_cast<size_t>(j)]) + " out of its key/value group (" +
                std::to_string(per_group) + " query heads per key/value head)");
    }
  }
  if (prune_heads > 1) {
    if (static_cast<int>(kept_heads.size()) != private_layers) bad("kept_heads needs one list per private layer");
    for (const auto& k : kept_heads) {
      if (static_cast<int>(k.size()) != m.n_heads / prune_heads) bad("kept_heads list has the wrong length");
      std::set<int> s(k.begin(), k.end());
      if (s.size() != k.size() || *s.begin() < 0 || *s.rbegin() >= m.n_heads) bad("kept_heads list is not a set of head indices");
    }
  }
  if (lora_rank < 0) bad("lora rank must be >= 0");
  if (lora_rank > 0 && lora_targets.empty()) bad("lora rank > 0 needs targets");
  for (const auto& t : lora_targets)
    if (std::find(kTargets.begin(), kTargets.end(), t) == kTargets.end())
      bad("unknown lora target '" + t + "' (q, k, v, o, gate, up, down)");
}

Tensor& LayerWeights::weight(const std::string& t) {
  if (t == "q") return wq;
  if (t == "k") return wk;
  if (t == "v") return wv;
  if (t == "o") return wo;
  if (t == "gate") return w_gate;
  if (t == "up") return w_up;
  if (t == "down") return w_down;
  throw std::invalid_argument("unknown weight target '" + t + "'");
}
const Tensor& LayerWeights::weight(const std::string& t) const { return const_cast<LayerWeights*>(this)->weight(t); }

// ---------------------------------------------------------------- package
namespace {

json model_to_json(const ModelConfig& c) {
  return json{{"arch", c.arch},         {"vocab", c.vocab},     {"d_model", c.d_model},       {"n_layers", c.n_layers},
              {"n_heads", c.n_heads},   {"n_kv_heads", c.kv_heads()}, {"head_dim", c.head_dim}, {"ffn_dim", c.ffn_dim},     {"rope_theta", c.rope_theta},
              {"norm_eps", c.norm_eps}, {"max_seq", c.max_seq}, {"tie_embeddings", c.tie_embeddings},
              {"bos_id", c.bos_id},     {"eos_id", c.eos_id},   {"pad_id", c.pad_id}};
}

template <class T>
T get_field(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) fail(where + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    fail(where + ": field '" + key + "' has the wrong type");
  }
}

ModelConfig model_from_json(const json& j, const std::string& where) {
  ModelConfig c;
  c.arch = get_field<std::string>(j, "arch", where);
  c.vocab = get_field<int>(j, "vocab", where);
  c.d_model = get_field<int>(j, "d_model", where);
  c.n_layers = get_field<int>(j, "n_layers", where);
  c.n_heads = get_field<int>(j, "n_heads", where);
  // packages written before grouped-query attention have no n_kv_heads: one K/V head per head
  c.n_kv_heads = j.contains("n_kv_heads") ? get_field<int>(j, "n_kv_heads", where) : c.n_heads;
  c.head_dim = get_field<int>(j, "head_dim", where);
  c.ffn_dim = get_field<int>(j, "ffn_dim", where);
  c.rope_theta = get_field<double>(j, "rope_theta", where);
  c.norm_eps = get_field<double>(j, "norm_eps", where);
  c.max_seq = get_field<int>(j, "max_seq", where);
  c.tie_embeddings = get_field<bool>(j, "tie_embeddings", where);
  c.bos_id = get_field<int>(j, "bos_id", where);
  c.eos_id = get_field<int>(j, "eos_id", where);
  c.pad_id = get_field<int>(j, "pad_id", where);
  return c;
}

json marill_to_json(const MarillConfig& m) {
  return json{{"freeze", m.freeze},
              {"frozen_layers", m.frozen_layers},
              {"private_layers", m.private_layers},
              {"embed_trained", m.embed_trained},
              {"lora", {{"rank", m.lora_rank}, {"alpha", m.lora_alpha}, {"targets", m.lora_targets}}},
              {"merge", m.merge},
              {"grouping", m.grouping},
              {"head_perm", m.head_perm},
              {"prune_heads", m.prune_heads},
              {"kept_heads", m.kept_heads},
              {"prune_layers", m.prune_layers},
              {"softmax", to_string(m.softmax)},
              {"act", to_string(m.act)}};
}

MarillConfig marill_from_json(const json& j, const std::string& where) {
  MarillConfig m;
  m.freeze = get_field<double>(j, "freeze", where);
  m.frozen_layers = get_field<int>(j, "frozen_layers", where);
  m.private_layers = get_field<int>(j, "private_layers", where);
  m.embed_trained = get_field<bool>(j, "embed_trained", where);
  if (!j.contains("lora") || !j["lora"].is_object()) fail(where + ": missing object 'lora'");
  m.lora_rank = get_field<int>(j["lora"], "rank", where + ": lora");
  m.lora_alpha = get_field<double>(j["lora"], "alpha", where + ": lora");
  m.lora_targets = get_field<std::vector<std::string>>(j["lora"], "targets", where + ": lora");
  m.merge = get_field<int>(j, "merge", where);
  m.grouping = get_field<std::string>(j, "grouping", where);
  m.head_perm = get_field<std::vector<std::vector<int>>>(j, "head_perm", where);
  m.prune_heads = get_field<int>(j, "prune_heads", where);
  m.kept_heads = get_field<std::vector<std::vector<int>>>(j, "kept_heads", where);
  m.prune_layers = get_field<int>(j, "prune_layers", where);
  try {
    m.softmax = parse_softmax_approx(get_field<std::string>(j, "softmax", where));
    m.act = parse_act_approx(get_field<std::string>(j, "act", where));
  } catch (const std::invalid_argument& e) {
    fail(where + ": " + e.what());
  }
  return m;
}

// Rows of a private layer's K and V: the KV width under grouped-query attention (never merged or
// permuted), else the attention width like Q.
std::int64_t kv_width(const ModelConfig& mc, const MarillConfig& mm) {
  if (mc.gqa()) return static_cast<std::int64_t>(mc.kv_heads()) * mc.head_dim;
  return static_cast<std::int64_t>(mm.attn_heads(mc)) * mm.attn_head_dim(mc);
}

// in/out dims of a LoRA target in a private layer
std::pair<std::int64_t, std::int64_t> target_in_out(const std::string& t, const ModelConfig& mc, const MarillConfig& mm) {
  const std::int64_t d = mc.d_model, a = static_cast<std::int64_t>(mm.attn_heads(mc)) * mm.attn_head_dim(mc), f = mc.ffn_dim;
  if (t == "q") return {d, a};
  if (t == "k" || t == "v") return {d, kv_width(mc, mm)};
  if (t == "o") return {a, d};
  if (t == "gate" || t == "up") return {d, f};
  if (t == "down") return {f, d};
  throw std::invalid_argument("unknown lora target '" + t + "'");
}

std::string layer_key(int index, const std::string& what) { return "layers." + std::to_string(index) + "." + what; }

}  // namespace

void save_package(const std::string& dir, const Package& p) {
  p.model.validate();
  p.marill.validate(p.model);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir + ": cannot create directory: " + ec.message());
  TensorMap t;
  std::vector<int> idx;
  for (const auto& l : p.layers) {
    idx.push_back(l.index);
    t[layer_key(l.index, "attn_norm")] = l.attn_norm;
    for (const auto& name : kTargets) t[layer_key(l.index, "w" + (name.size() == 1 ? name : "_" + name))] = l.weight(name);
    t[layer_key(l.index, "mlp_norm")] = l.mlp_norm;
    for (const auto& [target, lp] : l.lora) {
      t[layer_key(l.index, "lora." + target + ".A")] = lp.A;
      t[layer_key(l.index, "lora." + target + ".B")] = lp.B;
    }
  }
  t["final_norm"] = p.final_norm;
  t["lm_head"] = p.lm_head;
  if (p.has_embed) t["embed"] = p.embed;
  write_safetensors(dir + "/private.safetensors", t, {{"format", "marill-package-private"}});
  json j;
  j["format"] = "marill-package";
  j["version"] = 1;
  j["model"] = model_to_json(p.model);
  j["marill"] = marill_to_json(p.marill);
  j["public"] = {{"base_path", p.base_path}, {"base_sha256", p.base_sha256}, {"frozen_layers", p.frozen_layers}};
  j["private"] = {{"file", "private.safetensors"}, {"layers", idx}, {"has_embed", p.has_embed},
                  {"attn_heads", p.marill.attn_heads(p.model)}, {"attn_head_dim", p.marill.attn_head_dim(p.model)},
                  {"attn_scale", p.marill.attn_scale(p.model)}, {"rope_dim", p.model.head_dim}};
  j["note"] = p.note;
  write_text_file(dir + "/marill.json", j.dump(2) + "\n");
}

Package load_package(const std::string& dir, bool check_base) {
  const std::string cfg_path = dir + "/marill.json";
  json j = read_json_file(cfg_path);
  if (!j.is_object() || j.value("format", "") != "marill-package") fail(cfg_path + ": not a marill package (format field)");
  if (j.value("version", 0) != 1) fail(cfg_path + ": unsupported package version");
  Package p;
  if (!j.contains("model") || !j.contains("marill") || !j.contains("public") || !j.contains("private"))
    fail(cfg_path + ": needs model, marill, public and private sections");
  p.model = model_from_json(j["model"], cfg_path + ": model");
  p.marill = marill_from_json(j["marill"], cfg_path + ": marill");
  try {
    p.model.validate();
    p.marill.validate(p.model);
  } catch (const std::invalid_argument& e) {
    fail(cfg_path + ": " + e.what());
  }
  p.base_path = get_field<std::string>(j["public"], "base_path", cfg_path + ": public");
  // a relative base path names the base from the package directory, so a package committed beside
  // its base loads from any clone location
  if (!p.base_path.empty() && std::filesystem::path(p.base_path).is_relative())
    p.base_path = (std::filesystem::path(dir) / p.base_path).lexically_normal().string();
  p.base_sha256 = get_field<std::string>(j["public"], "base_sha256", cfg_path + ": public");
  p.frozen_layers = get_field<int>(j["public"], "frozen_layers", cfg_path + ": public");
  if (p.frozen_layers != p.marill.frozen_layers) fail(cfg_path + ": public.frozen_layers disagrees with marill.frozen_layers");
  p.has_embed = get_field<bool>(j["private"], "has_embed", cfg_path + ": private");
  p.note = j.value("note", "");
  const auto idx = get_field<std::vector<int>>(j["private"], "layers", cfg_path + ": private");
  if (static_cast<int>(idx.size()) != p.marill.private_layers) fail(cfg_path + ": private.layers count != marill.private_layers");
  for (size_t i = 0; i < idx.size(); ++i)
    if (idx[i] != p.marill.frozen_layers + static_cast<int>(i)) fail(cfg_path + ": private.layers must be the layers above the frozen ones");

  SafetensorsFile f(dir + "/private.safetensors");
  const ModelConfig& m = p.model;
  const std::int64_t d = m.d_model, a = static_cast<std::int64_t>(p.marill.attn_heads(m)) * p.marill.attn_head_dim(m), ff = m.ffn_dim;
  for (int li : idx) {
    LayerWeights l;
    l.index = li;
    l.attn_norm = f.read(layer_key(li, "attn_norm"), {d});
    l.wq = f.read(layer_key(li, "wq"), {a, d});
    l.wk = f.read(layer_key(li, "wk"), {kv_width(m, p.marill), d});
    l.wv = f.read(layer_key(li, "wv"), {kv_width(m, p.marill), d});
    l.wo = f.read(layer_key(li, "wo"), {d, a});
    l.mlp_norm = f.read(layer_key(li, "mlp_norm"), {d});
    l.w_gate = f.read(layer_key(li, "w_gate"), {ff, d});
    l.w_up = f.read(layer_key(li, "w_up"), {ff, d});
    l.w_down = f.read(layer_key(li, "w_down"), {d, ff});
    if (p.marill.lora_rank > 0) {
      for (const auto& t : p.marill.lora_targets) {
        auto [in, out] = target_in_out(t, m, p.marill);
        LoraPair lp;
        lp.A = f.read(layer_key(li, "lora." + t + ".A"), {p.marill.lora_rank, in});
        lp.B = f.read(layer_key(li, "lora." + t + ".B"), {out, p.marill.lora_rank});
        l.lora[t] = std::move(lp);
      }
    }
    p.layers.push_back(std::move(l));
  }
  p.final_norm = f.read("final_norm", {d});
  p.lm_head = f.read("lm_head", {m.vocab, d});
  if (p.has_embed) p.embed = f.read("embed", {m.vocab, d});
  if (check_base) {
    const std::string h = base_model_sha256(p.base_path);
    if (h != p.base_sha256)
      fail(cfg_path + ": base model " + p.base_path + " has SHA-256 " + h + " but the package expects " + p.base_sha256);
  }
  return p;
}

Tensor merged_lora_weight(const Tensor& w, const LoraPair& lp, double alpha, int rank) {
  if (w.shape.size() != 2 || lp.A.shape.size() != 2 || lp.B.shape.size() != 2 || lp.A.shape[0] != rank ||
      lp.B.shape[1] != rank || lp.A.shape[1] != w.shape[1] || lp.B.shape[0] != w.shape[0])
    throw std::invalid_argument("merged_lora_weight: shapes W " + w.shape_str() + ", A " + lp.A.shape_str() + ", B " +
                                lp.B.shape_str() + " do not fit rank " + std::to_string(rank));
  Tensor out = w;
  const double s = alpha / rank;
  const std::int64_t O = w.shape[0], I = w.shape[1];
  for (std::int64_t o = 0; o < O; ++o)
    for (std::int64_t r = 0; r < rank; ++r) {
      const double b = s * lp.B.data[static_cast<size_t>(o * rank + r)];
      for (std::int64_t i = 0; i < I; ++i)
        out.data[static_cast<size_t>(o * I + i)] += static_cast<float>(b * lp.A.data[static_cast<size_t>(r * I + i)]);
    }
  return out;
}

// ---------------------------------------------------------------- Hugging Face LLaMA
ModelConfig read_hf_config(const std::string& path) {
  json j = read_json_file(path);
  if (!j.is_object()) fail(path + ": not a JSON object");
  const std::string type = j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
  if (type != "llama" && type != "mistral") fail(path + ": model_type '" + type + "' is not supported (llama, mistral)");
  ModelConfig c;
  c.vocab = get_field<int>(j, "vocab_size", path);
  c.d_model = get_field<int>(j, "hidden_size", path);
  c.n_layers = get_field<int>(j, "num_hidden_layers", path);
  c.n_heads = get_field<int>(j, "num_attention_heads", path);
  c.ffn_dim = get_field<int>(j, "intermediate_size", path);
  if (c.n_heads <= 0) fail(path + ": num_attention_heads must be positive");
  c.head_dim = j.contains("head_dim") && j["head_dim"].is_number_integer() ? j["head_dim"].get<int>() : c.d_model / c.n_heads;
  c.n_kv_heads = c.n_heads;  // HF: a missing or null num_key_value_heads means multi-head attention
  if (j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()) {
    if (!j["num_key_value_heads"].is_number_integer() || j["num_key_value_heads"].get<int>() <= 0)
      fail(path + ": num_key_value_heads must be a positive integer");
    c.n_kv_heads = j["num_key_value_heads"].get<int>();
    if (c.n_heads % c.n_kv_heads)
      fail(path + ": num_attention_heads (" + std::to_string(c.n_heads) + ") is not divisible by num_key_value_heads (" +
           std::to_string(c.n_kv_heads) + ")");
  }
  const std::string act = j.value("hidden_act", "silu");
  if (act != "silu") fail(path + ": hidden_act '" + act + "' is not supported (silu)");
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    fail(path + ": rope_scaling (" + j["rope_scaling"].dump() + ") is not supported: only plain rotary embeddings (rope_scaling null)");
  if (j.contains("rope_theta") && j["rope_theta"].is_number()) c.rope_theta = j["rope_theta"].get<double>();
  if (j.contains("rms_norm_eps") && j["rms_norm_eps"].is_number()) c.norm_eps = j["rms_norm_eps"].get<double>();
  if (j.contains("max_position_embeddings") && j["max_position_embeddings"].is_number_integer())
    c.max_seq = j["max_position_embeddings"].get<int>();
  // Mistral is LLaMA with grouped-query attention plus a sliding attention window; a window that
  // no position can reach (>= the context) changes nothing, a smaller one would need banded masks.
  if (type == "mistral" && j.contains("sliding_window") && !j["sliding_window"].is_null()) {
    if (!j["sliding_window"].is_number_integer()) fail(path + ": sliding_window must be an integer or null");
    const long long window = j["sliding_window"].get<long long>();
    if (window < c.max_seq)
      fail(path + ": mistral sliding_window " + std::to_string(window) + " is smaller than max_position_embeddings " +
           std::to_string(c.max_seq) + ": sliding-window attention is not supported (set it to null or >= the context)");
  }
  c.tie_embeddings = j.value("tie_word_embeddings", false);
  auto id = [&](const char* k, int dflt) {
    return j.contains(k) && j[k].is_number_integer() ? j[k].get<int>() : (j.contains(k) && j[k].is_null() ? -1 : dflt);
  };
  c.bos_id = id("bos_token_id", 1);
  c.eos_id = id("eos_token_id", 2);
  c.pad_id = id("pad_token_id", -1);
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    fail(path + ": " + e.what());
  }
  return c;
}

void write_hf_config(const std::string& path, const ModelConfig& c) {
  c.validate();
  json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["vocab_size"] = c.vocab;
  j["hidden_size"] = c.d_model;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.kv_heads();
  j["intermediate_size"] = c.ffn_dim;
  j["hidden_act"] = "silu";
  j["rope_theta"] = c.rope_theta;
  j["rms_norm_eps"] = c.norm_eps;
  j["max_position_embeddings"] = c.max_seq;
  j["tie_word_embeddings"] = c.tie_embeddings;
  j["bos_token_id"] = c.bos_id;
  j["eos_token_id"] = c.eos_id;
  j["pad_token_id"] = c.pad_id;
  j["torch_dtype"] = "float32";
  write_text_file(path, j.dump(2) + "\n");
}

std::string hf_name(int layer, const std::string& what) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  if (what == "q" || what == "k" || what == "v" || what == "o") return p + "self_attn." + what + "_proj.weight";
  if (what == "gate" || what == "up" || what == "down") return p + "mlp." + what + "_proj.weight";
  if (what == "attn_norm") return p + "input_layernorm.weight";
  if (what == "mlp_norm") return p + "post_attention_layernorm.weight";
  throw std::invalid_argument("hf_name: unknown tensor '" + what + "'");
}

std::map<std::string, std::vector<std::int64_t>> hf_expected_shapes(const ModelConfig& c) {
  std::map<std::string, std::vector<std::int64_t>> s;
  const std::int64_t d = c.d_model, a = static_cast<std::int64_t>(c.n_heads) * c.head_dim, f = c.ffn_dim, v = c.vocab;
  const std::int64_t kv = static_cast<std::int64_t>(c.kv_heads()) * c.head_dim;  // K/V width (grouped-query attention)
  s["model.embed_tokens.weight"] = {v, d};
  s["model.norm.weight"] = {d};
  if (!c.tie_embeddings) s["lm_head.weight"] = {v, d};
  for (int i = 0; i < c.n_layers; ++i) {
    s[hf_name(i, "q")] = {a, d};
    s[hf_name(i, "k")] = {kv, d};
    s[hf_name(i, "v")] = {kv, d};
    s[hf_name(i, "o")] = {d, a};
    s[hf_name(i, "gate")] = {f, d};
    s[hf_name(i, "up")] = {f, d};
    s[hf_name(i, "down")] = {d, f};
    s[hf_name(i, "attn_norm")] = {d};
    s[hf_name(i, "mlp_norm")] = {d};
  }
  return s;
}

HfModel read_hf_llama(const std::string& dir) {
  HfModel m;
  m.config = read_hf_config(dir + "/config.json");
  // which file holds which tensor
  std::map<std::string, std::string> where;
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files;
  if (fs::exists(single)) {
    files[single] = std::make_unique<SafetensorsFile>(single);
    for (const auto& [name, e] : files[single]->entries()) where[name] = single;
  } else if (fs::exists(index)) {
    json j = read_json_file(index);
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index + ": missing weight_map");
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it->is_string()) fail(index + ": weight_map value for '" + it.key() + "' is not a file name");
      const std::string file = it->get<std::string>();
      if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
        fail(index + ": weight_map file name '" + file + "' must be a plain file name");
      where[it.key()] = dir + "/" + file;
    }
  } else {
    fail(dir + ": neither model.safetensors nor model.safetensors.index.json is present");
  }
  for (const auto& [name, shape] : hf_expected_shapes(m.config)) {
    auto w = where.find(name);
    if (w == where.end()) fail(dir + ": tensor '" + name + "' is missing from the model files");
    auto& f = files[w->second];
    if (!f) f = std::make_unique<SafetensorsFile>(w->second);
    m.tensors[name] = f->read(name, shape);
  }
  if (m.config.tie_embeddings) m.tensors["lm_head.weight"] = m.tensors["model.embed_tokens.weight"];
  return m;
}

void write_hf_llama(const std::string& dir, const ModelConfig& cfg, const TensorMap& tensors) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir + ": cannot create directory: " + ec.message());
  TensorMap t;
  for (const auto& [name, shape] : hf_expected_shapes(cfg)) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail("write_hf_llama: tensor '" + name + "' is missing");
    if (it->second.shape != shape)
      fail("write_hf_llama: tensor '" + name + "' has shape " + it->second.shape_str() + ", expected " + shape_string(shape));
    t[name] = it->second;
  }
  write_safetensors(dir + "/model.safetensors", t, {{"format", "pt"}});
  write_hf_config(dir + "/config.json", cfg);
}

}  // namespace marill::pkg
