#include "backups/backup_configs.hpp"

#include <cctype>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "security/aead.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

constexpr std::string_view kColumns =
    "SELECT id, org_id, name, endpoint, region, bucket, access_key_id, path_style, part_size_mb, active, "
    "created_at, updated_at FROM backup_configs ";

BackupConfigRecord from_row(const store::Statement& q) {
  return {q.text(0),          q.text(1),          q.text(2),          q.text(3),
          q.text(4),          q.text(5),          q.text(6),          q.int64(7) == 1,
          static_cast<int>(q.int64(8)), q.int64(9) == 1, q.int64(10), q.int64(11)};
}

std::vector<BackupConfigRecord> rows(store::Connection& db, std::string_view where, std::string_view org,
                                     std::string_view id = {}) {
  auto q = db.prepare(std::string(kColumns) + std::string(where));
  if (id.empty()) {
    q->bind_all(org);
  } else {
    q->bind_all(org, id);
  }
  std::vector<BackupConfigRecord> out;
  while (q->step()) out.push_back(from_row(*q));
  return out;
}

std::optional<BackupConfigRecord> find(store::Connection& db, std::string_view org, std::string_view id) {
  auto found = rows(db, "WHERE org_id = ? AND id = ?", org, id);
  if (found.empty()) return std::nullopt;
  return found.front();
}

BackupConfigRecord must_find(store::Connection& db, std::string_view org, std::string_view id) {
  auto found = find(db, org, id);
  if (!found) throw common::ApiError::not_found("backup configuration not found");
  return *found;
}

// S3's bucket naming rules: 3-63 characters, lower-case letters, digits, '.' and '-', starting
// and ending with a letter or digit.
bool valid_bucket(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == '-'))
      return false;
  return std::isalnum(static_cast<unsigned char>(name.front())) && std::isalnum(static_cast<unsigned char>(name.back()));
}

void check(const BackupConfigInput& input) {
  if (input.endpoint) {
    try {
      s3::Client probe({.endpoint = *input.endpoint});
    } catch (const std::invalid_argument&) {
      throw common::ApiError::validation("endpoint: must be http(s)://host[:port]");
    }
  }
  if (input.bucket && !valid_bucket(*input.bucket))
    throw common::ApiError::validation("bucket: 3-63 lower-case letters, digits, '.' or '-'");
}

common::ApiError s3_failure(const s3::Error& e) {
  if (e.status() == 0) return {502, std::string("S3 endpoint unreachable: ") + e.code(), "s3_unreachable"};
  return {502, std::string("S3 refused the request: ") + e.what(), "s3_error"};
}

}  // namespace

BackupConfigRecord BackupConfigs::active(const Caller& caller) {
  auto found = db_.read([&](store::Connection& db) { return rows(db, "WHERE org_id = ? AND active = 1", caller.org_id); });
  if (found.empty()) throw common::ApiError::not_found("this organization has no active backup configuration");
  return found.front();
}

std::vector<BackupConfigRecord> BackupConfigs::list(const Caller& caller) {
  return db_.read(
      [&](store::Connection& db) { return rows(db, "WHERE org_id = ? ORDER BY created_at, rowid", caller.org_id); });
}

BackupConfigRecord BackupConfigs::get(const Caller& caller, std::string_view id) {
  return db_.read([&](store::Connection& db) { return must_find(db, caller.org_id, id); });
}

BackupConfigRecord BackupConfigs::create(const Caller& caller, const BackupConfigInput& input) {
  check(input);
  std::string id = security::uuid_v4();
  auto now = store::unix_now();
  db_.write([&](store::Connection& db) {
    bool first = !db.query_int("SELECT 1 FROM backup_configs WHERE org_id = ? AND active = 1", caller.org_id);
    db.execute(
        "INSERT INTO backup_configs (id, org_id, name, endpoint, region, bucket, access_key_id, secret_sealed, "
        "path_style, part_size_mb, active, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, caller.org_id, input.name.value_or(*input.bucket), *input.endpoint, *input.region, *input.bucket,
        *input.access_key_id, store::Blob{security::aead_seal(key_, *input.secret_access_key, id)},
        input.path_style.value_or(false), input.part_size_mb.value_or(8), first, caller.user_id, now, now);
    audit::record(db, "backup_config.created", caller.actor(), caller.org_id, {}, {{"backup_config_id", id}});
  });
  return get(caller, id);
}

BackupConfigRecord BackupConfigs::update(const Caller& caller, std::string_view id, const BackupConfigInput& input) {
  check(input);
  db_.write([&](store::Connection& db) {
    auto r = must_find(db, caller.org_id, id);
    db.execute(
        "UPDATE backup_configs SET name = ?, endpoint = ?, region = ?, bucket = ?, access_key_id = ?, "
        "path_style = ?, part_size_mb = ?, updated_at = ? WHERE id = ?",
        input.name.value_or(r.name), input.endpoint.value_or(r.endpoint), input.region.value_or(r.region),
        input.bucket.value_or(r.bucket), input.access_key_id.value_or(r.access_key_id),
        input.path_style.value_or(r.path_style), input.part_size_mb.value_or(r.part_size_mb), store::unix_now(), id);
    if (input.secret_access_key)
      db.execute("UPDATE backup_configs SET secret_sealed = ? WHERE id = ?",
                 store::Blob{security::aead_seal(key_, *input.secret_access_key, id)}, id);
    audit::record(db, "backup_config.updated", caller.actor(), caller.org_id, {}, {{"backup_config_id", id}});
  });
  return get(caller, id);
}

void BackupConfigs::remove(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    must_find(db, caller.org_id, id);
    db.execute("DELETE FROM backup_configs WHERE id = ?", id);
    audit::record(db, "backup_config.deleted", caller.actor(), caller.org_id, {}, {{"backup_config_id", id}});
  });
}

BackupConfigRecord BackupConfigs::activate(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    must_find(db, caller.org_id, id);
    db.execute("UPDATE backup_configs SET active = 0 WHERE org_id = ? AND active = 1", caller.org_id);
    db.execute("UPDATE backup_configs SET active = 1, updated_at = ? WHERE id = ?", store::unix_now(), id);
    audit::record(db, "backup_config.activated", caller.actor(), caller.org_id, {}, {{"backup_config_id", id}});
  });
  return get(caller, id);
}

S3Target BackupConfigs::open(store::Connection& db, const BackupConfigRecord& record) {
  auto sealed = db.prepare("SELECT secret_sealed FROM backup_configs WHERE id = ?");
  sealed->bind_all(record.id);
  sealed->step();
  auto secret = security::aead_open(key_, sealed->blob(0), record.id);
  if (!secret) throw std::runtime_error("backup configuration secret cannot be opened (was the encryption key changed?)");
  S3Target out{record, {}};
  out.client.endpoint = record.endpoint;
  out.client.region = record.region;
  out.client.path_style = record.path_style;
  out.client.credentials = {record.access_key_id, *secret, ""};
  out.client.timeout = std::chrono::seconds(30);
  return out;
}

S3Target BackupConfigs::target(const Caller& caller, std::string_view id) {
  auto found = id.empty() ? active_target(caller.org_id) : target_by_id(caller.org_id, id);
  if (found) return *found;
  if (!id.empty()) throw common::ApiError::not_found("backup configuration not found");
  throw common::ApiError::conflict(
      "this organization has no active backup configuration: create one (POST /v1/backup-config) or pass config_id");
}

std::optional<S3Target> BackupConfigs::active_target(std::string_view org_id) {
  return db_.read([&](store::Connection& db) -> std::optional<S3Target> {
    auto found = rows(db, "WHERE org_id = ? AND active = 1", org_id);
    if (found.empty()) return std::nullopt;
    return open(db, found.front());
  });
}

std::optional<S3Target> BackupConfigs::target_by_id(std::string_view org_id, std::string_view id) {
  return db_.read([&](store::Connection& db) -> std::optional<S3Target> {
    auto found = find(db, org_id, id);
    if (!found) return std::nullopt;
    return open(db, *found);
  });
}

std::vector<s3::Bucket> BackupConfigs::list_buckets(const S3Target& target) {
  try {
    return s3::Client(target.client).list_buckets();
  } catch (const s3::Error& e) {
    throw s3_failure(e);
  }
}

void BackupConfigs::create_bucket(const S3Target& target, std::string_view name) {
  if (!valid_bucket(name)) throw common::ApiError::validation("name: 3-63 lower-case letters, digits, '.' or '-'");
  try {
    s3::Client(target.client).create_bucket(name);
  } catch (const s3::Error& e) {
    if (e.code() == "BucketAlreadyOwnedByYou" || e.code() == "BucketAlreadyExists")
      throw common::ApiError::conflict("bucket '" + std::string(name) + "' already exists");
    throw s3_failure(e);
  }
}

}  // namespace shardlyn
