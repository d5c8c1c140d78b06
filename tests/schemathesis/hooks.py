"""Schemathesis hooks for the e2e run (tests/e2e/isolated.rs): five rules the document
does not state as schema, kept in the valid (positive) cases as a client keeps them, so that those cases
test the rest of the request instead of all being the same 9906. Negative cases are
left as generated.

- `password_confirmation` repeats `password` (otherwise 9906 `密码不一致`).
- A new account name is a user name under the PRECIS profile, which no pattern that
  schemathesis can generate from says; generated names are mostly control and unassigned
  characters (9906 `account 账号含有用户名不允许的字符`). Valid cases register ASCII names
  made from the generated ones; the end-to-end tests cover names in other scripts.
- Deactivate's `sid` goes only with the scope of one session (otherwise 9906 `sid
  只能与 scope session 一起使用`), and a deletion takes exactly one of `code` and `pwd`.
  JSON Schema can say both (`anyOf`, `oneOf`, `not`), but in a fresh clone (no
  .hypothesis database yet) schemathesis's coverage phase failed on each of them
  (hypothesis: "AST constructor recursion depth mismatch", a FlakyFailure), so the
  document says them in words.
- A send for `change_phone` needs `jwt` (otherwise 9906 `jwt 必填`): valid cases without
  one get a token, which the worker then refuses (9908)."""
import itertools
import re

import schemathesis

_names = itertools.count()


@schemathesis.hook
def before_call(context, case, **kwargs):
    body = case.body
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or not isinstance(body, dict):
        return
    if isinstance(body.get("password"), str) and "password_confirmation" in body:
        body["password_confirmation"] = body["password"]
    if case.operation.path == "/login/jwt/deactivate" and body.get("sid") is not None:
        body["scope"] = "session"
    if case.operation.path == "/login/account/delete":
        if body.get("code") is not None and body.get("pwd") is not None:
            del body["code"]
        elif body.get("code") is None and body.get("pwd") is None:
            body["pwd"] = "st_password"
    if case.operation.path == "/login/send/sms" and body.get("purpose") == "change_phone":
        if not isinstance(body.get("jwt"), str) or not body["jwt"].strip():
            body["jwt"] = "st.not.a_token"
    if case.operation.path == "/login/register" and isinstance(body.get("account"), str):
        ascii_part = re.sub(r"[^A-Za-z0-9_]", "", body["account"])[:40]
        body["account"] = f"st{next(_names)}_{ascii_part}"
