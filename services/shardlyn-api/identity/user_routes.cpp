// User Endpoints.
#include <boost/json.hpp>

#include "common/envelope.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"
#include "identity/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

common::Response show_me(UserArea& a, common::Request& req) {
  const auto& c = caller_of(req);
  auto out = user_json(a.accounts.me(c.user_id));
  json::array orgs;
  for (const auto& [org, role] : a.organizations.of(c))
    orgs.push_back({{"id", org.id}, {"name", org.name}, {"role", role}});
  out["organizations"] = std::move(orgs);
  return common::Response::json(out);
}

common::Response change_password(UserArea& a, common::Request& req) {
  auto body = req.json_object();
  auto current = fields::password(body, "current_password");
  auto replacement = fields::new_password(body, "new_password");
  a.accounts.change_password(caller_of(req), current, replacement);
  return common::Response::json(json::object{{"message", "password changed; other sessions signed out"}});
}

common::Response list_users(UserArea& a, common::Request& req) { return user_page(a.users, req); }

common::Response create_user(UserArea& a, common::Request& req) {
  auto body = req.json_object();
  auto email = fields::email(body, "email");
  auto password = fields::new_password(body, "password");
  auto name = fields::optional_name(body, "name").value_or(email.substr(0, email.find('@')));
  bool admin = common::input::optional_boolean(body, "is_admin").value_or(false);
  return common::Response::json(user_json(a.users.create(caller_of(req), email, password, name, admin)), 201);
}

common::Response show_user(UserArea& a, common::Request& req) {
  return common::Response::json(user_json(a.users.find(fields::uuid_param(req, "id", "user"))));
}

common::Response delete_user(UserArea& a, common::Request& req) {
  a.users.remove(caller_of(req), fields::uuid_param(req, "id", "user"));
  return common::Response::empty(204);
}

}  // namespace

Routes user_routes(UserArea& area) {
  const Guard user{Auth::User, OrgScope::None};
  const Guard admin{Auth::Admin, OrgScope::None};
  auto on = [&area](common::Response (*handler)(UserArea&, common::Request&)) { return bind(area, handler); };
  return join({
      group("/v1/users/me", user,
            {
                get("", "", on(show_me)),
                post("/password", "", on(change_password),
                     {.limit = "login", .fields = {"current_password", "new_password"}, .offload = true}),
            }),
      group("/v1/users", admin,
            {
                get("", "admin.users", on(list_users), {.query = {"limit", "page", "per_page", "search"}}),
                post("", "admin.users", on(create_user),
                     {.fields = {"email", "is_admin", "name", "password"}, .offload = true}),
                get("/{id}", "admin.users", on(show_user)),
                del("/{id}", "admin.users", on(delete_user)),
            }),
  });
}

}  // namespace shardlyn
