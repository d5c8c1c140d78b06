// A Worker of your own behind the login worker, as the original service's other APIs sat
// behind its AccreditMiddleware (is the JWT valid?) and AuthMiddleware (may its role do
// this?). Each request's access token (`Authorization: Bearer ...`) is checked by the
// login worker's POST /login/jwt/status over the LOGIN service binding, which also knows
// revocations, "log out everywhere" and disabled users; then the route gets the user's
// `uid` and role ids `rid`. No secret is needed here.

// What your routes answer once the caller is known: `user.uid` and `user.rid` (the role
// ids, as strings) are what a permission check needs, e.g.
// `if (!user.rid.includes(ADMIN_ROLE)) return refuse(403, ...)`. Replace with your own.
const routes = {
  "GET /api/me": (user) => ok({ uid: user.uid, rid: user.rid }),
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    // One origin for a frontend: the login API itself goes straight to the login worker.
    if (url.pathname.startsWith("/login/")) return env.LOGIN.fetch(request);
    const route = routes[`${request.method} ${url.pathname}`];
    if (!route) return refuse(404, 9902, "API地址错误或HTTP方法错误，请检查 :(");
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("Authorization") || "")?.[1];
    if (!token) return refuse(401, 9908, "认证失败：缺少 Authorization: Bearer 令牌");
    const user = await authenticate(env, token);
    if (user.error) return user.error;
    return route(user, request);
  },
};

// The token's user as the login worker sees it now, or the answer to give instead: the
// login worker's own envelope (9908 and its reason) with 401, or 503 when it cannot say.
async function authenticate(env, token) {
  let envelope;
  try {
    const answer = await env.LOGIN.fetch("https://login/login/jwt/status", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jwt: token }),
    });
    envelope = await answer.json();
  } catch {
    return { error: refuse(503, 9999, "系统繁忙，请稍后尝试") };
  }
  if (envelope.code === 200) return { uid: envelope.data.jwt_data.uid, rid: envelope.data.jwt_data.rid };
  if (envelope.code === 9908) return { error: json(401, envelope) };
  return { error: refuse(503, 9999, "系统繁忙，请稍后尝试") };
}

function ok(data) {
  return json(200, { code: 200, msg: "ok", status: true, data });
}

function refuse(status, code, msg) {
  return json(status, { code, msg, status: false, data: [] });
}

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}
