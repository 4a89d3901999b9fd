"""Every operation of every OpenAPI document has a request and a response example, and each
example request, sent to the running service, gets an answer the document describes.

Each service runs with a temporary DATA_DIR and goes through an ordered scenario: one Step per
documented operation, in an order that creates what later examples refer to (the first admin,
a signed-in user, an organization, an API key, an agent...). The example requests come from the
document served at the service's /openapi.json, never from this file: path, query and header
parameters from their `example`, the body from the request body's `example`.

Fictional ids: the examples carry fixed, realistic ids and tokens (the constants below). The step
that creates an object says in `bind` where its documented response example shows that value
(`bind={"id": ORG}`); the run checks the example says so and maps ORG to the id the service
returned. Before a request is sent, every parameter or body string equal to a mapped example value
is replaced by the real one. Values no response carries (a mailed reset token, the current TOTP
code) are mapped by the step's `before` hook; fixtures that are not the subject of an example
(a second account signing in) are made with plain requests in hooks.

The answer must have the step's status (default: the operation's lowest documented 2xx/3xx), and
its body and the documented example for that status must both validate against the response
schema; JSON objects must have the example's keys (see openapi_examples.py). Routes that need an
outside service this test does not configure answer 501, and that answer is their example;
shardlyn-api signs in with GitHub through a local stand-in (so the link confirmation runs for
real), and the tokens of mailed links are read from the development outbox.
Coverage: each scenario names every operation of its document exactly once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyotp
import pytest

from auth_helpers import AUTH_ENV
from conftest import RELAXED_LIMITS, SOURCE_DIR
from auth_helpers import mails as auth_mails
from openapi_examples import Run, Step, resolve
from shardlyn_helpers import SHARDLYN_ENV, GitHubStandIn, bearer, mailed_token, wait_for_mail
from threat_cloud_helpers import ADMIN_KEY as THREAT_CLOUD_ADMIN_KEY
from threat_cloud_helpers import RELAXED as THREAT_CLOUD_ENV

PASSWORD = "correct horse battery"

# --- shardlyn-api -----------------------------------------------------------------------------
S_ADMIN_ID = "42605976-4ac2-4e72-a675-907a971f9447"
S_SAM_ID = "9dbdd902-8183-49a6-b9ce-cfb655047492"
S_LEE_ID = "e35da69b-f6e1-48d4-a079-c46186345ee9"
S_ORG = "1b0850c2-d87d-4058-9d2a-0ba2633240b3"
S_ORG2 = "eb39f171-f0c1-4a66-8a17-c26d7df47c78"
S_INVITE_ID = "89c7e80b-2386-4139-86cf-251efa50a1da"
S_INVITE_TOKEN = "inv_4q8Zk2mXwR7tLp9sVb3nHc6yJd1fGa5e"
S_PLAN_ID = "4df28771-77b0-47ed-a5bf-7223362845e5"
S_SUB_ID = "aeb78e0a-10d5-42b1-8d03-01b2f74b654e"
S_WEBHOOK_ID = "17136537-f58b-4084-843f-8ba2b9b31be7"
S_TOKEN_ID = "29e75c7e-9f9d-4b6c-b0f8-cbfdfc1cfdb5"
S_REFRESH = "rt_Vq3xN8pL2mZc7Rk5Tw9Yb4Hs6Jd1Fg0A"
S_CHALLENGE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI5ZGJkZDkwMiIsInR5cCI6Im1mYSJ9.mfa-challenge"
S_TOTP_CODE = "492039"
S_BACKUP_CODE = "k7vq2-mx4pa"
S_BACKUP_CODE2 = "r3tz6-wn8hb"
S_RESET_TOKEN = "rst_Jm4Qx9Wb2Lk7Pz5Nc8Vr3Ty6Hd1Gs0Fa"
S_NEW_PASSWORD = "a longer horse battery"
S_VERIFY_TOKEN = "vt_Hn5Rq8Lx2Wc7Mz4Pb9Ks3Tg6Yd1Fj0Aw"
S_GITHUB_STATE = "st_Qm7Xw2Lp9Zk4Rb8Tn3Vc"
S_GITHUB_CODE = "9a1f3c5e7b2d4f6a8c0e"
S_LINK_TOKEN = "gl_Rw6Tz1Nq8Vm3Kx5Pc2Hb7Yd4Lj9Fs0Ea"
S_NODE_ID = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"
S_REGISTER_TOKEN = "snr_Vb8Qm2Lx7Pz4Nc9Kr3Ty6Hd1Gs5Fe0Wa"
S_AGENT_TOKEN = "sna_Qx8Wb2Rk7Pz5Nc9Vr3Ty6Hd1Gs0FeLm4"
S_WORKLOAD_ID = "6f1c2a9e-3b47-4d2e-9a51-8c0d7e4f2b16"
S_SSH_CERT_ID = "5f0c3a2e-1b4d-4e6f-8a9b-0c1d2e3f4a5b"
S_CREDENTIAL_ID = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a"
S_BACKUP_CONFIG_ID = "3d6f0a52-8c1e-4f7b-9e2a-5b4c7d1e0f93"
S_INSTANCE_ID = "c3a8e2d4-5f61-4b7a-8e90-1d2c3b4a5f6e"
S_INSTANCE_NODE = "9d4e1f7a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
S_DEPLOYMENT_ID = "3d6a1f0e-7c2b-4e59-8a14-2f9b0c6d5e71"


def shardlyn_sign_in(run: Run, actor: str, email: str, password: str = PASSWORD) -> None:
    r = run.server.request("POST", "/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    run.actors[actor] = bearer(r.json()["access_token"])


def shardlyn_after_enroll(run: Run, value) -> None:
    run.memory["totp"] = pyotp.TOTP(value["secret"])
    run.memory["backup_codes"] = value["backup_codes"]


def shardlyn_challenge(run: Run) -> None:
    r = run.server.request("POST", "/v1/auth/login", json={"email": "sam@example.com", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["mfa_required"], r.text
    run.bind(S_CHALLENGE, r.json()["challenge_token"])
    run.bind(S_BACKUP_CODE, run.memory["backup_codes"][0])


def shardlyn_second_invite(run: Run) -> None:
    r = run.server.request("POST", f"/v1/organizations/{run.bindings[S_ORG]}/members/invite",
                           json={"email": "kim@example.com", "role": "user"}, headers=run.actors["admin"])
    assert r.status_code == 201, r.text
    run.bind(S_INVITE_ID, r.json()["id"])


def shardlyn_drop_deployed(run: Run, deployment) -> None:
    """The deployment's instance goes (the agent's empty heartbeat below removes it), so the node
    can be deleted at the end."""
    r = run.server.request("DELETE", f"/v1/instances/{deployment['instance_id']}", headers=run.actors["admin"])
    assert r.status_code in (200, 202, 204), r.text


def shardlyn_agent_reports_nothing(run: Run) -> None:
    """The node's agent heartbeats with no instance left: a deleted instance is gone then."""
    beat = {"v": 1, "metrics": {"cpu": {"usage": 0.1, "cores": 1},
                                "memory": {"total_bytes": 1 << 30, "available_bytes": 1 << 29, "used_bytes": 1 << 29},
                                "disk": {"path": "/", "total_bytes": 1 << 30, "free_bytes": 1 << 29, "used_bytes": 1 << 29},
                                "network": {"rx_bytes": 0, "tx_bytes": 0}, "load": {"one": 0, "five": 0, "fifteen": 0}},
            "instances": [], "desired_version": 0}
    r = run.server.request("POST", "/v1/agent/heartbeat", json=beat, headers=run.actors["agent"])
    assert r.status_code == 200, r.text


def shardlyn_mailed(run: Run, to: str, kind: str, count: int = 1) -> str:
    """The token of the link in the newest of `count` mails of a kind to an address (the mail
    queue delivers to DATA_DIR/outbox in the background)."""
    mails = wait_for_mail(run.server, to, kind, count=count)
    return mailed_token(mails[-1], {"verify-email": "verify-email", "reset-password": "reset-password",
                                    "invite": "invites"}.get(kind, kind))


def shardlyn_reset_token(run: Run) -> None:
    run.bind(S_RESET_TOKEN, shardlyn_mailed(run, "sam@example.com", "reset-password"))


def shardlyn_second_reset(run: Run) -> None:
    """The reset form gets a link of its own (the first token was spent through the API)."""
    r = run.server.request("POST", "/v1/auth/forgot-password", json={"email": "sam@example.com"})
    assert r.status_code == 202, r.text
    run.bind(S_RESET_TOKEN, shardlyn_mailed(run, "sam@example.com", "reset-password", count=2))


def shardlyn_page_verification(run: Run) -> None:
    """The verification form confirms another new account's address (sam's is confirmed already)."""
    r = run.server.request("POST", "/v1/auth/register", json={"email": "noa@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    run.bind(S_VERIFY_TOKEN, shardlyn_mailed(run, "noa@example.com", "verify-email"))


def shardlyn_page_invite(run: Run) -> None:
    """Lee is invited to the organization; the invite page takes the token of the mailed link."""
    r = run.server.request("POST", f"/v1/organizations/{run.bindings[S_ORG]}/members/invite",
                           json={"email": "lee@example.com", "role": "user"}, headers=run.actors["admin"])
    assert r.status_code == 201, r.text
    run.bind(S_INVITE_TOKEN, shardlyn_mailed(run, "lee@example.com", "invite"))


def shardlyn_github_state(run: Run) -> None:
    """A browser starts a GitHub sign-in: the state it was given and its state cookie. The local
    GitHub stand-in knows the documented code and answers with sam's (verified) address."""
    r = run.server.request("GET", "/v1/auth/github", allow_redirects=False)
    assert r.status_code == 302, r.text
    state = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["state"][0]
    run.bind(S_GITHUB_STATE, state)
    run.memory["github"].codes[S_GITHUB_CODE] = "gho_access_token"
    run.actors["browser"] = {"Cookie": "; ".join(f"{k}={v}" for k, v in r.cookies.get_dict().items())}


def shardlyn_scenario() -> list:
    adm, sam = "admin", "sam"
    return [
        Step("health"), Step("ready"), Step("healthLive"), Step("readyAlias"), Step("healthDetailed"),
        Step("metrics"), Step("openapiJson", shape=False), Step("openapiYaml"), Step("docs"), Step("docsAsset"),
        Step("bootstrapStatus"),
        Step("bootstrap", bind={"id": S_ADMIN_ID}),
        Step("login", bind={"refresh_token": S_REFRESH},
             after=lambda run, v: run.actors.update(admin=bearer(v["access_token"]))),
        Step("refresh"),
        Step("getMe", adm, bind={"organizations.0.id": S_ORG}),
        Step("register", bind={"id": S_SAM_ID},
             after=lambda run, v: shardlyn_sign_in(run, "sam", "sam@example.com")),
        Step("resendVerification", sam),
        Step("verifyEmail", before=lambda run: run.bind(
            S_VERIFY_TOKEN, shardlyn_mailed(run, "sam@example.com", "verify-email", count=2))),
        Step("verifyEmailPage", before=shardlyn_page_verification),
        Step("verifyEmailSubmit"),
        Step("mfaStatus", sam),
        Step("mfaEnroll", sam, after=shardlyn_after_enroll),
        Step("mfaVerify", sam, before=lambda run: run.bind(S_TOTP_CODE, run.memory["totp"].now())),
        Step("mfaChallenge", before=shardlyn_challenge,
             after=lambda run, v: run.actors.update(sam=bearer(v["access_token"]))),
        Step("mfaDisable", sam, before=lambda run: run.bind(S_BACKUP_CODE2, run.memory["backup_codes"][1])),
        Step("listPermissions", adm),
        Step("listOrganizations", adm),
        Step("createOrganization", adm, bind={"id": S_ORG2}),
        Step("getOrganization", adm),
        Step("updateOrganization", adm),
        Step("inviteMember", adm, bind={"id": S_INVITE_ID, "token": S_INVITE_TOKEN}),
        Step("listInvites", adm),
        Step("acceptInvite", sam),
        Step("listMembers", adm),
        Step("updateMemberRole", adm),
        Step("setMemberPermission", adm),
        Step("getMemberPermissions", adm),
        Step("removeMemberPermission", adm),
        Step("deleteInvite", adm, before=shardlyn_second_invite),
        Step("createApiToken", adm, bind={"id": S_TOKEN_ID}),
        Step("listApiTokens", adm),
        Step("deleteApiToken", adm),
        Step("createNodeRegisterToken", adm, bind={"token": S_REGISTER_TOKEN}),
        Step("agentRegister", bind={"node_id": S_NODE_ID, "agent_token": S_AGENT_TOKEN},
             after=lambda run, v: run.actors.update(agent={"X-Agent-Token": v["agent_token"]})),
        Step("agentHeartbeat", "agent"),
        Step("agentTunnel", "agent", status=426),  # a plain GET: the tunnel itself is a WebSocket
        Step("createWorkload", adm, bind={"id": S_WORKLOAD_ID}),
        Step("listWorkloads", adm),
        Step("getWorkload", adm),
        Step("updateWorkload", adm),
        Step("exportWorkload", adm),
        Step("importEgg", adm),
        Step("createWorkloadFromTemplate", adm),
        Step("listTemplates", adm),
        Step("listTemplatesByCategory", adm),
        Step("createDeployment", adm, bind={"id": S_DEPLOYMENT_ID}),
        Step("listDeployments", adm),
        Step("getDeployment", adm, after=shardlyn_drop_deployed),
        Step("createBackupConfig", adm, bind={"id": S_BACKUP_CONFIG_ID}),
        Step("getActiveBackupConfig", adm),
        Step("listBackupConfigs", adm),
        Step("getBackupConfig", adm),
        Step("updateBackupConfig", adm),
        Step("activateBackupConfig", adm),
        # The example's endpoint (127.0.0.1:9000) has no store behind it: the S3 calls answer 502.
        Step("listBackupS3Buckets", adm, status=502),
        Step("createBackupS3Bucket", adm, status=502),
        Step("deleteBackupConfig", adm),
        Step("createInstance", adm, bind={"id": S_INSTANCE_ID, "node_id": S_INSTANCE_NODE}),
        Step("listInstances", adm),
        Step("getInstance", adm),
        Step("updateInstance", adm),
        Step("startInstance", adm),
        Step("getAgentDesired", "agent"),
        Step("postAgentEvents", "agent"),
        Step("getInstanceStats", adm),
        Step("getInstanceMetricsHistory", adm),
        Step("instanceConsoleSocket", adm, status=426),  # a plain GET: the console itself is a WebSocket
        Step("instanceLogsSocket", adm, status=426),
        Step("getInstanceInstallLogs", adm),
        Step("getInstanceLogHistory", adm),
        Step("downloadInstanceLogs", adm),
        Step("clearInstanceLogs", adm),
        Step("putInstanceGitConfig", adm, status=201),
        Step("getInstanceGitConfig", adm),
        Step("syncInstanceGit", adm, status=409),  # the example's node holds no tunnel: node_offline
        Step("getInstanceGitStatus", adm),
        Step("getInstanceGitHistory", adm),
        # Signed with the example's secret, not the one the configuration was given: refused.
        Step("githubWebhook", status=401),
        Step("gitlabWebhook", status=401),
        Step("deleteInstanceGitConfig", adm),
        Step("restartInstance", adm),
        Step("stopInstance", adm),
        Step("killInstance", adm),
        Step("deleteInstance", adm),
        Step("deleteWorkload", adm, before=shardlyn_agent_reports_nothing),
        Step("listNodes", adm),
        Step("getNode", adm),
        Step("updateNode", adm),
        Step("nodeMetricsHistory", adm),
        # The example's agent registered but holds no tunnel: what acts on the node answers node_offline.
        *[Step(op, adm, status=409) for op in (
            "nodeInventory", "nodeInventorySystem", "nodeInventoryNetwork", "nodeInventoryDisks", "nodeInventoryUsers",
            "nodeInventoryProcesses", "nodeInventoryContainers", "nodeContainerLogs", "nodeContainerStart",
            "nodeContainerStop", "nodeContainerRestart", "nodeContainerKill", "nodeProcessKill")],
        Step("nodeTerminalSocket", adm, status=426),  # a plain GET: the terminal itself is a WebSocket
        Step("cordonNode", adm),
        Step("uncordonNode", adm),
        Step("drainNode", adm),
        Step("nodePowerStart", adm, status=501),
        Step("nodePowerStop", adm, status=501),
        Step("nodePowerReboot", adm, status=501),
        Step("nodePowerStatus", adm, status=501),
        Step("nodeResize", adm, status=501),
        Step("listNodeFirewallRules", adm, status=501),
        Step("addNodeFirewallRule", adm, status=501),
        Step("removeNodeFirewallRule", adm, status=501),
        Step("generateSshCaKey", adm),
        Step("listSshCaKeys", adm),
        Step("getSshCaPublicKey"),
        Step("signSshCertificate", adm, bind={"id": S_SSH_CERT_ID}),
        Step("listSshCertificates", adm),
        Step("getSshCertificate", adm),
        Step("revokeSshCertificate", adm),
        Step("getSshKrl", shape=False),
        Step("rotateSshCaKey", adm),
        Step("createCredential", adm, bind={"id": S_CREDENTIAL_ID}),
        Step("listCredentials", adm),
        Step("getCredential", adm),
        Step("updateCredential", adm),
        Step("setDefaultCredential", adm),
        Step("verifyCredential", adm),
        Step("deleteCredential", adm),
        Step("deleteNode", adm),
        Step("getSettings", adm),
        Step("updateSettings", adm),
        Step("addSshKey", adm),
        Step("defaultSshKey", adm),
        Step("removeSshKey", adm),
        Step("createWebhookToken", adm, bind={"id": S_WEBHOOK_ID}),
        Step("listWebhookTokens", adm),
        Step("deleteWebhookToken", adm),
        Step("listUsers", adm),
        Step("createUser", adm, bind={"id": S_LEE_ID}),
        Step("getUser", adm),
        Step("adminListUsers", adm),
        Step("adminSuspendUser", adm),
        Step("adminUnsuspendUser", adm),
        Step("acceptInvitePage", before=shardlyn_page_invite),
        Step("acceptInviteSubmit"),
        Step("adminMetrics", adm, shape=False),
        Step("adminListOrganizations", adm),
        Step("adminGetOrganization", adm),
        Step("adminListPlans", adm),
        Step("adminCreatePlan", adm, bind={"id": S_PLAN_ID}),
        Step("adminUpdatePlan", adm),
        Step("adminListSubscriptions", adm, bind={"items.0.id": S_SUB_ID}),
        Step("adminUpdateSubscription", adm),
        Step("adminDeletePlan", adm),
        Step("tunnelStats", adm),
        Step("tunnelAgents", adm),
        Step("adminGetLogSettings", adm),
        Step("adminUpdateLogSettings", adm),
        Step("sendSupportMessage", sam),
        Step("helpscoutSignature", sam),
        Step("systemBackupConfig", adm),
        Step("githubStart"),
        Step("githubCallback", "browser", before=shardlyn_github_state, bind={"link_token": S_LINK_TOKEN}),
        Step("githubLink"),
        Step("adminAuditLogs", adm),
        Step("adminAuditExport", adm),
        Step("changePassword", sam),
        Step("forgotPassword"),
        Step("resetPassword", before=shardlyn_reset_token),
        Step("resetPasswordPage", before=shardlyn_second_reset),
        Step("resetPasswordSubmit"),
        Step("removeMember", adm),
        Step("deleteUser", adm),
        Step("deleteOrganization", adm),
        Step("logout", adm),
    ]


# --- auth-server ------------------------------------------------------------------------------
A_KAI_ID = "usr_7f3a9c2e5b1d48604e2a9c71"
A_REFRESH = "rt_3Hq9Vx2LmP7cZk4Rb8Tn6Wd1Fg5Ys0Ja"
A_VERIFY_TOKEN = "vt_Lm4Qx8Wb2Rk7Pz5Nc9Vr3Ty6Hd1Gs0Fe"
A_RESET_TOKEN = "rp_Xc7Vb3Nm9Lk2Jh5Gf8Ds1Aq4Wz6Er0Ty"
A_SESSION_ID = "ses_2b8e4c6a9d1f3e57a04c1b92"
A_SESSION_ID2 = "ses_9c1d7e3f5a2b4c68d17e0f35"
A_TOTP_CODE = "731904"
A_BACKUP_CODE = "q4m8z-2kx7t"
A_SIGNATURE = "9b1c0e6f4d2a8b7c5e3f1a0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
A_NEW_PASSWORD = "a longer horse battery"
A_RESET_PASSWORD = "reset horse battery staple"
AUTH_WEBHOOK_SECRET = "whsec-example-webhook-secret-0123456789"
AUTH_SERVICE_TOKEN = "usage-service-token-0123456789abcdef"


def auth_setup(run: Run) -> None:
    """The first admin (made at start from AUTH_BOOTSTRAP_ADMIN_*) and the usage service."""
    r = run.server.request("POST", "/api/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "admin", r.text
    run.actors["admin"] = bearer(r.json()["data"]["token"])
    run.actors["service"] = bearer(AUTH_SERVICE_TOKEN)


def auth_sign_in(run: Run, password: str) -> str:
    r = run.server.request("POST", "/api/auth/login", json={"email": "kai@example.com", "password": password})
    assert r.status_code == 200, r.text
    run.actors["kai"] = bearer(r.json()["data"]["token"])
    return r.json()["data"]["token"]


def auth_mailed_token(run: Run, kind: str) -> str:
    deadline = time.monotonic() + 10  # the mail queue delivers to DATA_DIR/outbox in the background
    while not (found := auth_mails(run.server, to="kai@example.com", kind=kind)):
        assert time.monotonic() < deadline, f"no {kind} mail"
        time.sleep(0.05)
    return re.search(kind + r"\?token=([A-Za-z0-9_-]+)", found[-1].get_content()).group(1)


def auth_other_session(run: Run, example_id: str) -> None:
    """A second session of kai's (signed in here), to be revoked by the example."""
    current = run.actors["kai"]
    token = auth_sign_in(run, PASSWORD)
    r = run.server.request("GET", "/api/auth/sessions", headers=bearer(token))
    run.actors["kai"] = current
    [session] = [s for s in r.json()["data"] if s["current"]]
    run.bind(example_id, session["id"])


def auth_sign_webhook(run: Run) -> None:
    body = run.request_example("billingWebhook")[4]
    run.bind(A_SIGNATURE, hmac.new(AUTH_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest())


def auth_scenario() -> list:
    kai, adm = "kai", "admin"
    return [
        Step("health"), Step("ready"), Step("metrics"), Step("openapi", shape=False), Step("docs"),
        Step("docsAsset"), Step("jwks"), Step("listPlans"),
        Step("verifyEmailPage"), Step("resetPasswordPage"), Step("accountPageAsset"),
        Step("register", status=201, bind={"data.user.id": A_KAI_ID, "data.refreshToken": A_REFRESH},
             after=lambda run, v: run.actors.update(kai=bearer(v["data"]["token"]))),
        Step("login"),
        Step("refresh"),
        Step("me", kai),
        Step("updateMe", kai),
        Step("verifyEmail", before=lambda run: run.bind(A_VERIFY_TOKEN, auth_mailed_token(run, "verify-email"))),
        Step("listSessions", kai),
        Step("revokeSession", kai, before=lambda run: auth_other_session(run, A_SESSION_ID)),
        Step("totpStatus", kai),
        Step("totpSetup", kai, after=lambda run, v: run.memory.update(
            totp=pyotp.TOTP(v["data"]["secret"]), backup=v["data"]["backupCodes"])),
        Step("totpVerify", kai, before=lambda run: run.bind(A_TOTP_CODE, run.memory["totp"].now())),
        Step("totpDisable", kai, before=lambda run: run.bind(A_BACKUP_CODE, run.memory["backup"][0])),
        Step("getConsents", kai),
        Step("putConsents", kai),
        Step("billingStatus", kai),
        Step("checkout", kai, status=501),
        Step("cancelSubscription", kai, status=501),
        Step("billingWebhook", before=auth_sign_webhook),
        Step("usage", kai),
        Step("reportUsage", "service"),
        Step("adminListUsers", adm),
        Step("adminGetUser", adm),
        Step("adminUpdateUser", adm),
        Step("adminListSessions", adm),
        Step("adminRevokeSession", adm, before=lambda run: auth_other_session(run, A_SESSION_ID2)),
        Step("adminAudit", adm),
        Step("adminStats", adm),
        Step("exportData", kai),
        Step("changePassword", kai),
        Step("forgotPassword"),
        Step("resetPassword", before=lambda run: run.bind(A_RESET_TOKEN, auth_mailed_token(run, "reset-password")),
             after=lambda run, v: auth_sign_in(run, A_RESET_PASSWORD)),
        Step("logout", kai),
        Step("deleteAccount", kai, before=lambda run: auth_sign_in(run, A_RESET_PASSWORD)),
    ]



# --- manager ----------------------------------------------------------------------------------
M_FLEET_TOKEN = "fleet-token-0123456789abcdef0123456789abcdef"
M_AGENT_ID = "ag-3f9a2c1d7e4b"
M_THREAT_ID = "th-5c2e8a1f9d3b"


def manager_scenario() -> list:
    fleet, agent = "fleet", "agent"
    return [
        Step("health"), Step("ready"), Step("metrics"), Step("openapi", shape=False), Step("docs"),
        Step("docsAsset"), Step("dashboard"), Step("dashboardAsset"),
        Step("registerAgent", fleet, status=201, bind={"data.agentId": M_AGENT_ID},
             after=lambda run, v: run.actors.update(agent=bearer(v["data"]["agentToken"]))),
        Step("heartbeat", agent),
        Step("reportThreats", agent, status=201),
        Step("listAgents", fleet),
        Step("getAgent", fleet),
        Step("agentMetrics", fleet),
        Step("listThreats", fleet, bind={"data.0.id": M_THREAT_ID}),
        Step("threatSummary", fleet),
        Step("getThreat", fleet),
        Step("publishPolicy", fleet),
        Step("activePolicy", fleet),
        Step("policyHistory", fleet),
        Step("setAgentPolicy", fleet),
        Step("agentPolicy", fleet),
        Step("clearAgentPolicy", fleet),
        Step("overview", fleet),
        Step("eventStream", fleet, stream=True),
        Step("deleteAgent", fleet),
    ]



# --- threat-cloud -----------------------------------------------------------------------------
T_KEY_ID = "tck_3f9a2c1d7e4b"
T_IOC_ID = "ioc_5d1c9e7a3b2f4e60"
T_CAMPAIGN_ID = "C-20261130-3f9a2c1d"
T_EVENT_ID = "evt_8a3f2c1d9e4b7a60"
T_COLLECTION = "8f6d3e9a-2c41-4b7e-9a53-1d0c7e4b2f68"
T_STIX_ID = "indicator--0f3c5a9e-6b7d-5e21-9c4a-3d8b1f2e7a60"


def tc_scenario() -> list:
    """Community reads (lookups, feeds, statistics, TAXII) go without a key, as seed 001 has them."""
    adm, analyst = "admin", "analyst"
    return [
        Step("health"), Step("ready"), Step("metrics"), Step("openapi", shape=False), Step("docs"),
        Step("docsAsset"),
        Step("createKey", adm, bind={"data.id": T_KEY_ID},
             after=lambda run, v: run.actors.update(analyst=bearer(v["data"]["key"]))),
        Step("listKeys", adm),
        Step("uploadIocs", analyst, status=201),
        Step("listIocs", analyst),
        Step("lookupIocs"),
        Step("lookupIoc", bind={"data.ioc.id": T_IOC_ID}),
        Step("patchIoc", analyst),
        Step("reportSighting", analyst),
        Step("listSightings", analyst),
        Step("uploadThreats", analyst, status=201, bind={"data.ids.0": T_EVENT_ID}),
        Step("reportTrapIntel", analyst, status=201),
        Step("createCampaign", analyst, bind={"data.id": T_CAMPAIGN_ID}),
        Step("listCampaigns", analyst),
        Step("getCampaign", analyst),
        Step("patchCampaign", analyst),
        Step("campaignStats", analyst),
        Step("correlateCampaigns", adm),
        Step("queryTimeseries", analyst),
        Step("queryGeo", analyst),
        Step("queryTrends", analyst),
        Step("queryMitreHeatmap", analyst),
        Step("iocFeed"),
        Step("ipBlocklist"),
        Step("domainBlocklist"),
        Step("urlBlocklist"),
        Step("hashBlocklist"),
        Step("stixFeed"),
        Step("agentUpdate"),
        Step("stats"),
        Step("uploadRules", analyst, status=201),
        Step("listRules", analyst),
        Step("saveSource", adm),
        Step("listSources", analyst),
        Step("taxiiDiscovery"),
        Step("taxiiApiRoot"),
        Step("taxiiCollections"),
        Step("taxiiCollection"),
        Step("taxiiObjects", bind={"objects.0.id": T_STIX_ID}),
        Step("taxiiObject"),
        Step("taxiiManifest"),
        Step("auditLog", adm),
        Step("backup", adm),
        Step("revokeKey", adm),
    ]



# --- shardlyn-agent (its local status and node endpoints) ------------------------------------------------
def agent_scenario() -> list:
    return [Step("health"), Step("ready"), Step("metrics"), Step("openapiJson", shape=False), Step("docs"),
            Step("docsAsset"), Step("nodeMetrics")]



SCENARIOS = {
    "shardlyn-agent": (agent_scenario, {}, lambda run: None),
    "auth-server": (auth_scenario, {**AUTH_ENV, "BILLING_WEBHOOK_SECRET": AUTH_WEBHOOK_SECRET,
                                    "USAGE_SERVICE_TOKEN": AUTH_SERVICE_TOKEN,
                                    "AUTH_BOOTSTRAP_ADMIN_EMAIL": "root@example.com",
                                    "AUTH_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD}, auth_setup),
    "manager": (manager_scenario, {**RELAXED_LIMITS, "MANAGER_AUTH_TOKEN": M_FLEET_TOKEN,
                                   "MANAGER_THREAT_RETENTION_DAYS": "3650", "MANAGER_SSE_KEEPALIVE_S": "1"},
                lambda run: run.actors.update(fleet=bearer(M_FLEET_TOKEN))),
    "threat-cloud": (tc_scenario, {**THREAT_CLOUD_ENV, "TC_BACKUP_DIR": "backups", "TC_PUBLIC_READS": "true"},
                     lambda run: run.actors.update(admin=bearer(THREAT_CLOUD_ADMIN_KEY))),
    "shardlyn-api": (shardlyn_scenario, {**SHARDLYN_ENV, "SHARDLYN_HELPSCOUT_SECRET": "helpscout-beacon-secret"},
                     lambda run: None),
}
COVERED = sorted(SCENARIOS)
# Operations that still lack examples and a step (named, so any other gap fails).
PENDING: dict = {}


@pytest.fixture
def github():
    """A local GitHub stand-in (authorize, token and API endpoints) answering with sam's address."""
    stand_in = GitHubStandIn(email="sam@example.com")
    yield stand_in
    stand_in.close()


class HetznerStandIn:
    """Hetzner Cloud's `GET /servers` on 127.0.0.1, accepting the example credential's token."""

    def __init__(self, token: str):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                ok = self.path.startswith("/v1/servers") and self.headers.get("Authorization") == f"Bearer {token}"
                body = json.dumps({"servers": [], "meta": {"pagination": {"page": 1, "per_page": 1}}} if ok
                                  else {"error": {"code": "unauthorized", "message": "unable to authenticate"}})
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hetzner():
    stand_in = HetznerStandIn("hcloud-token-example-x9Qa")  # the createCredential example's token
    yield stand_in
    stand_in.close()


def start(launch, github, hetzner, service: str):
    """The service running with its scenario's settings (shardlyn-api signs in with the stand-in and
    verifies credentials against a local Hetzner)."""
    scenario, env, setup = SCENARIOS[service]
    if service == "shardlyn-api":
        env = {**env, **github.env(), "HETZNER_API_URL": hetzner.url}
    server = launch(service, env=env)
    return scenario, server, setup


def test_every_openapi_document_has_a_scenario():
    folder = SOURCE_DIR / "proto-schemas"
    documents = sorted(p.name.removesuffix(".openapi.yaml") for p in folder.glob("*.openapi.yaml"))
    assert documents and documents == COVERED


def served_document(server) -> dict:
    r = server.get(server.spec.openapi_json)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("service", COVERED)
def test_every_example_request_gets_a_documented_answer(launch, github, hetzner, service):
    scenario, server, setup = start(launch, github, hetzner, service)
    run = Run(server, served_document(server))
    run.memory["github"] = github
    setup(run)
    steps = scenario()
    names = [s.op for s in steps]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    pending = PENDING.get(service, set())
    assert not pending & set(names), f"{service}: remove {sorted(pending & set(names))} from PENDING"
    missing = sorted(set(run.ops) - set(names) - pending)
    assert not missing, f"{service}: operations without a scenario step: {missing}"
    assert pending <= set(run.ops), f"{service}: PENDING names no operation {sorted(pending - set(run.ops))}"
    for step in steps:
        run.run(step)
    assert sorted(run.done) == sorted(set(run.ops) - pending)


@pytest.mark.parametrize("service", COVERED)
def test_every_operation_documents_its_examples(launch, github, hetzner, service):
    """Static half, so a missing example is named even when a step before it fails."""
    scenario, server, _ = start(launch, github, hetzner, service)
    doc = served_document(server)
    run = Run(server, doc)
    problems = []
    for step in scenario():
        method, path, op, _ = run.ops[step.op]
        try:
            run.request_example(step.op)
        except (AssertionError, KeyError) as e:
            problems.append(f"{method} {path}: {e}")
        responses = [int(s) for s in op["responses"] if s.isdigit()]
        status = step.status or min(s for s in responses if 200 <= s < 400)
        try:
            run.response_example(step.op, status, None)
        except AssertionError as e:
            problems.append(f"{method} {path}: {e}")
        for code, response in op["responses"].items():  # examples of other statuses too
            for media_type, media in (resolve(doc, response).get("content") or {}).items():
                if "example" in media:
                    try:
                        run.validate(media.get("schema", {}), media["example"],
                                     f"{step.op} {code} {media_type} example")
                    except AssertionError as e:
                        problems.append(str(e))
    assert not problems, "\n".join(problems)



class _Canned:
    """A stand-in server answering every request with one canned JSON body (for the check below)."""

    def __init__(self, status: int, body: bytes):
        self.status, self.body = status, body

    def request(self, method, path, **kw):
        import requests
        r = requests.Response()
        r.status_code, r._content = self.status, self.body
        r.headers["Content-Type"] = "application/json"
        r.request = requests.Request(method, "http://127.0.0.1" + path).prepare()
        return r


CANNED_DOC = {"paths": {"/things/{id}": {"get": {
    "operationId": "getThing",
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "example": "t-1"}],
    "responses": {"200": {"description": "OK", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}, "example": {"id": "t-1", "size": 3}}}}}}}},
    "components": {"schemas": {"Thing": {"type": "object", "required": ["id"],
                                         "properties": {"id": {"type": "string"}, "size": {"type": "integer"}}}}}}


@pytest.mark.parametrize("status, body, complaint", [
    (404, b'{"error":"no such thing"}', "answered 404, expected 200"),
    (200, b'{"id":"t-1","size":"three"}', "does not match its schema"),
    (200, b'{"id":"t-1"}', "differ from the example's"),
    (200, b'{"id":"t-1","size":3,"colour":"red"}', "differ from the example's"),
])
def test_the_checks_refuse_an_answer_the_document_does_not_describe(status, body, complaint):
    run = Run(_Canned(status, body), CANNED_DOC)
    with pytest.raises(AssertionError, match=complaint):
        run.run(Step("getThing"))
    assert Run(_Canned(200, b'{"id":"t-9","size":4}'), CANNED_DOC).run(Step("getThing")) == {"id": "t-9", "size": 4}


def test_an_operation_without_a_response_example_fails():
    import copy
    doc = copy.deepcopy(CANNED_DOC)
    del doc["paths"]["/things/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    with pytest.raises(AssertionError, match="has no example"):
        Run(_Canned(200, b'{"id":"t-1","size":3}'), doc).run(Step("getThing"))
