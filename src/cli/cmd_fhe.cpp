// `swarm fhe keygen|encrypt|decrypt` (and `swarm fhe eval` from
// cmd_fhe_eval.cpp when the jobs module is built): homomorphic encryption for
// users. Keys live in a key directory (fhe/keyset.h); values are plain text,
// one number per line; ciphertexts are fhe/serialize.h blobs.
// Exit codes: 2 for usage errors (bad flags, bad values, wrong or missing
// key directory, a ciphertext under another key), 1 for runtime failures.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "common/file.h"
#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/keyset.h"
#include "fhe/serialize.h"

namespace swarm::cli {
namespace {

namespace fhe = swarm::fhe;

constexpr size_t kValuesFileBytesMax = size_t{64} << 20;

struct KeygenFlags {
  std::string scheme = "ckks";
  size_t n = 8192;
  std::string out;
  std::string rotations = "pow2";
  bool conjugate = false;
  bool no_relin = false;
  bool force = false;
};

struct EncryptFlags {
  std::string keys, in, out;
  double scale = 0;
  int level = -1;
};

struct DecryptFlags {
  std::string keys, in;
  bool json = false;
  long count = -1;
  bool all = false;
};

StatusOr<std::vector<int>> ParseRotations(const std::string& spec, size_t n, bool* any) {
  std::vector<int> steps;
  *any = true;
  if (spec == "none") {
    *any = false;
    return steps;
  }
  if (spec == "pow2") {  // what SumSlots / Dot need: left rotations by 1, 2, 4, ..., N/4
    for (size_t s = 1; s < n / 2; s <<= 1) steps.push_back(static_cast<int>(s));
    return steps;
  }
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v == 0 || static_cast<size_t>(std::abs(v)) >= n / 2)
      return absl::InvalidArgumentError(absl::StrCat("--rotations: '", std::string(part),
                                                     "' is not a nonzero step with |step| < ", n / 2));
    steps.push_back(v);
  }
  if (steps.empty()) return absl::InvalidArgumentError("--rotations: empty list (use 'none')");
  return steps;
}

StatusOr<Bytes> ReadAll(const std::string& flag, const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  if (size > max) return absl::InvalidArgumentError(absl::StrCat(flag, ": '", path, "' is ", size, " bytes, above ", max));
  in.seekg(0);
  Bytes b(size);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(size));
  if (!in) return absl::DataLossError(absl::StrCat(flag, ": reading '", path, "' failed"));
  return b;
}

Status WriteAll(const std::string& path, const Bytes& data) {
  const Status s = WriteFileAtomic(path, ByteSpan(data), {.mode = 0644});
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("--out: ", s.message()));
}

// One number per line; blank lines and lines starting with '#' are skipped.
// A line may also hold several comma-separated numbers (a CSV row).
StatusOr<std::vector<std::string>> ReadValueTokens(const std::string& path, std::vector<size_t>* lines) {
  SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadAll("--in", path, kValuesFileBytesMax));
  std::string text(raw.begin(), raw.end());
  std::vector<std::string> out;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::string l(absl::StripAsciiWhitespace(line));
    if (l.empty() || l[0] == '#') continue;
    for (absl::string_view tok : absl::StrSplit(l, ',')) {
      out.emplace_back(absl::StripAsciiWhitespace(tok));
      lines->push_back(line_no);
    }
  }
  return out;
}

int RunKeygen(const KeygenFlags& f) {
  fhe::Scheme scheme = fhe::Scheme::kCkks;
  if (f.scheme == "ckks") {
    scheme = fhe::Scheme::kCkks;
  } else if (f.scheme == "bfv") {
    scheme = fhe::Scheme::kBfv;
  } else {
    Fail("fhe keygen", absl::InvalidArgumentError("--scheme '" + f.scheme + "' is not ckks or bfv"), kExitUsage);
  }
  auto spec = scheme == fhe::Scheme::kCkks ? fhe::CkksPreset(f.n) : fhe::BfvPreset(f.n);
  if (!spec.ok()) Fail("fhe keygen", absl::InvalidArgumentError(absl::StrCat("--n: ", spec.status().message())), kExitUsage);
  fhe::KeyGenOptions o;
  o.relin_key = !f.no_relin;
  bool any = false;
  auto steps = ParseRotations(f.rotations, f.n, &any);
  if (!steps.ok()) Fail("fhe keygen", steps.status(), kExitUsage);
  o.rotations = *steps;
  o.galois_keys = any || f.conjugate;
  o.conjugate = f.conjugate;
  // Conjugation only: step 0 is the identity (no key); an empty list would mean every power of two.
  if (o.galois_keys && o.rotations.empty()) o.rotations = {0};
  auto ks = fhe::GenerateKeySet(*spec, o);
  if (!ks.ok()) Fail("fhe keygen", ks.status(), kExitUsage);
  if (auto s = fhe::SaveKeySet(f.out, *ks, f.force); !s.ok())
    Fail("fhe keygen", s, s.code() == absl::StatusCode::kAlreadyExists ? kExitUsage : kExitRuntime);
  const fhe::Context& c = *ks->eval.ctx;
  std::cout << "wrote key set " << fhe::KeyIdHex(ks->eval.key_id) << " to " << f.out << "\n"
            << "  " << fhe::SchemeName(c.scheme()) << " N=" << c.n() << ", " << c.data_prime_count()
            << " data primes + 1 special, log2(QP)=" << static_cast<int>(std::ceil(c.log2_qp()))
            << (c.scheme() == fhe::Scheme::kBfv ? absl::StrCat(", t=", c.plain_modulus())
                                                : absl::StrCat(", scale 2^", std::log2(c.spec().scale)))
            << ", " << (c.scheme() == fhe::Scheme::kCkks ? c.slot_count() : c.n()) << " slots\n"
            << "  Galois keys: " << (ks->eval.galois_keys ? ks->eval.galois_keys->keys.size() : 0)
            << ", relinearization key: " << (ks->eval.relin_key ? "yes" : "no") << "\n"
            << "  share everything except " << fhe::kSecretKeyFile << " (mode 0600)" << std::endl;
  return 0;
}

int RunEncrypt(const EncryptFlags& f) {
  auto keys = fhe::LoadEvalKeys(f.keys);
  if (!keys.ok()) Fail("fhe encrypt", keys.status(), kExitUsage);
  const fhe::ContextPtr& ctx = keys->ctx;
  std::vector<size_t> lines;
  auto tokens = ReadValueTokens(f.in, &lines);
  if (!tokens.ok()) Fail("fhe encrypt", tokens.status(), kExitUsage);
  const size_t slots = ctx->scheme() == fhe::Scheme::kCkks ? ctx->slot_count() : ctx->n();
  if (tokens->empty()) Fail("fhe encrypt", absl::InvalidArgumentError("--in '" + f.in + "' holds no values"), kExitUsage);
  if (tokens->size() > slots)
    Fail("fhe encrypt",
         absl::InvalidArgumentError(absl::StrCat("--in '", f.in, "' holds ", tokens->size(), " values but ",
                                                 fhe::SchemeName(ctx->scheme()), " N=", ctx->n(), " has ", slots,
                                                 " slots (split the input or use a larger --n)")),
         kExitUsage);
  auto bad = [&](size_t i, const std::string& what) {
    Fail("fhe encrypt",
         absl::InvalidArgumentError(absl::StrCat("--in '", f.in, "' line ", lines[i], ": '", (*tokens)[i], "' ", what)),
         kExitUsage);
  };
  auto enc = fhe::Encryptor::Create(ctx, *keys->public_key);
  if (!enc.ok()) Fail("fhe encrypt", enc.status(), kExitRuntime);
  StatusOr<fhe::Plaintext> pt = absl::InternalError("unset");
  if (ctx->scheme() == fhe::Scheme::kCkks) {
    std::vector<double> v(tokens->size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!absl::SimpleAtod((*tokens)[i], &v[i]) || !std::isfinite(v[i])) bad(i, "is not a finite number");
    }
    std::optional<size_t> level;
    if (f.level >= 0) level = static_cast<size_t>(f.level);
    pt = fhe::CkksEncoder(ctx).Encode(std::span<const double>(v), f.scale, level);
  } else {
    const int64_t t = static_cast<int64_t>(ctx->plain_modulus());
    std::vector<int64_t> v(tokens->size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!absl::SimpleAtoi((*tokens)[i], &v[i])) bad(i, "is not an integer");
      if (2 * v[i] > t || 2 * v[i] <= -t)
        bad(i, absl::StrCat("is outside (-t/2, t/2] for plain modulus t = ", t));
    }
    pt = fhe::BfvEncoder(ctx).EncodeSigned(std::span<const int64_t>(v));
  }
  if (!pt.ok()) Fail("fhe encrypt", pt.status(), kExitUsage);
  auto ct = enc->Encrypt(*pt);
  if (!ct.ok()) Fail("fhe encrypt", ct.status(), kExitRuntime);
  Bytes blob = fhe::Serialize(*ctx, *ct);
  if (auto s = WriteAll(f.out, blob); !s.ok()) Fail("fhe encrypt", s, kExitRuntime);
  std::cerr << "encrypted " << tokens->size() << " values (" << fhe::SchemeName(ctx->scheme()) << " N=" << ctx->n()
            << ", level " << ct->level << ") into " << f.out << " (" << blob.size() << " bytes)" << std::endl;
  return 0;
}

int RunDecrypt(const DecryptFlags& f) {
  auto keys = fhe::LoadKeySet(f.keys);
  if (!keys.ok()) Fail("fhe decrypt", keys.status(), kExitUsage);
  const fhe::ContextPtr& ctx = keys->eval.ctx;
  auto raw = ReadAll("--in", f.in, fhe::kSerializedBytesMax);
  if (!raw.ok()) Fail("fhe decrypt", raw.status(), kExitUsage);
  auto ct = fhe::DeserializeCiphertext(*ctx, *raw);
  if (!ct.ok())
    Fail("fhe decrypt", absl::InvalidArgumentError(absl::StrCat("--in '", f.in, "': ", ct.status().message())), kExitUsage);
  auto dec = fhe::Decryptor::Create(ctx, *keys->secret_key);
  if (!dec.ok()) Fail("fhe decrypt", dec.status(), kExitRuntime);
  auto pt = dec->Decrypt(*ct);
  if (!pt.ok())
    Fail("fhe decrypt", absl::InvalidArgumentError(absl::StrCat("--in '", f.in, "': ", pt.status().message())), kExitUsage);
  std::vector<std::string> out;
  nlohmann::json arr = nlohmann::json::array();
  size_t keep = 0;
  if (ctx->scheme() == fhe::Scheme::kCkks) {
    auto v = fhe::CkksEncoder(ctx).Decode(*pt);
    if (!v.ok()) Fail("fhe decrypt", v.status(), kExitRuntime);
    // Trailing slots that decrypt to ~0 were (almost surely) padding.
    keep = v->size();
    while (keep > 1 && std::fabs((*v)[keep - 1]) < 1e-4) --keep;
    if (f.all) keep = v->size();
    if (f.count >= 0) keep = std::min(v->size(), static_cast<size_t>(f.count));
    for (size_t i = 0; i < keep; ++i) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.9g", (*v)[i]);
      out.emplace_back(buf);
      arr.push_back((*v)[i]);
    }
  } else {
    auto v = fhe::BfvEncoder(ctx).DecodeSigned(*pt);
    if (!v.ok()) Fail("fhe decrypt", v.status(), kExitRuntime);
    keep = v->size();
    while (keep > 1 && (*v)[keep - 1] == 0) --keep;
    if (f.all) keep = v->size();
    if (f.count >= 0) keep = std::min(v->size(), static_cast<size_t>(f.count));
    for (size_t i = 0; i < keep; ++i) {
      out.push_back(std::to_string((*v)[i]));
      arr.push_back((*v)[i]);
    }
  }
  if (f.json) {
    std::cout << arr.dump() << std::endl;
  } else {
    for (const auto& s : out) std::cout << s << "\n";
    std::cout.flush();
  }
  return 0;
}

}  // namespace

void AddFheCommand(CLI::App& app) {
  auto* fhe_cmd = app.add_subcommand("fhe", "Homomorphic encryption: keys, encrypt, decrypt (and eval on the swarm)");
  fhe_cmd->require_subcommand(1);
  fhe_cmd->footer(
      "Examples:\n"
      "  swarm fhe keygen --scheme ckks --n 8192 --out keys/\n"
      "  printf '1.5\\n-2\\n3.25\\n' > x.txt\n"
      "  swarm fhe encrypt --keys keys/ --in x.txt --out x.ct\n"
      "  swarm fhe decrypt --keys keys/ --in x.ct --json\n"
      "Give peers the key directory without secret.key (keys/keyset.txt, params.fhe, public.key,\n"
      "relin.key, galois.key); see docs/fhe.md.");

  auto kf = std::make_shared<KeygenFlags>();
  auto* kg = fhe_cmd->add_subcommand("keygen", "Generate a key directory (public, relinearization, Galois keys; secret in secret.key, mode 0600)");
  kg->add_option("--scheme", kf->scheme, "ckks (approximate reals) or bfv (exact integers mod t)")
      ->check(CLI::IsMember({"ckks", "bfv"}))
      ->capture_default_str();
  kg->add_option("--n", kf->n, "ring degree: 4096, 8192, 16384, 32768 or 65536 (presets in docs/fhe.md)")->capture_default_str();
  kg->add_option("--out", kf->out, "key directory to create")->required();
  kg->add_option("--rotations", kf->rotations,
                 "Galois keys: 'pow2' (left by 1,2,4,..,N/4: sum/dot), 'none', or steps like '1,-1,8'")
      ->capture_default_str();
  kg->add_flag("--conjugate", kf->conjugate, "also a key for conjugation (CKKS) / row swap (BFV)");
  kg->add_flag("--no-relin", kf->no_relin, "skip the relinearization key (no ct x ct multiplication)");
  kg->add_flag("--force", kf->force, "overwrite an existing key set in --out");
  kg->footer("Example: swarm fhe keygen --scheme bfv --n 8192 --rotations 1,-1 --conjugate --out bfvkeys/");
  kg->callback([kf] { RunKeygen(*kf); });

  auto ef = std::make_shared<EncryptFlags>();
  auto* en = fhe_cmd->add_subcommand("encrypt", "Encrypt plain-text values (one number per line) with the public key");
  en->add_option("--keys", ef->keys, "key directory (secret.key not needed)")->required();
  en->add_option("--in", ef->in, "values: one number per line (CSV rows also accepted; '#' comments)")->required();
  en->add_option("--out", ef->out, "ciphertext file to write")->required();
  en->add_option("--scale", ef->scale, "CKKS encoding scale (default: the key set's, 2^40 for the presets)");
  en->add_option("--level", ef->level, "CKKS level to encrypt at (default: the top level)");
  en->footer("Example: swarm fhe encrypt --keys keys/ --in values.csv --out x.ct");
  en->callback([ef] { RunEncrypt(*ef); });

  auto df = std::make_shared<DecryptFlags>();
  auto* de = fhe_cmd->add_subcommand("decrypt", "Decrypt a ciphertext with the key directory's secret key");
  de->add_option("--keys", df->keys, "key directory with secret.key")->required();
  de->add_option("--in", df->in, "ciphertext file")->required();
  de->add_flag("--json", df->json, "print a JSON array instead of one number per line");
  de->add_option("--count", df->count, "print exactly this many slots (default: up to the last nonzero slot)");
  de->add_flag("--all", df->all, "print every slot");
  de->footer("Example: swarm fhe decrypt --keys keys/ --in r.ct --json");
  de->callback([df] { RunDecrypt(*df); });

#ifdef SWARM_HAVE_JOBS
  AddFheEvalCommand(*fhe_cmd);
#endif
}

}  // namespace swarm::cli
