#include "net/address.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

TEST(Address, ParsesHostPortAndV6) {
  auto a = ParseAddress("127.0.0.1:7000");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7000);
  auto b = ParseAddress("[::1]:65535");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->ToString(), "[::1]:65535");
  auto c = ParseAddress("node-3.local:1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "node-3.local:1");
}

TEST(Address, ErrorsNameTheInputAndProblem) {
  EXPECT_EQ(ParseAddress("127.0.0.1").status().message(),
            "address '127.0.0.1' has no port (expected host:port or [v6]:port)");
  EXPECT_EQ(ParseAddress("host:99999").status().message(),
            "address 'host:99999': port 99999 is out of range [1, 65535]");
  EXPECT_EQ(ParseAddress("host:0").status().message(),
            "address 'host:0': port 0 is out of range [1, 65535]");
  EXPECT_EQ(ParseAddress("host:7x").status().message(),
            "address 'host:7x': port '7x' is not a number");
  EXPECT_EQ(ParseAddress("::1:80").status().message(),
            "address '::1:80': an IPv6 host must be in brackets, e.g. [::1]:7000");
  EXPECT_EQ(ParseAddress("[::1]80").status().message(),
            "address '[::1]80' has no port (expected host:port or [v6]:port)");
  EXPECT_EQ(ParseAddress("[::1:80").status().message(),
            "address '[::1:80' has no closing ']' (expected host:port or [v6]:port)");
  EXPECT_EQ(ParseAddress(":80").status().message(),
            "address ':80' has no host (expected host:port or [v6]:port)");
  EXPECT_EQ(ParseAddress("").status().message(),
            "address '' is empty (expected host:port or [v6]:port)");
  EXPECT_EQ(ParseAddress("a b:1").status().message(), "address 'a b:1': host contains ' '");
  EXPECT_EQ(ParseAddress("host:123456").status().message(),
            "address 'host:123456': port 123456 is out of range [1, 65535]");
}

TEST(Address, PortZeroOnlyForListening) {
  auto a = ParseAddress("127.0.0.1:0", /*allow_port_zero=*/true);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 0);
}

}  // namespace
}  // namespace swarm::net
