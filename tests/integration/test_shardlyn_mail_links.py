"""The links in shardlyn-api's mails, followed as a person would: each opens a page of this
service (without SHARDLYN_APP_URL) whose form completes the action (verify the address, reset
the password, accept an invite, with the second factor when TOTP is on). Also: invites need a
verified address, are limited per organisation and per member, and keep member-written text
out of the subject.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_mail_links.py
"""
import html
import re

import pyotp
import requests

from shardlyn_helpers import (PASSWORD, SHARDLYN_ENV, bootstrap, expect, expect_error, login, register,  # noqa: F401
                              shardlyn, unique_email, verify_address, wait_for_mail)


def link_in(mail, page: str) -> str:
    match = re.search(r"(https?://\S+/" + page + r"\S*)", mail.get_content())
    assert match, mail.get_content()
    return match.group(1)


def submit(browser, server, page_response, **fields):
    """Fills the page's form (hidden fields kept) and posts it where its action says."""
    assert page_response.status_code == 200, page_response.text
    assert page_response.headers["Content-Type"].startswith("text/html")
    text = page_response.text
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', text).group(1))
    data = {html.unescape(n): html.unescape(v)
            for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text)}
    data.update(fields)
    return browser.post(server.url(action), data=data, timeout=10)


def test_the_verification_link_confirms_the_address(shardlyn):
    account = register(shardlyn, "vlink", verified=False)
    assert expect(account.get("/v1/users/me"), 200)["email_verified"] is False
    [mail] = wait_for_mail(shardlyn, account.email, "verify-email")
    link = link_in(mail, "verify-email")
    assert link.startswith(shardlyn.url("/verify-email?token="))  # the service's own page, not another port
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    done = submit(browser, shardlyn, page)
    assert done.status_code == 200 and "confirmed" in done.text
    assert expect(account.get("/v1/users/me"), 200)["email_verified"] is True
    again = submit(browser, shardlyn, page)
    assert again.status_code == 400 and "invalid" in again.text
    assert browser.get(shardlyn.url("/verify-email"), timeout=10).status_code == 400  # no token
    r = browser.post(shardlyn.url("/verify-email"), json={"token": "x"}, timeout=10)
    assert r.status_code == 415


def test_the_reset_link_sets_a_new_password(shardlyn):
    account = register(shardlyn, "rlink")
    expect(shardlyn.request("POST", "/v1/auth/forgot-password", json={"email": account.email}), 202)
    [mail] = wait_for_mail(shardlyn, account.email, "reset-password")
    link = link_in(mail, "reset-password")
    assert link.startswith(shardlyn.url("/reset-password?token="))
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    short = submit(browser, shardlyn, page, new_password="short")
    assert short.status_code == 400 and "8 to 128" in short.text
    done = submit(browser, shardlyn, page, new_password="a password from the page")
    assert done.status_code == 200 and "Password changed" in done.text
    login(shardlyn, account.email, "a password from the page")
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/login", json={"email": account.email,
                                                                          "password": PASSWORD}), 401)


def test_the_invite_link_signs_in_and_joins(shardlyn):
    owner, guest = register(shardlyn, "ilo"), register(shardlyn, "ilg")
    expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": guest.email}), 201)
    [mail] = wait_for_mail(shardlyn, guest.email, "invite")
    link = link_in(mail, "invites/")
    assert link.startswith(shardlyn.url("/invites/"))
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    wrong = submit(browser, shardlyn, page, email=guest.email, password="wrong password")
    assert wrong.status_code == 401 and "invalid email or password" in wrong.text
    done = submit(browser, shardlyn, page, email=guest.email.upper(), password=PASSWORD)
    assert done.status_code == 200 and "accepted" in done.text, done.text
    members = expect(owner.get(f"/v1/organizations/{owner.org}/members"), 200)["items"]
    assert guest.id in {m["user_id"] for m in members}
    # The page's sign-in left no session behind: the guest's sessions are the helper's one.
    again = submit(browser, shardlyn, page, email=guest.email, password=PASSWORD)
    assert again.status_code == 404  # the invite was used


def test_the_invite_link_asks_for_the_second_factor(shardlyn):
    owner, guest = register(shardlyn, "ito"), register(shardlyn, "itg")
    enrolment = expect(guest.post("/v1/auth/mfa/enroll"), 200)
    totp = pyotp.TOTP(enrolment["secret"])
    expect(guest.post("/v1/auth/mfa/verify", {"code": totp.now()}), 200)
    expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": guest.email}), 201)
    [mail] = wait_for_mail(shardlyn, guest.email, "invite")
    browser = requests.Session()
    page = browser.get(link_in(mail, "invites/"), timeout=10)
    asked = submit(browser, shardlyn, page, email=guest.email, password=PASSWORD)
    assert asked.status_code == 401 and "two-factor code" in asked.text
    assert guest.id not in {m["user_id"] for m in expect(owner.get(f"/v1/organizations/{owner.org}/members"),
                                                        200)["items"]}
    bad = submit(browser, shardlyn, page, email=guest.email, password=PASSWORD, code="000000")
    assert bad.status_code == 401 and "invalid code" in bad.text
    import time
    done = submit(browser, shardlyn, page, email=guest.email, password=PASSWORD, code=totp.at(time.time() + 30))
    assert done.status_code == 200 and "accepted" in done.text, done.text


def test_links_follow_the_configured_app_url(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_APP_URL": "https://app.shardlyn.test/"})
    bootstrap(server)
    account = register(server, "appurl", verified=False)
    [mail] = wait_for_mail(server, account.email, "verify-email")
    assert link_in(mail, "verify-email").startswith("https://app.shardlyn.test/verify-email?token=")


def test_invites_need_a_verified_address_and_are_limited(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_ORG_INVITE_LIMIT": "3/h",
                                         "SHARDLYN_USER_INVITE_LIMIT": "2/h"})
    bootstrap(server)
    owner = register(server, "limo", verified=False)
    invite = f"/v1/organizations/{owner.org}/members/invite"
    expect_error(server, owner.post(invite, {"email": unique_email()}), 403, "verify your address")
    expect(owner.post("/v1/auth/verify-email/resend"), 202)
    [_, fresh] = wait_for_mail(server, owner.email, "verify-email", 2)
    expect(server.request("POST", "/v1/auth/verify-email",
                          json={"token": re.search(r"token=([\w.~-]+)", fresh.get_content()).group(1)}), 200)
    expect_error(server, owner.post("/v1/auth/verify-email/resend"), 409)
    # What members write stays out of the subject.
    expect(owner.put(f"/v1/organizations/{owner.org}", {"name": "FREE MONEY http://spam.example"}), 200)
    member = register(server, "limm")
    sent = expect(owner.post(invite, {"email": member.email, "role": "admin"}), 201)
    [mail] = wait_for_mail(server, member.email, "invite")
    assert mail["Subject"] == "You are invited to an organization on Shardlyn"
    assert '"FREE MONEY http://spam.example"' in mail.get_content()
    expect(member.post(f"/v1/invites/{sent['token']}/accept"), 200)
    # Per member: 2 an hour.
    expect(owner.post(invite, {"email": unique_email("inv")}), 201)
    r = owner.post(invite, {"email": unique_email("inv")})
    expect_error(server, r, 429, "you sent")
    assert int(r.headers["Retry-After"]) >= 1
    # Per organisation: 3 an hour, whoever sends them.
    expect(member.post(invite, {"email": unique_email("inv")}), 201)
    expect_error(server, member.post(invite, {"email": unique_email("inv")}), 429, "this organization")
    # Another organisation has its own budget.
    expect(member.post(f"/v1/organizations/{member.org}/members/invite", {"email": unique_email("inv")}), 201)
