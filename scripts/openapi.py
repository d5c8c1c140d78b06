"""Writes public/openapi.json, the OpenAPI 3.1 document of the API:
`python3 scripts/openapi.py > public/openapi.json`. The end-to-end tests hold the worker to it
with schemathesis."""
import json
codes = {
    9902: (404, "unknown path"), 9903: (405, "known path, wrong method (with Allow)"),
    9905: (429, "a rate limit was hit (with Retry-After)"),
    9906: ([422, 400, 413, 408], "validation failed (422); the body is not a JSON object or names a field twice (400), is over 16 KiB (413), or did not arrive within 10 s (408)"),
    9907: (403, "sent by a page of an origin CORS_ALLOWED_ORIGINS does not list (Origin: null included); refused before it has any effect"),
    9908: (401, "token malformed, forged, expired, of the wrong kind, or revoked; or a step that needs a sign-in of the last 10 minutes made with an older one (需要重新登录)"),
    9999: (500, "anything unexpected; details only in the log"),
    50001: (400, "SMS code wrong, expired, used, or for another phone"),
    50006: (401, "unknown account, wrong password or disabled user"),
    50007: (409, "account or phone already registered"),
    50017: (429, "a code for this phone is still live"),
    50018: (502, "the SMS provider failed; no code was kept"),
}
def envelope(data_schema, code_schema):
    return {"type": "object", "required": ["code", "msg", "status", "data"], "additionalProperties": False,
            "properties": {"code": code_schema, "msg": {"type": "string"}, "status": {"type": "boolean"}, "data": data_schema}}
def error_response(status, allowed, extra_headers=None):
    desc = "; ".join(f"{c}: {codes[c][1]}" for c in allowed)
    r = {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if extra_headers:
        r["headers"] = extra_headers
    return r
empty = {"$ref": "#/components/schemas/Empty"}
def ok(data_schema, desc):
    return {"description": desc, "content": {"application/json": {"schema": envelope(data_schema, {"const": 200})}}}
string = {"type": "string"}
def body(props, required, example):
    return {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "properties": props, "required": required}, "example": example}}}
def one_of_required(request_body, names):
    """At least one of `names` is required (`jwt` or `refresh_jwt`)."""
    request_body["content"]["application/json"]["schema"]["anyOf"] = [{"required": [name]} for name in names]
    return request_body
retry = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}
allow = {"Allow": {"schema": {"type": "string"}, "description": "the methods the path takes: POST, OPTIONS"}}
common = {"400": error_response(400, [9906, 50001]), "404": error_response(404, [9902]),
          "403": error_response(403, [9907]),
          "405": error_response(405, [9903], allow), "408": error_response(408, [9906]), "413": error_response(413, [9906]),
          "422": error_response(422, [9906]), "429": error_response(429, [9905, 50017], retry),
          "500": error_response(500, [9999])}
def responses(success, specific):
    r = {"200": success}
    for status in specific:
        r[status] = common[status] if status in common else specific_map[status]
    return r
specific_map = {"401": error_response(401, [9908, 50006]), "409": error_response(409, [50007]), "502": error_response(502, [50018])}
# The phones the default deployment takes (SMS_ALLOWED_COUNTRY_CODES = 86): China's
# mobile numbers, bare or in E.164. A deployment that allows other countries takes E.164
# numbers of those too; one outside the list is 9906 `phone 非法` (422).
phone = {"type": "string", "pattern": "^(1[3-9][0-9]{9}|\\+861[3-9][0-9]{9})$", "description": "a mainland China mobile number, bare (13911119999) or in E.164 (+8613911119999). With SMS_ALLOWED_COUNTRY_CODES listing other countries, E.164 numbers of those too; a number outside the list is 9906 `phone 非法` (422)", "example": "13911119999"}
# A field the worker takes only with more than white space in it. The worker trims Unicode's
# White_Space, which has U+0085 (NEXT LINE) besides what ECMA-262's `\s` matches, so the
# pattern names it too: "\u0085" alone is as blank to the worker as " " is.
not_blank = "[^\\s\\u0085]"
# Every `jwt` may come as `Authorization: Bearer <token>` instead; the header is in the
# descriptions only, so that the body's schema still tells a client what a body alone needs.
or_bearer = "; or send it as the header `Authorization: Bearer <token>` instead (both, differing: 9906 `jwt 重复`, 422)"
jwt_body = body({"jwt": {"type": "string", "pattern": not_blank, "description": "the token" + or_bearer}}, ["jwt"], {"jwt": "eyJ..."})
new_password = {
    "password": {"type": "string", "pattern": "^[A-Za-z0-9_]{6,64}$", "description": "the new password: 6 to 64 letters, digits or underscores"},
    "password_confirmation": {"type": "string", "pattern": "^[A-Za-z0-9_]{6,64}$", "description": "the same password again"}}
sms_code = {"oneOf": [{"type": "string", "pattern": "^[0-9]{6}$"}, {"type": "integer", "minimum": 100000, "maximum": 999999}], "description": "the 6-digit SMS code"}
base = ["400", "403", "404", "405", "408", "413", "422", "429", "500"]
paths = {
    "/login/send/sms": {"post": {
        "summary": "Send an SMS code", "operationId": "sendSms",
        "description": "Makes a 6-digit code, keeps it (sealed) for 300 s and sends it. While a code for the phone is live: 50017. A number outside SMS_ALLOWED_COUNTRY_CODES (default +86): 9906 `phone 非法`. More than 10 codes a day for the phone asked for from the client IP, 30 for the phone from all, or 20 sends an hour from the client IP: 9905 with Retry-After. A code killed by wrong guesses no longer blocks a new one. The provider failing or timing out: 50018, and no code is kept, so asking again at once works. The code is in `data` only with EXPOSE_SMS_CODE=true (local development).",
        "requestBody": body({"phone": phone, "purpose": {"type": ["string", "null"], "enum": ["register", "reset", "login", "delete", "change_phone", None], "description": "what the code is for: `register` (default; also for null), `reset` (a password reset), `login` (/login/jwt/sms), `delete` (/login/account/delete, to the account's own phone) or `change_phone` (/login/phone/change, to the new number, with `jwt`; it goes to any number, bound to the token's user); a code serves only its own purpose. A reset or delete send, and a login send without SMS_SIGNUP, to a phone without a user (for reset and delete, or one waiting to be deleted) sends and keeps nothing, but answers, counts and blocks the phone as a real one does"},
                             "jwt": {"type": ["string", "null"], "description": "with `change_phone` only, and needed then: the user's access token (missing 9906 `jwt 必填`, 422; one status would refuse 9908, 401)" + or_bearer + ". Another purpose ignores it, if a string or null (else 9906 `jwt 只能是字符串`, 422)"},
                             "turnstile_token": {"type": ["string", "null"], "description": "null is the same as leaving it out. With TURNSTILE_SECRET_KEY set, the token of the Turnstile widget (or the header CF-Turnstile-Response): missing 9906 `turnstile_token 必填` (422), refused (invalid, expired, used) 9906 `turnstile_token 人机验证失败` (403), siteverify failing 9999; checked before anything is counted or sent"}}, ["phone"], {"phone": "13911119999"}),
        "parameters": [{"name": "CF-Turnstile-Response", "in": "header", "required": False, "schema": {"type": "string"}, "description": "the Turnstile token, instead of `turnstile_token`"}],
        "responses": {**responses(ok({"oneOf": [empty, {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}}]}, "sent"), base + ["401", "502"]),
                      "403": error_response(403, [9906, 9907])}}},
    "/login/register": {"post": {
        "summary": "Register with an SMS code", "operationId": "register",
        "requestBody": body({
            "account": {"type": "string", "pattern": not_blank, "minLength": 1, "maxLength": 64, "description": "1 to 64 characters after trimming, no control characters, and a user name under the PRECIS UsernameCaseMapped profile (RFC 8265): unique on its width-mapped, lower-cased NFC key (`Ｆｏｏ` and `FOO` are `foo`); invisible characters, bidi controls, spaces, symbols and compatibility characters are 9906 `account 账号含有用户名不允许的字符` (422); so is a new name that imitates another across scripts (UTS #39's moderately restrictive level: a Cyrillic or Greek letter in a Latin name, kana that look like Han as a name's only kana, a mark on a dotless ı, invisible tone marks)"},
            "password": {"type": "string", "pattern": "^[A-Za-z0-9_]{6,64}$", "description": "6 to 64 letters, digits or underscores"},
            "password_confirmation": {"type": "string", "pattern": "^[A-Za-z0-9_]{6,64}$", "description": "the same password again"},
            "phone": phone,
            "code": sms_code},
            ["account", "password", "password_confirmation", "phone", "code"],
            {"account": "Foo", "password": "1234567", "password_confirmation": "1234567", "phone": "13911119999", "code": "123321"}),
        "responses": responses(ok(empty, "registered"), base + ["409", "502"])}},
    "/login/jwt/get": {"post": {
        "summary": "Log in", "operationId": "logIn",
        "description": "Failed logins in 15 minutes, by default: 10 for an account from one address, 100 for an account over all addresses, 100 from one address; past any of them 9905 with Retry-After, whatever the password. A success clears the account's counts.",
        "requestBody": body({"account": {"type": "string", "pattern": not_blank}, "pwd": {"type": "string", "pattern": not_blank}}, ["account", "pwd"], {"account": "Foo", "pwd": "1234567"}),
        "responses": responses(ok({"$ref": "#/components/schemas/TokenPair"}, "a new session"), base + ["401"])}},
    "/login/jwt/sms": {"post": {
        "summary": "Sign in with an SMS code", "operationId": "smsLogin",
        "description": "The code comes from /login/send/sms with `\"purpose\": \"login\"`. A wrong, expired, used or dead code, or one sent for a registration or a reset: 50001 (a wrong guess; 5 from one address or 20 in all kill the code). A disabled user: 50006. Failed-password lock-outs do not stop it: the code proves the phone. With SMS_SIGNUP=true, the first sign-in of a phone without a user makes one (the default role, a generated account `user_` and 8 of [a-z0-9], no password: a password login fails until a reset sets one) and answers `new_user: true` and its `account`; without it such a phone got no code, and every code is 50001. Success: a new session, as /login/jwt/get opens one, and the code is used up.",
        "requestBody": body({"phone": phone, "code": sms_code}, ["phone", "code"], {"phone": "13911119999", "code": "123321"}),
        "responses": responses(ok({"$ref": "#/components/schemas/SignedIn"}, "a new session"), base + ["401"])}},
    "/login/jwt/refresh": {"post": {
        "summary": "A new access token for a refresh token", "operationId": "refresh",
        "requestBody": one_of_required(body({"jwt": {"type": "string", "pattern": not_blank, "description": "the refresh token" + or_bearer},
                             "refresh_jwt": {"type": "string", "pattern": not_blank, "description": "accepted instead of jwt"}}, [], {"jwt": "eyJ..."}), ["jwt", "refresh_jwt"]),
        "description": "With REFRESH_ROTATION=true, `data` is a new token pair and the refresh token sent is retired (a replay after 10 s ends the session).",
        "responses": responses(ok({"oneOf": [{"type": "string", "description": "the new access token"}, {"$ref": "#/components/schemas/TokenPair"}]}, "a new access token"), base + ["401"])}},
    "/login/jwt/deactivate": {"post": {
        "summary": "End the session of a token, one by its id, or all but this one", "operationId": "deactivate",
        "description": "Revokes the whole session of an access or refresh token; with `\"scope\": \"all\"`, every session of its user (log out everywhere); with `\"scope\": \"others\"`, every session of its user but the token's own; with `sid`, that one session of the token's user (a `sid` that is not a live session of this user, another user's included: 9906 `sid 不存在`, 422). A revoked session leaves /login/sessions/list.",
        "requestBody": body({"jwt": {"type": "string", "pattern": not_blank, "description": "the token" + or_bearer},
                             "scope": {"type": ["string", "null"], "enum": ["session", "others", "all", None], "description": "`session` (default; also for null), `others` or `all`"},
                             "sid": {"type": ["string", "null"], "pattern": not_blank, "description": "one session of the token's user, as /login/sessions/list shows it; only with the scope `session` (or none), else 9906 `sid 只能与 scope session 一起使用`"}},
                            ["jwt"], {"jwt": "eyJ...", "scope": "others"}),
        "responses": responses(ok(empty, "revoked"), base + ["401"])}},
    "/login/sessions/list": {"post": {
        "summary": "Your devices: the user's live sessions", "operationId": "listSessions",
        "description": "`jwt` is an access token (a refresh token, or one status would refuse: 9908). `data` lists the user's live sessions, newest first (at most 100): each login (password, code, password change) opens one, recorded after its answer; a refresh marks it used (at most once a minute); a revoked or expired session leaves the list.",
        "requestBody": jwt_body,
        "responses": responses(ok({"type": "array", "items": {"$ref": "#/components/schemas/Session"}}, "the sessions"), base + ["401"])}},
    "/login/jwt/status": {"post": {
        "summary": "What an access token says", "operationId": "status",
        "requestBody": jwt_body,
        "responses": responses(ok({"$ref": "#/components/schemas/Status"}, "the token is valid"), base + ["401"])}},
    "/login/password/reset": {"post": {
        "summary": "Set a new password with a reset code", "operationId": "resetPassword",
        "description": "The code comes from /login/send/sms with `\"purpose\": \"reset\"`. A wrong, expired, used or dead code, or one sent for a registration: 50001 (a wrong guess; 5 from one address or 20 in all kill the code). Success: the new password is set, every session of the user ends (as log out everywhere), the account's failed logins are cleared and the code is used up.",
        "requestBody": body({"phone": phone, "code": sms_code, **new_password}, ["phone", "code", "password", "password_confirmation"],
                            {"phone": "13911119999", "code": "123321", "password": "new_pass", "password_confirmation": "new_pass"}),
        "responses": responses(ok(empty, "the password is set"), base)}},
    "/login/password/change": {"post": {
        "summary": "Change the password of a signed-in user", "operationId": "changePassword",
        "description": "`jwt` is an access token (a refresh token, or one status would refuse: 9908). A wrong `pwd` is 50006 and counts as a failed login of the account (9905 past the limits). Success: every session of the user ends, the one sent included, and `data` is a new token pair.",
        "requestBody": body({"jwt": {"type": "string", "pattern": not_blank, "description": "an access token" + or_bearer},
                             "pwd": {"type": "string", "pattern": not_blank, "description": "the current password"}, **new_password},
                            ["jwt", "pwd", "password", "password_confirmation"],
                            {"jwt": "eyJ...", "pwd": "1234567", "password": "new_pass", "password_confirmation": "new_pass"}),
        "responses": responses(ok({"$ref": "#/components/schemas/TokenPair"}, "a new session"), base + ["401"])}},
    "/login/phone/change": {"post": {
        "summary": "Move the account to a new phone number", "operationId": "changePhone",
        "description": "`jwt` is an access token (a refresh token, or one status would refuse: 9908). The account proves itself with `pwd`, its current password (missing 9906 `pwd 密码必填`; wrong 50006, a failed login of the account, 9905 past the limits); an account without a password (made by a code sign-in) instead needs a session signed in at most 10 minutes ago (a refresh does not renew it; else 9908 `需要重新登录`). The new number proves itself with `code`, sent to it with `\"purpose\": \"change_phone\"` and this user's token (another user's, or another purpose's, is 50001). A number some user has when the change is made (this one's included) is 50007, and the code stays usable. Success: the account has the new number (code sign-in, reset and delete codes go to it), every other session of the user ends, and `data` is [].",
        "requestBody": body({"jwt": {"type": "string", "pattern": not_blank, "description": "an access token" + or_bearer},
                             "phone": {**phone, "description": "the new number; " + phone["description"]},
                             "code": {**sms_code, "description": "the 6-digit code sent to the new number for `change_phone`"},
                             "pwd": {"type": ["string", "null"], "pattern": not_blank, "description": "the current password; for an account without one, leave it out"}},
                            ["jwt", "phone", "code"],
                            {"jwt": "eyJ...", "phone": "13922228888", "code": "123321", "pwd": "1234567"}),
        "responses": responses(ok(empty, "the number is changed"), base + ["401", "409"])}},
    "/login/account/delete": {"post": {
        "summary": "Delete one's own account (注销), after a grace period", "operationId": "deleteAccount",
        "description": "`jwt` is an access token (a refresh token, or one status would refuse: 9908), confirmed by exactly one of `code` (sent with `\"purpose\": \"delete\"` to the account's own phone; a wrong one is 50001, a wrong guess as for register) or `pwd` (the current password; a wrong one is 50006, a failed login of the account, 9905 past the limits): neither is 9906 `pwd 密码必填`, both 9906 `pwd 密码与 code 只能给一个`. Success: every session ends at once; the account can no longer log in with a password, refresh or pass status; it is removed ACCOUNT_DELETE_GRACE_DAYS (default 15) later by a Cron Trigger, which frees its name and phone. Within them a code sign-in (/login/jwt/sms) cancels the deletion and says `restored: true`; nothing else does.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "required": ["jwt"], "properties": {
                "jwt": {"type": "string", "pattern": not_blank, "description": "an access token" + or_bearer},
                "code": {**sms_code, "description": "the 6-digit code sent for `delete`"},
                "pwd": {"type": "string", "pattern": not_blank, "description": "the current password"}}},
            "example": {"jwt": "eyJ...", "pwd": "1234567"}}}},
        "responses": responses(ok({"type": "object", "required": ["delete_date"], "additionalProperties": False, "properties": {
            "delete_date": {"type": "string", "description": "when the account will be removed, as iat_date"}}}, "the deletion is scheduled"), base + ["401"])}},
    "/.well-known/jwks.json": {"get": {"summary": "The public keys tokens are signed with (JWT_ALG=EdDSA); empty with HS256", "operationId": "jwks",
        "responses": {"200": {"description": "a JWK set (RFC 7517)", "content": {"application/jwk-set+json": {"schema": {
            "type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {
                "type": "object", "required": ["kty", "crv", "x", "kid", "alg"],
                "properties": {"kty": {"const": "OKP"}, "crv": {"const": "Ed25519"}, "x": {"type": "string"},
                               "kid": {"type": "string"}, "alg": {"const": "EdDSA"}, "use": {"const": "sig"}}}}}}}}}}}},
    "/healthz": {"get": {"summary": "Health, for monitors", "operationId": "health",
        "responses": {"200": {"description": "serving", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}}}}}}},
}
# OpenAPI links: what each success hands to the next call, so that a client (and
# schemathesis's stateful phase) can chain send → register → log in → status, refresh,
# deactivate and change, and send (reset) → reset, with the real codes and tokens.
def link(operation, description, **fields):
    return {"operationId": operation, "description": description, "requestBody": fields}
def links(path, **named):
    paths[path]["post"]["responses"]["200"]["links"] = named
code_to = lambda operation: link(operation, "the code just sent to this phone (shown only with EXPOSE_SMS_CODE=true)",
                                 phone="$request.body#/phone", code="$response.body#/data/code")
links("/login/send/sms", register=code_to("register"), resetPassword=code_to("resetPassword"), smsLogin=code_to("smsLogin"))
links("/login/register", logIn=link("logIn", "the account just registered", account="$request.body#/account", pwd="$request.body#/password"))
def session_links(pwd):
    named = {"status": link("status", "the new access token", jwt="$response.body#/data/jwt"),
             "refresh": link("refresh", "the new refresh token", jwt="$response.body#/data/refresh_jwt"),
             "deactivate": link("deactivate", "the new session", jwt="$response.body#/data/jwt"),
             "listSessions": link("listSessions", "the user's sessions", jwt="$response.body#/data/jwt")}
    if pwd:
        named["changePassword"] = link("changePassword", "the session and its password", jwt="$response.body#/data/jwt", pwd=pwd)
        named["deleteAccount"] = link("deleteAccount", "the session and its password", jwt="$response.body#/data/jwt", pwd=pwd)
        named["changePhone"] = link("changePhone", "the session and its password", jwt="$response.body#/data/jwt", pwd=pwd)
    return named
links("/login/jwt/get", **session_links("$request.body#/pwd"))
links("/login/jwt/sms", **session_links(None))
links("/login/password/change", **session_links("$request.body#/password"))
links("/login/jwt/refresh", status=link("status", "the new access token (without REFRESH_ROTATION)", jwt="$response.body#/data"))

# Every /login path also answers its preflight.
for path, item in paths.items():
    if path.startswith("/login/"):
        item["options"] = {"summary": "CORS preflight", "operationId": item["post"]["operationId"] + "Preflight",
                           "responses": {"204": {"description": "the CORS headers"}}}
doc = {
    "openapi": "3.1.0",
    "info": {"title": "login-worker: the /login API", "version": "1.0.0",
             "description": "Register with an SMS code, log in for a JWT and a refresh token, refresh, deactivate, check a token's status, reset a forgotten password by SMS code, change a password, sign in with an SMS code, list and end one's sessions, change one's phone number, delete one's account. Every response but /healthz is the envelope {code, msg, status, data}; clients switch on `code`. Error codes: " +
             "; ".join(f"{c} (HTTP {s if not isinstance(s, list) else '/'.join(map(str, s))}): {d}" for c, (s, d) in codes.items()) +
             ". `msg` is Chinese unless Accept-Language prefers English."},
    "servers": [{"url": "/"}],
    "paths": paths,
    "components": {"schemas": {
        "Empty": {"type": "array", "maxItems": 0, "description": "no data"},
        "Error": envelope({"type": "array", "maxItems": 0}, {"type": "integer", "enum": sorted(codes)}),
        "TokenPair": {"type": "object", "required": ["jwt", "refresh_jwt"], "properties": {
            "jwt": {"type": "string", "description": "the access token (HS256 JWT, 86400 s)"},
            "refresh_jwt": {"type": "string", "description": "the refresh token (604800 s)"}}},
        "SignedIn": {"type": "object", "required": ["jwt", "refresh_jwt"], "properties": {
            "jwt": {"type": "string", "description": "the access token"},
            "refresh_jwt": {"type": "string", "description": "the refresh token"},
            "new_user": {"const": True, "description": "only when this sign-in made the user (SMS_SIGNUP=true)"},
            "account": {"type": "string", "description": "the generated account name, only with new_user"},
            "restored": {"const": True, "description": "only when this sign-in cancelled the account's deletion"}}},
        "Session": {"type": "object", "required": ["sid", "current", "created_date", "last_used_date", "user_agent", "country", "address"],
                    "additionalProperties": False, "properties": {
            "sid": {"type": "string", "description": "the session's id (the tokens' `sid`), for deactivate"},
            "current": {"type": "boolean", "description": "the session of the token the list was asked with"},
            "created_date": {"type": "string", "description": "its login, as iat_date"},
            "last_used_date": {"type": "string", "description": "its last refresh (at most a minute behind), or its login"},
            "user_agent": {"type": "string", "description": "the login's User-Agent, its first 256 characters"},
            "country": {"type": "string", "description": "the country Cloudflare placed the login in (ISO 3166 alpha-2), empty if unknown"},
            "address": {"type": "string", "description": "the login's address masked: IPv4 to its /24, IPv6 to its /48"}}},
        "Status": {"type": "object", "required": ["exp", "uid", "account", "jwt_data", "exp_date", "iat_date"], "properties": {
            "exp": {"type": "integer", "description": "seconds left"},
            "uid": {"type": "integer"},
            "account": {"type": "string", "description": "the account's name (a code sign-in's generated one too)"},
            "jwt_data": {"type": "object", "required": ["uid", "rid"], "properties": {
                "uid": {"type": "integer"}, "rid": {"type": "array", "items": {"type": "string"}}}},
            "exp_date": {"type": "string", "description": "YYYY-MM-DD HH:MM:SS, UTC+08:00 by default"},
            "iat_date": {"type": "string"}}},
    }},
}
# Compact: the worker serves this file as it is, and every byte counts in the wasm.
print(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
