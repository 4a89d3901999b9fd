#pragma once
// Backup Configuration's rules: an organisation's S3-compatible storages (endpoint, region,
// bucket, access key, path style, part size), the secret sealed at rest and never handed out,
// one of them active (where new backups go), and the bucket calls made with one of them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "http/access.hpp"
#include "s3/client.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct BackupConfigRecord {
  std::string id;
  std::string org_id;
  std::string name;
  std::string endpoint;
  std::string region;
  std::string bucket;
  std::string access_key_id;
  bool path_style = false;
  int part_size_mb = 8;
  bool active = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// What a caller sends to create (all but name and part size required) or update (any) a
// configuration; checked by BackupConfigs (400 naming the field).
struct BackupConfigInput {
  std::optional<std::string> name;
  std::optional<std::string> endpoint;
  std::optional<std::string> region;
  std::optional<std::string> bucket;
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_access_key;
  std::optional<bool> path_style;
  std::optional<int> part_size_mb;
};

// A configuration with its secret opened: what the S3 calls (bucket routes, backups) use.
struct S3Target {
  BackupConfigRecord config;
  s3::ClientConfig client;
  std::size_t part_size() const { return static_cast<std::size_t>(config.part_size_mb) << 20; }
};

class BackupConfigs {
 public:
  BackupConfigs(store::Database& db, std::string key32) : db_(db), key_(std::move(key32)) {}

  // 404 when the organisation has no active configuration.
  BackupConfigRecord active(const Caller& caller);
  std::vector<BackupConfigRecord> list(const Caller& caller);
  BackupConfigRecord get(const Caller& caller, std::string_view id);
  // The organisation's first configuration becomes the active one.
  BackupConfigRecord create(const Caller& caller, const BackupConfigInput& input);
  BackupConfigRecord update(const Caller& caller, std::string_view id, const BackupConfigInput& input);
  void remove(const Caller& caller, std::string_view id);
  BackupConfigRecord activate(const Caller& caller, std::string_view id);

  // The given configuration, or the active one when id is empty; 409 when there is none.
  S3Target target(const Caller& caller, std::string_view id);
  // The active configuration of an organisation (backups), nullopt when it has none.
  std::optional<S3Target> active_target(std::string_view org_id);
  // The configuration a backup was written with, even if no longer active.
  std::optional<S3Target> target_by_id(std::string_view org_id, std::string_view id);

  // Through the S3 API: 502 with S3's code when the store refuses or cannot be reached.
  std::vector<s3::Bucket> list_buckets(const S3Target& target);
  void create_bucket(const S3Target& target, std::string_view name);

 private:
  S3Target open(store::Connection& db, const BackupConfigRecord& record);

  store::Database& db_;
  std::string key_;
};

}  // namespace shardlyn
