// Typed, validated configuration from TOML files and command-line overrides.
//
// A ConfigSchema declares every key a component accepts ("section.key"), its
// type, default, allowed range or values, and a one-line help. Parsing checks
// the file against it and fails with a message that names the file, line, key,
// the bad value and what is allowed:
//
//   node.toml:4: key 'net.message_size_bytes_max' = 12 is out of range [1024, 1073741824]
//   node.toml:7: unknown key 'net.message_size_byte_max' (did you mean 'net.message_size_bytes_max'?)
//
// Thread-safety: a Config is an immutable value once built; share freely.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace swarm {

using ConfigValue = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

struct ConfigKey {
  enum class Type { kBool, kInt, kDouble, kString, kStringList };
  std::string name;  // dotted: "section.key"
  Type type;
  ConfigValue default_value;
  double min = 0, max = 0;        // inclusive, for kInt / kDouble
  std::vector<std::string> allowed;  // for kString; empty = any
  std::string help;
};

class Config {
 public:
  bool GetBool(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  const std::string& GetString(const std::string& key) const;
  const std::vector<std::string>& GetStringList(const std::string& key) const;
  // True when the value came from a file or an override, not the default.
  bool IsSet(const std::string& key) const { return explicitly_set_.count(key) > 0; }
  const std::map<std::string, ConfigValue>& values() const { return values_; }

 private:
  friend class ConfigSchema;
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, bool> explicitly_set_;
};

class ConfigSchema {
 public:
  ConfigSchema& Bool(std::string key, bool def, std::string help);
  ConfigSchema& Int(std::string key, int64_t def, int64_t min, int64_t max, std::string help);
  ConfigSchema& Double(std::string key, double def, double min, double max, std::string help);
  ConfigSchema& String(std::string key, std::string def, std::vector<std::string> allowed,
                       std::string help);
  ConfigSchema& StringList(std::string key, std::vector<std::string> def, std::string help);

  // Defaults only.
  Config Defaults() const;
  // Parses TOML text; `source` names it in errors (usually the file path).
  StatusOr<Config> ParseString(const std::string& text, const std::string& source) const;
  StatusOr<Config> ParseFile(const std::string& path) const;
  // Applies "key=value" overrides (e.g. from --set) on top of `base`; values
  // are parsed according to the key's type and validated like file values.
  StatusOr<Config> ApplyOverrides(Config base, const std::vector<std::string>& overrides) const;
  // Sets one typed value with validation (used by CLI flags).
  Status Set(Config& config, const std::string& key, ConfigValue value,
             const std::string& where = "command line") const;

  const std::vector<ConfigKey>& keys() const { return keys_; }
  const ConfigKey* Find(const std::string& key) const;
  // The known key closest to `key` by edit distance, or "" if none is close.
  std::string ClosestKey(const std::string& key) const;
  // A commented TOML file with every key at its default (for `--print-config`).
  std::string ExampleToml() const;

 private:
  Status Validate(const ConfigKey& k, const ConfigValue& v, const std::string& where) const;
  std::vector<ConfigKey> keys_;
};

// Levenshtein distance, exposed for tests and for CLI suggestions.
size_t EditDistance(const std::string& a, const std::string& b);

}  // namespace swarm
