// Node start-up admission: LoadAdmission refuses every bad grant with the key,
// the file and the grant field named, and accepts a good one.
#include "node/admission.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "crypto/identity.h"

namespace swarm::node {
namespace {

using admission::Grant;
using admission::Role;
using admission::RoleSet;
using crypto::Identity;

constexpr uint64_t kNow = 1'800'000'000'000;

class LoadAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("node_admission_", ::getpid());
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(admission::SaveIssuerKey(Path("issuer.pub"), admission::IssuerKeyOf(issuer_)).ok());
    ASSERT_TRUE(admission::SaveIssuerKey(Path("other.pub"), admission::IssuerKeyOf(other_)).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& n) const { return (dir_ / n).string(); }

  Grant Base() const {
    Grant g;
    g.swarm_id = "s1";
    admission::SetSubject(g, self_.scheme(), self_.public_key());
    g.roles = static_cast<RoleSet>(Role::kExpertHost) | static_cast<RoleSet>(Role::kObserver);
    g.capacity = 2;
    g.operator_name = "local";
    g.address = "127.0.0.1:7100";
    g.not_before_unix_ms = kNow - 1000;
    g.expires_unix_ms = kNow + 60'000;
    return g;
  }
  std::string Write(const std::string& name, const Grant& g, const Identity& issuer) {
    EXPECT_TRUE(admission::SaveGrant(Path(name), admission::IssueGrant(issuer, g).value()).ok());
    return Path(name);
  }
  AdmissionConfig Config(const std::string& grant_file) {
    AdmissionConfig c;
    c.swarm_id = "s1";
    c.issuer_key_files = {Path("issuer.pub")};
    c.grant_file = grant_file;
    return c;
  }
  void ExpectError(const AdmissionConfig& c, std::initializer_list<std::string> parts) {
    auto v = LoadAdmission(c, self_, "127.0.0.1:7100", kNow);
    ASSERT_FALSE(v.ok());
    for (const auto& p : parts) {
      EXPECT_NE(std::string(v.status().message()).find(p), std::string::npos)
          << "missing '" << p << "' in: " << v.status();
    }
  }

  std::filesystem::path dir_;
  Identity issuer_ = Identity::Generate().value();
  Identity other_ = Identity::Generate().value();
  Identity self_ = Identity::Generate().value();
};

TEST_F(LoadAdmissionTest, GoodGrantIsLoaded) {
  auto v = LoadAdmission(Config(Write("g", Base(), issuer_)), self_, "127.0.0.1:7100", kNow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->mode(), "granted");
  ASSERT_TRUE(v->own.has_value());
  EXPECT_TRUE(admission::HasRole(v->own->roles, Role::kExpertHost));
  EXPECT_FALSE(v->own_grant.empty());
  ASSERT_NE(v->verifier, nullptr);
  // Other peers can check the bytes this peer attaches to its calls.
  EXPECT_TRUE(v->verifier->Verify(v->own_grant, kNow).ok());
  EXPECT_EQ(v->StatusJson()["grant"]["roles"], "expert_host,observer");
}

TEST_F(LoadAdmissionTest, ModesWithoutGrant) {
  AdmissionConfig closed;
  auto c = LoadAdmission(closed, self_, "127.0.0.1:7100", kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mode(), "closed");
  EXPECT_TRUE(c->RefusesAll());
  AdmissionConfig open;
  open.open = true;
  auto o = LoadAdmission(open, self_, "127.0.0.1:7100", kNow);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mode(), "open");
  EXPECT_TRUE(o->AcceptsUngranted());
  EXPECT_NE(o->StatusJson().dump().find("warning"), std::string::npos);
}

TEST_F(LoadAdmissionTest, BadGrantsRefuseToStartNamingTheField) {
  Grant expired = Base();
  expired.expires_unix_ms = kNow - 1;
  expired.not_before_unix_ms = kNow - 10;
  ExpectError(Config(Write("expired", expired, issuer_)),
              {"admission.grant_file", "expired", "expired at"});
  Grant other_swarm = Base();
  other_swarm.swarm_id = "s2";
  ExpectError(Config(Write("other_swarm", other_swarm, issuer_)),
              {"admission.grant_file", "'swarm_id'", "'s2'"});
  ExpectError(Config(Write("unknown_issuer", Base(), other_)),
              {"admission.grant_file", "unknown_issuer", "'issuer'"});
  Grant other_key = Base();
  admission::SetSubject(other_key, other_.scheme(), other_.public_key());
  ExpectError(Config(Write("other_key", other_key, issuer_)),
              {"admission.grant_file", "'subject'", "node.key_file"});
  Grant other_port = Base();
  other_port.address = "127.0.0.1:7999";
  ExpectError(Config(Write("other_port", other_port, issuer_)), {"'address'", "7999"});
  std::ofstream(Path("garbage")) << "not a grant";
  ExpectError(Config(Path("garbage")), {"admission.grant_file", "garbage", "'magic'"});
  ExpectError(Config(Path("absent")), {"admission.grant_file", "absent"});
  AdmissionConfig bad_issuer = Config("");
  bad_issuer.issuer_key_files = {Path("absent.pub")};
  ExpectError(bad_issuer, {"admission.issuer_key_files", "absent.pub"});
  AdmissionConfig no_swarm = Config("");
  no_swarm.swarm_id = "";
  ExpectError(no_swarm, {"admission.swarm_id"});
  AdmissionConfig no_issuers;
  no_issuers.grant_file = Write("orphan", Base(), issuer_);
  ExpectError(no_issuers, {"admission.issuer_key_files is empty"});
  // A second trusted issuer file makes the "unknown issuer" grant acceptable.
  AdmissionConfig both = Config(Path("unknown_issuer"));
  both.issuer_key_files.push_back(Path("other.pub"));
  EXPECT_TRUE(LoadAdmission(both, self_, "127.0.0.1:7100", kNow).ok());
}

}  // namespace
}  // namespace swarm::node
