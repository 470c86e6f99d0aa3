// `swarm ledger append|show|verify --db FILE`.
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "crypto/identity.h"
#include "crypto/merkle.h"
#include "store/ledger.h"
#include "store/signers.h"

namespace swarm::cli {
namespace {

constexpr size_t kPayloadChunkBytes = 64 * 1024;

struct LedgerFlags {
  std::string db;
  std::string key;
  std::string kind = "note";
  uint64_t epoch = 0;
  std::string payload_file;
  std::string text;
  int64_t from = 0;
  int64_t count = 20;
  bool json = false;
};

std::unique_ptr<store::Ledger> OpenLedger(const std::string& cmd, const std::string& db) {
  auto ledger = store::Ledger::Open(db);
  if (!ledger.ok()) Fail(cmd, ledger.status(), kExitUsage);
  return std::move(*ledger);
}

nlohmann::json RecordJson(const store::LedgerRecord& r) {
  return {{"index", r.index},
          {"author", ToHex(r.author_id).substr(0, crypto::kPeerIdHexChars)},
          {"epoch", r.epoch},
          {"kind", r.kind},
          {"payload_root", ToHex(r.payload_root)},
          {"prev_hash", ToHex(r.prev_hash)},
          {"hash", ToHex(store::LedgerRecordHash(r))},
          {"scheme", r.signature_scheme},
          {"signature_bytes", r.signature.size()}};
}

int RunAppend(const LedgerFlags& f) {
  if (f.payload_file.empty() == f.text.empty()) {
    Fail("ledger append", absl::InvalidArgumentError("give exactly one of --payload FILE or --text STRING"), kExitUsage);
  }
  auto id = crypto::Identity::Load(f.key);
  if (!id.ok()) Fail("ledger append", id.status(), kExitUsage);
  Bytes payload;
  if (!f.payload_file.empty()) {
    std::ifstream in(f.payload_file, std::ios::binary);
    if (!in) Fail("ledger append", absl::NotFoundError("cannot read --payload '" + f.payload_file + "'"), kExitUsage);
    payload.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    payload.assign(f.text.begin(), f.text.end());
  }
  auto root = crypto::MerkleRootOfBlob(payload, kPayloadChunkBytes);
  if (!root.ok()) Fail("ledger append", root.status(), kExitRuntime);
  auto ledger = OpenLedger("ledger append", f.db);
  store::LedgerEntry entry;
  entry.epoch = f.epoch;
  entry.kind = f.kind;
  std::copy(root->begin(), root->end(), entry.payload_root.begin());
  store::IdentityRecordSigner signer(*id);
  auto rec = ledger->Append(entry, signer);
  if (!rec.ok()) Fail("ledger append", rec.status(), rec.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitRuntime);
  if (f.json) {
    std::cout << RecordJson(*rec).dump(2) << std::endl;
  } else {
    std::cout << "appended record " << rec->index << " (kind " << rec->kind << ", epoch " << rec->epoch
              << ", payload root " << ToHex(rec->payload_root).substr(0, 16) << "…) hash "
              << ToHex(store::LedgerRecordHash(*rec)) << std::endl;
  }
  return 0;
}

int RunShow(const LedgerFlags& f) {
  auto ledger = OpenLedger("ledger show", f.db);
  auto head = ledger->Head();
  if (!head.ok()) Fail("ledger show", head.status(), kExitRuntime);
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  const uint64_t from = static_cast<uint64_t>(std::max<int64_t>(0, f.from));
  for (uint64_t i = from; i < head->size && i < from + static_cast<uint64_t>(f.count); ++i) {
    auto r = ledger->Get(i);
    if (!r.ok()) Fail("ledger show", r.status(), kExitRuntime);
    auto j = RecordJson(*r);
    arr.push_back(j);
    rows.push_back({std::to_string(r->index), j["author"], std::to_string(r->epoch), r->kind,
                    j["payload_root"].get<std::string>().substr(0, 16),
                    j["hash"].get<std::string>().substr(0, 16), r->signature_scheme});
  }
  if (f.json) {
    std::cout << nlohmann::json{{"size", head->size}, {"head", ToHex(head->hash)}, {"records", arr}}.dump(2) << std::endl;
  } else {
    std::cout << "ledger " << f.db << ": " << head->size << " records, head " << ToHex(head->hash) << "\n"
              << FormatTable({"index", "author", "epoch", "kind", "payload root", "hash", "scheme"}, rows);
  }
  return 0;
}

int RunVerify(const LedgerFlags& f) {
  auto ledger = OpenLedger("ledger verify", f.db);
  auto report = ledger->Verify();
  if (!report.ok()) Fail("ledger verify", report.status(), kExitRuntime);
  auto head = ledger->Head();
  if (f.json) {
    std::cout << nlohmann::json{{"ok", report->ok},
                                {"records_checked", report->records_checked},
                                {"first_bad_index", report->ok ? nlohmann::json() : nlohmann::json(report->first_bad_index)},
                                {"fault", std::string(store::LedgerFaultName(report->fault))},
                                {"detail", report->detail},
                                {"head", head.ok() ? ToHex(head->hash) : ""}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << report->ToString();
    if (report->ok && head.ok()) std::cout << ", head " << ToHex(head->hash);
    std::cout << std::endl;
  }
  return report->ok ? 0 : kExitRuntime;
}

}  // namespace

void AddLedgerCommand(CLI::App& app) {
  auto f = std::make_shared<LedgerFlags>();
  auto* ledger = app.add_subcommand(
      "ledger",
      "The signed, hash-chained ledger (SQLite).\n\nExamples:\n"
      "  swarm keygen --out me.key\n"
      "  swarm ledger append --db ledger.db --key me.key --kind update --epoch 3 --payload grads.bin\n"
      "  swarm ledger show --db ledger.db\n"
      "  swarm ledger verify --db ledger.db     # exit 1 and the first bad record if tampered");
  ledger->require_subcommand(1);
  auto* append = ledger->add_subcommand("append", "Sign and append one record");
  append->add_option("--db", f->db, "Ledger database file (created if missing)")->required();
  append->add_option("--key", f->key, "Key file of the author (swarm keygen)")->required();
  append->add_option("--kind", f->kind, "Record kind (1-64 printable characters, no spaces)")->capture_default_str();
  append->add_option("--epoch", f->epoch, "Epoch number")->capture_default_str();
  append->add_option("--payload", f->payload_file, "File whose Merkle root (64 KiB chunks) is recorded");
  append->add_option("--text", f->text, "Inline payload text instead of --payload");
  append->add_flag("--json", f->json, "Print the record as JSON");
  append->callback([f] { RunAppend(*f); });
  auto* show = ledger->add_subcommand("show", "List records");
  show->add_option("--db", f->db, "Ledger database file")->required()->check(CLI::ExistingFile);
  show->add_option("--from", f->from, "First index")->capture_default_str();
  show->add_option("--count", f->count, "How many records")->capture_default_str();
  show->add_flag("--json", f->json, "Print JSON");
  show->callback([f] { RunShow(*f); });
  auto* verify = ledger->add_subcommand("verify", "Check every hash, link and signature; name the first bad record");
  verify->add_option("--db", f->db, "Ledger database file")->required()->check(CLI::ExistingFile);
  verify->add_flag("--json", f->json, "Print JSON");
  verify->callback([f] {
    const int code = RunVerify(*f);
    if (code) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
