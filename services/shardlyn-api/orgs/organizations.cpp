#include "orgs/organizations.hpp"

#include "common/error.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn::organizations {

namespace {

// The organisation's columns (org_from_row reads the first six) and, for of_user, the role.
constexpr std::string_view kOrgColumns =
    "SELECT o.id, o.name, COALESCE(o.created_by, ''), o.created_at, o.updated_at, "
    "(SELECT COUNT(*) FROM members m2 WHERE m2.org_id = o.id) FROM organizations o ";
constexpr std::string_view kOrgsOfUser =
    "SELECT o.id, o.name, COALESCE(o.created_by, ''), o.created_at, o.updated_at, "
    "(SELECT COUNT(*) FROM members m2 WHERE m2.org_id = o.id), m.role FROM organizations o "
    "JOIN members m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY m.joined_at, m.rowid LIMIT ? OFFSET ?";
constexpr std::string_view kInsertOrg =
    "INSERT INTO organizations (id, name, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kInsertMember = "INSERT INTO members (org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)";
constexpr std::string_view kRole = "SELECT role FROM members WHERE org_id = ? AND user_id = ?";
constexpr std::string_view kOverrides =
    "SELECT permission, granted FROM member_permissions WHERE org_id = ? AND user_id = ? ORDER BY permission";
constexpr std::string_view kOwners = "SELECT COUNT(*) FROM members WHERE org_id = ? AND role = 'owner'";
constexpr std::string_view kInviteColumns =
    "SELECT id, org_id, email, role, invited_by, created_at, expires_at FROM invites ";

Organization org_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.int64(3), q.int64(4), q.int64(5)};
}

Invite invite_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.int64(5), q.int64(6)};
}

std::string role_of(store::Connection& db, std::string_view org_id, std::string_view user_id) {
  auto role = db.query_text(kRole, org_id, user_id);
  if (!role) throw common::ApiError::not_found("member not found");
  return *role;
}

}  // namespace

Organization create(store::Connection& db, std::string_view name, std::string_view owner) {
  std::string id = security::uuid_v4();
  std::int64_t now = store::unix_now();
  db.execute(kInsertOrg, id, name, owner, now, now);
  db.execute(kInsertMember, id, owner, "owner", now);
  db.execute(
      "INSERT INTO subscriptions (id, org_id, plan_id, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, "
      "?)",
      security::uuid_v4(), id, kFreePlan, now, now);
  return *find(db, id);
}

std::optional<Organization> find(store::Connection& db, std::string_view id) {
  auto q = db.prepare(std::string(kOrgColumns) + "WHERE o.id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return org_from_row(*q);
}

bool exists(store::Connection& db, std::string_view id) {
  return db.query_int("SELECT 1 FROM organizations WHERE id = ?", id).has_value();
}

std::vector<std::pair<Organization, std::string>> of_user(store::Connection& db, std::string_view user_id,
                                                          std::int64_t limit, std::int64_t offset) {
  auto q = db.prepare(kOrgsOfUser);
  q->bind_all(user_id, limit, offset);
  std::vector<std::pair<Organization, std::string>> out;
  while (q->step()) out.emplace_back(org_from_row(*q), q->text(6));
  return out;
}

std::int64_t count_of_user(store::Connection& db, std::string_view user_id) {
  return db.query_int("SELECT COUNT(*) FROM members WHERE user_id = ?", user_id).value_or(0);
}

std::optional<std::string> first_of_user(store::Connection& db, std::string_view user_id) {
  return db.query_text("SELECT org_id FROM members WHERE user_id = ? ORDER BY joined_at, rowid LIMIT 1", user_id);
}

std::pair<std::vector<Organization>, std::int64_t> all(store::Connection& db, std::int64_t limit, std::int64_t offset) {
  std::int64_t total = db.query_int("SELECT COUNT(*) FROM organizations").value_or(0);
  auto q = db.prepare(std::string(kOrgColumns) + "ORDER BY o.created_at, o.id LIMIT ? OFFSET ?");
  q->bind_all(limit, offset);
  std::vector<Organization> out;
  while (q->step()) out.push_back(org_from_row(*q));
  return {std::move(out), total};
}

void rename(store::Connection& db, std::string_view id, std::string_view name) {
  db.execute("UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?", name, store::unix_now(), id);
}

void remove(store::Connection& db, std::string_view id) { db.execute("DELETE FROM organizations WHERE id = ?", id); }

std::optional<Membership> find_membership(store::Connection& db, std::string_view org_id, std::string_view user_id) {
  auto role = db.query_text(kRole, org_id, user_id);
  if (!role) return std::nullopt;
  Membership m{*role, {}};
  auto q = db.prepare(kOverrides);
  q->bind_all(org_id, user_id);
  while (q->step()) m.overrides.push_back({q->text(0), q->int64(1) != 0});
  return m;
}

std::vector<Member> members(store::Connection& db, std::string_view org_id, std::int64_t limit, std::int64_t offset) {
  auto q = db.prepare(
      "SELECT u.id, u.email, u.name, m.role, m.joined_at FROM members m JOIN users u ON u.id = m.user_id "
      "WHERE m.org_id = ? ORDER BY m.joined_at, m.rowid LIMIT ? OFFSET ?");
  q->bind_all(org_id, limit, offset);
  std::vector<Member> out;
  while (q->step()) out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->int64(4)});
  return out;
}

std::int64_t count_members(store::Connection& db, std::string_view org_id) {
  return db.query_int("SELECT COUNT(*) FROM members WHERE org_id = ?", org_id).value_or(0);
}

void set_role(store::Connection& db, std::string_view org_id, std::string_view user_id, std::string_view role) {
  std::string current = role_of(db, org_id, user_id);
  if (current == "owner" && role != "owner" && db.query_int(kOwners, org_id).value_or(0) <= 1)
    throw common::ApiError::conflict("the organization's last owner cannot be demoted");
  db.execute("UPDATE members SET role = ? WHERE org_id = ? AND user_id = ?", role, org_id, user_id);
}

void remove_member(store::Connection& db, std::string_view org_id, std::string_view user_id) {
  std::string current = role_of(db, org_id, user_id);
  if (current == "owner" && db.query_int(kOwners, org_id).value_or(0) <= 1)
    throw common::ApiError::conflict("the organization's last owner cannot be removed");
  db.execute("DELETE FROM members WHERE org_id = ? AND user_id = ?", org_id, user_id);
  db.execute("UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL",
             store::unix_now(), org_id, user_id);
}

void set_override(store::Connection& db, std::string_view org_id, std::string_view user_id, std::string_view permission,
                  bool granted) {
  role_of(db, org_id, user_id);
  db.execute(
      "INSERT INTO member_permissions (org_id, user_id, permission, granted) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (org_id, user_id, permission) DO UPDATE SET granted = excluded.granted",
      org_id, user_id, permission, granted);
}

bool remove_override(store::Connection& db, std::string_view org_id, std::string_view user_id,
                     std::string_view permission) {
  role_of(db, org_id, user_id);
  return db.execute("DELETE FROM member_permissions WHERE org_id = ? AND user_id = ? AND permission = ?", org_id,
                    user_id, permission) > 0;
}

std::pair<Invite, std::string> invite(store::Connection& db, std::string_view org_id, std::string_view email,
                                      std::string_view role, std::string_view invited_by, std::int64_t ttl_s) {
  if (db.query_int("SELECT 1 FROM members m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ?",
                   org_id, email))
    throw common::ApiError::conflict("this address already belongs to a member");
  std::int64_t now = store::unix_now();
  // An expired invite for the same address makes room for the new one.
  db.execute("DELETE FROM invites WHERE org_id = ? AND email = ? AND expires_at <= ?", org_id, email, now);
  if (db.query_int("SELECT 1 FROM invites WHERE org_id = ? AND email = ?", org_id, email))
    throw common::ApiError::conflict("this address has a pending invite");
  Invite inv{security::uuid_v4(), std::string(org_id),     std::string(email),
             std::string(role),   std::string(invited_by), now,
             now + ttl_s};
  std::string token = security::random_token(32);
  db.execute(
      "INSERT INTO invites (id, org_id, email, role, token_hash, invited_by, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      inv.id, inv.org_id, inv.email, inv.role, security::sha256_hex(token), inv.invited_by, inv.created_at,
      inv.expires_at);
  return {std::move(inv), std::move(token)};
}

std::vector<Invite> invites(store::Connection& db, std::string_view org_id, std::int64_t limit, std::int64_t offset) {
  auto q = db.prepare(std::string(kInviteColumns) + "WHERE org_id = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?");
  q->bind_all(org_id, limit, offset);
  std::vector<Invite> out;
  while (q->step()) out.push_back(invite_from_row(*q));
  return out;
}

std::int64_t count_invites(store::Connection& db, std::string_view org_id) {
  return db.query_int("SELECT COUNT(*) FROM invites WHERE org_id = ?", org_id).value_or(0);
}

bool delete_invite(store::Connection& db, std::string_view org_id, std::string_view invite_id) {
  return db.execute("DELETE FROM invites WHERE org_id = ? AND id = ?", org_id, invite_id) > 0;
}

std::optional<Invite> pending_invite(store::Connection& db, std::string_view token) {
  auto q = db.prepare(std::string(kInviteColumns) + "WHERE token_hash = ? AND expires_at > ?");
  q->bind_all(security::sha256_hex(token), store::unix_now());
  if (!q->step()) return std::nullopt;
  return invite_from_row(*q);
}

Invite accept(store::Connection& db, std::string_view token, std::string_view user_id, std::string_view email) {
  auto pending = pending_invite(db, token);
  if (!pending) throw common::ApiError::not_found("invite not found or expired");
  Invite inv = std::move(*pending);
  if (inv.email != email) throw common::ApiError::forbidden("this invite was sent to another email address");
  if (db.query_int(kRole, inv.org_id, user_id)) throw common::ApiError::conflict("already a member");
  db.execute(kInsertMember, inv.org_id, user_id, inv.role, store::unix_now());
  db.execute("DELETE FROM invites WHERE id = ?", inv.id);
  return inv;
}

}  // namespace shardlyn::organizations
