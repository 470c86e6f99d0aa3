// Identity: schemes, peer ids, signing, and the key file (permissions,
// no-overwrite, clear load errors).
#include "crypto/identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

namespace fs = std::filesystem;

constexpr SignatureScheme kSchemes[] = {SignatureScheme::kMlDsa65, SignatureScheme::kMlDsa87,
                                        SignatureScheme::kHybrid};

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("swarm_identity_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

Bytes ReadFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
// Writes a key file as Save would leave it: owner-only (0600).
void WriteFile(const std::string& p, ByteSpan b) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  ::chmod(p.c_str(), 0600);
}

class IdentitySchemeTest : public ::testing::TestWithParam<SignatureScheme> {};

TEST_P(IdentitySchemeTest, SignVerifyAndTamper) {
  auto id = Identity::Generate(GetParam());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->scheme(), GetParam());
  EXPECT_EQ(id->public_key().size(), SchemeSizesOf(GetParam()).public_key);
  const Bytes msg = {'p', 'i', 'n', 'g'};
  auto sig = id->Sign(msg);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->size(), SchemeSizesOf(GetParam()).signature);
  EXPECT_TRUE(Identity::Verify(GetParam(), id->public_key(), msg, *sig).ok());
  Bytes bad = *sig;
  bad[5] ^= 1;  // first component (Ed25519 for hybrid)
  EXPECT_EQ(Identity::Verify(GetParam(), id->public_key(), msg, bad).code(),
            absl::StatusCode::kUnauthenticated);
  bad = *sig;
  bad[bad.size() - 200] ^= 1;  // ML-DSA part
  EXPECT_EQ(Identity::Verify(GetParam(), id->public_key(), msg, bad).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Identity::Verify(GetParam(), id->public_key(), Bytes{'p', 'o', 'n', 'g'}, *sig).code(),
            absl::StatusCode::kUnauthenticated);
  Bytes shorter(sig->begin(), sig->end() - 1);
  auto st = Identity::Verify(GetParam(), id->public_key(), msg, shorter);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("signature must be"), std::string::npos) << st;
}

TEST_P(IdentitySchemeTest, PreparedVerifierAgreesWithVerify) {
  auto id = Identity::Generate(GetParam());
  ASSERT_TRUE(id.ok());
  auto v = PreparedVerifier::Create(GetParam(), id->public_key());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->public_key(), id->public_key());
  const Bytes msg = {'m', 's', 'g'};
  auto sig = id->Sign(msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(v->Verify(msg, *sig).ok());
  Bytes bad = *sig;
  bad[3] ^= 1;
  EXPECT_EQ(v->Verify(msg, bad).code(), absl::StatusCode::kUnauthenticated);
  bad = *sig;
  bad[bad.size() - 100] ^= 1;
  EXPECT_EQ(v->Verify(msg, bad).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v->Verify(msg, ByteSpan(*sig).first(9)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PreparedVerifier::Create(GetParam(), ByteSpan(id->public_key()).first(31)).ok());
}

TEST_P(IdentitySchemeTest, SaveLoadRoundTripWith0600) {
  TempDir dir;
  const std::string path = dir.File("node.key");
  auto id = Identity::Generate(GetParam());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(id->Save(path, false).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = Identity::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->scheme(), id->scheme());
  EXPECT_EQ(loaded->public_key(), id->public_key());
  EXPECT_EQ(loaded->PeerIdHex(), id->PeerIdHex());
  auto sig = loaded->Sign(Bytes{1, 2, 3});
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Identity::Verify(GetParam(), id->public_key(), Bytes{1, 2, 3}, *sig).ok());
  // No temporary file left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) (void)e, ++files;
  EXPECT_EQ(files, 1);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, IdentitySchemeTest, ::testing::ValuesIn(kSchemes),
                         [](const auto& info) {
                           std::string n = SchemeName(info.param);
                           for (auto& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(Identity, DefaultSchemeIsMlDsa65AndNamesParse) {
  auto id = Identity::Generate();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->scheme(), SignatureScheme::kMlDsa65);
  EXPECT_EQ(*SchemeFromName("ML-DSA-87"), SignatureScheme::kMlDsa87);
  EXPECT_EQ(*SchemeFromName("hybrid"), SignatureScheme::kHybrid);
  auto bad = SchemeFromName("rsa");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rsa"), std::string::npos);
}

TEST(Identity, PeerIdIsSha3OfSchemeTaggedKey) {
  auto id = Identity::Generate(SignatureScheme::kMlDsa65);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->PeerIdHex().size(), kPeerIdHexChars);
  EXPECT_EQ(id->peer_id(), PeerIdOf(SignatureScheme::kMlDsa65, id->public_key()));
  EXPECT_EQ(id->PeerIdHex(), ToHex(id->peer_id()).substr(0, kPeerIdHexChars));
  // Same bytes under another scheme tag give another id.
  EXPECT_NE(PeerIdOf(SignatureScheme::kMlDsa87, id->public_key()), id->peer_id());
  auto other = Identity::Generate(SignatureScheme::kMlDsa65);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->PeerIdHex(), id->PeerIdHex());
}

TEST(Identity, SaveRefusesToOverwriteWithoutForce) {
  TempDir dir;
  const std::string path = dir.File("k");
  auto a = Identity::Generate();
  auto b = Identity::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Save(path, false).ok());
  auto st = b->Save(path, false);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find(path), std::string::npos);
  EXPECT_EQ(Identity::Load(path)->PeerIdHex(), a->PeerIdHex());
  ASSERT_TRUE(b->Save(path, true).ok());
  EXPECT_EQ(Identity::Load(path)->PeerIdHex(), b->PeerIdHex());
  struct stat s {};
  ASSERT_EQ(::stat(path.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0600u);
}

// Each corruption gives an error naming the file and the problem.
TEST(Identity, LoadErrorsNameFileAndProblem) {
  TempDir dir;
  const std::string path = dir.File("good.key");
  auto id = Identity::Generate(SignatureScheme::kMlDsa65);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(id->Save(path, false).ok());
  const Bytes good = ReadFile(path);
  auto expect_error = [&](const Bytes& content, const std::string& needle) {
    const std::string p = dir.File("bad.key");
    WriteFile(p, content);
    auto r = Identity::Load(p);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.status().message().find(p), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
  };
  expect_error(Bytes(good.begin(), good.begin() + 5), "truncated");
  expect_error(Bytes(good.begin(), good.end() - 40), "truncated");
  Bytes b = good;
  b[0] = 'X';
  expect_error(b, "magic");
  b = good;
  b[8] = 9;
  expect_error(b, "version 9");
  b = good;
  b[9] = 7;
  expect_error(b, "scheme id 7");
  b = good;
  b[10] ^= 1;
  expect_error(b, "wrong public key length");
  b = good;
  b[14] ^= 1;
  expect_error(b, "wrong secret key length");
  b = good;
  b[100] ^= 1;
  expect_error(b, "checksum");
  b = good;
  b.push_back(0);
  expect_error(b, "trailing");
  auto missing = Identity::Load(dir.File("absent.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.key"), std::string::npos);
}

// A key file the group or others may read (or write) is refused with an
// error naming the path and the mode; 0600 and 0400 load.
TEST(Identity, LoadRefusesGroupOrWorldAccessibleKeyFile) {
  TempDir dir;
  const std::string path = dir.File("peer.key");
  auto id = Identity::Generate(SignatureScheme::kMlDsa65);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(id->Save(path, false).ok());
  for (const mode_t mode : {0644, 0640, 0604, 0660, 0602, 0620, 0606}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = Identity::Load(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
    char want[8];
    std::snprintf(want, sizeof(want), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(r.status().message().find(std::string("mode ") + want), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status();
  }
  for (const mode_t mode : {0600, 0400}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = Identity::Load(path);
    ASSERT_TRUE(r.ok()) << std::oct << mode << " " << r.status();
    EXPECT_EQ(r->PeerIdHex(), id->PeerIdHex());
  }
}

TEST(Identity, MismatchedKeyPairIsRejected) {
  auto a = Identity::Generate(SignatureScheme::kMlDsa65);
  auto b = Identity::Generate(SignatureScheme::kMlDsa65);
  ASSERT_TRUE(a.ok() && b.ok());
  const Bytes sk = b->signer().ExportSecretKey();
  auto r = Identity::FromKeys(SignatureScheme::kMlDsa65, a->public_key(), sk);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not belong"), std::string::npos) << r.status();
  auto h1 = Identity::Generate(SignatureScheme::kHybrid);
  auto h2 = Identity::Generate(SignatureScheme::kHybrid);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_FALSE(
      Identity::FromKeys(SignatureScheme::kHybrid, h1->public_key(), h2->signer().ExportSecretKey())
          .ok());
}

TEST(Identity, HybridNeedsBothHalves) {
  auto h = Identity::Generate(SignatureScheme::kHybrid);
  ASSERT_TRUE(h.ok());
  const Bytes msg = {7};
  auto sig = h->Sign(msg);
  ASSERT_TRUE(sig.ok());
  // Replace the Ed25519 half with zeros: ML-DSA alone must not be enough.
  Bytes s = *sig;
  std::fill(s.begin(), s.begin() + 64, 0);
  EXPECT_FALSE(Identity::Verify(SignatureScheme::kHybrid, h->public_key(), msg, s).ok());
  // Replace the ML-DSA half: Ed25519 alone must not be enough.
  s = *sig;
  std::fill(s.begin() + 64, s.end(), 0);
  EXPECT_FALSE(Identity::Verify(SignatureScheme::kHybrid, h->public_key(), msg, s).ok());
  // The ML-DSA half is an ML-DSA-65 signature with context "swarm/v1".
  EXPECT_TRUE(*MlDsaVerify(MlDsaLevel::k65, ByteSpan(h->public_key()).subspan(32), msg,
                           ByteSpan(*sig).subspan(64), AsBytes("swarm/v1")));
}

}  // namespace
}  // namespace swarm::crypto
