// A client for the /login API: one method per endpoint, typed from public/openapi.json
// (src/openapi.d.ts is generated from it at build time, so a change to the document that
// this file does not follow fails the build), and a session kept fresh, across tabs too.
import type { components, paths } from "./openapi.js";

type Path = keyof paths;
type Post<P extends Path> = NonNullable<paths[P]["post"]>;
/** The JSON body the document gives an endpoint. */
export type Body<P extends Path> = Post<P> extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
/** What an endpoint's success carries in `data`. */
export type Data<P extends Path> = Post<P> extends {
  responses: { 200: { content: { "application/json": { data: infer D } } } };
} ? D : never;
/** A body without the token the client adds itself. */
type Own<P extends Path> = Omit<Body<P>, "jwt">;

/** The tokens of one session, as the client keeps them. */
export type TokenPair = components["schemas"]["TokenPair"];
/** A session as `listSessions` lists it: one of the user's devices. */
export type Device = components["schemas"]["Session"];
export type SignedIn = components["schemas"]["SignedIn"];
export type SessionEvent = "signed_in" | "refreshed" | "signed_out";

/** Where the session is kept: anything with get, set and remove, each of which may
 * answer with a promise (a WeChat mini program's `wx.*StorageSync`, React Native's
 * AsyncStorage); `localStorage` and `sessionStorage` as they are. */
export interface KeyValueStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): unknown;
  remove(key: string): unknown;
}
/** What the client uses of the Web Storage API (`localStorage`). */
export interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}
/** What the client needs of `fetch`: enough for an adapter over `wx.request`. */
export type FetchLike = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface LoginClientOptions {
  /** Where the worker serves /login, e.g. "https://login.example.com". */
  baseUrl: string;
  /** Memory (the default: gone with the page), `localStorage`, or a {get, set, remove}. */
  storage?: KeyValueStorage | WebStorage;
  fetch?: FetchLike;
  /** Sent as Accept-Language, e.g. "en" (the worker answers in Chinese or English). */
  language?: string;
  /** The storage key, and the name of the tabs' lock and channel. */
  storageKey?: string;
  /** Share refreshes, sign-ins and sign-outs with the origin's other tabs (Web Locks and
   * BroadcastChannel). On by default in a page (where there is a `document`) given a
   * storage, which the tabs then share; off with the memory storage, where each tab
   * has a session of its own, and on a server, where one process serves many users. */
  syncTabs?: boolean;
}

/** The envelope codes, as `LoginApiError.code` carries them. */
export const ErrorCode = {
  NotFound: 9902,
  MethodNotAllowed: 9903,
  TooManyRequests: 9905,
  Invalid: 9906,
  OriginNotAllowed: 9907,
  Unauthorized: 9908,
  ServerError: 9999,
  WrongCode: 50001,
  WrongLogin: 50006,
  AlreadyRegistered: 50007,
  CodeStillLive: 50017,
  SmsFailed: 50018,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
// Every code the document lists has its name above, and no name a code it does not list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyCodeNamed: Same<ErrorCode, components["schemas"]["Error"]["code"]> = true;

/** A refusal of the API: its envelope's code and message, and the HTTP status. */
export class LoginApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly httpStatus: number,
    readonly msg: string,
    /** Seconds to wait, from Retry-After (9905). */
    readonly retryAfter?: number,
  ) {
    super(msg);
    this.name = "LoginApiError";
  }
}

// The endpoints each method calls. A path the document adds fails the check below until
// a method calls it; one it renames or removes fails here.
const endpoint = {
  sendCode: "/login/send/sms",
  register: "/login/register",
  logIn: "/login/jwt/get",
  logInWithCode: "/login/jwt/sms",
  refresh: "/login/jwt/refresh",
  deactivate: "/login/jwt/deactivate",
  status: "/login/jwt/status",
  listSessions: "/login/sessions/list",
  resetPassword: "/login/password/reset",
  changePassword: "/login/password/change",
  changePhone: "/login/phone/change",
  deleteAccount: "/login/account/delete",
} as const satisfies Record<string, Path>;
type PostPath = { [P in Path]: paths[P]["post"] extends undefined ? never : P }[Path];
type Unserved = Exclude<PostPath, (typeof endpoint)[keyof typeof endpoint]>;
const everyEndpointServed: Same<Unserved, never> = true;
void everyCodeNamed, everyEndpointServed;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// The claims a token's expiry and session are judged by, read without verifying (the
// worker does that). base64url by hand: a mini program has no atob.
function claims(jwt: string): { exp: number; iat: number; sid?: string } {
  let bits = 0;
  let value = 0;
  let text = "";
  for (const char of jwt.split(".")[1] || "") {
    value = (value << 6) | "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(char);
    bits += 6;
    if (bits >= 8) text += String.fromCharCode((value >> (bits -= 8)) & 255);
  }
  try {
    return JSON.parse(text);
  } catch {
    return { exp: 0, iat: 0 };
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) == JSON.stringify(b);
const isOver = (error: unknown) => error instanceof LoginApiError && error.code == ErrorCode.Unauthorized;

export function createLoginClient(options: LoginClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch: FetchLike = options.fetch || ((url, init) => fetch(url, init));
  const key = options.storageKey || "login-session";
  const given = options.storage;
  const memory = new Map<string, string>();
  const storage: KeyValueStorage = !given
    ? { get: (k) => memory.get(k), set: (k, v) => memory.set(k, v), remove: (k) => memory.delete(k) }
    : "getItem" in given
      ? { get: (k) => given.getItem(k), set: (k, v) => given.setItem(k, v), remove: (k) => given.removeItem(k) }
      : given;
  const tabs = options.syncTabs ?? (!!given && typeof document == "object");
  const locks = tabs ? (globalThis.navigator as Navigator | undefined)?.locks : undefined;
  const channel = tabs && typeof BroadcastChannel == "function" ? new BroadcastChannel(key) : null;
  const listeners = new Set<(event: SessionEvent, session: TokenPair | null) => void>();
  // The server's clock less this one's, learnt from each token this client received (its
  // iat); 0 for a session it found in the storage.
  let skew = 0;

  async function post<P extends Path>(path: P, body: unknown): Promise<Data<P>> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (options.language) headers["Accept-Language"] = options.language;
    const response = await doFetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
    let envelope: { code?: number; msg?: string; data?: Data<P> } = {};
    try {
      envelope = JSON.parse(await response.text()) || {};
    } catch {
      // Not the API's answer (a proxy's error page): reported as unexpected, below.
    }
    if (envelope.code == 200) return envelope.data as Data<P>;
    const wait = Number(response.headers.get("Retry-After")) || undefined;
    throw new LoginApiError(
      (envelope.code || ErrorCode.ServerError) as ErrorCode,
      response.status,
      envelope.msg || "HTTP " + response.status,
      wait,
    );
  }

  async function load(): Promise<TokenPair | null> {
    try {
      return JSON.parse((await storage.get(key)) || "null");
    } catch {
      return null;
    }
  }

  // A listener's failure is the app's to see, not the call's that changed the session.
  function tell(event: SessionEvent, session: TokenPair | null) {
    for (const listener of listeners) {
      try {
        listener(event, session);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  // Keeps a session this client received, and tells the app and the other tabs.
  async function keep(event: SessionEvent, session: TokenPair | null, replaces?: string) {
    if (session) {
      skew = claims(session.jwt).iat - Date.now() / 1000 || 0;
      await storage.set(key, JSON.stringify(session));
    } else {
      await storage.remove(key);
    }
    channel?.postMessage({ event, session, replaces });
    tell(event, session);
  }

  // Another tab's news, kept here too where the storage has not caught up yet. A refresh
  // of a session this tab no longer holds (it signed out, or in anew, or holds a later
  // pair already) is not news.
  if (channel) {
    channel.onmessage = async ({ data }) => {
      const current = await load();
      if (!same(current, data.session)) {
        if (data.replaces && current?.refresh_jwt != data.replaces) return;
        if (data.session) await storage.set(key, JSON.stringify(data.session));
        else await storage.remove(key);
      }
      tell(data.event, data.session);
    };
  }

  // One refresh at a time, across tabs: Web Locks where there are, else a lock in the
  // storage (which is as good as the storage is shared and prompt: see the README).
  async function exclusively<T>(work: () => Promise<T>): Promise<T> {
    if (locks) return locks.request(key, work);
    const me = Math.random() + "";
    const lockKey = key + ".lock";
    for (;;) {
      const [owner, until] = ((await storage.get(lockKey)) || "").split(" ");
      if (!owner || +until < Date.now()) {
        await storage.set(lockKey, me + " " + (Date.now() + 10_000));
        // Should another take it at the same moment, the later write stands: both look again.
        await sleep(20);
        if ((await storage.get(lockKey))?.startsWith(me + " ")) break;
      }
      await sleep(20 + Math.random() * 40);
    }
    try {
      return await work();
    } finally {
      if ((await storage.get(lockKey))?.startsWith(me + " ")) await storage.remove(lockKey);
    }
  }

  // The lock a tab that rotated holds for a while, named after the retired token and
  // carrying its successor: the lock manager is the one place every tab sees at once,
  // so a tab whose storage or channel has not caught up yet learns the new pair there
  // instead of presenting the retired token (which REFRESH_ROTATION takes for theft).
  // Only the origin's own scripts can list the locks, as only they can read its storage.
  const handOverName = (retired: string) => key + " " + retired.slice(-24) + " ";
  function handOver(retired: string, next: TokenPair): Promise<unknown> {
    if (!locks) return Promise.resolve();
    return new Promise((held) =>
      locks.request(handOverName(retired) + JSON.stringify(next), { mode: "shared" }, () => {
        held(0);
        return sleep(15_000);
      }),
    );
  }
  async function handedOver(retired: string): Promise<TokenPair | null> {
    const prefix = handOverName(retired);
    const name = ((await locks?.query())?.held || []).map((lock) => lock.name || "").find((n) => n.startsWith(prefix));
    return name ? JSON.parse(name.slice(prefix.length)) : null;
  }

  // A new access token for `stale`, unless another call or tab got one already.
  function renew(stale: TokenPair | null): Promise<TokenPair> {
    return exclusively(async () => {
      const current = await load();
      // A new access token (and with rotation a new pair) came meanwhile, or a new sign-in.
      if (current && stale && !same(current, stale)) return current;
      // Rotated by a tab whose news has not reached this one: the last of the chain.
      let passed = stale && (await handedOver(stale.refresh_jwt));
      for (let later = passed; later; later = await handedOver(later.refresh_jwt)) passed = later;
      if (passed) {
        await storage.set(key, JSON.stringify(passed));
        return passed;
      }
      let data: Data<"/login/jwt/refresh">;
      try {
        data = await post(endpoint.refresh, { jwt: stale?.refresh_jwt });
      } catch (error) {
        // The session is over (ended, expired, replayed): signed out, unless a sign-in
        // or sign-out came meanwhile.
        if (isOver(error) && stale && same(await load(), stale)) await keep("signed_out", null);
        throw error;
      }
      const next = typeof data == "string" ? { jwt: data, refresh_jwt: stale!.refresh_jwt } : data;
      if (next.refresh_jwt != stale!.refresh_jwt) await handOver(stale!.refresh_jwt, next);
      // Kept unless a sign-in or sign-out came meanwhile (which stands); this call uses it.
      if (same(await load(), stale)) await keep("refreshed", next, stale!.refresh_jwt);
      return next;
    });
  }

  // The session, refreshed first when its access token is about to expire (within a
  // minute, or half its life for a short-lived one). Should that refresh fail but for
  // the session's end, a token not yet expired serves the call.
  async function fresh(): Promise<TokenPair | null> {
    const session = await load();
    if (!session) return null;
    const { exp, iat } = claims(session.jwt);
    const left = exp - (Date.now() / 1000 + skew);
    if (left >= Math.min(60, (exp - iat) / 2)) return session;
    try {
      return await renew(session);
    } catch (error) {
      if (left > 0 && !isOver(error)) return session;
      throw error;
    }
  }

  // A call with the access token; on a 9908 (an expired token, most often, where this
  // device's clock misled the check above) one refresh and one retry.
  async function signed<P extends Path>(path: P, body: object = {}): Promise<Data<P>> {
    const session = await fresh();
    try {
      return await post(path, { ...body, jwt: session?.jwt });
    } catch (error) {
      if (!isOver(error) || !session) throw error;
      return post(path, { ...body, jwt: (await renew(session)).jwt });
    }
  }

  async function signIn<P extends "/login/jwt/get" | "/login/jwt/sms">(path: P, body: Body<P>): Promise<Data<P>> {
    const data = await post(path, body);
    const { jwt, refresh_jwt } = data as TokenPair;
    await keep("signed_in", { jwt, refresh_jwt });
    return data;
  }

  return {
    /** Sends an SMS code: for `register` (the default), `login`, `reset`, `delete`, or
     * `change_phone` (to the new number, for the signed-in user). Resolves to `{}` (the
     * API's `[]`), or to `{code}` from a development worker (EXPOSE_SMS_CODE). */
    async sendCode(body: Own<"/login/send/sms">): Promise<{ code?: string }> {
      const data = await (body.purpose == "change_phone" ? signed(endpoint.sendCode, body) : post(endpoint.sendCode, body));
      return Array.isArray(data) ? {} : data;
    },
    register: (body: Body<"/login/register">) => post(endpoint.register, body),
    /** Signs in with account and password, and keeps the session. */
    logIn: (body: Body<"/login/jwt/get">) => signIn(endpoint.logIn, body),
    /** Signs in with an SMS code (purpose `login`), and keeps the session. */
    logInWithCode: (body: Body<"/login/jwt/sms">) => signIn(endpoint.logInWithCode, body),
    /** A new access token now (the client also does this by itself when it is due). */
    async refresh(): Promise<TokenPair> {
      return renew(await load());
    },
    /** Ends this session (no argument), every other (`{scope: "others"}`), every one
     * (`{scope: "all"}`), or one by its `sid`. */
    async deactivate(body: Own<"/login/jwt/deactivate"> = {}) {
      const own = claims((await load())?.jwt || "").sid;
      const data = await signed(endpoint.deactivate, body);
      if (body.scope == "all" || (body.scope != "others" && (!body.sid || body.sid == own))) {
        await keep("signed_out", null);
      }
      return data;
    },
    /** Signs out: forgets the session, then ends it at the worker with its refresh token
     * (no refresh needed first). Never fails: offline, the session is forgotten all the
     * same, and ends when its refresh token expires. */
    async signOut(): Promise<void> {
      const session = await load();
      if (!session) return;
      await keep("signed_out", null);
      await post(endpoint.deactivate, { jwt: session.refresh_jwt }).catch(() => {});
    },
    status: () => signed(endpoint.status),
    listSessions: () => signed(endpoint.listSessions),
    resetPassword: (body: Body<"/login/password/reset">) => post(endpoint.resetPassword, body),
    /** Changes the password: every other session ends, and this one goes on with the
     * pair it answers with. */
    async changePassword(body: Own<"/login/password/change">) {
      const data = await signed(endpoint.changePassword, body);
      await keep("signed_in", data);
      return data;
    },
    changePhone: (body: Own<"/login/phone/change">) => signed(endpoint.changePhone, body),
    /** Asks for the account's deletion, with the password or a code sent for `delete`:
     * every session ends, this one too. */
    async deleteAccount(body: Own<"/login/account/delete">) {
      const data = await signed(endpoint.deleteAccount, body);
      await keep("signed_out", null);
      return data;
    },
    /** The session as kept, or null; its access token may be stale (see accessToken). */
    session: load,
    /** An access token good for a while yet (refreshed if due), for the app's own
     * backend; null when signed out. */
    async accessToken(): Promise<string | null> {
      return (await fresh())?.jwt ?? null;
    },
    /** Called on every sign-in, refresh and sign-out, this tab's or another's. Returns
     * the function that stops it. */
    onSessionChange(listener: (event: SessionEvent, session: TokenPair | null) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Stops listening to other tabs and drops the listeners (a client made anew, a test's end). */
    close(): void {
      channel?.close();
      listeners.clear();
    },
  };
}

export type LoginClient = ReturnType<typeof createLoginClient>;
