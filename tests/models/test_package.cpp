// The torch-free package format: safetensors files, HF LLaMA directories, secure-inference packages.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "models/package/package.h"

using namespace marill::pkg;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_pkg_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Tensor random_tensor(std::vector<std::int64_t> shape, unsigned seed) {
  Tensor t = Tensor::zeros(std::move(shape));
  std::mt19937 rng(seed);  // test data only
  std::normal_distribution<float> nd(0.f, 0.1f);
  for (auto& v : t.data) v = nd(rng);
  return t;
}

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << data;
}

ModelConfig tiny_config() {
  ModelConfig c;
  c.vocab = 40;
  c.d_model = 16;
  c.n_layers = 4;
  c.n_heads = 4;
  c.head_dim = 4;
  c.ffn_dim = 24;
  c.max_seq = 32;
  return c;
}

TensorMap random_hf_tensors(const ModelConfig& c, unsigned seed) {
  TensorMap t;
  for (const auto& [name, shape] : hf_expected_shapes(c)) t[name] = random_tensor(shape, seed++);
  return t;
}

}  // namespace

TEST_CASE("safetensors round trip keeps names, shapes, values and metadata", "[package]") {
  const std::string d = tmpdir("roundtrip");
  TensorMap t;
  t["a"] = random_tensor({3, 5}, 1);
  t["b.c"] = random_tensor({7}, 2);
  t["empty"] = Tensor::zeros({0, 4});
  write_safetensors(d + "/x.safetensors", t, {{"k", "v"}});
  std::map<std::string, std::string> meta;
  TensorMap r = read_safetensors(d + "/x.safetensors", &meta);
  REQUIRE(r.size() == 3);
  CHECK(meta.at("k") == "v");
  for (const auto& [name, v] : t) {
    CHECK(r.at(name).shape == v.shape);
    CHECK(r.at(name).data == v.data);
  }
  // header length is 8-aligned and the data follow directly
  std::ifstream in(d + "/x.safetensors", std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  CHECK(len[0] % 8 == 0);
}

TEST_CASE("truncated or malformed safetensors files are clear errors naming file and tensor", "[package][errors]") {
  const std::string d = tmpdir("bad");
  TensorMap t;
  t["w"] = random_tensor({4, 4}, 3);
  const std::string good = d + "/good.safetensors";
  write_safetensors(good, t);
  const auto size = fs::file_size(good);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  for (std::uintmax_t cut : {std::uintmax_t{0}, std::uintmax_t{5}, std::uintmax_t{12}, size - 1}) {
    const std::string p = d + "/cut" + std::to_string(cut) + ".safetensors";
    std::ofstream(p, std::ios::binary) << bytes.substr(0, cut);
    INFO("cut at " << cut);
    CHECK_THROWS_WITH(SafetensorsFile(p), Catch::Contains(p) && Catch::Contains("truncated"));
  }
  const std::string p1 = d + "/range.safetensors";
  write_raw(p1, R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", std::string(16, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p1), Catch::Contains("tensor 'w'") && Catch::Contains("run past the data section"));
  const std::string p2 = d + "/shape.safetensors";
  write_raw(p2, R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(16, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p2), Catch::Contains("tensor 'w'") && Catch::Contains("needs 16"));
  const std::string p3 = d + "/dtype.safetensors";
  write_raw(p3, R"({"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p3), Catch::Contains("unsupported dtype 'I8'"));
  const std::string p4 = d + "/json.safetensors";
  write_raw(p4, "{not json", "");
  CHECK_THROWS_WITH(SafetensorsFile(p4), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(SafetensorsFile(d + "/nope.safetensors"), Catch::Contains("missing file"));
  SafetensorsFile f(good);
  CHECK_THROWS_WITH(f.read("w", {4, 5}), Catch::Contains("tensor 'w' has shape 4x4, expected 4x5"));
  CHECK_THROWS_WITH(f.read("v"), Catch::Contains("tensor 'v' is missing"));
}

TEST_CASE("F16, BF16 and F64 tensors are read as float", "[package]") {
  const std::string d = tmpdir("dtypes");
  // 1.0, -2.0 in F16 (0x3c00, 0xc000); 1.5, 0.5 in BF16 (0x3fc0, 0x3f00); 0.25 in F64
  std::string data = std::string("\x00\x3c\x00\xc0", 4) + std::string("\xc0\x3f\x00\x3f", 4);
  double q = 0.25;
  data += std::string(reinterpret_cast<const char*>(&q), 8);
  write_raw(d + "/h.safetensors",
            R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"c":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}})",
            data);
  TensorMap r = read_safetensors(d + "/h.safetensors");
  CHECK(r["a"].data == std::vector<float>{1.0f, -2.0f});
  CHECK(r["b"].data == std::vector<float>{1.5f, 0.5f});
  CHECK(r["c"].data == std::vector<float>{0.25f});
}

TEST_CASE("configs reject f outside 0 < f <= 1, heads not divisible by m, bad approximations", "[package][errors]") {
  ModelConfig c = tiny_config();
  MarillConfig m;
  CHECK_THROWS_WITH(set_freeze(m, c, 0.0), Catch::Contains("outside (0, 1]"));
  CHECK_THROWS_WITH(set_freeze(m, c, 1.5), Catch::Contains("outside (0, 1]"));
  set_freeze(m, c, 0.5);
  CHECK(m.frozen_layers == 2);
  CHECK(m.private_layers == 2);
  m.merge = 3;
  CHECK_THROWS_WITH(m.validate(c), Catch::Contains("not divisible by the merge factor m=3"));
  m.merge = 2;
  m.validate(c);
  CHECK(m.attn_heads(c) == 2);
  CHECK(m.attn_head_dim(c) == 8);
  CHECK_THROWS_WITH(parse_softmax_approx("3relu"), Catch::Contains("unknown softmax approximation"));
  ModelConfig bad = c;
  bad.n_heads = 3;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("not divisible by n_heads"));
}

TEST_CASE("HF LLaMA directories: write, read, tied embeddings, shards, clear errors", "[package][hf]") {
  const std::string d = tmpdir("hf");
  ModelConfig c = tiny_config();
  TensorMap t = random_hf_tensors(c, 10);
  write_hf_llama(d + "/m", c, t);
  HfModel r = read_hf_llama(d + "/m");
  CHECK(r.config.d_model == 16);
  CHECK(r.config.n_layers == 4);
  CHECK(r.tensors.at(hf_name(2, "q")).data == t.at(hf_name(2, "q")).data);
  CHECK(r.tensors.at("lm_head.weight").data == t.at("lm_head.weight").data);

  // a hand-written HF config with defaults, tied embeddings, sharded weights
  fs::create_directories(d + "/s");
  std::ofstream(d + "/s/config.json") << R"({"model_type":"llama","vocab_size":40,"hidden_size":16,"num_hidden_layers":4,
    "num_attention_heads":4,"intermediate_size":24,"rms_norm_eps":1e-6,"tie_word_embeddings":true,"pad_token_id":null})";
  ModelConfig ct = c;
  ct.tie_embeddings = true;
  TensorMap a, b;
  std::string index = R"({"metadata":{},"weight_map":{)";
  bool first = true;
  for (const auto& [name, shape] : hf_expected_shapes(ct)) {
    const bool in_a = name.find("layers.3") == std::string::npos;
    (in_a ? a : b)[name] = t.count(name) ? t.at(name) : random_tensor(shape, 99);
    index += std::string(first ? "" : ",") + "\"" + name + "\":\"" + (in_a ? "a.safetensors" : "b.safetensors") + "\"";
    first = false;
  }
  index += "}}";
  write_safetensors(d + "/s/a.safetensors", a);
  write_safetensors(d + "/s/b.safetensors", b);
  std::ofstream(d + "/s/model.safetensors.index.json") << index;
  HfModel s = read_hf_llama(d + "/s");
  CHECK(s.config.tie_embeddings);
  CHECK(s.config.norm_eps == Approx(1e-6));
  CHECK(s.config.pad_id == -1);
  CHECK(s.tensors.at("lm_head.weight").data == s.tensors.at("model.embed_tokens.weight").data);
  CHECK(s.tensors.at(hf_name(3, "down")).data == t.at(hf_name(3, "down")).data);

  // errors
  std::ofstream(d + "/s/config.json") << R"({"model_type":"llama","vocab_size":40,"hidden_size":16,"num_hidden_layers":4,
    "num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":24,"tie_word_embeddings":true})";
  // grouped-query attention is read: K/V must then be at the KV width (2 heads of 4)
  CHECK_THROWS_WITH(read_hf_llama(d + "/s"), Catch::Contains("k_proj.weight' has shape 16x16, expected 8x16"));
  std::ofstream(d + "/s/config.json") << R"({"model_type":"gpt2"})";
  CHECK_THROWS_WITH(read_hf_llama(d + "/s"), Catch::Contains("model_type 'gpt2'"));
  TensorMap missing = t;
  missing.erase(hf_name(1, "v"));
  write_safetensors(d + "/m/model.safetensors", missing);
  CHECK_THROWS_WITH(read_hf_llama(d + "/m"), Catch::Contains("model.layers.1.self_attn.v_proj.weight") && Catch::Contains("missing"));
  CHECK_THROWS_WITH(read_hf_llama(d + "/none"), Catch::Contains("config.json") && Catch::Contains("missing file"));
}

TEST_CASE("secure-inference package round trip, LoRA merge arithmetic, validation", "[package]") {
  const std::string d = tmpdir("package");
  ModelConfig c = tiny_config();
  write_hf_llama(d + "/base", c, random_hf_tensors(c, 1));
  Package p;
  p.model = c;
  set_freeze(p.marill, c, 0.5);
  p.marill.merge = 2;
  p.marill.grouping = "similar";
  p.marill.head_perm = {{0, 2, 1, 3}, {3, 1, 0, 2}};
  p.marill.lora_rank = 2;
  p.marill.lora_alpha = 4;
  p.marill.lora_targets = {"q", "down"};
  p.base_path = d + "/base";
  p.base_sha256 = sha256_file(d + "/base/model.safetensors");
  p.frozen_layers = p.marill.frozen_layers;
  unsigned seed = 100;
  for (int i = 2; i < 4; ++i) {
    LayerWeights l;
    l.index = i;
    l.attn_norm = random_tensor({16}, seed++);
    l.mlp_norm = random_tensor({16}, seed++);
    l.wq = random_tensor({16, 16}, seed++);
    l.wk = random_tensor({16, 16}, seed++);
    l.wv = random_tensor({16, 16}, seed++);
    l.wo = random_tensor({16, 16}, seed++);
    l.w_gate = random_tensor({24, 16}, seed++);
    l.w_up = random_tensor({24, 16}, seed++);
    l.w_down = random_tensor({16, 24}, seed++);
    l.lora["q"] = {random_tensor({2, 16}, seed++), random_tensor({16, 2}, seed++)};
    l.lora["down"] = {random_tensor({2, 24}, seed++), random_tensor({16, 2}, seed++)};
    p.layers.push_back(l);
  }
  p.final_norm = random_tensor({16}, seed++);
  p.lm_head = random_tensor({40, 16}, seed++);
  save_package(d + "/pkg", p);
  Package q = load_package(d + "/pkg", true);
  CHECK(q.frozen_layers == 2);
  CHECK(q.marill.head_perm == p.marill.head_perm);
  CHECK(q.marill.attn_heads(q.model) == 2);
  CHECK(q.layers.at(1).lora.at("down").B.data == p.layers[1].lora["down"].B.data);
  CHECK(q.layers.at(0).wv.data == p.layers[0].wv.data);

  // merged LoRA weight = W + alpha/r · B·A, checked on one element by hand
  const auto& l = q.layers[0];
  Tensor m = merged_lora_weight(l.wq, l.lora.at("q"), 4, 2);
  double want = l.wq.data[3 * 16 + 5];
  for (int r = 0; r < 2; ++r) want += 2.0 * l.lora.at("q").B.data[3 * 2 + r] * l.lora.at("q").A.data[r * 16 + 5];
  CHECK(m.data[3 * 16 + 5] == Approx(want).epsilon(1e-5));

  // a base path relative to the package directory (as marill finetune writes it): base and
  // package moved together load from their new place, with the SHA-256 check
  {
    Package rel = p;
    rel.base_path = "../base";
    save_package(d + "/tree/pkg", rel);
    fs::copy(d + "/base", d + "/tree/base");
    fs::rename(d + "/tree", d + "/moved");
    Package r = load_package(d + "/moved/pkg", true);
    CHECK(fs::equivalent(r.base_path, d + "/moved/base"));
    CHECK(r.layers.at(1).wv.data == p.layers[1].wv.data);
    fs::remove_all(d + "/moved/base");  // a package without its base: the error names the base and what is missing
    CHECK_THROWS_WITH(load_package(d + "/moved/pkg", true), Catch::Contains("moved/base") && Catch::Contains("model.safetensors"));
  }

  // the base model changed: its hash no longer matches
  write_hf_llama(d + "/base", c, random_hf_tensors(c, 2));
  CHECK_THROWS_WITH(load_package(d + "/pkg", true), Catch::Contains("SHA-256"));
  // a truncated private file
  const std::string priv = d + "/pkg/private.safetensors";
  fs::resize_file(priv, fs::file_size(priv) - 10);
  CHECK_THROWS_WITH(load_package(d + "/pkg"), Catch::Contains("private.safetensors") && Catch::Contains("truncated"));
  // a tensor of the wrong shape
  p.layers[1].w_up = random_tensor({23, 16}, 1);
  save_package(d + "/pkg2", p);
  CHECK_THROWS_WITH(load_package(d + "/pkg2"), Catch::Contains("layers.3.w_up") && Catch::Contains("expected 24x16"));
}
