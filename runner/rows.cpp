#include "runner/rows.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

namespace marill {

std::vector<PrimitiveRow> primitive_rows(const PointResult& r) {
  const PrimitiveOp& op = r.point.primitive;
  const u64 op_rounds = r.session.op_rounds(op.op);
  std::vector<PrimitiveRow> rows;
  for (const auto& party : r.session.parties) {
    for (Phase ph : {Phase::offline, Phase::online}) {
      auto it = party.ledger.by_op(ph).find(op.op);
      if (it == party.ledger.by_op(ph).end()) continue;
      const OpCost& c = it->second;
      PrimitiveRow row;
      row.setting = setting_name(r.point.setting);
      row.op = op.op;
      row.shape = op.shape_label();
      row.party = role_name(party.role);
      row.phase = phase_name(ph);
      row.bytes_sent = c.bytes_sent;
      row.rounds = ph == Phase::online ? op_rounds : (c.bytes_sent ? 1 : 0);  // the dealer's one-way stream
      row.sim_time_s = c.sim_s;
      row.cpu_time_s = c.cpu_s;
      row.bytes_per_element = static_cast<double>(c.bytes_sent) / static_cast<double>(op.out_elements());
      rows.push_back(row);
    }
  }
  return rows;
}

std::vector<LayerRow> layer_rows(const PointResult& r) {
  const Point& p = r.point;
  const BlockShape s = p.block_shape();
  LayerRow key;
  key.setting = setting_name(p.setting);
  key.arch = arch_name(s.arch);
  key.stage = stage_name(p.stage);
  key.b = p.b;
  key.d = s.d_model;
  key.heads = s.n_heads;
  key.merge = p.marill.merge;
  key.lora = p.marill.lora;
  key.fss = p.fss_gates;
  // Kinds: the paths below "forward", two levels deep at most, summed over the parties.
  std::map<std::string, LayerRow> kinds;
  u64 online = 0, offline = 0;
  for (const auto& party : r.session.parties) {
    for (const auto& [path, c] : party.ledger.by_op(Phase::online)) {
      if (path == "forward") online += c.bytes_sent;
      if (path.rfind("forward/", 0) != 0) continue;
      const std::string kind = path.substr(8);
      if (std::count(kind.begin(), kind.end(), '/') > 1) continue;
      auto [it, fresh] = kinds.try_emplace(kind, key);
      LayerRow& k = it->second;
      if (fresh) k.kind = kind;
      k.bytes_sent += c.bytes_sent;
      k.rounds = std::max(k.rounds, c.rounds);
      k.sim_time_s = std::max(k.sim_time_s, c.sim_s);
      k.secure_macs = std::max(k.secure_macs, c.secure_macs);
    }
    auto off = party.ledger.by_op(Phase::offline).find("forward");
    if (off != party.ledger.by_op(Phase::offline).end()) offline += off->second.bytes_sent;
  }
  std::vector<LayerRow> rows;
  LayerRow total = key;
  total.kind = "(total)";
  total.bytes_sent = online;
  total.bytes_share = 1;
  total.rounds = r.session.op_rounds("forward");
  total.sim_time_s = r.session.online_time_s();
  rows.push_back(total);
  LayerRow off = key;
  off.kind = "(offline)";
  off.bytes_sent = offline;
  rows.push_back(off);
  for (auto& [kind, k] : kinds) {
    k.bytes_share = online ? static_cast<double>(k.bytes_sent) / static_cast<double>(online) : 0.0;
    rows.push_back(k);
  }
  return rows;
}

const char* primitive_csv_header() { return "setting,op,shape,party,phase,bytes_sent,rounds,sim_time_s,cpu_time_s,bytes_per_element"; }

const char* layer_csv_header() {
  return "setting,arch,stage,b,d,heads,merge,lora,fss,kind,party,bytes_sent,bytes_share,rounds,secure_macs,sim_time_s";
}

std::string csv_line(const PrimitiveRow& r) {
  std::ostringstream os;
  os << r.setting << ',' << r.op << ',' << r.shape << ',' << r.party << ',' << r.phase << ',' << r.bytes_sent << ',' << r.rounds
     << ',' << r.sim_time_s << ',' << r.cpu_time_s << ',' << r.bytes_per_element;
  return os.str();
}

std::string csv_line(const LayerRow& r) {
  std::ostringstream os;
  os << r.setting << ',' << r.arch << ',' << r.stage << ',' << r.b << ',' << r.d << ',' << r.heads << ',' << r.merge << ',' << r.lora
     << ',' << (r.fss ? "on" : "off") << ',' << r.kind << ',' << r.party << ',' << r.bytes_sent << ',' << r.bytes_share << ','
     << r.rounds << ',' << r.secure_macs << ',' << r.sim_time_s;
  return os.str();
}

CsvWriter::CsvWriter(const std::string& path, const char* header) : out_(path) {
  if (!out_) throw std::runtime_error("cannot write CSV file '" + path + "'");
  out_ << header << '\n';
}

}  // namespace marill
